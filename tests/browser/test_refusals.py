"""In real Chromium, refusals the person can act on: the relay's named check reaches the page as
a translated explanation, and "New referral" is offered only to people with an organisation to
send it for (the relay would refuse it otherwise: ``from-org-required``)."""

from __future__ import annotations

import pytest
from liaison_client.api import Client
from liaison_client.identity import generate
from selenium.webdriver.common.by import By
from sqlalchemy import select

from accounts.models import Role
from accounts.passwords import hash_password
from accounts.totp import new_secret
from core.db import utcnow
from core.outbox import enqueue
from directory.models import Organization
from messaging.models import Envelope
from tests.accounts.conftest import PASSWORD, code_for
from tests.browser.test_messaging_interop import _enrolled, _problem, _until, _visible
from tests.browser.test_messaging_trust import _publish
from tests.browser.test_referral_flow import _sign_in, _unlock

pytestmark = pytest.mark.browser


def _secretariat(db_session, make_user, organizations=()):
    person = make_user(Role.SECRETARIAT, organizations=list(organizations))
    person.password_hash = hash_password(PASSWORD)
    person.totp_secret = new_secret()
    person.totp_enrolled_at = utcnow()
    person.locale = "fr"
    db_session.commit()
    return person


def _with_keys(url: str, person, step: int) -> None:
    api = Client(url)
    api.login(person.email, PASSWORD, code_for(person, steps_ahead=step))
    identity = generate(person.id)
    _publish(api, identity, 1, [identity])


def test_without_an_organisation_new_referral_is_not_offered_and_says_why(
    live_server, browser, db_session, make_user
) -> None:
    sonja = _secretariat(db_session, make_user)
    _with_keys(live_server.url, sonja, -1)

    _sign_in(browser, live_server.url, sonja, steps_ahead=0)
    _unlock(browser)
    assert browser.find_elements(By.CSS_SELECTOR, "a[data-nav=compose]")  # messages: yes
    assert not browser.find_elements(By.ID, "new-referral")
    browser.get(f"{live_server.url}/messages/compose?kind=referral")  # e.g. an old bookmark
    # The keys stay unlocked across pages of the session: no second passphrase.
    _until(browser, lambda: "vous n'appartenez à aucune" in _problem(browser))
    assert "Écrivez plutôt un message" in _problem(browser)
    assert not _visible(browser, "compose-form")
    assert "Something went wrong" not in browser.page_source


def test_a_refused_referral_says_what_went_wrong_in_the_readers_language(
    live_server, browser, db_session, make_user
) -> None:
    payoke = Organization(ref="be-payoke", name="Payoke", country="BE", org_type="ngo")
    comensha = Organization(
        ref="nl-comensha", name="CoMensha Opvang", country="NL", org_type="ngo",
        visibility="network", is_published=True, accepts_cross_border_referrals=True,
    )  # fmt: skip
    db_session.add_all([payoke, comensha])
    db_session.commit()
    bram = _enrolled(db_session, make_user, comensha)
    # The secretariat person belongs to both: they choose which one they send for.
    sonja = _secretariat(db_session, make_user, [payoke, comensha])
    enqueue(db_session, comensha.id)
    db_session.commit()
    _with_keys(live_server.url, sonja, -1)
    _with_keys(live_server.url, bram, 0)

    _sign_in(browser, live_server.url, sonja, steps_ahead=0)
    _unlock(browser)
    browser.find_element(By.ID, "new-referral").click()
    _until(browser, lambda: _visible(browser, "referral-fields"))
    assert _visible(browser, "referral-from-org")
    # Sent for CoMensha to CoMensha: the relay refuses it (same-organisation).
    browser.find_element(
        By.CSS_SELECTOR, f"#referral-from-org option[value='{comensha.id}']"
    ).click()
    browser.find_element(By.ID, "find-org").send_keys("CoMensha")
    browser.find_element(By.ID, "search-org").click()
    _until(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#org-results button"))
    browser.find_element(By.CSS_SELECTOR, "#org-results button").click()
    _until(browser, lambda: bram.display_name in browser.find_element(By.ID, "recipients").text)
    browser.find_element(By.CSS_SELECTOR, "input[name=tlp][value='TLP:AMBER+STRICT']").click()
    browser.find_element(By.ID, "ref-stage-formal_identification").click()
    browser.find_element(By.ID, "ref-needs-shelter").click()
    browser.find_element(By.ID, "ref-urgency-high").click()
    browser.find_element(By.ID, "ref-languages").send_keys("nl")
    browser.find_element(By.ID, "ref-consent_recorded-true").click()
    today = utcnow().date().isoformat()
    browser.execute_script(f"document.getElementById('ref-consent_date').value = '{today}'")
    browser.find_element(By.ID, "compose-send").click()

    _until(browser, lambda: "autre organisation" in _problem(browser))
    problem = _problem(browser)
    assert "Un renvoi va à une autre organisation" in problem
    assert "Choisissez une autre organisation destinataire" in problem
    assert "Something went wrong" not in problem
    assert db_session.scalars(select(Envelope)).all() == []
