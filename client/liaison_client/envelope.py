"""The message envelope on the wire (§3): strict parsing with exact sizes, the header, and the
hashes and signature that bind header, ciphertext and wraps together."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from liaison_client.encoding import H, b64, is_time, is_uuid, loads, sign, unb64, verify
from liaison_client.errors import CryptoError, EnvelopeError

VERSION = 1
KINDS = ("message", "referral", "receipt")
NONCE_BYTES = 24
SIG_BYTES = 64
KEY_ID_BYTES = 16
WRAP_PLAINTEXT_BYTES = 64  # CK ‖ hh
WRAP_BYTES = WRAP_PLAINTEXT_BYTES + 48  # crypto_box_seal adds an ephemeral key and a MAC
PAD_BLOCK = 256
AEAD_ABYTES = 16
ENVELOPE_FIELDS = {"v", "header", "nonce", "ciphertext", "wraps", "sig"}
HEADER_FIELDS = {
    "v", "id", "thread", "kind", "sender", "sender_key", "to", "to_org", "created_at", "expires_at",
}  # fmt: skip
MAX_RECIPIENTS = 1000


@dataclass(frozen=True)
class Wrap:
    """The content key, sealed to one recipient's box key."""

    to: str
    key_id: str
    box: bytes


@dataclass(frozen=True)
class Envelope:
    """A parsed envelope: the header's exact bytes and every binary field decoded and sized."""

    header_bytes: bytes
    header: dict[str, Any]
    nonce: bytes
    ciphertext: bytes
    wraps: tuple[Wrap, ...]
    sig: bytes

    @property
    def hh(self) -> bytes:
        """Hash of the header's exact bytes."""
        return header_hash(self.header_bytes)

    @property
    def id(self) -> str:
        """The message id."""
        return str(self.header["id"])

    @property
    def sender(self) -> str:
        """The sender's user id."""
        return str(self.header["sender"])

    @property
    def recipients(self) -> list[str]:
        """The user ids in ``to``."""
        return list(self.header["to"])

    def signed_fields(self) -> tuple[bytes, bytes, bytes]:
        """(hh, hc, hw): what ``sig`` covers."""
        return self.hh, ciphertext_hash(self.nonce, self.ciphertext), wraps_hash(self.wraps)

    def to_json(self) -> dict[str, Any]:
        """The wire form."""
        return {
            "v": VERSION,
            "header": b64(self.header_bytes),
            "nonce": b64(self.nonce),
            "ciphertext": b64(self.ciphertext),
            "wraps": [{"to": w.to, "key_id": w.key_id, "box": b64(w.box)} for w in self.wraps],
            "sig": b64(self.sig),
        }


def header_hash(header_bytes: bytes) -> bytes:
    """``hh = H("liaison/v1/header", header_bytes)``."""
    return H("liaison/v1/header", header_bytes)


def ciphertext_hash(nonce: bytes, ciphertext: bytes) -> bytes:
    """``hc = H("liaison/v1/ciphertext", nonce, ciphertext)``."""
    return H("liaison/v1/ciphertext", nonce, ciphertext)


def wraps_hash(wraps: tuple[Wrap, ...] | list[Wrap]) -> bytes:
    """``hw``: over the wraps sorted by (to, key_id)."""
    fields: list[bytes | str] = []
    for wrap in sorted(wraps, key=lambda w: (w.to, w.key_id)):
        fields += [wrap.to, wrap.key_id, wrap.box]
    return H("liaison/v1/wraps", *fields)


def envelope_signature(sign_sk: bytes, hh: bytes, hc: bytes, hw: bytes) -> bytes:
    """``sig = Sign(sign_sk, "liaison/v1/envelope", hh, hc, hw)``."""
    return sign(sign_sk, "liaison/v1/envelope", hh, hc, hw)


def signature_valid(envelope: Envelope, sign_pk: bytes) -> bool:
    """Whether the envelope's signature verifies with the sender's signing key."""
    return verify(sign_pk, envelope.sig, "liaison/v1/envelope", *envelope.signed_fields())


