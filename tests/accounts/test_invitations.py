"""Joining by invitation: who may invite, the e-mail, the single-use expiring link, enrolment."""

import email
import email.policy
import re
from datetime import timedelta

import pyotp
import pytest

from accounts import invitations, login
from accounts.errors import (
    CodeAlreadyUsed,
    InvalidCode,
    InvalidInput,
    InvitationInvalid,
    NotAllowed,
)
from accounts.models import Invitation, RecoveryCode, Role, User
from core.db import utcnow
from directory.models import Organization
from tests.accounts.conftest import csrf_of, sign_in_with_password

NEW_PASSWORD = "mossy bridge over quiet water"


@pytest.fixture
def organisation(db_session):
    organization = Organization(
        ref="be-payoke", name="Payoke", country="BE", org_type="specialised_shelter"
    )
    other = Organization(ref="nl-comensha", name="CoMensha", country="NL", org_type="ngo")
    db_session.add_all([organization, other])
    db_session.commit()
    return organization


def _accept(client, link: str, *, name="Anna Peeters", password=NEW_PASSWORD, email=None):
    """Both acceptance screens; returns (last response, TOTP secret shown on the page)."""
    path = link.split("://", 1)[1].split("/", 1)[1]
    page = client.get("/" + path)
    data = {
        "display_name": name,
        "password": password,
        "password_confirmation": password,
        "csrf_token": csrf_of(page),
    }
    if email:
        data["email"] = email
    response = client.post("/" + path, data=data)
    if response.status_code != 303:
        return response, None
    page = client.get(response.headers["Location"])
    text = page.get_data(as_text=True)
    assert 'src="data:image/svg+xml' in text  # the QR code
    secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7 ]+)<', text).group(1).replace(" ", "")
    code = pyotp.TOTP(secret).now()
    response = client.post(
        response.headers["Location"], data={"code": code, "csrf_token": csrf_of(page)}
    )
    return response, secret


def test_secretariat_invites_and_the_link_arrives_by_email(
    mail_app, make_user, sign_in, organisation
):
    app, inbox = mail_app
    secretariat = make_user(Role.SECRETARIAT)
    client = app.test_client()
    csrf = sign_in(client, secretariat)
    response = client.post(
        "/secretariat/people/invite",
        data={
            "email": "Anna.Peeters@Example.org",
            "organization_id": organisation.id,
            "role": "member",
            "language": "nl",  # the inviter writes to this person in Dutch
            "csrf_token": csrf,
        },
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    shown = re.search(r'id="invitation-link">([^<]+)<', page).group(1)
    assert shown.startswith("http://127.0.0.1:5000/invitations/")
    assert "We have e-mailed the link to anna.peeters@example.org." in page
    messages = inbox.wait_for(1)
    assert messages[0]["to"] == ["anna.peeters@example.org"]
    mail = email.message_from_string(messages[0]["body"], policy=email.policy.default)
    assert mail["Subject"] == "Uitnodiging voor Liaison"  # one language, never all four
    body = mail.get_content()
    assert "Invitation" not in body
    assert "invites you" not in body
    assert shown in body
    assert "Person" in body  # who invites
    assert "Payoke" not in body  # nothing about the organisation travels in the mail
    # the open invitation is listed, but the link is never shown again
    again = client.get("/secretariat/people").get_data(as_text=True)
    assert "anna.peeters@example.org" in again
    assert shown not in again


def test_accepting_creates_an_active_account_with_totp_and_recovery_codes(
    app, client, settings, db_session, organisation
):
    _, link = invitations.invite(
        db_session,
        settings,
        email="anna@example.org",
        role="contact_point",
        organization_id=organisation.id,
        invited_by=None,
    )
    db_session.commit()
    response, secret = _accept(client, link)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Your recovery codes" in text
    assert len(re.findall(r"<li><code>[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}</code></li>", text)) == 10
    db_session.expire_all()
    user = db_session.query(User).filter_by(email="anna@example.org").one()
    assert user.is_active
    assert user.role == "contact_point"
    assert user.display_name == "Anna Peeters"
    assert user.totp_secret == secret
    assert user.password_hash.startswith("$argon2id$")
    assert [o.ref for o in user.organizations] == ["be-payoke"]
    assert db_session.query(RecoveryCode).filter_by(user_id=user.id).count() == 10
    # the enrolment code cannot be replayed, the next step's code signs in
    code = pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=30))
    assert (
        sign_in_with_password(app.test_client(), user, NEW_PASSWORD, code=code).status_code == 303
    )


def test_enrolment_ends_signed_in_and_a_replayed_enrolment_code_is_explained(
    app, client, settings, db_session, organisation
):
    _, link = invitations.invite(
        db_session,
        settings,
        email="anna@example.org",
        role="member",
        organization_id=organisation.id,
        invited_by=None,
    )
    db_session.commit()
    response, secret = _accept(client, link)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "You are signed in." in text
    assert 'href="/account"' in text
    account = client.get("/account")
    assert account.status_code == 200
    assert "Anna Peeters" in account.get_data(as_text=True)
    db_session.expire_all()
    user = db_session.query(User).filter_by(email="anna@example.org").one()
    assert user.last_login_at is not None
    # Signing in elsewhere with the code just used for enrolment is refused, and says why.
    used = pyotp.TOTP(secret).generate_otp(user.totp_last_counter)
    other = app.test_client()
    refused = sign_in_with_password(other, user, NEW_PASSWORD, code=used)
    assert refused.status_code == 401
    assert "This code has just been used." in refused.get_data(as_text=True)
    assert other.get("/account").status_code in {302, 303}  # still a visitor there


