"""``liaison keys``: the secretariat's attestations, its root key, and the key log's key."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import click


def _context() -> Any:
    from core.cli import Context
    from core.models import import_all_models

    import_all_models()
    return click.get_current_context().ensure_object(Context)


def _read_root_key(path: Path) -> bytes:
    from messaging.envelopes import b64decode
    from messaging.errors import RelayError

    try:
        secret = b64decode(path.read_text().strip(), "the root key", 64)
    except RelayError as error:
        raise click.ClickException(
            f"{path} does not hold a root key (base64url of a 64-byte Ed25519 secret key): "
            f"{error.detail}"
        ) from None
    return secret


@click.group()
def keys() -> None:
    """Identity keys: attestations by the secretariat and the key log."""


@keys.command("attest")
@click.option("--user", "email", required=True, help="E-mail address of the person.")
@click.option(
    "--root-key",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="File with the secretariat's root secret key.",
)
@click.option("--days", default=365, show_default=True, help="How long the attestation holds.")
def attest(email: str, root_key: Path, days: int) -> None:
    """Vouch that the person's current key is theirs (after checking its fingerprint with them)."""
    from sqlalchemy import func, select

    from accounts.models import User
    from core.db import utcnow
    from messaging.errors import RelayError
    from messaging.services.keys import attest_key, current_key, key_json

    if not 1 <= days <= 3660:
        raise click.ClickException("--days must be between 1 and 3660")
    secret = _read_root_key(root_key)
    context = _context()
    database = context.database()
    try:
        with database.session() as session:
            user = session.scalars(
                select(User).where(func.lower(User.email) == email.strip().lower())
            ).first()
            if user is None:
                raise click.ClickException(f"no person with the e-mail address {email}")
            key = current_key(session, user.id)
            try:
                attestation = attest_key(
                    session, context.settings, user, secret, utcnow() + timedelta(days=days)
                )
            except RelayError as error:
                raise click.ClickException(error.detail) from None
            assert key is not None
            fingerprint = key_json(session, key)["fingerprint"]
            session.commit()
    finally:
        database.dispose()
    click.echo(f"attested key {attestation.key_id} of {email} until {attestation.valid_until}")
    click.echo(f"fingerprint: {fingerprint}")


@keys.command("new-root-key")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def new_root_key(file: Path) -> None:
    """Create the secretariat's root key in FILE (mode 0600) and print its public half."""
    from messaging import crypto
    from messaging.envelopes import b64encode

    public, secret = crypto.signing_keypair()
    try:
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise click.ClickException(f"{file} exists; a root key is never overwritten") from None
    with os.fdopen(fd, "w") as handle:
        handle.write(b64encode(secret) + "\n")
    click.echo(f"root public key: {b64encode(public)}")
    click.echo("Keep the file offline; configure the public key in every client.")


@keys.command("log-key")
def log_key_command() -> None:
    """Print the key log's public key (clients check signed heads with it)."""
    from messaging.envelopes import b64encode
    from messaging.services.keylog import log_key

    context = _context()
    database = context.database()
    try:
        with database.session() as session:
            public = log_key(session, context.settings).public
    finally:
        database.dispose()
    click.echo(b64encode(public))