def _fail(reason: str, detail: str) -> EnvelopeError:
    return EnvelopeError(reason, detail)


def parse_header(header_bytes: bytes) -> dict[str, Any]:
    """Parse and check the routing header (version first, then every field's shape)."""
    try:
        header = loads(header_bytes)
    except (UnicodeDecodeError, ValueError) as error:
        raise _fail("malformed", "header is not UTF-8 JSON") from error
    if not isinstance(header, dict):
        raise _fail("malformed", "header is not a JSON object")
    if header.get("v") != VERSION or isinstance(header.get("v"), bool):
        raise _fail("unsupported-version", "header version is not 1")
    if set(header) != HEADER_FIELDS:
        raise _fail("malformed", "header fields differ from version 1")
    for name in ("id", "thread", "sender"):
        if not is_uuid(header[name]):
            raise _fail("malformed", f"header {name} is not a lowercase UUID")
    if header["kind"] not in KINDS:
        raise _fail("malformed", "unknown message kind")
    recipients = header["to"]
    if (
        not isinstance(recipients, list)
        or not 0 < len(recipients) <= MAX_RECIPIENTS
        or not all(is_uuid(r) for r in recipients)
        or len(set(recipients)) != len(recipients)
    ):
        raise _fail("malformed", "to must be a non-empty list of distinct user ids")
    if header["to_org"] is not None and not is_uuid(header["to_org"]):
        raise _fail("malformed", "to_org must be an organisation id or null")
    if not is_time(header["created_at"]) or not (
        header["expires_at"] is None or is_time(header["expires_at"])
    ):
        raise _fail("malformed", "times must be UTC YYYY-MM-DDTHH:MM:SSZ")
    _check_key_id(header["sender_key"], "sender_key")
    return header


def _check_key_id(value: object, what: str) -> str:
    try:
        unb64(value, KEY_ID_BYTES, what)
    except CryptoError as error:
        raise _fail("malformed", error.detail) from error
    return str(value)


def parse_envelope(data: object) -> Envelope:
    """Parse the wire form, rejecting any field that is missing, extra or of the wrong size."""
    if not isinstance(data, dict):
        raise _fail("malformed", "envelope is not a JSON object")
    if data.get("v") != VERSION or isinstance(data.get("v"), bool):
        raise _fail("unsupported-version", "envelope version is not 1")
    if set(data) != ENVELOPE_FIELDS:
        raise _fail("malformed", "envelope fields differ from version 1")
    try:
        header_bytes = unb64(data["header"], what="header")
        nonce = unb64(data["nonce"], NONCE_BYTES, "nonce")
        ciphertext = unb64(data["ciphertext"], what="ciphertext")
        sig = unb64(data["sig"], SIG_BYTES, "sig")
        wraps = _parse_wraps(data["wraps"])
    except CryptoError as error:
        raise _fail("malformed", error.detail) from error
    body_bytes = len(ciphertext) - AEAD_ABYTES
    if body_bytes < PAD_BLOCK or body_bytes % PAD_BLOCK:
        raise _fail("bad-padding", "ciphertext is not a whole number of padding blocks")
    header = parse_header(header_bytes)
    return Envelope(header_bytes, header, nonce, ciphertext, wraps, sig)


def _parse_wraps(raw: object) -> tuple[Wrap, ...]:
    if not isinstance(raw, list) or not 0 < len(raw) <= MAX_RECIPIENTS + 1:
        raise CryptoError("malformed", "wraps must be a non-empty list")
    wraps = []
    for item in raw:
        if not isinstance(item, dict) or set(item) != {"to", "key_id", "box"}:
            raise CryptoError("malformed", "a wrap needs exactly to, key_id and box")
        if not is_uuid(item["to"]):
            raise CryptoError("malformed", "wrap to is not a user id")
        unb64(item["key_id"], KEY_ID_BYTES, "wrap key_id")
        wraps.append(Wrap(item["to"], item["key_id"], unb64(item["box"], WRAP_BYTES, "wrap box")))
    if len({w.to for w in wraps}) != len(wraps):
        raise CryptoError("malformed", "two wraps for the same person")
    return tuple(wraps)
