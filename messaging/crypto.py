"""The relay's cryptographic checks (envelope v1, ../shared/specs/envelope-v1.md), as plain
functions. The only server module that touches PyNaCl; it reuses the client library's single
implementation of pack, H and Sign rather than writing them twice."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from liaison_client import identity
from liaison_client.encoding import b64, is_time, is_uuid, sign, unb64, verify
from liaison_client.envelope import (
    Envelope,
    Wrap,
    ciphertext_hash,
    header_hash,
    parse_envelope,
    signature_valid,
    wraps_hash,
)
from liaison_client.errors import CryptoError, EnvelopeError, KeyLogError
from liaison_client.identity import (
    PublicKey,
    fingerprint,
    key_fingerprint,
    key_id,
    public_key_from_b64,
    signing_keypair,
)
from liaison_client.keylog import GENESIS, SignedHead, next_head, parse_entry, sign_head

__all__ = [
    "GENESIS", "CryptoError", "Envelope", "EnvelopeError", "KeyLogError", "PublicKey",
    "SignedHead", "attest", "check_envelope", "check_publication", "fingerprint",
    "key_fingerprint", "key_id", "log_entry", "log_head", "log_keypair_from_seed", "next_head",
    "parse_entry", "parse_envelope_bytes", "sign_head", "sign_log_head", "signing_keypair",
    "verify_attestation", "verify_envelope", "verify_publication", "verify_revocation",
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
    if not identity.verify_publication(key, unb64(pub_sig, 64, "pub_sig")):
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


# Byte-level forms of the same operations, for the relay's services that hold raw columns.


def verify_publication(
    user_id: str, sign_pk: bytes, box_pk: bytes, created_at: str, pub_sig: bytes
) -> bool:
    """Whether ``pub_sig`` is the key's own proof over user id, key id, box_pk and created_at."""
    return identity.verify_publication(PublicKey(user_id, sign_pk, box_pk, created_at), pub_sig)


def verify_revocation(
    user_id: str, key_id_text: str, sign_pk: bytes, at: str, signature: bytes
) -> bool:
    """Whether the key itself signed its revocation at ``at``."""
    return verify(sign_pk, signature, "liaison/v1/revoke", user_id, key_id_text, at)


def attest(  # noqa: PLR0917 - mirrors the spec's field order
    root_sk: bytes, user_id: str, key_id_text: str, sign_pk: bytes, box_pk: bytes,
    valid_until: str,
) -> bytes:  # fmt: skip
    """The secretariat's attestation signature over a person's key."""
    return sign(root_sk, "liaison/v1/attest", user_id, key_id_text, sign_pk, box_pk, valid_until)


def verify_attestation(  # noqa: PLR0917 - mirrors the spec's field order
    root_pk: bytes, user_id: str, key_id_text: str, sign_pk: bytes, box_pk: bytes,
    valid_until: str, attest_sig: bytes,
) -> bool:  # fmt: skip
    """Whether the root key attested this key until ``valid_until``."""
    return verify(
        root_pk, attest_sig, "liaison/v1/attest", user_id, key_id_text, sign_pk, box_pk,
        valid_until,
    )  # fmt: skip


def verify_envelope(  # noqa: PLR0917 - mirrors the spec's field order
    sign_pk: bytes, header_bytes: bytes, nonce: bytes, ciphertext: bytes,
    wraps: Sequence[tuple[str, str, bytes]], sig: bytes,
) -> bool:  # fmt: skip
    """Whether ``sig`` covers exactly this header, ciphertext and set of wraps."""
    signed = (
        header_hash(header_bytes), ciphertext_hash(nonce, ciphertext),
        wraps_hash([Wrap(to, wrap_key_id, box) for to, wrap_key_id, box in wraps]),
    )  # fmt: skip
    return verify(sign_pk, sig, "liaison/v1/envelope", *signed)


def log_keypair_from_seed(seed: bytes) -> tuple[bytes, bytes]:
    """The key log's Ed25519 pair (secret 64 B, public 32 B) from its stored 32-byte seed."""
    return identity.signing_keypair_from_seed(seed)


def log_head(previous: bytes, entry_bytes: bytes) -> bytes:
    """The head after appending ``entry_bytes``."""
    return next_head(previous, entry_bytes)


def sign_log_head(log_sk: bytes, seq: int, head: bytes) -> bytes:
    """The log key's signature over (seq, head)."""
    return sign_head(log_sk, seq, head).sig
