"""What a search asks (``SearchQuery``) and what it answers (``SearchPage``), for every backend."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from directory.places import GeoPoint  # the query's point; search modules import it from here

FACET_FIELDS = (
    "country",
    "org_type",
    "exploitation_form",
    "target_group",
    "service_type",
    "language",
)
BOOLEAN_FILTERS = ("is_24_7", "cross_border")
SORTS = ("relevance", "distance", "name")
AUDIENCES = ("public", "network", "secretariat")
MAX_PER_PAGE = 100


class InvalidQuery(ValueError):
    """A search parameter is malformed or out of range; the message says which and why."""


@dataclass(frozen=True)
class SearchQuery:
    """One search: free text, filters (OR within a field, AND across fields), geo, sort, page.

    ``audience`` is who is asking (``public``, ``network`` or ``secretariat``); backends only
    ever consider documents built for that audience, so nothing wider can leak.
    ``prefix`` treats the last word as the start of a word (search-as-you-type).
    """

    text: str = ""
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    is_24_7: bool | None = None
    cross_border: bool | None = None
    near: GeoPoint | None = None
    radius_km: float | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20
    audience: str = "public"
    locale: str = "en"
    prefix: bool = True

    def __post_init__(self) -> None:
        for name in self.filters:
            if name not in FACET_FIELDS:
                raise InvalidQuery(f"unknown filter {name!r}")
        if self.sort not in SORTS:
            raise InvalidQuery(f"sort must be one of {', '.join(SORTS)}")
        if self.sort == "distance" and self.near is None:
            raise InvalidQuery("sort=distance needs a place (near) or lat and lon")
        if self.radius_km is not None:
            if self.near is None:
                raise InvalidQuery("radius_km needs a place (near) or lat and lon")
            if not 0 < self.radius_km <= 1000:
                raise InvalidQuery("radius_km must be more than 0 and at most 1000")
        if self.page < 1:
            raise InvalidQuery("page must be 1 or more")
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise InvalidQuery(f"per_page must be between 1 and {MAX_PER_PAGE}")
        if self.audience not in AUDIENCES:
            raise InvalidQuery(f"audience must be one of {', '.join(AUDIENCES)}")
        if self.near is not None and not (
            -90 <= self.near.lat <= 90 and -180 <= self.near.lon <= 180
        ):
            raise InvalidQuery("lat must be within ±90 and lon within ±180")

    @property
    def offset(self) -> int:
        """How many hits come before this page."""
        return (self.page - 1) * self.per_page

    def filter_values(self, name: str) -> tuple[str, ...]:
        """The accepted values of one facet filter (empty: no filter)."""
        return self.filters.get(name, ())

    def replace(self, **changes: Any) -> SearchQuery:
        """A copy with some fields changed."""
        values = {**self.__dict__, **changes}
        return SearchQuery(**values)


@dataclass
class SearchHit:
    """One organisation in the results, as much as the asking audience may see."""

    id: str
    ref: str
    name: str
    country: str
    city: str | None
    org_type: str
    is_24_7: bool
    cross_border: bool
    distance_km: float | None = None
    highlights: dict[str, str] = field(default_factory=dict)
    badges: list[str] = field(default_factory=list)
    score: float = 0.0


# What a hit shows in JSON besides its highlights and badges (its score is internal).
HIT_FIELDS = (
    "id",
    "ref",
    "name",
    "country",
    "city",
    "org_type",
    "is_24_7",
    "cross_border",
    "distance_km",
)


@dataclass
class SearchPage:
    """One page of results: hits, facet counts over all matches, total matches, time taken."""

    hits: list[SearchHit]
    facets: dict[str, dict[str, int]]
    total: int
    took_ms: float
    page: int = 1
    per_page: int = 20
    backend: str = "embedded"
    near: GeoPoint | None = None

    @property
    def pages(self) -> int:
        """How many pages the matches fill."""
        return max(1, -(-self.total // self.per_page))

    def to_dict(self) -> dict[str, Any]:
        """The JSON form served by ``GET /api/v1/search`` and ``liaison search --json``."""
        # Written out rather than dataclasses.asdict, which deep-copies every value and took
        # a third of an API answer's time in Python.
        return {
            "hits": [
                {
                    **{name: getattr(hit, name) for name in HIT_FIELDS},
                    "highlights": dict(hit.highlights),
                    "badges": list(hit.badges),
                }
                for hit in self.hits
            ],
            "facets": {name: dict(counts) for name, counts in self.facets.items()},
            "total": self.total,
            "took_ms": round(self.took_ms, 3),
            "page": self.page,
            "per_page": self.per_page,
            "backend": self.backend,
            "near": None if self.near is None else asdict(self.near),
        }
