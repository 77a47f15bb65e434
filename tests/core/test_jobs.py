"""Scheduled work: each (job, slot) runs once, however many schedulers run."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from core.jobs import Job, JobRun, registered_jobs, run_slot

PROBE = Path(__file__).with_name("jobs_probe.py")
ROOT = Path(__file__).resolve().parents[2]


def test_three_scheduler_processes_run_each_slot_exactly_once(settings, db_session, tmp_path):
    log = tmp_path / "executions.log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LIAISON_")},
        "LIAISON_DATA_DIR": str(settings.data_dir),
        "LIAISON_DATABASE_URL": settings.database_url,
        "LIAISON_SECRET_KEY": settings.secret_key,
        "PYTHONPATH": str(ROOT),
    }
    processes = [
        subprocess.Popen([sys.executable, str(PROBE), str(log), "4.5"], env=env, cwd=ROOT)
        for _ in range(3)
    ]
    for process in processes:
        assert process.wait(timeout=60) == 0

    slots = [int(line.split()[0]) for line in log.read_text().splitlines()]
    runs = Counter(slots)
    assert len(runs) >= 3, "the schedulers should have run several one-second slots"
    assert max(runs.values()) == 1, f"a slot ran twice: {runs}"
    claimed = db_session.scalar(
        select(func.count()).select_from(JobRun).where(JobRun.job == "probe")
    )
    assert claimed == len(runs)


def test_a_claimed_slot_is_not_run_again_and_a_new_slot_catches_up(settings, app):
    database = app.extensions["liaison.db"]
    calls: list[datetime] = []
    job = Job("count", timedelta(hours=1), lambda _s, _d, slot_start: calls.append(slot_start))
    now = datetime(2026, 11, 28, 10, 15, tzinfo=UTC)

    assert run_slot(job, settings, database, "a", now=now) is True
    assert run_slot(job, settings, database, "b", now=now + timedelta(minutes=20)) is False
    # after downtime, the next tick runs the current slot once; the job itself processes the backlog
    assert run_slot(job, settings, database, "b", now=now + timedelta(hours=5)) is True
    assert calls == [datetime(2026, 11, 28, 10, tzinfo=UTC), datetime(2026, 11, 28, 15, tzinfo=UTC)]


def test_a_failing_job_records_its_error_and_does_not_stop_the_scheduler(settings, app, db_session):
    database = app.extensions["liaison.db"]

    def broken(_s, _d, _slot):
        raise RuntimeError("mail server down")

    assert run_slot(Job("broken", timedelta(minutes=5), broken), settings, database, "a") is True
    row = db_session.scalars(select(JobRun).where(JobRun.job == "broken")).one()
    assert row.error == "RuntimeError: mail server down"
    assert row.finished_at is not None


def test_every_registered_job_runs_on_an_empty_database(settings, app):
    database = app.extensions["liaison.db"]
    for job in registered_jobs():
        assert run_slot(job, settings, database, "test") is True
