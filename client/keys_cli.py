"""``liaison-client keys``: set up, unlock, show and verify keys, against local files (the
relay commands will upload and fetch the same documents)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from client.backup import MIN_MEM, MIN_OPS
from client.encoding import b64, is_uuid, unb64
from client.errors import CryptoError
from client.identity import safety_number
from client.keystore import (
    KeyStore,
    attested,
    default_home,
    fingerprints_match,
    read_public_key,
)

HOME = click.option(
    "--home", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Key directory (default: $LIAISON_CLIENT_HOME or ~/.config/liaison-client).",
)  # fmt: skip


def _store(home: Path | None) -> KeyStore:
    return KeyStore(home or default_home())


def _fail(error: CryptoError) -> None:
    click.echo(f"Error: {error.detail or error.reason} ({error.reason})", err=True)
    sys.exit(1)


@click.group()
def keys() -> None:
    """Your keys: set up, unlock, show, and verify other people's keys."""


@keys.command("init")
@click.option("--user", "user_id", required=True, help="Your Liaison user id.")
@click.option(
    "--passphrase", prompt="Key passphrase (not your login password)", hide_input=True,
    confirmation_prompt=True, envvar="LIAISON_CLIENT_PASSPHRASE",
)  # fmt: skip
@click.option("--ops", default=MIN_OPS, show_default=True, help="Argon2id passes.")
@click.option("--mem", default=MIN_MEM, show_default=True, help="Argon2id memory in bytes.")
@HOME
def init(user_id: str, passphrase: str, ops: int, mem: int, home: Path | None) -> None:
    """Generate your identity and its encrypted backup; shows the recovery key once."""
    if not is_uuid(user_id):
        raise click.BadParameter("a user id is a lowercase UUID", param_hint="--user")
    if len(passphrase) < 12:
        raise click.BadParameter("use at least 12 characters", param_hint="--passphrase")
    store = _store(home)
    try:
        recovery_key = store.initialise(user_id, passphrase, ops=ops, mem=mem)
    except CryptoError as error:
        _fail(error)
    public = store.own_public_key()
    click.echo(f"Key {public.key_id} created in {store.home}")
    click.echo(f"Fingerprint: {public.fingerprint}")
    click.echo("Recovery key (write it down now; it is not shown again):")
    click.echo(f"  {b64(recovery_key)}")


@keys.command("unlock")
@click.option("--recovery-key", "use_recovery", is_flag=True, help="Use the recovery key.")
@click.option(
    "--backup", "backup_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A backup bundle brought from another device; replaces the local one once it opens.",
)  # fmt: skip
@HOME
def unlock(use_recovery: bool, backup_file: Path | None, home: Path | None) -> None:
    """Open your key backup with the passphrase or the recovery key."""
    store = _store(home)
    bundle = json.loads(backup_file.read_text(encoding="utf-8")) if backup_file else None
    try:
        if use_recovery:
            secret = click.prompt("Recovery key", hide_input=True).strip()
            opened = store.unlock(recovery_key=unb64(secret, 32, "recovery key"), bundle=bundle)
        else:
            passphrase = os.environ.get("LIAISON_CLIENT_PASSPHRASE") or click.prompt(
                "Key passphrase", hide_input=True
            )
            opened = store.unlock(passphrase=passphrase, bundle=bundle)
    except CryptoError as error:
        _fail(error)
    click.echo(f"Unlocked {len(opened)} key(s); current key {opened[0].key_id}")


@keys.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print the publishable key document.")
@HOME
def show(as_json: bool, home: Path | None) -> None:
    """Show your current key and its fingerprint."""
    store = _store(home)
    try:
        public = store.own_public_key()
    except CryptoError as error:
        _fail(error)
    if as_json:
        click.echo(json.dumps(store.own_public_document(), indent=2))
        return
    click.echo(f"User:        {public.user_id}")
    click.echo(f"Key id:      {public.key_id}")
    click.echo(f"Created:     {public.created_at}")
    click.echo(f"Fingerprint: {public.fingerprint}")


@keys.command("verify")
@click.argument("key_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--fingerprint", "heard", help="The fingerprint the person read to you.")
@click.option("--accept-change", is_flag=True, help="Acknowledge that this person's key changed.")
@click.option(
    "--root-key", envvar="LIAISON_ROOT_KEY",
    help="The secretariat's root public key (base64url), to check an attestation in the file.",
)  # fmt: skip
@HOME
def verify(
    key_file: Path, heard: str | None, accept_change: bool, root_key: str | None,
    home: Path | None,
) -> None:  # fmt: skip
    """Check another person's published key, show the safety number, and pin it."""
    store = _store(home)
    try:
        document = json.loads(key_file.read_text(encoding="utf-8"))
        key = read_public_key(document)
        click.echo(f"{key.user_id}: key {key.key_id}, fingerprint {key.fingerprint}")
        trust = "unverified"
        if root_key and attested(key, document.get("attestation"), unb64(root_key, 32)):
            trust = "secretariat"
            click.echo("Attested by the secretariat.")
        if store.has_keys():
            mine = store.own_public_key()
            click.echo(f"Safety number: {safety_number(mine.fingerprint, key.fingerprint)}")
        if heard is not None and not fingerprints_match(heard, key.fingerprint):
            click.echo("The fingerprint does NOT match: the key was not pinned.", err=True)
            sys.exit(1)
        pin = store.pin(key, trust="in-person" if heard else trust, accept_change=accept_change)
    except CryptoError as error:
        _fail(error)
    except ValueError:
        click.echo("Error: the key file is not JSON", err=True)
        sys.exit(1)
    click.echo(f"Pinned; trust: {pin.trust.replace('-', ' ')}")
