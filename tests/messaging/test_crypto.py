"""The relay's crypto checks (messaging.crypto): what the server refuses before storing."""

from __future__ import annotations

import json
import uuid

import pytest
from liaison_client.encoding import b64, unb64
from liaison_client.envelope import envelope_signature
from liaison_client.identity import generate
from liaison_client.messages import seal

from messaging import crypto
from tests.client.conftest import load_vectors, message_body


@pytest.fixture
def trio():
    return [generate(str(uuid.uuid4())) for _ in range(3)]


def _check(envelope, sender, current):
    crypto.check_envelope(
        crypto.parse_envelope_bytes(json.dumps(envelope.to_json()).encode()),
        sender_id=sender.user_id, sender_key=sender.public(), current_key_ids=current,
    )  # fmt: skip


def _current(*people):
    return {p.user_id: p.key_id for p in people}


def test_a_well_formed_envelope_passes_every_server_check(trio) -> None:
    anna, bram, chloe = trio
    _check(seal(anna, [bram.public(), chloe.public()], message_body()), anna, _current(bram, chloe))


def test_a_sender_posing_as_someone_else_is_refused(trio) -> None:
    anna, bram, chloe = trio
    envelope = seal(anna, [bram.public()], message_body())
    with pytest.raises(crypto.EnvelopeError) as error:
        _check(envelope, chloe, _current(bram))
    assert error.value.reason == "wrong-sender"


def test_a_forged_signature_is_refused(trio) -> None:
    anna, bram, _ = trio
    impostor = generate(anna.user_id)
    envelope = seal(anna, [bram.public()], message_body())
    forged_sig = envelope_signature(impostor.sign_sk, *envelope.signed_fields())
    forged = crypto.Envelope(**{**envelope.__dict__, "sig": forged_sig})
    with pytest.raises(crypto.EnvelopeError) as error:
        crypto.check_envelope(forged, sender_id=anna.user_id, sender_key=anna.public(),
                              current_key_ids=_current(bram))  # fmt: skip
    assert error.value.reason == "bad-signature"


def test_a_missing_wrap_and_an_extra_wrap_are_refused(trio) -> None:
    anna, bram, chloe = trio
    envelope = seal(anna, [bram.public()], message_body())
    missing = crypto.Envelope(**{**envelope.__dict__, "wraps": envelope.wraps[:1]})
    with pytest.raises(crypto.EnvelopeError) as error:
        crypto.check_envelope(missing, sender_id=anna.user_id, sender_key=anna.public(),
                              current_key_ids=_current(bram))  # fmt: skip
    assert error.value.reason == "missing-wrap"
    other = seal(anna, [chloe.public()], message_body())
    extra = crypto.Envelope(**{**envelope.__dict__, "wraps": (*envelope.wraps, other.wraps[0])})
    with pytest.raises(crypto.EnvelopeError) as error:
        crypto.check_envelope(extra, sender_id=anna.user_id, sender_key=anna.public(),
                              current_key_ids=_current(bram, chloe))  # fmt: skip
    assert error.value.reason == "extra-wrap"


def test_a_wrap_for_a_recipients_old_key_is_refused(trio) -> None:
    anna, bram, _ = trio
    envelope = seal(anna, [bram.public()], message_body())
    rotated = generate(bram.user_id)
    with pytest.raises(crypto.EnvelopeError) as error:
        _check(envelope, anna, _current(rotated))
    assert error.value.reason == "stale-recipient-key"


def test_an_unknown_recipient_is_refused(trio) -> None:
    anna, bram, _ = trio
    with pytest.raises(crypto.EnvelopeError) as error:
        _check(seal(anna, [bram.public()], message_body()), anna, {})
    assert error.value.reason == "unknown-recipient"


def test_an_oversized_or_malformed_envelope_is_refused_before_parsing() -> None:
    with pytest.raises(crypto.EnvelopeError) as error:
        crypto.parse_envelope_bytes(b"{" + b" " * 100, max_bytes=50)
    assert error.value.reason == "too-large"
    with pytest.raises(crypto.EnvelopeError) as error:
        crypto.parse_envelope_bytes(b"\xff")
    assert error.value.reason == "malformed"


