"""Directory blueprints: member and secretariat screens, the JSON API and the HSDS API."""

from __future__ import annotations

from flask import Flask


def init_directory(app: Flask) -> None:
    """Register the directory's blueprints."""
