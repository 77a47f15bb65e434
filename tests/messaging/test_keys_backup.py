"""Encrypted key backups: kept verbatim for their owner only, never rolled back or weakened."""

from __future__ import annotations

import copy
import json

import pytest
from liaison_client.backup import open_with_passphrase

from accounts.models import User
from tests.client.conftest import load_vectors


def bundle_for(person, version: int, **changes) -> dict:
    """The vector file's valid bundle, as this person's (the server never opens it)."""
    bundle = copy.deepcopy(load_vectors()["backups"]["valid"])
    bundle.update(user=person.id, version=version, **changes)
    return bundle


def put(person, bundle: dict):
    return person.put(
        "/api/v1/keys/backup", data=json.dumps(bundle), content_type="application/json"
    )


def test_a_backup_is_returned_byte_for_byte_to_its_owner(make_person):
    anna = make_person()
    text = json.dumps(bundle_for(anna, 1))

    stored = anna.put("/api/v1/keys/backup", data=text, content_type="application/json")
    fetched = anna.get("/api/v1/keys/backup")

    assert stored.status_code == 201
    assert fetched.get_data(as_text=True) == text
    assert fetched.headers["Cache-Control"] == "no-store"


def test_the_vector_backup_round_trips_and_still_opens(app, db_session, sign_in):
    vectors = load_vectors()["backups"]
    original = vectors["valid"]
    alice = User(id=original["user"], email="alice@example.org", display_name="Alice")
    db_session.add(alice)
    db_session.commit()
    http = app.test_client()
    csrf = sign_in(http, alice)
    text = json.dumps(original)

    stored = http.put(
        "/api/v1/keys/backup",
        data=text,
        content_type="application/json",
        headers={"X-CSRF-Token": csrf},
    )
    fetched = http.get("/api/v1/keys/backup").get_json()

    assert stored.status_code == 201
    restored = open_with_passphrase(fetched, vectors["passphrase"])
    assert [identity.key_id for identity in restored] == vectors["expected_key_ids"]


def test_a_lower_or_equal_version_with_other_content_is_refused_as_rollback(make_person):
    anna = make_person()
    assert put(anna, bundle_for(anna, 3)).status_code == 201

    lower = put(anna, bundle_for(anna, 2))
    same_version = put(anna, bundle_for(anna, 3, nonce="A" * 32))
    identical = put(anna, bundle_for(anna, 3))
    higher = put(anna, bundle_for(anna, 4))

    assert (lower.status_code, lower.get_json()["check"]) == (409, "backup-rollback")
    assert same_version.status_code == 409
    assert identical.status_code == 200
    assert higher.status_code == 201
    assert anna.get("/api/v1/keys/backup").get_json()["version"] == 4


@pytest.mark.parametrize(
    ("change", "check"),
    [
        ({"pass": {"ops": 2}}, "backup-weak-kdf"),
        ({"pass": {"mem": 8192}}, "backup-weak-kdf"),
        ({"pass": {"alg": "argon2i13"}}, "backup-weak-kdf"),
        ({"user": "00000000-0000-4000-8000-000000000000"}, "backup-user"),
        ({"version": 0}, "malformed"),
        ({"nonce": "short"}, "malformed"),
    ],
)
def test_a_weakened_or_foreign_backup_is_refused(make_person, change, check):
    anna = make_person()
    bundle = bundle_for(anna, 1)
    for key, value in change.items():
        if isinstance(value, dict):
            bundle[key] = {**bundle[key], **value}
        else:
            bundle[key] = value

    response = put(anna, bundle)

    assert response.get_json()["check"] == check
    assert response.status_code in {400, 422}
    assert anna.get("/api/v1/keys/backup").status_code == 404


def test_nobody_else_can_fetch_a_backup(make_person):
    anna, bram = make_person(), make_person()
    put(anna, bundle_for(anna, 1))

    assert bram.get("/api/v1/keys/backup").status_code == 404
