"""Ciphertext only: what a person writes never reaches the database, blob store, search index,
logs or e-mail."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import pytest
from liaison_client.blobs import encrypt_file
from liaison_client.messages import seal
from sqlalchemy import text

from core.mail_outbox import send_due
from core.models import import_all_models
from messaging.notifications import send_notifications
from tests.messaging.conftest import body
from tests.messaging.test_notifications import Inbox, free_port

MARKER = "QUOKKA-4417-case-Lisa-Maertens"


@pytest.fixture
def smtp_settings(settings):
    from aiosmtpd.controller import Controller

    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield settings.replace(smtp_host="127.0.0.1", smtp_port=controller.port), handler
    finally:
        controller.stop()


def _database_dump(db_session) -> str:
    """Every row of every table, as text (bytes columns decoded leniently)."""
    parts = []
    for table in import_all_models().metadata.sorted_tables:
        for row in db_session.execute(text(f'SELECT * FROM "{table.name}"')):
            for value in row:
                if isinstance(value, bytes | memoryview):
                    parts.append(bytes(value).decode("utf-8", "replace"))
                else:
                    parts.append(str(value))
    return "\n".join(parts)


def test_a_marker_in_subject_body_and_attachment_appears_nowhere_on_the_server(
    app, settings, smtp_settings, make_person, db_session, tmp_path_factory, caplog
):
    client_dir = tmp_path_factory.mktemp("client")  # the writer's machine, not the server's
    caplog.set_level(logging.DEBUG)
    mail_settings, inbox = smtp_settings
    anna, bram = make_person("A"), make_person("B")
    plain = client_dir / f"{MARKER}.txt"
    plain.write_text(f"{MARKER}\n" * 1000)
    blob_id = str(uuid.uuid4())
    encrypted = client_dir / "blob.bin"
    manifest = encrypt_file(plain, encrypted, blob_id)
    anna.http.post(
        f"/api/v1/blobs?id={blob_id}", data=encrypted.read_bytes(), headers=anna.headers()
    )
    envelope = seal(
        anna.identity,
        [bram.identity.public()],
        body(MARKER, subject=MARKER, attachments=[manifest], form={"name": MARKER}),
    ).to_json()
    assert (
        anna.post("/api/v1/messages", json={"envelope": envelope, "blobs": [blob_id]}).status_code
        == 201
    )
    listed = bram.get("/api/v1/messages").get_data(as_text=True)
    send_notifications(mail_settings, app.extensions["liaison.db"])
    send_due(mail_settings, app.extensions["liaison.db"])
    inbox.wait_for(1)

    assert MARKER not in _database_dump(db_session)
    if settings.sqlite:  # the file itself and its write-ahead log
        database_file = Path(settings.database_url.removeprefix("sqlite:///"))
        for path in database_file.parent.glob(database_file.name + "*"):
            assert MARKER.encode() not in path.read_bytes()
    for path in (settings.data_dir / "blobs").rglob("*"):
        if path.is_file():
            assert MARKER.encode() not in path.read_bytes()
    # the search index, rebuilt from everything the database now holds, and every other file the
    # instance wrote under its data directory
    app.extensions["liaison.search"].reindex()
    index_files = [p for p in (settings.data_dir / "search").rglob("*") if p.is_file()]
    assert index_files, "the search index should exist on disk"
    for path in settings.data_dir.rglob("*"):
        if path.is_file():
            assert MARKER.encode() not in path.read_bytes(), path
    assert MARKER not in listed
    assert len(inbox.messages) == 1
    assert all(MARKER not in message.as_string() for _, message in inbox.messages)
    assert MARKER not in caplog.text
