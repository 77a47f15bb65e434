"""Scheduled work: jobs declared by each part, run by APScheduler 3, each slot claimed once.

A job runs once per *slot* (its interval cut from the epoch). Before running, a scheduler claims
the (job, slot) pair by inserting a ``job_run`` row; the primary key makes a second claim fail, so
two or three ``liaison jobs`` processes against one database never run a slot twice. Jobs are
idempotent and process everything due, so after downtime the next slot catches up.
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Integer, String, Text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from config import Settings
from core.db import Base, Database, UTCDateTime, utcnow

log = logging.getLogger("liaison.jobs")

JOB_MODULES: tuple[str, ...] = (
    "core.housekeeping",
    "accounts.jobs",
    "search.jobs",
    "messaging.jobs",
    "directory.jobs",
)


class JobRun(Base):
    """The claim (and outcome) of one slot of one job."""

    __tablename__ = "job_run"

    job: Mapped[str] = mapped_column(String(80), primary_key=True)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    claimed_by: Mapped[str] = mapped_column(String(120))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


JobFunction = Callable[[Settings, Database, datetime], object]


@dataclass(frozen=True)
class Job:
    """A named piece of scheduled work and how often it runs."""

    name: str
    every: timedelta
    run: JobFunction

    def slot(self, now: datetime) -> int:
        """The slot number of ``now`` for this job."""
        return int(now.timestamp() // self.every.total_seconds())

    def slot_start(self, slot: int) -> datetime:
        """When slot ``slot`` begins."""
        return datetime.fromtimestamp(slot * self.every.total_seconds(), tz=UTC)


def registered_jobs() -> list[Job]:
    """Every job the parts declare (each module in JOB_MODULES exposes a ``JOBS`` list)."""
    jobs: list[Job] = []
    for name in JOB_MODULES:
        jobs.extend(importlib.import_module(name).JOBS)
    return jobs


def run_slot(
    job: Job, settings: Settings, database: Database, worker: str, now: datetime | None = None
) -> bool:
    """Claim the current slot of ``job`` and run it; False when another worker had claimed it."""
    now = now or utcnow()
    slot = job.slot(now)
    with database.session() as session:
        session.add(JobRun(job=job.name, slot=slot, claimed_by=worker, started_at=now))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            return False
    error: str | None = None
    try:
        job.run(settings, database, job.slot_start(slot))
    except Exception as exc:
        log.exception("job %s slot %s failed", job.name, slot)
        error = f"{type(exc).__name__}: {exc}"
    with database.session() as session:
        row = session.get(JobRun, (job.name, slot))
        if row is not None:
            row.finished_at = utcnow()
            row.error = error
            session.commit()
    if error is None:
        log.debug("job %s ran for slot %s on %s", job.name, slot, worker)
    return True


def start_scheduler(
    settings: Settings,
    database: Database | None = None,
    jobs: list[Job] | None = None,
    worker: str | None = None,
) -> BackgroundScheduler:
    """Start a background scheduler running every job each interval (and once at start)."""
    database = database or Database(settings.database_url)
    jobs = registered_jobs() if jobs is None else jobs
    worker = worker or f"{os.getpid()}@{socket.gethostname()}"
    scheduler = BackgroundScheduler(timezone="UTC")
    for job in jobs:
        scheduler.add_job(
            run_slot,
            "interval",
            seconds=job.every.total_seconds(),
            args=(job, settings, database, worker),
            id=job.name,
            next_run_time=utcnow(),
            coalesce=True,
            max_instances=1,
            misfire_grace_time=int(job.every.total_seconds()),
        )
    scheduler.start()
    log.info("scheduler %s started with %d job(s)", worker, len(jobs))
    return scheduler
