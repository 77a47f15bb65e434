"""Scheduled work: jobs declared by each part, run by APScheduler 3, each slot claimed with a lease.

A job runs once per *slot* (its interval cut from the epoch). Before running, a scheduler claims
the (job, slot) pair by inserting a ``job_run`` row; the primary key makes a second claim fail, so
two or three ``liaison jobs`` processes against one database never run a slot at the same time.
The claim carries a lease (``LIAISON_JOB_LEASE_SECONDS``) that a heartbeat thread renews while the
job runs; a slot whose lease expired without finishing (its process died) is taken over and run
again, and stays visible in ``liaison jobs status``. Jobs are idempotent and process everything
due, so running a slot again, or the next slot after downtime, catches up without doing anything
twice. Manual runs (``liaison jobs run NAME``) use negative slot numbers.
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Integer, String, Text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from config import Settings
from core.db import Base, Database, UTCDateTime, utcnow

log = logging.getLogger("liaison.jobs")

JOB_MODULES: tuple[str, ...] = (
    "core.housekeeping",
    "core.mail_jobs",
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
    # Renewed by the owner's heartbeat; past it, an unfinished run was interrupted.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The owner whose lease expired before this owner took the slot over.
    interrupted_owner: Mapped[str | None] = mapped_column(String(120), nullable=True)
    interrupted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    def held(self, now: datetime) -> bool:
        """True while the slot's owner is (as far as its lease says) still running it."""
        return self.finished_at is None and self.lease_until is not None and self.lease_until >= now

    def interrupted(self, now: datetime) -> bool:
        """True when the owner stopped renewing the lease without finishing (it died)."""
        return self.finished_at is None and not self.held(now)


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


def worker_name() -> str:
    """``pid@host`` of this process, the owner written on its claims."""
    return f"{os.getpid()}@{socket.gethostname()}"


def _lease(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.job_lease_seconds)


def claim_slot(
    database: Database, settings: Settings, name: str, slot: int, *, worker: str, now: datetime
) -> bool:
    """Claim (job, slot) for ``worker``: a new claim, or the takeover of an expired one."""
    lease_until = utcnow() + _lease(settings)
    with database.session() as session:
        row = session.get(JobRun, (name, slot))
        if row is None:
            session.add(
                JobRun(
                    job=name, slot=slot, claimed_by=worker, started_at=now, lease_until=lease_until
                )
            )
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                return False
            return True
        if not row.interrupted(utcnow()):
            return False
        previous, expired = row.claimed_by, row.lease_until
        # Conditional on the old owner and lease: of two processes taking over, one wins.
        result = session.execute(
            update(JobRun)
            .where(
                JobRun.job == name,
                JobRun.slot == slot,
                JobRun.claimed_by == previous,
                JobRun.finished_at.is_(None),
                JobRun.lease_until.is_(None) if expired is None else JobRun.lease_until == expired,
            )
            .values(
                claimed_by=worker,
                started_at=now,
                lease_until=lease_until,
                interrupted_owner=previous,
                interrupted_at=expired or row.started_at,
            )
            .execution_options(synchronize_session=False)
        )
        session.commit()
        if int(result.rowcount or 0) != 1:  # type: ignore[attr-defined]
            return False
    log.warning(
        "job %s slot %s: %s stopped renewing its lease; %s runs it again",
        name,
        slot,
        previous,
        worker,
    )
    return True


class _Heartbeat:
    """Renews the lease of one claimed slot while its job runs."""

    def __init__(self, database: Database, settings: Settings, name: str, slot: int, worker: str):
        self.database, self.settings = database, settings
        self.name, self.slot, self.worker = name, slot, worker
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{name}", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        interval = max(self.settings.job_lease_seconds / 3, 0.2)
        while not self._stop.wait(interval):
            try:
                with self.database.session() as session:
                    result = session.execute(
                        update(JobRun)
                        .where(
                            JobRun.job == self.name,
                            JobRun.slot == self.slot,
                            JobRun.claimed_by == self.worker,
                        )
                        .values(lease_until=utcnow() + _lease(self.settings))
                    )
                    session.commit()
                if int(result.rowcount or 0) == 0:  # type: ignore[attr-defined]
                    log.warning("job %s slot %s: lease lost to another", self.name, self.slot)
            except Exception:  # a database hiccup; the next beat tries again
                log.warning("job %s: could not renew its lease", self.name, exc_info=True)


def _execute(
    job: Job, settings: Settings, database: Database, *, worker: str, slot: int, start: datetime
) -> str | None:
    """Run a claimed slot under a heartbeat and record its outcome; returns the error, if any."""
    error: str | None = None
    with _Heartbeat(database, settings, job.name, slot, worker):
        try:
            job.run(settings, database, start)
        except Exception as exc:
            log.exception("job %s slot %s failed", job.name, slot)
            error = f"{type(exc).__name__}: {exc}"
    with database.session() as session:
        session.execute(
            update(JobRun)
            .where(JobRun.job == job.name, JobRun.slot == slot, JobRun.claimed_by == worker)
            .values(finished_at=utcnow(), error=error)
        )
        session.commit()
    if error is None:
        log.debug("job %s ran for slot %s on %s", job.name, slot, worker)
    return error


def run_slot(
    job: Job, settings: Settings, database: Database, worker: str, now: datetime | None = None
) -> bool:
    """Claim the current slot of ``job`` and run it; False when another worker holds or ran it."""
    now = now or utcnow()
    slot = job.slot(now)
    if not claim_slot(database, settings, job.name, slot, worker=worker, now=now):
        return False
    _execute(job, settings, database, worker=worker, slot=slot, start=job.slot_start(slot))
    return True


def run_now(job: Job, settings: Settings, database: Database, worker: str) -> str | None:
    """Run ``job`` at once in a manual slot (negative numbers); returns the error, if any."""
    now = utcnow()
    slot = -int(now.timestamp())
    while not claim_slot(database, settings, job.name, slot, worker=worker, now=now):
        slot -= 1  # another manual run this second
    return _execute(job, settings, database, worker=worker, slot=slot, start=now)


def holder(database: Database, job: Job, now: datetime | None = None) -> str | None:
    """Who holds the current slot of ``job`` with a live lease, if anyone."""
    now = now or utcnow()
    with database.session() as session:
        row = session.get(JobRun, (job.name, job.slot(now)))
        return row.claimed_by if row is not None and row.held(utcnow()) else None


def start_scheduler(
    settings: Settings,
    database: Database | None = None,
    jobs: list[Job] | None = None,
    worker: str | None = None,
) -> BackgroundScheduler:
    """Start a background scheduler running every job each slot (and once at start)."""
    database = database or Database(settings.database_url)
    jobs = registered_jobs() if jobs is None else jobs
    worker = worker or worker_name()
    scheduler = BackgroundScheduler(timezone="UTC")
    for job in jobs:
        # A tick at least once a lease, so a slot whose process died is taken over in time.
        scheduler.add_job(
            run_slot,
            "interval",
            seconds=min(job.every.total_seconds(), settings.job_lease_seconds),
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