def test_a_wrong_code_is_not_called_already_used(settings, db_session, enrolled):
    user = enrolled()
    now = utcnow()
    counter = pyotp.TOTP(user.totp_secret).timecode(now)
    user.totp_last_counter = counter
    db_session.commit()
    used = pyotp.TOTP(user.totp_secret).generate_otp(counter)
    wrong = f"{(int(used) + 1) % 1_000_000:06d}"
    with pytest.raises(CodeAlreadyUsed):
        login.second_factor(db_session, settings, user, used, now)
    with pytest.raises(InvalidCode) as refused:
        login.second_factor(db_session, settings, user, wrong, now)
    assert not isinstance(refused.value, CodeAlreadyUsed)


def test_invitation_link_works_only_once(app, client, settings, db_session, organisation):
    _, link = invitations.invite(
        db_session,
        settings,
        email="anna@example.org",
        role="member",
        organization_id=organisation.id,
        invited_by=None,
    )
    db_session.commit()
    assert _accept(client, link)[0].status_code == 200
    response, _ = _accept(app.test_client(), link)
    assert response.status_code == 404
    assert "not valid" in response.get_data(as_text=True)


def test_expired_invitation_is_refused(client, settings, db_session, organisation):
    invitation, link = invitations.invite(
        db_session,
        settings,
        email="anna@example.org",
        role="member",
        organization_id=organisation.id,
        invited_by=None,
    )
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db_session.commit()
    response, _ = _accept(client, link)
    assert response.status_code == 404
    assert db_session.query(User).filter_by(email="anna@example.org").count() == 0


def test_invitation_expires_after_the_configured_hours(settings, db_session, organisation):
    invitation, _ = invitations.invite(
        db_session,
        settings,
        email="anna@example.org",
        role="member",
        organization_id=organisation.id,
        invited_by=None,
    )
    lifetime = invitation.expires_at - invitation.created_at
    assert lifetime == timedelta(hours=settings.invitation_hours)


def test_only_the_hash_of_the_link_is_stored(settings, db_session, organisation):
    _, link = invitations.invite(
        db_session,
        settings,
        email="anna@example.org",
        role="member",
        organization_id=organisation.id,
        invited_by=None,
    )
    token = link.rsplit("/", 1)[1]
    stored = db_session.query(Invitation).one().token_hash
    assert token not in stored


def test_a_new_invitation_withdraws_the_earlier_one(client, settings, db_session, organisation):
    _, first = invitations.invite(
        db_session,
        settings,
        email="a@example.org",
        role="member",
        organization_id=organisation.id,
        invited_by=None,
    )
    invitations.invite(
        db_session,
        settings,
        email="a@example.org",
        role="member",
        organization_id=organisation.id,
        invited_by=None,
    )
    db_session.commit()
    with pytest.raises(InvitationInvalid):
        invitations.find_open(db_session, first.rsplit("/", 1)[1])


def test_weak_password_is_refused_at_acceptance_with_the_reason(
    client, settings, db_session, organisation
):
    _, link = invitations.invite(
        db_session,
        settings,
        email="a@example.org",
        role="member",
        organization_id=organisation.id,
        invited_by=None,
    )
    db_session.commit()
    response, _ = _accept(client, link, password="1q2w3e4r5t6y7u8i9o0p")
    assert response.status_code == 422
    assert "commonly used passwords" in response.get_data(as_text=True)
    response, _ = _accept(client, link, password="too short")
    assert "at least 15 characters" in response.get_data(as_text=True)
    assert db_session.query(User).count() == 0


def test_wrong_enrolment_code_creates_no_account(client, settings, db_session, organisation):
    _, link = invitations.invite(
        db_session,
        settings,
        email="a@example.org",
        role="member",
        organization_id=organisation.id,
        invited_by=None,
    )
    db_session.commit()
    path = "/" + link.split("/", 3)[3]
    page = client.get(path)
    response = client.post(
        path,
        data={
            "display_name": "A",
            "password": NEW_PASSWORD,
            "password_confirmation": NEW_PASSWORD,
            "csrf_token": csrf_of(page),
        },
    )
    page = client.get(response.headers["Location"])
    response = client.post(
        response.headers["Location"], data={"code": "000000", "csrf_token": csrf_of(page)}
    )
    assert response.status_code == 422
    assert db_session.query(User).count() == 0


