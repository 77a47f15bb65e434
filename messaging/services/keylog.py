"""The key log (spec §6): an append-only hash chain of key events with a signed head per entry.

The log's signing key is shared state: every web host must sign with the same key, and a restore
of the database must bring it back. It is therefore either given by configuration
(``LIAISON_KEY_LOG_SIGNING_KEY``) or created once in the database (table ``key_log_key``, one row
inserted if absent and then re-read, so two hosts racing end up with the same key). A row is
written whole or not at all: a half-written key can never be used. A key file left in the data
dir by an older release (``key-log.key``) is adopted into the database once.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from config import Settings
from core.db import utcnow
from messaging import crypto
from messaging.envelopes import b64decode, b64encode, format_time
from messaging.errors import RelayError
from messaging.models import KeyLogEntry, KeyLogKey

log = logging.getLogger("liaison.messaging.keylog")

KEY_FILE = "key-log.key"  # where releases before the key lived in the database kept it
ZERO_HEAD = crypto.GENESIS
PAGE = 1000
# Any constant works: it names the lock that serialises appends on PostgreSQL.
_ADVISORY_LOCK = 0x4C49_4B4C
_ROW = 1


@dataclass(frozen=True)
class LogKey:
    """The instance's key-log signing key pair (Ed25519)."""

    secret: bytes
    public: bytes


def _pair(seed: bytes) -> LogKey:
    secret, public = crypto.log_keypair_from_seed(seed)
    return LogKey(secret=secret, public=public)


def log_key(session: Session, settings: Settings) -> LogKey:
    """The instance's log key: the configured one, else the database's, created on first use."""
    if settings.key_log_signing_key:
        return _pair(b64decode(settings.key_log_signing_key.strip(), "the key-log key", 32))
    seed = session.scalar(select(KeyLogKey.seed).where(KeyLogKey.id == _ROW))
    if seed is None:
        seed = _create(session, _adopted_seed(settings) or secrets.token_bytes(32))
    return _pair(seed)


def _adopted_seed(settings: Settings) -> bytes | None:
    """The seed of an older release's key file, if there is a whole one; None otherwise."""
    path = settings.data_dir / KEY_FILE
    try:
        content = path.read_text().strip()
    except OSError:
        return None
    if not content:
        return None  # an empty file left by a full disk: never a key
    try:
        secret = b64decode(content, KEY_FILE, 64)
    except RelayError:
        log.warning("%s does not hold a key-log key; a new key is created", path)
        return None
    seed = secret[:32]  # an Ed25519 secret key is its seed followed by its public key
    if _pair(seed).public != secret[32:]:
        log.warning("%s does not hold a valid key-log key; a new key is created", path)
        return None
    log.info("adopting the key-log key of %s into the database", path)
    return seed


def _holds_write_lock(session: Session) -> bool:
    """On SQLite: whether the session's transaction has written (and so holds the lock)."""
    connection = session.connection().connection.dbapi_connection
    return bool(getattr(connection, "in_transaction", False))


def _create(session: Session, seed: bytes) -> bytes:
    """Insert the key row unless one exists, then return the row's seed (theirs if they won).

    The row is committed on a connection of its own, so that a key served to a client is never
    rolled back with the request that created it; on SQLite, a session that already holds the
    write lock inserts in its own transaction (a second connection would wait for it).
    """
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    dialect = engine.dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(KeyLogKey)
    statement = insert.values(id=_ROW, seed=seed, created_at=utcnow()).on_conflict_do_nothing()
    read = select(KeyLogKey.seed).where(KeyLogKey.id == _ROW)
    if dialect == "sqlite" and _holds_write_lock(session):
        session.execute(statement)
        stored = session.scalar(read)
    else:
        with engine.begin() as connection:
            connection.execute(statement)
            stored = connection.scalar(read)
    assert stored is not None
    return bytes(stored)


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
        head_sig=crypto.sign_head(log_key(session, settings).secret, seq, head).sig,
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
