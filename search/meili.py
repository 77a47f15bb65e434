"""The Meilisearch engine, for larger deployments, through the ``meilisearch`` client.

Same documents, same query model and the same rules as the embedded engine: every word must
match (stopwords are ignored), then fewer words are required when nothing matches; typos from 5
and 9 letters; taxonomy synonyms and the domain's words (``search.domain``) across languages;
names before the concepts an organisation specialises in, places, the concepts it works on,
keywords, descriptions.
Highlights are made by Liaison (``search.highlight``), never taken from the engine, so they are
escaped the same way whichever engine answered.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import meilisearch
import requests
from meilisearch.errors import MeilisearchApiError, MeilisearchError

from config import Settings
from search.analysis import LANGUAGES, STOPWORDS, plan_query, synonym_groups, words
from search.backend import SearchDocument, SearchUnavailable
from search.documents import payload
from search.domain import concepts
from search.highlight import Highlighter
from search.places import haversine_km
from search.query import FACET_FIELDS, SearchPage, SearchQuery
from search.results import build_hit

log = logging.getLogger("liaison.search.meili")
T = TypeVar("T")
FILTERS = (*FACET_FIELDS, "is_24_7", "cross_border")


def index_settings() -> dict[str, Any]:
    """Searchable, filterable and sortable attributes, synonyms, typos and ranking rules."""
    synonyms: dict[str, list[str]] = {}
    groups = [group.forms for group in synonym_groups()]
    groups += [concept.forms for concept in concepts().values()]
    for forms in groups:
        phrases = [" ".join(form) for form in forms]
        for phrase in phrases:
            others = [p for p in phrases if p != phrase]
            synonyms.setdefault(phrase, [])
            synonyms[phrase] += [o for o in others if o not in synonyms[phrase]]
    return {
        "searchableAttributes": [
            "names",
            "topics",
            "places",
            "themes",
            "keywords",
            *[f"text_{x}" for x in LANGUAGES],
        ],
        "filterableAttributes": ["audiences", "id", "_geo", *FILTERS],
        "sortableAttributes": ["name_sort", "_geo"],
        "rankingRules": ["sort", "words", "typo", "proximity", "attribute", "exactness"],
        "typoTolerance": {"enabled": True, "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9}},
        "stopWords": sorted(STOPWORDS),
        "synonyms": synonyms,
        "pagination": {"maxTotalHits": 100_000},
        "faceting": {"maxValuesPerFacet": 500},
    }


def _topics(document: SearchDocument) -> dict[str, list[str]]:
    """The domain concepts the organisation is about (``search.domain``), written in every
    language: ``topics`` as a specialist (ranked right after names), ``themes`` as its
    exploitation forms or target groups (before keywords)."""
    table = concepts()
    tiers = document.get("concepts", {})
    return {
        attribute: [
            " ".join(form) for c in tiers.get(tier, ()) if c in table for form in table[c].forms
        ]
        for attribute, tier in (("topics", "core"), ("themes", "tagged"))
    }


def to_meili(document: SearchDocument) -> dict[str, Any]:
    """A document in the shape Meilisearch indexes."""
    body: dict[str, Any] = {
        "doc_id": document["doc_id"],
        "id": document["id"],
        "audiences": document["audiences"],
        "names": document["names"],
        "places": document["places"],
        "keywords": document["keywords"],
        **_topics(document),
        **{f"text_{lang}": document["text"].get(lang, "") for lang in LANGUAGES},
        **{name: document[name] for name in FILTERS},
        "name_sort": " ".join(words(document["name"])),
        "payload": {**payload(document), "lat": document.get("lat"), "lon": document.get("lon")},
    }
    if document.get("lat") is not None and document.get("lon") is not None:
        body["_geo"] = {"lat": document["lat"], "lng": document["lon"]}
    return body


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class MeiliBackend:
    """Meilisearch at ``settings.meili_url``, index ``settings.meili_index``."""

    name = "meilisearch"

    def __init__(self, settings: Settings, timeout: int = 3) -> None:
        self.url = settings.meili_url or "http://127.0.0.1:7700"
        self.uid = settings.meili_index
        self.client = meilisearch.Client(self.url, settings.meili_key or None, timeout=timeout)

    def _call(self, action: Callable[[], T]) -> T:
        try:
            return action()
        except (MeilisearchError, requests.RequestException, OSError) as error:
            raise SearchUnavailable(f"Meilisearch at {self.url}: {error}") from error

    def _wait(self, task: Any, timeout_ms: int = 60_000) -> None:
        done = self._call(lambda: self.client.wait_for_task(task.task_uid, timeout_ms, 20))
        if done.status != "succeeded":
            raise SearchUnavailable(f"Meilisearch task {task.task_uid} {done.status}: {done.error}")

    # -- set-up and writes ---------------------------------------------------------------

    def setup(self, uid: str | None = None) -> None:
        """Create the index when missing and apply Liaison's settings to it."""
        uid = uid or self.uid
        try:
            self._wait(self._call(lambda: self.client.create_index(uid, {"primaryKey": "doc_id"})))
        except SearchUnavailable as error:
            if "index_already_exists" not in str(error):
                raise
        index = self.client.index(uid)
        self._wait(self._call(lambda: index.update_settings(index_settings())))

    def upsert_many(self, changes: dict[str, list[SearchDocument]]) -> None:
        """Replace the documents of several organisations; waits until searchable."""
        index = self.client.index(self.uid)
        ids = list(changes)
        for start in range(0, len(ids), 200):
            chunk = ids[start : start + 200]
            condition = "id IN [" + ", ".join(_quote(i) for i in chunk) + "]"
            self._wait(self._call(lambda c=condition: index.delete_documents(filter=c)))  # type: ignore[misc]
        documents = [to_meili(d) for i in ids for d in changes[i]]
        if documents:
            self._wait(self._call(lambda: index.add_documents(documents, "doc_id")))

    def upsert(self, organization_id: str, documents: Iterable[SearchDocument]) -> None:
        """Replace every document of the organisation."""
        self.upsert_many({organization_id: list(documents)})

    def delete(self, organization_id: str) -> None:
        """Remove every document of the organisation."""
        self.upsert_many({organization_id: []})

    def rebuild(self, documents: Iterable[SearchDocument]) -> int:
        """Fill a new index, then swap it with the live one in one atomic task."""
        fresh = f"{self.uid}_next_{time.time_ns()}"
        self.setup(fresh)
        self.setup(self.uid)
        index = self.client.index(fresh)
        batch: list[dict[str, Any]] = []
        count = 0
        for document in documents:
            batch.append(to_meili(document))
            count += 1
            if len(batch) == 5000:
                self._wait(self._call(lambda b=batch: index.add_documents(b, "doc_id")))  # type: ignore[misc]
                batch = []
        if batch:
            self._wait(self._call(lambda: index.add_documents(batch, "doc_id")))
        swap: list[Any] = [{"indexes": [self.uid, fresh]}]
        self._wait(self._call(lambda: self.client.swap_indexes(swap)))
        self._wait(self._call(lambda: self.client.delete_index(fresh)))
        return count

    def health(self) -> dict[str, Any]:
        """``ok`` when Meilisearch answers its health check."""
        try:
            self._call(self.client.health)
            return {"status": "ok", "backend": self.name, "url": self.url}
        except SearchUnavailable as error:
            return {"status": "unavailable", "backend": self.name, "detail": str(error)}

    # -- queries ------------------------------------------------------------------------

    def _filter(self, query: SearchQuery) -> list[Any]:
        conditions: list[Any] = [f"audiences = {_quote(query.audience)}"]
        for name in FACET_FIELDS:
            values = query.filter_values(name)
            if values:
                conditions.append([f"{name} = {_quote(v)}" for v in values])
        for name in ("is_24_7", "cross_border"):
            value = getattr(query, name)
            if value is not None:
                conditions.append(f"{name} = {'true' if value else 'false'}")
        if query.near is not None and query.radius_km is not None:
            meters = int(query.radius_km * 1000)
            conditions.append(f"_geoRadius({query.near.lat}, {query.near.lon}, {meters})")
        return conditions

    def search(self, query: SearchQuery) -> SearchPage:
        """Answer ``query`` (see ``SearchBackend.search``)."""
        started = time.perf_counter()
        plan = plan_query(query.text, query.prefix)
        params: dict[str, Any] = {
            "filter": self._filter(query),
            "facets": list(FILTERS),
            "page": query.page,
            "hitsPerPage": query.per_page,
            "attributesToRetrieve": ["payload"],
            "matchingStrategy": "all",
        }
        if query.sort == "distance" and query.near is not None:
            params["sort"] = [f"_geoPoint({query.near.lat}, {query.near.lon}):asc"]
        elif query.sort == "name":
            params["sort"] = ["name_sort:asc"]
        text = " ".join(w.text for w in plan.words)
        index = self.client.index(self.uid)
        try:
            result = self._call(lambda: index.search(text, params))
            if not result.get("totalHits") and len(plan.words) > 1:
                result = self._call(
                    lambda: index.search(text, {**params, "matchingStrategy": "last"})
                )
        except SearchUnavailable as error:
            cause = error.__cause__
            if isinstance(cause, MeilisearchApiError) and cause.code == "index_not_found":
                raise SearchUnavailable("the Meilisearch index does not exist yet") from error
            raise
        highlighter = Highlighter(plan) if plan.words else None
        hits = []
        for raw in result.get("hits", []):
            data = raw["payload"]
            distance = None
            if query.near is not None and data.get("lat") is not None:
                distance = haversine_km(query.near.lat, query.near.lon, data["lat"], data["lon"])
            hits.append(
                build_hit(data, highlighter, query.locale, distance, audience=query.audience)
            )
        facets = {
            name: {
                str(k).lower() if name in ("is_24_7", "cross_border") else k: int(v)
                for k, v in values.items()
            }
            for name, values in (result.get("facetDistribution") or {}).items()
        }
        return SearchPage(
            hits=hits,
            facets=facets,
            total=int(result.get("totalHits", 0)),
            took_ms=(time.perf_counter() - started) * 1000,
            page=query.page,
            per_page=query.per_page,
            backend=self.name,
            near=query.near,
        )
