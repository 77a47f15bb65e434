"""A real relay for the client's tests: the app served by werkzeug in a thread on a free port,
organisations, and enrolled people (password + TOTP) who sign in through the real token route."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from liaison_client.cli import main
from liaison_client.mailbox import Mailbox

from accounts.models import Role, User
from accounts.passwords import hash_password
from accounts.totp import new_secret
from core.db import utcnow
from directory.models import Organization
from tests.accounts.conftest import PASSWORD, code_for
from tests.browser.conftest import LiveServer

PASSPHRASE = "een lange sleutelzin voor de test"


@dataclass
class Account:
    """An enrolled person and their own client directory."""

    user: User
    home: Path
    url: str

    @property
    def id(self) -> str:
        return self.user.id

    def cli(self, *args: str, input: str | None = None) -> Result:
        """Run ``liaison-client`` as this person (passphrase and password from the env)."""
        env = {"LIAISONCLIENT_PASSPHRASE": PASSPHRASE, "LIAISONCLIENT_PASSWORD": PASSWORD}
        return CliRunner().invoke(main, [*args, "--home", str(self.home)], env=env, input=input)

    def login(self) -> Result:
        return self.cli("login", "--url", self.url, "--email", self.user.email,
                        "--code", code_for(self.user))  # fmt: skip

    def mailbox(self, unlock: bool = True) -> Mailbox:
        """The library's view of this person's client directory."""
        mailbox = Mailbox.open(self.home)
        if unlock:
            mailbox.unlock(passphrase=PASSPHRASE)
        return mailbox


@pytest.fixture
def relay(app) -> Iterator[LiveServer]:
    """The app served on a free port."""
    with LiveServer(app) as server:
        yield server


@pytest.fixture
def organisations(db_session) -> dict[str, Organization]:
    """A Belgian NGO (A) and a Dutch one (B)."""
    made = {
        "A": Organization(ref="be-payoke", name="Payoke", country="BE", org_type="ngo"),
        "B": Organization(ref="nl-comensha", name="CoMensha", country="NL", org_type="ngo"),
    }
    db_session.add_all(made.values())
    db_session.commit()
    return made


@pytest.fixture
def account(db_session, make_user, organisations, relay, tmp_path):
    """Factory: an enrolled contact point of A or B; ``ready`` signs in and sets up keys."""

    def factory(org: str = "A", ready: bool = True) -> Account:
        user = make_user(Role.CONTACT_POINT, organizations=[organisations[org]])
        user.password_hash = hash_password(PASSWORD)
        user.totp_secret = new_secret()
        user.totp_enrolled_at = utcnow()
        db_session.commit()
        person = Account(user, tmp_path / f"home-{user.id[:8]}", relay.url)
        if ready:
            assert person.login().exit_code == 0
            result = person.cli("keys", "init")
            assert result.exit_code == 0, result.output
        return person

    return factory
