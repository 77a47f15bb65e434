"""Prometheus metrics at ``/metrics``, for the operator's monitoring only.

``/metrics`` answers only a caller sending ``Authorization: Bearer <LIAISON_METRICS_TOKEN>``; with
no token set it does not exist (404). What it counts:

- requests per route: ``liaison_http_requests_total{endpoint, method, status}`` (status class
  ``2xx`` … ``5xx``) and ``liaison_http_request_duration_seconds{endpoint, method}``;
- the relay: ``liaison_relay_envelopes_accepted_total`` and
  ``liaison_relay_envelopes_refused_total{check}`` (the refusal's check name, as clients see it);
- gauges read from the database at scrape time, from a small registry that the composition root
  fills (``metrics(app).add_gauge(...)``): job runs and failures, blob store bytes, mail outbox
  depth — true for every host and process, since the database is where they are recorded.

With several gunicorn workers, set ``PROMETHEUS_MULTIPROC_DIR`` to an empty folder before the
server starts: each worker writes its counters there and a scrape adds them up (prometheus-client's
multiprocess mode).
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from flask import Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from core.db import Database
from core.jobs import JobRun

log = logging.getLogger("liaison.metrics")

_KEY = "liaison.metrics"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
GaugeValues = float | dict[tuple[str, ...], float]


@dataclass(frozen=True)
class Gauge:
    """A value read from the database when Prometheus scrapes (labels: one value per tuple)."""

    name: str
    documentation: str
    read: Callable[[Session], GaugeValues]
    labels: tuple[str, ...] = ()


class DatabaseGauges(Collector):
    """Collects every registered gauge in one short database session per scrape."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.gauges: list[Gauge] = []

    def collect(self) -> Iterator[Metric]:
        with self.database.session() as session:
            for gauge in self.gauges:
                try:
                    values = gauge.read(session)
                except Exception as error:  # one unreadable gauge must not fail the scrape
                    session.rollback()
                    log.debug("gauge %s not read: %s", gauge.name, error)
                    continue
                family = GaugeMetricFamily(gauge.name, gauge.documentation, labels=gauge.labels)
                if isinstance(values, dict):
                    for label_values, value in sorted(values.items()):
                        family.add_metric(list(label_values), value)
                else:
                    family.add_metric([], float(values))
                yield family


class Metrics:
    """The app's metrics: counters and histograms in this process, gauges from the database."""

    def __init__(self, database: Database) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "liaison_http_requests",
            "HTTP requests answered, by route, method and status class",
            ["endpoint", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "liaison_http_request_duration_seconds",
            "Time to answer an HTTP request, by route and method",
            ["endpoint", "method"],
            registry=self.registry,
        )
        self.relay_accepted = Counter(
            "liaison_relay_envelopes_accepted",
            "Envelopes the relay accepted (stored, or the same envelope again)",
            registry=self.registry,
        )
        self.relay_refused = Counter(
            "liaison_relay_envelopes_refused",
            "Envelopes the relay refused, by the check that refused them",
            ["check"],
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "liaison_rate_limited",
            "Requests refused by a rate limit, by scope (send, lookup, search, hsds)",
            ["scope"],
            registry=self.registry,
        )
        self.database_gauges = DatabaseGauges(database)

    def add_gauge(
        self,
        name: str,
        documentation: str,
        read: Callable[[Session], GaugeValues],
        labels: tuple[str, ...] = (),
    ) -> None:
        """Register a gauge read from the database at each scrape."""
        self.database_gauges.gauges.append(Gauge(name, documentation, read, labels))

    def exposition(self) -> bytes:
        """The text Prometheus scrapes: every worker's counters, then the database gauges."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        else:
            registry = self.registry
        own = generate_latest(registry)
        gauges = CollectorRegistry(auto_describe=False)
        gauges.register(self.database_gauges)
        return own + generate_latest(gauges)


def metrics(app: Flask) -> Metrics:
    """The app's metrics."""
    return app.extensions[_KEY]  # type: ignore[no-any-return]


