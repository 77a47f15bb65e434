"""Filters, facet counts and geography (near a town, radius, sort by distance)."""

from __future__ import annotations

import pytest

from search.query import GeoPoint, InvalidQuery

from .conftest import refs

MAASTRICHT = GeoPoint(50.84833, 5.68889, "Maastricht")


def test_filters_combine_and_within_a_field_any_value_matches(demo, find):
    page = find(filters={"country": ("BE", "LU"), "org_type": ("police",)}, per_page=50)
    assert set(refs(page)) == {"be-fedpol-thb", "lu-police-traite"}
    assert page.facets["country"] == {"BE": 1, "LU": 1}


def test_boolean_filters_keep_only_24_7_and_cross_border(demo, find):
    page = find(is_24_7=True, cross_border=True, per_page=50)
    assert refs(page)
    assert all(h.is_24_7 and h.cross_border for h in page.hits)
    assert all("24_7" in h.badges and "cross_border" in h.badges for h in page.hits)


def test_facet_counts_cover_every_match_not_just_the_page(demo, find):
    page = find(per_page=5, audience="public")
    assert len(page.hits) == 5
    assert sum(page.facets["country"].values()) == page.total == 38
    assert page.facets["target_group"]["unaccompanied_minors"] >= 10


def test_target_group_and_language_filters(demo, find):
    from .conftest import demo_records

    expected = {
        r["ref"]
        for r in demo_records()
        if "unaccompanied_minors" in r["target_groups"] and "de" in r["languages"]
    }
    page = find(
        filters={"target_group": ("unaccompanied_minors",), "language": ("de",)}, per_page=50
    )
    assert expected
    assert set(refs(page)) == expected


def test_near_a_point_sorts_by_distance(demo, find):
    page = find("shelter", near=MAASTRICHT, sort="distance", per_page=50)
    distances = [h.distance_km for h in page.hits if h.distance_km is not None]
    assert refs(page)[0] == "be-surya"
    assert distances == sorted(distances)
    assert 20 < distances[0] < 30


def test_radius_keeps_only_what_is_within_it(demo, find):
    within = find(near=MAASTRICHT, radius_km=100, sort="distance", per_page=50)
    assert set(refs(within)) >= {"be-surya"}
    assert all(h.distance_km <= 100 for h in within.hits)
    assert within.total == len(within.hits)
    assert "be-payoke" not in refs(find(near=MAASTRICHT, radius_km=60, per_page=50))


def test_a_town_named_in_the_text_is_read_as_near(demo, search_service):
    from search.query import SearchQuery

    for text in (
        "shelter near Maastricht",
        "opvang bij Maastricht",
        "hébergement près de Maastricht",
    ):
        page = search_service.search(SearchQuery(text=text, audience="public"))
        assert refs(page)[0] == "be-surya", text
        assert page.near.label == "Maastricht"


def test_town_names_resolve_in_every_language(search_service):
    places = search_service.places
    antwerp = places.point("Antwerpen")
    assert antwerp == places.point("Antwerp") == places.point("Anvers")
    assert places.point("Luik") == places.point("Liège") == places.point("liege")
    assert places.point("Atlantis") is None


def test_sort_by_name(demo, find):
    page = find(filters={"country": ("LU",)}, sort="name", per_page=50)
    names = [h.name.lower() for h in page.hits]
    assert names == sorted(names)


def test_the_query_model_rejects_nonsense():
    from search.query import SearchQuery

    with pytest.raises(InvalidQuery, match="radius_km needs a place"):
        SearchQuery(radius_km=10)
