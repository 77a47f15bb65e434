"""What the operator's readiness checks and metrics read from messaging (wired by core/app.py)."""

from __future__ import annotations

import os
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config import Settings
from core.health import FAILING, OK, Check, CheckResult
from messaging.models import Blob
from messaging.services.blobs import blob_dir


def blob_store_check(settings: Settings) -> Check:
    """Ok when a small file can be written to and removed from the blob store's folder."""

    def check() -> CheckResult:
        directory = blob_dir(settings) / "tmp"
        probe = directory / f"ready-{secrets.token_hex(8)}"
        try:
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

    return check


def blob_store_bytes(session: Session) -> float:
    """Bytes of every stored attachment (the blob table's sizes, whichever store holds them)."""
    return float(session.scalar(select(func.coalesce(func.sum(Blob.size), 0))) or 0)


def blob_count(session: Session) -> float:
    """How many attachments are stored."""
    return float(session.scalar(select(func.count()).select_from(Blob)) or 0)
