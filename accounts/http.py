"""Accounts blueprint: wiring of sessions and Flask-Login (the screens come with the flows)."""

from __future__ import annotations

from flask import Flask, g
from flask_login import LoginManager, current_user

from accounts.models import User
from accounts.sessions import ServerSessionInterface
from config import Settings
from core.db import Database
from core.web import db_session


def init_accounts(app: Flask, settings: Settings, database: Database) -> None:
    """Server-side sessions, the user loader and the accounts screens."""
    app.session_interface = ServerSessionInterface(settings, database)
    login_manager = LoginManager()
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = None  # sessions are server-side rows, rotated at sign-in
    login_manager.init_app(app)

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        user = db_session().get(User, user_id)
        if user is None or not user.is_active:
            return None
        return user

    @app.before_request
    def _remember_user() -> None:
        g.user = current_user if current_user.is_authenticated else None
        g.signed_in = g.user is not None
