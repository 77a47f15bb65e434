"""The relay's wire helpers: strict base64url (spec §1), times, strict JSON, the envelope's form.

Parsing and checking envelopes is ``messaging.crypto``'s (one implementation with the client);
these helpers cover the other bodies the relay reads (keys, backups, cursors).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import UTC, datetime
from typing import Any

from messaging.errors import Malformed

KEY_ID_BYTES = 16
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
TIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\Z")
B64 = re.compile(r"^[A-Za-z0-9_-]*\Z")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def b64decode(text: Any, field: str, size: int | None = None) -> bytes:
    """Strict base64url without padding (spec §1): other alphabets, padding, loose bits refused."""
    if not isinstance(text, str) or not B64.match(text) or len(text) % 4 == 1:
        raise Malformed(f"{field} is not base64url without padding")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise Malformed(f"{field} is not base64url without padding") from None
    if b64encode(raw) != text:
        raise Malformed(f"{field} is not canonical base64url")
    if size is not None and len(raw) != size:
        raise Malformed(f"{field} must be {size} bytes, not {len(raw)}")
    return raw


def b64encode(raw: bytes) -> str:
    """base64url without padding."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    unique = dict(pairs)
    if len(unique) != len(pairs):
        raise Malformed("a JSON object repeats a key")
    return unique


def loads_strict(raw: bytes | str, what: str) -> Any:
    """JSON without repeated keys, NaN or Infinity (two parsers must never disagree)."""

    def refuse_constant(name: str) -> Any:
        raise Malformed(f"{what} contains {name}")

    try:
        return json.loads(raw, object_pairs_hook=_no_duplicates, parse_constant=refuse_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        if isinstance(error, Malformed):
            raise
        raise Malformed(f"{what} is not valid UTF-8 JSON") from None


def parse_time(value: Any, field: str) -> datetime:
    """A spec time ``YYYY-MM-DDTHH:MM:SSZ`` as an aware UTC datetime."""
    if not isinstance(value, str) or not TIME.match(value):
        raise Malformed(f"{field} must be a UTC time like 2026-11-22T10:00:00Z")
    try:  # the pattern above pins the form; this checks the date is real (and is quick)
        return datetime.fromisoformat(value)
    except ValueError:
        raise Malformed(f"{field} is not a real date and time") from None


def format_time(value: datetime) -> str:
    """An aware datetime in the spec's time format."""
    return value.astimezone(UTC).strftime(TIME_FORMAT)


def key_id_text(value: Any, field: str) -> str:
    """A key id: base64url of 16 bytes."""
    b64decode(value, field, KEY_ID_BYTES)
    return str(value)


def wire_envelope(
    header: bytes, nonce: bytes, ciphertext: bytes, wraps: list[dict[str, Any]], sig: bytes
) -> dict[str, Any]:
    """The envelope as clients receive it (the same JSON the sender posted)."""
    return {
        "v": 1,
        "header": b64encode(header),
        "nonce": b64encode(nonce),
        "ciphertext": b64encode(ciphertext),
        "wraps": wraps,
        "sig": b64encode(sig),
    }
