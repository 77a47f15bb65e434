"""The recovery key as a person writes it down (mirrors web/static/js/crypto/recovery-key.mjs).

Its 32 bytes and a 3-byte check in Crockford base32 (no I, L, O, U; read case-insensitively, O as
0 and I/L as 1): 56 characters in 14 groups of 4. The check is the first 3 bytes of
BLAKE2b-128(``liaison/v1/recovery-check`` || key), so a typo is caught before any unlocking is
tried. A key written in the older form (43 characters of base64url) is still read.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from liaison_client.encoding import unb64
from liaison_client.errors import BackupError, CryptoError

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CONTEXT = b"liaison/v1/recovery-check"
GROUPS = 14
GROUP_SIZE = 4
CHARS = GROUPS * GROUP_SIZE
_GROUPED = re.compile(f"[{ALPHABET}]{{{CHARS}}}")


def _check(key: bytes) -> bytes:
    return hashlib.blake2b(CONTEXT + key, digest_size=16).digest()[:3]


def format_recovery_key(key: bytes) -> str:
    """The 32-byte key as ``ABCD-EFGH-…`` (14 groups of 4, the check in the last 5 characters)."""
    if len(key) != 32:
        raise BackupError("malformed", "a recovery key is 32 bytes")
    number = int.from_bytes(key + _check(key), "big")  # 280 bits: exactly 56 characters
    text = "".join(ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(CHARS)))
    return "-".join(text[i : i + GROUP_SIZE] for i in range(0, CHARS, GROUP_SIZE))


def normalize(text: str) -> str:
    """Upper case, separators and spaces dropped, the look-alikes O→0 and I/L→1."""
    cleaned = re.sub(r"[\s-]", "", text.upper())
    return cleaned.replace("O", "0").replace("I", "1").replace("L", "1")


def parse_recovery_key(text: str) -> bytes:
    """The key from what the person typed: the grouped form (with or without separators, any
    case) or the older base64url form. ``recovery-key-typo`` when the check does not match,
    ``malformed`` when it is neither shape."""
    grouped = normalize(text)
    if _GROUPED.fullmatch(grouped):
        number = 0
        for char in grouped:
            number = (number << 5) | ALPHABET.index(char)
        data = number.to_bytes(35, "big")
        key, check = data[:32], data[32:]
        if not hmac.compare_digest(_check(key), check):
            raise BackupError(
                "recovery-key-typo", "the recovery key's check does not match: a typo?"
            )
        return key
    try:
        return unb64(re.sub(r"\s", "", text), 32, "recovery key")
    except CryptoError:
        raise BackupError(
            "malformed", "not a recovery key (14 groups of 4 characters, or the older 43)"
        ) from None
