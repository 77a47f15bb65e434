"""In real Chromium at a phone's size (375 × 800): no page scrolls sideways, the first search
result shows without scrolling and is one Tab away (the skip link), and axe-core finds no
accessibility violation on the main pages. On a wide screen, search-as-you-type and ticked
filters refresh the facet counts with the results; a long facet shows its most frequent values
and a "more" control."""

from __future__ import annotations

from pathlib import Path

import pytest
from liaison_client.api import Client
from liaison_client.identity import generate
from liaison_client.messages import seal
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from accounts.models import Role
from accounts.passwords import hash_password
from accounts.totp import new_secret
from core.db import utcnow
from core.outbox import enqueue
from directory.models import Contact, Organization
from tests.accounts.conftest import PASSWORD, code_for
from tests.browser.test_messaging_interop import (
    PASSPHRASE,
    _enrolled,
    _sender_key,
    _until,
    _visible,
)
from tests.browser.test_messaging_trust import _message, _publish
from tests.search.conftest import build_organization, demo_records, organization_from_record

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
LONG_EMAIL = "intake.slachtofferhulp.noodopvang@zorgcoordinatie-grensregio-benelux.example"
LONG_SITE = "https://www.zorgcoordinatie-grensregio-benelux.example/slachtofferhulp/aanmelden"


def _phone(browser) -> None:
    """A 375 × 800 CSS-pixel viewport, as on a phone."""
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 375, "height": 800, "deviceScaleFactor": 1, "mobile": False},
    )


def _wide(browser) -> None:
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def _sideways(browser) -> list[str]:
    """What sticks out to the right of the viewport (empty when nothing scrolls sideways)."""
    return browser.execute_script(
        """
        const width = window.innerWidth;
        if (document.documentElement.scrollWidth <= width) return [];
        const wide = [...document.querySelectorAll("body *")].filter(
          (e) => e.getBoundingClientRect().right > width + 0.5);
        return [`scrollWidth ${document.documentElement.scrollWidth} > ${width}`].concat(
          wide.slice(-8).map((e) =>
            `${e.tagName}.${e.className}#${e.id}: ${Math.round(e.getBoundingClientRect().right)}`));
        """
    )


