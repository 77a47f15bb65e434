"""In real Chromium, the issue's referral flow: a Belgian contact point writes a referral with its
structured form (checked in the page, problems shown next to their fields) to a Dutch organisation
that accepts referrals; the Dutch contact point reads the form, acknowledges and accepts it on the
Referrals page; the sender sees the status change; the secretariat's dashboard counts it (as
"< 5"). The form never reaches the server in the clear."""

from __future__ import annotations

import json

import pytest
from liaison_client.api import Client
from liaison_client.identity import generate
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from accounts.models import Role
from accounts.passwords import hash_password
from accounts.totp import new_secret
from core.db import utcnow
from core.i18n import format_date
from core.outbox import enqueue
from directory.models import Organization
from messaging.models import Envelope, Referral, ReferralEvent
from tests.accounts.conftest import PASSWORD, code_for
from tests.browser.test_messaging_interop import PASSPHRASE, _enrolled, _problem, _until, _visible
from tests.browser.test_messaging_trust import _publish

pytestmark = pytest.mark.browser

MARKER = "MARKER-5d1e-verwijzing-dossier"


def _sign_in(browser, url: str, person, steps_ahead: int, target: str = "/messages") -> None:
    browser.get(f"{url}/login?next={target}")
    browser.find_element(By.NAME, "email").send_keys(person.email)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, 'form[action="/login"] button[type=submit]').click()
    _until(browser, lambda: browser.find_elements(By.NAME, "code"))
    WebDriverWait(browser, 15).until(lambda b: b.find_element(By.NAME, "code")).send_keys(
        code_for(person, steps_ahead=steps_ahead)
    )
    browser.find_element(By.CSS_SELECTOR, 'form[action="/login/totp"] button[type=submit]').click()
    _until(browser, lambda: "/login" not in browser.current_url)


def _unlock(browser) -> None:
    _until(browser, lambda: _visible(browser, "unlock-panel"))
    browser.find_element(By.ID, "unlock-secret").send_keys(PASSPHRASE)
    browser.find_element(By.CSS_SELECTOR, "#unlock-form button[type=submit]").click()
    _until(browser, lambda: not _visible(browser, "unlock-panel"))


def _sign_out(browser) -> None:
    browser.find_element(By.CSS_SELECTOR, "form.sign-out button").click()
    _until(browser, lambda: browser.find_elements(By.CSS_SELECTOR, 'a[href="/login"]'))


def _error(browser, field: str) -> str:
    box = browser.find_element(By.ID, f"ref-error-{field}")
    return box.text if box.is_displayed() else ""


def _row_status(browser, referral_id: str) -> str:
    return browser.find_element(By.ID, f"referral-{referral_id}").get_attribute("data-status")


