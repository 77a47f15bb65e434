"""Sealing and opening messages (§3). Opening runs every check of the spec in order; any failure
rejects the whole message with a named reason and no plaintext."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nacl import bindings
from nacl.exceptions import CryptoError as NaclCryptoError

from liaison_client.body import check_body
from liaison_client.encoding import is_uuid, loads, now, same
from liaison_client.envelope import (
    PAD_BLOCK,
    VERSION,
    Envelope,
    Wrap,
    ciphertext_hash,
    envelope_signature,
    header_hash,
    parse_envelope,
    signature_valid,
    wraps_hash,
)
from liaison_client.errors import EnvelopeError
from liaison_client.identity import Identity, PublicKey


@dataclass(frozen=True)
class OpenedMessage:
    """A message that passed every check: its header, its body and its header hash."""

    header: dict[str, Any]
    body: dict[str, Any]
    hh: bytes
    # Who the relay says the (checked) sender is, for people to read; not part of the envelope.
    sender_name: str | None = None
    sender_organizations: tuple[str, ...] = ()


def _json_bytes(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def seal(
    sender: Identity,
    recipients: Sequence[PublicKey],
    body: dict[str, Any],
    *,
    kind: str = "message",
    thread: str | None = None,
    to_org: str | None = None,
    expires_at: str | None = None,
    message_id: str | None = None,
    created_at: str | None = None,
) -> Envelope:
    """Encrypt ``body`` for ``recipients`` and for the sender's own current key."""
    to = [key.user_id for key in recipients]
    if not to or len(set(to)) != len(to):
        raise EnvelopeError("malformed", "recipients must be distinct and not empty")
    message_id = message_id or str(uuid.uuid4())
    header = {
        "v": VERSION, "id": message_id, "thread": thread or message_id, "kind": kind,
        "sender": sender.user_id, "sender_key": sender.key_id, "to": to, "to_org": to_org,
        "created_at": created_at or now(), "expires_at": expires_at,
    }  # fmt: skip
    check_body(kind, body)
    header_bytes = _json_bytes(header)
    hh = header_hash(header_bytes)
    content_key = secrets.token_bytes(32)
    nonce = secrets.token_bytes(24)
    padded = bindings.sodium_pad(_json_bytes(body), PAD_BLOCK)
    ciphertext = bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(padded, hh, nonce, content_key)
    readers = {key.user_id: key for key in recipients}
    readers.setdefault(sender.user_id, sender.public())
    wraps = tuple(
        Wrap(key.user_id, key.key_id, bindings.crypto_box_seal(content_key + hh, key.box_pk))
        for key in readers.values()
    )
    sig = envelope_signature(
        sender.sign_sk, hh, ciphertext_hash(nonce, ciphertext), wraps_hash(wraps)
    )
    envelope = Envelope(header_bytes, header, nonce, ciphertext, wraps, sig)
    parse_envelope(envelope.to_json())  # what we send must pass our own strict parser
    return envelope


def open_message(
    data: object | Envelope, reader: Identity | Sequence[Identity], sender_key: PublicKey
) -> OpenedMessage:
    """Open an envelope as ``reader`` (current key first, older keys after), trusting only the
    sender's pinned ``sender_key``."""
    envelope = data if isinstance(data, Envelope) else parse_envelope(data)
    keys = [reader] if isinstance(reader, Identity) else list(reader)
    if not keys or not is_uuid(keys[0].user_id):
        raise EnvelopeError("no-key", "no identity to open with")
    me = keys[0].user_id
    wrap = next((w for w in envelope.wraps if w.to == me), None)
    if wrap is None:
        raise EnvelopeError("not-a-recipient", "no wrap for this reader")
    key = next((k for k in keys if k.key_id == wrap.key_id and k.user_id == me), None)
    if key is None:
        raise EnvelopeError("no-key", "the wrap is for a key this reader does not hold")
    try:
        opened = bindings.crypto_box_seal_open(wrap.box, key.box_pk, key.box_sk)
    except NaclCryptoError as error:
        raise EnvelopeError("bad-wrap", "the wrap does not open with this key") from error
    hh = envelope.hh
    if len(opened) != 64 or not same(opened[32:], hh):
        raise EnvelopeError("header-mismatch", "the wrap was made for another header")
    if (
        envelope.sender != sender_key.user_id
        or envelope.header["sender_key"] != sender_key.key_id
        or not signature_valid(envelope, sender_key.sign_pk)
    ):
        raise EnvelopeError("bad-signature", "not signed by the sender's pinned key")
    if me not in envelope.recipients and me != envelope.sender:
        raise EnvelopeError("not-a-recipient", "this reader is not addressed")
    try:
        padded = bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
            envelope.ciphertext, hh, envelope.nonce, opened[:32]
        )
    except NaclCryptoError as error:
        raise EnvelopeError("bad-ciphertext", "the body does not decrypt") from error
    try:
        body_bytes = bindings.sodium_unpad(padded, PAD_BLOCK)
    except (NaclCryptoError, ValueError) as error:
        raise EnvelopeError("bad-padding", "the body is not padded") from error
    try:
        body = loads(body_bytes)
    except (UnicodeDecodeError, ValueError) as error:
        raise EnvelopeError("malformed-body", "the body is not UTF-8 JSON") from error
    return OpenedMessage(envelope.header, check_body(envelope.header["kind"], body), hh)