@pytest.mark.parametrize(
    ("inviter_role", "role", "own_org", "allowed"),
    [
        (Role.SECRETARIAT, Role.MEMBER, False, True),
        (Role.SECRETARIAT, Role.SECRETARIAT, False, True),
        (Role.SECRETARIAT, Role.ADMIN, False, False),
        (Role.ADMIN, Role.ADMIN, False, True),
        (Role.ORG_EDITOR, Role.MEMBER, True, True),
        (Role.ORG_EDITOR, Role.CONTACT_POINT, True, True),
        (Role.ORG_EDITOR, Role.MEMBER, False, False),
        (Role.ORG_EDITOR, Role.SECRETARIAT, True, False),
        (Role.CONTACT_POINT, Role.MEMBER, True, False),
        (Role.MEMBER, Role.MEMBER, True, False),
    ],
)
def test_who_may_invite_whom(
    settings, db_session, make_user, organisation, inviter_role, role, own_org, allowed
):
    other = db_session.query(Organization).filter_by(ref="nl-comensha").one()
    inviter = make_user(inviter_role, organizations=[organisation])
    target = organisation if own_org else other
    if allowed:
        invitations.invite(
            db_session,
            settings,
            email="new@example.org",
            role=role,
            organization_id=target.id,
            invited_by=inviter,
        )
    else:
        with pytest.raises(NotAllowed):
            invitations.invite(
                db_session,
                settings,
                email="new@example.org",
                role=role,
                organization_id=target.id,
                invited_by=inviter,
            )


def test_member_roles_need_an_organisation(settings, db_session):
    with pytest.raises(InvalidInput):
        invitations.invite(
            db_session,
            settings,
            email="new@example.org",
            role="member",
            organization_id=None,
            invited_by=None,
        )


def test_existing_account_cannot_be_invited_again(settings, db_session, make_user):
    user = make_user(Role.SECRETARIAT)
    with pytest.raises(InvalidInput):
        invitations.invite(
            db_session,
            settings,
            email=user.email.upper(),
            role="secretariat",
            organization_id=None,
            invited_by=None,
        )


def test_member_cannot_open_the_people_screen(client, make_user, sign_in, organisation):
    member = make_user(Role.MEMBER, organizations=[organisation])
    csrf = sign_in(client, member)
    assert client.get("/secretariat/people").status_code == 403
    response = client.post(
        "/secretariat/people/invite",
        data={
            "email": "x@example.org",
            "role": "member",
            "organization_id": organisation.id,
            "csrf_token": csrf,
        },
    )
    assert response.status_code == 403


def test_org_editor_sees_and_invites_only_into_their_organisation(
    client, make_user, sign_in, organisation, db_session
):
    other = db_session.query(Organization).filter_by(ref="nl-comensha").one()
    editor = make_user(Role.ORG_EDITOR, organizations=[organisation])
    outsider = make_user(Role.MEMBER, organizations=[other])
    csrf = sign_in(client, editor)
    page = client.get("/secretariat/people").get_data(as_text=True)
    assert outsider.email not in page
    assert "CoMensha" not in page
    response = client.post(
        "/secretariat/people/invite",
        data={
            "email": "x@example.org",
            "role": "member",
            "organization_id": other.id,
            "csrf_token": csrf,
        },
    )
    assert response.status_code == 422
    assert "You may not do this." in response.get_data(as_text=True)
    response = client.post(
        "/secretariat/people/invite",
        data={
            "email": "x@example.org",
            "role": "member",
            "organization_id": organisation.id,
            "csrf_token": csrf,
        },
    )
    assert response.status_code == 200
    assert "/invitations/" in response.get_data(as_text=True)


def test_invite_form_errors_are_shown_next_to_the_field(client, make_user, sign_in):
    secretariat = make_user(Role.SECRETARIAT)
    csrf = sign_in(client, secretariat)
    response = client.post(
        "/secretariat/people/invite",
        data={"email": "not an address", "role": "secretariat", "csrf_token": csrf},
    )
    assert response.status_code == 422
    assert 'id="field-email-error"' in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("chosen", "subject", "expiry_word"),
    [
        ("", "Invitation à Liaison", "heure de Bruxelles"),  # the organisation's language
        ("de", "Einladung zu Liaison", "Brüsseler Zeit"),  # the inviter's choice
    ],
)
def test_the_invitation_is_in_one_language_chosen_or_the_organisations(
    mail_app, make_user, sign_in, organisation, db_session, chosen, subject, expiry_word
):
    from directory.models import Language

    organisation.languages = [Language(code="fr", position=0), Language(code="nl", position=1)]
    db_session.commit()
    app, inbox = mail_app
    client = app.test_client()
    csrf = sign_in(client, make_user(Role.SECRETARIAT))
    response = client.post(
        "/secretariat/people/invite",
        data={
            "email": "luc@example.org",
            "organization_id": organisation.id,
            "role": "member",
            "language": chosen,
            "csrf_token": csrf,
        },
    )
    assert response.status_code == 200
    mail = email.message_from_string(inbox.wait_for(1)[0]["body"], policy=email.policy.default)
    assert mail["Subject"] == subject
    body = mail.get_content()
    assert expiry_word in body
    assert "Invitation to Liaison" not in body
    assert "invites you" not in body
    assert "Uitnodiging" not in mail["Subject"]
