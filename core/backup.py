"""A portable backup of an instance: every table's rows, the schema revision and the data dir's
state files, in one tar archive with a manifest of counts and checksums.

Rows are read through the models' metadata, so a table added by any part of Liaison (blob chunks,
the key-log key, a mail outbox) is in the archive without being named here. Each table is a file
of JSON lines in foreign-key order, its values encoded by column type (bytes as base64, times in
ISO 8601), so that an archive of SQLite restores into PostgreSQL and back. The state files are the
ones a restored instance cannot recreate: the filesystem blob store and the generated keys.

The archive holds secrets (password hashes, TOTP seeds, the key-log signing key): it is written
readable by its owner only and must be kept like the database itself.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Connection, Table, func, select, text
from sqlalchemy.types import TypeDecorator

from config import Settings
from core import migrate
from core.db import Database, utcnow
from core.models import import_all_models

FORMAT = "liaison-backup"
VERSION = 1
MANIFEST = "manifest.json"
BATCH = 500
# Data-dir entries a restored instance needs and cannot rebuild (the search index it can).
STATE_PATHS = ("blobs", "key-log.key", "secret_key")
# Work in progress of the filesystem blob store: never part of a backup.
SKIPPED_DIRS = {"tmp"}
# Tables `liaison db upgrade` fills by itself: rows there do not make a database "not empty".
SEEDED_TABLES = {"taxonomy", "taxonomy_term"}


class BackupError(Exception):
    """A backup cannot be written or an archive cannot be restored; the message says why."""


@dataclass
class Summary:
    """What an archive holds (or what a restore put back)."""

    revision: str
    created_at: str
    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0
    file_bytes: int = 0

    @property
    def total_rows(self) -> int:
        """Rows over all tables."""
        return sum(self.rows.values())


def _tables() -> list[Table]:
    return list(import_all_models().metadata.sorted_tables)


def _kind(column: Column[Any]) -> str:
    column_type = column.type
    while isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    try:
        python_type = column_type.python_type
    except NotImplementedError:
        return "raw"
    kinds = {bytes: "bytes", datetime: "datetime", date: "date", time: "time",
             Decimal: "decimal", uuid.UUID: "uuid"}  # fmt: skip
    return kinds.get(python_type, "raw")


def _encode(kind: str, value: Any) -> Any:
    if value is None or kind == "raw":
        return value
    if kind == "bytes":
        return base64.b64encode(value).decode("ascii")
    if kind in {"datetime", "date", "time"}:
        return value.isoformat()
    return str(value)


_DECODERS: dict[str, Callable[[str], Any]] = {
    "bytes": base64.b64decode, "datetime": datetime.fromisoformat, "date": date.fromisoformat,
    "time": time.fromisoformat, "decimal": Decimal, "uuid": uuid.UUID,
}  # fmt: skip


def _decode(kind: str, value: Any) -> Any:
    if value is None or kind == "raw":
        return value
    return _DECODERS[kind](value)


def current_revision(connection: Connection) -> str | None:
    """The Alembic revision the database is at (None: no schema yet)."""
    return MigrationContext.configure(connection).get_current_revision()


def head_revision(database_url: str) -> str:
    """The revision this release's migrations end at."""
    head = ScriptDirectory.from_config(migrate.alembic_config(database_url)).get_current_head()
    if head is None:
        raise BackupError("this release has no migrations")
    return head


def _sha256(stream: IO[bytes]) -> str:
    digest = hashlib.sha256()
    for piece in iter(lambda: stream.read(1 << 20), b""):
        digest.update(piece)
    return digest.hexdigest()


def _state_files(settings: Settings) -> Iterator[tuple[str, Path]]:
    """(archive name, path) of every state file under the data dir, in a stable order."""
    for name in STATE_PATHS:
        path = settings.data_dir / name
        if path.is_file():
            yield name, path
        elif path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
                for file in sorted(files):
                    full = Path(root) / file
                    yield full.relative_to(settings.data_dir).as_posix(), full


def _dump_table(connection: Connection, table: Table, target: Path) -> int:
    kinds = {column.name: _kind(column) for column in table.columns}
    query = select(table).order_by(*table.primary_key.columns)
    count = 0
    with target.open("w", encoding="utf-8") as out:
        result = connection.execution_options(yield_per=BATCH).execute(query)
        for row in result.mappings():
            encoded = {name: _encode(kinds[name], value) for name, value in row.items()}
            out.write(json.dumps(encoded, ensure_ascii=False, separators=(",", ":")) + "\n")
            count += 1
    return count


