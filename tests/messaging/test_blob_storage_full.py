"""A full blob store answers 507 storage-full and keeps nothing of the refused upload: a small
tmpfs under the filesystem store, and a full tablespace under the database store's table."""

from __future__ import annotations

import os
import secrets
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from core.db import Database
from messaging.models import Blob, BlobChunk
from tests.conftest import PG_URL

NOT_ROOT = "mounting a small tmpfs needs root (run the tests as root, as CI does)"


def _mount_tmpfs(target: Path, size: str) -> None:
    target.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")


def _umount(target: Path) -> None:
    subprocess.run(["umount", str(target)], check=True)


def _stored(settings, database) -> tuple[list[Path], int, int]:
    root = settings.data_dir / "blobs"
    files = [p for p in root.rglob("*") if p.is_file()] if root.exists() else []
    with database.session() as session:
        blobs = session.scalar(select(func.count()).select_from(Blob))
        chunks = session.scalar(select(func.count()).select_from(BlobChunk))
    return files, blobs, chunks


@pytest.mark.skipif(os.geteuid() != 0, reason=NOT_ROOT)
def test_a_full_filesystem_store_answers_507_and_keeps_nothing(app, settings, make_person):
    anna = make_person()
    app.extensions["liaison.settings"] = settings.replace(blob_store="filesystem")
    blobs = settings.data_dir / "blobs"
    _mount_tmpfs(blobs, "2m")
    try:
        refused = anna.post(f"/api/v1/blobs?id={uuid.uuid4()}", data=secrets.token_bytes(3 << 20))
        left = _stored(settings, app.extensions["liaison.db"])
        accepted = anna.post(f"/api/v1/blobs?id={uuid.uuid4()}", data=secrets.token_bytes(1 << 20))
    finally:
        _umount(blobs)

    assert refused.status_code == 507
    assert refused.get_json()["check"] == "storage-full"
    assert "no storage space left" in refused.get_json()["detail"]
    assert left == ([], 0, 0)
    assert accepted.status_code == 201  # the space the refused upload took is free again


PG_DISK_FULL = os.environ.get("LIAISON_TEST_PG_DISK_FULL") == "1"


def _admin(statement: str) -> None:
    database = Database(PG_URL)
    try:
        with database.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.execute(text(statement))
    finally:
        database.dispose()


@pytest.mark.skipif(
    not (PG_URL and PG_DISK_FULL),
    reason="fills a tablespace on a tmpfs under blob_chunk: needs a PostgreSQL server on this "
    "machine that nothing else uses (a PANIC there restarts it); set LIAISON_TEST_PG_DISK_FULL=1",
)
@pytest.mark.skipif(os.geteuid() != 0, reason=NOT_ROOT)
def test_a_full_database_store_answers_507_and_keeps_nothing(app, settings, make_person):
    anna = make_person()
    app.extensions["liaison.settings"] = settings.replace(blob_store="database")
    location = Path(tempfile.mkdtemp(prefix="liaison-full-tablespace-"))
    location.chmod(0o755)
    _mount_tmpfs(location, "2m")
    name = f"liaison_full_{secrets.token_hex(4)}"
    created = False
    try:
        subprocess.run(["chown", "postgres:postgres", str(location)], check=True)
        _admin("VACUUM FULL blob_chunk")  # only live rows move to the small tablespace
        _admin(f"CREATE TABLESPACE {name} LOCATION '{location}'")
        created = True
        _admin(f"ALTER TABLE blob_chunk SET TABLESPACE {name}")
        try:
            refused = anna.post(
                f"/api/v1/blobs?id={uuid.uuid4()}", data=secrets.token_bytes(3 << 20)
            )
            left = _stored(settings, app.extensions["liaison.db"])
        finally:
            _admin("ALTER TABLE blob_chunk SET TABLESPACE pg_default")
    finally:
        # Never unmount under a tablespace the server still knows: it would PANIC at its next
        # checkpoint. If the DROP fails, the tmpfs stays mounted for a person to look at.
        if created:
            _admin(f"DROP TABLESPACE {name}")
        _umount(location)
        location.rmdir()

    assert refused.status_code == 507
    assert refused.get_json()["check"] == "storage-full"
    assert left == ([], 0, 0)


def test_a_full_disk_is_recognised_from_the_filesystem_and_from_postgresql():
    import errno

    import psycopg
    from sqlalchemy.exc import IntegrityError, OperationalError

    from messaging.blobstore import is_storage_full

    disk_full = psycopg.errors.DiskFull("could not extend file: No space left on device")
    unique = psycopg.errors.UniqueViolation("duplicate key")

    assert is_storage_full(OSError(errno.ENOSPC, "No space left on device"))
    assert is_storage_full(OSError(errno.EDQUOT, "Disk quota exceeded"))
    assert is_storage_full(disk_full)
    assert is_storage_full(OperationalError("INSERT", {}, disk_full))
    assert not is_storage_full(OSError(errno.ECONNRESET, "Connection reset"))
    assert not is_storage_full(IntegrityError("INSERT", {}, unique))
