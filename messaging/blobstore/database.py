"""The database blob store: each blob as 1 MiB rows of ``blob_chunk``.

Chosen whenever the database is PostgreSQL, so that every web host reads what any host received
without a shared disk, and a backup of the database holds the attachments too. An upload is
inserted one chunk at a time while the request stream is read, in the request's transaction (a
refused or interrupted upload is rolled back whole; on PostgreSQL a thread inserts one chunk
while the next is read); a download reads one chunk at a time on a
connection of its own (on PostgreSQL two connections, each a binary result of every other chunk
streamed row by row), so neither direction holds more than a few chunks in memory.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any, cast

import psycopg
from sqlalchemy import Engine, delete, exists, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from core.db import Database
from messaging.blobstore import READ, Readable, StorageFull, is_storage_full
from messaging.errors import Conflict, TooLarge
from messaging.models import Blob, BlobChunk

CHUNK = 1024 * 1024
STREAMS = 2  # PostgreSQL connections a download reads from at once
_SELECT_CHUNKS = (
    "SELECT seq, data FROM blob_chunk WHERE blob_id = %s AND seq %% %s = %s ORDER BY seq"
)
_INSERT_CHUNK = "INSERT INTO blob_chunk (blob_id, seq, data) VALUES (%s, %s, %b)"
_UNIQUE_VIOLATION = "23505"


class BlobMissing(Exception):
    """A chunk of a recorded blob is absent (the store was tampered with)."""


def _postgresql_chunks(engine: Engine, blob_id: str, count: int) -> Iterator[bytes]:
    # PostgreSQL sends a result 8 KiB per system call (and reads a chunk larger than its shared
    # buffers 8 KiB per call too): its backend, not this process, bounds a download. So the
    # chunks are read on STREAMS connections at once, each streaming every STREAMS-th chunk
    # (binary results — psycopg sends bytea as hex text otherwise — row by row, libpq's
    # single-row mode), taken from them in turn: each backend prepares its next chunk while the
    # others' are sent, and only one chunk per connection is held here. A download abandoned
    # half-way cancels the queries; the pool rolls the connections back.
    streams = min(STREAMS, count)
    with ExitStack() as stack:
        rows = []
        for part in range(streams):
            connection = stack.enter_context(engine.connect())
            driver = connection.connection.driver_connection
            assert isinstance(driver, psycopg.Connection)
            cursor = stack.enter_context(driver.cursor(binary=True))
            part_rows = cast(  # a generator: closing it cancels the query
                Generator[tuple[int, bytes]],
                cursor.stream(_SELECT_CHUNKS, (blob_id, streams, part), binary=True),
            )
            stack.callback(part_rows.close)  # before its cursor and connection are let go
            rows.append(part_rows)
        expected = 0
        while expected < count:
            row = next(rows[expected % streams], None)
            if row is None or row[0] != expected:
                break
            expected += 1
            yield bytes(row[1])
    if expected != count:
        raise BlobMissing(f"chunk {expected} of blob {blob_id} is missing")


class _SessionInserter:
    """Each chunk inserted through the session as it comes (SQLite)."""

    def __init__(self, session: Session, blob_id: str) -> None:
        self.session, self.blob_id = session, blob_id

    def put(self, seq: int, data: bytearray) -> None:
        self.session.execute(insert(BlobChunk), {"blob_id": self.blob_id, "seq": seq, "data": data})

    def finish(self) -> None:
        """Nothing is pending."""


class _WriteBehind:
    """Chunks inserted by a thread on the session's own PostgreSQL connection, while the request
    thread reads the next one from the client: the upload waits for the slower of the two, not
    for both. At most one chunk waits; the first error stops the inserts and is raised here."""

    def __init__(self, driver: psycopg.Connection[Any], blob_id: str) -> None:
        self.driver, self.blob_id = driver, blob_id
        self.waiting: queue.Queue[tuple[int, bytearray] | None] = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="liaison-blob-insert", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (item := self.waiting.get()) is not None:
            if self.error is None:
                try:
                    self.driver.execute(_INSERT_CHUNK, (self.blob_id, item[0], item[1]))
                except BaseException as error:
                    self.error = error

    def put(self, seq: int, data: bytearray) -> None:
        if self.error is not None:
            raise self.error
        self.waiting.put((seq, data))

    def finish(self) -> None:
        """Wait for the inserts; raise the first one's error."""
        self.waiting.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error


def _inserter(session: Session, blob_id: str) -> _SessionInserter | _WriteBehind:
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return _SessionInserter(session, blob_id)
    driver = connection.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    return _WriteBehind(driver, blob_id)


class DatabaseStore:
    """Blobs as rows: N hosts, one database, no shared disk."""

    name = "database"

    def __init__(self, database: Database) -> None:
        self.database = database

    def write(
        self, session: Session, blob_id: str, stream: Readable, max_bytes: int
    ) -> tuple[str, int]:
        """Insert the stream as chunks in the caller's transaction."""
        size, seq, filled = 0, 0, 0
        pending = bytearray(CHUNK)  # filled in place, handed over whole: no copy, no regrowth
        inserter = _inserter(session, blob_id)
        try:
            try:
                while piece := stream.read(min(READ, CHUNK - filled)):
                    size += len(piece)
                    if size > max_bytes:
                        raise TooLarge(f"attachments are limited to {max_bytes} bytes")
                    pending[filled : filled + len(piece)] = piece
                    filled += len(piece)
                    if filled == CHUNK:
                        inserter.put(seq, pending)
                        pending, filled = bytearray(CHUNK), 0
                        seq += 1
                if filled or seq == 0:
                    inserter.put(seq, pending[:filled])
            finally:
                inserter.finish()
        except (DBAPIError, psycopg.Error) as error:
            session.rollback()  # the transaction is broken: nothing of it can be kept
            if is_storage_full(error):
                raise StorageFull() from error
            if getattr(error, "sqlstate", None) == _UNIQUE_VIOLATION:
                raise Conflict("this blob id is already used", check="blob-id-conflict") from None
            raise
        except BaseException:
            session.execute(delete(BlobChunk).where(BlobChunk.blob_id == blob_id))
            raise
        return "", size

    def chunks(self, blob: Blob) -> Iterator[bytes]:
        """The blob's chunks in order, each fetched when the previous one has been sent."""
        count = max(1, -(-blob.size // CHUNK))
        if self.database.engine.dialect.name == "postgresql":
            yield from _postgresql_chunks(self.database.engine, blob.id, count)
            return
        with self.database.engine.connect() as connection:
            query = select(BlobChunk.data).where(BlobChunk.blob_id == blob.id)
            for seq in range(count):
                data = connection.scalar(query.where(BlobChunk.seq == seq))
                if data is None:
                    raise BlobMissing(f"chunk {seq} of blob {blob.id} is missing")
                yield bytes(data)

    def discard(self, location: str) -> None:
        """Nothing to do: the chunks went with the rolled-back transaction."""

    def remove(self, session: Session, blob: Blob) -> list[Path]:
        """Delete the blob's chunks in the caller's transaction."""
        session.execute(delete(BlobChunk).where(BlobChunk.blob_id == blob.id))
        return []

    def purge_stale(self, session: Session, older_than: float) -> list[Path]:
        """Chunks no blob row of this store names (committed leftovers of a manual repair)."""
        named = exists().where(Blob.id == BlobChunk.blob_id, Blob.store == self.name)
        session.execute(delete(BlobChunk).where(~named))
        return []
