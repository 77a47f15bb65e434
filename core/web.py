"""Request plumbing shared by every blueprint: the request's database session and error pages."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, g, jsonify, render_template, request
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from config import Settings
from core.db import Database

log = logging.getLogger("liaison.web")


def settings() -> Settings:
    """The app's settings."""
    return current_app.extensions["liaison.settings"]  # type: ignore[no-any-return]


def database() -> Database:
    """The app's database."""
    return current_app.extensions["liaison.db"]  # type: ignore[no-any-return]


def db_session() -> Session:
    """The request's session; the view commits once, teardown closes it."""
    if "db_session" not in g:
        g.db_session = database().sessions()
    return g.db_session  # type: ignore[no-any-return]


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def wants_json() -> bool:
    """True for the JSON and HSDS APIs, which answer errors in JSON."""
    path = request.path
    return (
        path.startswith(("/api/", "/hsds")) or request.accept_mimetypes.best == "application/json"
    )


ERROR_TITLES = {
    400: "The request could not be understood",
    401: "Please sign in",
    403: "You may not open this page",
    404: "Not found",
    405: "Not allowed",
    409: "Conflict",
    413: "Too large",
    429: "Too many attempts",
    500: "Something went wrong on our side",
    507: "Storage full",
}


def _error_response(code: int, detail: str | None) -> Any:
    title = ERROR_TITLES.get(code, "Error")
    if wants_json():
        body: dict[str, Any] = {"error": title, "status": code}
        if detail:
            body["detail"] = detail
        return jsonify(body), code
    return render_template("error.html", code=code, title=title, detail=detail), code


def _handle_http(error: HTTPException) -> Any:
    code = error.code or 500
    description = error.description if code < 500 else None
    default = type(error).description
    detail = None if description == default else description
    if detail == "csrf":
        detail = "The form has expired. Go back, reload the page and try again."
    return _error_response(code, detail)


def _handle_unexpected(error: Exception) -> Any:
    log.exception("unhandled error on %s %s", request.method, request.path)
    return _error_response(500, None)


def init_web(app: Flask) -> None:
    """Per-request sessions and error handlers that never show a traceback."""
    app.teardown_appcontext(_close_session)
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(Exception, _handle_unexpected)
