"""Refuse text no person types before it reaches a view: 400 for NUL bytes, other control
characters, lone surrogates and invalid UTF-8.

PostgreSQL refuses NUL in text, so such input used to end in a 500 deep inside a query. Checking
once, before any view runs, answers every route alike: the JSON and HSDS APIs in JSON, pages with
the error page. The path and the query string are checked from their raw bytes (Werkzeug would
quietly replace invalid UTF-8 with U+FFFD); form fields and JSON strings after parsing, where tab,
newline and carriage return are legitimate (a text area). Uploaded files and other bodies are not
text and are left alone.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any
from urllib.parse import unquote_to_bytes

from flask import Flask, abort, request

# C0 controls and DEL; tab, line feed and carriage return are allowed in bodies only.
_PATH_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
_BODY_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
DETAIL = "The address or the form contains characters that are not allowed."
JSON_CHECK_LIMIT = 1 << 20  # larger JSON bodies are ciphertext and ids, checked by their views


def _bad_bytes(raw: bytes) -> bool:
    """True when ``raw`` is not UTF-8 text free of control characters."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return bool(_PATH_FORBIDDEN.search(text))


def _bad_path(path_info: str) -> bool:
    """The WSGI path is already percent-decoded, its bytes carried as latin-1."""
    try:
        return _bad_bytes(path_info.encode("latin-1"))
    except UnicodeEncodeError:
        return True


def _bad_query(query_string: str) -> bool:
    """The raw query string: each name and value percent-decoded on its own."""
    try:
        raw = query_string.encode("latin-1")
    except UnicodeEncodeError:
        return True
    return any(
        _bad_bytes(unquote_to_bytes(piece.replace(b"+", b" ")))
        for part in raw.split(b"&")
        for piece in part.split(b"=", 1)
    )


def _bad_json(value: Any, depth: int = 0) -> bool:
    if isinstance(value, str):
        return bool(_BODY_FORBIDDEN.search(value))
    if depth > 64:
        return False  # the view's own checks refuse bodies this deep
    if isinstance(value, dict):
        return any(_bad_json(k, depth + 1) or _bad_json(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return any(_bad_json(item, depth + 1) for item in value)
    return False


def _bad_form() -> bool:
    for key, values in request.form.lists():
        if _BODY_FORBIDDEN.search(key) or any(_BODY_FORBIDDEN.search(v) for v in values):
            return True
    return False


def refuse_invalid_characters() -> None:
    """The before-request hook: 400 when the path, the query or a text field is not clean text."""
    environ = request.environ
    if _bad_path(environ.get("PATH_INFO", "")) or _bad_query(environ.get("QUERY_STRING", "")):
        abort(400, description=DETAIL)
    if request.mimetype in _FORM_TYPES:
        if _bad_form():
            abort(400, description=DETAIL)
    elif request.is_json and 0 < (request.content_length or 0) <= JSON_CHECK_LIMIT:
        # Views read JSON bodies themselves, strictly and with their own size limits, so a body
        # that does not parse is theirs to refuse, and they get the same bytes to read again.
        raw = request.stream.read(JSON_CHECK_LIMIT)
        request.__dict__["stream"] = io.BytesIO(raw)
        # Strict JSON carries a control character or a surrogate only as a \u escape, so the
        # common body (ids, base64, plain words) is not parsed twice.
        if b"\\u" not in raw and b"\x7f" not in raw:
            return
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            return
        if _bad_json(body):
            abort(400, description=DETAIL)


def init_input_guard(app: Flask) -> None:
    """Check every request's text before CSRF, sign-in and the views."""
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_invalid_characters)
