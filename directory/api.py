"""The directory's JSON API under ``/api/v1``: organisations and the taxonomy.

Anonymous callers see public entries; signed-in callers what their role may see. Bad parameters
answer 400 with a message; an organisation that does not exist or may not be seen answers 404.
"""

from __future__ import annotations

import math
import re
from typing import Any

from flask import Blueprint, Flask, abort, g, jsonify, request, url_for
from flask.typing import ResponseReturnValue

from core.api_schema import describe
from core.web import db_session, settings
from directory.api_docs import LANGUAGES, MAX_PER_PAGE, ORGANIZATION, ORGANIZATIONS, TAXONOMY
from directory.importing.record import contact_phone, contact_role, main_address, main_location
from directory.models import Organization
from directory.places import Gazetteer
from directory.points import PublicPoint, places_for, point_for
from directory.queries import count_matching_organizations, get_organization, list_organizations
from directory.taxonomy import load_taxonomy
from directory.visibility import Viewer, can_see, can_see_child, viewer_for

blueprint = Blueprint("api_directory", __name__, url_prefix="/api/v1")
_COUNTRY = re.compile(r"[A-Za-z]{2}")
_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")


def current_places() -> Gazetteer:
    """The bundled place data, for the town centre standing in for a confidential point."""
    return places_for(settings().data_dir)


def current_viewer() -> Viewer:
    """The caller as a viewer (anonymous when not signed in)."""
    return viewer_for(g.get("user"))


def language_param() -> str:
    """``?lang=`` (nl, fr, de, en; default en)."""
    lang = request.args.get("lang", "en")
    if lang not in LANGUAGES:
        abort(400, description=f"lang must be one of {', '.join(LANGUAGES)}")
    return lang


def int_param(name: str, default: int, maximum: int | None = None) -> int:
    """A positive whole-number query parameter, or 400."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not _WHOLE_NUMBER.fullmatch(raw) or int(raw) < 1:
        abort(400, description=f"{name} must be a whole number of at least 1")
    value = int(raw)
    if maximum is not None and value > maximum:
        abort(400, description=f"{name} must be at most {maximum}")
    return value


def paging_params(default_per_page: int = 20) -> tuple[int, int]:
    """``page`` and ``per_page`` from the query string."""
    return int_param("page", 1), int_param("per_page", default_per_page, MAX_PER_PAGE)


def _labelled(vocabulary: str, codes: list[str], lang: str) -> list[dict[str, str]]:
    taxonomy = load_taxonomy()
    return [{"code": code, "label": taxonomy.label(vocabulary, code, lang)} for code in codes]


def organisation_summary(organization: Organization, lang: str) -> dict[str, Any]:
    """The fields of an organisation shown in lists."""
    return {
        "id": organization.id,
        "ref": organization.ref,
        "name": organization.name,
        "country": organization.country,
        "region": organization.region,
        "city": organization.city,
        "org_type": _labelled("org_type", [organization.org_type], lang)[0],
        "visibility": organization.visibility,
        "url": url_for("api_directory.organisation", key=organization.id),
    }


def organisation_detail(
    viewer: Viewer, organization: Organization, lang: str, places: Gazetteer | None = None
) -> dict[str, Any]:
    """Everything about an organisation the viewer may see (its point from ``point_for``)."""
    places = places if places is not None else current_places()

    def visible(visibility: str) -> bool:
        return can_see_child(viewer, organization, visibility)

    location = main_location(organization)
    address = main_address(organization)
    address_shown = (
        address is not None
        and location is not None
        and visible(location.visibility)
        and can_see(viewer, address.visibility)
    )
    return {
        **organisation_summary(organization, lang),
        "alternate_name": organization.alternate_name,
        "description": dict(organization.description or {}),
        "languages": _labelled("language", organization.language_codes, lang),
        "exploitation_forms": _labelled(
            "exploitation_form", organization.codes("exploitation_form"), lang
        ),
        "target_groups": _labelled("target_group", organization.codes("target_group"), lang),
        "services": [
            {
                "id": service.id,
                "service_type": service.service_type,
                "name": (service.name_i18n or {}).get(lang) or service.name,
                "status": service.status,
            }
            for service in organization.services
            if visible(service.visibility)
        ],
        "is_24_7": organization.is_24_7,
        "accepts_cross_border_referrals": organization.accepts_cross_border_referrals,
        "website": organization.website,
        "email": organization.email,
        "phones": [
            {"number": phone.number, "is_emergency": phone.is_emergency}
            for phone in organization.phones
            if phone.contact_id is None and visible(phone.visibility)
        ],
        "location": _point(point_for(viewer, organization, places, location)),
        "address": (
            {
                "street": address.address_1,
                "postal_code": address.postal_code,
                "city": address.city,
                "country": address.country,
                "visibility": address.visibility,
            }
            if address is not None and address_shown
            else None
        ),
        "contact_points": [
            _contact_point(viewer, contact)
            for contact in sorted(organization.contacts, key=lambda c: c.position)
            if visible(contact.visibility)
        ],
        "verification_status": organization.verification_status,
        "last_verified_at": (
            organization.last_verified_at.isoformat() if organization.last_verified_at else None
        ),
        "next_review_on": (
            organization.next_review_on.isoformat() if organization.next_review_on else None
        ),
        "updated_at": organization.updated_at.isoformat(),
    }


def _point(point: PublicPoint | None) -> dict[str, Any] | None:
    """A point as the API shows it; ``precision`` says whether it is the town's centre."""
    if point is None:
        return None
    return {"lat": point.lat, "lon": point.lon, "precision": point.precision}


