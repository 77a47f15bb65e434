"""POST /api/v1/messages: every server check of spec §3, idempotency, nothing stored on failure."""

from __future__ import annotations

import dataclasses
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from liaison_client.encoding import b64
from liaison_client.envelope import Wrap, envelope_signature, parse_envelope
from liaison_client.identity import generate
from liaison_client.messages import seal
from sqlalchemy import func, select

from core.db import utcnow
from messaging.envelopes import format_time
from messaging.models import Delivery, Envelope
from tests.client.conftest import load_vectors
from tests.messaging.conftest import body, publication, sealed


def resign(envelope: dict, identity, wraps=None) -> dict:
    """The envelope with other wraps (if given), signed again by ``identity``."""
    parsed = parse_envelope(envelope)
    if wraps is not None:
        parsed = dataclasses.replace(parsed, wraps=tuple(wraps))
    signature = envelope_signature(identity.sign_sk, *parsed.signed_fields())
    return dataclasses.replace(parsed, sig=signature).to_json()


def stored_counts(db_session) -> tuple[int, int]:
    db_session.expire_all()
    envelopes = db_session.scalar(select(func.count()).select_from(Envelope))
    copies = db_session.scalar(select(func.count()).select_from(Delivery))
    return envelopes, copies


@pytest.fixture
def trio(make_person):
    """Anna and Bram of organisation A, Chloé of organisation B."""
    return make_person("A"), make_person("A"), make_person("B")


def test_relay_stores_an_envelope_once_with_a_copy_per_recipient_and_sender(trio, db_session):
    anna, bram, chloe = trio
    envelope = sealed(anna, bram, chloe)

    response = anna.post("/api/v1/messages", json=envelope)

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["created"] is True
    assert stored_counts(db_session) == (1, 3)
    listed = bram.get("/api/v1/messages").get_json()["messages"]
    assert [m["envelope"] for m in listed] == [envelope]


def test_relay_accepts_the_same_envelope_again_as_an_idempotent_success(trio, db_session):
    anna, bram, _ = trio
    envelope = sealed(anna, bram)
    first = anna.post("/api/v1/messages", json=envelope)

    again = anna.post("/api/v1/messages", json=envelope)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["created"] is False
    assert again.get_json()["id"] == first.get_json()["id"]
    assert stored_counts(db_session) == (1, 2)


def test_relay_refuses_a_reused_id_with_other_bytes(trio, db_session):
    anna, bram, _ = trio
    message_id = str(uuid.uuid4())
    original = sealed(anna, bram, text="first", message_id=message_id)
    assert anna.post("/api/v1/messages", json=original).status_code == 201

    response = anna.post(
        "/api/v1/messages", json=sealed(anna, bram, text="second", message_id=message_id)
    )

    assert response.status_code == 409
    assert response.get_json()["check"] == "id-conflict"
    fetched = bram.get(f"/api/v1/messages/{message_id}").get_json()
    assert fetched["envelope"] == original


def test_relay_refuses_a_forged_signature(trio, db_session):
    anna, bram, _ = trio
    envelope = sealed(anna, bram)
    forged = dict(envelope, sig=b64(bytes(64)))

    response = anna.post("/api/v1/messages", json=forged)

    assert response.status_code == 422
    assert response.get_json()["check"] == "bad-signature"
    assert stored_counts(db_session) == (0, 0)


def test_relay_refuses_an_envelope_signed_by_another_key_than_the_named_sender(trio, db_session):
    anna, bram, _ = trio
    impostor = generate(anna.id)

    response = anna.post("/api/v1/messages", json=resign(sealed(anna, bram), impostor))

    assert response.status_code == 422
    assert response.get_json()["check"] == "bad-signature"
    assert stored_counts(db_session) == (0, 0)


def test_relay_refuses_a_sender_posing_as_someone_else(trio, db_session):
    anna, bram, _ = trio
    written_by_anna = sealed(anna, bram)

    response = bram.post("/api/v1/messages", json=written_by_anna)

    assert response.status_code == 403
    assert response.get_json()["check"] == "wrong-sender"
    assert stored_counts(db_session) == (0, 0)


