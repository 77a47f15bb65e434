"""``liaison users``: invitations and account administration."""

from __future__ import annotations

import click


@click.group()
def users() -> None:
    """People and their accounts."""
