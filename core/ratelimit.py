"""Rate limits counted in the database, so that a limit holds across web processes and hosts.

Each limited event is one atomic upsert of a counter row (``rate_counter``: scope, key, window
start, count) that returns the new count: ``INSERT … ON CONFLICT DO UPDATE SET count = count + 1
RETURNING count``, on PostgreSQL and SQLite alike. Windows are plain fixed minutes of the wall
clock (UTC, aligned on whole minutes): at most ``per_minute`` events per key in each minute
``[hh:mm:00, hh:mm+1:00)``. A burst that straddles a minute boundary can therefore see up to
twice the limit within 60 seconds; in exchange one statement answers, and ``Retry-After`` is exact
(the seconds until the window ends). Refused attempts count too, so hammering does not help.

The relay's busiest route counts in the request's own transaction, once the envelope is checked:
on PostgreSQL within the very statement that stores it (``RateLimiter.counter``, ``upsert_cte``),
elsewhere as the last statement before the commit (no extra commit, no lock held while the
envelope is checked); when that transaction does not commit (past the limit, an error, a rollback
and retry) the hit is recorded on its own connection at the end of the request, so every attempt
is counted once. Other routes count in a short transaction of their own.

Rows older than the previous window are deleted by each process once per minute, before its
first hit of a new window.

When the database cannot be reached, the limiter lets the error through and the outage handling
answers 503 (the request needs the database anyway). Any other database error of a counter in a
transaction of its own (a lock timeout, say) fails open: the request goes on uncounted and a
warning is logged. In the relay's transaction an error is the transaction's (the relay retries
once on an operational error, as for its own statements).

Anonymous ``/search`` (page and API) and ``/hsds/`` are limited per client address (an IPv6
address by its /64 network, what one subscriber line usually gets); signed-in people per person.
The client address is ``request.remote_addr``; ``LIAISON_TRUSTED_PROXIES`` hops of
``X-Forwarded-For`` are believed (werkzeug's ProxyFix), none by default.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import (
    Flask,
    current_app,
    g,
    has_app_context,
    jsonify,
    render_template,
    render_template_string,
    request,
)
from flask_login import current_user
from sqlalchemy import BigInteger, Integer, String, bindparam, delete, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Mapped, Session, mapped_column
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Settings
from core.db import Base, Database

log = logging.getLogger("liaison.ratelimit")

WINDOW = 60
_PENDING = "liaison.rate_pending"  # hits upserted in a session, not yet committed
_LOST = "liaison.rate_lost"  # hits upserted in a session that was rolled back
PUBLIC_LIMITERS = "liaison.public_limiters"
# Scope of the public routes, by endpoint (and the whole HSDS blueprint).
PUBLIC_ENDPOINTS = {"search.page": "search", "search.api_search": "search"}
PUBLIC_BLUEPRINTS = {"hsds": "hsds"}


class RateCounter(Base):
    """How many events of one kind (``scope``) one key had in one minute (``window_start``,
    Unix seconds, a multiple of 60)."""

    __tablename__ = "rate_counter"

    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, nullable=False)


class TooManyRequests(Exception):
    """Past the limit; retry after ``retry_after`` seconds."""

    status = 429
    check = "rate-limited"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after


class RateLimiter:
    """At most ``per_minute`` events per key in each minute, counted in ``database`` (shared by
    every process using it) or, without one, in this process's memory."""

    error: Callable[[str, int], Exception] = TooManyRequests

    def __init__(
        self,
        per_minute: int,
        scope: str = "events",
        database: Database | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.per_minute = per_minute
        self.scope = scope
        self.database = database
        self.clock = clock
        self._memory: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()
        self._pruned_window = -1

    def hit(self, key: str, what: str, session: Session | None = None) -> None:
        """Count one event for ``key``; raises past the limit (0 means no limit).

        With ``session`` the count is written in that session's transaction (its commit keeps
        it; without a commit it is recorded at the end of the request, see ``init_rate_limits``).
        """
        if self.per_minute <= 0:
            return
        now = self.clock()
        window = int(now // WINDOW) * WINDOW
        key = key[:64]
        try:
            count = self._count(key, window, session)
        except DBAPIError as error:
            # In the caller's transaction the error is the caller's (its transaction is lost:
            # the relay retries once, the outage handling answers 503).
            if session is not None or _is_outage(error):
                raise  # an unreachable database: the outage handling answers 503
            log.warning(
                "rate limit %s not counted (allowed): %s", self.scope, str(error).splitlines()[0]
            )
            return
        self._judge(count, now, window, what)

    def counter(self, key: str, session: Session) -> Counted | None:
        """For counting one event of ``key`` inside the caller's own statement, in ``session``'s
        transaction (the relay's envelope insert on PostgreSQL): its bind parameters, or None
        when nothing is counted. Give the count that statement returned to ``counted``."""
        if self.per_minute <= 0 or self.database is None:
            return None
        now = self.clock()
        window = int(now // WINDOW) * WINDOW
        counted = Counted(self, key[:64], window, now)
        if window != self._pruned_window:
            session.connection().execute(_PRUNE, counted.params)
            self._pruned_window = window
        return counted

    def _judge(self, count: int, now: float, window: int, what: str) -> None:
        if count > self.per_minute:
            _count_refusal(self.scope)
            retry = max(1, math.ceil(window + WINDOW - now))
            raise self.error(f"too many {what}; try again in {retry} seconds", retry)

    def record(self, key: str, window: int) -> None:
        """Count an event already checked (its first write was rolled back) on its own."""
        if self.database is None:
            return
        with self.database.engine.begin() as connection:
            connection.execute(_upsert(connection.dialect.name), self._params(key, window))

    def _params(self, key: str, window: int) -> dict[str, Any]:
        return {"scope": self.scope, "key": key, "window": window}

    def _count(self, key: str, window: int, session: Session | None) -> int:
        if self.database is None:
            with self._lock:
                if window != self._pruned_window:
                    self._pruned_window = window
                    self._memory = {k: n for k, n in self._memory.items() if k[1] == window}
                count = self._memory.get((key, window), 0) + 1
                self._memory[(key, window)] = count
                return count
        prune = window != self._pruned_window
        params = self._params(key, window)
        if session is not None:
            # Core statements on the session's connection: the ORM adds nothing here.
            connection = session.connection()
            if prune:
                connection.execute(_PRUNE, params)
            count = connection.execute(_upsert(connection.dialect.name), params).scalar_one()
            session.info.setdefault(_PENDING, []).append((self, key, window))
        else:
            with self.database.engine.begin() as connection:
                if prune:
                    connection.execute(_PRUNE, params)
                count = connection.execute(_upsert(connection.dialect.name), params).scalar_one()
        self._pruned_window = window
        return int(count)


@dataclass(frozen=True)
class Counted:
    """One event to count inside the caller's own statement (see ``RateLimiter.counter``)."""

    limiter: RateLimiter
    key: str
    window: int
    now: float

    @property
    def params(self) -> dict[str, Any]:
        return self.limiter._params(self.key, self.window)

    def done(self, count: int, what: str, session: Session) -> None:
        """The statement counted ``count`` events of the minute, this one included; raises
        past the limit (the caller's transaction is then not to be committed)."""
        session.info.setdefault(_PENDING, []).append((self.limiter, self.key, self.window))
        self.limiter._judge(count, self.now, self.window, what)


def upsert_cte(name: str = "rate_count") -> Any:
    """The counting upsert as a data-modifying CTE for PostgreSQL (binds ``scope``, ``key``,
    ``window``), to join another statement; select its ``count``."""
    return _upsert("postgresql").cte(name)


_UPSERTS: dict[str, Any] = {}
# The previous window stays: a host whose clock is a little behind still counts in it.
_PRUNE = delete(RateCounter).where(
    RateCounter.scope == bindparam("scope"),
    RateCounter.window_start < bindparam("window") - WINDOW,
)


def _upsert(dialect: str) -> Any:
    """The counting statement for a dialect, built once (building it costs more than running it)."""
    statement = _UPSERTS.get(dialect)
    if statement is None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        values = insert(RateCounter).values(
            scope=bindparam("scope"),
            key=bindparam("key"),
            window_start=bindparam("window"),
            count=1,
        )
        statement = values.on_conflict_do_update(
            index_elements=[RateCounter.scope, RateCounter.key, RateCounter.window_start],
            set_={"count": RateCounter.count + 1},
        ).returning(RateCounter.count)
        _UPSERTS[dialect] = statement
    return statement


def _is_outage(error: DBAPIError) -> bool:
    if not has_app_context() or "liaison.outage" not in current_app.extensions:
        return True  # no outage handling to decide: let the error through
    from core.outage import monitor

    return monitor(current_app).is_outage(error)


def _count_refusal(scope: str) -> None:
    if not has_app_context():
        return
    from core.metrics import count_rate_limited

    count_rate_limited(scope)


# -- hits written in the request's transaction ------------------------------------------------


def _committed(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _rolled_back(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        session.info.setdefault(_LOST, []).extend(pending)


def _settle_hits(_error: BaseException | None) -> None:
    """At the end of a request: record on their own the hits whose transaction did not commit."""
    session: Session | None = g.get("db_session")
    if session is None or not (session.info.get(_PENDING) or session.info.get(_LOST)):
        return
    try:
        session.rollback()  # not committed by the view: nothing of it is kept (frees SQLite's lock)
        lost = session.info.pop(_LOST, []) + session.info.pop(_PENDING, [])
        for limiter, key, window in lost:
            limiter.record(key, window)
    except DBAPIError as error:
        log.warning("rate limit hits not recorded: %s", str(error).splitlines()[0])


# -- the public routes: search and HSDS ---------------------------------------------------------


def client_address() -> str:
    """The client's address (after the trusted proxies); an IPv6 address as its /64 network."""
    raw = request.remote_addr or "unknown"
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def _limit_public() -> None:
    endpoint = request.endpoint or ""
    scope = PUBLIC_ENDPOINTS.get(endpoint) or PUBLIC_BLUEPRINTS.get(request.blueprint or "")
    if scope is None:
        return
    limiter: RateLimiter = current_app.extensions[PUBLIC_LIMITERS][scope]
    if limiter.per_minute <= 0:
        return
    if current_user.is_authenticated:
        key = "user:" + str(current_user.get_id())
    else:
        key = "addr:" + client_address()
    g.rate_scope = scope
    limiter.hit(key, "searches" if scope == "search" else "HSDS requests")


MESSAGES = {
    "search": (
        "You have searched too often in a short time. Please try again in %(seconds)s second.",
        "You have searched too often in a short time. Please try again in %(seconds)s seconds.",
    ),
    "hsds": (
        "Too many requests in a short time. Please try again in %(seconds)s second.",
        "Too many requests in a short time. Please try again in %(seconds)s seconds.",
    ),
}


def _too_many(error: TooManyRequests) -> Any:
    from core.i18n import ngettext
    from core.web import wants_json

    scope = g.get("rate_scope", "hsds")
    if wants_json():
        response = jsonify(
            {
                "type": "about:blank",
                "title": "Too many requests",
                "error": "Too many requests",
                "status": 429,
                "detail": error.detail,
                "check": error.check,
            }
        )
        response.mimetype = "application/problem+json"
    else:
        singular, plural = MESSAGES.get(scope, MESSAGES["hsds"])
        seconds = int(error.retry_after)
        detail = ngettext(singular, plural, seconds, seconds=seconds)
        if request.headers.get("X-Liaison-Partial") == "results":
            # Search-as-you-type puts the answer in the results area: the message, not a page.
            page = render_template_string(
                '<p class="error" role="alert">{{ detail }}</p>', detail=detail
            )
        else:
            page = render_template("error.html", code=429, title="Too many attempts", detail=detail)
        response = current_app.make_response(page)
    response.status_code = 429
    response.headers["Retry-After"] = str(error.retry_after)
    response.headers["Cache-Control"] = "no-store"
    return response


def init_rate_limits(app: Flask, settings: Settings, database: Database) -> None:
    """Trust the configured proxies, limit the public routes, and settle in-transaction hits."""
    if settings.trusted_proxies > 0:
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=0, x_host=0, x_port=0, x_prefix=0
        )
    app.extensions[PUBLIC_LIMITERS] = {
        "search": RateLimiter(settings.searches_per_minute, "search", database),
        "hsds": RateLimiter(settings.hsds_requests_per_minute, "hsds", database),
    }
    app.before_request(_limit_public)
    app.register_error_handler(TooManyRequests, _too_many)
    app.teardown_request(_settle_hits)
    event.listen(database.sessions, "after_commit", _committed)
    event.listen(database.sessions, "after_rollback", _rolled_back)
