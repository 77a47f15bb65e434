"""``liaison search``: query, set up and rebuild the search index."""

from __future__ import annotations

import click


@click.group(invoke_without_command=True)
def search() -> None:
    """Search the directory and maintain its index."""
