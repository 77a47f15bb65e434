"""Encrypted attachments: streamed into the configured blob store, never held whole in memory,
purged when no message names them.

Where the bytes live is the store's business (``messaging.blobstore``); each ``blob`` row says
which store holds it, so a download is served from wherever its upload went.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

from sqlalchemy import exists, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from config import Settings
from core.db import Database, utcnow
from messaging.blobstore import READ, StorageFull, blob_store, is_storage_full
from messaging.envelopes import UUID
from messaging.errors import Conflict, Malformed, NotFound, TooLarge
from messaging.models import Blob, Delivery, Envelope, EnvelopeBlob

log = logging.getLogger("liaison.messaging.blobs")

CHUNK = READ
MIN_BYTES = 24 + 17  # a secretstream header and one (FINAL) chunk: the smallest real blob
UNREFERENCED_AFTER = timedelta(hours=24)
STALE_AFTER = timedelta(minutes=15)  # an upload not written to for this long is abandoned


def receive_blob(  # noqa: PLR0917 - the request's parts, in the order they arrive
    session: Session,
    settings: Settings,
    database: Database,
    uploader_id: str,
    blob_id: str,
    stream: IO[bytes],
    *,
    declared_length: int | None,
) -> Blob:
    """Copy the request stream into the configured store in chunks and record the blob.

    Raises ``TooLarge`` past ``settings.blob_max_bytes`` and ``StorageFull`` when the store has
    no room; either way nothing of the upload is kept.
    """
    if not UUID.match(blob_id):
        raise Malformed("the blob id must be a lowercase hyphenated UUID chosen by the client")
    if declared_length is not None and declared_length > settings.blob_max_bytes:
        raise TooLarge(f"attachments are limited to {settings.blob_max_bytes} bytes")
    if session.get(Blob, blob_id) is not None:
        raise Conflict("this blob id is already used", check="blob-id-conflict")
    store = blob_store(settings, database)
    try:
        location, size = store.write(session, blob_id, stream, settings.blob_max_bytes)
    except IntegrityError:
        raise Conflict("this blob id is already used", check="blob-id-conflict") from None
    try:
        if declared_length is not None and size != declared_length:
            raise Malformed("the upload ended before Content-Length bytes arrived")
        if size < MIN_BYTES:
            raise Malformed(f"an encrypted attachment is at least {MIN_BYTES} bytes")
        blob = Blob(id=blob_id, uploader_id=uploader_id, size=size, path=location)
        blob.store = store.name
        session.add(blob)
        session.flush()
    except IntegrityError:
        session.rollback()
        store.discard(location)
        raise Conflict("this blob id is already used", check="blob-id-conflict") from None
    except DBAPIError as error:
        session.rollback()
        store.discard(location)
        if is_storage_full(error):
            raise StorageFull() from error
        raise
    except BaseException:
        session.rollback()
        store.discard(location)
        raise
    return blob


def commit_blob(session: Session, settings: Settings, database: Database, blob: Blob) -> None:
    """Commit an upload; on a refused commit nothing of it is left (409 or 507)."""
    try:
        session.commit()
    except DBAPIError as error:
        session.rollback()
        blob_store(settings, database, blob.store).discard(blob.path)
        if isinstance(error, IntegrityError):
            raise Conflict("this blob id is already used", check="blob-id-conflict") from None
        if is_storage_full(error):
            raise StorageFull() from error
        raise


def may_download(session: Session, user_id: str, blob: Blob) -> bool:
    """The uploader, and everyone holding a live copy of an unexpired message naming the blob."""
    if blob.uploader_id == user_id:
        return True
    statement = select(
        exists()
        .where(EnvelopeBlob.blob_id == blob.id)
        .where(EnvelopeBlob.envelope_id == Delivery.envelope_id)
        .where(Delivery.recipient_id == user_id, Delivery.deleted_at.is_(None))
        .where(Envelope.id == EnvelopeBlob.envelope_id, Envelope.expires_at > utcnow())
    )
    return bool(session.scalar(statement))


def blob_for(session: Session, user_id: str, blob_id: str) -> Blob:
    """A blob the person may download; ``NotFound`` whether absent or not theirs."""
    blob = session.get(Blob, blob_id) if UUID.match(blob_id) else None
    if blob is None or not may_download(session, user_id, blob):
        raise NotFound()
    return blob


def read_chunks(settings: Settings, database: Database, blob: Blob) -> Iterator[bytes]:
    """The blob's bytes from its own store, in chunks, for a streamed response."""
    return blob_store(settings, database, blob.store).chunks(blob)


def purge_unreferenced(
    session: Session, settings: Settings, database: Database, now: datetime
) -> tuple[int, list[Path]]:
    """Forget blobs no message names 24 hours after upload, in either store; returns how many
    and the files to delete.

    The caller commits, then removes the files (so a failed commit never leaves a row without
    its file). Leftovers of interrupted uploads are purged too (``purge_leftovers``).
    """
    cutoff = now - UNREFERENCED_AFTER
    statement = select(Blob).where(
        Blob.created_at < cutoff, ~exists().where(EnvelopeBlob.blob_id == Blob.id)
    )
    files = []
    blobs = session.scalars(statement).all()
    for blob in blobs:
        files += blob_store(settings, database, blob.store).remove(session, blob)
        session.delete(blob)
    session.flush()
    return len(blobs), files + purge_leftovers(session, settings, database)


def purge_leftovers(session: Session, settings: Settings, database: Database) -> list[Path]:
    """Pieces of uploads abandoned for 15 minutes, in both stores; returns files to delete."""
    files: list[Path] = []
    for name in ("filesystem", "database"):
        store = blob_store(settings, database, name)
        files += store.purge_stale(session, STALE_AFTER.total_seconds())
    session.flush()
    return files


def remove_files(files: list[Path]) -> None:
    """Delete blob files whose rows are gone (after the commit)."""
    for path in files:
        path.unlink(missing_ok=True)
    if files:
        log.info("removed %d unreferenced blob file(s)", len(files))
