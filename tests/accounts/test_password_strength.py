"""Guessable passwords are refused wherever a password is set, with the strength estimator's hints
in the person's language."""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

import pytest
import zxcvbn.feedback
from markupsafe import escape

from accounts import invitations, services
from accounts.errors import PasswordRejected
from accounts.models import PasswordReset, User
from accounts.passwords import TOO_GUESSABLE, policy_problems
from accounts.tokens import new_token, token_hash
from core.db import utcnow
from core.i18n import load_catalogues
from directory.models import Organization
from tests.accounts.conftest import PASSWORD, code_for, csrf_of, sign_in_with_password
from tests.accounts.test_invitations import _accept

GUESSABLE = ("123456789012345", "Password123456!")
EMAIL = "anna.peeters@example.org"


def _estimator_messages() -> set[str]:
    """Every hint zxcvbn can give: the texts it passes to gettext."""
    tree = ast.parse(Path(zxcvbn.feedback.__file__).read_text(encoding="utf-8"))
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "_"
    }


@pytest.mark.parametrize("password", GUESSABLE)
def test_guessable_passwords_of_the_probe_are_refused_with_the_estimators_hints(password):
    problems = policy_problems(password, EMAIL)

    assert problems[0] == TOO_GUESSABLE
    assert "This is similar to a commonly used password." in problems


@pytest.mark.parametrize(
    "password",
    ["violet harbour lantern 42", "vier losse woorden zijn sterk", "lantern harbour"],
)
def test_passphrases_still_pass(password):
    assert policy_problems(password, EMAIL) == []


@pytest.mark.parametrize("language", ["nl", "fr", "de"])
def test_every_hint_the_estimator_can_give_is_translated(language):
    catalogue = load_catalogues()[language]
    missing = sorted((_estimator_messages() | {TOO_GUESSABLE}) - set(catalogue))
    assert not missing


@pytest.mark.parametrize("language", ["nl", "fr", "de", "en"])
@pytest.mark.parametrize("password", GUESSABLE)
def test_changing_to_a_guessable_password_is_refused_in_the_persons_language(
    app, client, enrolled, db_session, language, password
):
    user = enrolled()
    user.locale = language
    db_session.commit()
    sign_in_with_password(client, user)
    page = client.get("/account")

    response = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "password": password,
            "password_confirmation": password,
            "csrf_token": csrf_of(page),
        },
    )

    html = response.get_data(as_text=True)
    catalogue = app.extensions["liaison.catalogues"][language]
    for text in (TOO_GUESSABLE, "This is similar to a commonly used password."):
        assert str(escape(catalogue.get(text, text))) in html
    assert response.status_code == 422
    assert sign_in_with_password(app.test_client(), user, code=code_for(user, 1)).status_code == 303


@pytest.mark.parametrize("password", GUESSABLE)
def test_accepting_an_invitation_with_a_guessable_password_is_refused(
    client, settings, db_session, password
):
    organisation = Organization(ref="be-payoke", name="Payoke", country="BE", org_type="ngo")
    db_session.add(organisation)
    db_session.commit()
    _, link = invitations.invite(
        db_session,
        settings,
        email="b@example.org",
        role="member",
        organization_id=organisation.id,
        invited_by=None,
    )
    db_session.commit()

    response, _ = _accept(client, link, password=password)

    assert response.status_code == 422
    assert "too easy to guess" in response.get_data(as_text=True)
    assert db_session.query(User).count() == 0


@pytest.mark.parametrize("password", GUESSABLE)
def test_a_reset_to_a_guessable_password_is_refused(settings, db_session, enrolled, password):
    user = enrolled()
    token = new_token()
    db_session.add(
        PasswordReset(
            token_hash=token_hash(token),
            user_id=user.id,
            expires_at=utcnow() + timedelta(minutes=30),
        )
    )
    db_session.commit()

    with pytest.raises(PasswordRejected) as refused:
        services.complete_reset(
            db_session,
            settings,
            token,
            password=password,
            confirmation=password,
            code=code_for(user),
        )

    assert refused.value.problems[0] == TOO_GUESSABLE
