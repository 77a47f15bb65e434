"""Count phrases on the search page follow each language's plural rule (0, 1, 2, 5)."""

from __future__ import annotations

import pytest

from core.i18n import translator
from tests.search.conftest import build_organization

# The summary line for 1, 2 and 5 hits, per language (French counts 0 and 1 as singular).
EXPECTED = {
    "nl": {1: "1 organisatie gevonden", 2: "2 organisaties gevonden", 5: "5 organisaties gevonden"},
    "fr": {
        1: "1 organisation trouvée",
        2: "2 organisations trouvées",
        5: "5 organisations trouvées",
    },
    "de": {
        1: "1 Organisation gefunden",
        2: "2 Organisationen gefunden",
        5: "5 Organisationen gefunden",
    },
    "en": {1: "1 organisation found", 2: "2 organisations found", 5: "5 organisations found"},
}
ZERO = {
    "nl": "0 organisaties gevonden",
    "fr": "0 organisation trouvée",
    "de": "0 Organisationen gefunden",
    "en": "0 organisations found",
}
NOTHING = {
    "nl": "Geen enkele organisatie",
    "fr": "Aucune organisation",
    "de": "Keine Organisation",
    "en": "No organisation matches this search.",
}
TYPES = {1: "police", 2: "labour_inspection", 5: "ngo_other"}


@pytest.fixture
def counted(add_organizations):
    """One police service, two labour inspectorates and five NGOs."""
    made = []
    for count, org_type in TYPES.items():
        made += [
            build_organization(f"{org_type}-{n}", f"{org_type} {n}", org_type=org_type)
            for n in range(count)
        ]
    add_organizations(*made)


@pytest.mark.parametrize("locale", ["nl", "fr", "de", "en"])
def test_the_result_count_is_singular_or_plural_by_the_languages_rule(client, counted, locale):
    for count, org_type in TYPES.items():
        html = client.get(
            f"/search?org_type={org_type}", headers={"Accept-Language": locale}
        ).get_data(as_text=True)
        assert EXPECTED[locale][count] in html, (locale, count)
    # Zero hits: the page says nothing matches; the catalogue's zero form is still right.
    html = client.get("/search?q=zzzzqqq", headers={"Accept-Language": locale}).get_data(
        as_text=True
    )
    assert NOTHING[locale] in html
    phrase = translator(locale).ngettext(
        "%(count)s organisation found", "%(count)s organisations found", 0
    )
    assert phrase == ZERO[locale]


def test_large_counts_use_the_languages_digit_grouping():
    phrases = {
        locale: translator(locale).ngettext(
            "%(count)s organisation found", "%(count)s organisations found", 1234
        )
        for locale in ("nl", "fr", "de", "en")
    }
    assert phrases["nl"] == "1.234 organisaties gevonden"
    assert phrases["de"] == "1.234 Organisationen gefunden"
    assert phrases["fr"] == "1\u202f234 organisations trouvées"
    assert phrases["en"] == "1,234 organisations found"
