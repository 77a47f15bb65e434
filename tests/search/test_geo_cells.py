"""Searching within a radius over map cells: exact totals, facets and nearest-first order, also for
organisations on a cell's border or right at the circle's edge; an index of an older schema."""

from __future__ import annotations

import math
import random

import pytest

from directory.points import stored_point
from search.grid import LEVELS, cells_of, cover
from search.places import haversine_km
from search.query import GeoPoint

from .conftest import build_organization, refs

CENTRE = GeoPoint(50.8503, 4.3517, "Brussels")


def _stored(organization) -> tuple[float, float]:
    point = stored_point(organization.locations[0])
    assert point is not None
    return point.lat, point.lon


KM_PER_DEGREE = 6371.0088 * math.pi / 180  # along a meridian, as haversine_km measures


def north_of(point: GeoPoint, km: float) -> tuple[float, float]:
    return point.lat + km / KM_PER_DEGREE, point.lon


def border_points(point: GeoPoint, level: int) -> list[tuple[float, float]]:
    """Corners and edges of the cells around ``point`` at ``level``, exactly on their borders."""
    dlat, dlon = 180.0 / (1 << level), 360.0 / (1 << level)
    x, y = math.floor((point.lon + 180) / dlon), math.floor((point.lat + 90) / dlat)
    return [
        ((y + j) * dlat - 90, (x + i) * dlon - 180) for i in (-1, 0, 1, 2) for j in (-1, 0, 1, 2)
    ]


@pytest.mark.parametrize(
    ("lat", "lon", "radius"),
    [(50.85, 4.35, 25.0), (51.44, 5.47, 5.0), (49.61, 6.13, 100.0), (52.37, 4.89, 0.3)],
)
def test_cells_hold_every_point_of_the_circle_once_and_inside_cells_nothing_beyond_it(
    lat, lon, radius
):
    circle = cover(lat, lon, radius)
    inside, edge = set(circle.inside), set(circle.edge)
    assert not inside & edge
    rng = random.Random(3)
    points = [
        (lat + rng.uniform(-1.1, 1.1) * radius / 111, lon + rng.uniform(-1.1, 1.1) * radius / 70)
        for _ in range(4000)
    ]
    centre = GeoPoint(lat, lon)
    points += [p for level in LEVELS for p in border_points(centre, level)]
    for plat, plon in points:
        cells = cells_of(plat, plon)
        holding = [c for c in cells if c in inside or c in edge]
        distance = haversine_km(lat, lon, plat, plon)
        assert len(holding) <= 1
        if distance <= radius:
            assert holding, (plat, plon)
        if holding and holding[0] in inside:
            assert distance <= radius


def test_radius_counts_and_facets_exactly_at_the_edge_and_on_cell_borders(add_organizations, find):
    places = [north_of(CENTRE, km) for km in (0.0, 3.0, 24.999, 25.001, 40.0)]
    places += border_points(CENTRE, 15) + border_points(CENTRE, 17)
    rng = random.Random(5)
    organizations = [
        build_organization(
            f"org-{i}",
            f"Organisation {i}",
            lat=lat,
            lon=lon,
            country=rng.choice(["BE", "NL"]),
            is_24_7=i % 3 == 0,
            target_groups=rng.sample(["adult_women", "adult_men", "unaccompanied_minors"], 2),
        )
        for i, (lat, lon) in enumerate(places)
    ]
    add_organizations(*organizations)
    for radius in (25.0, 0.05, 0.3):
        within = [
            o for o in organizations if haversine_km(CENTRE.lat, CENTRE.lon, *_stored(o)) <= radius
        ]
        page = find(near=CENTRE, radius_km=radius, sort="distance", per_page=100)
        assert sorted(refs(page)) == sorted(o.ref for o in within), radius
        assert page.total == len(within)
        countries: dict[str, int] = {}
        for o in within:
            countries[o.country] = countries.get(o.country, 0) + 1
        assert page.facets.get("country", {}) == countries
        assert page.facets.get("is_24_7", {}).get("true", 0) == sum(1 for o in within if o.is_24_7)
    assert "org-3" not in refs(find(near=CENTRE, radius_km=25.0, sort="distance", per_page=100))
    assert "org-2" in refs(find(near=CENTRE, radius_km=25.0, sort="distance", per_page=100))


