"""Attachments: streamed to disk, size-limited with nothing left behind, downloaded only by the
people of a message naming them, and purged when no message names them within 24 hours."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta

import pytest
from liaison_client.blobs import decrypt_to_file, encrypt_file
from liaison_client.messages import seal
from sqlalchemy import func, select, update

from core.db import Database, utcnow
from messaging.errors import TooLarge
from messaging.jobs import purge_blobs
from messaging.models import Blob, BlobChunk
from messaging.services.blobs import CHUNK, receive_blob
from tests.messaging.conftest import body, sealed


def upload(person, data: bytes, blob_id: str | None = None, **kwargs):
    blob_id = blob_id or str(uuid.uuid4())
    response = person.http.post(
        f"/api/v1/blobs?id={blob_id}", data=data, headers=person.headers(), **kwargs
    )
    return blob_id, response


@pytest.fixture(params=["filesystem", "database"])
def settings(settings, request):
    """Every test here runs against both blob stores (on SQLite and on PostgreSQL)."""
    return settings.replace(blob_store=request.param)


def files_under(settings) -> list:
    """What the blob stores hold: files under the data dir, and chunk rows in the database."""
    root = settings.data_dir / "blobs"
    files = [p for p in root.rglob("*") if p.is_file()] if root.exists() else []
    database = Database(settings.database_url)
    try:
        with database.session() as session:
            chunks = session.scalars(select(BlobChunk.blob_id).distinct()).all()
    finally:
        database.dispose()
    return files + list(chunks)


def test_an_attachment_travels_from_sender_to_recipient_and_decrypts(
    make_person, settings, tmp_path
):
    anna, bram = make_person(), make_person()
    plain = tmp_path / "verklaring.pdf"
    plain.write_bytes(b"%PDF-1.7 " + b"x" * 150_000)
    blob_id = str(uuid.uuid4())
    encrypted = tmp_path / "blob.bin"
    manifest = encrypt_file(plain, encrypted, blob_id)
    _, uploaded = upload(anna, encrypted.read_bytes(), blob_id)
    envelope = seal(anna.identity, [bram.identity.public()], body(attachments=[manifest])).to_json()
    posted = anna.post("/api/v1/messages", json={"envelope": envelope, "blobs": [blob_id]})

    downloaded = bram.get(f"/api/v1/blobs/{blob_id}")
    target = tmp_path / "received.pdf"
    decrypt_to_file(io.BytesIO(downloaded.data), len(downloaded.data), manifest, target)

    assert (uploaded.status_code, posted.status_code) == (201, 201)
    assert downloaded.headers["Content-Length"] == str(encrypted.stat().st_size)
    assert target.read_bytes() == plain.read_bytes()


def test_an_oversized_blob_is_refused_with_413_and_nothing_left_on_disk(
    app, make_person, settings, db_session
):
    anna = make_person()
    app.extensions["liaison.settings"] = settings.replace(blob_max_bytes=100_000)

    _, declared = upload(anna, b"x" * 100_001)
    _, streamed = upload(
        anna,
        None,
        input_stream=io.BytesIO(b"y" * 300_000),
        environ_base={"wsgi.input_terminated": True},
    )

    assert declared.status_code == 413
    assert streamed.status_code == 413
    assert streamed.get_json()["check"] == "too-large"
    assert files_under(settings) == []
    assert db_session.scalar(select(func.count()).select_from(Blob)) == 0


def test_a_blob_at_the_limit_is_accepted(app, make_person, settings):
    anna = make_person()
    app.extensions["liaison.settings"] = settings.replace(blob_max_bytes=100_000)

    _, response = upload(anna, b"z" * 100_000)

    assert response.status_code == 201
    assert response.get_json()["size"] == 100_000


def test_the_upload_is_read_in_bounded_chunks(app, make_person, settings, db_session):
    anna = make_person()
    reads: list[int] = []

    class Source(io.BytesIO):
        def read(self, size=-1):
            reads.append(size)
            return super().read(size)

    blob = receive_blob(
        db_session,
        settings,
        app.extensions["liaison.db"],
        anna.id,
        str(uuid.uuid4()),
        Source(b"a" * (5 * CHUNK + 7)),
        declared_length=None,
    )

    assert blob.size == 5 * CHUNK + 7
    assert reads
    assert all(0 < size <= CHUNK for size in reads)


def test_a_failing_stream_leaves_no_partial_file(app, make_person, settings, db_session):
    anna = make_person()

    class Broken(io.BytesIO):
        def read(self, size=-1):
            if self.tell() > CHUNK:
                raise OSError("connection reset")
            return super().read(size)

    with pytest.raises(OSError, match="reset"):
        receive_blob(
            db_session,
            settings,
            app.extensions["liaison.db"],
            anna.id,
            str(uuid.uuid4()),
            Broken(b"b" * 4 * CHUNK),
            declared_length=None,
        )
    with pytest.raises(TooLarge):
        receive_blob(
            db_session,
            settings.replace(blob_max_bytes=10),
            app.extensions["liaison.db"],
            anna.id,
            str(uuid.uuid4()),
            io.BytesIO(b"c" * 11),
            declared_length=None,
        )

    assert files_under(settings) == []


def test_blob_ids_must_be_uuids_and_unused(make_person):
    anna, bram = make_person(), make_person()
    blob_id, first = upload(anna, b"first".ljust(64, b"."))

    _, again = upload(bram, b"second".ljust(64, b"."), blob_id)
    _, bad = upload(anna, b"x", "../../secret")
    missing = anna.http.post("/api/v1/blobs", data=b"x" * 64, headers=anna.headers())
    _, short = upload(anna, b"x" * 40)

    assert first.status_code == 201
    assert (again.status_code, again.get_json()["check"]) == (409, "blob-id-conflict")
    assert bad.status_code == 400
    assert missing.status_code == 400
    assert (short.status_code, short.get_json()["check"]) == (400, "malformed")
    assert anna.get(f"/api/v1/blobs/{blob_id}").data == b"first".ljust(64, b".")


def test_a_sender_cannot_attach_someone_elses_blob(make_person):
    anna, bram, chloe = make_person(), make_person(), make_person("B")
    blob_id, _ = upload(anna, b"private".ljust(64, b"."))

    response = chloe.post(
        "/api/v1/messages", json={"envelope": sealed(chloe, bram), "blobs": [blob_id]}
    )

    assert (response.status_code, response.get_json()["check"]) == (422, "unknown-blob")
    assert bram.get(f"/api/v1/blobs/{blob_id}").status_code == 404


def test_a_recipient_may_forward_an_attachment_they_received(make_person):
    anna, bram, chloe = make_person(), make_person(), make_person("B")
    blob_id, _ = upload(anna, b"forwardable".ljust(64, b"."))
    anna.post("/api/v1/messages", json={"envelope": sealed(anna, bram), "blobs": [blob_id]})

    forwarded = bram.post(
        "/api/v1/messages", json={"envelope": sealed(bram, chloe), "blobs": [blob_id]}
    )

    assert forwarded.status_code == 201
    assert chloe.get(f"/api/v1/blobs/{blob_id}").data == b"forwardable".ljust(64, b".")


def test_unreferenced_blobs_are_purged_after_24_hours_and_named_ones_kept(
    app, make_person, settings, db_session
):
    anna, bram = make_person(), make_person()
    old_unnamed, _ = upload(anna, b"old and unnamed".ljust(64, b"."))
    old_named, _ = upload(anna, b"old but named".ljust(64, b"."))
    fresh, _ = upload(anna, b"fresh".ljust(64, b"."))
    anna.post("/api/v1/messages", json={"envelope": sealed(anna, bram), "blobs": [old_named]})
    db_session.execute(
        update(Blob)
        .where(Blob.id.in_([old_unnamed, old_named]))
        .values(created_at=utcnow() - timedelta(hours=25))
    )
    db_session.commit()
    database = app.extensions["liaison.db"]

    first = purge_blobs(settings, database, utcnow())
    second = purge_blobs(settings, database, utcnow())

    assert (first, second) == (1, 0)
    db_session.expire_all()
    assert set(db_session.scalars(select(Blob.id))) == {old_named, fresh}
    assert len(files_under(settings)) == 2
    assert anna.get(f"/api/v1/blobs/{old_unnamed}").status_code == 404


def test_a_file_left_by_a_crashed_upload_is_purged_after_24_hours(app, make_person, settings):
    import os

    anna = make_person()
    kept_id, _ = upload(anna, b"kept".ljust(64, b"."))
    orphan = settings.data_dir / "blobs" / "ab" / "abandoned.0123"
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"left behind")
    day_ago = (utcnow() - timedelta(hours=25)).timestamp()
    os.utime(orphan, (day_ago, day_ago))

    purge_blobs(settings, app.extensions["liaison.db"], utcnow())

    assert not orphan.exists()
    assert anna.get(f"/api/v1/blobs/{kept_id}").data == b"kept".ljust(64, b".")


def test_a_large_upload_and_download_never_hold_the_blob_in_memory(app, make_person, settings):
    import tracemalloc

    anna = make_person()
    size = 20 * 1024 * 1024
    source = io.BytesIO(b"\x5a" * size)  # allocated before measuring
    blob_id = str(uuid.uuid4())

    tracemalloc.start()
    try:
        uploaded = anna.http.post(
            f"/api/v1/blobs?id={blob_id}",
            input_stream=source,
            headers=anna.headers(),
            environ_base={"wsgi.input_terminated": True},
        )
        _, upload_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        downloaded = anna.http.get(f"/api/v1/blobs/{blob_id}", buffered=False)
        received = sum(len(chunk) for chunk in downloaded.response)
        downloaded.close()
        _, download_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert uploaded.status_code == 201
    assert received == size
    # The database store holds a few 1 MiB chunks at once (one filling, one waiting, one being
    # inserted on PostgreSQL); the filesystem store 64 KiB pieces. Either way not the 20 MB blob.
    bound = (6 if settings.blob_store == "database" else 4) * 1024 * 1024
    assert upload_peak < bound
    assert download_peak < bound


def test_an_upload_cut_short_leaves_nothing_behind(make_person, settings, db_session):
    anna = make_person()
    blob_id = str(uuid.uuid4())

    response = anna.http.post(
        f"/api/v1/blobs?id={blob_id}",
        input_stream=io.BytesIO(b"q" * 1_500_000),  # the client goes away half-way
        environ_overrides={"CONTENT_LENGTH": "3000000"},
        headers=anna.headers(),
    )

    assert response.status_code == 400
    assert files_under(settings) == []
    assert db_session.scalar(select(func.count()).select_from(Blob)) == 0


def test_the_leftovers_job_removes_abandoned_uploads_after_15_minutes(app, settings):
    import os

    from messaging.jobs import purge_blob_leftovers

    partials = settings.data_dir / "blobs" / "tmp"
    partials.mkdir(parents=True, exist_ok=True)
    abandoned, writing = partials / "a.0123.part", partials / "b.4567.part"
    abandoned.write_bytes(b"abandoned")
    writing.write_bytes(b"still arriving")
    sixteen_minutes_ago = (utcnow() - timedelta(minutes=16)).timestamp()
    os.utime(abandoned, (sixteen_minutes_ago, sixteen_minutes_ago))

    purge_blob_leftovers(settings, app.extensions["liaison.db"], utcnow())

    assert not abandoned.exists()
    assert writing.exists()
