"""In real Chromium: keys made by the Python client unlock in the browser with the passphrase;
the secretariat's attestation shows as such; a changed key blocks sending until acknowledged;
safety numbers match the Python client's and can be marked verified in person; a key rotation in
the browser keeps older messages readable."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from liaison_client.api import Client
from liaison_client.backup import create_backup
from liaison_client.encoding import b64
from liaison_client.identity import Identity, generate, safety_number, signing_keypair
from liaison_client.messages import seal
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from config import Settings
from core.db import utcnow
from directory.models import Organization
from messaging.models import KeyBackup
from messaging.services.keys import attest_key
from tests.accounts.conftest import PASSWORD, code_for
from tests.browser.test_messaging_interop import (
    PASSPHRASE,
    _confirm_recovery,
    _enrolled,
    _problem,
    _sender_key,
    _until,
    _visible,
)

pytestmark = pytest.mark.browser

ROOT_PK, ROOT_SK = signing_keypair()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The clients of this instance know the secretariat's root public key."""
    return settings.replace(attestation_root_public_key=b64(ROOT_PK))


def _publish(api: Client, identity: Identity, version: int, keys: list[Identity]) -> None:
    bundle, _recovery = create_backup(keys, PASSPHRASE, version)
    api.put_backup(bundle)
    api.publish_key({
        "key_id": identity.key_id, "sign_pk": b64(identity.sign_pk),
        "box_pk": b64(identity.box_pk), "created_at": identity.created_at,
        "pub_sig": b64(identity.publication_signature()),
    })  # fmt: skip


def _message(subject: str, text: str) -> dict:
    return {"tlp": "TLP:GREEN", "subject": subject, "body": text, "form": None,
            "attachments": [], "prev": None}  # fmt: skip


