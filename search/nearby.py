"""Searching within a radius with map cells (see ``search.grid``), without measuring every match.

Matches in cells wholly inside the circle are counted and faceted by tantivy; only matches in
the cells along the edge have their distance measured here. The nearest matches are looked up
in a block of cells around the centre, grown until it is known to hold them.
"""

from __future__ import annotations

from concurrent.futures import Executor, Future
from dataclasses import dataclass
from math import pi

import tantivy

from search.columns import aggregate_facets, count_masks, distances_km, merge_facets
from search.grid import LEVELS, Cover, block, cell_area_km2
from search.query import GeoPoint

# (score, address, distance in km)
Match = tuple[float, tantivy.DocAddress, float]
FEW_CELLS = 16  # up to this many cells a union of term queries beats a term-set query
ANYWHERE_START = 13  # a first block of about 7 km across


def cell_term(audience: str, cell: str) -> str:
    """How a cell is indexed for one audience: cells stand in for the audience filter, which
    would otherwise be intersected with every cell's documents."""
    return f"{audience}/{cell}"


def cells_query(schema: tantivy.Schema, audience: str, cells: tuple[str, ...]) -> tantivy.Query:
    """The audience's documents in any of ``cells``."""
    terms = [cell_term(audience, c) for c in cells]
    if len(terms) > FEW_CELLS:
        return tantivy.Query.term_set_query(schema, "geo_cell", terms)
    return tantivy.Query.boolean_query(
        [(tantivy.Occur.Should, tantivy.Query.term_query(schema, "geo_cell", t)) for t in terms]
    )


def restrict(
    query: tantivy.Query, schema: tantivy.Schema, audience: str, cells: tuple[str, ...]
) -> tantivy.Query:
    """``query`` limited to the audience's documents in ``cells`` (scores unchanged)."""
    inside = tantivy.Query.const_score_query(cells_query(schema, audience, cells), 0.0)
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, query), (tantivy.Occur.Must, inside)])


def _collect(
    searcher: tantivy.Searcher, query: tantivy.Query
) -> list[tuple[float, tantivy.DocAddress]]:
    """Every match of ``query``, as (score, address)."""
    hits: list[tuple[float, tantivy.DocAddress]] = searcher.search(
        query, limit=max(1, searcher.num_docs), count=False
    ).hits
    return hits


def measure(
    searcher: tantivy.Searcher, found: list[tuple[float, tantivy.DocAddress]], point: GeoPoint
) -> list[Match]:
    """Each found document with its distance from ``point`` (those without a place left out)."""
    addresses = [address for _, address in found]
    lats = searcher.fast_field_values("lat", addresses)
    lons = searcher.fast_field_values("lon", addresses)
    distances = distances_km(point.lat, point.lon, lats, lons)
    return [
        (score, address, distance)
        for (score, address), distance in zip(found, distances, strict=True)
        if distance is not None
    ]


def by_distance(match: Match) -> tuple[float, float, int, int]:
    """Nearest first; equally near: best score first, then index order."""
    score, address, distance = match
    return distance, -score, address.segment_ord, address.doc


@dataclass(frozen=True)
class Within:
    """What a circle holds: how many matches, their facet counts, and the measured edge ones."""

    total: int
    facets: dict[str, dict[str, int]]
    edge: list[Match]


def within(
    searcher: tantivy.Searcher,
    schema: tantivy.Schema,
    matching: tantivy.Query,
    *,
    audience: str,
    cover: Cover,
    point: GeoPoint,
    radius_km: float,
    codes: dict[str, dict[str, int]],
    aside: Executor | None = None,
) -> Within:
    """Count and facet the matches within the circle ``cover`` covers.

    With ``aside``, tantivy counts the inside cells on that executor's thread (it lets go of
    the interpreter meanwhile) while the edge cells' matches are measured here.
    """
    counting: Future[tuple[int, dict[str, dict[str, int]]]] | None = None
    if cover.inside:
        inside = restrict(matching, schema, audience, cover.inside)
        if aside is not None:
            counting = aside.submit(aggregate_facets, searcher, inside, codes)
        else:
            counting = Future()
            counting.set_result(aggregate_facets(searcher, inside, codes))
    edge: list[Match] = []
    edge_facets: dict[str, dict[str, int]] = {}
    if cover.edge:
        found = _collect(searcher, restrict(matching, schema, audience, cover.edge))
        edge = [m for m in measure(searcher, found, point) if m[2] <= radius_km]
        if edge:
            edge_facets = count_masks(searcher, [m[1] for m in edge], codes)
    total, facets = counting.result() if counting is not None else (0, {})
    facets = merge_facets(facets, edge_facets)
    return Within(total + len(edge), facets if total + len(edge) else {}, edge)


def _start_level(radius_km: float, total: int, wanted: int) -> int:
    """The finest level whose block around the centre should hold ``wanted`` matches, judging by
    the circle's average density (matches crowd around a town centre, so half is enough)."""
    density = total / (pi * radius_km**2)
    level = LEVELS[-1]
    while level > LEVELS[0] and density * 9 * cell_area_km2(level) < wanted / 2:
        level -= 1
    return level


def nearest(
    searcher: tantivy.Searcher,
    schema: tantivy.Schema,
    matching: tantivy.Query,
    *,
    audience: str,
    cover: Cover,
    point: GeoPoint,
    radius_km: float,
    counted: Within,
    wanted: int,
) -> list[Match]:
    """The ``wanted`` matches within the circle nearest to its centre, nearest first."""
    if counted.total <= wanted or counted.total == len(counted.edge):
        found = list(counted.edge)
        if cover.inside and counted.total > len(counted.edge):
            inside = _collect(searcher, restrict(matching, schema, audience, cover.inside))
            found += measure(searcher, inside, point)
        return sorted(found, key=by_distance)[:wanted]
    for level in range(_start_level(radius_km, counted.total, wanted), LEVELS[0] - 1, -1):
        around = block(point.lat, point.lon, level)
        found = measure(
            searcher, _collect(searcher, restrict(matching, schema, audience, around.cells)), point
        )
        close = sum(1 for m in found if m[2] < around.clear_km and m[2] <= radius_km)
        if close >= wanted or around.clear_km > radius_km:
            return sorted((m for m in found if m[2] <= radius_km), key=by_distance)[:wanted]
    # no block settled it (a circle wider than the largest block): measure all it holds
    found = list(counted.edge)
    if cover.inside:
        found += measure(
            searcher, _collect(searcher, restrict(matching, schema, audience, cover.inside)), point
        )
    return sorted(found, key=by_distance)[:wanted]


def nearest_anywhere(
    searcher: tantivy.Searcher,
    schema: tantivy.Schema,
    matching: tantivy.Query,
    *,
    audience: str,
    point: GeoPoint,
    wanted: int,
) -> list[Match] | None:
    """The matches in a block of cells around ``point`` grown until at least ``wanted`` of them
    are nearer than anything outside it, nearest first (the first ``wanted`` are the nearest
    of all); None when even the largest block does not hold that many."""
    level = ANYWHERE_START
    while level >= LEVELS[0]:
        around = block(point.lat, point.lon, level)
        found = measure(
            searcher, _collect(searcher, restrict(matching, schema, audience, around.cells)), point
        )
        close = sum(1 for m in found if m[2] < around.clear_km)
        if close >= wanted:
            return sorted(found, key=by_distance)
        # far too few: skip a level (each level's block is four times larger)
        level -= 1 if close * 4 >= wanted else 2
    return None
