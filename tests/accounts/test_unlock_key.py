"""The per-session unlock key (issue 12): only a signed-in browser session gets it, a new one at
each unlock, and it is gone from the server at lock, sign-out, session expiry and when the
session is ended elsewhere."""

from __future__ import annotations

import base64
from datetime import timedelta

from accounts.models import UserSession
from accounts.sessions import cookie_name, token_hash
from core.db import utcnow
from tests.accounts.conftest import (
    PASSWORD,
    code_for,
    csrf_of,
    session_cookie,
    sign_in_with_password,
)

KEY = "/api/v1/session/unlock-key"
CURRENT = "/api/v1/session/unlock-key/current"


def _signed_in(client, enrolled):
    user = enrolled()
    sign_in_with_password(client, user)
    csrf = csrf_of(client.get("/account"))
    return user, csrf


def _row(db_session, client, app) -> UserSession:
    db_session.expire_all()
    return db_session.get(UserSession, token_hash(session_cookie(client, app)))


def _key(response) -> bytes:
    text = response.get_json()["key"]
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_a_signed_in_session_gets_a_new_key_at_each_unlock_and_reads_it_back(
    client, app, enrolled, db_session
):
    _user, csrf = _signed_in(client, enrolled)
    headers = {"X-CSRF-Token": csrf}

    assert client.post(CURRENT, headers=headers).status_code == 404  # none before an unlock
    first = client.post(KEY, headers=headers)
    read = client.post(CURRENT, headers=headers)
    second = client.post(KEY, headers=headers)

    assert first.status_code == 201
    assert len(_key(first)) == 32
    assert first.headers["Cache-Control"] == "no-store"
    assert read.status_code == 200
    assert _key(read) == _key(first)
    assert _key(second) != _key(first)  # rotated at each unlock
    assert _key(client.post(CURRENT, headers=headers)) == _key(second)
    assert _row(db_session, client, app).unlock_key == _key(second)


def test_the_key_is_refused_without_a_session_a_csrf_token_or_with_a_bearer_token(
    client, app, enrolled, db_session
):
    _user, csrf = _signed_in(client, enrolled)
    assert client.post(KEY, headers={"X-CSRF-Token": csrf}).status_code == 201
    stranger = app.test_client()

    assert client.post(CURRENT).status_code == 400  # no CSRF token: refused before the view
    assert client.get(CURRENT).status_code == 405
    assert stranger.post(CURRENT, headers={"X-CSRF-Token": csrf}).status_code in (400, 401)
    assert stranger.post(KEY).status_code in (400, 401)
    # an API client's bearer token is no browser session: it never gets an unlock key
    user = enrolled()
    token = stranger.post(
        "/api/v1/auth/token",
        json={"email": user.email, "password": PASSWORD, "code": code_for(user)},
    ).get_json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert stranger.get("/api/v1/messages", headers=bearer).status_code == 200
    for path in (KEY, CURRENT):
        refused = stranger.post(path, headers=bearer)
        assert refused.status_code == 401
        assert refused.get_json()["check"] == "not-signed-in"
    assert stranger.delete(KEY, headers=bearer).status_code == 401
    # nor does a bearer header sent along with the session cookie
    both = client.post(CURRENT, headers={"X-CSRF-Token": csrf, **bearer})
    assert both.status_code == 401
    assert "key" not in both.get_json()


def test_lock_forgets_the_key(client, app, enrolled, db_session):
    _user, csrf = _signed_in(client, enrolled)
    headers = {"X-CSRF-Token": csrf}
    client.post(KEY, headers=headers)

    assert client.delete(KEY, headers=headers).status_code == 204

    assert client.post(CURRENT, headers=headers).status_code == 404
    assert _row(db_session, client, app).unlock_key is None
    assert client.get("/account").status_code == 200  # locking keeps the person signed in


