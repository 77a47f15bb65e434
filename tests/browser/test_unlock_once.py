"""In real Chromium (issue 12): the keys are unlocked once per signed-in session. Messages →
Referrals → Messages → a new tab never asks for the passphrase again; what the browser keeps is
ciphertext only; "Lock keys" and sign-out lock every tab, and after sign-out nothing decryptable
is left in browser storage nor any unlock key on the server."""

from __future__ import annotations

import pytest
from liaison_client.api import Client
from liaison_client.encoding import b64
from liaison_client.identity import generate
from liaison_client.messages import seal
from selenium.webdriver.common.by import By
from sqlalchemy import select

from accounts.models import UserSession
from directory.models import Organization
from tests.accounts.conftest import PASSWORD, code_for
from tests.browser.test_messaging_inbox import _sign_in_and_unlock
from tests.browser.test_messaging_interop import (
    PASSPHRASE,
    _enrolled,
    _sender_key,
    _until,
    _visible,
)
from tests.browser.test_messaging_trust import _message, _publish

pytestmark = pytest.mark.browser

STORAGE = """
const dump = (s) => Object.fromEntries(
  Array.from({length: s.length}, (_, i) => [s.key(i), s.getItem(s.key(i))]));
const databases = indexedDB.databases ? (await indexedDB.databases()).map((d) => d.name) : [];
return {local: dump(localStorage), session: dump(sessionStorage), databases};
"""


def _storage(browser) -> dict:
    return browser.execute_script(f"return (async () => {{ {STORAGE} }})();")


def _kept(browser) -> list[str]:
    storage = _storage(browser)
    return [
        name
        for area in ("local", "session")
        for name in storage[area]
        if name.startswith("liaison.unlocked.")
    ]


def _inbox_decrypted(browser) -> None:
    """The page reached the inbox unlocked and decrypted the message; it never asked."""
    _until(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#messaging[data-ready='1']"))
    _until(browser, lambda: "Dossier Noord" in browser.find_element(By.ID, "inbox-list").text)
    assert not _visible(browser, "unlock-panel")
    assert _visible(browser, "lock-keys")


def _unlock_keys_on_server(db_session, user_id: str) -> list[bytes]:
    db_session.expire_all()
    rows = db_session.scalars(select(UserSession).where(UserSession.user_id == user_id))
    return [row.unlock_key for row in rows if row.unlock_key is not None]


def test_keys_unlocked_once_stay_unlocked_across_pages_and_tabs_until_lock_or_sign_out(
    live_server, browser, db_session, make_user
) -> None:
    shelter = Organization(ref="be-shelter", name="Opvanghuis", country="BE", org_type="ngo")
    db_session.add(shelter)
    db_session.commit()
    anna = _enrolled(db_session, make_user, shelter)
    bram = _enrolled(db_session, make_user, shelter)
    identities, apis = {}, {}
    for person in (anna, bram):
        apis[person.id] = Client(live_server.url)
        apis[person.id].login(person.email, PASSWORD, code_for(person))
        identities[person.id] = generate(person.id)
        _publish(apis[person.id], identities[person.id], 1, [identities[person.id]])
    anna_key = _sender_key(apis[bram.id], anna.id, identities[anna.id].key_id)
    sealed = seal(identities[bram.id], [anna_key], _message("Dossier Noord", "Bel terug."))
    apis[bram.id].post_message(sealed.to_json())
    secrets = [b64(identities[anna.id].sign_sk), b64(identities[anna.id].box_sk), PASSPHRASE]

    _sign_in_and_unlock(browser, live_server.url, anna)  # the one time the passphrase is typed
    _inbox_decrypted(browser)
    first_tab = browser.current_window_handle

    # Messages → Referrals → Messages: full page loads, never asked again
    browser.find_element(By.CSS_SELECTOR, "header nav a[href='/referrals']").click()
    _until(browser, lambda: browser.current_url.endswith("/referrals"))
    assert _visible(browser, "lock-keys")  # the lock control is in the navigation everywhere
    browser.find_element(By.CSS_SELECTOR, "header nav a[href='/messages']").click()
    _inbox_decrypted(browser)
    # … and a new tab of the same browser
    browser.switch_to.new_window("tab")
    browser.get(live_server.url + "/messages")
    _inbox_decrypted(browser)

    # what the browser keeps is ciphertext only, and the key to it is on the server
    storage = _storage(browser)
    [name] = _kept(browser)
    assert name == f"liaison.unlocked.{anna.id}"
    stored = " ".join(list(storage["local"].values()) + list(storage["session"].values()))
    assert not [secret for secret in secrets if secret in stored]
    assert len(_unlock_keys_on_server(db_session, anna.id)) == 1

    # "Lock keys" in this tab: the other tab drops its keys too and asks again
    browser.find_element(By.ID, "lock-keys").click()
    _until(browser, lambda: _visible(browser, "unlock-panel"))
    assert not _visible(browser, "lock-keys")
    assert _kept(browser) == []
    assert _unlock_keys_on_server(db_session, anna.id) == []
    browser.switch_to.window(first_tab)
    _until(browser, lambda: _visible(browser, "unlock-panel"))
    assert "Dossier Noord" not in browser.find_element(By.ID, "messaging").text

    # unlocked again (a new unlock key), then signed out from the other tab
    browser.find_element(By.ID, "unlock-secret").send_keys(PASSPHRASE)
    browser.find_element(By.CSS_SELECTOR, "#unlock-form button[type=submit]").click()
    _inbox_decrypted(browser)
    assert len(_kept(browser)) == 1
    browser.switch_to.window(browser.window_handles[1])
    browser.get(live_server.url + "/messages")
    _inbox_decrypted(browser)
    browser.find_element(By.CSS_SELECTOR, "form.sign-out button[type=submit]").click()
    _until(browser, lambda: "/login" in browser.current_url)

    # after sign-out: nothing of the keys in any storage of the browser, no key on the server
    for handle in browser.window_handles:
        browser.switch_to.window(handle)
        # the other tab reloads at once: it lands on the sign-in page, or (when it reloaded
        # before the sign-out reached the server) on the locked page; its keys are gone either way
        _until(
            browser, lambda: "/login" in browser.current_url or _visible(browser, "unlock-panel")
        )
        assert "Dossier Noord" not in browser.find_element(By.TAG_NAME, "body").text
        storage = _storage(browser)
        assert _kept(browser) == []
        assert storage["databases"] == []  # no IndexedDB either
        stored = " ".join(list(storage["local"].values()) + list(storage["session"].values()))
        assert not [secret for secret in secrets if secret in stored]
    assert _unlock_keys_on_server(db_session, anna.id) == []
