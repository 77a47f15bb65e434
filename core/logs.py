"""Log lines an operator can follow: text or JSON (``LIAISON_LOG_FORMAT``), each with a request id.

Every request gets an id: the incoming ``X-Request-Id`` when it is sane (a proxy's or a load
balancer's, so one id follows the request across hosts), else a new random one. The id is echoed
in the response's ``X-Request-Id`` header and written in every log line made while the request
is served, whichever logger writes it.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from flask import Flask, has_request_context, request

from config import Settings

REQUEST_ID_KEY = "liaison.request_id"
SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}\Z")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
StartResponse = Callable[..., Any]


def current_request_id() -> str:
    """The id of the request being served, or ``-`` outside a request."""
    if has_request_context():
        return str(request.environ.get(REQUEST_ID_KEY, "-"))
    return "-"


class RequestIdFilter(logging.Filter):
    """Puts the request id on every record the handler writes."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, request id, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(settings: Settings) -> logging.Handler:
    """Install (once per process) the handler on the root logger, in the configured format."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "liaison", False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.liaison = True  # type: ignore[attr-defined]
        handler.addFilter(RequestIdFilter())
        root.addHandler(handler)
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root.setLevel(settings.log_level)
    return handler


class RequestIds:
    """WSGI middleware: give each request its id and echo it in the response headers."""

    def __init__(self, wsgi_app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]]):
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        given = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = given if SANE_REQUEST_ID.match(given) else secrets.token_hex(16)
        environ[REQUEST_ID_KEY] = request_id

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            kept = [(k, v) for k, v in headers if k.lower() != "x-request-id"]
            return start_response(status, [*kept, ("X-Request-Id", request_id)], exc_info)

        return self.wsgi_app(environ, start)


def init_request_ids(app: Flask) -> None:
    """Give every request an id (logged, and echoed in ``X-Request-Id``)."""
    app.wsgi_app = RequestIds(app.wsgi_app)  # type: ignore[method-assign]
