"""The /messages pages: signed-in only, scripts carry the CSP nonce, never cached, translated."""

from __future__ import annotations

import json
import re

import pytest

from accounts.models import Role

PAGES = [
    "/messages",
    "/messages/keys",
    "/messages/compose",
    "/messages/threads/0b7c2a39-0d6e-4a6b-9a34-2f1f6d4f0c11",
    "/messages/people/0b7c2a39-0d6e-4a6b-9a34-2f1f6d4f0c11",
]


@pytest.mark.parametrize("path", PAGES)
def test_messaging_pages_send_anonymous_visitors_to_sign_in(client, path: str) -> None:
    response = client.get(path)
    assert response.status_code in (302, 303)
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("path", PAGES)
def test_messaging_pages_load_their_scripts_with_the_response_nonce_and_are_never_cached(
    client, make_user, sign_in, path: str
) -> None:
    sign_in(client, make_user(Role.MEMBER))
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    html = response.get_data(as_text=True)
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts, "the page loads the messaging client"
    assert all(f'nonce="{nonce}"' in tag for tag in scripts)
    assert 'src="/static/js/messaging/app.mjs"' in html
    assert not re.search(r"\son[a-z]+=", html), "no inline event handlers"
    assert '<meta name="csrf-token" content="' in html


def test_a_page_without_javascript_says_that_reading_messages_needs_it(
    client, make_user, sign_in
) -> None:
    sign_in(client, make_user(Role.MEMBER))
    html = client.get("/messages").get_data(as_text=True)
    noscript = html.split("<noscript>")[1].split("</noscript>")[0]
    assert "needs JavaScript" in noscript
    assert "directory works without it" in noscript


def test_an_unknown_thread_address_is_a_not_found_page(client, make_user, sign_in) -> None:
    sign_in(client, make_user(Role.MEMBER))
    assert client.get("/messages/threads/not-an-id").status_code == 404


def test_messaging_pages_render_in_french_with_the_client_strings_translated(
    client, make_user, sign_in
) -> None:
    csrf = sign_in(client, make_user(Role.MEMBER))
    client.post("/language", data={"locale": "fr", "next": "/messages", "csrf_token": csrf})
    response = client.get("/messages/compose")
    html = response.get_data(as_text=True)
    assert '<html lang="fr">' in html
    assert "Messages sécurisés" in html
    assert "Marquage TLP (obligatoire)" in html
    assert "JavaScript" in html.split("<noscript>")[1]
    raw = html.split('id="messaging-strings"')[1].split(">", 1)[1].split("</script>")[0]
    strings = json.loads(raw)
    assert strings["chooseTlp"] == "Choisissez un marquage TLP."
    assert strings["trust.inPerson"] == "vérifiée en personne"


def test_every_messaging_page_string_has_dutch_french_and_german_translations(app) -> None:
    from messaging.pages import ui_strings

    catalogues = app.extensions["liaison.catalogues"]
    with app.test_request_context("/messages"):
        strings = ui_strings()
        refusals = strings.pop("refusals")  # check name -> explanation
        english = [*strings.values(), *refusals.values()]
    for locale in ("nl", "fr", "de"):
        missing = [text for text in english if text not in catalogues[locale]]
        assert not missing, (locale, missing)
