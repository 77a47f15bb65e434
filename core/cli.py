"""The ``liaison`` command: every operator task, grouped by part."""

from __future__ import annotations

import logging
import sys

import click

from config import ConfigError, Settings, load_settings
from core import migrate
from core.db import Database


class Context:
    """Settings and a lazily opened database, shared by every subcommand."""

    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._database: Database | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings()
            except ConfigError as error:
                raise click.ClickException(str(error)) from error
        return self._settings

    def database(self) -> Database:
        """The command's database handle; its connections close when the command ends."""
        if self._database is None:
            self._database = Database(self.settings.database_url)
            context = click.get_current_context(silent=True)
            if context is not None:
                context.find_root().call_on_close(self._close_database)
        return self._database

    def _close_database(self) -> None:
        if self._database is not None:
            self._database.dispose()
            self._database = None


pass_context = click.make_pass_decorator(Context, ensure=True)


@click.group()
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Liaison: the Benelux anti-trafficking network's directory and secure relay."""
    ctx.ensure_object(Context)


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@pass_context
def db_upgrade(obj: Context, revision: str) -> None:
    """Apply migrations up to REVISION and load the taxonomy."""
    settings = obj.settings
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    migrate.upgrade(settings.database_url, revision)
    from directory.taxonomy import sync_taxonomy

    database = obj.database()
    with database.session() as session:
        sync_taxonomy(session)
        session.commit()
    database.dispose()
    click.echo(f"database is at {revision}")


@db.command("downgrade")
@click.argument("revision")
@pass_context
def db_downgrade(obj: Context, revision: str) -> None:
    """Revert migrations down to REVISION (``base`` empties the database)."""
    migrate.downgrade(obj.settings.database_url, revision)
    click.echo(f"database is at {revision}")


@db.command("check")
@pass_context
def db_check(obj: Context) -> None:
    """Fail when the models and the migrations disagree."""
    migrate.check(obj.settings.database_url)
    click.echo("models and migrations agree")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@pass_context
def serve(obj: Context, host: str, port: int) -> None:
    """Run the web server (with the local mail sink and scheduler on the embedded default)."""
    from core.serve import run

    run(obj.settings, host, port)


def _register_groups() -> None:
    from accounts.cli import users
    from core.backup_cli import backup, restore
    from directory.cli import directory
    from messaging.blob_cli import blobs
    from messaging.cli import keys
    from search.cli import search

    cli.add_command(users)
    cli.add_command(directory)
    cli.add_command(search)
    cli.add_command(keys)
    from core.jobs_cli import jobs

    cli.add_command(jobs)
    cli.add_command(blobs)
    cli.add_command(backup)
    cli.add_command(restore)


_register_groups()


def main() -> None:
    """Console-script entry point."""
    try:
        cli(obj=Context())
    except ConfigError as error:
        click.echo(f"configuration error: {error}", err=True)
        sys.exit(2)
