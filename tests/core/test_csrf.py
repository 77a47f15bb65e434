"""The CSRF check: only on matched routes, and never switched off by a header while the request
carries the session cookie."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from accounts.api_tokens import issue_token
from accounts.models import Role, UserSession


@pytest.fixture
def member(make_user):
    return make_user(Role.MEMBER)


def _live_sessions(db_session, user) -> int:
    db_session.expire_all()
    rows = db_session.scalars(select(UserSession).where(UserSession.user_id == user.id)).all()
    return sum(1 for row in rows if row.ended_at is None)


@pytest.mark.parametrize("signed_in", [False, True])
def test_a_post_to_an_unknown_path_answers_404_not_an_expired_form(
    client, member, sign_in, signed_in
):
    if signed_in:
        sign_in(client, member)

    page = client.post("/no-such-page", data={"a": "b"})
    api = client.post("/api/v1/no-such-thing", json={})

    assert page.status_code == 404
    assert "expired" not in page.get_data(as_text=True)
    assert api.status_code == 404
    assert api.get_json()["status"] == 404


@pytest.mark.parametrize("signed_in", [False, True])
def test_a_post_with_the_wrong_method_answers_405(client, member, sign_in, signed_in):
    if signed_in:
        sign_in(client, member)

    page = client.post("/organisations", data={"a": "b"})
    api = client.delete("/api/v1/search")

    assert page.status_code == 405
    assert api.status_code == 405


def test_a_matched_route_without_the_token_is_still_refused(client, member, sign_in):
    sign_in(client, member)

    response = client.post("/account/sessions/end-others")

    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)


@pytest.mark.parametrize("bearer", ["Bearer lia_whatever", "own token"])
def test_a_bearer_header_does_not_lift_the_check_from_a_session_cookie(
    app, client, member, sign_in, db_session, settings, bearer
):
    other_browser = app.test_client()
    sign_in(other_browser, member)
    sign_in(client, member)
    if bearer == "own token":
        secret, _row = issue_token(db_session, member, settings)
        db_session.commit()
        bearer = f"Bearer {secret}"

    forged = client.post("/account/sessions/end-others", headers={"Authorization": bearer})

    assert forged.status_code == 400
    assert _live_sessions(db_session, member) == 2  # the other browser is still signed in


def test_the_session_cookie_with_its_token_and_a_bearer_header_still_works(
    app, client, member, sign_in, db_session
):
    other_browser = app.test_client()
    sign_in(other_browser, member)
    csrf = sign_in(client, member)

    response = client.post(
        "/account/sessions/end-others",
        headers={"Authorization": "Bearer lia_whatever", "X-CSRF-Token": csrf},
    )

    assert response.status_code == 303
    assert _live_sessions(db_session, member) == 1


def test_a_bearer_only_request_needs_no_csrf_token(app, member, db_session, settings):
    secret, _row = issue_token(db_session, member, settings)
    db_session.commit()
    api_client = app.test_client()  # no cookie at all

    revoked = api_client.delete("/api/v1/auth/token", headers={"Authorization": f"Bearer {secret}"})
    after = api_client.get("/api/v1/messages", headers={"Authorization": f"Bearer {secret}"})

    assert revoked.status_code in (200, 204)
    assert after.status_code == 401
