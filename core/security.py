"""Response hardening and CSRF protection, applied to every request of the app.

- A fresh CSP nonce per response; scripts and styles run only with it. ``'wasm-unsafe-eval'`` is
  allowed because the browser crypto (libsodium) compiles WebAssembly.
- CSRF: a per-session token, required on every state-changing request, as a form field
  ``csrf_token`` or an ``X-CSRF-Token`` header. API clients using a bearer token are exempt
  because no browser sends that header on its own, unless the request also carries the session
  cookie; so is an ``/api/v1`` request without the session cookie (anonymous: it gets 401).
  Only requests that match a route are checked (others answer 404 or 405).
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, Response, abort, current_app, g, request, session

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
CSRF_EXEMPT = "liaison.csrf_exempt"  # app.extensions key: a set of endpoint names
# Endpoints whose POST only reads (HSDS's POST search forms): a forged one changes nothing and
# its answer cannot be read across sites, so they need no token.
CSRF_READ_ONLY = "liaison.csrf_read_only"


def csp_nonce() -> str:
    """The nonce of the response being built (templates put it on every script and style)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return str(g.csp_nonce)


def csrf_token() -> str:
    """The session's CSRF token, created on first use."""
    token = session.get("_csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["_csrf"] = token
    return str(token)


def carries_session_cookie() -> bool:
    """True when the request sends the browser session cookie (whether or not it is live)."""
    name = current_app.session_interface.get_cookie_name(current_app)
    return name in request.cookies or getattr(session, "row_id", None) is not None


def _check_csrf() -> None:
    if request.method in SAFE_METHODS:
        return
    # Only a matched route is checked: an unknown path answers 404 and a wrong method 405.
    if request.routing_exception is not None:
        return
    # A bearer token is exempt because no browser adds it on its own; a request that also
    # carries the session cookie could be a forged one riding on that cookie, so it is not.
    if request.headers.get("Authorization", "").startswith("Bearer ") and (
        not carries_session_cookie()
    ):
        return
    # An API request without the session cookie carries no credential a forged request could
    # ride on: it is anonymous, and the API answers it 401 or serves what anyone may see.
    if request.path.startswith("/api/v1/") and not carries_session_cookie():
        return
    # JSON-only endpoints that a client calls before it has a session (no browser form can send
    # application/json across sites without a CORS preflight, which the app never grants).
    if request.is_json and request.endpoint in current_app.extensions.get(CSRF_EXEMPT, ()):
        return
    if request.endpoint in current_app.extensions.get(CSRF_READ_ONLY, ()):
        return
    expected = session.get("_csrf")
    given = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token", "")
    if not expected or not given or not hmac.compare_digest(str(expected), str(given)):
        abort(400, description="csrf")


def _headers(response: Response) -> Response:
    nonce = csp_nonce()
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; "
        f"style-src 'self' 'nonce-{nonce}'; "
        "img-src 'self' data:; font-src 'self'; connect-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
    response.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if g.get("signed_in") or session.get("_user_id"):
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return response


def init_security(app: Flask) -> None:
    """Install CSRF checks and security headers on the app."""
    app.before_request(_check_csrf)
    app.after_request(_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.jinja_env.globals["csrf_token"] = csrf_token
