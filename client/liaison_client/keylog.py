"""The key log (§6): hash-chained entries, signed heads, and the check that a log served now
extends the head a client remembered."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from liaison_client.encoding import H, b64, is_time, is_uuid, loads, same, sign, u64, unb64, verify
from liaison_client.errors import CryptoError, KeyLogError
from liaison_client.identity import key_id

GENESIS = bytes(32)
EVENTS = ("publish", "revoke", "attest")
ENTRY_FIELDS = {"seq", "at", "event", "user", "key_id", "sign_pk", "box_pk", "proof"}


@dataclass(frozen=True)
class SignedHead:
    """The log's head after entry ``seq``, signed by the log key."""

    seq: int
    head: bytes
    sig: bytes

    def to_json(self) -> dict[str, Any]:
        """The wire form."""
        return {"seq": self.seq, "head": b64(self.head), "sig": b64(self.sig)}


def next_head(previous: bytes, entry_bytes: bytes) -> bytes:
    """``headₙ = H("liaison/v1/log", headₙ₋₁, entry_bytesₙ)``."""
    return H("liaison/v1/log", previous, entry_bytes)


def sign_head(log_sk: bytes, seq: int, head: bytes) -> SignedHead:
    """Sign the head after entry ``seq``."""
    return SignedHead(seq, head, sign(log_sk, "liaison/v1/log-head", u64(seq), head))


def parse_signed_head(data: object, log_pk: bytes) -> SignedHead:
    """Parse a signed head and verify its signature with the log key."""
    try:
        if not isinstance(data, dict) or set(data) != {"seq", "head", "sig"}:
            raise CryptoError("malformed", "a signed head needs seq, head and sig")
        seq = data["seq"]
        if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq < 2**63:
            raise CryptoError("malformed", "seq must be a whole number")
        head = SignedHead(seq, unb64(data["head"], 32, "head"), unb64(data["sig"], 64, "sig"))
    except CryptoError as error:
        raise KeyLogError("malformed", error.detail) from error
    if not verify(log_pk, head.sig, "liaison/v1/log-head", u64(head.seq), head.head):
        raise KeyLogError("bad-signature", "the head is not signed by the log key")
    return head


def parse_entry(entry_bytes: bytes) -> dict[str, Any]:
    """Parse one entry and check that its key id matches its keys."""
    try:
        entry = loads(entry_bytes)
        if not isinstance(entry, dict) or set(entry) != ENTRY_FIELDS:
            raise CryptoError("malformed", "entry fields differ from version 1")
        sign_pk, box_pk = unb64(entry["sign_pk"], 32), unb64(entry["box_pk"], 32)
        unb64(entry["proof"], 64, "proof")
    except (UnicodeDecodeError, ValueError, CryptoError) as error:
        raise KeyLogError("malformed", "a log entry is malformed") from error
    if entry["event"] not in EVENTS or not is_uuid(entry["user"]) or not is_time(entry["at"]):
        raise KeyLogError("malformed", "a log entry has an unknown event, user or time")
    if entry["key_id"] != key_id(sign_pk, box_pk):
        raise KeyLogError("malformed", "a log entry's key id does not match its keys")
    return entry


def verify_extension(
    remembered: SignedHead | None, entries: Sequence[bytes], new_head: SignedHead
) -> list[dict[str, Any]]:
    """Check that ``entries`` (those after ``remembered``, or the whole log) chain from the
    remembered head to the new signed head; return the parsed entries."""
    seq, head = (0, GENESIS) if remembered is None else (remembered.seq, remembered.head)
    parsed = []
    for entry_bytes in entries:
        entry = parse_entry(entry_bytes)
        seq += 1
        if entry["seq"] != seq:
            raise KeyLogError("gap", f"expected entry {seq}, got {entry['seq']}")
        head = next_head(head, entry_bytes)
        parsed.append(entry)
    if new_head.seq != seq or not same(new_head.head, head):
        raise KeyLogError("fork", "the log does not extend the remembered head")
    return parsed


def heads(entries: Sequence[bytes], start: bytes = GENESIS) -> list[bytes]:
    """Every head along the chain (for the log's owner and for tests)."""
    out, head = [], start
    for entry_bytes in entries:
        head = next_head(head, entry_bytes)
        out.append(head)
    return out
