"""``liaison jobs``: run scheduled work, run one job now, and show what ran, failed or died."""

from __future__ import annotations

import signal
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import click
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config import Settings
from core.db import Database, utcnow
from core.jobs import Job, JobRun, holder, registered_jobs, run_now, run_slot, start_scheduler


class CommandContext(Protocol):
    """What ``core.cli.Context`` offers a command: settings and the database."""

    @property
    def settings(self) -> Settings: ...

    def database(self) -> Database: ...


@dataclass(frozen=True)
class JobStatus:
    """What ``liaison jobs status`` says about one job."""

    name: str
    last: JobRun | None  # the last finished run
    failures: int  # finished with an error in the last 24 hours
    running: list[JobRun]  # claims with a live lease
    interrupted: list[JobRun]  # runs whose process died (lease expired) or that were taken over


def job_status(session: Session, jobs: list[Job], now: datetime) -> list[JobStatus]:
    """Each job's last run, failures of the last day, current claims and interrupted runs."""
    statuses = []
    for job in jobs:
        runs = JobRun.job == job.name
        last = session.scalars(
            select(JobRun)
            .where(runs, JobRun.finished_at.is_not(None))
            .order_by(JobRun.finished_at.desc())
            .limit(1)
        ).first()
        failures = session.scalar(
            select(func.count())
            .select_from(JobRun)
            .where(runs, JobRun.error.is_not(None), JobRun.finished_at > now - timedelta(days=1))
        )
        open_runs = list(session.scalars(select(JobRun).where(runs, JobRun.finished_at.is_(None))))
        taken_over = list(
            session.scalars(
                select(JobRun)
                .where(runs, JobRun.interrupted_owner.is_not(None))
                .order_by(JobRun.started_at.desc())
                .limit(5)
            )
        )
        statuses.append(
            JobStatus(
                name=job.name,
                last=last,
                failures=int(failures or 0),
                running=[r for r in open_runs if r.held(now)],
                interrupted=[r for r in open_runs if r.interrupted(now)]
                + [r for r in taken_over if r.finished_at is not None or r.held(now)],
            )
        )
    return statuses


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def _slot(run: JobRun) -> str:
    return "manual" if run.slot < 0 else f"slot {run.slot}"


def print_status(statuses: list[JobStatus], now: datetime) -> None:
    """The status table, then each job's claims and interrupted runs (times in UTC)."""
    click.echo(f"{'job':<36} {'last run (UTC)':<20} {'result':<8} {'failed 24h':>10}")
    for status in statuses:
        last = status.last
        result = "-" if last is None else ("failed" if last.error else "ok")
        when = _when(last.finished_at if last else None)
        click.echo(f"{status.name:<36} {when:<20} {result:<8} {status.failures:>10}")
        if last is not None and last.error:
            click.echo(f"    last error: {last.error}")
        for run in status.running:
            click.echo(
                f"    running: {_slot(run)} on {run.claimed_by} since {_when(run.started_at)}, "
                f"lease until {_when(run.lease_until)}"
            )
        for run in status.interrupted:
            if run.finished_at is None and run.interrupted(now):
                click.echo(
                    f"    interrupted: {_slot(run)} on {run.claimed_by} started "
                    f"{_when(run.started_at)}, lease expired {_when(run.lease_until)} "
                    "without finishing (the process died); the next run picks its work up"
                )
            else:
                click.echo(
                    f"    interrupted: {_slot(run)} on {run.interrupted_owner} (lease expired "
                    f"{_when(run.interrupted_at)}), taken over by {run.claimed_by}"
                )


@click.group(invoke_without_command=True)
@click.option("--once", is_flag=True, help="Run every job not held by another process, then exit.")
@click.pass_context
def jobs(ctx: click.Context, once: bool) -> None:
    """Run scheduled work (one process per host; several processes never run a slot twice)."""
    if ctx.invoked_subcommand is not None:
        return
    obj: CommandContext = ctx.obj
    settings = obj.settings
    from core.logs import configure_logging

    configure_logging(settings)  # the same format (text or JSON) as the web process
    database = obj.database()
    if once:
        worker = f"once-{threading.get_native_id()}"
        for job in registered_jobs():
            if run_slot(job, settings, database, worker):
                click.echo(f"{job.name}: ran")
            elif (owner := holder(database, job)) is not None:
                click.echo(f"{job.name}: running elsewhere ({owner}), skipped")
            else:
                # This slot already ran: run again now (jobs are idempotent, effects deduplicated).
                error = run_now(job, settings, database, worker)
                click.echo(f"{job.name}: ran" + (f" and failed: {error}" if error else ""))
        database.dispose()
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    scheduler = start_scheduler(settings, database)
    click.echo("liaison jobs: running; stop with Ctrl-C or SIGTERM")
    stop.wait()
    scheduler.shutdown(wait=True)
    database.dispose()


@jobs.command("run")
@click.argument("name")
@click.pass_obj
def jobs_run(obj: CommandContext, name: str) -> None:
    """Run job NAME now, whatever its schedule (``liaison jobs status`` lists the names)."""
    by_name = {job.name: job for job in registered_jobs()}
    if name not in by_name:
        raise click.ClickException(f"no job {name!r}; known: {', '.join(sorted(by_name))}")
    settings, database = obj.settings, obj.database()
    error = run_now(by_name[name], settings, database, f"manual-{threading.get_native_id()}")
    if error:
        raise click.ClickException(f"{name} failed: {error}")
    click.echo(f"{name}: ran")


@jobs.command("status")
@click.pass_obj
def jobs_status(obj: CommandContext) -> None:
    """Each job's last run, failures in the last day, current claims and interrupted runs."""
    now = utcnow()
    with obj.database().session() as session:
        statuses = job_status(session, registered_jobs(), now)
        print_status(statuses, now)
