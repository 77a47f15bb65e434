"""Bearer tokens for API clients: issued for password + TOTP, stored hashed, expiring, revocable."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from accounts.api_tokens import ApiToken, token_hash
from core.db import utcnow
from tests.accounts.conftest import PASSWORD, code_for


def _token(client, user, code=None, password=PASSWORD):
    return client.post(
        "/api/v1/auth/token",
        json={"email": user.email, "password": password, "code": code or code_for(user)},
    )


def test_a_token_is_issued_for_password_and_code_and_opens_the_api(client, enrolled, db_session):
    user = enrolled()

    issued = _token(client, user)
    token = issued.get_json()["token"]
    fresh = client.application.test_client()  # no session cookie at all
    response = fresh.get("/api/v1/messages", headers={"Authorization": f"Bearer {token}"})

    assert issued.status_code == 200
    assert response.status_code == 200
    stored = db_session.scalars(select(ApiToken)).one()
    assert stored.token_hash == token_hash(token)
    assert token not in stored.token_hash


def test_a_wrong_password_or_code_gets_no_token(client, enrolled):
    user = enrolled()

    wrong_password = _token(client, user, password="not the password at all")
    wrong_code = _token(client, user, code="000000")
    missing = client.post("/api/v1/auth/token", json={"email": user.email})

    assert wrong_password.status_code == 401
    assert wrong_code.status_code == 401
    assert "token" not in (wrong_code.get_json() or {})
    assert missing.status_code == 400


def test_a_revoked_or_expired_token_no_longer_works(client, enrolled, db_session):
    user = enrolled()
    first = _token(client, user).get_json()["token"]
    second = _token(client, user, code=code_for(user, steps_ahead=1)).get_json()["token"]
    api = client.application.test_client()

    revoked = api.delete("/api/v1/auth/token", headers={"Authorization": f"Bearer {first}"})
    db_session.execute(
        update(ApiToken)
        .where(ApiToken.token_hash == token_hash(second))
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    db_session.commit()

    assert revoked.status_code == 204
    for token in (first, second):
        response = api.get("/api/v1/messages", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401


def test_a_made_up_token_is_refused(client):
    response = client.get("/api/v1/messages", headers={"Authorization": "Bearer lia_madeup"})

    assert response.status_code == 401
    assert response.get_json()["check"] == "not-signed-in"


def test_a_disabled_persons_token_stops_working(client, enrolled, db_session):
    user = enrolled()
    token = _token(client, user).get_json()["token"]
    user.is_active = False
    db_session.merge(user)
    db_session.commit()

    response = client.application.test_client().get(
        "/api/v1/messages", headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 401


def test_a_bearer_header_cannot_ride_on_a_session_cookie(client, enrolled, sign_in):
    user = enrolled()
    csrf = sign_in(client, user)

    forged = client.post(
        "/api/v1/messages", json={}, headers={"Authorization": "Bearer lia_whatever"}
    )
    both = client.post(
        "/api/v1/messages",
        json={},
        headers={"Authorization": "Bearer lia_whatever", "X-CSRF-Token": csrf},
    )

    assert forged.status_code == 400  # with the cookie, the CSRF check stays on
    assert both.status_code == 401  # and the relay takes a cookie or a bearer token, not both
    assert client.get("/api/v1/messages").status_code == 200  # the cookie alone still works
