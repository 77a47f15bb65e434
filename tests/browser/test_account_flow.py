"""In real Chromium: accept an invitation, enrol TOTP, sign in, read an organisation in French,
sign out — and the old session cookie no longer signs in."""

from datetime import timedelta

import pyotp
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from accounts import invitations
from accounts.models import User
from core.db import utcnow
from directory.models import Organization

pytestmark = pytest.mark.browser

PASSWORD = "seven quiet lanterns by the canal"


def _fill(browser, name: str, value: str) -> None:
    field = browser.find_element(By.NAME, name)
    field.clear()
    field.send_keys(value)


def _click_and_wait(browser, element) -> None:
    """Click, then wait until the browser has left the page (a form post and its redirect)."""
    page = browser.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(browser, 15).until(expected_conditions.staleness_of(page))


def _submit(browser, form_action: str) -> None:
    _click_and_wait(
        browser,
        browser.find_element(By.CSS_SELECTOR, f'form[action="{form_action}"] button[type=submit]'),
    )


def test_invitation_enrolment_sign_in_french_page_and_sign_out(
    live_server, browser, settings, db_session
):
    organisation = Organization(
        ref="be-payoke-test",
        name="Payoke",
        country="BE",
        org_type="specialised_shelter",
        visibility="network",
        is_published=True,
        description={
            "en": "Shelter and guidance for victims of human trafficking.",
            "fr": "Accueil et accompagnement des victimes de la traite des êtres humains.",
        },
    )
    db_session.add(organisation)
    db_session.commit()
    _, link = invitations.invite(
        db_session,
        settings.replace(base_url=live_server.url),
        email="anna@example.org",
        role="member",
        organization_id=organisation.id,
        invited_by=None,
    )
    db_session.commit()

    # 1. accept the invitation: name and password
    browser.get(link)
    assert "anna@example.org" in browser.find_element(By.ID, "invited-email").text
    _fill(browser, "display_name", "Anna Peeters")
    _fill(browser, "password", PASSWORD)
    _fill(browser, "password_confirmation", PASSWORD)
    _click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))

    # 2. enrol TOTP: the QR code is shown, and the secret as text
    qr = browser.find_element(By.CSS_SELECTOR, "img.totp-qr")
    assert qr.get_attribute("src").startswith("data:image/svg+xml")
    assert browser.execute_script("return arguments[0].naturalWidth", qr) > 0  # CSP let it load
    secret = browser.find_element(By.ID, "totp-secret").text.replace(" ", "")
    totp = pyotp.TOTP(secret)
    _fill(browser, "code", totp.now())
    _click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))
    codes = browser.find_elements(By.CSS_SELECTOR, "#recovery-codes code")
    assert len(codes) == 10

    # 3. enrolment ends signed in; after signing out, sign in: password, then the next step's
    #    code (the enrolment code cannot be replayed)
    _click_and_wait(browser, browser.find_element(By.LINK_TEXT, "Continue to your account"))
    assert "Anna Peeters" in browser.page_source
    _click_and_wait(browser, browser.find_element(By.ID, "sign-out"))
    assert "/login" in browser.current_url
    _fill(browser, "email", "anna@example.org")
    _fill(browser, "password", PASSWORD)
    _submit(browser, "/login")
    _fill(browser, "code", totp.at(utcnow() + timedelta(seconds=30)))
    _submit(browser, "/login/totp")
    cookie = browser.get_cookie("__Host-liaison")
    assert cookie is not None, "Chromium did not keep the Secure __Host- cookie on 127.0.0.1"
    assert cookie["secure"] is True
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    browser.get(live_server.url + "/account")
    assert "Anna Peeters" in browser.page_source

    # 4. switch the interface to French and open the organisation page
    Select(browser.find_element(By.ID, "language-select")).select_by_value("fr")
    _submit(browser, "/language")
    browser.get(f"{live_server.url}/organisations/{organisation.ref}")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr"
    assert "Payoke" in browser.page_source
    assert "Accueil et accompagnement des victimes" in browser.page_source
    db_session.expire_all()
    assert db_session.query(User).filter_by(email="anna@example.org").one().locale == "fr"

    # 5. the cookie alone carries the session: without it the person is a visitor, with it
    #    (put back by hand) they are signed in again — the control for the last step
    browser.get(live_server.url + "/account")
    old_cookie = browser.get_cookie("__Host-liaison")["value"]
    browser.delete_all_cookies()
    browser.get(live_server.url + "/account")
    assert "/login" in browser.current_url
    _put_cookie(browser, old_cookie)
    browser.get(live_server.url + "/account")
    assert "Anna Peeters" in browser.page_source

    # 6. sign out (the interface stays in French), then put the old cookie back: no longer valid
    _click_and_wait(browser, browser.find_element(By.ID, "sign-out"))
    assert "/login" in browser.current_url
    assert "Vous êtes déconnecté" in browser.page_source
    _put_cookie(browser, old_cookie)
    browser.get(live_server.url + "/account")
    assert "/login" in browser.current_url
    assert "Anna Peeters" not in browser.page_source


def _put_cookie(browser, value: str) -> None:
    browser.delete_all_cookies()
    browser.add_cookie({"name": "__Host-liaison", "value": value, "path": "/", "secure": True})
    assert browser.get_cookie("__Host-liaison")["value"] == value
