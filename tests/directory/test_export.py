"""Exports: JSONL round-trips through the import, CSV for spreadsheets, HSDS 3.1 that validates."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, update

from core.cli import cli
from directory.export import CSV_COLUMNS, export_directory
from directory.importing import import_directory
from directory.models import Organization
from directory.places import gazetteer
from tests.directory.samples import (
    DEMO,
    NIGHT_EMAIL,
    STREET,
    hsds_validator,
    jsonl,
    line,
    own_session,
    schema_errors,
    visibility_sample,
)


@pytest.fixture
def session(settings):
    """A session outside the app (see ``own_session``)."""
    yield from own_session(settings)


def export(session, export_format: str, scope: str) -> str:
    return "".join(export_directory(session, export_format, scope))


def unpublish(session, ref: str) -> None:
    session.execute(update(Organization).where(Organization.ref == ref).values(is_published=False))


@pytest.fixture
def directory(session):
    """The visibility sample, with ``t-unpublished`` unpublished."""
    import_directory(session, visibility_sample())
    unpublish(session, "t-unpublished")
    session.commit()
    return session


@pytest.fixture
def demo_directory(directory):
    """The demo directory next to the visibility sample."""
    import_directory(directory, DEMO.read_bytes())
    directory.commit()
    return directory


def test_jsonl_export_round_trips_through_import_into_an_empty_directory(demo_directory):
    first = export(demo_directory, "jsonl", "secretariat")
    demo_directory.execute(delete(Organization))
    demo_directory.commit()

    report = import_directory(demo_directory, first.encode())
    demo_directory.commit()
    second = export(demo_directory, "jsonl", "secretariat")

    assert len(report.created) == 39 + 3
    assert second == first
    assert import_directory(demo_directory, second.encode()).unchanged == report.created


def test_every_hsds_exported_record_validates_against_hsds_3_1(demo_directory):
    for scope in ("public", "network", "secretariat"):
        records = json.loads(export(demo_directory, "hsds", scope))
        assert len(records) == {"public": 38 + 1, "network": 39 + 2, "secretariat": 39 + 3}[scope]
        for record in records:
            assert schema_errors(hsds_validator("organization"), record) == [], record["name"]
            for service in record["services"]:
                assert schema_errors(hsds_validator("service"), service) == [], service["name"]


SAMPLE_NAMES = {
    "t-public": "Public shelter",
    "t-network": "Network-only team",
    "t-secret": "Secretariat-only safe house",
    "t-unpublished": "Withdrawn entry",
}
# scope → (organisations shown, confidential street shown, secretariat-only contact shown)
SCOPE_SEES = {
    "public": ({"t-public"}, False, False),
    "network": ({"t-public", "t-network"}, False, False),
    "secretariat": ({"t-public", "t-network", "t-secret"}, True, True),
}


@pytest.mark.parametrize("export_format", ["jsonl", "csv", "hsds"])
def test_every_export_holds_only_what_its_scope_may_see(directory, export_format):
    for scope, (shown, street_shown, night_line_shown) in SCOPE_SEES.items():
        text = export(directory, export_format, scope)
        names_in_text = {ref for ref, name in SAMPLE_NAMES.items() if name in text}

        assert names_in_text == shown, scope
        assert (STREET in text) is street_shown, scope
        assert (NIGHT_EMAIL in text) is night_line_shown, scope


def test_csv_export_has_one_row_per_organisation_with_lists_joined(directory):
    text = export(directory, "csv", "network")
    rows = {row["ref"]: row for row in csv.DictReader(io.StringIO(text))}

    assert tuple(next(iter(rows.values()))) == CSV_COLUMNS
    assert set(rows) == {"t-public", "t-network"}
    public = rows["t-public"]
    assert public["languages"] == "nl;en"
    assert public["service_types"] == "shelter;psychosocial"
    assert public["phone"] == "+3290000000"
    assert public["is_24_7"] == "true"
    assert public["address_street"] == ""
    assert public["contact_points"] == (
        "Intake | intake@shelter.example.org |  | nl | public; "
        "Case worker | cases@shelter.example.org |  | en | network"
    )


def test_csv_quotes_separators_and_defuses_formulas(session):
    record = line(name='=HYPERLINK("http://evil")', alternate_name='Quote "this", and; that')
    import_directory(session, jsonl(record))
    session.commit()

    rows = list(csv.DictReader(io.StringIO(export(session, "csv", "public"))))

    assert rows[0]["name"] == '\'=HYPERLINK("http://evil")'
    assert rows[0]["alternate_name"] == 'Quote "this", and; that'
    assert rows[0]["emergency_phone"] == "+3290000099"


def test_hsds_export_nests_services_with_taxonomy_terms_and_languages(directory):
    records = {r["name"]: r for r in json.loads(export(directory, "hsds", "public"))}
    shelter = records["Public shelter"]

    assert [s["name"] for s in shelter["services"]] == ["shelter", "psychosocial support"]
    assert shelter["services"][0]["attributes"][0]["taxonomy_term"]["code"] == "shelter"
    assert [lang["code"] for lang in shelter["services"][0]["languages"]] == ["nl", "en"]
    assert shelter["services"][0]["schedules"][0]["byday"] == "MO,TU,WE,TH,FR,SA,SU"
    # Its street address is secretariat-only: the public export places it at Gent's centre.
    gent = gazetteer().find("Gent")
    location = shelter["locations"][0]
    assert (location["latitude"], location["longitude"]) == (gent.lat, gent.lon) != (51.05, 3.72)
    assert shelter["locations"][0]["addresses"] == []
    assert [c["title"] for c in shelter["contacts"]] == ["Intake"]
    assert {p.get("description") for p in shelter["phones"]} == {None, "24/7 emergency line"}


def test_cli_export_defaults_to_public_for_hsds_and_warns_for_secretariat_scope(
    settings, directory
):
    env = {
        "LIAISON_DATABASE_URL": settings.database_url,
        "LIAISON_DATA_DIR": str(settings.data_dir),
    }
    runner = CliRunner()

    hsds = runner.invoke(cli, ["directory", "export", "--format", "hsds"], env=env)
    backup = runner.invoke(cli, ["directory", "export", "--format", "jsonl"], env=env)

    assert hsds.exit_code == 0
    assert backup.exit_code == 0
    assert "Network-only team" not in hsds.stdout
    assert [r["name"] for r in json.loads(hsds.stdout)] == ["Public shelter"]
    assert "t-secret" in {json.loads(row)["ref"] for row in backup.stdout.splitlines()}
    assert "secretariat scope includes confidential" in backup.stderr
