"""The embedded engine: a tantivy index under ``<data_dir>/search/embedded``, in-process.

Relevance is built from constant-score clauses so it can be reasoned about: every query word must
match (stopwords may), and a word scores by where and how it matched — exact in the name beats
exact in the keywords beats exact in the descriptions, and any exact match beats a typo. A word
naming one of the domain's concepts (``search.domain``) also matches, in any language, every
organisation about it, specialists (by type or services) above all. A tiny BM25 part breaks ties
(shorter names first). Rebuilds write a new generation and swap the
``CURRENT`` pointer atomically, so searches never see a half-built index.
"""

from __future__ import annotations

import fcntl
import heapq
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import tantivy

from search import grid, nearby
from search.analysis import (
    LANGUAGES,
    ConceptSpan,
    QueryPlan,
    QueryWord,
    SynonymSpan,
    folding_analyzer,
    form_term,
    stem,
)
from search.backend import SearchDocument
from search.columns import aggregate_facets, count_masks, distances_km
from search.domain import concept_term
from search.fields import facet_codes, register, schema, to_tantivy
from search.highlight import Highlighter
from search.places import bounding_box
from search.query import FACET_FIELDS, SearchHit, SearchPage, SearchQuery
from search.results import build_hits
from search.vocabulary import Vocabulary

log = logging.getLogger("liaison.search.embedded")

# Exact matches per field; typos and prefixes are looked up in two merged fields (every fuzzy
# lookup builds an automaton, so fewer fields keep queries fast): "head" (names, places,
# keywords) and "body" (descriptions and services in every language).
EXACT = {"names": 10.0, "places": 9.0, "keywords": 8.0, "body": 5.0}
# (field, one-typo weight, two-typo weight, prefix weight, prefix-with-typo weight)
FUZZY = {"head": (6.0, 4.0, 7.0, 4.5), "body": (3.0, 2.0, 3.0, 2.0)}
STEM_WEIGHT = 5.0
VOCABULARY_REFRESH_SECONDS = 5.0
SMALL_RESULT = 400  # up to this many matches, facets are counted in Python from bit masks
SYNONYM_WEIGHT = 7.5
STOPWORD_WEIGHT = 0.5
REBUILD_MARK = "REBUILD"  # in a generation started empty because its predecessor was unreadable


# A query word naming a concept (search.domain) matches an organisation about it, per word: as a
# specialist (its type, services or name) above an exact name match, as its exploitation forms
# or target groups like a keyword, or only in its texts like a word of its descriptions.
CONCEPT_WEIGHTS = {"core": 12.0, "tagged": 8.5, "text": 6.0}
# Of the ways a group of words matches (as written, a synonym, a concept) the best one counts, and
# this share of the others: among specialists, the one whose entry has the very word ranks first
# ("Marechaussee": the Koninklijke Marechaussee before the other police services).
LITERAL_TIE = 0.3


def _groups(
    plan: QueryPlan,
) -> list[tuple[int, int, list[SynonymSpan], list[ConceptSpan]]]:
    """The query's synonym and concept spans, overlapping ones joined: each group's words may be
    matched as words, or by a synonym or concept spanning the whole group."""
    spans = sorted(
        [(s.start, s.end, s) for s in plan.spans] + [(c.start, c.end, c) for c in plan.concepts],
        key=lambda item: (item[0], -item[1]),
    )
    groups: list[tuple[int, int, list[Any]]] = []
    for start, end, span in spans:
        if groups and start < groups[-1][1]:
            first, last, members = groups[-1]
            groups[-1] = (first, max(last, end), [*members, span])
        else:
            groups.append((start, end, [span]))
    return [
        (
            start,
            end,
            [s for s in members if isinstance(s, SynonymSpan) and (s.start, s.end) == (start, end)],
            [c for c in members if isinstance(c, ConceptSpan) and (c.start, c.end) == (start, end)],
        )
        for start, end, members in groups
    ]


