"""Messaging wiring: the relay's JSON API (keys, messages, blobs) and its OpenAPI paths."""

from __future__ import annotations

from flask import Flask

from config import Settings
from core.db import Database


def init_messaging(app: Flask, settings: Settings, database: Database) -> None:
    """Register the relay's routes (each describes itself in the OpenAPI) and its limiters."""
    from messaging import (  # noqa: F401 - they add routes
        api_blobs,
        api_keys,
        api_referrals,
        api_relay,
        api_unlock,
    )
    from messaging.api_common import LIMITERS, blueprint, init_limiters

    app.extensions[LIMITERS] = init_limiters(settings, database)
    app.register_blueprint(blueprint)
    from messaging.about import about

    app.register_blueprint(about)
    app.register_blueprint(__import__("messaging.pages").pages.pages)  # the /messages pages
    from messaging.referral_pages import referral_pages

    app.register_blueprint(referral_pages)  # the /referrals page
