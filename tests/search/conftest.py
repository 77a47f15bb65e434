"""Fixtures for search: organisations built straight from the models, and the search service."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from core.outbox import enqueue
from directory.models import Attribute, Language, Location, Organization, Service
from directory.points import place_location
from directory.taxonomy import term_id
from search.query import SearchQuery

DEMO = Path(__file__).resolve().parents[2] / "directory" / "data" / "demo-directory.jsonl"
CODE_KEYS = {
    "exploitation_form": "exploitation_forms",
    "target_group": "target_groups",
    "service_type": "service_types",
}


def build_organization(
    ref: str,
    name: str,
    *,
    country: str = "BE",
    city: str | None = None,
    org_type: str = "ngo_other",
    description: dict[str, str] | None = None,
    lat: float | None = None,
    lon: float | None = None,
    location_visibility: str = "public",
    visibility: str = "public",
    is_published: bool = True,
    is_24_7: bool = False,
    cross_border: bool = False,
    languages: list[str] = (),
    exploitation_forms: list[str] = (),
    target_groups: list[str] = (),
    service_types: list[str] = (),
    services: list[tuple[str, str]] = (),
) -> Organization:
    """An organisation with its codes, languages and location (not yet added to a session)."""
    organization = Organization(
        ref=ref,
        name=name,
        name_i18n={},
        description=description or {},
        country=country,
        city=city,
        org_type=org_type,
        visibility=visibility,
        is_published=is_published,
        is_24_7=is_24_7,
        accepts_cross_border_referrals=cross_border,
    )
    organization.languages = [Language(code=c, position=i) for i, c in enumerate(languages)]
    attributes = []
    for vocabulary, codes in (
        ("exploitation_form", exploitation_forms),
        ("target_group", target_groups),
        ("service_type", service_types),
    ):
        attributes += [
            Attribute(
                vocabulary=vocabulary,
                term_code=code,
                position=i,
                taxonomy_term_id=term_id(vocabulary, code),
            )
            for i, code in enumerate(codes)
        ]
    organization.attributes = attributes
    organization.services = [
        Service(service_type=code, name=code, visibility=vis, position=i)
        for i, (code, vis) in enumerate(services)
    ]
    if lat is not None and lon is not None:
        location = Location(visibility=location_visibility)
        place_location(location, lat, lon)
        organization.locations = [location]
    return organization


def demo_records() -> list[dict]:
    """The demo directory's records."""
    return [json.loads(line) for line in DEMO.read_text(encoding="utf-8").splitlines() if line]


def organization_from_record(record: dict) -> Organization:
    """A model organisation from one demo JSONL record."""
    return build_organization(
        record["ref"],
        record["name"],
        country=record["country"],
        city=record.get("city"),
        org_type=record["org_type"],
        description=record.get("description"),
        lat=record.get("lat"),
        lon=record.get("lon"),
        visibility=record.get("visibility", "public"),
        is_24_7=record.get("is_24_7", False),
        cross_border=record.get("accepts_cross_border_referrals", False),
        languages=record.get("languages", []),
        **{key: record.get(key, []) for key in CODE_KEYS.values()},
    )


@pytest.fixture
def search_service(app):
    """The app's search service (embedded engine under the test's data directory)."""
    return app.extensions["liaison.search"]


@pytest.fixture
def add_organizations(db_session, search_service):
    """Add organisations as the directory does (rows + outbox in one commit), then index them."""

    def add(*organizations: Organization) -> list[Organization]:
        for organization in organizations:
            db_session.add(organization)
            db_session.flush()
            enqueue(db_session, organization.id)
        db_session.commit()
        search_service.drain()
        return list(organizations)

    return add


@pytest.fixture
def demo(add_organizations):
    """The demo directory, indexed."""
    return add_organizations(*[organization_from_record(r) for r in demo_records()])


@pytest.fixture
def find(search_service):
    """Search as an audience and return the page."""

    def run(text: str = "", audience: str = "secretariat", **options) -> object:
        return search_service.search(SearchQuery(text=text, audience=audience, **options))

    return run


def refs(page) -> list[str]:
    """The refs of a page's hits, in order."""
    return [hit.ref for hit in page.hits]


def wait_until(condition, timeout: float = 1.0) -> bool:
    """Poll ``condition`` until true or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return bool(condition())
