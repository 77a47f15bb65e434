"""Accounts blueprint: server-side sessions, Flask-Login, and the sign-in and account screens."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, g, request, session
from flask_login import LoginManager, current_user

from accounts import http_account, http_invite, http_login, http_people
from accounts.api_tokens import init_api_tokens
from accounts.models import User
from accounts.sessions import ServerSessionInterface
from config import Settings
from core.db import Database
from core.i18n import LOCALES, gettext
from core.web import db_session


def blueprint() -> Blueprint:
    """The ``accounts`` blueprint with every accounts screen."""
    bp = Blueprint("accounts", __name__)
    http_login.register(bp)
    http_invite.register(bp)
    http_account.register(bp)
    http_people.register(bp)
    return bp


def init_accounts(app: Flask, settings: Settings, database: Database) -> None:
    """Server-side sessions, the user loader and the accounts screens."""
    app.session_interface = ServerSessionInterface(settings, database)
    login_manager = LoginManager()
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Please sign in to open this page."
    login_manager.login_message_category = "info"
    login_manager.localize_callback = gettext
    login_manager.session_protection = None  # sessions are server-side rows, rotated at sign-in
    login_manager.init_app(app)

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        """The signed-in person, unless their account was disabled meanwhile."""
        user = db_session().get(User, user_id)
        if user is None or not user.is_active:
            return None
        return user

    @app.before_request
    def _remember_user() -> None:
        g.user = current_user if current_user.is_authenticated else None
        g.signed_in = g.user is not None

    @app.after_request
    def _remember_language(response: Response) -> Response:
        """A signed-in person's language choice is kept on their account for next time."""
        if request.endpoint == "set_language" and g.get("signed_in"):
            chosen = session.get("locale")
            user = g.user
            if chosen in LOCALES and user.locale != chosen:
                user.locale = chosen
                db_session().commit()
        return response

    app.register_blueprint(blueprint())
    init_api_tokens(app, login_manager)
