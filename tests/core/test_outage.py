"""A database outage: 503 with Retry-After, a static page, one log line, recovery without restart.

PostgreSQL runs behind a TCP proxy started by the test; cutting the proxy makes the database
unreachable for the app exactly as a network or server failure would. On SQLite, the database
file cannot be opened until it is put back.
"""

from __future__ import annotations

import logging
import shutil

import pytest
from flask import session
from sqlalchemy.engine import make_url

from accounts.models import Role
from core.app import close_app, create_app
from tests.conftest import PG_URL
from tests.core.tcp_proxy import TcpProxy

needs_postgresql = pytest.mark.skipif(
    not PG_URL,
    reason="needs PostgreSQL (LIAISON_TEST_DATABASE_URL): SQLite has no server to lose",
)


@pytest.fixture
def proxy():
    url = make_url(PG_URL)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    yield proxy
    proxy.close()


@pytest.fixture
def outage_app(settings, proxy):
    url = make_url(PG_URL).set(host="127.0.0.1", port=proxy.port)
    app = create_app(settings.replace(database_url=url.render_as_string(hide_password=False)))
    app.config["TESTING"] = True
    yield app
    close_app(app)


def _outage_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "liaison.outage"]


@needs_postgresql
def test_database_outage_answers_503_and_service_resumes_without_a_restart(
    outage_app, proxy, make_user, sign_in, caplog
):
    anonymous = outage_app.test_client()
    member = outage_app.test_client()
    sign_in(member, make_user(Role.MEMBER))
    assert anonymous.get("/readyz").status_code == 200
    assert anonymous.get("/api/v1/organizations").status_code == 200
    assert member.get("/account").status_code == 200
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []

    proxy.cut()
    with caplog.at_level(logging.INFO):
        ready = anonymous.get("/readyz")
        alive = anonymous.get("/healthz")
        api = anonymous.get("/api/v1/organizations")
        page = anonymous.get("/organisations", headers={"Accept-Language": "fr-BE,fr;q=0.9"})
        signed_in_page = member.get("/account", headers={"Accept-Language": "de"})
        for _ in range(20):
            assert anonymous.get("/api/v1/organizations").status_code == 503

        proxy.restore()
        back_api = anonymous.get("/api/v1/organizations")
        back_page = member.get("/account")
        back_ready = anonymous.get("/readyz")

    assert ready.status_code == 503
    assert ready.get_json() == {"status": "unavailable"}
    assert alive.status_code == 200

    assert api.status_code == 503
    assert api.headers["Retry-After"].isdigit()
    assert api.mimetype == "application/problem+json"
    assert api.get_json()["status"] == 503

    for response in (page, signed_in_page):
        assert response.status_code == 503
        assert response.headers["Retry-After"].isdigit()
        assert response.mimetype == "text/html"
    assert "Liaison est momentanément indisponible" in page.get_data(as_text=True)
    assert "Liaison ist kurz nicht erreichbar" in signed_in_page.get_data(as_text=True)

    assert back_api.status_code == 200
    assert back_page.status_code == 200
    assert back_ready.status_code == 200

    lines = _outage_lines(caplog)
    started = [r for r in lines if "database unreachable" in r.getMessage()]
    ended = [r for r in lines if "reachable again" in r.getMessage()]
    assert len(started) == 1, [r.getMessage() for r in lines]
    assert len(ended) == 1
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert tracebacks == [], [r.getMessage() for r in tracebacks]


@pytest.mark.skipif(bool(PG_URL), reason="the SQLite variant; PostgreSQL is cut by the proxy above")
def test_sqlite_file_that_cannot_be_opened_answers_503_until_it_is_back(settings, caplog):
    later = settings.data_dir / "later"
    app = create_app(settings.replace(database_url=f"sqlite:///{later / 'liaison.db'}"))
    try:
        client = app.test_client()
        with caplog.at_level(logging.INFO):
            api = client.get("/api/v1/organizations")
            page = client.get("/organisations", headers={"Accept-Language": "nl"})
            later.mkdir()
            shutil.copy(settings.data_dir / "liaison.db", later / "liaison.db")
            back = client.get("/api/v1/organizations")
    finally:
        close_app(app)
    assert api.status_code == 503
    assert api.mimetype == "application/problem+json"
    assert api.get_json()["check"] == "database-unavailable"
    assert page.status_code == 503
    assert "Liaison is even niet beschikbaar" in page.get_data(as_text=True)
    assert back.status_code == 200
    messages = [r.getMessage() for r in _outage_lines(caplog)]
    assert len(messages) == 2, messages
    assert "database unreachable" in messages[0]
    assert "reachable again" in messages[1]


@needs_postgresql
def test_a_session_that_cannot_be_saved_answers_503_rather_than_the_views_answer(
    outage_app, proxy, make_user, sign_in, caplog
):
    def remember() -> str:
        proxy.cut()
        session["remembered"] = "yes"
        return "kept"

    outage_app.add_url_rule("/remember", "remember", remember)
    member = outage_app.test_client()
    sign_in(member, make_user(Role.MEMBER))
    response = member.get("/remember")
    proxy.restore()
    assert response.status_code == 503
    assert "kept" not in response.get_data(as_text=True)
    assert response.headers["Retry-After"].isdigit()
    assert "nonce-" in response.headers["Content-Security-Policy"]
    assert member.get("/account").status_code == 200
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []
