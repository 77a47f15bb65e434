"""The notation of envelope v1 (§1): base64url without padding, pack, H, Sign, and comparisons."""

from __future__ import annotations

import base64
import hmac
import json
import re
from datetime import UTC, datetime

from nacl import bindings
from nacl.exceptions import BadSignatureError
from nacl.exceptions import ValueError as NaclValueError

from liaison_client.errors import CryptoError

_B64_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

Field = bytes | str


def b64(data: bytes) -> str:
    """base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: object, size: int | None = None, what: str = "field") -> bytes:
    """Decode strict base64url without padding; padding, other alphabets, non-canonical trailing
    bits and a wrong size are all ``malformed``."""
    if not isinstance(text, str) or not _B64_ALPHABET.fullmatch(text) or len(text) % 4 == 1:
        raise CryptoError("malformed", f"{what} is not base64url without padding")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64(data) != text:
        raise CryptoError("malformed", f"{what} is not canonical base64url")
    if size is not None and len(data) != size:
        raise CryptoError("malformed", f"{what} must be {size} bytes")
    return data


def u32(n: int) -> bytes:
    """4-byte big-endian unsigned integer."""
    return n.to_bytes(4, "big")


def u64(n: int) -> bytes:
    """8-byte big-endian unsigned integer."""
    return n.to_bytes(8, "big")


def pack(*fields: Field) -> bytes:
    """Length-prefixed concatenation; text is UTF-8."""
    out = bytearray()
    for field in fields:
        raw = field.encode("utf-8") if isinstance(field, str) else bytes(field)
        out += u32(len(raw)) + raw
    return bytes(out)


def blake2b(data: bytes) -> bytes:
    """Unkeyed BLAKE2b with a 32-byte output (``crypto_generichash``)."""
    return bindings.crypto_generichash_blake2b_salt_personal(data, digest_size=32)


def H(tag: str, *fields: Field) -> bytes:
    """BLAKE2b-256 over pack(tag, fields…)."""
    return blake2b(pack(tag, *fields))


def sign(sign_sk: bytes, tag: str, *fields: Field) -> bytes:
    """Ed25519 detached signature over pack(tag, fields…)."""
    return bindings.crypto_sign(pack(tag, *fields), sign_sk)[: bindings.crypto_sign_BYTES]


def verify(sign_pk: bytes, signature: bytes, tag: str, *fields: Field) -> bool:
    """Whether ``signature`` is sign_pk's Ed25519 signature over pack(tag, fields…)."""
    if len(sign_pk) != 32 or len(signature) != 64:
        return False
    try:
        bindings.crypto_sign_open(signature + pack(tag, *fields), sign_pk)
    except (BadSignatureError, NaclValueError, ValueError):
        return False
    return True


def same(a: bytes, b: bytes) -> bool:
    """Constant-time equality of MACs, hashes and fingerprints."""
    return hmac.compare_digest(a, b)


def is_uuid(value: object) -> bool:
    """A lowercase hyphenated UUID string."""
    return isinstance(value, str) and _UUID.fullmatch(value) is not None


def is_time(value: object) -> bool:
    """A UTC time written ``YYYY-MM-DDTHH:MM:SSZ`` that exists on the calendar."""
    if not isinstance(value, str) or not _TIME.fullmatch(value):
        return False
    try:
        datetime.strptime(value, TIME_FORMAT)  # noqa: DTZ007 - the trailing Z is checked above
    except ValueError:
        return False
    return True


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def loads(raw: bytes) -> object:
    """Parse UTF-8 JSON as browsers do: NaN and Infinity are refused."""
    return json.loads(raw.decode("utf-8"), parse_constant=_no_constant)


def now() -> str:
    """The current UTC time in the spec's format."""
    return datetime.now(UTC).strftime(TIME_FORMAT)
