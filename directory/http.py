"""Directory blueprints: member and secretariat screens, the JSON API and the HSDS API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from flask import Blueprint, Flask, abort, g, render_template, request

from core.i18n import current_locale, format_date, format_datetime, gettext
from core.web import db_session
from directory import queries
from directory.forms import (
    AUDIT_ACTIONS,
    AUDIT_ENTITIES,
    VERIFICATION_LABELS,
    VISIBILITY_LABELS,
)
from directory.pages import organisation_page
from directory.roles import role_label
from directory.taxonomy import load_taxonomy
from directory.visibility import viewer_for

BRUSSELS = ZoneInfo("Europe/Brussels")
NETWORK_COUNTRIES = ("BE", "NL", "LU")

directory = Blueprint("directory", __name__)


def brussels_date(value: date | datetime | None) -> str:
    """A date (or the reader's date of a UTC time) written in the reader's language."""
    return format_date(value)


def brussels_time(value: datetime | None) -> str:
    """A UTC time shown in the reader's time zone (Brussels by default) and language."""
    return format_datetime(value)


def readable_phone(number: str) -> str:
    """An E.164 number grouped for reading (+32 2 000 00 01)."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL))


def _viewer() -> Any:
    return viewer_for(g.get("user"))


def _label(vocabulary: str, code: str) -> str:
    return load_taxonomy().label(vocabulary, code, current_locale())


@directory.get("/")
def home() -> str:
    """What Liaison is, a search box and the directory by country."""
    by_country = queries.count_organizations_by(db_session(), _viewer(), "country")
    return render_template(
        "directory/home.html",
        countries=_country_rows(by_country),
        total=sum(by_country.values()),
    )


def _country_rows(counts: dict[str, int]) -> list[tuple[str, str, int]]:
    codes = [c for c in NETWORK_COUNTRIES if c in counts] + sorted(
        c for c in counts if c not in NETWORK_COUNTRIES
    )
    return [(code, _label("country", code), counts[code]) for code in codes]


@directory.get("/organisations")
def browse() -> str:
    """Organisations by country and type, with counts."""
    session, viewer = db_session(), _viewer()
    country = request.args.get("country", "").upper()[:2] or None
    org_type = request.args.get("type", "")[:60] or None
    if org_type and load_taxonomy().get("org_type", org_type) is None:
        org_type = None
    by_country = queries.count_organizations_by(session, viewer, "country")
    by_type = queries.count_organizations_by(session, viewer, "org_type", country=country)
    organisations = queries.list_organizations(session, viewer, country=country, org_type=org_type)
    locale = current_locale()
    return render_template(
        "directory/browse.html",
        countries=_country_rows(by_country),
        types=sorted(
            ((code, _label("org_type", code), n) for code, n in by_type.items()),
            key=lambda row: row[1].lower(),
        ),
        country=country,
        org_type=org_type,
        country_label=_label("country", country) if country else None,
        type_label=_label("org_type", org_type) if org_type else None,
        organisations=[organisation_page(o, viewer, locale) for o in organisations],
        total=sum(by_country.values()),
    )


def _page(key: str) -> Any:
    viewer = _viewer()
    organization = None if len(key) > 100 else queries.get_organization(db_session(), viewer, key)
    if organization is None:
        abort(404)  # also when it exists but is not visible: never reveal that it exists
    return organisation_page(organization, viewer, current_locale()), viewer


@directory.get("/organisations/<key>")
def organisation(key: str) -> str:
    """One organisation in the reader's language."""
    page, viewer = _page(key)
    return render_template("directory/organisation.html", org=page, viewer=viewer)


@directory.get("/organisations/<key>/print")
def organisation_print(key: str) -> str:
    """One organisation on a page made for printing."""
    page, viewer = _page(key)
    return render_template("directory/print.html", org=page, viewer=viewer)


def visibility_choices(address: bool = False) -> list[tuple[str, str]]:
    """The visibility options of a form, labelled in the reader's language."""
    codes = ("public", "network", "secretariat", "not_stored")[: 4 if address else 3]
    return [(code, gettext(VISIBILITY_LABELS[code])) for code in codes]


def init_directory(app: Flask) -> None:
    """Register the directory's blueprints."""
    from directory.secretariat import secretariat

    app.add_template_filter(brussels_date, "brussels_date")
    app.add_template_filter(brussels_time, "brussels_time")
    app.add_template_filter(readable_phone, "phone")
    app.jinja_env.globals.update(
        VISIBILITY_LABELS=VISIBILITY_LABELS,
        VERIFICATION_LABELS=VERIFICATION_LABELS,
        AUDIT_ACTIONS=AUDIT_ACTIONS,
        AUDIT_ENTITIES=AUDIT_ENTITIES,
        taxonomy_label=_label,
        contact_role_label=lambda title: role_label(title, current_locale()),
        visibility_choices=visibility_choices,
    )
    app.register_blueprint(directory)
    app.register_blueprint(secretariat)
    from directory.api import register_api
    from directory.hsds_api import register_hsds

    register_api(app)
    register_hsds(app)
