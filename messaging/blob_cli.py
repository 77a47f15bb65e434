"""``liaison blobs``: move attachments between the filesystem and the database blob store."""

from __future__ import annotations

import click


@click.group()
def blobs() -> None:
    """Attachments (encrypted blobs) and where they are kept."""


@blobs.command("migrate")
@click.option(
    "--to",
    "target",
    type=click.Choice(["database", "filesystem"]),
    required=True,
    help="The store every blob should end up in.",
)
def migrate(target: str) -> None:
    """Move every blob into one store, one blob per transaction (stop and rerun at will)."""
    from core.cli import Context
    from core.models import import_all_models
    from messaging.blobstore import is_storage_full
    from messaging.blobstore.migrate import blobs_to_move, move_blob
    from messaging.services.blobs import remove_files

    import_all_models()
    context = click.get_current_context().ensure_object(Context)
    settings, database = context.settings, context.database()
    if settings.blob_store_kind != target:
        click.echo(
            f"note: LIAISON_BLOB_STORE sends new uploads to the {settings.blob_store_kind} "
            f"store; set it to {target} (and restart) so that no new blob lands there.",
            err=True,
        )
    with database.session() as session:
        pending = blobs_to_move(session, target)
    moved = size = 0
    with click.progressbar(pending, label=f"blobs to the {target} store") as bar:
        for blob_id in bar:
            with database.session() as session:
                try:
                    copied, old_files = move_blob(session, settings, database, blob_id, target)
                    session.commit()
                except Exception as error:
                    if is_storage_full(error) or is_storage_full(error.__cause__ or error):
                        raise click.ClickException(
                            f"the {target} store is full after {moved} blob(s); free space "
                            "and run the command again to move the rest"
                        ) from None
                    raise
            remove_files(old_files)
            moved += 1 if copied else 0
            size += copied
    click.echo(f"moved {moved} blob(s), {size} bytes, to the {target} store")
