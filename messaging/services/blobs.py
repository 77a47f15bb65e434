"""Encrypted attachments on disk: streamed in, never held whole in memory, purged when unnamed.

A blob is written to ``<data dir>/blobs/tmp/`` first and moved into place only when complete, so
a failed or oversized upload leaves nothing behind and a crash leaves only a temporary file that
the purge job removes.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config import Settings
from core.db import utcnow
from messaging.envelopes import UUID
from messaging.errors import Conflict, Malformed, NotFound, TooLarge
from messaging.models import Blob, Delivery, Envelope, EnvelopeBlob

log = logging.getLogger("liaison.messaging.blobs")

CHUNK = 64 * 1024
MIN_BYTES = 24 + 17  # a secretstream header and one (FINAL) chunk: the smallest real blob
UNREFERENCED_AFTER = timedelta(hours=24)


def blob_dir(settings: Settings) -> Path:
    """Where blobs live."""
    directory = settings.data_dir / "blobs"
    (directory / "tmp").mkdir(parents=True, exist_ok=True)
    return directory


def _relative_path(blob_id: str) -> str:
    # A random suffix: two racing uploads of one id never write the same file; the one whose
    # row is refused removes its own file.
    return f"{blob_id[:2]}/{blob_id}.{secrets.token_hex(8)}"


def blob_path(settings: Settings, blob: Blob) -> Path:
    """The file of a blob."""
    return blob_dir(settings) / blob.path


def receive_blob(
    session: Session,
    settings: Settings,
    uploader_id: str,
    blob_id: str,
    stream: IO[bytes],
    *,
    declared_length: int | None,
) -> Blob:
    """Copy the request stream to disk in chunks and record the blob.

    Raises ``TooLarge`` (nothing left on disk) past ``settings.blob_max_bytes``.
    """
    if not UUID.match(blob_id):
        raise Malformed("the blob id must be a lowercase hyphenated UUID chosen by the client")
    if declared_length is not None and declared_length > settings.blob_max_bytes:
        raise TooLarge(f"attachments are limited to {settings.blob_max_bytes} bytes")
    if session.get(Blob, blob_id) is not None:
        raise Conflict("this blob id is already used", check="blob-id-conflict")
    directory = blob_dir(settings)
    temporary = directory / "tmp" / f"{blob_id}.{secrets.token_hex(8)}.part"
    size = 0
    try:
        with temporary.open("xb") as target:
            while True:
                chunk = stream.read(CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > settings.blob_max_bytes:
                    raise TooLarge(f"attachments are limited to {settings.blob_max_bytes} bytes")
                target.write(chunk)
            target.flush()
            os.fsync(target.fileno())
        if declared_length is not None and size != declared_length:
            raise Malformed("the upload ended before Content-Length bytes arrived")
        if size < MIN_BYTES:
            raise Malformed(f"an encrypted attachment is at least {MIN_BYTES} bytes")
        relative = _relative_path(blob_id)
        final = directory / relative
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temporary, final)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    blob = Blob(id=blob_id, uploader_id=uploader_id, size=size, path=relative)
    session.add(blob)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        final.unlink(missing_ok=True)
        raise Conflict("this blob id is already used", check="blob-id-conflict") from None
    return blob


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


def read_chunks(path: Path) -> Iterator[bytes]:
    """The file in chunks, for a streamed response."""
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            yield chunk


def purge_unreferenced(session: Session, settings: Settings, now: datetime) -> list[Path]:
    """Forget blobs no message names 24 hours after upload; returns their files.

    The caller commits, then removes the files (so a failed commit never leaves a row without
    its file). Partial uploads older than 24 hours are removed at once.
    """
    cutoff = now - UNREFERENCED_AFTER
    statement = select(Blob).where(
        Blob.created_at < cutoff, ~exists().where(EnvelopeBlob.blob_id == Blob.id)
    )
    files = []
    for blob in session.scalars(statement).all():
        files.append(blob_path(settings, blob))
        session.delete(blob)
    session.flush()
    directory = blob_dir(settings)
    for partial in (directory / "tmp").glob("*.part"):
        if partial.stat().st_mtime < cutoff.timestamp():
            partial.unlink(missing_ok=True)
    # Files without a row: an upload whose process died between the rename and the commit.
    known = set(session.scalars(select(Blob.path)))
    for path in directory.glob("??/*"):
        name = path.relative_to(directory).as_posix()
        if name not in known and path.stat().st_mtime < cutoff.timestamp():
            files.append(path)
    return files


def remove_files(files: list[Path]) -> None:
    """Delete blob files whose rows are gone (after the commit)."""
    for path in files:
        path.unlink(missing_ok=True)
    if files:
        log.info("removed %d unreferenced blob(s)", len(files))
