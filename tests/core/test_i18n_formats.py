"""Locale formatting (dates, times, numbers, sizes), plural catalogues and translated roles."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from babel.messages.pofile import read_po

from core.i18n import (
    TRANSLATIONS_DIR,
    format_date,
    format_datetime,
    format_number,
    format_size,
    format_time,
    mail_locale,
)
from directory.models import Contact, Organization

MOMENT = datetime(2026, 12, 5, 6, 10, tzinfo=UTC)  # 07:10 in Brussels


@pytest.mark.parametrize(
    ("locale", "day", "moment", "number", "size"),
    [
        ("nl", "5 december 2026", "5 dec 2026, 07:10", "1.234,5", "4,8 MB"),
        ("fr", "5 décembre 2026", "5 déc. 2026, 07:10", "1\u202f234,5", "4,8\u202fMo"),
        ("de", "5. Dezember 2026", "05.12.2026, 07:10", "1.234,5", "4,8 MB"),  # codespell:ignore
        ("en", "5 December 2026", "5 Dec 2026, 07:10", "1,234.5", "4.8 MB"),
    ],
)
def test_dates_times_numbers_and_sizes_follow_the_language(locale, day, moment, number, size):
    assert format_date(date(2026, 12, 5), locale) == day
    assert format_date(MOMENT, locale, "Europe/Brussels") == day
    assert format_datetime(MOMENT, locale, "Europe/Brussels") == moment
    assert format_time(MOMENT, locale, "Europe/Brussels") == "07:10"  # never 7:10 AM
    assert format_number(1234.5, locale) == number
    assert format_size(5_000_000, locale) == size


def test_times_are_in_the_readers_time_zone_and_midnight_utc_can_be_the_next_day():
    late = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    assert format_date(late, "en", "Europe/Brussels") == "2 March 2026"
    assert format_date(late, "en", "UTC") == "1 March 2026"
    assert format_datetime(late, "nl", "America/New_York") == "1 mrt 2026, 18:30"


def test_small_sizes_stay_in_bytes():
    assert format_size(0, "en") == "0 byte"
    assert format_size(1023, "de") == "1.023 Byte"
    assert format_size(1536, "nl") == "1,5 kB"


def test_an_e_mails_language_is_the_persons_then_the_organisations_then_the_default():
    assert mail_locale("de", ["fr"], "en") == "de"
    assert mail_locale(None, ["es", "fr", "nl"], "en") == "fr"  # first one we write in
    assert mail_locale("", ["es"], "nl") == "nl"


@pytest.mark.parametrize("locale", ["nl", "fr", "de"])
def test_every_plural_entry_is_translated_with_the_same_placeholders(locale):
    seen = 0
    for path in sorted((TRANSLATIONS_DIR / locale).glob("*.po")):
        with path.open("rb") as handle:
            catalogue = read_po(handle, locale=locale)
        assert catalogue.num_plurals == 2, path  # the Plural-Forms header is read
        for message in catalogue:
            if not isinstance(message.id, tuple | list):
                continue
            seen += 1
            assert all(message.string), (path, message.id)
            wanted = sorted(re.findall(r"%\(\w+\)s", message.id[1]))
            for form in message.string:
                assert sorted(re.findall(r"%\(\w+\)s", form)) == wanted, (path, form)
    assert seen >= 9


@pytest.fixture
def intake(db_session):
    organization = Organization(
        ref="be-rolecheck",
        name="Rolecheck",
        country="BE",
        org_type="ngo_other",
        visibility="public",
        is_published=True,
        description={"en": "Rolecheck"},
        name_i18n={},
        last_verified_at=datetime(2026, 3, 1, 23, 30, tzinfo=UTC),
        verification_status="verified",
    )
    organization.contacts = [
        Contact(
            title={"en": "Intake / contact point"}, email="in@example.org", visibility="public"
        ),
        Contact(title={"en": "Head of the night team"}, email="n@example.org", visibility="public"),
    ]
    db_session.add(organization)
    db_session.commit()
    return organization


@pytest.mark.parametrize(
    ("locale", "role", "verified"),
    [
        ("nl", "Intake / contactpunt", "2 maart 2026"),
        ("fr", "Accueil / point de contact", "2 mars 2026"),
        ("de", "Erstaufnahme / Kontaktstelle", "2. März 2026"),
        ("en", "Intake / contact point", "2 March 2026"),
    ],
)
def test_known_roles_and_dates_are_shown_in_the_readers_language(
    client, intake, locale, role, verified
):
    html = client.get("/organisations/be-rolecheck", headers={"Accept-Language": locale}).get_data(
        as_text=True
    )
    assert role in html
    assert verified in html
    assert "Head of the night team" in html  # a free-text role is shown as stored
    if locale != "en":
        assert "Intake / contact point" not in html


def test_stored_roles_and_the_export_keep_the_stored_text(intake):
    from directory.importing.record import contact_role

    assert contact_role(intake.contacts[0]) == "Intake / contact point"


@pytest.mark.parametrize(
    ("locale", "one", "fifteen"),
    [
        ("nl", "over 1 minuut opnieuw", "over 15 minuten opnieuw"),
        ("fr", "dans 1 minute.", "dans 15 minutes."),
        ("de", "in 1 Minute erneut", "in 15 Minuten erneut"),
        ("en", "in 1 minute.", "in 15 minutes."),
    ],
)
def test_the_lockout_message_counts_minutes_by_the_languages_rule(app, locale, one, fifteen):
    from accounts.errors import TooManyAttempts
    from accounts.http_common import translated

    with app.test_request_context("/login", headers={"Accept-Language": locale}):
        assert one in translated(TooManyAttempts(count=1))
        assert fifteen in translated(TooManyAttempts(count=15))
    assert TooManyAttempts(count=1).english().endswith("in 1 minute.")
