"""The search page: a plain GET form with facets, highlights, distance, badges and paging."""

from __future__ import annotations

import re

from .conftest import build_organization


def test_page_works_without_javascript(client, demo):
    response = client.get("/search?q=opvnag+antwerpen")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<form class="search-form" method="get"' in html
    assert 'href="/organisations/be-payoke"' in html
    assert "<mark>" in html
    assert re.search(r'<script type="module" nonce="[^"]+" src="/static/js/search.js">', html)
    assert "onclick" not in html
    assert "oninput" not in html


def test_facets_are_checkboxes_with_labels_in_the_readers_language(client, demo):
    html = client.get("/search?q=opvang", headers={"Accept-Language": "nl"}).get_data(as_text=True)
    assert 'name="service_type" value="shelter"' in html
    assert 'opvang <span class="count">(' in html  # the NL label with its count
    assert "Zoeken" in html or "Zoek" in html


def test_checked_filters_stay_checked_and_narrow_the_results(client, demo):
    html = client.get("/search?country=LU&org_type=police").get_data(as_text=True)
    assert 'value="LU" checked' in html
    assert "lu-police-traite" in html
    assert "be-fedpol-thb" not in html


def test_distance_and_badges_are_shown(client, demo):
    html = client.get("/search?q=shelter&near=Maastricht").get_data(as_text=True)
    # In whole kilometres for anyone but the secretariat (see directory.points).
    assert "25 km" in html
    assert "25.2 km" not in html
    assert "badge-24-7" in html
    assert "badge-cross-border" in html


def test_empty_state_helps(client, demo):
    html = client.get("/search?q=zzzzqqq").get_data(as_text=True)
    assert "No organisation matches this search." in html
    assert "sign in" in html


def test_bad_parameters_show_a_message_not_an_error_page(client, demo):
    response = client.get("/search?near=Atlantis")
    assert response.status_code == 400
    assert "unknown town" in response.get_data(as_text=True)
    assert '<form class="search-form"' in response.get_data(as_text=True)


def test_names_cannot_inject_html(client, add_organizations):
    add_organizations(build_organization("xss", "<img src=x onerror=alert(1)> Kompas"))
    html = client.get("/search?q=kompas").get_data(as_text=True)
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt; <mark>Kompas</mark>" in html


def test_paging_links_keep_the_search(client, demo):
    html = client.get("/search?country=BE&per_page=5").get_data(as_text=True)
    assert 'rel="next" href="?country=BE&amp;per_page=5&amp;page=2"' in html


def test_partial_results_for_search_as_you_type(client, demo):
    response = client.get("/search?q=payo", headers={"X-Liaison-Partial": "results"})
    html = response.get_data(as_text=True)
    assert "be-payoke" in html
    assert "<form" not in html
