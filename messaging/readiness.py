"""The blob store's state as a readiness check (registered by the composition root)."""

from __future__ import annotations

import os
import secrets

from config import Settings
from core.health import FAILING, OK, Check, CheckResult
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
