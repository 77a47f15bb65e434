"""``liaison-client keys``: set up, unlock, show and verify keys. Signed in (``login``), init
uploads the backup and the public key and unlock opens the server's backup; without a relay
they work on local files only."""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path

import click

from liaison_client.backup import MIN_MEM, MIN_OPS
from liaison_client.cli_support import HOME, PASSPHRASE_ENV, ROOT_KEY_ENV, home_of, refusals
from liaison_client.encoding import is_uuid, unb64
from liaison_client.errors import CryptoError
from liaison_client.identity import safety_number
from liaison_client.keystore import (
    FileKeyStore,
    attested,
    fingerprints_match,
    read_public_key,
)
from liaison_client.mailbox import Mailbox
from liaison_client.recovery_key import format_recovery_key, normalize, parse_recovery_key
from liaison_client.session import LocalState


def _store(home: Path | None) -> FileKeyStore:
    return FileKeyStore(home_of(home))


def _signed_in(home: Path | None) -> Mailbox | None:
    state = LocalState.load(home_of(home))
    if not state.token or not state.base_url:
        return None
    return Mailbox.open(home_of(home))


def _fail(error: CryptoError) -> None:
    click.echo(f"Error: {error.detail or error.reason} ({error.reason})", err=True)
    sys.exit(1)


@click.group()
def keys() -> None:
    """Your keys: set up, unlock, show, and verify other people's keys."""


@keys.command("init")
@click.option("--user", "user_id", help="Your Liaison user id (default: who signed in).")
@click.option(
    "--passphrase", prompt="Key passphrase (not your login password)", hide_input=True,
    confirmation_prompt=True, envvar=PASSPHRASE_ENV,
)  # fmt: skip
@click.option("--ops", default=MIN_OPS, show_default=True, help="Argon2id passes.")
@click.option("--mem", default=MIN_MEM, show_default=True, help="Argon2id memory in bytes.")
@click.option(
    "--recovery-file", type=click.Path(dir_okay=False, path_type=Path),
    help="Also save the recovery key to this new file (e.g. on a USB stick kept elsewhere).",
)  # fmt: skip
@HOME
def init(  # noqa: PLR0917 - one parameter per click option
    user_id: str | None, passphrase: str, ops: int, mem: int, recovery_file: Path | None,
    home: Path | None,
) -> None:  # fmt: skip
    """Generate your identity and its encrypted backup, upload both when signed in; shows the
    recovery key once."""
    mailbox = _signed_in(home)
    if user_id is None and mailbox is not None:
        user_id = mailbox.user_id
    if user_id is None:
        raise click.BadParameter("sign in first (login), or give --user", param_hint="--user")
    if not is_uuid(user_id):
        raise click.BadParameter("a user id is a lowercase UUID", param_hint="--user")
    if mailbox is not None and user_id != mailbox.user_id:
        raise click.BadParameter("this is not who signed in", param_hint="--user")
    if len(passphrase) < 12:
        raise click.BadParameter("use at least 12 characters", param_hint="--passphrase")
    store = _store(home)
    if mailbox is not None:
        with refusals():
            mailbox.ensure_no_other_key()
    try:
        recovery_key = store.initialise(user_id, passphrase, ops=ops, mem=mem)
    except CryptoError as error:
        _fail(error)
    public = store.own_public_key()
    click.echo(f"Key {public.key_id} created in {store.home}")
    if mailbox is not None:
        with refusals():
            mailbox.publish_keys()
        click.echo(f"Published to {mailbox.state.base_url} with the encrypted backup")
    click.echo(f"Fingerprint: {public.fingerprint}")
    written = format_recovery_key(recovery_key)
    if recovery_file is not None:
        _write_private(recovery_file, recovery_text(written))
        click.echo(f"Recovery key saved to {recovery_file}: keep it away from this computer.")
    click.echo("Recovery key (write it down now; it is not shown again):")
    click.echo(f"  {written}")
    if sys.stdin.isatty():
        _confirm_written(written)


def recovery_text(written: str) -> str:
    """The recovery key file's text: what it is, the key, and how it is typed back."""
    return (
        "Liaison recovery key\n\n"
        f"{written}\n\n"
        "It unlocks your encrypted messages if you forget your key passphrase. Keep it somewhere\n"
        "safe, away from your computer. Case and dashes do not matter when you type it back.\n"
    )


def _write_private(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)


def _confirm_written(written: str) -> None:
    """Ask for two groups back, so that a key not written down is noticed now."""
    groups = written.split("-")
    for index in sorted(secrets.SystemRandom().sample(range(len(groups)), 2)):
        while (
            normalize(click.prompt(f"Type group {index + 1} of your recovery key")) != groups[index]
        ):
            click.echo("That is not it: check what you wrote down.")


@keys.command("unlock")
@click.option("--recovery-key", "use_recovery", is_flag=True, help="Use the recovery key.")
@click.option(
    "--backup", "backup_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A backup bundle brought from another device; replaces the local one once it opens.",
)  # fmt: skip
@HOME
def unlock(use_recovery: bool, backup_file: Path | None, home: Path | None) -> None:
    """Open your key backup with the passphrase or the recovery key (signed in: the backup
    stored on the relay, which then replaces the local one)."""
    store = _store(home)
    bundle = json.loads(backup_file.read_text(encoding="utf-8")) if backup_file else None
    mailbox = _signed_in(home)
    if bundle is None and mailbox is not None:
        with refusals():
            bundle = mailbox.client.get_backup()
    try:
        if use_recovery:
            secret = click.prompt("Recovery key", hide_input=True).strip()
            opened = store.unlock(recovery_key=parse_recovery_key(secret), bundle=bundle)
        else:
            passphrase = os.environ.get(PASSPHRASE_ENV) or click.prompt(
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
@click.argument("person")
@click.option("--fingerprint", "heard", help="The fingerprint the person read to you.")
@click.option("--accept-change", is_flag=True, help="Acknowledge that this person's key changed.")
@click.option(
    "--root-key", envvar=ROOT_KEY_ENV,
    help="The secretariat's root public key (base64url), to check an attestation in the file.",
)  # fmt: skip
@HOME
def verify(
    person: str, heard: str | None, accept_change: bool, root_key: str | None,
    home: Path | None,
) -> None:  # fmt: skip
    """Check another person's key (a key file, or a user id or e-mail address on the relay,
    checked against the key log), show the safety number, and pin it."""
    store = _store(home)
    key_file = Path(person)
    mailbox = None if key_file.is_file() else _signed_in(home)
    if mailbox is None and not key_file.is_file():
        raise click.BadParameter("no such key file (sign in to look people up)")
    try:
        if mailbox is not None:
            with refusals():
                found = mailbox.person(person, accept_change=accept_change)
                document = _served_document(mailbox, found.user_id)
        else:
            document = json.loads(key_file.read_text(encoding="utf-8"))
        root_key = root_key or (mailbox.state.root_pk if mailbox else None)
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


def _served_document(mailbox: Mailbox, user_id: str) -> dict[str, object]:
    current = mailbox.client.keys_of(user_id)["current"]
    return {**current, "user_id": current["user"]}
