"""The search page on phones and for search-as-you-type: results first, a skip link to them,
filters in a panel that says how many are active, long facets folded behind "more", and the
JSON that refreshes results, facet counts and the spoken result count together."""

from __future__ import annotations

import re


def test_search_as_you_type_gets_results_facets_and_announcement_together(client, demo):
    response = client.get("/search?q=opvang", headers={"X-Liaison-Partial": "json"})
    data = response.get_json()
    assert response.status_code == 200
    assert "<form" not in data["html"]
    assert 'class="search-hit"' in data["html"]
    assert data["total"] > 0
    assert sum(option["count"] for option in data["facets"]["country"]) == data["total"]
    assert data["announce"] == f"{data['total']} organisations found"
    assert set(data["availability"]) == {"is_24_7", "cross_border"}
    everything = client.get("/search", headers={"X-Liaison-Partial": "json"}).get_json()
    assert everything["total"] > data["total"]  # counts of this search, not of the first load
    assert sum(o["count"] for o in everything["facets"]["country"]) == everything["total"]


def test_a_ticked_value_stays_in_its_facet_and_the_announcement_is_translated(client, demo):
    data = client.get(
        "/search?q=zzzzqqq&country=LU",
        headers={"X-Liaison-Partial": "json", "Accept-Language": "nl"},
    ).get_json()
    assert data["total"] == 0
    assert data["facets"]["country"] == [
        {"value": "LU", "label": data["facets"]["country"][0]["label"], "count": 0, "checked": True}
    ]
    assert data["announce"] == "Geen enkele organisatie beantwoordt aan deze zoekopdracht."


def test_long_facets_show_the_most_frequent_values_and_fold_the_rest(client, demo):
    html = client.get("/search").get_data(as_text=True)
    fieldset = re.search(r'<fieldset class="facet" data-facet="org_type".*?</fieldset>', html, re.S)
    assert fieldset
    top, rest = fieldset.group(0).split('<details class="facet-more"')
    top_counts = [int(n) for n in re.findall(r'class="count">\((\d+)\)', top)]
    rest_counts = [int(n) for n in re.findall(r'class="count">\((\d+)\)', rest)]
    assert len(top_counts) == 8
    assert top_counts == sorted(top_counts, reverse=True)
    assert rest_counts
    assert min(top_counts) >= max(rest_counts)
    assert f"Show {len(rest_counts)} more" in rest
    assert "Show fewer" in rest
    # a short facet has no "more" control to show
    country = re.search(r'data-facet="country".*?</fieldset>', html, re.S).group(0)
    assert re.search(r'<details class="facet-more"\s+hidden', country)


def test_skip_link_to_results_comes_first_and_filters_say_how_many_are_active(client, demo):
    html = client.get(
        "/search?q=opvang&country=NL&is_24_7=true", headers={"Accept-Language": "nl"}
    ).get_data(as_text=True)
    body = html.split("<body>", 1)[1]
    skip = '<a class="skip-link" href="#search-results">Naar de resultaten</a>'
    assert body.lstrip().startswith(skip)
    assert 'id="search-results" class="search-results" tabindex="-1"' in html
    assert ">Filters (2 actief)</summary>" in html
    french = client.get("/search?country=NL", headers={"Accept-Language": "fr"})
    assert ">Filtres (actifs : 1)</summary>" in french.get_data(as_text=True)
    german = client.get("/search", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert ">Filter</summary>" in german
    assert "Weniger anzeigen" in german
