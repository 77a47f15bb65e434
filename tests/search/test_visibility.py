"""Who finds what: hits, facet counts and totals follow the caller's role, on the server."""

from __future__ import annotations

from accounts.models import Role

from .conftest import build_organization, refs


def _directory(add_organizations):
    return add_organizations(
        build_organization("open", "Kompas Open", org_type="ngo_other", country="BE"),
        build_organization(
            "network", "Kompas Netwerk", org_type="hospital", country="LU", visibility="network"
        ),
        build_organization(
            "secret", "Kompas Geheim", org_type="police", country="NL", visibility="secretariat"
        ),
        build_organization("draft", "Kompas Concept", org_type="municipality", is_published=False),
    )


def test_public_search_never_reveals_network_or_secretariat_entries(add_organizations, find):
    _directory(add_organizations)
    page = find("kompas", audience="public")
    assert refs(page) == ["open"]
    assert page.total == 1
    assert page.facets["org_type"] == {"ngo_other": 1}
    assert page.facets["country"] == {"BE": 1}


def test_members_also_find_network_entries(add_organizations, find):
    _directory(add_organizations)
    page = find("kompas", audience="network")
    assert sorted(refs(page)) == ["network", "open"]
    assert page.facets["country"] == {"BE": 1, "LU": 1}


def test_only_the_secretariat_finds_confidential_and_unpublished_entries(add_organizations, find):
    _directory(add_organizations)
    page = find("kompas", audience="secretariat")
    assert sorted(refs(page)) == ["draft", "network", "open", "secret"]
    assert page.total == 4


def test_a_confidential_service_is_neither_found_nor_counted_by_the_public(add_organizations, find):
    add_organizations(
        build_organization(
            "clinic", "Kliniek Noord", services=[("medical", "public"), ("shelter", "secretariat")]
        )
    )
    assert refs(find("kliniek", audience="public")) == ["clinic"]
    assert "shelter" not in find("kliniek", audience="public").facets["service_type"]
    assert refs(find("Schutzunterkunft", audience="public", prefix=False)) == []
    assert refs(find("Schutzunterkunft", audience="secretariat", prefix=False)) == ["clinic"]


def test_a_confidential_location_gives_the_public_only_the_town_centre(add_organizations, find):
    from search.query import GeoPoint

    add_organizations(
        build_organization(
            "hidden",
            "Safe House",
            city="Liège",
            lat=50.70,
            lon=5.30,
            location_visibility="secretariat",
        )
    )
    liege = GeoPoint(50.63373, 5.56749)
    public = find("safe house", audience="public", near=liege).hits[0]
    secretariat = find("safe house", audience="secretariat", near=liege).hits[0]
    assert public.distance_km < 1  # the town centre of Liège
    assert secretariat.distance_km > 15  # the real place, for the secretariat only


def test_the_api_filters_by_the_signed_in_role(client, add_organizations, make_user, sign_in):
    _directory(add_organizations)
    anonymous = client.get("/api/v1/search?q=kompas").get_json()
    assert [h["ref"] for h in anonymous["hits"]] == ["open"]
    assert anonymous["total"] == 1
    sign_in(client, make_user(Role.MEMBER))
    member = client.get("/api/v1/search?q=kompas").get_json()
    assert sorted(h["ref"] for h in member["hits"]) == ["network", "open"]
    assert member["facets"]["org_type"] == {"hospital": 1, "ngo_other": 1}


def test_the_secretariat_role_sees_everything_through_the_api(
    client, add_organizations, make_user, sign_in
):
    _directory(add_organizations)
    sign_in(client, make_user(Role.SECRETARIAT))
    body = client.get("/api/v1/search?q=kompas").get_json()
    assert body["total"] == 4
