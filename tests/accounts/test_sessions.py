"""Server-side sessions: cookie attributes, lifetimes, listing and ending, disabling, headers."""

from datetime import timedelta

from accounts.models import Role, UserSession
from accounts.sessions import token_hash
from core.db import utcnow
from tests.accounts.conftest import csrf_of, session_cookie, sign_in_with_password


def _row(db_session, client, app) -> UserSession:
    db_session.expire_all()
    return db_session.get(UserSession, token_hash(session_cookie(client, app)))


def test_session_cookie_is_host_prefixed_secure_httponly_lax_and_carries_only_an_id(
    client, enrolled
):
    user = enrolled()
    page = client.get("/login")
    client.post(
        "/login",
        data={
            "email": user.email,
            "password": "violet harbour lantern 42",
            "csrf_token": csrf_of(page),
        },
    )
    page = client.get("/login/totp")
    from tests.accounts.conftest import code_for

    response = client.post(
        "/login/totp", data={"code": code_for(user), "csrf_token": csrf_of(page)}
    )
    header = response.headers["Set-Cookie"]
    name, _, rest = header.partition("=")
    value = rest.split(";", 1)[0]
    attributes = {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}
    assert name == "__Host-liaison"
    assert {"secure", "httponly", "path"} <= attributes
    assert "samesite=lax" in header.lower()
    assert "domain" not in attributes  # __Host- cookies have no Domain
    assert "expires" not in attributes  # a browser-session cookie, nothing kept on disk
    assert user.id not in value
    assert len(value) == 43  # 32 random bytes, URL-safe


def test_session_ends_after_30_idle_minutes(client, app, enrolled, db_session):
    user = enrolled()
    sign_in_with_password(client, user)
    row = _row(db_session, client, app)
    row.last_seen_at = utcnow() - timedelta(minutes=29)
    db_session.commit()
    assert client.get("/account").status_code == 200
    row = _row(db_session, client, app)
    row.last_seen_at = utcnow() - timedelta(minutes=31)
    db_session.commit()
    assert client.get("/account").status_code == 302
    db_session.refresh(row)
    assert row.ended_at is not None


def test_session_ends_12_hours_after_sign_in_even_when_used(client, app, enrolled, db_session):
    user = enrolled()
    sign_in_with_password(client, user)
    row = _row(db_session, client, app)
    row.created_at = utcnow() - timedelta(hours=11, minutes=59)
    db_session.commit()
    assert client.get("/account").status_code == 200
    row = _row(db_session, client, app)
    row.created_at = utcnow() - timedelta(hours=12, minutes=1)
    row.last_seen_at = utcnow()
    db_session.commit()
    assert client.get("/account").status_code == 302


def test_person_lists_their_sessions_and_ends_another_one(app, enrolled, db_session):
    user = enrolled()
    laptop = app.test_client()
    phone = app.test_client()
    sign_in_with_password(laptop, user)
    phone.environ_base["HTTP_USER_AGENT"] = (
        "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36"
    )
    from tests.accounts.conftest import code_for

    sign_in_with_password(phone, user, code=code_for(user, 1))
    page = laptop.get("/account/sessions")
    text = page.get_data(as_text=True)
    assert text.count("<tr>") == 3  # header + two sessions
    assert "Chrome · Android" in text
    assert "this session" in text
    phone_id = token_hash(session_cookie(phone, app))
    response = laptop.post(
        "/account/sessions/end", data={"session_id": phone_id, "csrf_token": csrf_of(page)}
    )
    assert response.status_code == 303
    assert phone.get("/account").status_code == 302
    assert laptop.get("/account").status_code == 200


def test_person_cannot_end_someone_elses_session(app, enrolled):
    anna, ben = enrolled(), enrolled()
    anna_client, ben_client = app.test_client(), app.test_client()
    sign_in_with_password(anna_client, anna)
    sign_in_with_password(ben_client, ben)
    page = anna_client.get("/account/sessions")
    ben_id = token_hash(session_cookie(ben_client, app))
    response = anna_client.post(
        "/account/sessions/end", data={"session_id": ben_id, "csrf_token": csrf_of(page)}
    )
    assert response.status_code == 404
    assert ben_client.get("/account").status_code == 200


