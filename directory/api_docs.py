"""The directory API's models (``/api/v1/organizations``, ``/taxonomy``): the OpenAPI source.

The views read their few query parameters with ``directory.api``'s helpers, which check the same
bounds and codes these models state.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.api_schema import TEXT_PATTERN, ApiModel, Operation, Reply
from directory.taxonomy import load_taxonomy

LANGUAGES = ("nl", "fr", "de", "en")
MAX_PER_PAGE = 200
Lang = Literal[LANGUAGES]  # type: ignore[valid-type]
OrgType: Any = Literal[tuple(t.code for t in load_taxonomy().vocabulary("org_type"))]  # type: ignore[misc]


class Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class Labelled(Out):
    code: str
    label: str


class OrganizationSummary(Out):
    id: str
    ref: str | None
    name: str
    country: str
    region: str | None
    city: str | None
    org_type: Labelled
    visibility: Literal["public", "network", "secretariat"]
    url: str


class Point(Out):
    """The point the caller may see: the stored one (``exact``) or, where the street address is
    not public to the caller, the centre of the organisation's town (``town``)."""

    lat: float
    lon: float
    precision: Literal["exact", "town"]


class Organization(OrganizationSummary):
    """An organisation with what the caller may see of its services, phones, location, address
    and contact points."""

    description: dict[str, str]
    languages: list[Labelled]
    exploitation_forms: list[Labelled]
    target_groups: list[Labelled]
    services: list[dict[str, Any]]
    phones: list[dict[str, Any]]
    location: Point | None
    address: dict[str, Any] | None
    contact_points: list[dict[str, Any]]
    is_24_7: bool
    accepts_cross_border_referrals: bool


class OrganizationPage(Out):
    organizations: list[OrganizationSummary]
    page: int
    per_page: int
    total: int
    pages: int


class Vocabularies(Out):
    version: str | int
    lang: str
    vocabularies: dict[str, list[dict[str, Any]]]


class LangQuery(ApiModel):
    lang: Lang = Field("en", description="Language of labels")


class OrganizationsQuery(ApiModel):
    country: str | None = Field(
        None, pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2 code, e.g. BE"
    )
    org_type: OrgType | None = Field(None, description="An org_type code of the taxonomy")
    page: int = Field(1, ge=1, le=999_999_999)
    per_page: int = Field(20, ge=1, le=MAX_PER_PAGE)
    lang: Lang = Field("en", description="Language of labels")


_BAD = {400: "A parameter is invalid; `detail` says which"}

ORGANIZATIONS = Operation(
    summary="Organisations the caller may see, a page at a time",
    tags=["directory"],
    security="optional",
    query=OrganizationsQuery,
    replies={200: Reply("One page of organisations", OrganizationPage)},
    errors={400: []},
    error_descriptions=_BAD,
)
ORGANIZATION = Operation(
    summary="One organisation by id or import ref",
    tags=["directory"],
    security="optional",
    path={"key": {"type": "string", "minLength": 1, "pattern": TEXT_PATTERN}},
    query=LangQuery,
    replies={200: Reply("The organisation", Organization)},
    errors={400: [], 404: []},
    error_descriptions=_BAD | {404: "No organisation with this id or ref that you may see"},
)
TAXONOMY = Operation(
    summary="Every vocabulary of the taxonomy, labelled in one language",
    tags=["directory"],
    security="optional",
    query=LangQuery,
    replies={200: Reply("Vocabularies with codes, labels and synonyms", Vocabularies)},
    errors={400: []},
    error_descriptions=_BAD,
)
