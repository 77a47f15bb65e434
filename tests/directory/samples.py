"""Sample import lines and helpers shared by the directory's format and API tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit import AuditEntry
from core.db import Database
from core.outbox import SearchOutbox
from directory.models import Organization

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "directory" / "data" / "demo-directory.jsonl"
HSDS = ROOT.parent / "shared" / "hsds-3.1"
STREET = "Verborgenstraat 17"
NIGHT_EMAIL = "night-line@shelter.example.org"


def own_session(settings) -> Iterator[Session]:
    """For a ``session`` fixture: a session of its own on the test database, like the CLI's.

    The app's sessions wake the search indexer thread after a commit that queued outbox rows;
    these tests are about what the import writes (outbox rows included), so they commit here.
    """
    database = Database(settings.database_url)
    with database.session() as own:
        yield own
    database.dispose()


def line(**overrides: Any) -> dict[str, Any]:
    """A valid organisation line; keyword arguments replace (or, with None, blank) fields."""
    record: dict[str, Any] = {
        "ref": "t-sample",
        "name": "Sample shelter",
        "description": {"en": "A shelter.", "nl": "Een opvang."},
        "country": "BE",
        "region": "BE-VLG",
        "city": "Gent",
        "lat": 51.05,
        "lon": 3.72,
        "org_type": "specialised_victim_centre",
        "languages": ["nl", "en"],
        "exploitation_forms": ["sexual"],
        "target_groups": ["adult_women"],
        "service_types": ["shelter", "psychosocial"],
        "is_24_7": True,
        "accepts_cross_border_referrals": True,
        "visibility": "public",
        "address": {
            "street": STREET,
            "postal_code": "9000",
            "city": "Gent",
            "visibility": "secretariat",
        },
        "website": "https://shelter.example.org",
        "email": "intake@shelter.example.org",
        "phone": "+32 9 000 00 00",
        "emergency_phone": "+32 9 000 00 99",
        "contact_points": [
            {
                "role": "Intake",
                "email": "intake@shelter.example.org",
                "phone": None,
                "languages": ["nl"],
                "visibility": "public",
            },
            {
                "role": "Night line",
                "email": NIGHT_EMAIL,
                "phone": "+32 9 000 00 98",
                "languages": ["nl", "en"],
                "visibility": "secretariat",
            },
            {
                "role": "Case worker",
                "email": "cases@shelter.example.org",
                "phone": None,
                "languages": ["en"],
                "visibility": "network",
            },
        ],
    }
    record.update(overrides)
    return record


def jsonl(*records: dict[str, Any]) -> bytes:
    """Records as the bytes of an import file."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()


def visibility_sample() -> bytes:
    """Organisations for the visibility matrix (``t-unpublished`` is unpublished by the test)."""
    return jsonl(
        line(ref="t-public", name="Public shelter"),
        line(
            ref="t-network",
            name="Network-only team",
            visibility="network",
            address=None,
            contact_points=[],
        ),
        line(
            ref="t-secret",
            name="Secretariat-only safe house",
            visibility="secretariat",
            contact_points=[],
        ),
        line(ref="t-unpublished", name="Withdrawn entry", contact_points=[]),
    )


def counts(session: Session) -> dict[str, int]:
    """Rows an import may write: organisations, audit entries, outbox entries."""
    return {
        "organizations": session.scalar(select(func.count()).select_from(Organization)) or 0,
        "audit": session.scalar(select(func.count()).select_from(AuditEntry)) or 0,
        "outbox": session.scalar(select(func.count()).select_from(SearchOutbox)) or 0,
    }


@cache
def hsds_validator(name: str) -> Draft202012Validator:
    """A validator for one HSDS 3.1 schema file, loaded once per test session."""
    schema = json.loads((HSDS / f"{name}.json").read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=FormatChecker())


@cache
def taxonomy_term_validator() -> Draft202012Validator:
    """HSDS's taxonomy_term schema (as nested in organization.json)."""
    organization = hsds_validator("organization").schema
    schema = organization["properties"]["attributes"]["items"]["properties"]["taxonomy_term"]
    return Draft202012Validator(schema, format_checker=FormatChecker())


def schema_errors(validator: Draft202012Validator, record: Any) -> list[str]:
    """Every way a record breaks a schema, readable in a failure message."""
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(record)]
