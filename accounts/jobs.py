"""Scheduled work of accounts: forget sessions that can no longer be used."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_

from accounts.models import UserSession
from config import Settings
from core.db import Database
from core.jobs import Job


def purge_sessions(settings: Settings, database: Database, slot_start: datetime) -> int:
    """Delete session rows that ended or outlived their idle or absolute lifetime."""
    idle_cutoff = slot_start - timedelta(minutes=settings.session_idle_minutes)
    absolute_cutoff = slot_start - timedelta(hours=settings.session_absolute_hours)
    with database.session() as session:
        result = session.execute(
            delete(UserSession).where(
                or_(
                    UserSession.ended_at.is_not(None),
                    UserSession.last_seen_at < idle_cutoff,
                    UserSession.created_at < absolute_cutoff,
                )
            )
        )
        session.commit()
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


JOBS = [Job("purge-sessions", timedelta(minutes=15), purge_sessions)]
