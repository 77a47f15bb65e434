"""``liaison users …`` through click's CliRunner against the test database."""

import pytest
from click.testing import CliRunner

from accounts.models import Invitation, Role, User
from core.cli import cli
from directory.models import Organization


@pytest.fixture
def run(settings):
    """Invoke ``liaison`` with the test instance's settings in the environment."""

    def invoke(*args: str):
        env = {
            "LIAISON_DATA_DIR": str(settings.data_dir),
            "LIAISON_DATABASE_URL": settings.database_url,
            "LIAISON_SECRET_KEY": settings.secret_key,
            "LIAISON_ENV": "test",
            "LIAISON_SMTP_HOST": "127.0.0.1",
            "LIAISON_SMTP_PORT": "9",  # nothing listens: the link must still be printed
        }
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)

    return invoke


def test_bootstrap_on_an_empty_instance_prints_a_secretariat_link(run, db_session):
    result = run("users", "bootstrap")
    assert result.exit_code == 0
    assert "Open http://127.0.0.1:5000" in result.output
    assert "first secretariat account" in result.output
    link = result.output.split("one-time link: ", 1)[1].split()[0]
    assert link.startswith("http://127.0.0.1:5000/invitations/")
    invitation = db_session.query(Invitation).one()
    assert invitation.role == Role.SECRETARIAT.value
    assert invitation.email == ""  # the person types their address when accepting


def test_bootstrap_again_withdraws_the_earlier_link(run, client, db_session):
    first = run("users", "bootstrap").output.split("one-time link: ", 1)[1].split()[0]
    second = run("users", "bootstrap").output.split("one-time link: ", 1)[1].split()[0]
    assert first != second
    assert client.get("/" + first.split("/", 3)[3]).status_code == 404
    assert client.get("/" + second.split("/", 3)[3]).status_code == 200


def test_bootstrap_with_accounts_only_prints_the_address(run, make_user, db_session):
    make_user(Role.SECRETARIAT)
    result = run("users", "bootstrap")
    assert result.exit_code == 0
    assert result.output.strip() == "Liaison: open http://127.0.0.1:5000"
    assert db_session.query(Invitation).count() == 0


def test_bootstrap_link_lets_the_first_person_choose_their_address(run, client, db_session):
    from tests.accounts.conftest import csrf_of

    link = run("users", "bootstrap").output.split("one-time link: ", 1)[1].split()[0]
    path = "/" + link.split("/", 3)[3]
    page = client.get(path)
    assert 'name="email"' in page.get_data(as_text=True)
    response = client.post(
        path,
        data={
            "email": "not-an-address",
            "display_name": "First",
            "password": "first secretariat passphrase",
            "password_confirmation": "first secretariat passphrase",
            "csrf_token": csrf_of(page),
        },
    )
    assert response.status_code == 422
    assert 'id="field-email-error"' in response.get_data(as_text=True)


def test_invite_prints_the_link_even_when_mail_cannot_be_sent(run, db_session):
    organisation = Organization(ref="lu-itinera", name="Itinéraires", country="LU", org_type="ngo")
    db_session.add(organisation)
    db_session.commit()
    result = run(
        "users",
        "invite",
        "--email",
        "Jo@Example.org",
        "--org",
        "lu-itinera",
        "--role",
        "org_editor",
    )
    assert result.exit_code == 0
    assert "/invitations/" in result.output
    invitation = db_session.query(Invitation).one()
    assert invitation.email == "jo@example.org"
    assert invitation.organization_id == organisation.id
    assert invitation.role == "org_editor"


def test_invite_refuses_an_unknown_organisation_and_a_bad_address(run):
    result = run("users", "invite", "--email", "x@example.org", "--org", "nope", "--role", "member")
    assert result.exit_code == 1
    assert "no organisation with id or ref 'nope'" in result.output
    result = run(
        "users", "invite", "--email", "not an address", "--role", "secretariat", "--no-mail"
    )
    assert result.exit_code == 1
    assert "valid e-mail address" in result.output


def test_list_disable_and_enable(run, make_user, sign_in, client, db_session):
    person = make_user(Role.MEMBER, email="member@example.org")
    sign_in(client, person)
    assert client.get("/account").status_code == 200
    listed = run("users", "list").output
    assert "member@example.org" in listed
    assert "active" in listed
    result = run("users", "disable", "--email", "MEMBER@example.org")
    assert result.exit_code == 0
    assert "1 session(s) ended" in result.output
    assert client.get("/account").status_code == 302
    assert "disabled" in run("users", "list").output
    assert run("users", "enable", "--email", "member@example.org").exit_code == 0
    db_session.expire_all()
    assert db_session.get(User, person.id).is_active


def test_disable_unknown_address_fails_clearly(run):
    result = run("users", "disable", "--email", "ghost@example.org")
    assert result.exit_code == 1
    assert "no account with the address ghost@example.org" in result.output
