"""Housekeeping jobs of the core: forget spent job claims."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete

from config import Settings
from core.db import Database
from core.jobs import Job, JobRun


def purge_job_runs(settings: Settings, database: Database, slot_start: datetime) -> int:
    """Forget job claims older than 30 days (recent claims are what prevents double runs)."""
    with database.session() as session:
        result = session.execute(
            delete(JobRun).where(JobRun.started_at < slot_start - timedelta(days=30))
        )
        session.commit()
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


JOBS = [Job("purge-job-runs", timedelta(days=1), purge_job_runs)]
