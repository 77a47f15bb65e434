"""The documented backup → empty database and data dir → restore, with the real Python client
against a real relay: afterwards people read their old messages and attachments, and their
clients trust the key log without a warning (no ``log-key-changed``)."""

# ruff: noqa: F811 - the relay fixtures are imported by name

from __future__ import annotations

import io
import os
import shutil
import tarfile
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import text

from core.cli import cli
from core.db import Database
from tests.client.relay_fixtures import account, organisations, relay  # noqa: F401
from tests.conftest import PG_URL


def _liaison(settings, *args: str):
    """Run the operator's ``liaison`` command against the test's instance."""
    env = {
        "LIAISON_ENV": "test",
        "LIAISON_DATA_DIR": str(settings.data_dir),
        "LIAISON_DATABASE_URL": settings.database_url,
        "LIAISON_SECRET_KEY": settings.secret_key,
        "LIAISON_MAIL_SINK": "false",
        "LIAISON_RUN_SCHEDULER": "false",
    }
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def _sent_id(result) -> str:
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1].removeprefix("Sent ")


def _empty_database_and_data_dir(app, db_session, settings) -> None:
    """What a lost server leaves: no schema, no rows, no blob or key file (the people's client
    directories, which live on their own machines, stay)."""
    db_session.close()
    app.extensions["liaison.db"].dispose()
    if PG_URL:
        database = Database(PG_URL)
        with database.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        database.dispose()
    for entry in settings.data_dir.iterdir():
        if entry.name.startswith("home-"):
            continue
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def test_a_restored_instance_serves_the_old_messages_attachments_and_the_same_key_log(
    account, app, db_session, settings, tmp_path_factory
) -> None:
    anna, bram = account("A"), account("B")
    original = os.urandom(250_000)
    statement = tmp_path_factory.mktemp("anna") / "verklaring.pdf"
    statement.write_bytes(original)
    first = _sent_id(anna.cli("send", "--to", bram.id, "--subject", "Verklaring",
                              "--body", "Zie de bijlage.", "--file", str(statement)))  # fmt: skip
    reply = _sent_id(bram.cli("send", "--to", anna.id, "--subject", "Re: Verklaring",
                              "--body", "Ontvangen, dank je."))  # fmt: skip
    remembered = bram.mailbox(unlock=False).state
    archive = tmp_path_factory.mktemp("offsite") / "liaison-backup.tar.gz"

    made = _liaison(settings, "backup", str(archive))
    _empty_database_and_data_dir(app, db_session, settings)
    restored = _liaison(settings, "restore", str(archive))

    assert made.exit_code == 0, made.output
    assert restored.exit_code == 0, restored.output
    assert "Restored" in restored.output
    with tarfile.open(archive) as tar:
        if settings.blob_store_kind == "database":  # PostgreSQL: the attachment is table rows
            chunks = tar.extractfile("tables/blob_chunk.jsonl")
            assert chunks is not None
            assert chunks.read().strip()
        else:
            assert any(name.startswith("files/blobs/") for name in tar.getnames())
    shown = bram.cli("read", first)
    assert shown.exit_code == 0, shown.output
    assert "Zie de bijlage." in shown.output
    blob_id = next(line.split()[1] for line in shown.output.splitlines()
                   if line.startswith("Attachment:"))  # fmt: skip
    saved = tmp_path_factory.mktemp("bram") / "got.pdf"
    fetched = bram.cli("fetch-attachment", first, blob_id, "--out", str(saved))
    assert fetched.exit_code == 0, fetched.output
    assert saved.read_bytes() == original
    answered = anna.cli("read", reply)
    assert answered.exit_code == 0, answered.output
    assert "Ontvangen, dank je." in answered.output

    # The log goes on under the same key: the remembered head is extended, never replaced.
    mailbox = bram.mailbox(unlock=False)
    head = mailbox.sync_key_log()
    assert mailbox.state.log_pk == remembered.log_pk
    assert head.to_json() == remembered.log_head
    chloe = account("B")
    welcome = anna.cli("send", "--to", chloe.id, "--subject", "Welkom", "--body", "Hallo Chloe")
    assert welcome.exit_code == 0, welcome.output
    assert "log-key-changed" not in welcome.output
    assert "Hallo Chloe" in chloe.cli("read", _sent_id(welcome)).output


def test_restore_refuses_an_instance_that_holds_data_unless_forced(
    account, settings, tmp_path_factory
) -> None:
    anna, bram = account("A"), account("B")
    _sent_id(anna.cli("send", "--to", bram.id, "--subject", "S", "--body", "eerste"))
    archive = tmp_path_factory.mktemp("offsite") / "liaison-backup.tar"
    assert _liaison(settings, "backup", str(archive)).exit_code == 0
    later = _sent_id(anna.cli("send", "--to", bram.id, "--subject", "S", "--body", "tweede"))

    refused = _liaison(settings, "restore", str(archive))
    still_there = bram.cli("read", later)
    forced = _liaison(settings, "restore", "--force", str(archive))
    gone = bram.cli("read", later)

    assert refused.exit_code == 1
    assert "not empty" in refused.output
    assert "--force" in refused.output
    assert "tweede" in still_there.output
    assert forced.exit_code == 0, forced.output
    assert gone.exit_code == 1
    assert "tweede" not in gone.output


def test_a_damaged_archive_is_refused_before_anything_changes(
    account, settings, tmp_path_factory
) -> None:
    anna, bram = account("A"), account("B")
    message = _sent_id(anna.cli("send", "--to", bram.id, "--subject", "S", "--body", "blijft"))
    offsite: Path = tmp_path_factory.mktemp("offsite")
    archive, damaged = offsite / "good.tar", offsite / "damaged.tar"
    assert _liaison(settings, "backup", str(archive)).exit_code == 0
    with tarfile.open(archive) as source, tarfile.open(damaged, "w") as target:
        for info in source:
            data = source.extractfile(info).read()
            if info.name == "tables/envelope.jsonl":
                data += b" "  # one byte more, as a bad disk or transfer might leave
            info.size = len(data)
            target.addfile(info, io.BytesIO(data))

    refused = _liaison(settings, "restore", "--force", str(damaged))

    assert refused.exit_code == 1
    assert "tables/envelope.jsonl does not match its checksum" in refused.output
    assert "blijft" in bram.cli("read", message).output
