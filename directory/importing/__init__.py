"""Bulk import of organisations from JSON Lines (``../shared/specs/import-format.md``).

``import_directory(session, content)`` checks the whole file first and writes nothing when any
line is wrong (``InvalidImportFile`` lists every problem by line and field); otherwise it creates
or updates organisations by ``ref`` and flushes. The caller commits, or rolls back for a dry run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from directory.errors import InvalidImportFile
from directory.importing.apply import create_organisation, update_organisation
from directory.importing.parse import ParsedFile, parse_file
from directory.models import Organization
from directory.queries import FULL_ORGANISATION
from directory.taxonomy import load_taxonomy, sync_taxonomy

__all__ = ["ImportReport", "ParsedFile", "directory_is_empty", "import_directory", "parse_file"]


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do), by organisation ref."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    ignored_fields: list[str] = field(default_factory=list)
    # Line numbers whose ``lat``/``lon`` were dropped: a ``not_stored`` address keeps no point.
    dropped_points: list[int] = field(default_factory=list)

    def summary(self) -> str:
        """One line of counts, as the CLI prints it."""
        summary = (
            f"{len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged"
        )
        if self.dropped_points:
            lines = ", ".join(str(number) for number in self.dropped_points)
            summary += (
                f"; lat/lon dropped on line(s) {lines}: "
                "an address that is not stored keeps no point, only its town"
            )
        return summary


def drops_point(record: dict[str, Any]) -> bool:
    """True when a record gives a point for an address that is ``not_stored``."""
    address = record.get("address") or {}
    return address.get("visibility") == "not_stored" and record.get("lat") is not None


def directory_is_empty(session: Session) -> bool:
    """True when the directory holds no organisation at all."""
    return not session.scalar(select(func.count()).select_from(Organization))


def import_directory(
    session: Session, content: bytes, *, today: date | None = None
) -> ImportReport:
    """Import a whole file, or nothing: raises ``InvalidImportFile`` listing every problem."""
    taxonomy = load_taxonomy()
    parsed = parse_file(content, taxonomy)
    if parsed.problems:
        raise InvalidImportFile(parsed.problems)
    today = today or date.today()  # noqa: DTZ011 — review dates are calendar days
    sync_taxonomy(session, taxonomy)
    refs = [record["ref"] for _line, record in parsed.records]
    existing: dict[str, Organization] = {}
    for start in range(0, len(refs), 500):
        statement = (
            select(Organization)
            .where(Organization.ref.in_(refs[start : start + 500]))
            .options(*FULL_ORGANISATION)
        )
        existing.update((o.ref, o) for o in session.scalars(statement))
    report = ImportReport(ignored_fields=sorted(parsed.ignored_fields))
    for number, record in parsed.records:
        if drops_point(record):
            record["lat"] = record["lon"] = None
            report.dropped_points.append(number)
        organization = existing.get(record["ref"])
        if organization is None:
            create_organisation(session, record, taxonomy, today)
            report.created.append(record["ref"])
        elif update_organisation(session, organization, record, taxonomy, today):
            report.updated.append(record["ref"])
        else:
            report.unchanged.append(record["ref"])
    session.flush()
    return report
