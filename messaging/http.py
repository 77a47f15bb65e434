"""Messaging blueprint: the relay API and the browser client's pages."""

from __future__ import annotations

from flask import Flask

from config import Settings
from core.db import Database


def init_messaging(app: Flask, settings: Settings, database: Database) -> None:
    """Register the relay's routes."""
