"""The database store's download: on PostgreSQL read from several connections at once, yet in
order, cut short where a chunk is missing, and with every connection back in the pool (no query
left running) when the reader stops half-way."""

from __future__ import annotations

import secrets
import uuid

import pytest
from sqlalchemy import delete, text

from core.db import Database
from messaging.blobstore.database import CHUNK, BlobMissing, DatabaseStore
from messaging.models import Blob, BlobChunk


@pytest.fixture
def stored(app, settings, make_person, db_session):
    """A blob of six chunks (the last one short) uploaded to the database store."""
    anna = make_person()
    app.extensions["liaison.settings"] = settings.replace(blob_store="database")
    data = secrets.token_bytes(5 * CHUNK + 123)
    blob_id = str(uuid.uuid4())
    assert anna.post(f"/api/v1/blobs?id={blob_id}", data=data).status_code == 201
    database = Database(settings.database_url)
    try:
        yield DatabaseStore(database), db_session.get(Blob, blob_id), data
    finally:
        database.dispose()


def _busy_connections(store: DatabaseStore) -> int:
    """Connections of the store's pool still lent out, and on PostgreSQL the other sessions
    of this database still running (or holding a transaction over) a query on blob_chunk."""
    busy = store.database.engine.pool.checkedout()  # type: ignore[attr-defined]
    if store.database.engine.dialect.name != "postgresql":
        return busy
    with store.database.engine.connect() as connection:
        return busy + int(
            connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND state <> 'idle' "
                    "AND query LIKE '%blob_chunk%'"
                )
            )
        )


def test_a_download_yields_every_chunk_in_order(stored):
    store, blob, data = stored

    chunks = list(store.chunks(blob))

    assert [len(chunk) for chunk in chunks] == [CHUNK] * 5 + [123]
    assert b"".join(chunks) == data


@pytest.mark.parametrize("missing", [0, 3, 4, 5])
def test_a_download_stops_at_a_missing_chunk(stored, db_session, missing):
    store, blob, data = stored
    db_session.execute(
        delete(BlobChunk).where(BlobChunk.blob_id == blob.id, BlobChunk.seq == missing)
    )
    db_session.commit()

    received: list[bytes] = []
    with pytest.raises(BlobMissing, match=f"chunk {missing} of blob"):
        received.extend(store.chunks(blob))  # extends as it goes, so keeps what came first

    assert b"".join(received) == data[: missing * CHUNK]
    assert _busy_connections(store) == 0


def test_a_download_abandoned_half_way_gives_its_connections_back(stored):
    store, blob, data = stored

    chunks = store.chunks(blob)
    first, second = next(chunks), next(chunks)
    chunks.close()  # the client went away

    assert first + second == data[: 2 * CHUNK]
    assert _busy_connections(store) == 0
    assert b"".join(store.chunks(blob)) == data  # and the blob reads whole again
