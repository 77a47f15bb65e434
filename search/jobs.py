"""Scheduled search work: drain the outbox (the jobs process does this in production)."""

from __future__ import annotations

from datetime import datetime, timedelta

from config import Settings
from core.db import Database
from core.jobs import Job


def drain_outbox(settings: Settings, database: Database, _slot: datetime) -> int:
    """Apply pending directory changes to the search index(es); returns organisations updated."""
    from search.service import SearchService

    return SearchService(settings, database).drain()


JOBS = [Job(name="search.drain_outbox", every=timedelta(seconds=5), run=drain_outbox)]
