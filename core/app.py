"""The app factory. It wires parts together and runs no query, migration or network call."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

from config import Settings, load_settings
from core.db import Database
from core.i18n import init_i18n
from core.input_guard import init_input_guard
from core.openapi import init_openapi
from core.security import init_security
from core.web import init_web

WEB_DIR = Path(__file__).resolve().parent.parent / "web"


def create_app(settings: Settings | None = None) -> Flask:
    """Build the Liaison web app from settings (read from the environment when not given)."""
    settings = settings or load_settings()
    app = Flask(
        "liaison",
        template_folder=str(WEB_DIR / "templates"),
        static_folder=str(WEB_DIR / "static"),
        static_url_path="/static",
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=None,
        TEMPLATES_AUTO_RELOAD=not settings.production,
        JSON_SORT_KEYS=False,
    )
    from core.logs import configure_logging  # here, not above: other parts add imports there

    configure_logging(settings)
    # Library chatter (every scheduler tick, every SMTP line) would drown the operator's log.
    for noisy in ("apscheduler", "mail.log"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
    database = Database(settings.database_url)
    app.extensions["liaison.settings"] = settings
    app.extensions["liaison.db"] = database

    init_web(app)
    init_i18n(app)
    init_security(app)
    init_input_guard(app)
    init_openapi(app)

    from accounts.http import init_accounts

    init_accounts(app, settings, database)

    from directory.http import init_directory

    init_directory(app)

    from directory.upkeep_http import init_upkeep

    init_upkeep(app)

    from search.http import init_search

    init_search(app, settings, database)

    from messaging.http import init_messaging

    init_messaging(app, settings, database)
    from core.ratelimit import init_rate_limits

    init_rate_limits(app, settings, database)
    _init_operations(app, settings, database)

    from messaging.health_http import health
    from messaging.privacy_http import privacy

    app.register_blueprint(health)
    app.register_blueprint(privacy)
    _init_mail_kicker(app, settings, database)
    return app


def _init_mail_kicker(app: Flask, settings: Settings, database: Database) -> None:
    """Outside production, send queued e-mail right after the commit that queued it."""
    if settings.production or not settings.mail_send_in_web:
        return
    from sqlalchemy import event

    from core.mail_outbox import MailKicker

    kicker = MailKicker(settings, database)
    event.listen(database.sessions, "after_commit", kicker.after_commit)
    app.extensions["liaison.mail_kicker"] = kicker
    app.extensions.setdefault("liaison.closers", []).append(kicker.close)


def close_app(app: Flask) -> None:
    """Stop what the app started (background threads) and close its database connections."""
    for close in reversed(app.extensions.get("liaison.closers", [])):
        close()
    app.extensions["liaison.db"].dispose()


def _init_operations(app: Flask, settings: Settings, database: Database) -> None:
    """Logs, health, readiness, metrics and outage handling (they wrap the session interface)."""
    from accounts.api_tokens import BEARER_IN_VIEW
    from core.health import init_health, readiness
    from core.logs import init_request_ids
    from core.mail_outbox import outbox_depth
    from core.metrics import init_metrics
    from core.outage import init_outage
    from messaging.operations import blob_count, blob_store_bytes, blob_store_check
    from search.readiness import search_check

    init_request_ids(app)
    outage = init_outage(app, database)
    init_health(app, database, outage.failed)
    readiness(app).add("blob_store", blob_store_check(settings, database))
    readiness(app).add("search", search_check(app.extensions["liaison.search"]))
    collected = init_metrics(app, database)
    collected.add_gauge(
        "liaison_blob_store_bytes", "Bytes of stored encrypted attachments", blob_store_bytes
    )
    collected.add_gauge("liaison_blob_store_blobs", "Stored encrypted attachments", blob_count)
    collected.add_gauge(
        "liaison_mail_outbox_depth", "E-mails waiting in the mail outbox", outbox_depth
    )
    collected.add_gauge(
        "liaison_search_index_lag",
        "Search changes an index has not applied yet (embedded: this host's)",
        app.extensions["liaison.search"].lag,
        labels=("index",),
    )
    # A monitor's token on /readyz and /metrics is the metrics token, not an API token.
    app.extensions.setdefault(BEARER_IN_VIEW, set()).update({"readyz", "metrics"})
