"""``liaison backup FILE`` and ``liaison restore FILE``: the documented backup and restore."""

from __future__ import annotations

from pathlib import Path

import click

from core.backup import BackupError, Summary, restore_backup, write_backup
from core.cli import Context, pass_context


def _describe(summary: Summary) -> str:
    tables = sum(1 for rows in summary.rows.values() if rows)
    return (
        f"{summary.total_rows} rows in {tables} tables and {summary.files} files "
        f"({summary.file_bytes} bytes) at revision {summary.revision}"
    )


@click.command()
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@pass_context
def backup(obj: Context, archive: Path) -> None:
    """Write every table and the data dir's state files into a new ARCHIVE (.tar or .tar.gz).

    The archive holds secrets (password hashes, keys): keep it like the database itself.
    """
    try:
        summary = write_backup(obj.database(), obj.settings, archive)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Wrote {archive}: {_describe(summary)}")


@click.command()
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace what the database and blob store hold.")
@pass_context
def restore(obj: Context, archive: Path, force: bool) -> None:
    """Put ARCHIVE back into an empty database and data dir (migrating an empty database first).

    Stop the web and jobs services first; afterwards rebuild the search index.
    """
    settings = obj.settings
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        summary = restore_backup(obj.database(), settings, archive, force=force)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Restored {_describe(summary)} from the backup of {summary.created_at}")
    click.echo("Next: liaison search reindex (the search index is not part of a backup)")
