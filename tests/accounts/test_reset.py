"""Forgotten password: the link arrives by e-mail, needs a second factor, ends every session."""

import email
import email.policy
import re

from accounts.models import PasswordReset
from tests.accounts.conftest import PASSWORD, code_for, csrf_of, sign_in_with_password

NEW_PASSWORD = "a brand new harbour of lanterns"


def _request(client, address: str):
    page = client.get("/password-reset")
    return client.post("/password-reset", data={"email": address, "csrf_token": csrf_of(page)})


def _link_from(inbox) -> str:
    message = email.message_from_string(inbox.wait_for(1)[0]["body"], policy=email.policy.default)
    return re.search(r"http://\S+/password-reset/\S+", message.get_content()).group(0)


def _password_step(client, address: str, password: str):
    page = client.get("/login")
    return client.post(
        "/login", data={"email": address, "password": password, "csrf_token": csrf_of(page)}
    )


def _reset(client, path: str, code: str, password: str = NEW_PASSWORD):
    page = client.get(path)
    return client.post(
        path,
        data={
            "password": password,
            "password_confirmation": password,
            "code": code,
            "csrf_token": csrf_of(page),
        },
    )


def test_reset_link_arrives_and_sets_a_new_password_ending_all_sessions(mail_app, enrolled):
    app, inbox = mail_app
    user = enrolled()
    other_browser = app.test_client()
    sign_in_with_password(other_browser, user)
    assert other_browser.get("/account").status_code == 200
    client = app.test_client()
    response = _request(client, user.email.upper())
    assert "If an account exists for this address" in response.get_data(as_text=True)
    link = _link_from(inbox)
    assert link.startswith("http://127.0.0.1:5000/password-reset/")
    path = "/" + link.split("/", 3)[3]
    response = _reset(client, path, code_for(user, 1))
    assert response.status_code == 303
    assert other_browser.get("/account").status_code == 302  # signed out everywhere
    assert _password_step(client, user.email, PASSWORD).status_code == 401
    assert _password_step(client, user.email, NEW_PASSWORD).status_code == 303
    # the link works only once
    assert client.get(path).status_code == 404


def test_unknown_address_gets_the_same_answer_and_no_mail(mail_app, enrolled, db_session):
    app, inbox = mail_app
    user = enrolled()
    client = app.test_client()
    known = _request(client, user.email)
    unknown = _request(client, "nobody-here@example.org")
    assert known.status_code == unknown.status_code == 200

    def visible(response):
        return re.sub(r'(value|nonce)="[^"]*"', "", response.get_data(as_text=True))

    assert visible(known) == visible(unknown)
    inbox.wait_for(2, timeout=1.5)
    assert [m["to"] for m in inbox.messages] == [[user.email]]
    assert db_session.query(PasswordReset).count() == 1


def test_reset_needs_a_valid_second_factor(mail_app, enrolled):
    app, inbox = mail_app
    user = enrolled()
    client = app.test_client()
    _request(client, user.email)
    path = "/" + _link_from(inbox).split("/", 3)[3]
    response = _reset(client, path, "000000")
    assert response.status_code == 401
    assert sign_in_with_password(client, user, PASSWORD).status_code == 303  # unchanged


def test_reset_refuses_a_weak_password_and_keeps_the_link(mail_app, enrolled):
    app, inbox = mail_app
    user = enrolled()
    client = app.test_client()
    _request(client, user.email)
    path = "/" + _link_from(inbox).split("/", 3)[3]
    response = _reset(client, path, code_for(user), password="passwordpassword")
    assert response.status_code == 422
    assert "commonly used passwords" in response.get_data(as_text=True)
    assert _reset(client, path, code_for(user, 1)).status_code == 303


def test_reset_mails_to_one_address_are_limited(mail_app, enrolled, db_session):
    app, inbox = mail_app
    user = enrolled()
    client = app.test_client()
    for _ in range(5):
        assert _request(client, user.email).status_code == 200
    inbox.wait_for(5, timeout=1.5)
    assert len(inbox.messages) == 3


def test_a_reset_request_never_talks_to_the_smtp_server_inside_the_request(
    inbox, enrolled, db_session
):
    from core.app import close_app, create_app
    from core.mail_outbox import MailOutbox, send_due

    mail_settings, handler = inbox
    # No after-commit sender: whatever reaches the SMTP server now was sent by the request itself.
    app = create_app(mail_settings.replace(mail_send_in_web=False))
    try:
        user = enrolled()
        client = app.test_client()
        for address in (user.email, "nobody-here@example.org"):
            assert _request(client, address).status_code == 200

        assert handler.messages == []  # neither the known nor the unknown address sent anything
        queued = db_session.query(MailOutbox).all()
        assert [row.recipient for row in queued] == [user.email]
        assert queued[0].sent_at is None

        assert send_due(mail_settings, app.extensions["liaison.db"]) == 1
        assert [m["to"] for m in handler.wait_for(1)] == [[user.email]]
        assert "/password-reset/" in handler.messages[0]["body"]
    finally:
        close_app(app)


def test_the_reset_mail_is_in_the_account_holders_language_whatever_the_browser(
    mail_app, enrolled, db_session
):
    app, inbox = mail_app
    user = enrolled()
    user.locale = "fr"
    db_session.commit()
    client = app.test_client()
    page = client.get("/password-reset", headers={"Accept-Language": "de"})
    client.post(
        "/password-reset",
        data={"email": user.email, "csrf_token": csrf_of(page)},
        headers={"Accept-Language": "de"},
    )
    message = email.message_from_string(inbox.wait_for(1)[0]["body"], policy=email.policy.default)
    assert message["Subject"] == "Réinitialiser votre mot de passe Liaison"  # codespell:ignore
    body = message.get_content()
    assert "/password-reset/" in body
    assert "Someone asked" not in body
    assert "Passwort" not in body