TAMPERED = [v["name"] for v in load_vectors()["invalid"] if v["reader"] == "bob"][:5]


@pytest.mark.parametrize("name", TAMPERED)
def test_the_relay_refuses_every_tampered_vector_by_its_signature(name: str) -> None:
    vectors = load_vectors()
    vector = next(v for v in vectors["invalid"] if v["name"] == name)
    envelope = crypto.parse_envelope_bytes(json.dumps(vector["envelope"]).encode())
    sender = vectors["users"][vector["sender"]]
    ok = crypto.verify_envelope(
        unb64(sender["sign_pk"]),
        envelope.header_bytes,
        envelope.nonce,
        envelope.ciphertext,
        [(w.to, w.key_id, w.box) for w in envelope.wraps],
        envelope.sig,
    )
    assert not ok


def test_the_relay_accepts_the_signature_of_every_valid_vector() -> None:
    vectors = load_vectors()
    for vector in vectors["valid"]:
        envelope = crypto.parse_envelope_bytes(json.dumps(vector["envelope"]).encode())
        sign_pk = unb64(vectors["users"][vector["sender"]]["sign_pk"])
        wraps = [(w.to, w.key_id, w.box) for w in envelope.wraps]
        assert crypto.verify_envelope(sign_pk, envelope.header_bytes, envelope.nonce,
                                      envelope.ciphertext, wraps, envelope.sig)  # fmt: skip


def test_publication_proofs_of_the_vector_users_verify() -> None:
    for user in load_vectors()["users"].values():
        key = crypto.check_publication(user["id"], user["sign_pk"], user["box_pk"],
                                       user["created_at"], user["pub_sig"])  # fmt: skip
        assert key.key_id == user["key_id"]
        assert crypto.verify_publication(user["id"], key.sign_pk, key.box_pk, user["created_at"],
                                         unb64(user["pub_sig"]))  # fmt: skip
        assert not crypto.verify_publication(
            str(uuid.uuid4()), key.sign_pk, key.box_pk, user["created_at"], unb64(user["pub_sig"])
        )


def test_attestation_and_revocation_verify_only_for_their_key(trio) -> None:
    anna, bram, _ = trio
    root_pk, root_sk = crypto.signing_keypair()
    sig = crypto.attest(root_sk, anna.user_id, anna.key_id, anna.sign_pk, anna.box_pk,
                        "2027-01-01T00:00:00Z")  # fmt: skip
    assert crypto.verify_attestation(root_pk, anna.user_id, anna.key_id, anna.sign_pk,
                                     anna.box_pk, "2027-01-01T00:00:00Z", sig)  # fmt: skip
    assert not crypto.verify_attestation(root_pk, bram.user_id, anna.key_id, anna.sign_pk,
                                         anna.box_pk, "2027-01-01T00:00:00Z", sig)  # fmt: skip
    from liaison_client.identity import revoke

    revocation = revoke(anna, "2026-11-28T00:00:00Z")
    assert crypto.verify_revocation(anna.user_id, anna.key_id, anna.sign_pk,
                                    "2026-11-28T00:00:00Z", revocation)  # fmt: skip
    assert not crypto.verify_revocation(anna.user_id, anna.key_id, bram.sign_pk,
                                        "2026-11-28T00:00:00Z", revocation)  # fmt: skip


def test_the_log_signing_key_and_heads_match_the_vectors() -> None:
    log = load_vectors()["key_log"]
    head = crypto.GENESIS
    for entry, expected in zip(log["entries"], log["heads"], strict=True):
        head = crypto.log_head(head, unb64(entry))
        assert b64(head) == expected
    secret, public = crypto.log_keypair_from_seed(bytes(32))
    assert len(secret) == 64
    assert secret[32:] == public
    sig = crypto.sign_log_head(secret, 3, head)
    assert crypto.SignedHead(3, head, sig).to_json()["head"] == log["heads"][-1]
