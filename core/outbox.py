"""The search change log: which organisations' search documents changed, in commit order.

Directory services append a row in the same transaction as the change. Rows are not deleted when
an index applies them: every index keeps its own *cursor* (the last ``seq`` it applied), so each
host's embedded index, and the Meilisearch index all hosts share, follow the same log at their own
pace (``search.changes``). The ``search.prune_changes`` job deletes rows older than
``LIAISON_SEARCH_CHANGE_RETENTION_DAYS``. Living in ``core`` lets ``directory`` write the log
without importing ``search``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base, UTCDateTime, id_column, utcnow


class SearchOutbox(Base):
    """One change of one organisation's search document (a change-log entry)."""

    __tablename__ = "search_outbox"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    organization_id: Mapped[str] = mapped_column(id_column(), index=True)
    reason: Mapped[str] = mapped_column(String(40), default="changed")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class SearchCursor(Base):
    """A shared index's position in the change log (Meilisearch: one row per index), and the
    prune mark (``PRUNED``: every change up to ``seq`` may have been deleted)."""

    __tablename__ = "search_cursor"

    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    # Numbers below ``seq`` not seen yet (a transaction that took its number earlier may still
    # commit), as JSON {seq: unix time first missed}.
    gaps: Mapped[str] = mapped_column(Text, default="{}")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


PRUNED = "pruned"


def enqueue(session: Session, organization_id: str, reason: str = "changed") -> None:
    """Log that the organisation's search document must be rebuilt, in this transaction."""
    session.add(SearchOutbox(organization_id=organization_id, reason=reason))
    session.info["search_outbox_dirty"] = True
