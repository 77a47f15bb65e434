"""Key directory: publication proofs, rotation, revocation, the key log, attestations, look-ups."""

from __future__ import annotations

import base64

import pytest
from click.testing import CliRunner
from liaison_client.encoding import b64, unb64
from liaison_client.identity import generate, revoke, verify_attestation
from liaison_client.keylog import parse_signed_head, verify_extension
from sqlalchemy import func, select

from accounts.models import Role
from core.cli import cli
from messaging.models import IdentityKey, KeyLogEntry
from tests.messaging.conftest import publication


def _log(person) -> dict:
    return person.get("/api/v1/key-log").get_json()


def _entries(page: dict) -> list[bytes]:
    return [unb64(item["entry"]) for item in page["entries"]]


def test_publishing_with_a_bad_publication_signature_is_refused(make_person, db_session):
    anna = make_person(publish=False)
    offered = publication(anna.identity)
    offered["pub_sig"] = b64(generate(anna.id).publication_signature())

    response = anna.post("/api/v1/keys", json=offered)

    assert (response.status_code, response.get_json()["check"]) == (
        422,
        "bad-publication-signature",
    )
    assert db_session.scalar(select(func.count()).select_from(IdentityKey)) == 0
    assert db_session.scalar(select(func.count()).select_from(KeyLogEntry)) == 0


def test_publishing_someone_elses_key_as_your_own_is_refused(make_person):
    anna, bram = make_person(publish=False), make_person()

    response = anna.post("/api/v1/keys", json=publication(bram.identity))

    assert response.status_code == 422


def test_a_key_id_that_does_not_match_the_keys_is_refused(make_person):
    anna = make_person(publish=False)
    offered = dict(publication(anna.identity), key_id=generate(anna.id).key_id)

    response = anna.post("/api/v1/keys", json=offered)

    assert (response.status_code, response.get_json()["check"]) == (422, "key-id-mismatch")


@pytest.mark.parametrize("field", ["sign_pk", "box_pk", "pub_sig", "created_at", "key_id"])
def test_a_missing_or_malformed_key_field_is_a_clear_400(make_person, field):
    anna = make_person(publish=False)
    offered = dict(publication(anna.identity), **{field: "AAAA="})

    response = anna.post("/api/v1/keys", json=offered)

    assert response.status_code == 400
    assert field in response.get_json()["detail"]


def test_a_persons_keys_show_current_key_fingerprint_and_older_keys(make_person):
    anna, bram = make_person(), make_person()
    old = anna.identity
    anna.identity = generate(anna.id)
    assert anna.post("/api/v1/keys", json=publication(anna.identity)).status_code == 201

    shown = bram.get(f"/api/v1/users/{anna.id}/keys").get_json()

    assert shown["current"]["key_id"] == anna.identity.key_id
    assert shown["current"]["fingerprint"] == anna.identity.public().fingerprint
    assert shown["current"]["attestation"] is None
    assert [k["key_id"] for k in shown["keys"]] == [anna.identity.key_id, old.key_id]
    assert [k["current"] for k in shown["keys"]] == [True, False]


def test_publishing_the_current_key_again_is_idempotent_but_an_old_key_cannot_return(make_person):
    anna = make_person()
    old = anna.identity

    again = anna.post("/api/v1/keys", json=publication(old))
    anna.post("/api/v1/keys", json=publication(generate(anna.id)))
    back = anna.post("/api/v1/keys", json=publication(old))

    assert again.status_code == 200
    assert (back.status_code, back.get_json()["check"]) == (409, "key-reused")


def test_the_key_log_chain_extends_the_head_a_client_remembered(make_person):
    anna, bram = make_person(), make_person()
    first = _log(bram)
    log_pk = unb64(first["log_pk"], 32)
    remembered = parse_signed_head(first["head"], log_pk)
    verify_extension(None, _entries(first), remembered)
    assert remembered.seq == 2

    anna.identity = generate(anna.id)
    anna.post("/api/v1/keys", json=publication(anna.identity))
    later = bram.get(f"/api/v1/key-log?since={remembered.seq}").get_json()
    new_head = parse_signed_head(later["head"], log_pk)
    parsed = verify_extension(remembered, _entries(later), new_head)

    assert [(e["event"], e["user"], e["key_id"]) for e in parsed] == [
        ("publish", anna.id, anna.identity.key_id)
    ]
    for item in later["entries"]:
        parse_signed_head(item["signed_head"], log_pk)  # every entry's head is signed


def test_the_key_log_head_route_serves_the_latest_signed_head(make_person):
    anna = make_person()

    head = anna.get("/api/v1/key-log/head").get_json()

    assert parse_signed_head(head["head"], unb64(head["log_pk"], 32)).seq == 1


def test_a_key_revokes_itself_and_the_log_records_it(make_person):
    anna, bram = make_person(), make_person()
    at = "2026-11-28T01:00:00Z"
    proof = b64(revoke(anna.identity, at))

    forged = anna.post(
        f"/api/v1/keys/{anna.identity.key_id}/revoke",
        json={"at": at, "sig": b64(revoke(generate(anna.id), at))},
    )
    revoked = anna.post(
        f"/api/v1/keys/{anna.identity.key_id}/revoke", json={"at": at, "sig": proof}
    )

    assert forged.status_code == 422
    assert revoked.status_code == 200
    shown = bram.get(f"/api/v1/users/{anna.id}/keys").get_json()
    assert shown["current"] is None
    assert shown["keys"][0]["revoked_at"] is not None
    last = unb64(_log(bram)["entries"][-1]["entry"])
    assert b'"event":"revoke"' in last


