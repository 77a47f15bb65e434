"""Shared fixtures: settings, a migrated database (SQLite, or PostgreSQL when
``LIAISON_TEST_DATABASE_URL`` is set), the app, a client, and factories for people and sessions.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from accounts.models import Role, User, UserSession
from accounts.sessions import cookie_name, token_hash
from config import Settings, load_settings
from core import migrate
from core.app import close_app, create_app
from core.db import Database, utcnow
from core.mail import free_port
from core.models import import_all_models
from directory.taxonomy import sync_taxonomy

SHARED = Path(__file__).resolve().parents[2] / "shared"
PG_URL = os.environ.get("LIAISON_TEST_DATABASE_URL", "")
KEEP_TABLES = {"alembic_version", "taxonomy", "taxonomy_term"}


def _prepare(url: str) -> None:
    migrate.upgrade(url)
    database = Database(url)
    with database.session() as session:
        sync_taxonomy(session)
        session.commit()
    database.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated database: a template SQLite file, or the PostgreSQL test database."""
    if PG_URL:
        database = Database(PG_URL)
        with database.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        database.dispose()
        _prepare(PG_URL)
        return PG_URL
    path = tmp_path_factory.mktemp("template") / "liaison.db"
    _prepare(f"sqlite:///{path}")
    return str(path)


_PG_DATABASE: list[Database] = []


def _empty_tables(url: str) -> None:
    """Delete every row but the taxonomy's; DELETE beats TRUNCATE on tables this small."""
    if not _PG_DATABASE:
        _PG_DATABASE.append(Database(url))
    metadata = import_all_models().metadata
    tables = [t for t in reversed(metadata.sorted_tables) if t.name not in KEEP_TABLES]
    with _PG_DATABASE[0].engine.begin() as connection:
        for table in tables:
            connection.execute(table.delete())


@pytest.fixture
def settings(tmp_path: Path, database_template: str) -> Settings:
    """Settings of a fresh instance whose data directory is the test's temporary directory."""
    if PG_URL:
        _empty_tables(PG_URL)
        url = PG_URL
    else:
        shutil.copy(database_template, tmp_path / "liaison.db")
        url = f"sqlite:///{tmp_path / 'liaison.db'}"
    return load_settings(
        environ={},
        env="test",
        data_dir=tmp_path,
        database_url=url,
        secret_key=secrets.token_urlsafe(48),
        mail_sink=False,
        run_scheduler=False,
        # tests send queued e-mail themselves (send_due) unless they ask for the after-commit kick
        mail_send_in_web=False,
        # a closed port: a test that forgets its own SMTP server never reaches a developer's sink
        smtp_host="127.0.0.1",
        smtp_port=free_port(),
    )


@pytest.fixture
def app(settings: Settings):
    """The Liaison app on the test's database."""
    application = create_app(settings)
    application.config["TESTING"] = True
    yield application
    close_app(application)


@pytest.fixture
def client(app):
    """A test client of the app (cookies kept between requests)."""
    return app.test_client()


@pytest.fixture
def db_session(app) -> Iterator[Session]:
    """A session on the app's database; tests commit what they set up."""
    with app.extensions["liaison.db"].session() as session:
        yield session


@pytest.fixture
def make_user(db_session: Session):
    """Factory: a person with a role, belonging to organisations, enrolled (password + TOTP)."""
    counter = iter(range(1, 10_000))

    def factory(role: Role | str = Role.MEMBER, organizations=(), email: str | None = None) -> User:
        number = next(counter)
        user = User(
            email=email or f"person{number}@example.org",
            display_name=f"Person {number}",
            role=Role(role).value,
            password_hash=None,
            totp_secret=None,
        )
        user.organizations = list(organizations)
        db_session.add(user)
        db_session.commit()
        return user

    return factory


@pytest.fixture
def sign_in(app, db_session: Session):
    """Sign a person in on a test client by creating a server-side session row and its cookie.

    This skips the password and TOTP screens (their own tests cover them); it returns the
    session's CSRF token for state-changing requests.
    """

    def do(client, user: User) -> str:
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        now = utcnow()
        db_session.add(
            UserSession(
                id=token_hash(token),
                user_id=user.id,
                data={"_user_id": user.id, "_fresh": True, "_csrf": csrf},
                created_at=now - timedelta(seconds=1),
                last_seen_at=now,
                authenticated_at=now,
            )
        )
        db_session.commit()
        client.set_cookie(cookie_name(app.extensions["liaison.settings"]), token)
        return csrf

    return do


@pytest.fixture
def shared_dir() -> Path:
    """The project's ``../shared`` folder (vectors and HSDS schemas)."""
    return SHARED
