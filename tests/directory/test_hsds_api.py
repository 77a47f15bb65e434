"""The HSDS 3.1 API under /hsds/: envelopes, schema conformance and visibility by role."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from accounts.models import Role
from directory.importing import import_directory
from directory.models import Organization
from tests.directory.samples import (
    DEMO,
    NIGHT_EMAIL,
    STREET,
    hsds_validator,
    own_session,
    schema_errors,
    taxonomy_term_validator,
    visibility_sample,
)


@pytest.fixture
def session(settings):
    """A session outside the app (see ``own_session``)."""
    yield from own_session(settings)


ENVELOPE = {
    "total_items",
    "total_pages",
    "page_number",
    "size",
    "first_page",
    "last_page",
    "empty",
    "contents",
}
NAMES = {
    "Public shelter": "t-public",
    "Network-only team": "t-network",
    "Secretariat-only safe house": "t-secret",
    "Withdrawn entry": "t-unpublished",
}


@pytest.fixture
def sample(session):
    import_directory(session, visibility_sample())
    session.execute(
        update(Organization).where(Organization.ref == "t-unpublished").values(is_published=False)
    )
    session.commit()
    return {o.ref: o.id for o in session.query(Organization)}


def every_page(client, path: str) -> list[dict]:
    contents, page = [], 1
    while True:
        body = client.get(f"{path}?per_page=3&page={page}").get_json()
        contents += body["contents"]
        if body["last_page"]:
            return contents
        page += 1


def test_api_info_names_hsds_3_1(client):
    info = client.get("/hsds/").get_json()

    assert info["version"] == "3.1"
    assert info["profile"].startswith("https://")


def test_list_responses_have_the_paging_envelope_and_validate(client, session):
    import_directory(session, DEMO.read_bytes())
    session.commit()

    for path, schema, total in [
        ("/hsds/organizations", "organization_list", 38),
        ("/hsds/services", "service_list", None),
    ]:
        first = client.get(f"{path}?per_page=10").get_json()
        last = client.get(f"{path}?per_page=10&page={first['total_pages']}").get_json()
        beyond = client.get(f"{path}?per_page=10&page={first['total_pages'] + 1}").get_json()

        assert set(first) == ENVELOPE
        assert (first["page_number"], first["size"], first["first_page"]) == (1, 10, True)
        assert first["last_page"] is False
        assert last["last_page"] is True
        assert first["total_pages"] == -(-first["total_items"] // 10)
        assert beyond["empty"] is True
        assert beyond["contents"] == []
        assert total is None or first["total_items"] == total
        for record in every_page(client, path):
            assert schema_errors(hsds_validator(schema), record) == [], record["name"]


def test_single_records_validate_against_the_full_schemas(client, sample):
    organization = client.get(f"/hsds/organizations/{sample['t-public']}").get_json()
    service_id = organization["services"][0]["id"]
    service = client.get(f"/hsds/services/{service_id}").get_json()

    assert schema_errors(hsds_validator("organization"), organization) == []
    assert schema_errors(hsds_validator("service"), service) == []
    assert service["organization"]["id"] == sample["t-public"]


def test_taxonomies_and_terms_are_listed_and_filtered(client):
    taxonomies = client.get("/hsds/taxonomies").get_json()
    org_types = next(t for t in taxonomies["contents"] if t["name"] == "org_type")
    terms = client.get(f"/hsds/taxonomy_terms?taxonomy_id={org_types['id']}&per_page=200")
    term = terms.get_json()["contents"][0]

    assert set(taxonomies) == ENVELOPE
    assert {t["taxonomy"] for t in terms.get_json()["contents"]} == {"org_type"}
    assert schema_errors(taxonomy_term_validator(), term) == []
    assert client.get(f"/hsds/taxonomy_terms/{term['id']}?lang=nl").get_json()["language"] == "nl"
    assert client.get(f"/hsds/taxonomies/{org_types['id']}").get_json() == org_types
    assert client.get("/hsds/taxonomy_terms/nope").status_code == 404


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/hsds/organizations?page=0", 400),
        ("/hsds/services?per_page=x", 400),
        ("/hsds/organizations/no-such-id", 404),
        ("/hsds/services/no-such-id", 404),
    ],
)
def test_bad_requests_answer_json_errors(client, path, status):
    response = client.get(path)

    assert response.status_code == status
    assert response.get_json()["status"] == status


# role → (organisations shown, confidential street shown, secretariat-only contact shown)
ROLE_SEES = {
    "anonymous": ({"t-public"}, False),
    "member": ({"t-public", "t-network"}, False),
    "secretariat": ({"t-public", "t-network", "t-secret", "t-unpublished"}, True),
}


@pytest.mark.parametrize("role", list(ROLE_SEES))
def test_each_role_sees_exactly_what_it_may_through_the_hsds_api(
    client, make_user, sign_in, sample, role
):
    if role != "anonymous":
        sign_in(client, make_user(Role(role)))
    shown, confidential_shown = ROLE_SEES[role]

    listed = {NAMES[o["name"]] for o in every_page(client, "/hsds/organizations")}
    services = every_page(client, "/hsds/services")
    public = client.get(f"/hsds/organizations/{sample['t-public']}").get_json()
    public_text = client.get(f"/hsds/organizations/{sample['t-public']}").get_data(as_text=True)

    assert listed == shown
    assert {NAMES[s["organization"]["name"]] for s in services} == shown
    for ref, organization_id in sample.items():
        status = client.get(f"/hsds/organizations/{organization_id}").status_code
        assert status == (200 if ref in shown else 404), ref
    assert (STREET in public_text) is confidential_shown
    assert (NIGHT_EMAIL in public_text) is confidential_shown
    addresses = [a for loc in public["locations"] for a in loc["addresses"]]
    assert [a["address_1"] for a in addresses] == ([STREET] if confidential_shown else [])
    for service in services:
        detail = client.get(f"/hsds/services/{service['id']}").get_data(as_text=True)
        assert (NIGHT_EMAIL in detail) is (
            confidential_shown and service["organization"]["name"] == "Public shelter"
        )
