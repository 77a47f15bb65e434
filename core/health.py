"""Truthful health: ``/healthz`` (the process is up) and ``/readyz`` (it can serve).

``/readyz`` and ``GET /api/v1/health`` run the same checks from a small registry: the core adds
the database and the migrations, the composition root adds the blob store and the search backend
(``readiness(app).add(name, check)``). A check is ``ok``, ``degraded`` (serving, but with less:
search answered by the embedded fallback) or ``failing``; any failing check makes the instance
``unavailable`` and the answer 503. Anonymous callers learn only that status; the secretariat,
and a monitor holding ``LIAISON_METRICS_TOKEN``, also get each check's details; every change of
a check's state goes to the log once.
"""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from flask import Flask, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ConfigDict
from sqlalchemy import text

from core.api_schema import Operation, Reply, describe
from core.db import Database
from core.outage import RETRY_AFTER_SECONDS

log = logging.getLogger("liaison.health")

OK, DEGRADED, FAILING = "ok", "degraded", "failing"
DETAIL_ROLES = frozenset({"secretariat", "admin"})
_KEY = "liaison.readiness"
HEALTH_ENDPOINTS = frozenset({"healthz", "readyz", "api_health"})


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: ``ok``, ``degraded`` or ``failing``, and what it found."""

    status: str
    detail: dict[str, Any] = field(default_factory=dict)


Check = Callable[[], CheckResult]


@dataclass(frozen=True)
class Report:
    """Every check's result; ``status`` is ok, degraded or unavailable (a check failing)."""

    results: dict[str, CheckResult]

    @property
    def status(self) -> str:
        states = {result.status for result in self.results.values()}
        if FAILING in states:
            return "unavailable"
        return DEGRADED if DEGRADED in states else OK

    @property
    def ready(self) -> bool:
        return self.status != "unavailable"

    def details(self) -> dict[str, Any]:
        return {name: {"status": r.status, **r.detail} for name, r in self.results.items()}


class Readiness:
    """The named checks that say whether this instance can serve; each change is logged once."""

    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}
        self._last: dict[str, str] = {}
        self._lock = threading.Lock()

    def add(self, name: str, check: Check) -> None:
        """Register (or replace) the check called ``name``."""
        self._checks[name] = check

    def names(self) -> list[str]:
        return list(self._checks)

    def run(self) -> Report:
        """Run every check; a check that raises counts as failing with the error as detail."""
        results: dict[str, CheckResult] = {}
        for name, check in self._checks.items():
            try:
                results[name] = check()
            except Exception as error:  # a check must answer, whatever broke
                results[name] = CheckResult(FAILING, {"detail": _describe(error)})
        self._log_changes(results)
        return Report(results)

    def _log_changes(self, results: dict[str, CheckResult]) -> None:
        with self._lock:
            for name, result in results.items():
                before = self._last.get(name, OK)
                self._last[name] = result.status
                if result.status == before:
                    continue
                if result.status == OK:
                    log.info("readiness: %s is ok again", name)
                else:
                    log.warning("readiness: %s is %s: %s", name, result.status, result.detail)


def readiness(app: Flask) -> Readiness:
    """The app's readiness registry (created on first use)."""
    registry = app.extensions.get(_KEY)
    if registry is None:
        registry = app.extensions[_KEY] = Readiness()
    return registry  # type: ignore[no-any-return]


def _describe(error: BaseException) -> str:
    """One line naming the error, without a traceback (the log gets the same line)."""
    first = str(error).strip().splitlines()
    return f"{type(error).__name__}: {first[0] if first else ''}".rstrip(": ")


def database_check(database: Database, on_failure: Callable[[Exception], None]) -> Check:
    """The database answers ``SELECT 1``."""

    def check() -> CheckResult:
        try:
            with database.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as error:
            on_failure(error)
            return CheckResult(FAILING, {"detail": _describe(error)})
        return CheckResult(OK, {"dialect": database.engine.dialect.name})

    return check


def migrations_check(database: Database, url: str) -> Check:
    """The schema is at the newest migration this code knows (no upgrade forgotten)."""
    heads: list[str] = []

    def check() -> CheckResult:
        from alembic.script import ScriptDirectory

        from core.migrate import alembic_config  # alembic is imported on first check only

        if not heads:
            heads.extend(sorted(ScriptDirectory.from_config(alembic_config(url)).get_heads()))
        with database.engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version"))
            current = sorted(str(row[0]) for row in rows)
        detail: dict[str, Any] = {"current": current, "head": heads}
        if current != heads:
            detail["detail"] = "run `liaison db upgrade`"
            return CheckResult(FAILING, detail)
        return CheckResult(OK, detail)

    return check


def _may_see_details() -> bool:
    token = str(current_app.extensions["liaison.settings"].metrics_token)
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if token and given and hmac.compare_digest(token.encode(), given.encode()):
        return True
    return getattr(g.get("user"), "role", None) in DETAIL_ROLES


def _answer() -> ResponseReturnValue:
    report = readiness(current_app).run()
    body: dict[str, Any] = {"status": report.status}
    if _may_see_details():
        body["checks"] = report.details()
    response = jsonify(body)
    response.status_code = 200 if report.ready else 503
    response.headers["Cache-Control"] = "no-store"
    if not report.ready:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _healthz() -> ResponseReturnValue:
    """The process is up and answers (no database, so a restart is never triggered by it)."""
    response = jsonify({"status": OK})
    response.headers["Cache-Control"] = "no-store"
    return response


class HealthReport(BaseModel):
    """``status``: ok; degraded when the instance serves with less; unavailable when a check
    fails. The secretariat (or the metrics token) also gets ``checks``."""

    model_config = ConfigDict(extra="allow")

    status: Literal["ok", "degraded", "unavailable"]
    checks: dict[str, Any] | None = None


HEALTH = Operation(
    summary="Service health",
    description="`status` is ok; degraded when the instance serves with less (search answered "
    "by the embedded index while Meilisearch is unreachable); unavailable (with 503) when a "
    "check fails: database, migrations, blob store or search. The secretariat also gets "
    "`checks`, each check's status and details.",
    security="optional",
    replies={
        200: Reply("The instance can serve", HealthReport, headers={"Cache-Control": "no-store"}),
        503: Reply(
            "The instance cannot serve; retry later",
            HealthReport,
            headers={"Retry-After": "seconds", "Cache-Control": "no-store"},
        ),
    },
)


def init_health(
    app: Flask, database: Database, on_database_failure: Callable[[Exception], None]
) -> None:
    """Register the routes and the core's own checks (database, migrations)."""
    # alembic announces each of its plugins when first imported (by the first migrations check).
    plugins = logging.getLogger("alembic.runtime.plugins")
    plugins.setLevel(max(logging.WARNING, logging.getLogger().level))
    registry = readiness(app)
    registry.add("database", database_check(database, on_database_failure))
    url = app.extensions["liaison.settings"].database_url
    registry.add("migrations", migrations_check(database, url))
    app.add_url_rule("/healthz", "healthz", _healthz)
    app.add_url_rule("/readyz", "readyz", _answer)
    app.add_url_rule("/api/v1/health", "api_health", _answer)
    describe(_answer, HEALTH)
