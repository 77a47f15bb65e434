"""When the configured Meilisearch cannot be reached, search answers from the embedded index."""

from __future__ import annotations

import logging
import socket

import pytest

from core.app import close_app, create_app
from core.outbox import enqueue
from search.query import SearchQuery

from .conftest import demo_records, organization_from_record


@pytest.fixture
def closed_port() -> int:
    """A local port nobody listens on: connecting is refused for real."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def meili_app(settings, closed_port):
    app = create_app(
        settings.replace(search_backend="meilisearch", meili_url=f"http://127.0.0.1:{closed_port}")
    )
    app.config["TESTING"] = True
    database = app.extensions["liaison.db"]
    with database.session() as session:
        for record in demo_records():
            organization = organization_from_record(record)
            session.add(organization)
            session.flush()
            enqueue(session, organization.id)
        session.commit()
    yield app
    close_app(app)


def test_search_falls_back_to_the_embedded_index_and_logs_it(meili_app, caplog):
    service = meili_app.extensions["liaison.search"]
    with caplog.at_level(logging.WARNING, logger="liaison.search"):
        page = service.search(SearchQuery(text="opvnag antwerpen", audience="public"))
    assert [h.ref for h in page.hits] == ["be-payoke"]
    assert page.backend == "embedded"
    assert any("Meilisearch is unreachable" in r.getMessage() for r in caplog.records)


def test_api_and_page_answer_normally_while_meilisearch_is_down(meili_app):
    client = meili_app.test_client()
    response = client.get("/api/v1/search?q=shelter&near=Maastricht")
    assert response.status_code == 200
    assert response.get_json()["hits"][0]["ref"] == "be-surya"
    page = client.get("/search?q=payoke")
    assert page.status_code == 200
    assert b"Payoke" in page.data


def test_health_check_says_search_is_degraded_without_telling_anyone_the_address(
    meili_app, closed_port
):
    response = meili_app.test_client().get("/api/v1/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "degraded"}
    assert str(closed_port) not in response.get_data(as_text=True)


def test_secretariat_sees_why_search_is_degraded(meili_app, closed_port, sign_in):
    from accounts.models import Role, User

    database = meili_app.extensions["liaison.db"]
    with database.session() as session:
        user = User(email="sec@example.org", display_name="Sec", role=Role.SECRETARIAT.value)
        session.add(user)
        session.commit()
        client = meili_app.test_client()
        sign_in(client, user)
    search = client.get("/api/v1/health").get_json()["checks"]["search"]
    assert search["status"] == "degraded"
    assert search["backend"] == "meilisearch"
    assert search["serving"] == "embedded"
    assert str(closed_port) in search["meilisearch"]["detail"]


def test_health_check_is_ok_on_the_embedded_default(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
