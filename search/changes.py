"""Following the search change log (``core.outbox``): cursors, late numbers, pruning.

Every index applies the log's rows with ``seq`` above its cursor, then moves the cursor to the
highest number it applied. On PostgreSQL numbers are taken when a row is inserted but become
visible when its transaction commits, so a lower number can appear after a higher one was applied.
A cursor therefore also remembers the numbers it skipped (its *gaps*) and reads them again on every
pass for ``GAP_SECONDS``; a number still missing by then belonged to a transaction that rolled
back (or never commits) and is forgotten. Applying a change twice is harmless: the document is
rebuilt from the organisation's current row.

The embedded index keeps its cursor in a file beside its generations (``cursor.json``, replaced
atomically after the index commit); the Meilisearch index, which all hosts share, keeps it in the
``search_cursor`` table. When the prune job has deleted changes an index never applied (its cursor
is below the prune mark), that index is rebuilt from the database instead.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from core.db import utcnow
from core.outbox import PRUNED, SearchCursor, SearchOutbox

log = logging.getLogger("liaison.search")

GAP_SECONDS = 30.0  # how long a skipped number is looked for again
MAX_GAPS = 1000  # more skipped numbers than this: the oldest are given up first
RECENT_WINDOW = 200  # after a rebuild, missing numbers this close below the top are gaps


@dataclass
class Cursor:
    """An index's position: the highest ``seq`` applied, and numbers below it not seen yet."""

    seq: int = 0
    gaps: dict[int, float] = field(default_factory=dict)  # seq -> unix time first missed

    def to_json(self) -> str:
        """The cursor as JSON text (the embedded index's file)."""
        return json.dumps({"seq": self.seq, "gaps": {str(k): v for k, v in self.gaps.items()}})

    def to_json_gaps(self) -> str:
        """The gaps alone as JSON text (the ``search_cursor.gaps`` column)."""
        return json.dumps({str(k): v for k, v in self.gaps.items()})

    @classmethod
    def from_json(cls, seq: int, gaps: str | dict[str, Any] | None) -> Cursor:
        """A cursor from its number and its stored gaps."""
        raw = json.loads(gaps) if isinstance(gaps, str) else (gaps or {})
        return cls(int(seq), {int(k): float(v) for k, v in raw.items()})

    def advance(self, seqs: list[int], now: float) -> Cursor:
        """The cursor after applying rows ``seqs`` (every row above the cursor up to their
        highest, plus any gap rows that turned up): new skipped numbers become gaps, gaps that
        turned up or waited ``GAP_SECONDS`` are dropped."""
        seen = set(seqs)
        gaps = {s: t for s, t in self.gaps.items() if s not in seen and now - t < GAP_SECONDS}
        top = max([self.seq, *seqs])
        for missing in range(max(self.seq + 1, top - MAX_GAPS), top):
            if missing not in seen:
                gaps.setdefault(missing, now)
        return Cursor(top, _cap(gaps))

    def expire(self, now: float) -> Cursor | None:
        """This cursor without the gaps given up on, or None when none expired."""
        kept = {s: t for s, t in self.gaps.items() if now - t < GAP_SECONDS}
        return None if len(kept) == len(self.gaps) else Cursor(self.seq, kept)


def _cap(gaps: dict[int, float]) -> dict[int, float]:
    if len(gaps) <= MAX_GAPS:
        return gaps
    return dict(sorted(gaps.items())[-MAX_GAPS:])


def read_changes(session: Session, cursor: Cursor, batch: int) -> list[Row[int, str]]:
    """The next rows for ``cursor``: those above it and those filling its gaps, by number."""
    condition = SearchOutbox.seq > cursor.seq
    if cursor.gaps:
        condition = or_(condition, SearchOutbox.seq.in_(sorted(cursor.gaps)))
    return list(
        session.execute(
            select(SearchOutbox.seq, SearchOutbox.organization_id)
            .where(condition)
            .order_by(SearchOutbox.seq)
            .limit(batch)
        ).all()
    )


def snapshot_cursor(session: Session, now: float) -> Cursor:
    """The cursor of an index about to be rebuilt from the database: the newest change, with
    missing numbers just below it as gaps (a transaction holding one may not have committed yet).

    Read it *before* reading the organisations: what committed by then is in the rebuild.
    """
    top = int(session.scalar(select(func.max(SearchOutbox.seq))) or 0)
    floor = max(pruned_through(session), top - RECENT_WINDOW)
    present = set(session.scalars(select(SearchOutbox.seq).where(SearchOutbox.seq > floor)))
    gaps = {s: now for s in range(floor + 1, top) if s not in present}
    return Cursor(top, _cap(gaps))


def pruned_through(session: Session) -> int:
    """Every change numbered up to this may have been deleted by the prune job (0: none)."""
    return int(session.scalar(select(SearchCursor.seq).where(SearchCursor.name == PRUNED)) or 0)


def prune(session: Session, retention: timedelta, now: datetime | None = None) -> int:
    """Delete changes older than ``retention`` (never the newest one: SQLite would reuse its
    number) and raise the prune mark; returns how many were deleted. Commits."""
    cutoff = (now or utcnow()) - retention
    newest = session.scalar(select(func.max(SearchOutbox.seq)))
    if newest is None:
        return 0
    old = select(SearchOutbox.seq).where(
        SearchOutbox.created_at < cutoff, SearchOutbox.seq < newest
    )
    through = session.scalar(select(func.max(old.subquery().c.seq)))
    if through is None:
        return 0
    result = session.execute(delete(SearchOutbox).where(SearchOutbox.seq <= through))
    deleted = int(result.rowcount or 0)  # type: ignore[attr-defined]
    mark = session.get(SearchCursor, PRUNED)
    if mark is None:
        session.add(SearchCursor(name=PRUNED, seq=through, gaps="{}"))
    elif mark.seq < through:
        mark.seq = through
    session.commit()
    if deleted:
        log.info("pruned %d search change(s) up to number %d", deleted, through)
    return deleted


class FileCursor:
    """The embedded index's cursor: ``cursor.json`` in the index folder, replaced atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> Cursor | None:
        """The stored cursor, or None when there is none (a new or an upgraded host)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            log.warning("the search cursor %s is unreadable; the index will be rebuilt", self.path)
            return None
        return Cursor.from_json(data.get("seq", 0), data.get("gaps"))

    def save(self, cursor: Cursor) -> None:
        """Write the cursor (after the index commit that applied up to it)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        with tmp.open("w", encoding="utf-8") as handle:
            handle.write(cursor.to_json())
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(self.path)
