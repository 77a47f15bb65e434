"""NUL bytes and other text no person types never reach a view: every route answers 400 or 404.

PostgreSQL refuses NUL in text, so before the guard such input ended in a 500 with a traceback.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

import pytest

from accounts.models import Role
from directory.models import Organization

# NUL, another C0 control, a byte that is not UTF-8, and a UTF-8-encoded lone surrogate.
INVALID = ("%00", "%01", "%ff", "%ed%a0%80")
# Every query parameter a view reads (and a few it might): the guard must not depend on names.
QUERY_NAMES = (
    "q", "email", "country", "near", "sort", "lang", "page", "per_page", "org_type", "type",
    "organization_id", "taxonomy_id", "cursor", "box", "id", "state", "status", "period",
    "format", "scope", "service_area", "language", "next", "signed_out", "unacknowledged",
)  # fmt: skip
ARGUMENT = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")


def _url_with(rule: str, value: str) -> str:
    return ARGUMENT.sub(lambda _match: f"x{value}y", rule)


@pytest.fixture
def visitors(app, make_user, sign_in, db_session):
    """An anonymous visitor, a member and a secretariat editor, each with its CSRF token."""
    organisation = Organization(ref="be-payoke", name="Payoke", country="BE", org_type="ngo")
    db_session.add(organisation)
    db_session.commit()
    clients = {"anonymous": (app.test_client(), "")}
    for role in (Role.MEMBER, Role.SECRETARIAT):
        client = app.test_client()
        csrf = sign_in(client, make_user(role, organizations=[organisation]))
        clients[role.value] = (client, csrf)
    return clients


def _send(client, csrf: str, method: str, url: str):
    """Send ``url`` as a WSGI server would: the path percent-decoded to raw bytes (the test
    client would otherwise replace bytes that are not UTF-8 before the app sees them)."""
    path, _, query = url.partition("?")
    raw_path = unquote_to_bytes(path).decode("latin-1")
    headers = {"X-CSRF-Token": csrf} if csrf else {}
    return client.open(
        path="/",
        method=method,
        headers=headers,
        environ_overrides={"PATH_INFO": raw_path, "QUERY_STRING": query},
    )


@pytest.mark.parametrize(
    "url",
    [
        "/hsds/organizations/%00",
        "/api/v1/organizations/%00",
        "/organisations/%00",
        "/api/v1/users/lookup?email=a%00@b.eu",
        "/api/v1/search?q=opvang%00",
        "/search?q=%ed%a0%80",
        "/organisations?country=B%ffE",
    ],
)
def test_probe_findings_answer_400_not_500(visitors, url):
    client, csrf = visitors["member"]
    response = _send(client, csrf, "GET", url)
    assert response.status_code == 400
    if url.startswith(("/api/", "/hsds")):
        assert response.get_json()["status"] == 400
    else:
        assert "not allowed" in response.get_data(as_text=True)


def test_form_field_with_nul_is_refused_but_newlines_pass(visitors):
    client, csrf = visitors["member"]
    refused = client.post("/password-reset", data={"email": "a\x00@b.eu", "csrf_token": csrf})
    assert refused.status_code == 400
    accepted = client.post("/password-reset", data={"email": "a@b.eu\r\n", "csrf_token": csrf})
    assert accepted.status_code != 400


def test_json_string_with_nul_is_refused(visitors):
    client, csrf = visitors["member"]
    response = client.post(
        "/api/v1/referrals/x/status",
        json={"status": "accepted\u0000"},
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status_code == 400
    assert response.get_json()["status"] == 400


def test_clean_unicode_passes(visitors):
    client, _csrf = visitors["anonymous"]
    assert client.get("/search?q=Li%C3%A8ge+opvang").status_code == 200
    assert client.get("/organisations/nl-comensha-%C3%A9").status_code == 404


@pytest.mark.slow
def test_every_route_answers_invalid_characters_without_a_server_error(app, visitors):
    """Walk the URL map: each path argument, and the query string, gets each invalid value."""
    failures = []
    for rule in app.url_map.iter_rules():
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        for who, (client, csrf) in visitors.items():
            for value in INVALID:
                urls = []
                if rule.arguments:
                    urls.extend((method, _url_with(rule.rule, value)) for method in methods)
                if "GET" in methods:
                    clean = _url_with(rule.rule, "")
                    query = "&".join(f"{name}=a{value}" for name in QUERY_NAMES)
                    urls.append(("GET", f"{clean}?{query}"))
                for method, url in urls:
                    status = _send(client, csrf, method, url).status_code
                    if status not in (400, 404):
                        failures.append(f"{who} {method} {url} -> {status}")
    assert not failures, "\n".join(failures)


@pytest.mark.slow
def test_every_route_that_takes_a_body_refuses_a_nul_in_a_form_field_or_json_string(app, visitors):
    client, csrf = visitors["secretariat"]
    failures = []
    for rule in app.url_map.iter_rules():
        url = _url_with(rule.rule, "")
        for method in sorted((rule.methods or set()) & {"POST", "PUT", "DELETE"}):
            form = client.open(
                url,
                method=method,
                data={"csrf_token": csrf, "email": "a\x00@b.eu", "name": "x\x01"},
            )
            body = client.open(
                url,
                method=method,
                json={"status": "accepted\u0000", "items": [{"name": "\ud800"}]},
                headers={"X-CSRF-Token": csrf},
            )
            for kind, response in (("form", form), ("json", body)):
                if response.status_code != 400:
                    failures.append(f"{method} {url} ({kind}) -> {response.status_code}")
    assert not failures, "\n".join(failures)
