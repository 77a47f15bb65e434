"""Search blueprint: the search page and ``GET /api/v1/search``."""

from __future__ import annotations

from flask import Flask

from config import Settings
from core.db import Database


def init_search(app: Flask, settings: Settings, database: Database) -> None:
    """Register search routes and the after-commit indexer."""