def test_end_all_other_sessions_keeps_this_one(app, enrolled):
    user = enrolled()
    clients = [app.test_client() for _ in range(3)]
    from tests.accounts.conftest import code_for

    for step, one in enumerate(clients):
        sign_in_with_password(one, user, code=code_for(user, step - 1))
    page = clients[0].get("/account/sessions")
    clients[0].post("/account/sessions/end-others", data={"csrf_token": csrf_of(page)})
    assert [one.get("/account").status_code for one in clients] == [200, 302, 302]


def test_disabling_an_account_ends_its_sessions_at_once(app, enrolled, make_user, sign_in):
    member = enrolled()
    member_client = app.test_client()
    sign_in_with_password(member_client, member)
    assert member_client.get("/account").status_code == 200
    secretariat = make_user(Role.SECRETARIAT)
    admin_client = app.test_client()
    csrf = sign_in(admin_client, secretariat)
    response = admin_client.post(
        f"/secretariat/people/{member.id}/disable", data={"csrf_token": csrf}
    )
    assert response.status_code == 303
    assert member_client.get("/account").status_code == 302
    assert sign_in_with_password(app.test_client(), member).status_code == 401
    admin_client.post(f"/secretariat/people/{member.id}/enable", data={"csrf_token": csrf})
    from tests.accounts.conftest import code_for

    assert (
        sign_in_with_password(app.test_client(), member, code=code_for(member, 1)).status_code
        == 303
    )


def test_a_disabled_account_is_signed_out_even_if_a_session_row_survived(
    client, enrolled, db_session, sign_in
):
    user = enrolled()
    sign_in(client, user)
    user.is_active = False  # e.g. disabled directly in the database
    db_session.commit()
    assert client.get("/account").status_code == 302


def test_only_secretariat_disables_and_never_an_admin_or_themselves(
    client, make_user, sign_in, enrolled
):
    secretariat = make_user(Role.SECRETARIAT)
    admin = make_user(Role.ADMIN)
    csrf = sign_in(client, secretariat)
    assert (
        client.post(
            f"/secretariat/people/{admin.id}/disable", data={"csrf_token": csrf}
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/secretariat/people/{secretariat.id}/disable", data={"csrf_token": csrf}
        ).status_code
        == 403
    )
    editor_client = client.application.test_client()
    editor = make_user(Role.ORG_EDITOR)
    member = make_user(Role.MEMBER)
    csrf = sign_in(editor_client, editor)
    assert (
        editor_client.post(
            f"/secretariat/people/{member.id}/disable", data={"csrf_token": csrf}
        ).status_code
        == 403
    )


def test_security_headers_on_pages(client, enrolled):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "'nonce-" in csp
    assert "'wasm-unsafe-eval'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "max-age=" in response.headers["Strict-Transport-Security"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]
    second = client.get("/login").headers["Content-Security-Policy"]
    assert second != csp  # a fresh nonce per response


def test_signed_in_pages_are_not_stored_by_the_browser(client, enrolled):
    user = enrolled()
    sign_in_with_password(client, user)
    for path in ("/account", "/account/sessions"):
        assert client.get(path).headers["Cache-Control"] == "no-store"


def test_state_changes_without_csrf_token_are_refused(client, enrolled, make_user, sign_in):
    user = enrolled()
    sign_in_with_password(client, user)
    for path in (
        "/logout",
        "/account/password",
        "/account/sessions/end-others",
        "/account/recovery-codes",
    ):
        assert client.post(path).status_code == 400
        assert client.post(path, data={"csrf_token": "forged"}).status_code == 400
    assert client.get("/account").status_code == 200
    anonymous = client.application.test_client()
    assert anonymous.post("/login", data={"email": user.email, "password": "x"}).status_code == 400


def test_disabling_or_resetting_also_revokes_api_tokens(settings, db_session, enrolled):
    from accounts import services
    from accounts.api_tokens import issue_token, user_for_token

    user = enrolled()
    secret, _ = issue_token(db_session, user, settings, "laptop client")
    db_session.commit()
    assert user_for_token(db_session, secret) is not None
    services.set_active(db_session, None, user, False)
    services.set_active(db_session, None, user, True)
    db_session.commit()
    assert user_for_token(db_session, secret) is None  # re-enabling does not revive the token
