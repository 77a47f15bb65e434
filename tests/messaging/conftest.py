"""Fixtures of the relay tests: organisations, people with published keys and their own signed-in
clients, and envelopes sealed with the Python client library."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from liaison_client.encoding import b64
from liaison_client.identity import Identity, generate
from liaison_client.messages import seal

from accounts.models import Role, User
from directory.models import Organization


@dataclass
class Person:
    """A signed-in person with an identity whose public key the relay has published."""

    user: User
    identity: Identity
    http: Any  # a Flask test client with this person's session
    csrf: str

    @property
    def id(self) -> str:
        return self.user.id

    def headers(self) -> dict[str, str]:
        return {"X-CSRF-Token": self.csrf}

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.http.get(url, **kwargs)

    def post(self, url: str, json: Any = None, **kwargs: Any) -> Any:
        return self.http.post(url, json=json, headers=self.headers(), **kwargs)

    def put(self, url: str, **kwargs: Any) -> Any:
        return self.http.put(url, headers=self.headers(), **kwargs)

    def delete(self, url: str) -> Any:
        return self.http.delete(url, headers=self.headers())


def publication(identity: Identity) -> dict[str, str]:
    """The body of POST /api/v1/keys for an identity."""
    return {
        "key_id": identity.key_id,
        "sign_pk": b64(identity.sign_pk),
        "box_pk": b64(identity.box_pk),
        "created_at": identity.created_at,
        "pub_sig": b64(identity.publication_signature()),
    }


def body(text: str = "Kunnen jullie maandag een intake doen?", **changes: Any) -> dict[str, Any]:
    """A message body as the compose form produces it."""
    values: dict[str, Any] = {
        "tlp": "TLP:AMBER",
        "subject": "Doorverwijzing",
        "body": text,
        "form": None,
        "attachments": [],
        "prev": None,
    }
    values.update(changes)
    return values


def sealed(sender: Person, *recipients: Person, text: str = "hallo", **options: Any) -> dict:
    """A fresh envelope from ``sender`` to ``recipients`` (wire form)."""
    keys = [person.identity.public() for person in recipients]
    return seal(sender.identity, keys, body(text), **options).to_json()


@pytest.fixture
def organisations(db_session) -> dict[str, Organization]:
    """Two organisations of the network, A (Belgian) and B (Dutch)."""
    made = {
        "A": Organization(ref="be-payoke", name="Payoke", country="BE", org_type="ngo"),
        "B": Organization(ref="nl-comensha", name="CoMensha", country="NL", org_type="ngo"),
    }
    db_session.add_all(made.values())
    db_session.commit()
    return made


@pytest.fixture
def make_person(app, make_user, sign_in, organisations):
    """Factory: a person of organisation A or B with a signed-in client and a published key."""

    def factory(org: str = "A", role: Role = Role.CONTACT_POINT, publish: bool = True) -> Person:
        user = make_user(role, organizations=[organisations[org]])
        http = app.test_client()
        csrf = sign_in(http, user)
        person = Person(user, generate(user.id), http, csrf)
        if publish:
            response = person.post("/api/v1/keys", json=publication(person.identity))
            assert response.status_code == 201, response.get_json()
        return person

    return factory