def _axe(browser) -> list[str]:
    """axe-core's violations on the page as it is now (rule, impact, where)."""
    if not browser.execute_script("return typeof window.axe === 'object'"):
        browser.execute_script(AXE.read_text(encoding="utf-8"))
    found = browser.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        axe.run(document).then(
          (r) => done(r.violations.map((v) => `${v.id} (${v.impact}): ` +
            v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | "))),
          (e) => done([`axe failed: ${e}`]));
        """
    )
    return list(found)


def _check(browser, page: str) -> None:
    """No sideways scrolling and no axe violation on the current page."""
    assert browser.execute_script("return window.innerWidth") == 375, page
    sideways = _sideways(browser)
    assert sideways == [], f"{page}: {sideways}"
    violations = _axe(browser)
    assert violations == [], f"{page}: {violations}"


@pytest.fixture
def directory(db_session, app):
    """The demo directory, plus an organisation with very long addresses, indexed for search."""
    organisations = [organization_from_record(r) for r in demo_records()]
    long = build_organization(
        "nl-grensregio", "Zorgcoördinatie Grensregio Mensenhandel", country="NL",
        city="Maastricht", service_types=["shelter"], languages=["nl", "fr", "de"],
    )  # fmt: skip
    long.email = LONG_EMAIL
    long.website = LONG_SITE
    long.contacts = [Contact(name="Intake", email=LONG_EMAIL, visibility="public")]
    organisations.append(long)
    for organisation in organisations:
        db_session.add(organisation)
        db_session.flush()
        enqueue(db_session, organisation.id)
    db_session.commit()
    app.extensions["liaison.search"].drain()
    return organisations


def test_public_pages_fit_a_phone_and_pass_axe(live_server, browser, directory) -> None:
    _phone(browser)
    browser.set_script_timeout(60)
    browser.get(live_server.url + "/")
    _check(browser, "home")

    browser.get(live_server.url + "/search?q=opvang")
    first = browser.find_element(By.CSS_SELECTOR, ".search-hit a")
    box = browser.execute_script("return arguments[0].getBoundingClientRect().toJSON()", first)
    assert box["top"] >= 0  # the first result, without scrolling
    assert box["bottom"] <= 800
    assert browser.execute_script("return window.scrollY") == 0
    filters = browser.find_element(By.ID, "search-filters")
    assert filters.get_attribute("open") is None  # folded away on a phone
    _check(browser, "search")
    # the first Tab reaches "Skip to results", which leads to them
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    skip = browser.switch_to.active_element
    assert skip.text == "Skip to results"
    skip.send_keys(Keys.ENTER)
    focused = lambda: browser.switch_to.active_element  # noqa: E731
    _until(browser, lambda: focused().get_attribute("id") == "search-results")
    focused().send_keys(Keys.TAB)
    assert focused().get_attribute("href") == first.get_attribute("href")
    # the filters open in place, with how many are active
    browser.get(live_server.url + "/search?q=opvang&country=NL&is_24_7=true")
    summary = browser.find_element(By.CSS_SELECTOR, "#search-filters > summary")
    assert summary.text == "Filters (2 active)"
    summary.click()
    assert browser.find_element(By.CSS_SELECTOR, "input[name=country][value=NL]").is_displayed()
    _check(browser, "search, filters open")

    browser.get(live_server.url + "/organisations/nl-grensregio")
    assert LONG_EMAIL in browser.page_source
    _check(browser, "organisation")

    browser.get(live_server.url + "/organisations?country=NL")
    _check(browser, "directory")

    browser.get(live_server.url + "/about")
    _check(browser, "about")

    browser.get(live_server.url + "/login")
    _check(browser, "sign-in")


def test_member_and_secretariat_pages_fit_a_phone_and_pass_axe(
    live_server, browser, db_session, make_user
) -> None:
    shelter = Organization(ref="be-shelter", name="Opvanghuis", country="BE", org_type="ngo")
    db_session.add(shelter)
    db_session.commit()
    anna = _enrolled(db_session, make_user, shelter)
    anna.email = "anna.van.der.berghe-de.vlaminck@opvanghuis-slachtofferhulp.example"
    bram = _enrolled(db_session, make_user, shelter)
    sonja = make_user(Role.SECRETARIAT)
    sonja.password_hash = hash_password(PASSWORD)
    sonja.totp_secret = new_secret()
    sonja.totp_enrolled_at = utcnow()
    db_session.commit()
    identities, apis = {}, {}
    for person in (anna, bram):
        apis[person.id] = Client(live_server.url)
        apis[person.id].login(person.email, PASSWORD, code_for(person))
        identities[person.id] = generate(person.id)
        _publish(apis[person.id], identities[person.id], 1, [identities[person.id]])
    anna_key = _sender_key(apis[bram.id], anna.id, identities[anna.id].key_id)
    subject = "Aanmelding-slachtofferhulp-grensregio-" + "x" * 60  # one long word
    sealed = seal(identities[bram.id], [anna_key], _message(subject, "Bel terug: " + "y" * 120))
    apis[bram.id].post_message(sealed.to_json())

    _phone(browser)
    browser.set_script_timeout(60)
    browser.get(live_server.url + "/login?next=/messages")
    browser.find_element(By.NAME, "email").send_keys(anna.email)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, 'form[action="/login"] button[type=submit]').click()
    _until(browser, lambda: browser.find_elements(By.NAME, "code"))
    _check(browser, "sign-in code")
    browser.find_element(By.NAME, "code").send_keys(code_for(anna, steps_ahead=1))
    browser.find_element(By.CSS_SELECTOR, 'form[action="/login/totp"] button[type=submit]').click()
    _until(browser, lambda: _visible(browser, "unlock-panel"))
    _check(browser, "unlock")
    browser.find_element(By.ID, "unlock-secret").send_keys(PASSPHRASE)
    browser.find_element(By.CSS_SELECTOR, "#unlock-form button[type=submit]").click()
    rows = lambda: browser.find_elements(By.CSS_SELECTOR, "#inbox-list li.message")  # noqa: E731
    _until(browser, lambda: len(rows()) == 1 and subject in rows()[0].text)
    _check(browser, "inbox")

    rows()[0].find_element(By.CSS_SELECTOR, "a.subject").click()
    _until(browser, lambda: subject in browser.find_element(By.ID, "thread-messages").text)
    _check(browser, "conversation")

    browser.find_element(By.CSS_SELECTOR, "a[data-nav=compose]").click()
    _until(browser, lambda: _visible(browser, "compose-panel"))
    _check(browser, "compose")

    browser.get(live_server.url + "/referrals")
    _until(browser, lambda: browser.find_elements(By.TAG_NAME, "h1"))
    _check(browser, "referrals")
    browser.get(live_server.url + "/account")
    _check(browser, "account")
    browser.find_element(By.CSS_SELECTOR, "form.sign-out button").click()
    _until(browser, lambda: browser.find_elements(By.CSS_SELECTOR, 'a[href="/login"]'))

    browser.get(live_server.url + "/login?next=/secretariat/")
    browser.find_element(By.NAME, "email").send_keys(sonja.email)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, 'form[action="/login"] button[type=submit]').click()
    _until(browser, lambda: browser.find_elements(By.NAME, "code"))
    browser.find_element(By.NAME, "code").send_keys(code_for(sonja))
    browser.find_element(By.CSS_SELECTOR, 'form[action="/login/totp"] button[type=submit]').click()
    _until(browser, lambda: "/login" not in browser.current_url)
    browser.get(live_server.url + "/secretariat/")
    _check(browser, "secretariat dashboard")
    browser.get(live_server.url + "/secretariat/health")
    _until(browser, lambda: browser.find_elements(By.ID, "referrals-total"))
    _check(browser, "network health dashboard")


def _facet(browser, name: str) -> dict[str, int]:
    """The options a facet shows now, with their counts."""
    return browser.execute_script(
        """
        const counts = {};
        for (const box of document.querySelectorAll(`fieldset[data-facet=${arguments[0]}] input`)) {
          const text = box.closest("label").querySelector(".count").textContent;
          counts[box.value] = Number(text.replace(/[()]/g, ""));
        }
        return counts;
        """,
        name,
    )


def _summary(browser) -> str:
    found = browser.find_elements(By.CSS_SELECTOR, "#search-results .search-summary")
    return found[0].text if found else ""


def test_facet_counts_follow_the_results_and_long_facets_fold(
    live_server, browser, directory
) -> None:
    browser.get(live_server.url + "/search")
    assert browser.find_element(By.ID, "search-filters").get_attribute("open") == "true"
    total = lambda: int(_summary(browser).split()[0])  # noqa: E731
    assert sum(_facet(browser, "country").values()) == total()
    # a long facet: its 8 most frequent values, the rest behind "Show n more" / "Show fewer"
    org_types = _facet(browser, "org_type")
    assert len(org_types) > 8
    fieldset = browser.find_element(By.CSS_SELECTOR, "fieldset[data-facet=org_type]")
    shown = fieldset.find_elements(By.CSS_SELECTOR, ".facet-top input")
    assert len(shown) == 8
    assert [org_types[box.get_attribute("value")] for box in shown] == sorted(
        org_types.values(), reverse=True
    )[:8]
    more = fieldset.find_element(By.CSS_SELECTOR, ".facet-more > summary")
    assert more.text == f"Show {len(org_types) - 8} more"
    hidden = fieldset.find_elements(By.CSS_SELECTOR, ".facet-rest input")
    assert not hidden[0].is_displayed()
    more.click()
    assert hidden[0].is_displayed()
    assert more.text == "Show fewer"
    more.click()
    assert not hidden[0].is_displayed()

    # search-as-you-type: counts, the "more" control and the announcement follow the results
    before = total()
    announce = browser.find_element(By.ID, "search-announce")
    browser.find_element(By.ID, "search-q").send_keys("opvang")
    _until(browser, lambda: "q=opvang" in browser.current_url and total() < before)
    assert sum(_facet(browser, "country").values()) == total()
    assert announce.get_attribute("textContent") == f"{total()} organisations found"
    assert browser.switch_to.active_element.get_attribute("id") == "search-q"
    countries = _facet(browser, "country")
    assert countries["NL"] < 15

    # ticking a filter: it stays ticked and focused, the counts are those of the narrower search
    browser.find_element(By.CSS_SELECTOR, "fieldset[data-facet=country] input[value=NL]").click()
    _until(browser, lambda: total() == countries["NL"])
    _until(browser, lambda: _facet(browser, "country") == {"NL": countries["NL"]})
    focused = browser.switch_to.active_element
    assert (focused.get_attribute("name"), focused.get_attribute("value")) == ("country", "NL")
    assert focused.is_selected()
    assert "NL" in browser.current_url
    summary = browser.find_element(By.CSS_SELECTOR, "#search-filters > summary")
    assert summary.get_attribute("textContent") == "Filters (1 active)"
    # unticking it brings the other countries back, with the counts of before
    focused.click()
    _until(browser, lambda: _facet(browser, "country") == countries)
    assert not browser.find_element(
        By.CSS_SELECTOR, "fieldset[data-facet=country] input[value=NL]"
    ).is_selected()
    assert summary.get_attribute("textContent") == "Filters"
    assert _axe(browser) == []


def _shown(browser, selector: str) -> bool:
    """Rendered and visible (Selenium's own check deems all of a closed <details> hidden)."""
    return browser.execute_script(
        "return document.querySelector(arguments[0]).checkVisibility()", selector
    )


def test_without_javascript_the_filters_show_on_a_wide_screen_and_fold_on_a_phone(
    live_server, browser, directory
) -> None:
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    browser.get(live_server.url + "/search?q=opvang")
    netherlands = "fieldset[data-facet=country] input[value=NL]"
    assert browser.find_element(By.ID, "search-filters").get_attribute("open") is None
    assert _shown(browser, netherlands)
    assert not _shown(browser, "#search-filters > summary")
    rest = "fieldset[data-facet=service_type] .facet-rest input"
    assert not _shown(browser, rest)
    # (Selenium refuses to click inside a closed <details>, though it shows here: a real click)
    more = browser.find_element(By.CSS_SELECTOR, "fieldset[data-facet=service_type] summary")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", more)
    ActionChains(browser).move_to_element(more).click().perform()
    assert _shown(browser, rest)

    _phone(browser)
    browser.get(live_server.url + "/search?q=opvang")
    assert not _shown(browser, netherlands)
    browser.find_element(By.CSS_SELECTOR, "#search-filters > summary").click()
    assert _shown(browser, netherlands)
    browser.find_element(By.CSS_SELECTOR, netherlands).click()
    browser.find_element(By.CSS_SELECTOR, ".search-facets button[type=submit]").click()
    _until(browser, lambda: "country=NL" in browser.current_url)
    assert browser.find_element(By.CSS_SELECTOR, "#search-filters > summary").text == (
        "Filters (1 active)"
    )
    assert _sideways(browser) == []