def test_the_secretariat_attests_a_key_from_the_command_line(
    make_person, settings, tmp_path, db_session
):
    anna, bram = make_person(), make_person()
    runner = CliRunner()
    env = {
        "LIAISON_ENV": "test",
        "LIAISON_DATA_DIR": str(settings.data_dir),
        "LIAISON_DATABASE_URL": settings.database_url,
        "LIAISON_SECRET_KEY": settings.secret_key,
    }
    root_file = tmp_path / "root.key"

    created = runner.invoke(cli, ["keys", "new-root-key", str(root_file)], env=env)
    attested = runner.invoke(
        cli,
        ["keys", "attest", "--user", anna.user.email, "--root-key", str(root_file)],
        env=env,
    )

    assert created.exit_code == 0, created.output
    assert attested.exit_code == 0, attested.output
    assert anna.identity.public().fingerprint in attested.output
    root_pk = unb64(created.output.split("root public key: ")[1].split()[0], 32)
    shown = bram.get(f"/api/v1/users/{anna.id}/keys").get_json()["current"]["attestation"]
    assert shown["root_pk"] == b64(root_pk)
    assert verify_attestation(
        root_pk, anna.identity.public(), shown["valid_until"], unb64(shown["sig"], 64)
    )
    assert b'"event":"attest"' in unb64(_log(bram)["entries"][-1]["entry"])
    assert oct(root_file.stat().st_mode & 0o777) == "0o600"
    from core.audit import AuditEntry

    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "attest_key")).one()
    assert (entry.entity_id, entry.new_value) == (anna.id, anna.identity.key_id)


def test_attest_explains_an_unknown_person_and_a_bad_root_key(make_person, settings, tmp_path):
    runner = CliRunner()
    env = {
        "LIAISON_ENV": "test",
        "LIAISON_DATA_DIR": str(settings.data_dir),
        "LIAISON_DATABASE_URL": settings.database_url,
        "LIAISON_SECRET_KEY": settings.secret_key,
    }
    bad = tmp_path / "bad.key"
    bad.write_text("not a key")
    good = tmp_path / "root.key"
    runner.invoke(cli, ["keys", "new-root-key", str(good)], env=env)

    nobody = runner.invoke(
        cli, ["keys", "attest", "--user", "nobody@example.org", "--root-key", str(good)], env=env
    )
    broken = runner.invoke(
        cli, ["keys", "attest", "--user", "x@example.org", "--root-key", str(bad)], env=env
    )

    assert nobody.exit_code != 0
    assert "no person" in nobody.output
    assert broken.exit_code != 0
    assert "root key" in broken.output


def test_an_organisations_recipients_are_its_contact_points_with_keys(make_person, organisations):
    asker = make_person("A")
    contact = make_person("B", role=Role.CONTACT_POINT)
    without_key = make_person("B", role=Role.CONTACT_POINT, publish=False)
    make_person("B", role=Role.MEMBER)

    listed = asker.get(f"/api/v1/organizations/{organisations['B'].id}/recipients").get_json()

    by_user = {r["user"]: r for r in listed["recipients"]}
    assert set(by_user) == {contact.id, without_key.id}
    assert by_user[contact.id]["key"]["key_id"] == contact.identity.key_id
    assert by_user[without_key.id]["key"] is None
    unknown = asker.get("/api/v1/organizations/00000000-0000-4000-8000-000000000000/recipients")
    assert unknown.status_code == 404


def test_a_person_is_found_by_exact_email(make_person):
    anna, bram = make_person(), make_person()

    found = anna.get(f"/api/v1/users/lookup?email={bram.user.email.upper()}").get_json()
    missing = anna.get("/api/v1/users/lookup?email=nobody@example.org")

    assert found["current"]["key_id"] == bram.identity.key_id
    assert missing.status_code == 404


def test_key_lookups_are_rate_limited(app, make_person):
    anna, bram = make_person(), make_person()
    app.extensions["liaison.messaging.limiters"]["lookup"].per_minute = 3
    # one minute for every look-up (a window boundary in between would start a fresh count)
    app.extensions["liaison.messaging.limiters"]["lookup"].clock = lambda: 1_800_000_010.0

    statuses = [anna.get(f"/api/v1/users/{bram.id}/keys").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    other = bram.get(f"/api/v1/users/{anna.id}/keys")
    assert other.status_code == 200  # the limit is per person


def test_the_log_key_command_prints_the_served_log_key(make_person, settings):
    anna = make_person()
    env = {
        "LIAISON_ENV": "test",
        "LIAISON_DATA_DIR": str(settings.data_dir),
        "LIAISON_DATABASE_URL": settings.database_url,
        "LIAISON_SECRET_KEY": settings.secret_key,
    }

    printed = CliRunner().invoke(cli, ["keys", "log-key"], env=env).output.strip()

    assert printed == _log(anna)["log_pk"]
    assert len(base64.urlsafe_b64decode(printed + "=")) == 32


def test_a_person_sees_their_own_key_and_backup_version(make_person):
    anna = make_person()
    fresh = make_person(publish=False)

    mine = anna.get("/api/v1/keys/me").get_json()

    assert mine["user"] == anna.id
    assert mine["current"]["key_id"] == anna.identity.key_id
    assert mine["backup_version"] is None
    assert fresh.get("/api/v1/keys/me").get_json()["current"] is None
