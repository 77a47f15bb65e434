"""The About page shows the keys a client must trust, with fingerprints it can compare."""

import pytest
from liaison_client.encoding import b64
from liaison_client.identity import key_fingerprint, signing_keypair

from core.app import close_app, create_app


@pytest.fixture
def root_public_key() -> bytes:
    public, _secret = signing_keypair()
    return public


def test_about_page_shows_the_configured_root_key_and_its_fingerprint(settings, root_public_key):
    app = create_app(settings.replace(attestation_root_public_key=b64(root_public_key)))
    try:
        page = app.test_client().get("/about", headers={"Accept-Language": "fr"})
        text = page.get_data(as_text=True)
        assert page.status_code == 200
        assert "Clé racine du secrétariat" in text
        assert key_fingerprint(root_public_key) in text
        assert b64(root_public_key) in text
    finally:
        close_app(app)


def test_about_page_says_plainly_when_no_root_key_is_configured(client):
    text = client.get("/about", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Not configured on this instance" in text
    assert "Key log signing key" in text


def test_a_malformed_root_key_is_reported_not_shown(settings):
    app = create_app(settings.replace(attestation_root_public_key="not-a-key"))
    try:
        text = app.test_client().get("/about").get_data(as_text=True)
        assert "LIAISON_ATTESTATION_ROOT_PUBLIC_KEY" in text
    finally:
        close_app(app)


def test_key_fingerprint_differs_from_a_person_fingerprint_domain(root_public_key):
    digits = key_fingerprint(root_public_key)
    assert len(digits.split()) == 6
    assert all(len(group) == 5 and group.isdigit() for group in digits.split())