def test_relay_refuses_a_missing_wrap_even_when_signed(trio, db_session):
    anna, bram, chloe = trio
    envelope = sealed(anna, bram, chloe)
    wraps = [w for w in parse_envelope(envelope).wraps if w.to != chloe.id]

    response = anna.post("/api/v1/messages", json=resign(envelope, anna.identity, wraps))

    assert response.status_code == 422
    assert response.get_json()["check"] == "missing-wrap"
    assert stored_counts(db_session) == (0, 0)


def test_relay_refuses_an_extra_wrap_for_someone_not_addressed(trio, db_session):
    anna, bram, chloe = trio
    envelope = sealed(anna, bram)
    parsed = parse_envelope(envelope)
    extra = Wrap(chloe.id, chloe.identity.key_id, parsed.wraps[0].box)

    response = anna.post(
        "/api/v1/messages", json=resign(envelope, anna.identity, [*parsed.wraps, extra])
    )

    assert response.status_code == 422
    assert response.get_json()["check"] == "extra-wrap"
    assert stored_counts(db_session) == (0, 0)


def test_relay_refuses_a_wrap_to_a_recipients_old_key(trio, db_session):
    anna, bram, _ = trio
    old_key = bram.identity.public()
    bram.identity = generate(bram.id)
    assert bram.post("/api/v1/keys", json=publication(bram.identity)).status_code == 201
    envelope = seal(anna.identity, [old_key], body()).to_json()  # Anna still pins the old key

    response = anna.post("/api/v1/messages", json=envelope)

    assert response.status_code == 422
    assert response.get_json()["check"] == "stale-recipient-key"
    assert bram.id in response.get_json()["detail"]
    assert stored_counts(db_session) == (0, 0)


def test_relay_refuses_a_message_sealed_with_the_senders_old_key(trio, db_session):
    anna, bram, _ = trio
    old_identity = anna.identity
    anna.identity = generate(anna.id)
    assert anna.post("/api/v1/keys", json=publication(anna.identity)).status_code == 201
    anna.identity = old_identity

    response = anna.post("/api/v1/messages", json=sealed(anna, bram))

    assert response.status_code == 422
    assert response.get_json()["check"] == "stale-sender-key"


def test_relay_refuses_unknown_recipients_and_people_without_a_key(trio, make_person, db_session):
    anna, bram, _ = trio
    keyless = make_person("A", publish=False)
    stranger = generate(str(uuid.uuid4()))
    to_stranger = seal(anna.identity, [bram.identity.public(), stranger.public()], body())
    to_keyless = seal(anna.identity, [generate(keyless.id).public()], body())

    unknown = anna.post("/api/v1/messages", json=to_stranger.to_json())
    cannot = anna.post("/api/v1/messages", json=to_keyless.to_json())

    assert (unknown.status_code, unknown.get_json()["check"]) == (422, "unknown-recipient")
    assert (cannot.status_code, cannot.get_json()["check"]) == (422, "recipient-cannot-receive")
    assert stored_counts(db_session) == (0, 0)


def test_relay_refuses_a_recipient_whose_account_was_disabled(trio, db_session):
    anna, bram, _ = trio
    bram.user.is_active = False
    db_session.merge(bram.user)
    db_session.commit()

    response = anna.post("/api/v1/messages", json=sealed(anna, bram))

    assert response.get_json()["check"] == "unknown-recipient"


@pytest.mark.parametrize(
    ("days", "check"),
    [(31, "expiry-too-late"), (-1, "expired")],
)
def test_relay_refuses_an_expiry_beyond_the_maximum_or_in_the_past(trio, db_session, days, check):
    anna, bram, _ = trio
    expires = format_time(utcnow() + timedelta(days=days))

    response = anna.post("/api/v1/messages", json=sealed(anna, bram, expires_at=expires))

    assert (response.status_code, response.get_json()["check"]) == (422, check)
    assert stored_counts(db_session) == (0, 0)


