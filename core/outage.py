"""A database outage answered calmly: 503 with ``Retry-After``, one log line, resume on return.

While the database cannot be reached, the API answers ``application/problem+json`` and the HTML
routes a static page in the reader's language, both 503 with ``Retry-After``. The page is
rendered from the template alone: no session look-up, no signed-in person, no database. The log
gets one line when the outage starts and one when it ends, not a traceback per request. Service
resumes without a restart: the pool pings a connection before handing it out and reconnects, and
the first successful connection ends the outage.

Four places can meet the outage: opening the request's session (before any view runs; the
session interface is wrapped so the request goes on with an empty session and is answered here),
the view (an error handler for database errors), saving the session after the view (the answer
becomes the 503) and closing the request's database session after the answer.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from flask import Flask, Request, Response, current_app, g, jsonify, request, session
from flask.sessions import NullSession, SessionInterface, SessionMixin
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from core.db import Database
from core.i18n import LOCALES
from core.security import csp_nonce
from core.web import _handle_unexpected, wants_json

log = logging.getLogger("liaison.outage")

RETRY_AFTER_SECONDS = 15
_KEY = "liaison.outage"
_ENVIRON_KEY = "liaison.outage"
# Routes that answer without the database: they run even when the session could not be opened.
PASS_THROUGH = frozenset({"healthz", "readyz", "api_health", "static", "metrics"})
KEEP_HEADERS = frozenset(
    {
        "content-security-policy",
        "strict-transport-security",
        "x-content-type-options",
        "x-frame-options",
        "referrer-policy",
        "cross-origin-opener-policy",
        "permissions-policy",
    }
)


class OutageMonitor:
    """Knows whether the database is unreachable; logs the start and the end of each outage."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._since: float | None = None
        self._refused = 0
        self._lock = threading.Lock()
        event.listen(database.engine, "connect", self._connected)

    @property
    def in_outage(self) -> bool:
        return self._since is not None

    def failed(self, error: BaseException) -> None:
        """Record a request (or check) that could not reach the database."""
        with self._lock:
            self._refused += 1
            if self._since is not None:
                return
            self._since = time.monotonic()
        log.error(
            "database unreachable (%s); answering 503 with Retry-After until it is back",
            _first_line(error),
        )

    def _connected(self, _connection: Any, _record: Any) -> None:
        """A new connection succeeded: the database is back (the first one ends the outage)."""
        with self._lock:
            if self._since is None:
                return
            seconds, refused = time.monotonic() - self._since, self._refused
            self._since, self._refused = None, 0
        log.warning(
            "database reachable again after %.0f s; %d request(s) were answered 503",
            seconds,
            refused,
        )

    def is_outage(self, error: DBAPIError) -> bool:
        """True when ``error`` means the database cannot be reached, not one failed statement."""
        if not isinstance(error, OperationalError | InterfaceError) and not (
            error.connection_invalidated
        ):
            return False
        if self.in_outage:
            return True
        # A lock or statement timeout is an OperationalError too: ask the database itself.
        try:
            with self.database.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except DBAPIError:
            return True
        return False


def _first_line(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    lines = str(original).strip().splitlines()
    return f"{type(original).__name__}: {lines[0] if lines else ''}"


def monitor(app: Flask) -> OutageMonitor:
    """The app's outage monitor."""
    return app.extensions[_KEY]  # type: ignore[no-any-return]


def _locale() -> str:
    chosen = session.get("locale")
    if chosen in LOCALES:
        return str(chosen)
    default = current_app.extensions["liaison.settings"].default_locale
    return request.accept_languages.best_match(LOCALES) or default


def outage_response() -> Response:
    """503 with Retry-After: a problem document on the API, a static page elsewhere."""
    if wants_json():
        response = jsonify(
            {
                "type": "about:blank",
                "title": "Service unavailable",
                "error": "Service unavailable",
                "status": 503,
                "detail": "The database cannot be reached at the moment; retry after "
                f"{RETRY_AFTER_SECONDS} seconds. Nothing was stored.",
                "check": "database-unavailable",
            }
        )
        response.mimetype = "application/problem+json"
    else:
        g.locale = _locale()
        page = current_app.jinja_env.get_template("outage.html").render(
            retry=RETRY_AFTER_SECONDS, nonce=csp_nonce(), path=request.full_path.rstrip("?")
        )
        response = Response(page, mimetype="text/html")
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


class OutageAwareSessions(SessionInterface):
    """The app's session interface, answering 503 instead of failing when the database is down."""

    def __init__(self, inner: SessionInterface, outage: OutageMonitor) -> None:
        self.inner = inner
        self.outage = outage

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        try:
            return self.inner.open_session(app, request)
        except DBAPIError as error:
            if not self.outage.is_outage(error):
                raise
            self.outage.failed(error)
            request.environ[_ENVIRON_KEY] = True
            return self.make_null_session(app)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if isinstance(session, NullSession):
            return
        try:
            self.inner.save_session(app, session, response)
        except DBAPIError as error:
            if not self.outage.is_outage(error):
                raise
            self.outage.failed(error)
            # The view's answer would lie (a sign-in that is not kept): answer 503 instead,
            # keeping the security headers already set.
            answer = outage_response()
            kept = [(k, v) for k, v in response.headers.items() if k.lower() in KEEP_HEADERS]
            response.status_code = answer.status_code
            response.headers.clear()
            response.headers.extend(kept)
            response.headers.extend(answer.headers)
            response.set_data(answer.get_data())


def _answer_if_session_failed() -> Response | None:
    if request.environ.get(_ENVIRON_KEY) and request.endpoint not in PASS_THROUGH:
        return outage_response()
    return None


def _database_error(error: DBAPIError) -> Any:
    outage = monitor(current_app)
    if outage.is_outage(error):
        outage.failed(error)
        return outage_response()
    return _handle_unexpected(error)


def _close_request_session(_error: BaseException | None) -> None:
    """Close the request's session; a connection lost meanwhile is an outage, not a traceback.

    Runs before core.web's own teardown (teardowns run last-registered first), which then finds
    nothing left to close.
    """
    db = g.pop("db_session", None)
    if db is None:
        return
    try:
        db.close()
    except DBAPIError as error:
        outage = monitor(current_app)
        if outage.is_outage(error):
            outage.failed(error)
        else:
            log.warning("the request's database connection broke: %s", _first_line(error))


def init_outage(app: Flask, database: Database) -> OutageMonitor:
    """Install the outage handling; call after the session interface is set."""
    outage = OutageMonitor(database)
    app.extensions[_KEY] = outage
    app.session_interface = OutageAwareSessions(app.session_interface, outage)
    app.before_request_funcs.setdefault(None, []).insert(0, _answer_if_session_failed)
    app.register_error_handler(DBAPIError, _database_error)
    app.teardown_appcontext(_close_request_session)
    return outage
