"""Move blobs from one store to the other, one blob per transaction, so a run can be stopped at
any point and started again (``liaison blobs migrate``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from core.db import Database
from messaging.blobstore import blob_store
from messaging.models import Blob


class BlobCopyMismatch(Exception):
    """The copy written to the target store is not as long as the blob."""


class _ChunkReader:
    """A readable stream over an iterator of chunks (what a store's ``write`` consumes)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._pending) < size:
            chunk = next(self._chunks, b"")
            if not chunk:
                break
            self._pending += chunk
        if size < 0:
            size = len(self._pending)
        piece, self._pending = self._pending[:size], self._pending[size:]
        return piece


def blobs_to_move(session: Session, target: str) -> list[str]:
    """Ids of the blobs not yet in ``target``, oldest first."""
    statement = select(Blob.id).where(Blob.store != target).order_by(Blob.created_at, Blob.id)
    return list(session.scalars(statement))


def move_blob(
    session: Session, settings: Settings, database: Database, blob_id: str, target: str
) -> tuple[int, list[Path]]:
    """Copy one blob into ``target`` and forget it in its old store; returns the bytes moved and
    the old files to delete once the caller has committed (0 when it is gone or already there).
    """
    blob = session.get(Blob, blob_id)
    if blob is None or blob.store == target:
        return 0, []
    source = blob_store(settings, database, blob.store)
    destination = blob_store(settings, database, target)
    chunks = source.chunks(blob)
    try:
        location, size = destination.write(session, blob.id, _ChunkReader(chunks), blob.size)
    finally:
        getattr(chunks, "close", lambda: None)()
    if size != blob.size:
        destination.discard(location)
        raise BlobCopyMismatch(f"blob {blob.id}: {size} bytes copied of {blob.size}")
    old_files = source.remove(session, blob)
    blob.store, blob.path = target, location
    session.flush()
    return size, old_files
