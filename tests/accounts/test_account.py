"""The person's own account page: password change, new recovery codes, remembered language."""

import re

from accounts.totp import accept_second_factor
from tests.accounts.conftest import PASSWORD, code_for, csrf_of, sign_in_with_password

NEW_PASSWORD = "lighthouse keeper with six cats"


def test_changing_the_password_ends_other_sessions_but_not_this_one(app, enrolled):
    user = enrolled()
    here, elsewhere = app.test_client(), app.test_client()
    sign_in_with_password(here, user)
    sign_in_with_password(elsewhere, user, code=code_for(user, 1))
    page = here.get("/account")
    response = here.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "password": NEW_PASSWORD,
            "password_confirmation": NEW_PASSWORD,
            "csrf_token": csrf_of(page),
        },
    )
    assert response.status_code == 303
    assert here.get("/account").status_code == 200
    assert elsewhere.get("/account").status_code == 302


def test_password_change_needs_the_current_password_and_shows_errors_by_the_fields(
    client, enrolled
):
    user = enrolled()
    sign_in_with_password(client, user)
    page = client.get("/account")
    response = client.post(
        "/account/password",
        data={
            "current_password": "not my password at all",
            "password": NEW_PASSWORD,
            "password_confirmation": NEW_PASSWORD,
            "csrf_token": csrf_of(page),
        },
    )
    assert response.status_code == 422
    assert 'id="field-current_password-error"' in response.get_data(as_text=True)
    response = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "password": NEW_PASSWORD,
            "password_confirmation": NEW_PASSWORD + "!",
            "csrf_token": csrf_of(page),
        },
    )
    assert response.status_code == 422
    assert "The two passwords are not the same." in response.get_data(as_text=True)


def test_new_recovery_codes_are_shown_once_and_replace_the_old(client, enrolled, db_session):
    user = enrolled()
    sign_in_with_password(client, user)
    page = client.get("/account")
    response = client.post(
        "/account/recovery-codes", data={"code": code_for(user, 1), "csrf_token": csrf_of(page)}
    )
    codes = re.findall(r"<li><code>([a-z2-9-]{14})</code></li>", response.get_data(as_text=True))
    assert len(codes) == 10
    assert codes[0] not in client.get("/account").get_data(as_text=True)
    db_session.expire_all()
    assert accept_second_factor(db_session, user, codes[0])


def test_language_chosen_while_signed_in_is_remembered_on_the_account(
    app, client, enrolled, db_session
):
    user = enrolled()
    sign_in_with_password(client, user)
    page = client.get("/account")
    client.post("/language", data={"locale": "de", "next": "/account", "csrf_token": csrf_of(page)})
    db_session.expire_all()
    assert db_session.get(type(user), user.id).locale == "de"
    later = app.test_client()  # a new browser: the account's language applies after sign-in
    sign_in_with_password(later, user, code=code_for(user, 1))
    assert '<html lang="de">' in later.get("/account").get_data(as_text=True)
    assert "Ihr Konto" in later.get("/account").get_data(as_text=True)


def test_account_pages_are_translated(client, enrolled):
    user = enrolled()
    sign_in_with_password(client, user)
    for locale, title in (("nl", "Uw account"), ("fr", "Votre compte"), ("de", "Ihr Konto")):
        page = client.get("/account")
        client.post("/language", data={"locale": locale, "csrf_token": csrf_of(page)})
        assert title in client.get("/account").get_data(as_text=True)


def test_every_accounts_string_has_a_translation(app):
    from babel.messages.pofile import read_po

    from core.i18n import TRANSLATIONS_DIR

    for locale in ("nl", "fr", "de"):
        with (TRANSLATIONS_DIR / locale / "accounts.po").open("rb") as handle:
            catalogue = read_po(handle, locale=locale)
        untranslated = [m.id for m in catalogue if m.id and not all(_forms(m.string))]
        assert untranslated == []
        placeholders = [
            m.id
            for m in catalogue
            if m.id
            for form in _forms(m.string)
            if sorted(re.findall(r"%\(\w+\)s", _forms(m.id)[-1]))
            != sorted(re.findall(r"%\(\w+\)s", form))
        ]
        assert placeholders == []


def _forms(text: str | tuple[str, ...]) -> tuple[str, ...]:
    """A plain entry's text, or every form of a plural entry (msgid / msgid_plural, msgstr[n])."""
    return (text,) if isinstance(text, str) else tuple(text)