def write_backup(database: Database, settings: Settings, archive: Path) -> Summary:
    """Write every table and state file into a new tar archive at ``archive``.

    The rows come from one snapshot (a repeatable-read transaction on PostgreSQL); state files
    are read after the rows, so every blob a row names is there.
    """
    if archive.exists():
        raise BackupError(f"{archive} exists: choose a new file name")
    head = head_revision(settings.database_url)
    summary = Summary(revision=head, created_at=utcnow().isoformat())
    tables: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(dir=archive.parent, prefix=".liaison-backup-") as work:
        engine = database.engine
        options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name != "sqlite" else {}
        with engine.connect().execution_options(**options) as connection, connection.begin():
            revision = current_revision(connection)
            if revision != head:
                raise BackupError(f"the database is at revision {revision}, this release at "
                                  f"{head}: run liaison db upgrade first")  # fmt: skip
            for table in _tables():
                path = Path(work) / f"{table.name}.jsonl"
                rows = _dump_table(connection, table, path)
                with path.open("rb") as stream:
                    checksum = _sha256(stream)
                tables.append({"name": table.name, "rows": rows, "sha256": checksum})
                summary.rows[table.name] = rows
        files: list[dict[str, Any]] = []
        for name, path in _state_files(settings):
            with path.open("rb") as stream:
                checksum = _sha256(stream)
            files.append({"path": name, "size": path.stat().st_size, "sha256": checksum})
            summary.files += 1
            summary.file_bytes += path.stat().st_size
        manifest = {"format": FORMAT, "version": VERSION, "created_at": summary.created_at,
                    "revision": head, "dialect": engine.dialect.name, "tables": tables,
                    "files": files}  # fmt: skip
        partial = archive.with_name(f".{archive.name}.partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        gzip = archive.name.endswith((".gz", ".tgz"))
        try:
            with os.fdopen(fd, "wb") as raw, _tar_writer(raw, gzip=gzip) as tar:
                _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=2).encode("utf-8"))
                for entry in tables:
                    tar.add(Path(work) / f"{entry['name']}.jsonl", f"tables/{entry['name']}.jsonl")
                for entry in files:
                    tar.add(settings.data_dir / entry["path"], f"files/{entry['path']}")
            os.replace(partial, archive)
        finally:
            partial.unlink(missing_ok=True)
    return summary


def _tar_writer(raw: IO[bytes], *, gzip: bool) -> tarfile.TarFile:
    if gzip:
        return tarfile.open(fileobj=raw, mode="w:gz")
    return tarfile.open(fileobj=raw, mode="w")


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(utcnow().timestamp())
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


