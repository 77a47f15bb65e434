"""``liaison-client``: the Python client's command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.group()
def main() -> None:
    """Liaison's command-line client: end-to-end encrypted messages and keys."""


@main.command()
@click.argument("vectors", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--quiet", "-q", is_flag=True, help="Print failures and the summary only.")
@click.option("--strict", is_flag=True, help="Also require the file's rejection reasons.")
def selftest(vectors: Path, quiet: bool, strict: bool) -> None:
    """Check an envelope-v1 vector file; the last line is 'N passed, M failed'."""
    import json

    from liaison_client.errors import CryptoError
    from liaison_client.selftest import run_file

    try:
        passed, failed, lines = run_file(vectors, strict=strict)
    except (ValueError, KeyError, TypeError, CryptoError) as error:
        name = type(error).__name__
        if isinstance(error, json.JSONDecodeError):
            name = "not JSON"
        click.echo(f"FAIL the file is not an envelope-v1 vector file ({name}: {error})")
        click.echo("0 passed, 1 failed")
        sys.exit(1)
    for line in lines:
        if not quiet or line.startswith("FAIL"):
            click.echo(line)
    click.echo(f"{passed} passed, {failed} failed")
    if failed:
        sys.exit(1)


def _register() -> None:
    from liaison_client.keys_cli import keys
    from liaison_client.referral_cli import referral
    from liaison_client.relay_cli import COMMANDS

    main.add_command(keys)
    main.add_command(referral)
    for command in COMMANDS:
        main.add_command(command)


_register()
