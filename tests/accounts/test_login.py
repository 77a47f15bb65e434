"""Signing in and out through the screens: two steps, fixation, throttling, logout."""

import re

from accounts.models import LoginThrottle, UserSession
from accounts.sessions import token_hash
from tests.accounts.conftest import (
    PASSWORD,
    code_for,
    csrf_of,
    session_cookie,
    sign_in_with_password,
)


def _page_text(response) -> str:
    """The visible part of a page that could differ between two accounts."""
    text = response.get_data(as_text=True)
    text = re.sub(r'value="[^"]*"', 'value=""', text)  # CSRF tokens, the typed e-mail
    return re.sub(r'nonce="[^"]*"', "", text)


def test_password_then_code_signs_in(client, enrolled):
    user = enrolled()
    response = sign_in_with_password(client, user)
    assert response.status_code == 303
    assert client.get("/account").status_code == 200
    assert user.email in client.get("/account").get_data(as_text=True)


def test_password_alone_does_not_sign_in(client, enrolled):
    user = enrolled()
    page = client.get("/login")
    client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_of(page)}
    )
    response = client.get("/account")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_wrong_code_is_refused(client, enrolled):
    user = enrolled()
    response = sign_in_with_password(client, user, code="000000")
    assert response.status_code == 401
    assert "not correct" in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_a_code_used_once_cannot_sign_in_again(app, enrolled):
    user = enrolled()
    code = code_for(user)
    assert sign_in_with_password(app.test_client(), user, code=code).status_code == 303
    assert sign_in_with_password(app.test_client(), user, code=code).status_code == 401


def test_recovery_code_signs_in_once(client, app, enrolled, db_session):
    from accounts.totp import new_recovery_codes

    user = enrolled()
    codes = new_recovery_codes(db_session, user)
    db_session.commit()
    assert sign_in_with_password(client, user, code=codes[0]).status_code == 303
    assert sign_in_with_password(app.test_client(), user, code=codes[0]).status_code == 401


def test_signing_in_issues_a_new_cookie_and_ends_the_anonymous_session(
    client, app, enrolled, db_session
):
    user = enrolled()
    csrf_before = csrf_of(client.get("/login"))
    before = session_cookie(client, app)
    assert before
    sign_in_with_password(client, user)
    after = session_cookie(client, app)
    assert csrf_of(client.get("/account")) != csrf_before  # a planted CSRF token is worthless
    assert after
    assert after != before
    db_session.expire_all()
    assert db_session.get(UserSession, token_hash(before)).ended_at is not None
    assert db_session.get(UserSession, token_hash(after)).user_id == user.id


def test_unknown_and_known_accounts_get_the_same_answer(client, enrolled):
    user = enrolled()
    answers = []
    for email in (user.email, "nobody-here@example.org"):
        page = client.get("/login")
        response = client.post(
            "/login",
            data={
                "email": email,
                "password": "wrong password but long",
                "csrf_token": csrf_of(page),
            },
        )
        answers.append((response.status_code, _page_text(response)))
    assert answers[0][0] == answers[1][0] == 401
    assert answers[0][1] == answers[1][1]


def test_failures_lock_the_address_whether_or_not_it_has_an_account(
    client, settings, enrolled, db_session
):
    user = enrolled()
    outcomes = {}
    for email in (user.email, "nobody-here@example.org"):
        codes = []
        for _ in range(settings.login_max_failures + 1):
            page = client.get("/login")
            response = client.post(
                "/login",
                data={
                    "email": email,
                    "password": "not the password!!",
                    "csrf_token": csrf_of(page),
                },
            )
            codes.append(response.status_code)
        outcomes[email] = codes
    expected = [401] * settings.login_max_failures + [429]
    assert outcomes[user.email] == outcomes["nobody-here@example.org"] == expected
    # while locked, even the right password is refused
    locked = sign_in_with_password(client, user)
    assert locked.status_code == 429
    minutes = settings.login_lockout_minutes
    assert f"Try again in {minutes} minutes." in locked.get_data(as_text=True)
    assert db_session.query(LoginThrottle).count() == 2
    # the table does not name the addresses
    keys = {row.key for row in db_session.query(LoginThrottle)}
    assert user.email not in str(keys)


def test_lock_expires(client, settings, enrolled, db_session):
    from datetime import timedelta

    from core.db import utcnow

    user = enrolled()
    for _ in range(settings.login_max_failures):
        page = client.get("/login")
        client.post(
            "/login",
            data={
                "email": user.email,
                "password": "not the password!!",
                "csrf_token": csrf_of(page),
            },
        )
    row = db_session.query(LoginThrottle).one()
    row.locked_until = utcnow() - timedelta(seconds=1)
    db_session.commit()
    assert sign_in_with_password(client, user).status_code == 303
    db_session.expire_all()
    assert db_session.query(LoginThrottle).count() == 0  # a full sign-in forgets the failures


def test_wrong_codes_count_towards_the_lock(client, settings, enrolled):
    user = enrolled()
    statuses = [
        sign_in_with_password(client, user, code="000000").status_code
        for _ in range(settings.login_max_failures + 1)
    ]
    assert statuses[-1] == 429


def test_disabled_account_gets_the_same_answer_as_a_wrong_password(client, enrolled, db_session):
    user = enrolled()
    user.is_active = False
    db_session.commit()
    response = sign_in_with_password(client, user)
    assert response.status_code == 401
    assert "The e-mail address or the password is not correct." in response.get_data(as_text=True)


def test_logout_ends_the_server_session_and_the_old_cookie_stops_working(
    client, app, enrolled, db_session
):
    user = enrolled()
    sign_in_with_password(client, user)
    cookie = session_cookie(client, app)
    page = client.get("/account")
    response = client.post("/logout", data={"csrf_token": csrf_of(page)})
    assert response.status_code == 303
    db_session.expire_all()
    assert db_session.get(UserSession, token_hash(cookie)).ended_at is not None
    thief = app.test_client()
    thief.set_cookie("__Host-liaison", cookie)
    assert thief.get("/account").status_code == 302


def test_logout_without_csrf_token_is_refused_and_keeps_the_session(client, enrolled):
    user = enrolled()
    sign_in_with_password(client, user)
    assert client.post("/logout").status_code == 400
    assert client.get("/account").status_code == 200


def test_after_sign_in_the_person_lands_on_the_page_they_asked_for(client, enrolled):
    user = enrolled()
    first = client.get("/account/sessions")
    assert first.status_code == 302
    login_page = client.get(first.headers["Location"])
    response = client.post(
        "/login",
        data={
            "email": user.email,
            "password": PASSWORD,
            "next": "/account/sessions",
            "csrf_token": csrf_of(login_page),
        },
    )
    page = client.get(response.headers["Location"])
    response = client.post(
        "/login/totp", data={"code": code_for(user), "csrf_token": csrf_of(page)}
    )
    assert response.headers["Location"] == "/account/sessions"


def test_sign_in_never_redirects_to_another_site(client, enrolled):
    user = enrolled()
    page = client.get("/login")
    client.post(
        "/login",
        data={
            "email": user.email,
            "password": PASSWORD,
            "next": "//evil.example/",
            "csrf_token": csrf_of(page),
        },
    )
    page = client.get("/login/totp")
    response = client.post(
        "/login/totp", data={"code": code_for(user), "csrf_token": csrf_of(page)}
    )
    assert response.headers["Location"] == "/"
