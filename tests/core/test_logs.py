"""Log lines with the request's id, as text or JSON, and the id echoed to the caller."""

from __future__ import annotations

import io
import json
import logging

import pytest

from core.app import close_app, create_app
from core.logs import configure_logging


@pytest.fixture
def logged_app(request, settings):
    """An app in the given log format whose log lines are kept in a buffer."""
    app = create_app(settings.replace(log_format=request.param))
    app.config["TESTING"] = True

    def speak() -> str:
        logging.getLogger("liaison.test").warning("organisation %s updated", "be-payoke")
        return "ok"

    app.add_url_rule("/speak", "speak", speak)
    handler = configure_logging(app.extensions["liaison.settings"])
    buffer = io.StringIO()
    stream = handler.setStream(buffer)  # type: ignore[attr-defined]
    yield app, buffer
    handler.setStream(stream)  # type: ignore[attr-defined]
    close_app(app)
    configure_logging(settings)


@pytest.mark.parametrize("logged_app", ["json"], indirect=True)
def test_json_lines_carry_the_incoming_request_id(logged_app):
    app, buffer = logged_app
    response = app.test_client().get("/speak", headers={"X-Request-Id": "lb-4f2a9c"})
    assert response.headers["X-Request-Id"] == "lb-4f2a9c"
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    spoken = [line for line in lines if line["logger"] == "liaison.test"]
    assert spoken == [
        {
            "time": spoken[0]["time"],
            "level": "WARNING",
            "logger": "liaison.test",
            "message": "organisation be-payoke updated",
            "request_id": "lb-4f2a9c",
        }
    ]
    assert spoken[0]["time"].endswith("+00:00")


@pytest.mark.parametrize("logged_app", ["text"], indirect=True)
def test_text_lines_carry_a_generated_request_id_when_none_is_given(logged_app):
    app, buffer = logged_app
    client = app.test_client()
    first = client.get("/speak").headers["X-Request-Id"]
    second = client.get("/speak").headers["X-Request-Id"]
    assert first != second
    assert len(first) == 32
    text = buffer.getvalue()
    assert f"WARNING liaison.test [{first}]: organisation be-payoke updated" in text
    assert f"[{second}]" in text


@pytest.mark.parametrize("logged_app", ["json"], indirect=True)
@pytest.mark.parametrize(
    "given",
    ["two words", "x" * 129, "semi;colon", "id-\u00e9t\u00e9", '"quoted"', "-leading-dash", ""],
)
def test_an_insane_request_id_is_replaced(logged_app, given):
    app, buffer = logged_app
    response = app.test_client().get("/speak", headers={"X-Request-Id": given})
    echoed = response.headers["X-Request-Id"]
    assert echoed != given
    assert len(echoed) == 32
    assert json.loads(buffer.getvalue().splitlines()[-1])["request_id"] == echoed


@pytest.mark.parametrize("logged_app", ["json"], indirect=True)
def test_an_error_is_one_json_line_with_its_traceback_and_request_id(logged_app):
    app, buffer = logged_app
    app.config["TESTING"] = False
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def broken() -> str:
        raise RuntimeError("the printer is on fire")

    app.add_url_rule("/broken", "broken", broken)
    response = app.test_client().get("/broken", headers={"X-Request-Id": "abc-1"})
    assert response.status_code == 500
    entries = [json.loads(line) for line in buffer.getvalue().splitlines()]
    errors = [e for e in entries if e["level"] == "ERROR"]
    assert len(errors) == 1
    assert errors[0]["request_id"] == "abc-1"
    assert "the printer is on fire" in errors[0]["exception"]