def count_relay(check: str | None) -> None:
    """Count one envelope the relay accepted (``check`` None) or refused by ``check``."""
    found: Metrics | None = current_app.extensions.get(_KEY)
    if found is None:
        return
    if check is None:
        found.relay_accepted.inc()
    else:
        found.relay_refused.labels(check=check).inc()


def count_rate_limited(scope: str) -> None:
    """Count one request refused by the rate limit of ``scope``."""
    found: Metrics | None = current_app.extensions.get(_KEY)
    if found is not None:
        found.rate_limited.labels(scope=scope).inc()


def job_runs(session: Session) -> dict[tuple[str, ...], float]:
    """Recorded runs per job and outcome (ok, failed, running, interrupted) over the kept 30 days.

    An unfinished run whose lease expired was interrupted: its process died and it waits for a
    takeover.
    """
    from core.db import utcnow

    outcome = case(
        (
            JobRun.finished_at.is_(None)
            & JobRun.lease_until.is_not(None)
            & (JobRun.lease_until < utcnow()),
            "interrupted",
        ),
        (JobRun.finished_at.is_(None), "running"),
        (JobRun.error.is_(None), "ok"),
        else_="failed",
    )
    rows = session.execute(select(JobRun.job, outcome, func.count()).group_by(JobRun.job, outcome))
    return {(str(job), str(state)): float(count) for job, state, count in rows}


def job_last_success(session: Session) -> dict[tuple[str, ...], float]:
    """When each job last finished without an error (Unix time)."""
    rows = session.execute(
        select(JobRun.job, func.max(JobRun.finished_at))
        .where(JobRun.finished_at.is_not(None), JobRun.error.is_(None))
        .group_by(JobRun.job)
    )
    finished = {str(job): when for job, when in rows}
    return {(job,): _timestamp(when) for job, when in finished.items() if when is not None}


def _timestamp(when: object) -> float:
    from datetime import UTC, datetime

    if isinstance(when, str):  # SQLite returns max() of a timestamp column as text
        when = datetime.fromisoformat(when)
    assert isinstance(when, datetime)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def _started() -> None:
    g.metrics_started = time.perf_counter()


def _observe(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    found: Metrics | None = current_app.extensions.get(_KEY)
    if started is None or found is None:
        return response
    endpoint = request.endpoint or "unmatched"
    if endpoint == "metrics":
        return response
    method = request.method if request.method in METHODS else "other"
    status = f"{response.status_code // 100}xx"
    found.requests.labels(endpoint=endpoint, method=method, status=status).inc()
    found.latency.labels(endpoint=endpoint, method=method).observe(time.perf_counter() - started)
    return response


def _serve() -> Response:
    token = str(current_app.extensions["liaison.settings"].metrics_token)
    if not token:
        abort(404)
    given = request.headers.get("Authorization", "")
    expected = f"Bearer {token}"
    if not hmac.compare_digest(given.encode(), expected.encode()):
        response = Response("send Authorization: Bearer <LIAISON_METRICS_TOKEN>\n", status=401)
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    response = Response(metrics(current_app).exposition(), content_type=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response


def init_metrics(app: Flask, database: Database) -> Metrics:
    """Count every request, serve ``/metrics`` and register the core's own gauges (jobs)."""
    found = Metrics(database)
    app.extensions[_KEY] = found
    app.before_request_funcs.setdefault(None, []).insert(0, _started)
    app.after_request(_observe)
    app.add_url_rule("/metrics", "metrics", _serve)
    found.add_gauge(
        "liaison_job_runs",
        "Job runs recorded in the last 30 days, by job and outcome (ok, failed, running)",
        job_runs,
        ("job", "outcome"),
    )
    found.add_gauge(
        "liaison_job_last_success_timestamp_seconds",
        "When each job last finished without an error",
        job_last_success,
        ("job",),
    )
    return found
