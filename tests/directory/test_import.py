"""Importing organisations from JSON Lines: the demo directory, idempotence and the mapping."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from core.audit import REDACTED, AuditEntry
from core.outbox import SearchOutbox
from directory.importing import import_directory
from directory.importing.apply import review_interval_days
from directory.importing.parse import ORGANISATION_FIELDS
from directory.importing.record import organisation_record
from directory.models import Organization
from tests.directory.samples import (
    DEMO,
    NIGHT_EMAIL,
    STREET,
    counts,
    jsonl,
    line,
    own_session,
)


@pytest.fixture
def session(settings):
    """A session outside the app (see ``own_session``)."""
    yield from own_session(settings)


TODAY = date(2026, 11, 28)


def organisation(session, ref: str) -> Organization:
    return session.scalars(select(Organization).where(Organization.ref == ref)).one()


def test_demo_directory_imports_every_organisation(session):
    report = import_directory(session, DEMO.read_bytes(), today=TODAY)
    queued = counts(session)["outbox"]  # the search indexer drains it after the commit
    session.commit()

    assert len(report.created) == 39
    assert report.updated == report.unchanged == report.ignored_fields == []
    assert counts(session)["organizations"] == 39
    assert queued == 39
    payoke = organisation(session, "be-payoke")
    assert [s.service_type for s in payoke.services][:2] == ["shelter", "reflection_period"]
    assert payoke.services[0].name_i18n["fr"] == "hébergement"
    assert payoke.language_codes == ["nl", "en"]
    assert payoke.codes("target_group") == ["adult_women", "adult_men", "minors"]
    assert [p.number for p in payoke.phones] == ["+3220000001"]
    assert payoke.contacts[0].title == {"en": "Intake / contact point"}
    assert payoke.contacts[0].visibility == "public"
    address = payoke.locations[0].addresses[0]
    assert (address.city, address.visibility, address.address_1) == (
        "Antwerpen",
        "secretariat",
        None,
    )
    assert payoke.next_review_on == TODAY + timedelta(days=180)
    police = organisation(session, "be-fedpol-thb")
    assert police.next_review_on == TODAY + timedelta(days=365)
    esperanto = organisation(session, "be-esperanto")
    assert esperanto.visibility == "network"


def test_importing_the_same_file_twice_changes_nothing(session):
    import_directory(session, DEMO.read_bytes(), today=TODAY)
    session.commit()
    before = counts(session)
    stamps = dict(session.execute(select(Organization.ref, Organization.updated_at)).all())

    report = import_directory(session, DEMO.read_bytes(), today=TODAY + timedelta(days=3))
    written = counts(session)
    session.commit()

    assert len(report.unchanged) == 39
    assert report.created == report.updated == []
    assert written == before
    session.expire_all()
    after = dict(session.execute(select(Organization.ref, Organization.updated_at)).all())
    assert after == stamps


def test_reimport_with_changes_updates_in_place_and_keeps_ids(session):
    import_directory(session, jsonl(line()), today=TODAY)
    session.commit()
    sample = organisation(session, "t-sample")
    ids = (sample.id, {s.service_type: s.id for s in sample.services}, sample.contacts[0].id)
    stamp = sample.updated_at
    before = counts(session)
    earlier_entries = set(session.scalars(select(AuditEntry.id)))

    changed = line(
        phone="+32 9 111 11 11",
        service_types=["psychosocial", "legal_assistance"],
        contact_points=line()["contact_points"][:1],
    )
    report = import_directory(session, jsonl(changed), today=TODAY)
    written = counts(session)
    session.commit()
    session.expire_all()

    assert report.updated == ["t-sample"]
    sample = organisation(session, "t-sample")
    assert sample.id == ids[0]
    assert {s.service_type: s.id for s in sample.services} == {
        "psychosocial": ids[1]["psychosocial"],
        "legal_assistance": sample.services[1].id,
    }
    assert [c.id for c in sample.contacts] == [ids[2]]
    assert [p.number for p in sample.phones if p.contact_id is None and not p.is_emergency] == [
        "+3291111111"
    ]
    assert NIGHT_EMAIL not in {c.email for c in sample.contacts}
    assert sample.updated_at > stamp
    assert written["outbox"] == before["outbox"] + 1
    new_entries = [e for e in session.scalars(select(AuditEntry)) if e.id not in earlier_entries]
    assert {e.field for e in new_entries} == {
        "phone",
        "service_types",
        "contact_points[1]",
        "contact_points[2]",
    }


def test_audit_of_an_import_redacts_streets_and_secretariat_contact_points(session):
    import_directory(session, jsonl(line()), today=TODAY)
    session.commit()

    entries = {e.field: e for e in session.scalars(select(AuditEntry))}
    assert all(e.actor_id is None and e.action == "import" for e in entries.values())
    assert entries["address"].new_value == REDACTED
    assert entries["contact_points[1]"].new_value == REDACTED
    assert "Intake" in entries["contact_points[0]"].new_value
    assert entries["name"].new_value == "Sample shelter"
    every_value = " ".join(e.new_value or "" for e in entries.values())
    assert STREET not in every_value
    assert NIGHT_EMAIL not in every_value


def test_not_stored_address_keeps_the_town_but_never_the_street(session):
    record = line(
        address={
            "street": STREET,
            "postal_code": "9000",
            "city": "Gent",
            "visibility": "not_stored",
        }
    )
    import_directory(session, jsonl(record), today=TODAY)
    session.commit()

    address = organisation(session, "t-sample").locations[0].addresses[0]
    assert (address.address_1, address.city, address.visibility) == (None, "Gent", "not_stored")
    stored = " ".join(e.new_value or "" for e in session.scalars(select(AuditEntry)))
    assert STREET not in stored


def test_defaults_fill_visibility_and_empty_lists(session):
    minimal = {
        "ref": "t-min",
        "name": "Minimal",
        "description": {"fr": "Minimale."},
        "country": "LU",
        "org_type": "ngo_other",
    }
    import_directory(session, jsonl(minimal), today=TODAY)
    session.commit()

    record = organisation_record(organisation(session, "t-min"))
    assert record["visibility"] == "network"
    assert record["languages"] == record["contact_points"] == []
    assert record["address"] is record["lat"] is None
    assert tuple(record) == ORGANISATION_FIELDS


def test_unknown_fields_are_ignored_and_listed_once(session):
    first = line(ref="t-a", notes="x", source={"a": 1})
    second = line(ref="t-b", notes="y", address={**line()["address"], "floor": 2})
    report = import_directory(session, jsonl(first, second), today=TODAY)

    assert report.ignored_fields == ["address.floor", "notes", "source"]
    assert len(report.created) == 2


def test_visibility_change_moves_children_that_followed_the_organisation(session):
    import_directory(session, jsonl(line(visibility="secretariat")), today=TODAY)
    session.commit()
    import_directory(session, jsonl(line(visibility="public")), today=TODAY)
    session.commit()

    sample = organisation(session, "t-sample")
    assert {s.visibility for s in sample.services} == {"public"}
    assert {p.visibility for p in sample.phones if p.contact_id is None} == {"public"}
    assert [c.visibility for c in sample.contacts] == ["public", "secretariat", "network"]


@pytest.mark.parametrize(
    ("org_type", "service_types", "days"),
    [
        ("specialised_victim_centre", [], 180),
        ("protected_reception", ["psychosocial"], 180),
        ("ngo_child_protection", ["helpline"], 180),
        ("police", ["investigation"], 365),
        ("prosecution_service", [], 365),
        ("ngo_other", ["advice"], 365),
    ],
)
def test_review_interval_is_shorter_for_shelters_and_helplines(org_type, service_types, days):
    assert review_interval_days(org_type, service_types) == days


def test_outbox_gets_one_entry_per_created_organisation(session):
    import_directory(session, jsonl(line(ref="t-a"), line(ref="t-b")), today=TODAY)

    queued = list(session.scalars(select(SearchOutbox.organization_id)))
    assert sorted(queued) == sorted(session.scalars(select(Organization.id)))