def test_a_belgian_referral_is_accepted_in_the_netherlands_and_counted(
    live_server, browser, db_session, make_user
) -> None:
    payoke = Organization(ref="be-payoke", name="Payoke", country="BE", org_type="ngo")
    comensha = Organization(
        ref="nl-comensha", name="CoMensha Opvang", country="NL", org_type="ngo",
        visibility="network", is_published=True, accepts_cross_border_referrals=True,
    )  # fmt: skip
    elsewhere = Organization(
        ref="nl-elders", name="Opvang Zonder Verwijzing", country="NL", org_type="ngo",
        visibility="network", is_published=True, accepts_cross_border_referrals=False,
    )  # fmt: skip
    db_session.add_all([payoke, comensha, elsewhere])
    db_session.commit()
    anna = _enrolled(db_session, make_user, payoke)
    bram = _enrolled(db_session, make_user, comensha)
    sonja = make_user(Role.SECRETARIAT)
    sonja.password_hash = hash_password(PASSWORD)
    sonja.totp_secret = new_secret()
    sonja.totp_enrolled_at = utcnow()
    for organisation in (comensha, elsewhere):
        enqueue(db_session, organisation.id)
    db_session.commit()  # indexed for search after the commit
    for person, step in ((anna, -1), (bram, 0)):
        api = Client(live_server.url)
        api.login(person.email, PASSWORD, code_for(person, steps_ahead=step))
        identity = generate(person.id)
        _publish(api, identity, 1, [identity])

    # 1. Anna (Belgium) writes a referral: only organisations taking referrals are offered
    _sign_in(browser, live_server.url, anna, steps_ahead=0)
    _unlock(browser)
    browser.find_element(By.ID, "new-referral").click()
    _until(browser, lambda: _visible(browser, "referral-fields"))
    assert browser.find_element(By.ID, "compose-title").text == "New referral"
    assert not _visible(browser, "find-person")  # a referral goes to an organisation
    browser.find_element(By.ID, "find-org").send_keys("Opvang")
    browser.find_element(By.ID, "search-org").click()
    _until(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#org-results button"))
    offered = browser.find_element(By.ID, "org-results").text
    assert "CoMensha Opvang (NL)" in offered
    assert "Zonder Verwijzing" not in offered
    browser.find_element(By.CSS_SELECTOR, "#org-results button").click()
    _until(browser, lambda: bram.display_name in browser.find_element(By.ID, "recipients").text)
    browser.find_element(By.CSS_SELECTOR, "input[name=tlp][value='TLP:AMBER+STRICT']").click()

    # an incomplete form is refused in the page, each problem next to its field
    browser.find_element(By.ID, "compose-send").click()
    _until(browser, lambda: "not complete" in _problem(browser))
    assert "This field is required." in _error(browser, "stage")
    assert "at least 1" in _error(browser, "needs")
    assert "at least 1" in _error(browser, "languages")
    assert _error(browser, "notes") == ""
    stage = browser.find_element(By.ID, "ref-field-stage")
    assert stage.get_attribute("aria-invalid") == "true"
    assert browser.switch_to.active_element.get_attribute("name") == "ref-stage"

    browser.find_element(By.ID, "ref-stage-formal_identification").click()
    browser.find_element(By.ID, "ref-needs-shelter").click()
    browser.find_element(By.ID, "ref-needs-legal").click()
    browser.find_element(By.ID, "ref-urgency-high").click()
    browser.find_element(By.ID, "ref-languages").send_keys("ro, EN, xx")
    browser.find_element(By.ID, "ref-consent_recorded-true").click()
    browser.execute_script("document.getElementById('ref-consent_date').value = '2999-01-01'")
    browser.find_element(By.ID, "ref-notes").send_keys(f"Dossier {MARKER}: intake deze week.")
    browser.find_element(By.ID, "compose-send").click()
    _until(browser, lambda: "future" in _error(browser, "consent_date"))
    assert "xx" in _error(browser, "languages")
    assert _error(browser, "stage") == ""
    assert db_session.scalars(select(Envelope)).all() == []

    languages = browser.find_element(By.ID, "ref-languages")
    languages.clear()
    languages.send_keys("ro, en")
    today = utcnow().date().isoformat()
    browser.execute_script(f"document.getElementById('ref-consent_date').value = '{today}'")
    browser.find_element(By.ID, "compose-send").click()
    _until(browser, lambda: _visible(browser, "thread-panel"))
    _until(browser, lambda: browser.find_elements(By.CSS_SELECTOR, ".referral-view"))
    thread = browser.find_element(By.ID, "thread-messages").text
    assert "Formal identification" in thread
    assert "Shelter, Legal aid" in thread
    assert MARKER in thread
    _until(browser, lambda: browser.find_elements(By.CSS_SELECTOR, ".referral-status"))
    assert "Waiting for acknowledgement" in browser.find_element(By.ID, "thread-messages").text

    referral = db_session.scalars(select(Referral)).one()
    assert (referral.status, referral.urgency) == ("sent", "high")
    assert (referral.from_country, referral.to_country) == ("BE", "NL")
    stored = db_session.get(Envelope, referral.id)
    assert stored.kind == "referral"
    assert MARKER.encode() not in bytes(stored.ciphertext)
    assert MARKER not in json.dumps(stored.wraps)
    _sign_out(browser)

    # 2. Bram (the Netherlands) reads the form, then acknowledges and accepts on /referrals
    _sign_in(
        browser, live_server.url, bram, steps_ahead=1, target=f"/messages/threads/{referral.id}"
    )
    _unlock(browser)
    _until(browser, lambda: browser.find_elements(By.CSS_SELECTOR, ".referral-view"))
    form = browser.find_element(By.CSS_SELECTOR, ".referral-view").text
    assert "Stage of the referral mechanism" in form
    assert "Formal identification" in form
    assert "High" in form
    assert "Romanian (ro), English (en)" in form
    assert format_date(utcnow().date(), "en") in form  # the consent day, written out
    assert MARKER in form

    browser.get(f"{live_server.url}/referrals")
    _until(browser, lambda: browser.find_elements(By.ID, f"referral-{referral.id}"))
    assert _row_status(browser, referral.id) == "sent"
    row = browser.find_element(By.ID, f"referral-{referral.id}")
    row.find_element(By.CSS_SELECTOR, "button[name=status][value=acknowledged]").click()
    _until(browser, lambda: _row_status(browser, referral.id) == "acknowledged")
    row = browser.find_element(By.ID, f"referral-{referral.id}")
    row.find_element(By.CSS_SELECTOR, "button[name=status][value=accepted]").click()
    _until(browser, lambda: _row_status(browser, referral.id) == "accepted")
    _sign_out(browser)

    # 3. Anna sees that it was accepted, on /referrals and in the thread
    _sign_in(browser, live_server.url, anna, steps_ahead=1, target="/referrals")
    browser.get(f"{live_server.url}/referrals")
    _until(browser, lambda: browser.find_elements(By.ID, f"referral-{referral.id}"))
    assert _row_status(browser, referral.id) == "accepted"
    assert bram.display_name in browser.find_element(By.ID, f"referral-{referral.id}").text
    browser.get(f"{live_server.url}/messages/threads/{referral.id}")
    _unlock(browser)
    _until(browser, lambda: browser.find_elements(By.CSS_SELECTOR, ".referral-status"))
    status = browser.find_element(By.CSS_SELECTOR, ".referral-status")
    assert status.get_attribute("data-status") == "accepted"
    assert "Accepted" in status.text
    _sign_out(browser)
    db_session.expire_all()
    events = db_session.scalars(select(ReferralEvent).order_by(ReferralEvent.at)).all()
    assert [e.to_status for e in events] == ["sent", "acknowledged", "accepted"]

    # 4. The secretariat's dashboard counts it, as "< 5" so that no case can be singled out
    _sign_in(browser, live_server.url, sonja, steps_ahead=0, target="/secretariat/health")
    browser.get(f"{live_server.url}/secretariat/health")
    _until(browser, lambda: browser.find_elements(By.ID, "referrals-total"))
    assert browser.find_element(By.ID, "referrals-total").text == "< 5"
    pairs = browser.find_element(By.ID, "referrals-by-pair").text
    assert "BE" in pairs
    assert "NL" in pairs
    assert "< 5" in pairs
