"""The key log's signing key lives in the database (or in configuration), never only in a data
dir: created once even by racing processes, never half-written, an old key file adopted once."""

from __future__ import annotations

import base64
import threading

from liaison_client.encoding import unb64
from liaison_client.keylog import parse_signed_head
from sqlalchemy import func, select

from core.app import close_app, create_app
from core.db import Database
from messaging import crypto
from messaging.envelopes import b64encode
from messaging.models import KeyLogKey
from messaging.services.keylog import KEY_FILE, log_key


def test_racing_processes_create_one_key_and_all_use_it(settings):
    databases = [Database(settings.database_url) for _ in range(6)]
    start = threading.Barrier(len(databases))
    keys: list[bytes] = []

    def first_use(database: Database) -> None:
        with database.session() as session:
            start.wait()
            keys.append(log_key(session, settings).public)

    threads = [threading.Thread(target=first_use, args=(d,)) for d in databases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with databases[0].session() as session:
        rows = session.scalar(select(func.count()).select_from(KeyLogKey))
    for database in databases:
        database.dispose()

    assert len(keys) == len(databases)
    assert len(set(keys)) == 1
    assert rows == 1


def test_a_new_data_dir_on_the_same_database_serves_the_same_key(
    app, settings, make_person, tmp_path
):
    anna = make_person()
    before = anna.get("/api/v1/key-log/head").get_json()
    restored = create_app(settings.replace(data_dir=tmp_path / "restored-host"))
    try:
        with restored.app_context(), restored.extensions["liaison.db"].session() as session:
            after = b64encode(log_key(session, restored.extensions["liaison.settings"]).public)
    finally:
        close_app(restored)

    assert after == before["log_pk"]
    log_pk = unb64(before["log_pk"], 32, "log key")
    assert parse_signed_head(before["head"], log_pk).seq == 1


def test_the_key_file_of_an_older_release_is_adopted_once(settings, make_user, tmp_path):
    public, secret = crypto.signing_keypair()
    (settings.data_dir / KEY_FILE).write_text(b64encode(secret))
    database = Database(settings.database_url)
    try:
        with database.session() as session:
            adopted = log_key(session, settings).public
        (settings.data_dir / KEY_FILE).unlink()
        with database.session() as session:
            later = log_key(session, settings).public
    finally:
        database.dispose()

    assert adopted == later == public


def test_an_empty_key_file_left_by_a_full_disk_is_never_used(make_person, settings):
    (settings.data_dir / KEY_FILE).write_bytes(b"")
    anna = make_person()  # publishing signs a head with the log key

    head = anna.get("/api/v1/key-log/head")

    assert head.status_code == 200
    log_pk = unb64(head.get_json()["log_pk"], 32, "log key")
    assert parse_signed_head(head.get_json()["head"], log_pk).seq == 1


def test_a_configured_key_signs_the_log(app, settings, make_person):
    seed = bytes(range(32))
    configured = base64.urlsafe_b64encode(seed).decode().rstrip("=")
    app.extensions["liaison.settings"] = settings.replace(key_log_signing_key=configured)
    anna = make_person()

    head = anna.get("/api/v1/key-log/head").get_json()

    assert head["log_pk"] == b64encode(crypto.log_keypair_from_seed(seed)[1])
    parse_signed_head(head["head"], unb64(head["log_pk"], 32, "log key"))
