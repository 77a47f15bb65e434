"""Where encrypted attachments live, behind one interface.

Two stores: ``filesystem`` (files under ``<data dir>/blobs``, the embedded default) and
``database`` (1 MiB rows of ``blob_chunk``, chosen whenever the database is PostgreSQL, so that
several web hosts need no shared disk). Each ``blob`` row names its store, so blobs can be moved
from one to the other a few at a time (``liaison blobs migrate``). Both stores stream: an upload
is written piece by piece while it is read, a download is read piece by piece while it is sent.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from config import Settings
from core.db import Database
from messaging.errors import RelayError
from messaging.models import Blob

READ = 64 * 1024  # how much of the request stream is read at a time
STORES = ("filesystem", "database")
_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
_PG_DISK_FULL = "53100"
_SQLITE_FULL = 13


class StorageFull(RelayError):
    """The blob store has no room left for this upload; nothing of it was kept."""

    status = 507
    check = "storage-full"

    def __init__(self) -> None:
        super().__init__(
            "the server has no storage space left for attachments; nothing of this upload was "
            "kept. Try again later, and tell the secretariat if it persists"
        )


def is_storage_full(error: BaseException) -> bool:
    """Whether an error means a full disk: ENOSPC/EDQUOT, PostgreSQL 53100, SQLITE_FULL."""
    if isinstance(error, OSError):
        return error.errno in _FULL_ERRNOS
    if getattr(error, "sqlstate", None) == _PG_DISK_FULL:
        return True  # raised by the driver itself (the database store's insert thread)
    if isinstance(error, DBAPIError):
        original = error.orig
        if getattr(original, "sqlstate", None) == _PG_DISK_FULL:
            return True
        return getattr(original, "sqlite_errorcode", None) == _SQLITE_FULL
    return False


class Readable(Protocol):
    """What a store reads an upload from: a request stream, a file, another store's chunks."""

    def read(self, size: int = -1, /) -> bytes:
        """At most ``size`` bytes; b"" at the end."""
        ...


class BlobStore(Protocol):
    """The contract of a blob store.

    ``write`` copies a stream into the store in bounded pieces and returns where it went (a path
    for the filesystem, "" for the database) and its size; on any error (``TooLarge``,
    ``StorageFull``, a broken stream) it leaves nothing behind. Database writes belong to the
    caller's transaction; a filesystem write is a file that ``discard`` removes if the caller's
    commit fails. ``chunks`` streams a stored blob. ``remove`` forgets a blob in the caller's
    transaction and returns the files to delete once it is committed. ``purge_stale`` removes
    pieces older than ``older_than`` seconds that no blob row names.
    """

    name: str

    def write(
        self, session: Session, blob_id: str, stream: Readable, max_bytes: int
    ) -> tuple[str, int]:
        """Store the stream as blob ``blob_id``; returns (location, size)."""
        ...

    def chunks(self, blob: Blob) -> Iterator[bytes]:
        """The blob's bytes in order, one bounded piece at a time."""
        ...

    def discard(self, location: str) -> None:
        """Undo a write whose row was never committed."""
        ...

    def remove(self, session: Session, blob: Blob) -> list[Path]:
        """Forget ``blob`` (in the caller's transaction); files to delete after the commit."""
        ...

    def purge_stale(self, session: Session, older_than: float) -> list[Path]:
        """Leftovers of interrupted uploads; files to delete after the commit."""
        ...


def blob_store(settings: Settings, database: Database, name: str | None = None) -> BlobStore:
    """The store called ``name`` (default: the one new uploads go to, from the settings)."""
    from messaging.blobstore.database import DatabaseStore
    from messaging.blobstore.filesystem import FilesystemStore

    chosen = name or settings.blob_store_kind
    if chosen == "database":
        return DatabaseStore(database)
    if chosen == "filesystem":
        return FilesystemStore(settings.data_dir / "blobs")
    raise ValueError(f"unknown blob store {chosen!r}")
