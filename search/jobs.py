"""Scheduled search work: follow the change log, and prune it (the jobs process runs these)."""

from __future__ import annotations

from datetime import datetime, timedelta

from config import Settings
from core.db import Database
from core.jobs import Job


def drain_outbox(settings: Settings, database: Database, _slot: datetime) -> int:
    """Apply logged directory changes to Meilisearch, and to this host's embedded index when a
    web process built one in this data dir (never building one itself); returns organisations
    updated in the embedded index."""
    from search.service import SearchService

    service = SearchService(settings, database)
    try:
        return service.drain(build=False)
    finally:
        service.close()


def prune_changes(settings: Settings, database: Database, _slot: datetime) -> int:
    """Delete search changes older than ``LIAISON_SEARCH_CHANGE_RETENTION_DAYS``; an index
    whose cursor is older than what is kept rebuilds itself from the database."""
    from search.changes import prune

    with database.session() as session:
        return prune(session, timedelta(days=settings.search_change_retention_days))


JOBS = [
    Job(name="search.drain_outbox", every=timedelta(seconds=5), run=drain_outbox),
    Job(name="search.prune_changes", every=timedelta(hours=1), run=prune_changes),
]