def test_sign_out_forgets_the_key_and_the_old_cookie_cannot_fetch_it(
    client, app, enrolled, db_session
):
    _user, csrf = _signed_in(client, enrolled)
    client.post(KEY, headers={"X-CSRF-Token": csrf})
    cookie = session_cookie(client, app)
    row_id = token_hash(cookie)

    client.post("/logout", data={"csrf_token": csrf})

    db_session.expire_all()
    row = db_session.get(UserSession, row_id)
    assert row.ended_at is not None
    assert row.unlock_key is None
    # the old cookie replayed (a copy taken before sign-out) opens nothing
    replay = app.test_client()
    replay.set_cookie(cookie_name(app.extensions["liaison.settings"]), cookie)
    refused = replay.post(CURRENT, headers={"X-CSRF-Token": csrf})
    assert refused.status_code in (400, 401)
    assert "key" not in (refused.get_json() or {})


def test_session_expiry_forgets_the_key(client, app, enrolled, db_session):
    _user, csrf = _signed_in(client, enrolled)
    client.post(KEY, headers={"X-CSRF-Token": csrf})
    row = _row(db_session, client, app)
    row_id = row.id
    row.last_seen_at = utcnow() - timedelta(minutes=31)
    db_session.commit()

    refused = client.post(CURRENT, headers={"X-CSRF-Token": csrf})

    assert refused.status_code in (400, 401)
    db_session.expire_all()
    row = db_session.get(UserSession, row_id)
    assert row.ended_at is not None
    assert row.unlock_key is None


def test_ending_a_session_from_another_browser_forgets_its_key(app, enrolled, db_session, sign_in):
    user = enrolled()
    laptop, phone = app.test_client(), app.test_client()
    sign_in_with_password(laptop, user)
    sign_in_with_password(phone, user, code=code_for(user, steps_ahead=1))
    for browser in (laptop, phone):
        browser.post(KEY, headers={"X-CSRF-Token": csrf_of(browser.get("/account"))})
    laptop_row = token_hash(session_cookie(laptop, app))
    phone_row = token_hash(session_cookie(phone, app))

    page = phone.get("/account/sessions")
    phone.post(
        "/account/sessions/end", data={"session_id": laptop_row, "csrf_token": csrf_of(page)}
    )

    db_session.expire_all()
    assert db_session.get(UserSession, laptop_row).ended_at is not None
    assert db_session.get(UserSession, laptop_row).unlock_key is None
    assert db_session.get(UserSession, phone_row).unlock_key is not None  # only the one ended

    # "end every other session" (as a password change does) forgets theirs, keeps its own
    tablet = app.test_client()
    tablet.post(KEY, headers={"X-CSRF-Token": sign_in(tablet, user)})
    tablet_row = token_hash(session_cookie(tablet, app))
    page = phone.get("/account/sessions")
    phone.post("/account/sessions/end-others", data={"csrf_token": csrf_of(page)})
    db_session.expire_all()
    assert db_session.get(UserSession, tablet_row).unlock_key is None
    assert db_session.get(UserSession, phone_row).unlock_key is not None


def test_every_page_loads_the_key_guard_and_signed_in_pages_offer_lock_in_their_language(
    client, enrolled
):
    signed_out = client.get("/login").get_data(as_text=True)
    assert 'src="/static/js/session-keys.mjs"' in signed_out  # it clears what was kept
    assert 'id="lock-keys"' not in signed_out
    assert 'class="sign-out"' not in signed_out  # how the script knows it is signed out

    _user, csrf = _signed_in(client, enrolled)
    for path in ("/messages", "/referrals", "/account", "/organisations"):
        response = client.get(path)
        html = response.get_data(as_text=True)
        nonce = response.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
        assert f'nonce="{nonce}" src="/static/js/session-keys.mjs"' in html, path
        assert '<li class="lock-keys" hidden><button type="button" id="lock-keys"' in html, path
        assert ">Lock keys</button>" in html
    expected = {
        "nl": "Sleutels vergrendelen",
        "fr": "Verrouiller les clés",
        "de": "Schlüssel sperren",
    }
    for locale, text in expected.items():
        client.post("/language", data={"locale": locale, "next": "/", "csrf_token": csrf})
        assert f">{text}</button>" in client.get("/referrals").get_data(as_text=True)
