"""The filesystem blob store: one file per blob under ``<data dir>/blobs``.

A blob is written to ``tmp/`` first and moved into place only when complete, so a failed,
oversized or interrupted upload leaves nothing behind (the temporary file is removed at once),
and a process killed mid-upload leaves only a temporary file that the purge job removes.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from messaging.blobstore import READ, Readable, StorageFull, is_storage_full
from messaging.errors import TooLarge
from messaging.models import Blob


class FilesystemStore:
    """Blobs as files: the embedded default, and any single host."""

    name = "filesystem"

    def __init__(self, root: Path) -> None:
        self.root = root

    def _tmp(self) -> Path:
        directory = self.root / "tmp"
        directory.mkdir(parents=True, exist_ok=True)
        return directory

    def path(self, location: str) -> Path:
        """The file of a blob stored at ``location``."""
        return self.root / location

    def write(
        self, session: Session, blob_id: str, stream: Readable, max_bytes: int
    ) -> tuple[str, int]:
        """Copy the stream to a temporary file, then move it into place."""
        size = 0
        temporary = self.root / "tmp" / f"{blob_id}.{secrets.token_hex(8)}.part"
        try:
            self._tmp()
            with temporary.open("xb") as target:
                while chunk := stream.read(READ):
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLarge(f"attachments are limited to {max_bytes} bytes")
                    target.write(chunk)
                target.flush()
                os.fsync(target.fileno())
            # A random suffix: two racing uploads of one id never write the same file; the one
            # whose row is refused removes its own file.
            location = f"{blob_id[:2]}/{blob_id}.{secrets.token_hex(8)}"
            final = self.root / location
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temporary, final)
        except OSError as error:
            if is_storage_full(error):
                raise StorageFull() from error
            raise
        finally:
            temporary.unlink(missing_ok=True)
        return location, size

    def chunks(self, blob: Blob) -> Iterator[bytes]:
        """The file in pieces, for a streamed response."""
        with self.path(blob.path).open("rb") as source:
            while chunk := source.read(READ):
                yield chunk

    def discard(self, location: str) -> None:
        """Remove the file of a row that was never committed."""
        if location:
            self.path(location).unlink(missing_ok=True)

    def remove(self, session: Session, blob: Blob) -> list[Path]:
        """The blob's file, to delete after the caller's commit."""
        return [self.path(blob.path)]

    def purge_stale(self, session: Session, older_than: float) -> list[Path]:
        """Temporary files and files without a row, untouched for ``older_than`` seconds."""
        if not self.root.exists():
            return []
        cutoff = time.time() - older_than
        for partial in self._tmp().glob("*.part"):
            _remove_if_older(partial, cutoff)
        # Files without a row: an upload whose process died between the rename and the commit.
        known = set(session.scalars(select(Blob.path).where(Blob.store == self.name)))
        stale = []
        for path in self.root.glob("??/*"):
            name = path.relative_to(self.root).as_posix()
            if name not in known and _older(path, cutoff):
                stale.append(path)
        return stale


def _older(path: Path, cutoff: float) -> bool:
    try:
        return path.stat().st_mtime < cutoff
    except FileNotFoundError:
        return False


def _remove_if_older(path: Path, cutoff: float) -> None:
    if _older(path, cutoff):
        path.unlink(missing_ok=True)
