"""Migrations: upgrade → downgrade → upgrade with data in the tables, and models == migrations,
on SQLite always and on PostgreSQL when LIAISON_TEST_DATABASE_URL is set."""

from __future__ import annotations

import os

import pytest
from alembic.util.exc import CommandError
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from core import migrate
from core.db import Database

PG_URL = os.environ.get("LIAISON_TEST_DATABASE_URL", "")


def _postgres_scratch_url() -> str:
    """A scratch database beside the test database, so the suite's schema is left alone."""
    url = make_url(PG_URL)
    name = f"{url.database}_migrations"
    admin = create_engine(url.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrations.db'}"
    if not PG_URL:
        pytest.skip("PostgreSQL not configured (LIAISON_TEST_DATABASE_URL is not set)")
    return _postgres_scratch_url()


def _tables(url: str) -> set[str]:
    database = Database(url)
    names = set(inspect(database.engine).get_table_names())
    database.dispose()
    return names


def test_upgrade_downgrade_upgrade_keeps_schema_and_accepts_data(empty_database_url):
    migrate.upgrade(empty_database_url)
    tables = _tables(empty_database_url)
    assert {"organization", "user_account", "user_session", "audit_entry"} <= tables

    database = Database(empty_database_url)
    with database.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO organization (id, ref, name, name_i18n, description, country, "
                "org_type, is_24_7, accepts_cross_border_referrals, visibility, is_published, "
                "verification_status, review_interval_days, created_at, updated_at) VALUES "
                "('00000000-0000-4000-8000-000000000001', 'be-test', 'Test', '{}', '{}', 'BE', "
                "'police', false, false, 'public', true, 'unverified', 365, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
    database.dispose()

    migrate.downgrade(empty_database_url, "base")
    assert _tables(empty_database_url) <= {"alembic_version"}

    migrate.upgrade(empty_database_url)
    assert _tables(empty_database_url) == tables


def test_models_and_migrations_agree(empty_database_url):
    migrate.upgrade(empty_database_url)
    try:
        migrate.check(empty_database_url)
    except CommandError as error:  # pragma: no cover - the message is the diagnosis
        pytest.fail(f"models and migrations disagree: {error}")
