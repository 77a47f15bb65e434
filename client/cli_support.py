"""What every ``liaison-client`` command shares: the home option, secrets from a prompt or the
environment, opening the mailbox, and turning refusals into one clear line and an exit code."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import click

from client.api import ApiError
from client.errors import CryptoError
from client.keystore import default_home
from client.mailbox import Mailbox

PASSPHRASE_ENV = "LIAISONCLIENT_PASSPHRASE"  # noqa: S105 - a variable name
PASSWORD_ENV = "LIAISONCLIENT_PASSWORD"  # noqa: S105 - a variable name
ROOT_KEY_ENV = "LIAISONCLIENT_ROOT_KEY"

# Exit codes: 1 refused by a check (crypto, trust, the relay said no), 2 usage (click's own),
# 3 the relay could not be reached, 4 not signed in.
EXIT_REFUSED, EXIT_UNREACHABLE, EXIT_SIGNED_OUT = 1, 3, 4

HOME = click.option(
    "--home", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Client directory (default: $LIAISONCLIENT_HOME or ~/.config/liaison-client).",
)  # fmt: skip


def home_of(home: Path | None) -> Path:
    """The client directory to use."""
    return home or default_home()


def fail(message: str, code: int = EXIT_REFUSED) -> NoReturn:
    """Print one line to stderr and exit."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


@contextmanager
def refusals() -> Iterator[None]:
    """Turn the library's named errors into a clear message and an exit code."""
    try:
        yield
    except ApiError as error:
        if error.check == "unreachable":
            fail(error.detail, EXIT_UNREACHABLE)
        if error.status == 401:
            fail(f"{error.detail or 'not signed in'}: run liaison-client login", EXIT_SIGNED_OUT)
        fail(f"the relay refused: {error.detail or error.check} ({error.check})")
    except CryptoError as error:
        if error.reason == "not-signed-in":
            fail(error.detail, EXIT_SIGNED_OUT)
        if error.reason == "key-changed":
            fail(
                f"{error.detail}. Compare safety numbers with this person, then repeat with "
                "--accept-change"
            )
        fail(f"{error.detail or error.reason} ({error.reason})")
    except OSError as error:
        fail(f"{error.strerror or error}: {error.filename or ''}".rstrip(": "))


def passphrase(prompt: str = "Key passphrase") -> str:
    """The key passphrase from $LIAISONCLIENT_PASSPHRASE or a hidden prompt."""
    return os.environ.get(PASSPHRASE_ENV) or str(click.prompt(prompt, hide_input=True))


def open_mailbox(home: Path | None, *, unlock: bool = False) -> Mailbox:
    """The signed-in mailbox under ``home``; ``unlock`` opens the keys with the passphrase."""
    mailbox = Mailbox.open(home_of(home))
    if not mailbox.state.token:
        fail("not signed in: run liaison-client login", EXIT_SIGNED_OUT)
    if unlock:
        mailbox.unlock(passphrase=passphrase())
    return mailbox
