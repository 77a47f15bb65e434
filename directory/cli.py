"""``liaison directory``: import, export and upkeep of the directory."""

from __future__ import annotations

import click


@click.group()
def directory() -> None:
    """The network's directory."""
