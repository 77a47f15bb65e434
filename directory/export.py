"""Exports of the published directory: JSON Lines (the import format), CSV and HSDS 3.1 JSON.

The scope says whom an export is for; it contains only what a viewer of that audience may see
(a child never more visible than its organisation; confidential addresses and secretariat-only
contact points only in the secretariat scope). Unpublished organisations are never exported.
Defaults: ``jsonl`` is for moving a directory between instances (export → import round-trips),
so it defaults to the secretariat scope; ``csv`` is a spreadsheet that travels by e-mail, so it
defaults to the network scope; ``hsds`` is for publishing, so it defaults to the public scope.
Points come from ``directory.points``: HSDS gives a confidential address its town centre; the
import format (jsonl, csv) carries a point only where the scope may see the exact one.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.errors import UnknownExportFormat
from directory.hsds import hsds_organization
from directory.importing.record import organisation_record
from directory.models import Organization
from directory.places import Gazetteer, gazetteer
from directory.queries import FULL_ORGANISATION
from directory.visibility import Viewer, organization_filter, viewer_for_audience

FORMATS = ("jsonl", "csv", "hsds")
SCOPES = ("public", "network", "secretariat")
DEFAULT_SCOPES = {"jsonl": "secretariat", "csv": "network", "hsds": "public"}
CSV_COLUMNS = (
    "ref",
    "name",
    "alternate_name",
    "description_nl",
    "description_fr",
    "description_de",
    "description_en",
    "country",
    "region",
    "city",
    "lat",
    "lon",
    "org_type",
    "languages",
    "exploitation_forms",
    "target_groups",
    "service_types",
    "is_24_7",
    "accepts_cross_border_referrals",
    "visibility",
    "address_street",
    "address_postal_code",
    "address_city",
    "address_visibility",
    "website",
    "email",
    "phone",
    "emergency_phone",
    "contact_points",
)
_PHONE_LIKE = re.compile(r"\+[0-9 ]+")


def exported_organisations(session: Session, viewer: Viewer) -> list[Organization]:
    """The published organisations the viewer may see, by country, name and ref."""
    statement = (
        select(Organization)
        .where(organization_filter(viewer), Organization.is_published.is_(True))
        .options(*FULL_ORGANISATION)
        .order_by(Organization.country, Organization.name, Organization.ref)
    )
    return list(session.scalars(statement))


def export_directory(
    session: Session, export_format: str, scope: str, places: Gazetteer | None = None
) -> Iterator[str]:
    """The export as chunks of text, in ``jsonl``, ``csv`` or ``hsds``, for the given scope.

    ``places`` (the bundled place data, read when not given) places confidential addresses.
    """
    if export_format not in FORMATS:
        raise UnknownExportFormat(f"unknown format {export_format!r}; use {', '.join(FORMATS)}")
    if scope not in SCOPES:
        raise UnknownExportFormat(f"unknown scope {scope!r}; use {', '.join(SCOPES)}")
    viewer = viewer_for_audience(scope)
    organisations = exported_organisations(session, viewer)
    if export_format == "jsonl":
        return (jsonl_line(organisation_record(o, viewer)) for o in organisations)
    if export_format == "csv":
        return _csv(organisation_record(o, viewer) for o in organisations)
    return _hsds(viewer, organisations, places if places is not None else gazetteer())


def jsonl_line(record: dict[str, Any]) -> str:
    """One line of the import format."""
    return json.dumps(record, ensure_ascii=False) + "\n"


def _hsds(viewer: Viewer, organisations: list[Organization], places: Gazetteer) -> Iterator[str]:
    yield "["
    for index, organization in enumerate(organisations):
        separator = "," if index else ""
        yield f"{separator}\n" + json.dumps(hsds_organization(viewer, organization, places=places))
    yield "\n]\n"


def _cell(value: Any) -> str:
    """A CSV cell; text a spreadsheet would run as a formula is prefixed with an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if text[:1] in ("=", "@", "\t", "\r") or (
        text[:1] in ("+", "-") and not _PHONE_LIKE.fullmatch(text)
    ):
        return "'" + text
    return text


def _contact_point_cell(point: dict[str, Any]) -> str:
    parts = [
        point["role"] or "",
        point["email"] or "",
        point["phone"] or "",
        ",".join(point["languages"]),
        point["visibility"],
    ]
    return " | ".join(parts)


def csv_row(record: dict[str, Any]) -> list[str]:
    """One organisation as a CSV row of ``CSV_COLUMNS`` (lists joined by ``;``)."""
    address = record["address"] or {}
    values: dict[str, Any] = {
        **record,
        **{
            f"description_{lang}": record["description"].get(lang)
            for lang in ("nl", "fr", "de", "en")
        },
        **{f"address_{key}": address.get(key) for key in ("street", "postal_code", "city")},
        "address_visibility": address.get("visibility"),
        "contact_points": "; ".join(_contact_point_cell(p) for p in record["contact_points"]),
    }
    for field in ("languages", "exploitation_forms", "target_groups", "service_types"):
        values[field] = ";".join(record[field])
    return [_cell(values[column]) for column in CSV_COLUMNS]


def _csv(records: Iterator[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for record in records:
        writer.writerow(csv_row(record))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
