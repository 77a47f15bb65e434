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

from liaison_client.api import ApiError
from liaison_client.errors import CryptoError
from liaison_client.keystore import default_home
from liaison_client.mailbox import Mailbox
from liaison_client.retry import DEADLINE_ENV, GaveUp, RetryPolicy

PASSPHRASE_ENV = "LIAISONCLIENT_PASSPHRASE"  # noqa: S105 - a variable name
PASSWORD_ENV = "LIAISONCLIENT_PASSWORD"  # noqa: S105 - a variable name
ROOT_KEY_ENV = "LIAISONCLIENT_ROOT_KEY"

# Exit codes: 1 refused by a check (crypto, trust, the relay said no), 2 usage (click's own),
# 3 the relay could not be reached, 4 not signed in, 5 still failing when the retry deadline
# passed (a message may or may not have arrived: resend it with its id).
EXIT_REFUSED, EXIT_UNREACHABLE, EXIT_SIGNED_OUT, EXIT_GAVE_UP = 1, 3, 4, 5

RETRY_DEADLINE = click.option(
    "--retry-deadline", type=click.FloatRange(min=0), envvar=DEADLINE_ENV, default=None,
    help="Seconds to keep retrying through lost connections and server errors "
    f"(default 60; ${DEADLINE_ENV}).",
)  # fmt: skip

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
def refusals(message_id: str | None = None) -> Iterator[None]:
    """Turn the library's named errors into a clear message and an exit code; when sending
    ``message_id``, also say what became of that message."""
    try:
        with _named_errors(message_id):
            yield
    except SystemExit as stop:
        if message_id and stop.code not in (0, None, EXIT_GAVE_UP):
            click.echo(f"Message {message_id} was not sent.", err=True)
        raise


@contextmanager
def _named_errors(message_id: str | None) -> Iterator[None]:
    try:
        yield
    except GaveUp as error:
        what = f"{error.detail or error.check} ({error.check})"
        waited = f"after {error.attempts} attempts in {error.elapsed:.0f} s"
        if message_id:
            fail(f"giving up {waited}: {what}. Message {message_id} may or may not have "
                 f"arrived: send it again with --message-id {message_id} (the relay keeps "
                 "one message per id, so it never arrives twice)", EXIT_GAVE_UP)  # fmt: skip
        fail(f"giving up {waited}: {what}", EXIT_GAVE_UP)
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


def _say_retry(error: ApiError, pause: float, attempts: int) -> None:
    click.echo(f"The relay answered {error.detail or error.check}; trying again in "
               f"{pause:.1f} s (attempt {attempts + 1})", err=True)  # fmt: skip


def open_mailbox(
    home: Path | None, *, unlock: bool = False, retry_deadline: float | None = None
) -> Mailbox:
    """The signed-in mailbox under ``home``; ``unlock`` opens the keys with the passphrase;
    requests safe to repeat are retried until ``retry_deadline`` (or $LIAISONCLIENT_RETRY_…)."""
    try:
        policy = RetryPolicy.from_env(deadline=retry_deadline)
    except ValueError as error:
        fail(str(error), 2)
    mailbox = Mailbox.open(home_of(home), retry=policy, on_retry=_say_retry)
    if not mailbox.state.token:
        fail("not signed in: run liaison-client login", EXIT_SIGNED_OUT)
    if unlock:
        mailbox.unlock(passphrase=passphrase())
    return mailbox