class EmbeddedBackend:
    """The default engine: tantivy, in this process, index files under ``path``."""

    name = "embedded"

    def __init__(self, path: Path, reload_interval: float = 0.2) -> None:
        self.path = path
        self.schema = schema()
        self.reload_interval = reload_interval
        self._lock = threading.RLock()
        self._write_lock = threading.Lock()  # this process's turn at the writer lock
        self._index: tantivy.Index | None = None
        self._generation: str | None = None
        self._checked = 0.0
        self._vocabulary: dict[str, Vocabulary] = {}
        self._vocabulary_key: tuple[Any, ...] | None = None
        self._vocabulary_built = 0.0
        self._helper: ThreadPoolExecutor | None = None

    # -- index files --------------------------------------------------------------------

    def _current(self) -> str | None:
        pointer = self.path / "CURRENT"
        return pointer.read_text().strip() if pointer.exists() else None

    def _open(self, generation: str) -> tantivy.Index:
        index = tantivy.Index(self.schema, path=str(self.path / generation), reuse=True)
        register(index)
        return index

    def _new_generation(self) -> tuple[str, tantivy.Index]:
        generation = f"gen-{time.time_ns()}"
        (self.path / generation).mkdir(parents=True)
        return generation, self._open(generation)

    def _swap(self, generation: str) -> None:
        pointer = self.path / "CURRENT"
        tmp = self.path / f"CURRENT.{os.getpid()}.tmp"
        tmp.write_text(generation)
        tmp.replace(pointer)
        for old in self.path.glob("gen-*"):
            if old.name != generation:
                shutil.rmtree(old, ignore_errors=True)

    def index(self) -> tantivy.Index:
        """The current index, opened (or created empty) on first use, followed across swaps."""
        with self._lock:
            now = time.monotonic()
            if self._index is not None and now - self._checked < self.reload_interval:
                return self._index
            self._checked = now
            self.path.mkdir(parents=True, exist_ok=True)
            generation = self._current()
            if generation is None or not (self.path / generation).exists():
                self._start_empty()
            elif generation != self._generation:
                try:
                    self._index, self._generation = self._open(generation), generation
                except ValueError as error:  # written with another schema: by an older version
                    if "schema does not match" not in str(error):
                        raise
                    log.warning(
                        "The search index %s was built by an older version of Liaison; "
                        "starting an empty one until it is rebuilt from the database",
                        self.path / generation,
                    )
                    self._start_empty(stale=True)
            elif self._index is not None:
                self._index.reload()
            assert self._index is not None
            return self._index

    def _start_empty(self, stale: bool = False) -> None:
        """Swap in a new empty generation; ``stale`` marks it as replacing an unreadable one."""
        generation, index = self._new_generation()
        index.writer(heap_size=15_000_000, num_threads=1).commit()
        if stale:
            (self.path / generation / REBUILD_MARK).touch()
        self._swap(generation)
        self._index, self._generation = index, generation

    def needs_rebuild(self) -> bool:
        """True when the index replaced one an older version wrote, and no rebuild has run."""
        self.index()
        return (
            self._generation is not None and (self.path / self._generation / REBUILD_MARK).exists()
        )

    def _aside(self) -> ThreadPoolExecutor:
        """A thread for the part of a search tantivy can run while Python does the rest."""
        with self._lock:
            if self._helper is None:
                self._helper = ThreadPoolExecutor(1, thread_name_prefix="liaison-search")
            return self._helper

    def close(self) -> None:
        """Stop the helper thread, if a search started it (a later search starts another)."""
        with self._lock:
            helper, self._helper = self._helper, None
        if helper is not None:
            helper.shutdown(wait=True)

    def is_empty(self) -> bool:
        """True when no document has been indexed yet."""
        return self.index().searcher().num_docs == 0

    def vocabulary(self, searcher: tantivy.Searcher) -> dict[str, Vocabulary]:
        """Words of the merged fields, rebuilt after a swap, or when another process changed
        the index (at most every few seconds: until then its new words match exactly only)."""
        key = (self._generation, searcher.num_docs, searcher.num_segments)
        with self._lock:
            stale = key != self._vocabulary_key and (
                key[0] != (self._vocabulary_key or (None,))[0]
                or time.monotonic() - self._vocabulary_built > VOCABULARY_REFRESH_SECONDS
            )
            if stale or not self._vocabulary:
                self._vocabulary = {
                    field: Vocabulary(t for t, _ in searcher.terms_with_prefix(field, ""))
                    for field in FUZZY
                }
                self._vocabulary_key, self._vocabulary_built = key, time.monotonic()
            return self._vocabulary

    def _learn(self, documents: Iterable[SearchDocument]) -> None:
        """Add the words of documents just indexed in this process to the vocabulary."""
        if not self._vocabulary:
            return
        analyzer = folding_analyzer()
        for document in documents:
            head = [*document["names"], *document["places"], *document["keywords"]]
            self._vocabulary["head"].add(w for text in head for w in analyzer.analyze(text))
            body = document["text"].values()
            self._vocabulary["body"].add(w for text in body for w in analyzer.analyze(text))

    # -- writes ---------------------------------------------------------------------------

    @contextmanager
    def writing(self, wait: bool = True) -> Iterator[bool]:
        """Hold the folder's writer lock (``writer.lock``): of the processes and threads of one
        host sharing this folder, one applies changes at a time; the others only read. Yields
        False, without waiting, when ``wait`` is off and another process holds it (threads of
        this process always wait their turn). Not re-entrant."""
        self.path.mkdir(parents=True, exist_ok=True)
        with self._write_lock, (self.path / "writer.lock").open("a+b") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _writer(self, index: tantivy.Index) -> tantivy.IndexWriter:
        for attempt in range(50):
            try:
                return index.writer(heap_size=15_000_000, num_threads=1)
            except ValueError:  # another process holds the lock: wait our turn
                time.sleep(0.02 * (attempt + 1))
        return index.writer(heap_size=15_000_000, num_threads=1)

    def upsert_many(self, changes: dict[str, list[SearchDocument]]) -> None:
        """Replace the documents of several organisations in one commit."""
        with self._lock:
            index = self.index()
            writer = self._writer(index)
            try:
                for organization_id, documents in changes.items():
                    writer.delete_documents_by_term("id", organization_id)
                    for document in documents:
                        writer.add_document(to_tantivy(document))
                writer.commit()
                writer.wait_merging_threads()
            except BaseException:
                writer.rollback()
                raise
            index.reload()
            self._checked = time.monotonic()
            if self._vocabulary:
                self._learn(d for documents in changes.values() for d in documents)
                fresh = index.searcher()
                self._vocabulary_key = (self._generation, fresh.num_docs, fresh.num_segments)

    def upsert(self, organization_id: str, documents: Iterable[SearchDocument]) -> None:
        """Replace every document of the organisation."""
        self.upsert_many({organization_id: list(documents)})

    def delete(self, organization_id: str) -> None:
        """Remove every document of the organisation."""
        self.upsert_many({organization_id: []})

    def rebuild(self, documents: Iterable[SearchDocument]) -> int:
        """Write a new generation from ``documents``, then swap it in."""
        with self._lock:
            self.path.mkdir(parents=True, exist_ok=True)
            generation, index = self._new_generation()
            # One thread and a large budget write few segments (one for 100 000 organisations):
            # every term a query looks up is looked up once per segment.
            writer = index.writer(heap_size=400_000_000, num_threads=1)
            # Documents go in in map order: an organisation's neighbours get nearby document
            # numbers, so a query naming a town, or a radius, touches a few stretches of the
            # index instead of all of it (tantivy evaluates unions window by window).
            ordered = sorted(
                documents, key=lambda d: grid.curve_position(d.get("lat"), d.get("lon"))
            )
            for document in ordered:
                writer.add_document(to_tantivy(document))
            count = len(ordered)
            writer.commit()
            writer.wait_merging_threads()
            index.reload()
            self._swap(generation)
            self._index, self._generation, self._checked = index, generation, time.monotonic()
            self._vocabulary = {}
            return count

    def health(self) -> dict[str, Any]:
        """Whether the index opens, and how many documents it holds."""
        try:
            return {
                "status": "ok",
                "backend": self.name,
                "documents": self.index().searcher().num_docs,
            }
        except Exception as error:  # the health check must answer, whatever broke
            return {"status": "unavailable", "backend": self.name, "detail": str(error)}

    def size_bytes(self) -> int:
        """Bytes the current generation takes on disk."""
        generation = self._current()
        if generation is None:
            return 0
        return sum(p.stat().st_size for p in (self.path / generation).rglob("*") if p.is_file())

    # -- queries --------------------------------------------------------------------------

    def _any_term(self, field: str, terms: list[str]) -> tantivy.Query:
        """Documents holding any of ``terms`` (faster than a term-set query for a few terms)."""
        if len(terms) == 1:
            return tantivy.Query.term_query(self.schema, field, terms[0])
        return tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, tantivy.Query.term_query(self.schema, field, t)) for t in terms]
        )

    def _word_clause(self, word: QueryWord, vocabulary: dict[str, Vocabulary]) -> tantivy.Query:
        schema, clauses = self.schema, []
        const, fuzzy = tantivy.Query.const_score_query, tantivy.Query.fuzzy_term_query
        for field, weight in EXACT.items():
            clauses.append(const(tantivy.Query.term_query(schema, field, word.text), weight))
        for field, (typo1, typo2, prefix, prefix_typo) in FUZZY.items():
            for distance, terms in vocabulary[field].typos(word.text, word.budget).items():
                found = self._any_term(field, terms)
                clauses.append(const(found, typo1 if distance == 1 else typo2))
            if word.prefix:
                known = vocabulary[field].starting_with(word.text)
                starts = (
                    fuzzy(schema, field, word.text, 0, True, True)
                    if known is None
                    else self._any_term(field, known)
                )
                clauses.append(const(starts, prefix))
                if word.budget and field == "head":
                    starts = fuzzy(schema, field, word.text, 1, True, True)
                    clauses.append(const(starts, prefix_typo))
        if len(word.text) > 3:
            for lang in LANGUAGES:
                term = tantivy.Query.term_query(schema, f"text_{lang}", stem(word.text, lang))
                clauses.append(tantivy.Query.const_score_query(term, STEM_WEIGHT))
        best = tantivy.Query.disjunction_max_query(clauses, 0.05)
        tiebreak = tantivy.Query.boost_query(
            tantivy.Query.term_query(schema, "names", word.text), 0.01
        )
        return tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, best), (tantivy.Occur.Should, tiebreak)]
        )

    def _alternatives(self, forms: tuple[tuple[str, ...], ...]) -> tantivy.Query:
        """Documents whose keywords or descriptions hold one of ``forms`` (found at indexing:
        phrase queries for them cost more than the rest of the query together)."""
        return self._any_term("forms", [form_term(form) for form in forms])

    def _concept_clauses(self, span: ConceptSpan, size: int) -> list[tantivy.Query]:
        """Organisations about the concepts ``span`` names, specialists scoring highest."""
        clauses = []
        for tier, weight in CONCEPT_WEIGHTS.items():
            terms = [concept_term(tier, c) for c in span.concepts]
            clauses.append(
                tantivy.Query.const_score_query(self._any_term("concepts", terms), weight * size)
            )
        return clauses

    def _text_query(
        self, plan: QueryPlan, vocabulary: dict[str, Vocabulary]
    ) -> tantivy.Query | None:
        if not plan.words:
            return None
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        covered: set[int] = set()
        for start, end, synonyms, concepts in _groups(plan):
            inside = [
                (tantivy.Occur.Must, self._word_clause(w, vocabulary))
                if w.required
                else (
                    tantivy.Occur.Should,
                    tantivy.Query.boost_query(
                        self._word_clause(w, vocabulary), STOPWORD_WEIGHT / 10
                    ),
                )
                for w in plan.words[start:end]
            ]
            words_query = tantivy.Query.boolean_query(inside)
            meaningful = max(1, sum(1 for w in plan.words[start:end] if w.required))
            alternatives = [words_query]
            for span in synonyms:
                alternatives.append(
                    tantivy.Query.const_score_query(
                        self._alternatives(span.alternatives), SYNONYM_WEIGHT * (end - start)
                    )
                )
            for concept in concepts:
                alternatives += self._concept_clauses(concept, meaningful)
            either = tantivy.Query.disjunction_max_query(alternatives, LITERAL_TIE)
            required = any(w.required for w in plan.words[start:end])
            clauses.append((tantivy.Occur.Must if required else tantivy.Occur.Should, either))
            covered.update(range(start, end))
        for i, word in enumerate(plan.words):
            if i in covered:
                continue
            clause = self._word_clause(word, vocabulary)
            if word.required:
                clauses.append((tantivy.Occur.Must, clause))
            else:
                clauses.append(
                    (tantivy.Occur.Should, tantivy.Query.boost_query(clause, STOPWORD_WEIGHT / 10))
                )
        if not any(occur == tantivy.Occur.Must for occur, _ in clauses):
            return tantivy.Query.boolean_query(clauses, 1)
        return tantivy.Query.boolean_query(clauses)

    def _filters(self, query: SearchQuery, audience: bool = True) -> list[tantivy.Query]:
        """The query's filters; ``audience=False`` leaves out the audience (a cell query
        holds it)."""
        schema = self.schema
        filters = [tantivy.Query.term_query(schema, "audience", query.audience)] if audience else []
        for name in FACET_FIELDS:
            values = query.filter_values(name)
            if values:
                filters.append(self._any_term(name, list(values)))
        for name in ("is_24_7", "cross_border"):
            value = getattr(query, name)
            if value is not None:
                filters.append(tantivy.Query.term_query(schema, name, "true" if value else "false"))
        return filters

    def _bbox(self, query: SearchQuery, radius_km: float) -> list[tantivy.Query]:
        assert query.near is not None
        min_lat, max_lat, min_lon, max_lon = bounding_box(query.near, radius_km)
        return [
            tantivy.Query.range_query(
                self.schema, "lat", tantivy.FieldType.Float, min_lat, max_lat
            ),
            tantivy.Query.range_query(
                self.schema, "lon", tantivy.FieldType.Float, min_lon, max_lon
            ),
        ]

    @staticmethod
    def _combine(text: tantivy.Query | None, filters: list[tantivy.Query]) -> tantivy.Query:
        clauses = [(tantivy.Occur.Must, text or tantivy.Query.all_query())]
        clauses += [(tantivy.Occur.Must, tantivy.Query.const_score_query(f, 0.0)) for f in filters]
        return tantivy.Query.boolean_query(clauses)

    def _distances(
        self, searcher: tantivy.Searcher, addresses: list[tantivy.DocAddress], query: SearchQuery
    ) -> list[float | None]:
        assert query.near is not None
        lats = searcher.fast_field_values("lat", addresses)
        lons = searcher.fast_field_values("lon", addresses)
        return distances_km(query.near.lat, query.near.lon, lats, lons)

    def _facets(
        self,
        searcher: tantivy.Searcher,
        final: tantivy.Query,
        total: int,
        first: list[tuple[Any, tantivy.DocAddress]],
    ) -> dict[str, dict[str, int]]:
        """Facet counts: counted here from bit masks for a few matches, else by the index.

        ``first`` holds the first hits already found; when they are all of them, the query
        is not evaluated again.
        """
        if total <= SMALL_RESULT:
            if len(first) < total:
                first = searcher.search(final, limit=total, count=False).hits
            return self._count_masks(searcher, [address for _, address in first])
        return self._aggregate(searcher, final)

    @staticmethod
    def _count_masks(
        searcher: tantivy.Searcher, addresses: list[tantivy.DocAddress]
    ) -> dict[str, dict[str, int]]:
        return count_masks(searcher, addresses, facet_codes())

    @staticmethod
    def _aggregate(searcher: tantivy.Searcher, final: tantivy.Query) -> dict[str, dict[str, int]]:
        return aggregate_facets(searcher, final, facet_codes())[1]

    def search(self, query: SearchQuery, plan: QueryPlan | None = None) -> SearchPage:
        """Answer ``query`` (see ``SearchBackend.search``)."""
        from search.analysis import plan_query

        started = time.perf_counter()
        plan = plan or plan_query(query.text, query.prefix)
        searcher = self.index().searcher()
        vocabulary = self.vocabulary(searcher)
        filters = self._filters(query)
        if query.near is not None and query.radius_km is not None:
            return self._search_within(
                searcher,
                vocabulary=vocabulary,
                filters=filters,
                plan=plan,
                query=query,
                started=started,
            )
        current: QueryPlan | None = plan
        final = tantivy.Query.all_query()
        total = 0
        while current is not None:
            text = self._text_query(current, vocabulary)
            final = self._combine(text, filters)
            # Up to SMALL_RESULT matches are all collected at once: their facets are counted
            # from these hits, without evaluating the query again.
            wanted = max(SMALL_RESULT, query.offset + query.per_page)
            first = searcher.search(final, limit=wanted, count=True)
            total = first.count  # type: ignore[attr-defined]
            if total or text is None:
                break
            current = current.relaxed()
        plan = current or plan
        # Many matches: tantivy counts their facets on another thread while this one builds
        # the page (tantivy lets go of the interpreter meanwhile).
        counting = (
            self._aside().submit(self._aggregate, searcher, final) if total > SMALL_RESULT else None
        )
        hits = self._page(searcher, final, query, total, first.hits) if total else []
        highlighter = Highlighter(plan) if plan.words else None
        page_hits = build_hits(
            [(data, distance, score) for score, data, distance in hits],
            highlighter,
            query.locale,
            query.audience,
        )
        if counting is not None:
            facets = counting.result()
        else:
            facets = self._facets(searcher, final, total, first.hits) if total else {}
        return self._result(query, page_hits, facets, total, started)

    def _search_within(
        self,
        searcher: tantivy.Searcher,
        *,
        vocabulary: dict[str, Vocabulary],
        filters: list[tantivy.Query],
        plan: QueryPlan,
        query: SearchQuery,
        started: float,
    ) -> SearchPage:
        """A search within a radius, nearest first: counted over map cells (``search.nearby``)."""
        assert query.near is not None
        assert query.radius_km is not None
        point, radius = query.near, query.radius_km
        # Without words every match scores the same, so best first is nearest first; with
        # words, many matches tie and those must all be measured: the box does that in one go.
        nearest_first = query.sort == "distance" or (query.sort == "relevance" and not plan.words)
        if not nearest_first or not grid.supported(point.lat, point.lon, radius):
            return self._search_within_box(
                searcher,
                vocabulary=vocabulary,
                filters=filters,
                plan=plan,
                query=query,
                started=started,
            )
        cover = grid.cover(point.lat, point.lon, radius)
        others = self._filters(query, audience=False)
        current = plan
        while True:
            text = self._text_query(current, vocabulary)
            matching = self._combine(text, others)
            counted = nearby.within(
                searcher,
                self.schema,
                matching,
                audience=query.audience,
                cover=cover,
                point=point,
                radius_km=radius,
                codes=facet_codes(),
                aside=self._aside(),
            )
            relaxed = current.relaxed() if text is not None and not counted.total else None
            if relaxed is None:
                break
            current = relaxed
        wanted = query.offset + query.per_page
        found = (
            nearby.nearest(
                searcher,
                self.schema,
                matching,
                audience=query.audience,
                cover=cover,
                point=point,
                radius_km=radius,
                counted=counted,
                wanted=wanted,
            )
            if counted.total
            else []
        )
        highlighter = Highlighter(current) if current.words else None
        rows = [(self._payload(searcher, a), d, s) for s, a, d in found[query.offset :]]
        hits = build_hits(rows, highlighter, query.locale, query.audience)
        return self._result(query, hits, counted.facets, counted.total, started)

    def _search_within_box(
        self,
        searcher: tantivy.Searcher,
        *,
        vocabulary: dict[str, Vocabulary],
        filters: list[tantivy.Query],
        plan: QueryPlan,
        query: SearchQuery,
        started: float,
    ) -> SearchPage:
        """A search within a radius sorted by name or by relevance of words (or too wide for map
        cells): matches in the surrounding box are measured once, here, and hits, total and
        facet counts all come from those inside the circle."""
        assert query.near is not None
        assert query.radius_km is not None
        box = self._bbox(query, query.radius_km)
        current: QueryPlan | None = plan
        inside: list[tuple[float, tantivy.DocAddress, float]] = []
        while current is not None:
            text = self._text_query(current, vocabulary)
            found = self._all(searcher, self._combine(text, [*filters, *box]))
            addresses = [address for _, address in found]
            distances = self._distances(searcher, addresses, query)
            inside = [
                (float(score), address, distance)
                for (score, address), distance in zip(found, distances, strict=True)
                if distance is not None and distance <= query.radius_km
            ]
            if inside or text is None:
                break
            current = current.relaxed()
        plan = current or plan
        if query.sort == "name":
            named = [(self._payload(searcher, a), s, d) for s, a, d in inside]
            named.sort(key=lambda item: str(item[0]["name"]).casefold())
            chosen = named[query.offset : query.offset + query.per_page]
            rows = [(s, data, d) for data, s, d in chosen]
        else:
            if query.sort == "distance":
                by: Callable[[Any], Any] = lambda item: (item[2], -item[0])  # noqa: E731
            else:
                by = lambda item: (-item[0], item[2])  # noqa: E731
            # the same rows as sorting them all, without sorting thousands
            first = heapq.nsmallest(query.offset + query.per_page, inside, key=by)
            window = first[query.offset :]
            rows = [(s, self._payload(searcher, a), d) for s, a, d in window]
        highlighter = Highlighter(plan) if plan.words else None
        hits = build_hits(
            [(data, d, s) for s, data, d in rows], highlighter, query.locale, query.audience
        )
        facets = self._count_masks(searcher, [a for _, a, _ in inside]) if inside else {}
        return self._result(query, hits, facets, len(inside), started)

    def _page(
        self,
        searcher: tantivy.Searcher,
        final: tantivy.Query,
        query: SearchQuery,
        total: int,
        first: list[tuple[Any, tantivy.DocAddress]],
    ) -> list[tuple[float, dict[str, Any], float | None]]:
        wanted = query.offset + query.per_page
        if query.sort == "distance":
            ordered = self._by_distance(searcher, final, query, wanted, total)
            chosen = ordered[query.offset : wanted]
            return [(score, self._payload(searcher, a), d) for score, a, d in chosen]
        if query.sort == "name":
            found = searcher.search(
                final,
                limit=query.per_page,
                offset=query.offset,
                count=False,
                order_by_field="name_sort",
                order=tantivy.Order.Asc,
            ).hits
        else:
            found = first[query.offset : query.offset + query.per_page]
        addresses = [address for _, address in found]
        distances: list[float | None] = (
            self._distances(searcher, addresses, query) if query.near else [None] * len(addresses)
        )
        return [
            (float(score) if query.sort == "relevance" else 0.0, self._payload(searcher, a), d)
            for (score, a), d in zip(found, distances, strict=True)
        ]

    def _by_distance(
        self,
        searcher: tantivy.Searcher,
        final: tantivy.Query,
        query: SearchQuery,
        wanted: int,
        total: int,
    ) -> list[tuple[float, tantivy.DocAddress, float | None]]:
        """The nearest ``wanted`` matches, growing a block of map cells (many matches) or a box
        (a few) around the point until it holds them."""
        assert query.near is not None
        point = query.near
        nearest = (
            nearby.nearest_anywhere(
                searcher, self.schema, final, audience=query.audience, point=point, wanted=wanted
            )
            if total > SMALL_RESULT and grid.supported(point.lat, point.lon, 1.0)
            else None
        )
        if nearest is not None:
            return list(nearest)
        radius = 25.0
        while True:
            boxed = self._combine(final, self._bbox(query, radius))
            found = self._all(searcher, boxed)
            addresses = [a for _, a in found]
            measured: list[tuple[float, tantivy.DocAddress, float | None]] = [
                (float(score), address, distance)
                for (score, address), distance in zip(
                    found, self._distances(searcher, addresses, query), strict=True
                )
                if distance is not None and distance <= radius
            ]
            if len(measured) >= wanted or radius > 1500:
                break
            radius *= 3
        measured.sort(key=lambda item: (item[2], -item[0]))
        if len(measured) < wanted and total > len(measured):
            # Matches without a known place come last, by relevance.
            unplaced = tantivy.Query.boolean_query(
                [
                    (tantivy.Occur.Must, final),
                    (
                        tantivy.Occur.MustNot,
                        tantivy.Query.term_query(self.schema, "has_geo", "yes"),
                    ),
                ]
            )
            rest = searcher.search(unplaced, limit=wanted - len(measured), count=False).hits
            measured += [(float(score), address, None) for score, address in rest]
        return measured

    @staticmethod
    def _all(
        searcher: tantivy.Searcher, query: tantivy.Query
    ) -> list[tuple[Any, tantivy.DocAddress]]:
        # One pass with room for every document beats counting first and collecting after.
        return list(searcher.search(query, limit=max(1, searcher.num_docs), count=False).hits)

    @staticmethod
    def _payload(searcher: tantivy.Searcher, address: tantivy.DocAddress) -> dict[str, Any]:
        raw = searcher.doc(address).get_first("payload")
        data: dict[str, Any] = json.loads(bytes(raw or b"{}"))
        return data

    def _result(
        self,
        query: SearchQuery,
        hits: list[SearchHit],
        facets: dict[str, dict[str, int]],
        total: int,
        started: float,
    ) -> SearchPage:
        return SearchPage(
            hits=hits,
            facets=facets,
            total=total,
            took_ms=(time.perf_counter() - started) * 1000,
            page=query.page,
            per_page=query.per_page,
            backend=self.name,
            near=query.near,
        )
