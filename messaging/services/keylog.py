"""The key log (spec §6): an append-only hash chain of key events with a signed head per entry.

The log's signing key is generated once per instance under ``<data dir>/key-log.key`` (mode
0600); its public half is served so that clients can check the heads they remember.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from config import Settings
from core.db import utcnow
from messaging import crypto
from messaging.envelopes import b64decode, b64encode, format_time
from messaging.models import KeyLogEntry

KEY_FILE = "key-log.key"
ZERO_HEAD = crypto.GENESIS
PAGE = 1000
# Any constant works: it names the lock that serialises appends on PostgreSQL.
_ADVISORY_LOCK = 0x4C49_4B4C


@dataclass(frozen=True)
class LogKey:
    """The instance's key-log signing key pair (Ed25519)."""

    secret: bytes
    public: bytes


def log_key(settings: Settings) -> LogKey:
    """The instance's log key, created on first use (a second process reads the first's file)."""
    path: Path = settings.path(KEY_FILE)
    if not path.exists():
        _public, secret = crypto.signing_keypair()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first: use theirs
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(b64encode(secret))
    secret = b64decode(path.read_text().strip(), KEY_FILE, 64)
    return LogKey(secret=secret, public=secret[32:])  # an Ed25519 secret key ends with its pk


def _lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK})


def latest_entry(session: Session) -> KeyLogEntry | None:
    """The newest entry of the log, if any."""
    return session.scalars(select(KeyLogEntry).order_by(KeyLogEntry.seq.desc()).limit(1)).first()


def append(
    session: Session, settings: Settings, *, event: str, key: crypto.PublicKey, proof: bytes
) -> KeyLogEntry:
    """Append one event about ``key`` and sign the new head; the caller's commit keeps it."""
    _lock(session)
    last = latest_entry(session)
    seq = (last.seq if last else 0) + 1
    previous = last.head if last else ZERO_HEAD
    now = utcnow()
    entry = crypto.log_entry(seq, format_time(now), event, key, proof)
    head = crypto.next_head(previous, entry)
    row = KeyLogEntry(
        seq=seq,
        at=now,
        user_id=key.user_id,
        event=event,
        entry=entry,
        head=head,
        head_sig=crypto.sign_head(log_key(settings).secret, seq, head).sig,
    )
    session.add(row)
    session.flush()
    return row


def signed_head(row: KeyLogEntry | None) -> dict[str, Any]:
    """``{"seq", "head", "sig"}`` of an entry (seq 0 and the zero head for an empty log)."""
    if row is None:
        return {"seq": 0, "head": b64encode(ZERO_HEAD), "sig": None}
    return {"seq": row.seq, "head": b64encode(row.head), "sig": b64encode(row.head_sig)}


def entries_since(session: Session, since: int, limit: int = PAGE) -> list[KeyLogEntry]:
    """Entries with ``seq > since``, oldest first, at most ``limit``."""
    statement = (
        select(KeyLogEntry).where(KeyLogEntry.seq > since).order_by(KeyLogEntry.seq).limit(limit)
    )
    return list(session.scalars(statement))
