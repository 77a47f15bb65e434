"""The browser client formats dates and sizes with Intl in the page's language (real Chromium)."""

from __future__ import annotations

from datetime import date

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from core.i18n import format_date

# What the messaging client shows for 2026-12-05T06:10:00Z (07:10 in Brussels) and 5000000 bytes.
EXPECTED = {
    "nl": ("5 dec 2026, 07:10", "4,8 MB"),
    "fr": ("5 déc. 2026, 07:10", "4,8 Mo"),
    "de": ("05.12.2026, 07:10", "4,8 MB"),
    "en": ("5 Dec 2026, 07:10", "4.8 MB"),
}
FORMAT = """
const done = arguments[arguments.length - 1];
import("/static/js/messaging/format.mjs").then((format) => done({
  lang: document.documentElement.lang,
  when: format.formatDateTime("2026-12-05T06:10:00Z"),
  size: format.formatSize(5000000),
  day: format.formatDate("2026-12-05"),
  one: format.plural({one: "%(count)s bericht", other: "%(count)s berichten"}, 1),
  many: format.plural({one: "%(count)s bericht", other: "%(count)s berichten"}, 1234),
})).catch((error) => done({error: String(error)}));
"""


def _normal(text: str) -> str:
    # Intl and CLDR put (narrow) no-break spaces between number and unit; compare them as spaces.
    return text.replace("\u202f", " ").replace("\xa0", " ")


@pytest.mark.parametrize("locale", ["nl", "fr", "de", "en"])
def test_the_client_writes_dates_and_sizes_in_the_pages_language(live_server, browser, locale):
    browser.set_script_timeout(20)
    browser.get(live_server.url + "/")
    Select(browser.find_element(By.ID, "language-select")).select_by_value(locale)
    browser.find_element(By.CSS_SELECTOR, "form.language button[type=submit]").click()
    # Read through a script: an element found before the language form's reload goes stale.
    WebDriverWait(browser, 20).until(
        lambda driver: driver.execute_script("return document.documentElement.lang") == locale
    )
    shown = browser.execute_async_script(FORMAT)
    assert "error" not in shown, shown
    when, size = EXPECTED[locale]
    assert shown["lang"] == locale
    assert _normal(shown["when"]) == when
    assert _normal(shown["size"]) == _normal(size)
    assert shown["day"] == format_date(date(2026, 12, 5), locale)  # as the server writes it
    assert shown["one"] == "1 bericht"
    assert _normal(shown["many"]).endswith(" berichten")
    assert _normal(shown["many"]).startswith({"en": "1,234", "fr": "1 234"}.get(locale, "1.234"))