def _add_recipient(browser, email: str) -> None:
    browser.find_element(By.CSS_SELECTOR, "a[data-nav=compose]").click()
    _until(browser, lambda: _visible(browser, "compose-panel"))
    browser.find_element(By.ID, "find-person").send_keys(email)
    browser.find_element(By.ID, "add-person").click()
    _until(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#recipients li"))


def _write(browser, subject: str) -> None:
    browser.find_element(By.CSS_SELECTOR, "input[name=tlp][value='TLP:GREEN']").click()
    browser.find_element(By.ID, "compose-subject").send_keys(subject)
    browser.find_element(By.ID, "compose-body").send_keys("Graag een terugbelverzoek.")
    browser.find_element(By.ID, "compose-send").click()


def test_trust_key_change_safety_numbers_and_rotation_in_the_browser(
    live_server, browser, db_session, make_user, settings
) -> None:
    shelter = Organization(ref="be-shelter", name="Opvanghuis", country="BE", org_type="ngo")
    db_session.add(shelter)
    db_session.commit()
    anna = _enrolled(db_session, make_user, shelter)
    bram = _enrolled(db_session, make_user, shelter)
    apis = {}
    for person in (anna, bram):
        apis[person.id] = Client(live_server.url)
        apis[person.id].login(person.email, PASSWORD, code_for(person))
    anna_old = generate(anna.id)
    _publish(apis[anna.id], anna_old, 1, [anna_old])  # keys made by the Python client
    first_backup = apis[anna.id].get_backup()
    bram_first = generate(bram.id)
    _publish(apis[bram.id], bram_first, 1, [bram_first])
    bram_api = apis[bram.id]
    attest_key(db_session, settings, bram, ROOT_SK, utcnow() + timedelta(days=30))
    db_session.commit()
    anna_key = _sender_key(bram_api, anna.id, anna_old.key_id)
    old = seal(bram_first, [anna_key], _message("Oud dossier", "Voor de rotatie geschreven."))
    bram_api.post_message(old.to_json())

    # unlock the Python-made backup in the browser with the passphrase
    browser.get(live_server.url + "/login?next=/messages")
    browser.find_element(By.NAME, "email").send_keys(anna.email)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, 'form[action="/login"] button[type=submit]').click()
    WebDriverWait(browser, 15).until(lambda b: b.find_element(By.NAME, "code")).send_keys(
        code_for(anna, steps_ahead=1)
    )
    browser.find_element(By.CSS_SELECTOR, 'form[action="/login/totp"] button[type=submit]').click()
    _until(browser, lambda: _visible(browser, "unlock-panel"))
    browser.find_element(By.ID, "unlock-secret").send_keys(PASSPHRASE)
    browser.find_element(By.CSS_SELECTOR, "#unlock-form button[type=submit]").click()
    _until(browser, lambda: "Oud dossier" in browser.find_element(By.ID, "inbox-list").text)

    # first contact pins Bram's key; safety number as the Python client computes it
    _add_recipient(browser, bram.email)
    browser.find_element(By.CSS_SELECTOR, "#recipients a").click()
    _until(browser, lambda: _visible(browser, "person-panel"))
    _until(browser, lambda: len(browser.find_element(By.ID, "person-safety").text) > 5)
    expected = safety_number(anna_old.public().fingerprint, bram_first.public().fingerprint)
    assert browser.find_element(By.ID, "person-safety").text == expected
    secretariat = "verified by the secretariat"
    _until(browser, lambda: browser.find_element(By.ID, "person-trust").text == secretariat)
    browser.find_element(By.ID, "person-verify").click()
    _until(
        browser, lambda: browser.find_element(By.ID, "person-trust").text == "verified in person"
    )

    # Bram's key changes: sending is blocked until Anna acknowledges the change
    bram_second = generate(bram.id)
    _publish(bram_api, bram_second, 2, [bram_second, bram_first])
    # a new page: the per-page key cache is gone; the keys stay unlocked for the session
    browser.refresh()
    _until(browser, lambda: _visible(browser, "person-panel"))
    assert not _visible(browser, "unlock-panel")
    # the pin no longer holds
    _until(browser, lambda: browser.find_element(By.ID, "person-trust").text == "unverified")
    _add_recipient(browser, bram.email)
    _until(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#recipients li.changed"))
    _write(browser, "Na de sleutelwissel")
    _until(browser, lambda: "changed" in _problem(browser))
    assert bram_api.messages().messages == ()  # nothing was sent
    browser.find_element(By.CSS_SELECTOR, "#recipients button.acknowledge").click()
    browser.find_element(By.ID, "compose-send").click()
    _until(browser, lambda: _visible(browser, "thread-panel"))
    _until(browser, lambda: len(bram_api.messages().messages) == 1)

    # rotate Anna's key in the browser: a new recovery key, and the old message stays readable
    browser.find_element(By.CSS_SELECTOR, "a[data-nav=keys]").click()
    _until(browser, lambda: _visible(browser, "keys-panel"))
    old_fingerprint = browser.find_element(By.ID, "my-fingerprint").text
    browser.find_element(By.ID, "rotate-passphrase").send_keys(PASSPHRASE)
    browser.find_element(By.CSS_SELECTOR, "#rotate-form button[type=submit]").click()
    _until(browser, lambda: _visible(browser, "recovery-panel"))
    _confirm_recovery(browser)
    _until(browser, lambda: _visible(browser, "inbox-panel"))
    assert "Older messages stay readable" in browser.find_element(By.ID, "status").text
    current = bram_api.keys_of(anna.id)["current"]
    assert current["key_id"] != anna_old.key_id
    assert current["fingerprint"] != old_fingerprint
    browser.get(live_server.url + f"/messages/threads/{old.header['thread']}")
    # a new page: still unlocked, with the rotated keys (the older key among them)
    _until(browser, lambda: "Voor de rotatie geschreven." in browser.find_element(
        By.ID, "thread-messages").text)  # fmt: skip

    # a server that rolls the backup back to version 1 is refused by this browser
    stored = db_session.get(KeyBackup, anna.id)
    stored.version, stored.bundle = 1, json.dumps(first_backup)
    db_session.commit()
    browser.find_element(By.ID, "lock-keys").click()
    _until(browser, lambda: _visible(browser, "unlock-panel"))
    browser.find_element(By.ID, "unlock-secret").send_keys(PASSPHRASE)
    browser.find_element(By.CSS_SELECTOR, "#unlock-form button[type=submit]").click()
    _until(browser, lambda: "older key backup" in _problem(browser))
    assert not _visible(browser, "thread-panel")
