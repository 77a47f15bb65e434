"""GET /api/v1/search: the JSON shape, parameters, and clear 400s for bad ones."""

from __future__ import annotations

import pytest


def test_search_answers_hits_facets_total_and_time(client, demo):
    body = client.get("/api/v1/search?q=opvnag+antwerpen+minderjarigen").get_json()
    assert set(body) >= {"hits", "facets", "total", "took_ms"}
    hit = body["hits"][0]
    assert hit["ref"] == "be-payoke"
    assert set(hit) >= {
        "id",
        "ref",
        "name",
        "country",
        "city",
        "org_type",
        "distance_km",
        "highlights",
    }
    assert body["total"] == 1
    assert body["facets"]["country"] == {"BE": 1}


def test_repeatable_and_comma_separated_filters(client, demo):
    one = client.get("/api/v1/search?country=BE&country=LU&org_type=police").get_json()
    two = client.get("/api/v1/search?country=be,lu&org_type=police").get_json()
    assert {h["ref"] for h in one["hits"]} == {"be-fedpol-thb", "lu-police-traite"}
    assert one["total"] == two["total"] == 2


def test_near_a_town_with_radius_and_distance(client, demo):
    body = client.get("/api/v1/search?q=shelter&near=Maastricht&radius_km=50").get_json()
    assert [h["ref"] for h in body["hits"]] == ["be-surya"]
    assert 20 < body["hits"][0]["distance_km"] < 30


def test_lat_lon_and_paging(client, demo):
    body = client.get("/api/v1/search?lat=50.85&lon=4.35&per_page=3&page=2").get_json()
    assert len(body["hits"]) == 3
    assert body["page"] == 2
    distances = [h["distance_km"] for h in body["hits"]]
    assert distances == sorted(distances)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("near=Atlantis", "unknown town"),
        ("lat=50.8", "lat and lon go together"),
        ("lat=north&lon=4", "lat must be a number"),
        ("lat=95&lon=4", "lat must be within"),
        ("near=Liège&radius_km=-5", "radius_km must be more than 0"),
        ("radius_km=10", "radius_km needs a place"),
        ("per_page=101", "per_page must be at most 100"),
        ("page=0", "page must be 1 or more"),
        ("country=FR", "unknown country"),
        ("service_type=massage", "unknown service_type"),
        ("is_24_7=maybe", "is_24_7 must be true or false"),
        ("sort=random", "sort must be one of"),
        ("sort=distance", "sort=distance needs a place"),
        ("near=Liège&lat=50&lon=5", "either near or lat and lon"),
        ("q=" + "x" * 201, "q must be at most 200"),
    ],
)
def test_bad_parameters_get_a_clear_400(client, query, message):
    response = client.get(f"/api/v1/search?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert message in body["detail"]


def test_search_is_documented_in_the_openapi(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/search"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert names >= {"q", "country", "near", "lat", "lon", "radius_km", "sort", "page", "per_page"}
    assert "SearchPage" in document["components"]["schemas"]