def _contact_point(viewer: Viewer, contact: Any) -> dict[str, Any]:
    phone = contact_phone(contact)
    return {
        "id": contact.id,
        "name": contact.name,
        "role": contact_role(contact),
        "email": contact.email,
        "phone": phone.number if phone and can_see(viewer, phone.visibility) else None,
        "languages": list(contact.languages or []),
        "visibility": contact.visibility,
    }


@blueprint.get("/organizations")
def organisations() -> ResponseReturnValue:
    """Organisations the caller may see, filtered by country and type, a page at a time."""
    country = request.args.get("country") or None
    if country is not None:
        if not _COUNTRY.fullmatch(country):
            abort(400, description="country must be a two-letter ISO 3166-1 code such as BE")
        country = country.upper()
    org_type = request.args.get("org_type") or None
    if org_type is not None and load_taxonomy().get("org_type", org_type) is None:
        abort(400, description=f"unknown org_type {org_type!r}; see /api/v1/taxonomy")
    lang = language_param()
    page, per_page = paging_params()
    session = db_session()
    viewer = current_viewer()
    total = count_matching_organizations(session, viewer, country=country, org_type=org_type)
    rows = list_organizations(
        session,
        viewer,
        country=country,
        org_type=org_type,
        limit=per_page,
        offset=(page - 1) * per_page,
    )
    return jsonify(
        {
            "organizations": [organisation_summary(row, lang) for row in rows],
            "page": page,
            "per_page": per_page,
            "total": total,
            "pages": math.ceil(total / per_page),
        }
    )


@blueprint.get("/organizations/<key>")
def organisation(key: str) -> ResponseReturnValue:
    """One organisation by id or ref."""
    lang = language_param()
    viewer = current_viewer()
    found = get_organization(db_session(), viewer, key)
    if found is None:
        abort(404, description="no organisation with this id or ref")
    return jsonify(organisation_detail(viewer, found, lang))


@blueprint.get("/taxonomy")
def taxonomy() -> ResponseReturnValue:
    """Every vocabulary of the taxonomy with its labels in ``?lang=``."""
    lang = language_param()
    data = load_taxonomy()
    return jsonify(
        {
            "version": data.version,
            "lang": lang,
            "vocabularies": {
                name: [
                    {"code": term.code, "label": term.label(lang), "synonyms": list(term.synonyms)}
                    for term in data.vocabulary(name)
                ]
                for name in data.terms
            },
        }
    )


def register_api(app: Flask) -> None:
    """Mount the JSON API and describe it in the OpenAPI document."""
    app.register_blueprint(blueprint)


for _view, _operation in (
    (organisations, ORGANIZATIONS),
    (organisation, ORGANIZATION),
    (taxonomy, TAXONOMY),
):
    describe(_view, _operation)