def test_relay_gives_a_message_without_expiry_the_default_lifetime(trio):
    anna, bram, _ = trio

    response = anna.post("/api/v1/messages", json=sealed(anna, bram))

    expires = response.get_json()["expires_at"]
    expected = utcnow() + timedelta(days=30)
    assert expires[:10] == format_time(expected)[:10]


def test_relay_refuses_an_unknown_organisation_in_to_org(trio, organisations, db_session):
    anna, bram, _ = trio
    unknown = anna.post("/api/v1/messages", json=sealed(anna, bram, to_org=str(uuid.uuid4())))
    known = anna.post("/api/v1/messages", json=sealed(anna, bram, to_org=organisations["A"].id))

    assert (unknown.status_code, unknown.get_json()["check"]) == (422, "unknown-organisation")
    assert known.status_code == 201


@pytest.mark.parametrize("name", ["padded base64", "unknown version"])
def test_relay_refuses_malformed_vectors_with_a_clear_400(trio, name, db_session):
    anna = trio[0]
    vector = next(v for v in load_vectors()["invalid"] if v["name"] == name)

    response = anna.post("/api/v1/messages", json=vector["envelope"])

    assert response.status_code == 400
    assert response.get_json()["detail"]
    assert stored_counts(db_session) == (0, 0)


@pytest.mark.parametrize(
    "raw",
    [b"not json", b"[]", b'{"v": 1}', b'{"envelope": 5}', b'{"v":1,"v":1}'],
)
def test_relay_answers_garbage_with_400_json_not_500(trio, raw):
    anna = trio[0]

    response = anna.http.post(
        "/api/v1/messages", data=raw, headers=anna.headers(), content_type="application/json"
    )

    assert response.status_code == 400
    assert response.is_json
    assert response.get_json()["check"]


def test_relay_refuses_a_header_that_lies_about_its_recipients(trio, db_session):
    anna, bram, chloe = trio
    envelope = sealed(anna, bram)
    header = json.loads(parse_envelope(envelope).header_bytes)
    header["to"] = [chloe.id]
    tampered = dict(envelope, header=b64(json.dumps(header).encode()))

    response = anna.post("/api/v1/messages", json=tampered)

    assert response.status_code == 422
    assert stored_counts(db_session) == (0, 0)


def test_relay_requires_a_signed_in_caller(client, trio):
    anna, bram, _ = trio

    response = client.post("/api/v1/messages", json=sealed(anna, bram))

    assert response.status_code in {400, 401}  # CSRF (no session) or sign-in
    assert client.get("/api/v1/messages").status_code == 401


def test_relay_rate_limits_sending(app, trio):
    anna, bram, _ = trio
    app.extensions["liaison.messaging.limiters"]["send"].per_minute = 2
    app.extensions["liaison.messaging.limiters"]["send"].clock = lambda: 1_800_000_010.0

    statuses = [
        anna.post("/api/v1/messages", json=sealed(anna, bram)).status_code for _ in range(3)
    ]

    assert statuses == [201, 201, 429]
    refused = anna.post("/api/v1/messages", json=sealed(anna, bram))
    assert refused.get_json()["check"] == "rate-limited"
    assert int(refused.headers["Retry-After"]) >= 1


def test_the_relay_routes_are_described_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]

    assert {"/messages", "/messages/{id}", "/blobs", "/keys", "/key-log"} <= set(paths)


def test_the_same_envelope_posted_concurrently_is_stored_exactly_once(
    app, trio, db_session, sign_in
):
    anna, bram, _ = trio
    envelope = sealed(anna, bram)
    clients = []
    for _ in range(6):
        client = app.test_client()
        clients.append((client, sign_in(client, anna.user)))

    def post(pair):
        client, csrf = pair
        return client.post(
            "/api/v1/messages", json=envelope, headers={"X-CSRF-Token": csrf}
        ).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = sorted(pool.map(post, clients))

    assert statuses == [200] * 5 + [201]
    assert stored_counts(db_session) == (1, 2)
