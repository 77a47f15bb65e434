"""The audit history: who changed what, when, from which value to which.

Confidential values (street addresses of shelters, secretariat-only contact details) are written
as ``[redacted]`` so the history can be shown to editors without leaking them.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base, UTCDateTime, id_column, new_id, utcnow

REDACTED = "[redacted]"


class AuditEntry(Base):
    """One changed field (or one action) on one entity."""

    __tablename__ = "audit_entry"

    id: Mapped[str] = mapped_column(id_column(), primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[str | None] = mapped_column(
        id_column(), ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True
    )
    action: Mapped[str] = mapped_column(String(40))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(id_column(), index=True)
    organization_id: Mapped[str | None] = mapped_column(id_column(), index=True, nullable=True)
    field: Mapped[str | None] = mapped_column(String(80), nullable=True)
    old_value: Mapped[str | None] = mapped_column(Text, nullable=True)
    new_value: Mapped[str | None] = mapped_column(Text, nullable=True)


def _render(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def record(
    session: Session,
    *,
    actor_id: str | None,
    action: str,
    entity_type: str,
    entity_id: str,
    organization_id: str | None = None,
    field: str | None = None,
    old: Any = None,
    new: Any = None,
    confidential: bool = False,
) -> AuditEntry:
    """Add one audit entry to the session (flushed with the change it describes)."""
    old_text, new_text = _render(old), _render(new)
    if confidential:
        old_text = REDACTED if old_text is not None else None
        new_text = REDACTED if new_text is not None else None
    entry = AuditEntry(
        actor_id=actor_id,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        organization_id=organization_id,
        field=field,
        old_value=old_text,
        new_value=new_text,
    )
    session.add(entry)
    return entry
