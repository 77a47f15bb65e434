"""Every HSDS 3.1 query parameter does what the spec says, on the demo directory.

Each filter's answer is compared with the records that match it, worked out here from the rows
the import wrote (not through the API's own query code); parameters the spec does not list, or
that Liaison cannot honour, answer 400 naming them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from accounts.models import Role
from directory.importing import import_directory
from directory.models import Organization, Service
from directory.taxonomy import load_taxonomy, taxonomy_id, term_id
from tests.directory.samples import (
    DEMO,
    STREET,
    hsds_validator,
    jsonl,
    line,
    own_session,
    schema_errors,
    visibility_sample,
)


@pytest.fixture
def session(settings):
    yield from own_session(settings)


@pytest.fixture
def demo(app, session):
    """The demo directory, imported and indexed for search; its organisations by id."""
    import_directory(session, DEMO.read_bytes())
    session.commit()
    app.extensions["liaison.search"].reindex()
    return {o.id: o for o in session.query(Organization)}


def every(client, path: str, **params) -> list[dict]:
    """Every record of a list, through NDJSON (no paging)."""
    query = "&".join(f"{k}={v}" for k, v in {**params, "format": "ndjson"}.items())
    response = client.get(f"{path}?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/x-ndjson"
    return [json.loads(line) for line in response.get_data(as_text=True).splitlines()]


def ids(records: list[dict]) -> set[str]:
    return {r["id"] for r in records}


def public(demo: dict) -> dict:
    return {k: o for k, o in demo.items() if o.is_published and o.visibility == "public"}


def public_services(org: Organization) -> list[Service]:
    return [s for s in org.services if s.visibility == "public"]


def test_ndjson_gives_every_record_and_json_pages_them(client, demo):
    organizations = every(client, "/hsds/organizations")
    paged = client.get("/hsds/organizations?per_page=7&page=2").get_json()

    assert ids(organizations) == set(public(demo))
    assert paged["total_items"] == len(organizations)
    assert [o["id"] for o in paged["contents"]] == [o["id"] for o in organizations[7:14]]


def test_taxonomy_term_filters_organizations_by_type_attribute_and_service(client, demo):
    shown = public(demo)
    org_type = next(iter(shown.values())).org_type
    by_type = every(client, "/hsds/organizations", taxonomy_term_id=term_id("org_type", org_type))
    labour = every(
        client, "/hsds/organizations", taxonomy_term_id=term_id("exploitation_form", "labour")
    )
    shelters = every(
        client, "/hsds/organizations", taxonomy_term_id=term_id("service_type", "shelter")
    )

    assert ids(by_type) == {k for k, o in shown.items() if o.org_type == org_type}
    expected_labour = {
        k
        for k, o in shown.items()
        if any((a.vocabulary, a.term_code) == ("exploitation_form", "labour") for a in o.attributes)
    }
    assert expected_labour
    assert ids(labour) == expected_labour
    expected_shelters = {
        k for k, o in shown.items() if any(s.service_type == "shelter" for s in public_services(o))
    }
    assert expected_shelters
    assert ids(shelters) == expected_shelters
    assert len(expected_shelters) < len(shown)  # the filter narrows: it is not ignored


def test_taxonomy_id_filters_by_any_term_of_a_vocabulary(client, demo):
    with_target_groups = every(
        client, "/hsds/organizations", taxonomy_id=taxonomy_id("target_group")
    )
    unknown = every(client, "/hsds/organizations", taxonomy_id="no-such-taxonomy")

    expected = {
        k
        for k, o in public(demo).items()
        if any(a.vocabulary == "target_group" for a in o.attributes)
    }
    assert ids(with_target_groups) == expected
    assert unknown == []


def test_services_filter_by_term_organization_and_modified_after(client, demo, session):
    shown = public(demo)
    services = every(client, "/hsds/services")
    legal = every(client, "/hsds/services", taxonomy_term_id=term_id("service_type", "legal_aid"))
    one = next(k for k, o in shown.items() if len(public_services(o)) > 1)
    of_one = every(client, "/hsds/services", organization_id=one)
    # Two organisations changed recently, the others long ago.
    recent = sorted(shown)[:2]
    session.execute(update(Organization).values(updated_at=datetime(2020, 1, 1, tzinfo=UTC)))
    session.execute(
        update(Organization)
        .where(Organization.id.in_(recent))
        .values(updated_at=datetime(2026, 6, 1, tzinfo=UTC))
    )
    session.commit()
    modified = every(client, "/hsds/services", modified_after="2026-01-01T00:00:00Z")
    by_date = every(client, "/hsds/services", modified_after="2026-01-01")

    all_public = {s.id for o in shown.values() for s in public_services(o)}
    assert ids(services) == all_public
    assert ids(legal) == {
        s.id for o in shown.values() for s in public_services(o) if s.service_type == "legal_aid"
    }
    assert ids(of_one) == {s.id for s in public_services(shown[one])}
    assert (
        ids(modified) == ids(by_date) == {s.id for k in recent for s in public_services(shown[k])}
    )
    # A term of another vocabulary is not on any service record.
    assert every(client, "/hsds/services", taxonomy_term_id=term_id("org_type", "police")) == []


def test_full_and_minimal_shapes(client, demo):
    full = client.get("/hsds/services?full=true&per_page=5").get_json()["contents"]
    minimal = client.get("/hsds/services?minimal=true").get_json()
    organizations = client.get("/hsds/organizations?full=true&per_page=3").get_json()
    nested = client.get("/hsds/organizations?full_service=true&per_page=3").get_json()

    assert all(schema_errors(hsds_validator("service"), s) == [] for s in full)
    assert all("organization" in s and "contacts" in s for s in full)
    # minimal: every service in one call, each with its id and modification time.
    assert minimal["total_pages"] == 1
    assert minimal["size"] == minimal["total_items"] == len(every(client, "/hsds/services"))
    assert {tuple(sorted(s)) for s in minimal["contents"]} == {
        ("id", "last_modified", "name", "status")
    }
    for record in organizations["contents"] + nested["contents"]:
        assert schema_errors(hsds_validator("organization"), record) == []
    assert all("contacts" in s for o in nested["contents"] for s in o["services"])
    assert not any("contacts" in s for o in organizations["contents"] for s in o["services"])


def test_search_uses_the_directory_search_and_only_narrows(client, demo):
    payoke = next(k for k, o in demo.items() if o.name.startswith("Payoke"))
    found = every(client, "/hsds/organizations", search="Payoke")
    typo = every(client, "/hsds/organizations", search="Paykoe")
    services = every(client, "/hsds/services", search="Payoke")

    assert payoke in ids(found)
    assert len(found) < len(public(demo))
    assert payoke in ids(typo)
    assert {s["organization_id"] for s in services} <= ids(found)
    assert payoke in {s["organization_id"] for s in services}


def test_service_at_locations_pair_services_with_visible_locations(client, demo):
    records = every(client, "/hsds/service_at_locations")
    one = records[0]
    single = client.get(f"/hsds/service_at_locations/{one['id']}")

    expected = {
        (s.id, location.id)
        for o in public(demo).values()
        for s in public_services(o)
        for location in o.locations
        if location.visibility == "public"
    }
    assert {(r["service_id"], r["location_id"]) for r in records} <= expected
    assert len(records) > 0
    assert single.status_code == 200
    assert single.get_json()["service"]["id"] == one["service_id"]
    assert "contacts" in single.get_json()
    assert client.get("/hsds/service_at_locations/nope").status_code == 404
    for record in records[:20]:
        assert schema_errors(hsds_validator("service_at_location_list"), record) == []
    assert schema_errors(hsds_validator("service_at_location"), single.get_json()) == []


def test_service_at_locations_filter_by_postcode_and_organization(client, session):
    def place(ref: str, postcode: str, visibility: str = "public") -> dict:
        address = {"street": f"Straat {ref}", "postal_code": postcode, "city": "Gent"}
        return line(ref=ref, name=f"Office {ref}", address={**address, "visibility": visibility})

    import_directory(
        session,
        jsonl(place("p-1", "9000"), place("p-2", "9050"), place("p-3", "9000", "secretariat")),
    )
    session.commit()
    refs = {o.ref: o.id for o in session.query(Organization)}

    records = every(client, "/hsds/service_at_locations")
    by_code = every(client, "/hsds/service_at_locations", postcode="9 000")
    of_org = every(client, "/hsds/service_at_locations", organization_id=refs["p-2"])

    def organizations(found: list[dict]) -> set[str]:
        return {r["service"]["organization_id"] for r in found}

    assert organizations(records) == {refs["p-1"], refs["p-2"], refs["p-3"]}
    # p-3's address is the secretariat's: its postcode is not shown, so it cannot match either.
    assert organizations(by_code) == {refs["p-1"]}
    assert organizations(of_org) == {refs["p-2"]}


def test_confidential_locations_stay_out_of_services_at_locations(
    client, session, make_user, sign_in
):
    import_directory(session, visibility_sample())
    session.commit()
    shelter = session.query(Organization).filter_by(ref="t-public").one()

    anonymous = client.get("/hsds/service_at_locations?format=ndjson").get_data(as_text=True)
    sign_in(client, make_user(Role.SECRETARIAT))
    secretariat = every(client, "/hsds/service_at_locations", organization_id=shelter.id)

    assert STREET not in anonymous
    assert STREET in json.dumps(secretariat)


def test_taxonomy_terms_top_only_parent_id_and_search(client):
    terms = every(client, "/hsds/taxonomy_terms")
    top = every(client, "/hsds/taxonomy_terms", top_only="true")
    children = every(client, "/hsds/taxonomy_terms", parent_id=terms[0]["id"])
    shelter = every(client, "/hsds/taxonomy_terms", search="opvang", lang="nl")
    vocabularies = every(client, "/hsds/taxonomies", search="service")

    assert len(terms) == sum(len(load_taxonomy().vocabulary(n)) for n in load_taxonomy().terms)
    assert top == terms  # the vocabularies are flat: every term is a top-level term
    assert children == []
    assert shelter
    assert all("opvang" in t["name"].lower() for t in shelter)
    assert {t["name"] for t in vocabularies} == {"service_type"}


@pytest.mark.parametrize(
    ("path", "query", "named"),
    [
        ("/hsds/organizations", "colour=red", "colour"),
        ("/hsds/organizations", "modified_after=2026-01-01", "modified_after"),
        ("/hsds/service_at_locations", "postcode=1000&proximity=500", "proximity"),
        ("/hsds/services", "format=xml", "format"),
        ("/hsds/services", "full=maybe", "full"),
        ("/hsds/services", "modified_after=yesterday", "modified_after"),
        ("/hsds/services", "full=true&minimal=true", "minimal"),
        ("/hsds/taxonomy_terms", "top_only=perhaps", "top_only"),
        ("/hsds/services/x", "page=2", "page"),
    ],
)
def test_a_parameter_that_cannot_be_honoured_answers_400_naming_it(client, path, query, named):
    response = client.get(f"{path}?{query}")

    assert response.status_code == 400
    assert named in response.get_data(as_text=True)


def test_post_reads_like_get_without_a_csrf_token(client, demo):
    term = term_id("service_type", "shelter")
    got = client.get(f"/hsds/organizations?taxonomy_term_id={term}&per_page=100").get_json()
    posted = client.post(f"/hsds/organizations?taxonomy_term_id={term}&per_page=100")

    assert posted.status_code == 200
    assert posted.get_json() == got
