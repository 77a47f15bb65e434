"""The JSON API under /api/v1: organisations, filters and paging, taxonomy, visibility by role."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from accounts.models import Role
from directory.importing import import_directory
from directory.models import Organization
from directory.places import gazetteer
from tests.directory.samples import (
    DEMO,
    NIGHT_EMAIL,
    STREET,
    own_session,
    visibility_sample,
)


@pytest.fixture
def session(settings):
    """A session outside the app (see ``own_session``)."""
    yield from own_session(settings)


SAMPLE_REFS = {"t-public", "t-network", "t-secret", "t-unpublished"}


@pytest.fixture
def sample(session):
    """The visibility sample, with ``t-unpublished`` unpublished."""
    import_directory(session, visibility_sample())
    session.execute(
        update(Organization).where(Organization.ref == "t-unpublished").values(is_published=False)
    )
    session.commit()
    return session


@pytest.fixture
def caller(client, make_user, sign_in, sample):
    """A client signed in with a role (``anonymous``: not signed in)."""

    def as_role(role: str):
        if role != "anonymous":
            sign_in(client, make_user(Role(role)))
        return client

    return as_role


# role → (sample organisations listed, street shown, contact points shown)
ROLE_SEES = {
    "anonymous": ({"t-public"}, False, ["Intake"]),
    "member": ({"t-public", "t-network"}, False, ["Intake", "Case worker"]),
    "contact_point": ({"t-public", "t-network"}, False, ["Intake", "Case worker"]),
    "org_editor": ({"t-public", "t-network"}, False, ["Intake", "Case worker"]),
    "secretariat": (SAMPLE_REFS, True, ["Intake", "Night line", "Case worker"]),
    "admin": (SAMPLE_REFS, True, ["Intake", "Night line", "Case worker"]),
}


@pytest.mark.parametrize("role", list(ROLE_SEES))
def test_each_role_sees_exactly_what_it_may_through_the_json_api(caller, role):
    client = caller(role)
    listed, street_shown, contact_roles = ROLE_SEES[role]

    listing = client.get("/api/v1/organizations?per_page=200").get_json()
    assert {o["ref"] for o in listing["organizations"]} == listed
    assert listing["total"] == len(listed)
    for ref in SAMPLE_REFS:
        response = client.get(f"/api/v1/organizations/{ref}")
        assert response.status_code == (200 if ref in listed else 404), ref
    public = client.get("/api/v1/organizations/t-public").get_json()
    assert [c["role"] for c in public["contact_points"]] == contact_roles
    assert (public["address"] is not None) is street_shown
    text = client.get("/api/v1/organizations/t-public").get_data(as_text=True)
    assert (STREET in text) is street_shown
    assert (NIGHT_EMAIL in text) is street_shown


def test_a_hidden_organisation_answers_exactly_like_a_missing_one(caller):
    client = caller("member")
    hidden = client.get("/api/v1/organizations/t-secret")
    missing = client.get("/api/v1/organizations/no-such-ref")

    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_json() == missing.get_json()
    assert missing.get_json()["detail"] == "no organisation with this id or ref"


def test_organisation_by_id_shows_services_phones_and_labels_in_the_asked_language(caller):
    client = caller("anonymous")
    by_ref = client.get("/api/v1/organizations/t-public?lang=fr").get_json()
    by_id = client.get(f"/api/v1/organizations/{by_ref['id']}?lang=fr").get_json()

    assert by_id == by_ref
    assert by_ref["org_type"] == {
        "code": "specialised_victim_centre",
        "label": by_ref["org_type"]["label"],
    }
    assert by_ref["org_type"]["label"] != "specialised_victim_centre"
    assert [s["name"] for s in by_ref["services"]] == ["hébergement", "accompagnement psychosocial"]
    assert {(p["number"], p["is_emergency"]) for p in by_ref["phones"]} == {
        ("+3290000000", False),
        ("+3290000099", True),
    }
    # The street address is secretariat-only: the point is Gent's centre, not the stored one.
    gent = gazetteer().find("Gent")
    assert by_ref["location"] == {"lat": gent.lat, "lon": gent.lon, "precision": "town"}


def test_list_filters_by_country_and_type_and_pages(client, session):
    import_directory(session, DEMO.read_bytes())
    session.commit()

    first = client.get("/api/v1/organizations?country=nl&per_page=5").get_json()
    second = client.get("/api/v1/organizations?country=NL&per_page=5&page=2").get_json()
    police = client.get("/api/v1/organizations?org_type=police").get_json()

    assert (first["total"], first["pages"], first["page"], first["per_page"]) == (15, 3, 1, 5)
    assert {o["country"] for o in first["organizations"] + second["organizations"]} == {"NL"}
    assert not {o["id"] for o in first["organizations"]} & {
        o["id"] for o in second["organizations"]
    }
    assert {o["ref"] for o in police["organizations"]} == {
        "be-fedpol-thb",
        "nl-politie-avim",
        "lu-police-traite",
    }


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("page=0", "page must be a whole number of at least 1"),
        ("page=two", "page must be a whole number of at least 1"),
        ("per_page=-5", "per_page must be a whole number of at least 1"),
        ("per_page=201", "per_page must be at most 200"),
        ("country=Belgium", "country must be a two-letter ISO 3166-1 code such as BE"),
        ("org_type=bakery", "unknown org_type 'bakery'; see /api/v1/taxonomy"),
        ("lang=es", "lang must be one of nl, fr, de, en"),
    ],
)
def test_bad_parameters_answer_400_with_a_clear_message(client, query, detail):
    response = client.get(f"/api/v1/organizations?{query}")

    assert response.status_code == 400
    assert response.get_json()["detail"] == detail


def test_taxonomy_is_labelled_in_the_asked_language(client):
    german = client.get("/api/v1/taxonomy?lang=de").get_json()
    bad = client.get("/api/v1/taxonomy?lang=xx")

    forms = {t["code"]: t["label"] for t in german["vocabularies"]["exploitation_form"]}
    assert forms["labour"] == "Arbeitsausbeutung"
    assert set(german["vocabularies"]) >= {"org_type", "service_type", "target_group", "language"}
    assert bad.status_code == 400


def test_openapi_document_describes_the_directory_paths(client):
    document = client.get("/api/v1/openapi.json").get_json()

    assert {"/organizations", "/organizations/{key}", "/taxonomy"} <= set(document["paths"])
    assert "Organization" in document["components"]["schemas"]
