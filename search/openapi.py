"""``GET /api/v1/search``: its query parameters and its answer, as models (the OpenAPI source).

The parameters are read by ``search.params.parse_search`` (shared with the search page and the
CLI); the enums here come from the same taxonomy and constants it checks against.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from core.api_schema import TEXT_PATTERN, Operation, Reply
from directory.taxonomy import load_taxonomy
from search.params import MAX_TEXT, VOCABULARY
from search.query import FACET_FIELDS, MAX_PER_PAGE, SORTS


def _codes(name: str) -> Any:
    codes = tuple(term.code for term in load_taxonomy().vocabulary(VOCABULARY[name]))
    return list[Literal[codes]] | None  # type: ignore[valid-type]


SearchParameters: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "SearchParameters",
    __config__=ConfigDict(extra="forbid"),
    q=(
        str | None,
        Field(
            None,
            max_length=MAX_TEXT,
            pattern=TEXT_PATTERN,
            description="Free text in NL, FR, DE or EN; typos are forgiven (1 from 5 letters, "
            "2 from 9), the last word may be a prefix, and 'near <town>' in the text sorts by "
            "distance from that town.",
        ),
    ),
    **{
        name: (
            _codes(name),
            Field(
                None,
                description=f"Taxonomy code(s) of {name.replace('_', ' ')}; repeat for OR.",
            ),
        )
        for name in FACET_FIELDS
    },
    is_24_7=(bool | None, Field(None, description="Only organisations reachable day and night.")),
    cross_border=(
        bool | None,
        Field(None, description="Only organisations accepting cross-border referrals."),
    ),
    near=(
        str | None,
        Field(
            None,
            pattern=TEXT_PATTERN,
            description="A Benelux town (Liège, Luik, Antwerp…); not with lat/lon.",
        ),
    ),
    lat=(float | None, Field(None, ge=-90, le=90, description="Latitude (with lon).")),
    lon=(float | None, Field(None, ge=-180, le=180, description="Longitude (with lat).")),
    radius_km=(
        float | None,
        Field(None, gt=0, le=1000, description="Only within this distance of near / lat+lon."),
    ),
    sort=(
        Literal[SORTS] | None,  # type: ignore[valid-type]
        Field(None, description="relevance (default), distance (default with a place) or name."),
    ),
    page=(int, Field(1, ge=1, le=10_000, description="Page number.")),
    per_page=(int, Field(20, ge=1, le=MAX_PER_PAGE, description="Hits per page.")),
)


class SearchHit(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    ref: str = Field(description="The organisation's import reference.")
    name: str
    country: str
    city: str | None = None
    org_type: str
    is_24_7: bool | None = None
    cross_border: bool | None = None
    distance_km: float | None = Field(
        None,
        description="From the point the caller may see (a confidential address's town centre); "
        "in whole kilometres for anyone but the secretariat.",
    )
    highlights: dict[str, str] = Field(
        description="HTML-escaped text with <mark> around matches (name, description)."
    )
    badges: list[Literal["24_7", "cross_border"]] = []


class SearchPage(BaseModel):
    model_config = ConfigDict(extra="allow")

    hits: list[SearchHit]
    facets: dict[str, dict[str, int]] = Field(
        description="Per facet, the number of matches with each value."
    )
    total: int
    took_ms: float
    page: int
    per_page: int
    backend: Literal["embedded", "meilisearch"]
    near: dict[str, Any] | None = None


SEARCH = Operation(
    summary="Search the directory",
    description="Anonymous callers find public entries only; members also network entries; the "
    "secretariat everything, unpublished entries included. Facet counts and totals follow the "
    "same rule. Parameters depend on each other (lat with lon, near or lat/lon, near a known "
    "town): a combination the schema allows can still answer 400.",
    security="optional",
    tags=["search"],
    query=SearchParameters,
    replies={200: Reply("One page of results", SearchPage)},
    errors={400: []},
    error_descriptions={400: "A parameter is invalid; `detail` says which and why"},
)
