"""``liaison blobs migrate`` moves every blob between the stores, and a stopped run resumes."""

from __future__ import annotations

import secrets
import uuid

from click.testing import CliRunner
from sqlalchemy import func, select

from core.cli import cli
from messaging.blobstore.migrate import move_blob
from messaging.models import Blob, BlobChunk


def _env(settings, store: str) -> dict[str, str]:
    return {
        "LIAISON_ENV": "test",
        "LIAISON_DATA_DIR": str(settings.data_dir),
        "LIAISON_DATABASE_URL": settings.database_url,
        "LIAISON_SECRET_KEY": settings.secret_key,
        "LIAISON_BLOB_STORE": store,
        "LIAISON_MAIL_SINK": "false",
        "LIAISON_RUN_SCHEDULER": "false",
    }


def _files(settings) -> list:
    root = settings.data_dir / "blobs"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_blobs_move_to_the_database_and_back_and_still_download(
    app, settings, make_person, db_session
):
    anna = make_person()
    app.extensions["liaison.settings"] = settings.replace(blob_store="filesystem")
    contents = {str(uuid.uuid4()): secrets.token_bytes(n) for n in (100, 1_500_000, 3_000_000)}
    for blob_id, data in contents.items():
        assert anna.post(f"/api/v1/blobs?id={blob_id}", data=data).status_code == 201
    runner = CliRunner()

    to_database = runner.invoke(cli, ["blobs", "migrate", "--to", "database"],
                                env=_env(settings, "database"))  # fmt: skip
    files_after_first = _files(settings)
    downloads_from_database = {b: anna.get(f"/api/v1/blobs/{b}").data for b in contents}
    back = runner.invoke(cli, ["blobs", "migrate", "--to", "filesystem"],
                         env=_env(settings, "filesystem"))  # fmt: skip
    downloads_from_disk = {b: anna.get(f"/api/v1/blobs/{b}").data for b in contents}

    assert to_database.exit_code == 0, to_database.output
    assert "moved 3 blob(s), 4500100 bytes, to the database store" in to_database.output
    assert files_after_first == []
    assert downloads_from_database == contents
    assert back.exit_code == 0, back.output
    assert downloads_from_disk == contents
    assert len(_files(settings)) == 3
    assert db_session.scalar(select(func.count()).select_from(BlobChunk)) == 0


def test_a_stopped_migration_moves_only_what_is_left_when_run_again(
    app, settings, make_person, db_session
):
    anna = make_person()
    app.extensions["liaison.settings"] = settings.replace(blob_store="filesystem")
    ids = [str(uuid.uuid4()) for _ in range(3)]
    for blob_id in ids:
        anna.post(f"/api/v1/blobs?id={blob_id}", data=secrets.token_bytes(200))
    # The first run stopped after one blob (each blob is committed on its own).
    database = app.extensions["liaison.db"]
    _moved, old_files = move_blob(db_session, settings, database, ids[0], "database")
    db_session.commit()
    for path in old_files:
        path.unlink()
    runner = CliRunner()

    resumed = runner.invoke(cli, ["blobs", "migrate", "--to", "database"],
                            env=_env(settings, "database"))  # fmt: skip
    again = runner.invoke(cli, ["blobs", "migrate", "--to", "database"],
                          env=_env(settings, "database"))  # fmt: skip

    assert "moved 2 blob(s)" in resumed.output
    assert "moved 0 blob(s)" in again.output
    db_session.expire_all()
    assert set(db_session.scalars(select(Blob.store))) == {"database"}
    assert _files(settings) == []
