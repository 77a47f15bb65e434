"""Job claims carry a lease: a slot whose process died is run again, a live one is left alone;
``liaison jobs --once``, ``jobs run NAME`` and ``jobs status`` as an operator uses them."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from core.cli import cli
from core.db import utcnow
from core.jobs import Job, JobRun, run_now, run_slot


@pytest.fixture
def database(app):
    return app.extensions["liaison.db"]


@pytest.fixture
def run(settings):
    """Invoke ``liaison`` with the test instance's settings in the environment."""

    def invoke(*args: str):
        env = {
            "LIAISON_DATA_DIR": str(settings.data_dir),
            "LIAISON_DATABASE_URL": settings.database_url,
            "LIAISON_SECRET_KEY": settings.secret_key,
            "LIAISON_ENV": "test",
            "LIAISON_SMTP_HOST": "127.0.0.1",
            "LIAISON_SMTP_PORT": "9",
        }
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)

    return invoke


def _claim(db_session, job: str, slot: int, owner: str, lease_until, finished=None):
    db_session.add(
        JobRun(
            job=job,
            slot=slot,
            claimed_by=owner,
            started_at=utcnow() - timedelta(minutes=2),
            lease_until=lease_until,
            finished_at=finished,
        )
    )
    db_session.commit()


def test_a_slot_whose_process_died_is_taken_over_and_run_again(settings, database, db_session):
    calls = []
    job = Job("count", timedelta(hours=1), lambda _s, _d, start: calls.append(start))
    now = utcnow()
    _claim(db_session, "count", job.slot(now), "4242@dead-host", now - timedelta(seconds=5))

    assert run_slot(job, settings, database, "7@live-host", now=now) is True

    assert len(calls) == 1
    db_session.expire_all()
    row = db_session.get(JobRun, ("count", job.slot(now)))
    assert row.claimed_by == "7@live-host"
    assert row.interrupted_owner == "4242@dead-host"
    assert row.finished_at is not None


def test_a_slot_held_under_a_live_lease_is_left_to_its_owner(settings, database, db_session):
    calls = []
    job = Job("count", timedelta(hours=1), lambda _s, _d, start: calls.append(start))
    now = utcnow()
    _claim(db_session, "count", job.slot(now), "1@busy-host", now + timedelta(seconds=60))

    assert run_slot(job, settings, database, "2@other-host", now=now) is False
    assert calls == []


def test_the_heartbeat_keeps_a_long_job_from_being_taken_over(settings, database, db_session):
    settings = settings.replace(job_lease_seconds=1)
    started, release = threading.Event(), threading.Event()
    runs = []

    def long_job(_s, _d, _start):
        runs.append(1)
        started.set()
        release.wait(10)

    job = Job("long", timedelta(hours=1), long_job)
    worker = threading.Thread(target=run_slot, args=(job, settings, database, "a"))
    worker.start()
    try:
        assert started.wait(10)
        # Several lease lengths later the owner still renews it: nobody else may run the slot.
        for _ in range(3):
            release.wait(1.0)
            assert run_slot(job, settings, database, "b") is False
    finally:
        release.set()
        worker.join()
    assert runs == [1]


def test_a_manual_run_works_whatever_the_schedule_and_records_failures(
    settings, database, db_session
):
    def broken(_s, _d, _start):
        raise RuntimeError("smtp relay unreachable")

    assert run_now(Job("broken", timedelta(days=1), broken), settings, database, "op") == (
        "RuntimeError: smtp relay unreachable"
    )
    row = db_session.scalars(select(JobRun).where(JobRun.job == "broken")).one()
    assert row.slot < 0  # a manual slot never blocks a scheduled one
    assert row.error == "RuntimeError: smtp relay unreachable"


def test_jobs_once_runs_what_no_process_holds_even_after_the_slot_ran(run, db_session):
    now = utcnow()
    # a scheduler holds the notify slot right now, renewing its lease
    notify_slot = int(now.timestamp() // 300)
    _claim(db_session, "messaging-notify", notify_slot, "99@scheduler", now + timedelta(minutes=1))
    # and the purge slot of today already ran
    purge_slot = int(now.timestamp() // 86400)
    _claim(db_session, "purge-job-runs", purge_slot, "99@scheduler", None, finished=now)

    result = run("jobs", "--once")

    assert result.exit_code == 0, result.output
    assert "messaging-notify: running elsewhere (99@scheduler), skipped" in result.output
    assert "purge-job-runs: ran" in result.output
    assert "mail-send: ran" in result.output
    db_session.expire_all()
    purge_runs = db_session.scalars(select(JobRun).where(JobRun.job == "purge-job-runs")).all()
    assert len(purge_runs) == 2  # the scheduled slot and the manual run


def test_jobs_run_name_runs_one_job_now_and_refuses_an_unknown_name(run, db_session):
    result = run("jobs", "run", "mail-send")
    assert result.exit_code == 0, result.output
    assert "mail-send: ran" in result.output
    assert db_session.scalars(select(JobRun.job)).all() == ["mail-send"]

    unknown = CliRunner().invoke(cli, ["jobs", "run", "no-such-job"])
    assert unknown.exit_code != 0
    assert "no job 'no-such-job'" in unknown.output


def test_jobs_status_shows_last_runs_failures_claims_and_interrupted_runs(run, db_session):
    now = utcnow()
    db_session.add(
        JobRun(
            job="mail-purge",
            slot=1,
            claimed_by="5@web1",
            started_at=now - timedelta(hours=3),
            finished_at=now - timedelta(hours=3),
            error="OperationalError: database is locked",
        )
    )
    db_session.commit()
    _claim(db_session, "messaging-notify", 2, "6@web1", now + timedelta(minutes=1))
    _claim(db_session, "mail-send", 3, "7@web2", now - timedelta(minutes=1))

    result = run("jobs", "status")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    purge = next(line for line in lines if line.startswith("mail-purge"))
    assert "failed" in purge
    assert purge.split()[-1] == "1"
    assert "last error: OperationalError: database is locked" in result.output
    assert "running: slot 2 on 6@web1" in result.output
    assert "interrupted: slot 3 on 7@web2" in result.output
    assert "without finishing (the process died)" in result.output
