"""The search outbox: organisation ids whose search document must be rebuilt.

Directory services append to it in the same transaction as the change; the search indexer drains
it after the commit. Living in ``core`` lets ``directory`` write it without importing ``search``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base, UTCDateTime, id_column, utcnow


class SearchOutbox(Base):
    """One pending change of one organisation's search document."""

    __tablename__ = "search_outbox"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    organization_id: Mapped[str] = mapped_column(id_column(), index=True)
    reason: Mapped[str] = mapped_column(String(40), default="changed")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def enqueue(session: Session, organization_id: str, reason: str = "changed") -> None:
    """Ask for the organisation's search document to be rebuilt once this transaction commits."""
    session.add(SearchOutbox(organization_id=organization_id, reason=reason))
    session.info["search_outbox_dirty"] = True
