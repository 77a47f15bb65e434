"""``liaison directory``: import, export and upkeep of the directory."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click


def _database() -> Any:
    from core.cli import Context
    from core.models import import_all_models

    import_all_models()  # the audit log refers to accounts' tables
    return click.get_current_context().ensure_object(Context).database()


@click.group()
def directory() -> None:
    """The network's directory."""


@directory.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and report, without writing.")
@click.option("--if-empty", is_flag=True, help="Import only when the directory is empty.")
def import_command(file: Path, dry_run: bool, if_empty: bool) -> None:
    """Import organisations from FILE (JSON Lines); all of it, or nothing when any line is wrong."""
    from directory.errors import InvalidImportFile
    from directory.importing import directory_is_empty, import_directory

    content = file.read_bytes()
    database = _database()
    try:
        with database.session() as session:
            if if_empty and not directory_is_empty(session):
                click.echo("the directory already has organisations; nothing imported")
                return
            try:
                report = import_directory(session, content)
            except InvalidImportFile as error:
                for problem in error.problems:
                    click.echo(f"{file.name}: {problem}", err=True)
                click.echo(f"{error}", err=True)
                sys.exit(1)
            if dry_run:
                session.rollback()
            else:
                session.commit()
    finally:
        database.dispose()
    prefix = "dry run, nothing written: would be " if dry_run else ""
    click.echo(f"{prefix}{report.summary()}")
    if report.ignored_fields:
        click.echo(f"ignored fields: {', '.join(report.ignored_fields)}")


@directory.command("export")
@click.option(
    "--format",
    "export_format",
    type=click.Choice(["jsonl", "csv", "hsds"]),
    required=True,
    help="jsonl (the import format), csv (one row per organisation) or hsds (HSDS 3.1 JSON).",
)
@click.option(
    "--scope",
    type=click.Choice(["public", "network", "secretariat"]),
    default=None,
    help="Who the export is for [default: secretariat for jsonl, network for csv, "
    "public for hsds].",
)
def export_command(export_format: str, scope: str | None) -> None:
    """Write the published directory to standard output, as far as SCOPE may see it."""
    from directory.export import DEFAULT_SCOPES, export_directory

    scope = scope or DEFAULT_SCOPES[export_format]
    if scope == "secretariat":
        click.echo(
            "note: secretariat scope includes confidential addresses and contact points", err=True
        )
    from core.cli import Context
    from directory.points import places_for

    database = _database()
    places = places_for(click.get_current_context().ensure_object(Context).settings.data_dir)
    try:
        with database.session() as session:
            for chunk in export_directory(session, export_format, scope, places):
                sys.stdout.write(chunk)
    finally:
        database.dispose()
    sys.stdout.flush()


@directory.command("erase-contact")
@click.argument("contact_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase_contact_command(contact_id: str, yes: bool) -> None:
    """Erase a contact person (GDPR): the entry, its phones, and its values in the history."""
    from directory.models import Contact
    from directory.privacy import ContactNotFound, erase_contact

    database = _database()
    try:
        with database.session() as session:
            contact = session.get(Contact, contact_id) if len(contact_id) <= 36 else None
            if contact is None:
                raise click.ClickException(f"no contact person with id {contact_id}")
            phones = ", ".join(phone.number for phone in contact.phones) or "-"
            click.echo(f"organisation: {contact.organization.name} ({contact.organization.ref})")
            click.echo(f"name: {contact.name or '-'}")
            click.echo(f"e-mail: {contact.email or '-'}")
            click.echo(f"phones: {phones}")
            if not yes and not click.confirm(
                "Erase this contact person for good (database, search index, history values)?"
            ):
                click.echo("nothing erased")
                return
            try:
                result = erase_contact(session, None, contact_id)
            except ContactNotFound:
                raise click.ClickException(f"no contact person with id {contact_id}") from None
            session.commit()
    finally:
        database.dispose()
    click.echo(
        f"erased; {result.audit_entries_redacted} history entries and "
        f"{result.change_requests_redacted} change requests redacted; the search index drops "
        "the entry when the search.drain_outbox job next runs (every few seconds)"
    )