def read_manifest(archive: Path) -> dict[str, Any]:
    """The archive's manifest, after checking that every member matches its checksum."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            member = tar.extractfile(MANIFEST)
            if member is None:
                raise BackupError(f"{archive} has no manifest")
            manifest = json.loads(member.read())
            if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
                raise BackupError(f"{archive} is not a Liaison backup of format {VERSION}")
            expected = {f"tables/{t['name']}.jsonl": t["sha256"] for t in manifest["tables"]}
            expected |= {f"files/{f['path']}": f["sha256"] for f in manifest["files"]}
            for info in tar:
                if info.name == MANIFEST:
                    continue
                stream = tar.extractfile(info) if info.isfile() else None
                if stream is None or info.name not in expected:
                    raise BackupError(f"{archive}: unexpected member {info.name}")
                if _sha256(stream) != expected.pop(info.name):
                    raise BackupError(f"{archive}: {info.name} does not match its checksum")
            if expected:
                raise BackupError(f"{archive} lacks {sorted(expected)[0]}")
    except (tarfile.TarError, OSError, ValueError, KeyError) as error:
        raise BackupError(f"{archive} cannot be read: {error}") from error
    return dict(manifest)


def restore_backup(
    database: Database, settings: Settings, archive: Path, *, force: bool = False
) -> Summary:
    """Put an archive's rows and state files back.

    The database is migrated first when it has no schema; an archive of another revision is
    refused, and so is a database or blob store that holds anything unless ``force``.
    """
    manifest = read_manifest(archive)
    summary = Summary(revision=manifest["revision"], created_at=manifest["created_at"])
    head = head_revision(settings.database_url)
    with database.engine.connect() as connection:
        revision = current_revision(connection)
    if revision is None:
        migrate.upgrade(settings.database_url, head)
        revision = head
    if manifest["revision"] != head or revision != head:
        raise BackupError(
            f"the archive is of revision {manifest['revision']}, this release is at {head} and "
            f"the database at {revision}: restore with the release that made the archive, "
            "then upgrade"
        )
    if not force:
        _refuse_unless_empty(database, settings)
    tables = {table.name: table for table in _tables()}
    staging = Path(tempfile.mkdtemp(dir=settings.data_dir, prefix=".liaison-restore-"))
    try:
        with tarfile.open(archive, "r:*") as tar, database.engine.begin() as connection:
            for table in reversed(tables.values()):
                connection.execute(table.delete())
            for info in tar:
                stream = tar.extractfile(info) if info.isfile() else None
                if stream is None or info.name == MANIFEST:
                    continue
                if info.name.startswith("tables/"):
                    name = info.name.removeprefix("tables/").removesuffix(".jsonl")
                    if name not in tables:
                        raise BackupError(f"the archive has a table {name} this release lacks")
                    summary.rows[name] = _load_table(connection, tables[name], stream)
                else:
                    _stage_file(staging, info.name.removeprefix("files/"), stream)
                    summary.files += 1
                    summary.file_bytes += info.size
            _reset_sequences(connection, list(tables.values()))
        _put_files_in_place(settings, staging, [f["path"] for f in manifest["files"]])
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return summary


def _refuse_unless_empty(database: Database, settings: Settings) -> None:
    with database.engine.connect() as connection:
        for table in _tables():
            if table.name in SEEDED_TABLES:
                continue
            rows = connection.execute(select(func.count()).select_from(table)).scalar_one()
            if rows:
                raise BackupError(f"the database is not empty ({rows} rows in {table.name}): "
                                  "restore refuses to overwrite it without --force")  # fmt: skip
    present = [name for name, _path in _state_files(settings) if name.startswith("blobs/")]
    if present:
        raise BackupError(f"the blob store under {settings.data_dir / 'blobs'} is not empty: "
                          "restore refuses to overwrite it without --force")  # fmt: skip


def _load_table(connection: Connection, table: Table, stream: IO[bytes]) -> int:
    """Insert one table's rows in batches; self-references are set once every row exists."""
    kinds = {column.name: _kind(column) for column in table.columns}
    own = [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
    key = [column.name for column in table.primary_key.columns]
    later: list[dict[str, Any]] = []
    batch: list[dict[str, Any]] = []
    count = 0
    for line in io.TextIOWrapper(stream, encoding="utf-8"):
        raw = json.loads(line)
        row = {name: _decode(kinds[name], value) for name, value in raw.items() if name in kinds}
        if any(row.get(name) is not None for name in own):
            later.append({**{k: row[k] for k in key}, **{n: row[n] for n in own}})
            row |= dict.fromkeys(own)
        batch.append(row)
        count += 1
        if len(batch) >= BATCH:
            connection.execute(table.insert(), batch)
            batch = []
    if batch:
        connection.execute(table.insert(), batch)
    for values in later:
        match = [table.c[k] == values[k] for k in key]
        connection.execute(table.update().where(*match).values({n: values[n] for n in own}))
    return count


def _reset_sequences(connection: Connection, tables: list[Table]) -> None:
    """On PostgreSQL, move each serial column's sequence past the restored rows."""
    if connection.dialect.name != "postgresql":
        return
    for table in tables:
        for column in table.primary_key.columns:
            sequence = connection.execute(
                text("SELECT pg_get_serial_sequence(:table, :column)"),
                {"table": table.name, "column": column.name},
            ).scalar_one()
            if sequence is None:
                continue
            highest = connection.execute(select(func.max(column))).scalar_one()
            connection.execute(
                text("SELECT setval(:sequence, :value, :called)"),
                {"sequence": sequence, "value": highest or 1, "called": highest is not None},
            )


def _stage_file(staging: Path, name: str, stream: IO[bytes]) -> None:
    target = (staging / name).resolve()
    if not target.is_relative_to(staging.resolve()):
        raise BackupError(f"the archive names a file outside the data dir: {name}")
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("xb") as out:
        shutil.copyfileobj(stream, out, 1 << 20)
    target.chmod(0o600)


def _put_files_in_place(settings: Settings, staging: Path, names: list[str]) -> None:
    """Make the data dir's state files those of the archive (the blob store's other files go)."""
    keep = set(names)
    for name, path in list(_state_files(settings)):
        if name.startswith("blobs/") and name not in keep:
            path.unlink()
    for name in names:
        target = settings.data_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / name, target)
