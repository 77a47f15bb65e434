"""Health and readiness: what an anonymous probe learns, what the secretariat learns, and 503."""

from __future__ import annotations

import logging
import shutil

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from accounts.models import Role
from core.app import close_app, create_app
from core.db import Database
from core.health import CheckResult, readiness
from messaging.operations import database_writable
from tests.conftest import PG_URL

CHECKS = {"database", "migrations", "blob_store", "search"}


@pytest.fixture
def secretariat_client(app, make_user, sign_in):
    client = app.test_client()
    sign_in(client, make_user(Role.SECRETARIAT))
    return client


def test_healthz_says_the_process_is_up_without_details(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


@pytest.mark.parametrize("path", ["/readyz", "/api/v1/health"])
def test_anonymous_caller_learns_only_that_the_instance_is_ready(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/readyz", "/api/v1/health"])
def test_secretariat_sees_every_check(secretariat_client, path):
    body = secretariat_client.get(path).get_json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == CHECKS
    assert {check["status"] for check in body["checks"].values()} == {"ok"}
    assert body["checks"]["migrations"]["current"] == body["checks"]["migrations"]["head"]


def test_a_member_sees_no_details(app, make_user, sign_in):
    client = app.test_client()
    sign_in(client, make_user(Role.MEMBER))
    assert client.get("/api/v1/health").get_json() == {"status": "ok"}


def test_the_metrics_token_opens_the_details_to_a_monitor(settings):
    app = create_app(settings.replace(metrics_token="m" * 40))
    try:
        client = app.test_client()
        with_token = client.get("/readyz", headers={"Authorization": "Bearer " + "m" * 40})
        wrong = client.get("/readyz", headers={"Authorization": "Bearer " + "x" * 40})
    finally:
        close_app(app)
    assert set(with_token.get_json()["checks"]) == CHECKS
    assert wrong.get_json() == {"status": "ok"}


def test_schema_behind_the_code_is_not_ready(app, secretariat_client, client):
    database = app.extensions["liaison.db"]
    with database.engine.begin() as connection:
        head = connection.scalar(text("SELECT version_num FROM alembic_version"))
        connection.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    try:
        anonymous = client.get("/readyz")
        detailed = secretariat_client.get("/readyz").get_json()
    finally:
        with database.engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
    assert anonymous.status_code == 503
    assert anonymous.get_json() == {"status": "unavailable"}
    assert anonymous.headers["Retry-After"]
    assert detailed["checks"]["migrations"]["status"] == "failing"
    assert detailed["checks"]["migrations"]["current"] == ["older"]
    assert "liaison db upgrade" in detailed["checks"]["migrations"]["detail"]
    assert client.get("/readyz").status_code == 200


def test_blob_store_that_cannot_be_written_is_not_ready(settings):
    # The filesystem store, forced (on PostgreSQL the default is the database store, whose
    # check has tests of its own below).
    forced = settings.replace(blob_store="filesystem", metrics_token="m" * 40)
    blobs = forced.data_dir / "blobs"
    shutil.rmtree(blobs, ignore_errors=True)
    blobs.mkdir()
    (blobs / "tmp").write_text("not a folder")
    app = create_app(forced)
    try:
        response = app.test_client().get("/readyz", headers={"Authorization": "Bearer " + "m" * 40})
    finally:
        close_app(app)
    assert response.status_code == 503
    check = response.get_json()["checks"]["blob_store"]
    assert check["status"] == "failing"
    assert check["store"] == "filesystem"


def test_a_failing_check_is_logged_once_per_change_with_its_details(app, client, caplog):
    broken = {"now": True}

    def flaky() -> CheckResult:
        if broken["now"]:
            return CheckResult("failing", {"detail": "disk on fire"})
        return CheckResult("ok")

    readiness(app).add("flaky", flaky)
    with caplog.at_level(logging.INFO, logger="liaison.health"):
        assert client.get("/readyz").status_code == 503
        assert client.get("/readyz").status_code == 503
        broken["now"] = False
        assert client.get("/readyz").status_code == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "liaison.health"]
    assert len([line for line in lines if "disk on fire" in line]) == 1
    assert any("flaky is ok again" in line for line in lines)


def test_a_check_that_raises_counts_as_failing(app, client):
    def explodes() -> CheckResult:
        raise RuntimeError("boom")

    readiness(app).add("explodes", explodes)
    assert client.get("/readyz").status_code == 503


@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL: read-only transactions are its setting")
def test_a_read_only_database_cannot_take_blobs():
    url = make_url(PG_URL).update_query_dict({"options": "-c default_transaction_read_only=on"})
    database = Database(url.render_as_string(hide_password=False))
    try:
        result = database_writable(database)
    finally:
        database.dispose()
    assert result.status == "failing"
    assert "read-only" in result.detail["detail"]


def test_a_writable_database_can_take_blobs(app):
    assert database_writable(app.extensions["liaison.db"]).status == "ok"
