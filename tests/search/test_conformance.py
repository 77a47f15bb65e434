"""One conformance suite for every engine: the same queries must put the same organisation first.

It always runs on the embedded engine. It runs on Meilisearch when ``LIAISON_MEILI_URL`` points
to a reachable server, and is skipped there with the reason otherwise.
"""

from __future__ import annotations

import os
import secrets
import shutil
import uuid

import pytest
import requests

from config import load_settings
from core.app import close_app, create_app
from search.query import GeoPoint, SearchQuery
from tests.conftest import PG_URL, _empty_tables

from .conftest import demo_records, organization_from_record, refs

MEILI_URL = os.environ.get("LIAISON_MEILI_URL", "")

CASES = [
    ("opvnag antwerpen", "be-payoke"),
    ("opvnag antwerpen minderjarigen", "be-payoke"),
    ("inspection travail luxembourg", "lu-itm"),
    ("shelter Liège", "be-surya"),
    ("shelter near Maastricht", "be-surya"),
    ("hébergement Anvers", "be-payoke"),
    ("Schutzunterkunft Lüttich", "be-surya"),
    ("payoke", "be-payoke"),
    ("paykoe", "be-payoke"),
    ("surya", "be-surya"),
    ("arbeidsinspectie luxemburg", "lu-itm"),
    ("child focus", "be-child-focus"),
    ("comensha", "nl-comensha"),
    ("Marechaussee", "nl-kmar"),
]


def _meili_reachable() -> str | None:
    if not MEILI_URL:
        return (
            "Meilisearch was not reachable: LIAISON_MEILI_URL is not set (no Meilisearch server "
            "is installed on this machine)"
        )
    try:
        requests.get(f"{MEILI_URL}/health", timeout=2).raise_for_status()
    except requests.RequestException as error:
        return f"Meilisearch was not reachable at {MEILI_URL}: {error}"
    return None


@pytest.fixture(scope="module", params=["embedded", "meilisearch"])
def engine(request, tmp_path_factory, database_template):
    """The search service of an app using each engine, with the demo directory indexed (built
    once per engine: the suite only reads)."""
    data_dir = tmp_path_factory.mktemp("conformance")
    if PG_URL:
        _empty_tables(PG_URL)
        url = PG_URL
    else:
        shutil.copy(database_template, data_dir / "liaison.db")
        url = f"sqlite:///{data_dir / 'liaison.db'}"
    settings = load_settings(
        environ={},
        env="test",
        data_dir=data_dir,
        database_url=url,
        secret_key=secrets.token_urlsafe(48),
        mail_sink=False,
        run_scheduler=False,
    )
    if request.param == "meilisearch":
        reason = _meili_reachable()
        if reason:
            pytest.skip(reason)
        settings = settings.replace(
            search_backend="meilisearch",
            meili_url=MEILI_URL,
            meili_index=f"liaison_test_{uuid.uuid4().hex[:8]}",
        )
    app = create_app(settings)
    database = app.extensions["liaison.db"]
    with database.session() as session:
        session.add_all([organization_from_record(r) for r in demo_records()])
        session.commit()
    service = app.extensions["liaison.search"]
    if service.primary is not None:
        service.primary.setup()
    service.reindex()
    yield service
    if service.primary is not None:
        service.primary.client.delete_index(service.primary.uid)
    close_app(app)


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_engine_puts_the_right_organisation_first(engine, text, expected):
    page = engine.search(SearchQuery(text=text, audience="secretariat"))
    assert refs(page)[:1] == [expected], f"{text!r} gave {refs(page)[:5]}"


def test_engine_hides_network_entries_from_the_public_in_hits_facets_and_total(engine):
    public = engine.search(SearchQuery(text="", audience="public", per_page=100))
    member = engine.search(SearchQuery(text="", audience="network", per_page=100))
    assert "be-esperanto" not in refs(public)
    assert "be-esperanto" in refs(member)
    assert member.total == public.total + 1
    assert "specialised_minor_shelter" not in public.facets["org_type"]
    assert member.facets["org_type"]["specialised_minor_shelter"] == 1


def test_engine_filters_and_counts_facets_alike(engine):
    page = engine.search(
        SearchQuery(
            text="opvang",
            audience="secretariat",
            filters={"country": ("BE",)},
            is_24_7=True,
            per_page=50,
        )
    )
    assert set(refs(page)) == {"be-surya", "be-esperanto"}
    assert page.facets["country"] == {"BE": 2}


def test_engine_sorts_by_distance_within_a_radius(engine):
    maastricht = GeoPoint(50.84833, 5.68889, "Maastricht")
    page = engine.search(
        SearchQuery(audience="public", near=maastricht, radius_km=40, sort="distance")
    )
    assert refs(page) == ["be-surya"]
    assert 20 < page.hits[0].distance_km < 30


def test_engine_bridges_the_domain_words_and_puts_specialists_first(engine):
    """Issue 12 on every engine: the domain's words across languages, both things of a query
    needed, specialists before those mentioning a topic in passing."""
    page = engine.search(SearchQuery(text="mensenhandel luxemburg", audience="secretariat"))
    assert page.total >= 5
    assert {hit.country for hit in page.hits} == {"LU"}, refs(page)
    page = engine.search(
        SearchQuery(text="mensenhandel politie", audience="secretariat", per_page=40)
    )
    assert {"lu-police-traite", "nl-kmar"} <= set(refs(page))
    page = engine.search(SearchQuery(text="arbeidsuitbuiting", audience="secretariat"))
    specialists = {"be-rsz-ecosoc", "be-tsw-cls", "nl-nla", "lu-itm"}
    specialists |= {"be-fairwork-belgium", "nl-fairwork"}
    assert set(refs(page)[: len(specialists)]) == specialists, refs(page)[:8]
