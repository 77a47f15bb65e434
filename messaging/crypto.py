"""The relay's cryptographic checks (envelope v1, ../shared/specs/envelope-v1.md), as plain
functions. The only server module that touches PyNaCl; it reuses the client library's single
implementation of pack, H and Sign rather than writing them twice."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from client.encoding import b64, is_time, is_uuid, unb64
from client.envelope import Envelope, parse_envelope, signature_valid
from client.errors import CryptoError, EnvelopeError, KeyLogError
from client.identity import (
    PublicKey,
    attest,
    fingerprint,
    key_id,
    public_key_from_b64,
    signing_keypair,
    verify_attestation,
    verify_publication,
    verify_revocation,
)
from client.keylog import GENESIS, SignedHead, next_head, parse_entry, sign_head

__all__ = [
    "GENESIS", "CryptoError", "Envelope", "EnvelopeError", "KeyLogError", "PublicKey", "SignedHead",
    "attest", "check_envelope", "check_publication", "fingerprint", "key_id", "log_entry",
    "next_head", "parse_entry", "parse_envelope_bytes", "sign_head", "signing_keypair",
    "verify_attestation", "verify_revocation",
]  # fmt: skip

MAX_ENVELOPE_BYTES = 2 * 1024 * 1024


def parse_envelope_bytes(raw: bytes, max_bytes: int = MAX_ENVELOPE_BYTES) -> Envelope:
    """Parse a posted envelope: size limit, JSON, then every field at its exact size."""
    if len(raw) > max_bytes:
        raise EnvelopeError("too-large", f"an envelope may be at most {max_bytes} bytes")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise EnvelopeError("malformed", "the envelope is not UTF-8 JSON") from error
    return parse_envelope(data)


def check_envelope(
    envelope: Envelope, *, sender_id: str, sender_key: PublicKey,
    current_key_ids: Mapping[str, str],
) -> None:  # fmt: skip
    """The server checks of §3 that need no database: ``sender_id`` is the authenticated person,
    ``sender_key`` their current key, ``current_key_ids`` maps every addressed person the relay
    found (and may deliver to) to their current key id. Raises EnvelopeError naming the fault."""
    header = envelope.header
    if header["sender"] != sender_id or sender_key.user_id != sender_id:
        raise EnvelopeError("wrong-sender", "the sender is not the signed-in person")
    if header["sender_key"] != sender_key.key_id:
        raise EnvelopeError("stale-sender-key", "the message is not sealed with the current key")
    readers = {*envelope.recipients, sender_id}
    unknown = [user for user in envelope.recipients if user not in current_key_ids]
    if unknown:
        raise EnvelopeError("unknown-recipient", f"cannot deliver to {', '.join(unknown)}")
    wrapped = {wrap.to: wrap.key_id for wrap in envelope.wraps}
    if readers - set(wrapped):
        raise EnvelopeError("missing-wrap", "a recipient or the sender has no wrap")
    if set(wrapped) - readers:
        raise EnvelopeError("extra-wrap", "a wrap is for someone not addressed")
    expected = {**current_key_ids, sender_id: sender_key.key_id}
    stale = sorted(user for user, wrap_key in wrapped.items() if wrap_key != expected[user])
    if stale:
        raise EnvelopeError("stale-recipient-key", f"not sealed to the current key of {stale[0]}")
    if not signature_valid(envelope, sender_key.sign_pk):
        raise EnvelopeError("bad-signature", "the signature does not verify with the sender's key")


def check_publication(
    user_id: str, sign_pk: str, box_pk: str, created_at: str, pub_sig: str
) -> PublicKey:
    """A public identity offered for publication, accepted only with its valid ``pub_sig``."""
    key = public_key_from_b64(user_id, sign_pk, box_pk, created_at)
    if not verify_publication(key, unb64(pub_sig, 64, "pub_sig")):
        raise CryptoError("bad-signature", "pub_sig does not verify with the offered key")
    return key


def log_entry(seq: int, at: str, event: str, key: PublicKey, proof: bytes) -> bytes:
    """The exact bytes of a key-log entry (§6); the chain hashes these bytes."""
    if not is_time(at) or not is_uuid(key.user_id) or seq < 1:
        raise KeyLogError("malformed", "entry needs a positive seq, a UTC time and a user id")
    entry: dict[str, Any] = {
        "seq": seq, "at": at, "event": event, "user": key.user_id, "key_id": key.key_id,
        "sign_pk": b64(key.sign_pk), "box_pk": b64(key.box_pk), "proof": b64(proof),
    }  # fmt: skip
    raw = json.dumps(entry, separators=(",", ":")).encode("utf-8")
    parse_entry(raw)
    return raw
