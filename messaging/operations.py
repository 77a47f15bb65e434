"""What the operator's readiness checks and metrics read from messaging (wired by core/app.py)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from config import Settings
from core.db import Database
from core.health import FAILING, OK, Check, CheckResult
from messaging.models import Blob


def blob_store_check(settings: Settings, database: Database) -> Check:
    """Ok when the blob store new uploads go to can take a write.

    The filesystem store: a small file can be written to and removed from its ``tmp`` folder.
    The database store: the database accepts writes (not a read-only replica or transaction).
    """

    def check() -> CheckResult:
        # ``blob_store_kind`` comes with the database blob store; before it, blobs are files.
        kind = str(getattr(settings, "blob_store_kind", "filesystem"))
        if kind == "database":
            return database_writable(database)
        return folder_writable(settings.data_dir / "blobs" / "tmp")

    return check


def folder_writable(folder: Path) -> CheckResult:
    """Write, sync and remove a small file in ``folder``."""
    probe = folder / f"ready-{secrets.token_hex(8)}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, b"ready")
            os.fsync(fd)
        finally:
            os.close(fd)
            probe.unlink(missing_ok=True)
    except OSError as error:
        return CheckResult(FAILING, {"store": "filesystem", "detail": str(error)})
    return CheckResult(OK, {"store": "filesystem"})


def database_writable(database: Database) -> CheckResult:
    """PostgreSQL accepts writes: not in recovery (a replica), transactions not read-only."""
    if database.engine.dialect.name != "postgresql":
        return CheckResult(OK, {"store": "database"})
    with database.engine.connect() as connection:
        replica = bool(connection.scalar(text("SELECT pg_is_in_recovery()")))
        read_only = connection.scalar(text("SHOW transaction_read_only")) == "on"
    if replica or read_only:
        why = "a read-only replica" if replica else "read-only transactions"
        return CheckResult(FAILING, {"store": "database", "detail": f"the database is {why}"})
    return CheckResult(OK, {"store": "database"})


def blob_store_bytes(session: Session) -> float:
    """Bytes of every stored attachment (the blob table's sizes, whichever store holds them)."""
    return float(session.scalar(select(func.coalesce(func.sum(Blob.size), 0))) or 0)


def blob_count(session: Session) -> float:
    """How many attachments are stored."""
    return float(session.scalar(select(func.count()).select_from(Blob)) or 0)
