"""Fast-field work on many matches at once: facet counts from bit masks, distances to a point.

Results with thousands of matches (a town's radius, a service named in another language) spend
their time here, so each function runs one tight loop instead of a call per organisation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from functools import cache, lru_cache
from math import asin, cos, radians, sin, sqrt

import tantivy

from search.query import FACET_FIELDS

EARTH_RADIUS_KM = 6371.0088  # as search.places.haversine_km
MASKED_CODES = 12  # facets of at most this many codes are aggregated by their bit masks


def distances_km(
    lat: float, lon: float, lats: Sequence[float | None], lons: Sequence[float | None]
) -> list[float | None]:
    """Great-circle distances from (lat, lon) to each point; None where a point is unknown.

    The same formula as ``search.places.haversine_km``, inlined (same floats, no call per point).
    """
    p1 = radians(lat)
    cos_p1 = cos(p1)
    diameter = 2 * EARTH_RADIUS_KM
    return [
        None
        if lat2 is None or lon2 is None
        else diameter
        * asin(
            min(
                1.0,
                sqrt(
                    sin((radians(lat2) - p1) / 2) ** 2
                    + cos_p1 * cos(radians(lat2)) * sin(radians(lon2 - lon) / 2) ** 2
                ),
            )
        )
        for lat2, lon2 in zip(lats, lons, strict=True)
    ]


@cache
def _splitter(positions: tuple[tuple[str, int], ...]) -> Callable[[int], tuple[str, ...]]:
    """A function giving the codes whose bits are set in a mask (remembering each mask)."""
    by_bit = {1 << bit: code for code, bit in positions}

    @lru_cache(maxsize=65536)
    def split(mask: int) -> tuple[str, ...]:
        found = []
        while mask:
            lowest = mask & -mask
            found.append(by_bit[lowest])
            mask ^= lowest
        return tuple(found)

    return split


def count_masks(
    searcher: tantivy.Searcher,
    addresses: list[tantivy.DocAddress],
    codes: dict[str, dict[str, int]],
) -> dict[str, dict[str, int]]:
    """Facet counts of ``addresses`` from their ``fx_<facet>`` and ``fx_flags`` bit masks.

    Organisations share few distinct masks, so masks are counted first and each distinct mask
    is split into its codes once.
    """
    facets: dict[str, dict[str, int]] = {}
    for name, positions in codes.items():
        counts: dict[str, int] = {}
        split = _splitter(tuple(positions.items()))
        for value, times in Counter(searcher.fast_field_values(f"fx_{name}", addresses)).items():
            for code in split(int(value or 0)):
                counts[code] = counts.get(code, 0) + times
        facets[name] = counts
    flags = Counter(int(v or 0) for v in searcher.fast_field_values("fx_flags", addresses))
    for name, flag in (("is_24_7", 1), ("cross_border", 2)):
        yes = sum(times for value, times in flags.items() if value & flag)
        no = len(addresses) - yes
        facets[name] = {k: v for k, v in (("true", yes), ("false", no)) if v}
    return facets


def aggregate_facets(
    searcher: tantivy.Searcher, query: tantivy.Query, codes: dict[str, dict[str, int]]
) -> tuple[int, dict[str, dict[str, int]]]:
    """How many documents match ``query`` and their facet counts, both counted by tantivy.

    A facet of a few codes is counted by its bit masks (a handful of distinct values, much
    cheaper to count than every code of every document), then each mask split here.
    """
    masked = {name for name, positions in codes.items() if len(positions) <= MASKED_CODES}
    spec = {
        name: {"terms": {"field": f"fx_{name}", "size": 1 << MASKED_CODES}}
        if name in masked
        else {"terms": {"field": name, "size": 500}}
        for name in (*FACET_FIELDS, "is_24_7", "cross_border")
    }
    result = searcher.aggregate(query, spec)
    facets: dict[str, dict[str, int]] = {}
    for name in spec:
        buckets = result.get(name, {}).get("buckets", [])
        if name not in masked:
            facets[name] = {str(b["key"]): int(b["doc_count"]) for b in buckets}
            continue
        split = _splitter(tuple(codes[name].items()))
        counts: dict[str, int] = {}
        for bucket in buckets:
            for code in split(int(bucket["key"])):
                counts[code] = counts.get(code, 0) + int(bucket["doc_count"])
        facets[name] = counts
    # every document is either 24/7 or not
    return sum(facets["is_24_7"].values()), facets


def merge_facets(
    first: dict[str, dict[str, int]], second: dict[str, dict[str, int]]
) -> dict[str, dict[str, int]]:
    """Facet counts of two disjoint sets of documents, added up."""
    merged = {name: dict(counts) for name, counts in first.items()}
    for name, counts in second.items():
        into = merged.setdefault(name, {})
        for value, count in counts.items():
            into[value] = into.get(value, 0) + count
    return merged