def test_nearest_first_pages_through_a_crowded_circle(add_organizations, find):
    rng = random.Random(9)
    organizations = [
        build_organization(
            f"org-{i}",
            f"Opvang {i}",
            lat=CENTRE.lat + rng.uniform(-0.15, 0.15),
            lon=CENTRE.lon + rng.uniform(-0.25, 0.25),
        )
        for i in range(120)
    ]
    add_organizations(*organizations)
    distance = {o.ref: haversine_km(CENTRE.lat, CENTRE.lon, *_stored(o)) for o in organizations}
    expected = sorted((d, ref) for ref, d in distance.items() if d <= 12)
    first = find(near=CENTRE, radius_km=12, sort="distance", per_page=7)
    second = find(near=CENTRE, radius_km=12, sort="distance", per_page=7, page=2)
    assert first.total == len(expected) > 14
    assert refs(first) + refs(second) == [ref for _, ref in expected[:14]]
    # without words every match scores the same: best first is nearest first
    by_relevance = find(near=CENTRE, radius_km=12, sort="relevance", per_page=7, page=2)
    assert refs(by_relevance) == refs(second)
    assert by_relevance.total == first.total
    with_text = find("opvang", near=CENTRE, radius_km=12, sort="distance", per_page=3)
    assert refs(with_text) == [ref for _, ref in expected[:3]]
    assert with_text.total == len(expected)


def test_an_index_written_with_an_older_schema_is_rebuilt_from_the_database(
    add_organizations, app, settings, search_service
):
    import tantivy

    from search.query import SearchQuery
    from search.service import SearchService

    add_organizations(build_organization("kompas", "Kompas", lat=CENTRE.lat, lon=CENTRE.lon))
    path = settings.data_dir / "older" / "search" / "embedded"
    (path / "gen-1").mkdir(parents=True)
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("doc_id", stored=True, tokenizer_name="raw")
    older = tantivy.Index(builder.build(), path=str(path / "gen-1"))
    older.writer(heap_size=15_000_000, num_threads=1).commit()
    (path / "CURRENT").write_text("gen-1")

    service = SearchService(
        settings.replace(data_dir=settings.data_dir / "older"), app.extensions["liaison.db"]
    )
    page = service.search(SearchQuery(text="kompas", audience="public"))
    assert [h.ref for h in page.hits] == ["kompas"]
    assert not service.embedded.needs_rebuild()


def test_a_radius_search_counts_only_what_the_audience_may_see(add_organizations, find):
    add_organizations(
        build_organization("open", "Open huis", lat=CENTRE.lat, lon=CENTRE.lon),
        build_organization(
            "members", "Besloten huis", lat=CENTRE.lat, lon=CENTRE.lon, visibility="network"
        ),
    )
    public = find(near=CENTRE, radius_km=5, sort="distance", audience="public")
    network = find(near=CENTRE, radius_km=5, sort="distance", audience="network")
    assert refs(public) == ["open"]
    assert public.total == 1
    assert public.facets["country"] == {"BE": 1}
    assert sorted(refs(network)) == ["members", "open"]
    assert network.total == 2


@pytest.mark.parametrize("few", [False, True])
def test_nearest_first_without_a_radius_then_the_unplaced(
    add_organizations, find, monkeypatch, few
):
    import search.embedded

    if not few:  # treat every result as large, as with thousands of matches
        monkeypatch.setattr(search.embedded, "SMALL_RESULT", 5)
    rng = random.Random(11)
    placed = [
        build_organization(
            f"org-{i}",
            f"Opvang {i}",
            lat=CENTRE.lat + rng.uniform(-1.5, 1.5),
            lon=CENTRE.lon + rng.uniform(-2.0, 2.0),
        )
        for i in range(40)
    ]
    unplaced = [build_organization("nowhere", "Opvang zonder locatie")]
    add_organizations(*placed, *unplaced)
    expected = sorted(
        (
            haversine_km(CENTRE.lat, CENTRE.lon, *_stored(o)),
            o.ref,
        )
        for o in placed
    )
    first = find("opvang", near=CENTRE, sort="distance", per_page=9)
    second = find("opvang", near=CENTRE, sort="distance", per_page=9, page=2)
    assert refs(first) + refs(second) == [ref for _, ref in expected[:18]]
    last = find("opvang", near=CENTRE, sort="distance", per_page=9, page=5)
    assert refs(last) == [ref for _, ref in expected[36:]] + ["nowhere"]
    assert first.total == 41


def test_the_index_order_puts_neighbours_together_and_the_unplaced_last():
    from search.grid import curve_position

    town = curve_position(CENTRE.lat, CENTRE.lon)
    next_door = curve_position(CENTRE.lat + 0.0001, CENTRE.lon + 0.0001)
    far = curve_position(52.37, 4.89)
    assert abs(town - next_door) < abs(town - far)
    assert curve_position(None, None) > max(town, next_door, far)


def test_closing_the_service_stops_the_engines_helper_thread(
    add_organizations, find, search_service
):
    import threading

    add_organizations(build_organization("open", "Open huis", lat=CENTRE.lat, lon=CENTRE.lon))
    assert refs(find(near=CENTRE, radius_km=5, sort="distance")) == ["open"]
    helper = search_service.embedded._helper
    assert helper is not None
    search_service.close()
    assert not any(t.name.startswith("liaison-search_") for t in threading.enumerate())
