"""In real Chromium: the inbox pages with the relay's cursor, shows unread state and decrypts each
subject in the page; a message the page cannot verify is not shown; a forward keeps its marking;
writing to an organisation found by search addresses its contact points that have keys."""

from __future__ import annotations

import pytest
from liaison_client.api import Client
from liaison_client.identity import generate
from liaison_client.messages import seal
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from core.outbox import enqueue
from directory.models import Organization
from messaging.models import Envelope
from tests.accounts.conftest import PASSWORD, code_for
from tests.browser.test_messaging_interop import (
    PASSPHRASE,
    _enrolled,
    _problem,
    _sender_key,
    _until,
    _visible,
)
from tests.browser.test_messaging_trust import _message, _publish

pytestmark = pytest.mark.browser


def _sign_in_and_unlock(browser, url: str, person) -> None:
    """Sign in through the real pages, then unlock the keys made by the Python client."""
    browser.get(url + "/login?next=/messages")
    browser.find_element(By.NAME, "email").send_keys(person.email)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, 'form[action="/login"] button[type=submit]').click()
    WebDriverWait(browser, 15).until(lambda b: b.find_element(By.NAME, "code")).send_keys(
        code_for(person, steps_ahead=1)
    )
    browser.find_element(By.CSS_SELECTOR, 'form[action="/login/totp"] button[type=submit]').click()
    _until(browser, lambda: _visible(browser, "unlock-panel"))
    browser.find_element(By.ID, "unlock-secret").send_keys(PASSPHRASE)
    browser.find_element(By.CSS_SELECTOR, "#unlock-form button[type=submit]").click()


def test_inbox_pages_with_the_cursor_and_marks_unread_messages(
    live_server, browser, db_session, make_user
) -> None:
    shelter = Organization(ref="be-shelter", name="Opvanghuis", country="BE", org_type="ngo")
    db_session.add(shelter)
    db_session.commit()
    anna = _enrolled(db_session, make_user, shelter)
    bram = _enrolled(db_session, make_user, shelter)
    identities = {}
    apis = {}
    for person in (anna, bram):
        apis[person.id] = Client(live_server.url)
        apis[person.id].login(person.email, PASSWORD, code_for(person))
        identities[person.id] = generate(person.id)
        _publish(apis[person.id], identities[person.id], 1, [identities[person.id]])
    bram_api = apis[bram.id]
    anna_key = _sender_key(bram_api, anna.id, identities[anna.id].key_id)
    for number in range(22):
        sealed = seal(identities[bram.id], [anna_key], _message(f"Dossier {number:02d}", "…"))
        bram_api.post_message(sealed.to_json())
    # a server (or someone with the database) alters one stored message: the page must refuse it
    altered = db_session.get(Envelope, sealed.header["id"])
    altered.ciphertext = bytes([altered.ciphertext[0] ^ 1]) + altered.ciphertext[1:]
    db_session.commit()

    _sign_in_and_unlock(browser, live_server.url, anna)

    rows = lambda: browser.find_elements(By.CSS_SELECTOR, "#inbox-list li.message")  # noqa: E731
    _until(browser, lambda: len(rows()) == 20)
    assert "could not be opened safely" in rows()[0].text  # the altered one: nothing of it shown
    assert "Dossier" not in rows()[0].text
    assert "Dossier 20" in rows()[1].text  # newest first
    assert all("Unread" in row.text and "TLP:GREEN" in row.text for row in rows()[1:])
    more = browser.find_element(By.ID, "inbox-more")
    assert more.is_displayed()
    more.click()
    _until(browser, lambda: len(rows()) == 22)
    assert "Dossier 00" in rows()[-1].text
    assert not more.is_displayed()

    rows()[1].find_element(By.CSS_SELECTOR, "a.subject").click()
    _until(browser, lambda: "Dossier 20" in browser.find_element(By.ID, "thread-messages").text)
    # a forward keeps at least the original's marking (TLP:GREEN here)
    browser.find_element(By.CSS_SELECTOR, "#thread-messages button.forward").click()
    _until(browser, lambda: _visible(browser, "compose-panel"))
    assert "Dossier 20" in browser.find_element(By.ID, "compose-subject").get_attribute("value")
    browser.find_element(By.ID, "find-person").send_keys(bram.email)
    browser.find_element(By.ID, "add-person").click()
    _until(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#recipients li"))
    browser.find_element(By.CSS_SELECTOR, "input[name=tlp][value='TLP:CLEAR']").click()
    browser.find_element(By.ID, "compose-send").click()
    _until(browser, lambda: "at least the TLP marking" in _problem(browser))
    assert [m.kind for m in bram_api.messages().messages] == ["receipt"]  # the read receipt only

    browser.find_element(By.CSS_SELECTOR, "a[data-nav=inbox]").click()
    _until(browser, lambda: len(rows()) == 20)
    assert rows()[1].get_attribute("class") == "message read"
    assert "Unread" not in rows()[1].text
    assert all("Unread" in row.text for row in rows()[2:])


def test_writing_to_an_organisation_addresses_its_contact_points_with_keys(
    live_server, browser, db_session, make_user
) -> None:
    shelter = Organization(ref="be-shelter", name="Opvanghuis", country="BE", org_type="ngo")
    inspectorate = Organization(
        ref="nl-arbeidsinspectie", name="Arbeidsinspectie", country="NL", org_type="ngo",
        visibility="network", is_published=True,
    )  # fmt: skip
    db_session.add_all([shelter, inspectorate])
    db_session.commit()
    anna = _enrolled(db_session, make_user, shelter)
    bram = _enrolled(db_session, make_user, inspectorate)
    keyless = _enrolled(db_session, make_user, inspectorate)
    enqueue(db_session, inspectorate.id)
    db_session.commit()  # indexed for search after the commit
    apis = {}
    for person in (anna, bram):
        apis[person.id] = Client(live_server.url)
        apis[person.id].login(person.email, PASSWORD, code_for(person))
        identity = generate(person.id)
        _publish(apis[person.id], identity, 1, [identity])

    _sign_in_and_unlock(browser, live_server.url, anna)
    _until(browser, lambda: _visible(browser, "inbox-panel"))
    browser.find_element(By.CSS_SELECTOR, "a[data-nav=compose]").click()
    _until(browser, lambda: _visible(browser, "compose-panel"))
    browser.find_element(By.ID, "find-org").send_keys("Arbeidsinspectie")
    browser.find_element(By.ID, "search-org").click()
    _until(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#org-results button"))
    browser.find_element(By.CSS_SELECTOR, "#org-results button").click()
    _until(browser, lambda: bram.display_name in browser.find_element(By.ID, "recipients").text)
    assert keyless.display_name not in browser.find_element(By.ID, "recipients").text
    browser.find_element(By.CSS_SELECTOR, "input[name=tlp][value='TLP:AMBER+STRICT']").click()
    browser.find_element(By.ID, "compose-subject").send_keys("Controle vrijdag")
    browser.find_element(By.ID, "compose-body").send_keys("Kunnen jullie mee?")
    browser.find_element(By.ID, "compose-send").click()
    _until(browser, lambda: _visible(browser, "thread-panel"))
    [received] = apis[bram.id].messages().messages
    assert received.to_org == inspectorate.id
    assert received.to == (bram.id,)
