"""The query parameters of the HSDS 3.1 API: parsed strictly, then turned into filters.

Every parameter the official HSDS 3.1 OpenAPI lists for an endpoint is understood; a parameter it
does not list (besides Liaison's ``lang``) answers 400 naming it, and so does one Liaison cannot
honour (``proximity``), so that a client following the spec never gets a silently wrong answer.
Filters only ever narrow what the viewer may already see.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from flask import abort, request
from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true

from directory.models import Attribute, Organization, Service
from directory.taxonomy import Term, load_taxonomy, taxonomy_id
from directory.visibility import Viewer

# The query parameters of each HSDS 3.1 operation (GET and POST alike), from its OpenAPI.
LIST_PARAMETERS = {
    "organizations": (
        "search",
        "full_service",
        "full",
        "taxonomy_term_id",
        "taxonomy_id",
        "page",
        "per_page",
        "format",
    ),
    "services": (
        "search",
        "page",
        "per_page",
        "format",
        "taxonomy_term_id",
        "taxonomy_id",
        "organization_id",
        "modified_after",
        "minimal",
        "full",
    ),
    "service_at_locations": (
        "search",
        "taxonomy_term_id",
        "taxonomy_id",
        "organization_id",
        "modified_after",
        "full",
        "page",
        "per_page",
        "format",
        "postcode",
        "proximity",
    ),
    "taxonomies": ("search", "page", "per_page", "format"),
    "taxonomy_terms": (
        "search",
        "page",
        "per_page",
        "format",
        "taxonomy_id",
        "top_only",
        "parent_id",
    ),
    "organization": ("full_service",),
    "record": (),
    "about": (),
}
EXTENSIONS = ("lang",)  # Liaison's own: the language of the texts (nl, fr, de, en)
NOT_SUPPORTED = {
    "proximity": "proximity is not supported: Liaison keeps no postcode centroids, and a distance "
    "to a confidential address would reveal it; use postcode to match an address's postal code",
}
FORMATS = ("json", "ndjson")


def check_parameters(operation: str) -> None:
    """400 for a query parameter this operation does not take, naming it."""
    allowed = set(LIST_PARAMETERS[operation]) | set(EXTENSIONS)
    for name in request.args:
        if name not in allowed:
            abort(400, description=f"unknown parameter {name!r} for this HSDS operation")
        if name in NOT_SUPPORTED and request.args.get(name, "") != "":
            abort(400, description=NOT_SUPPORTED[name])


def text_param(name: str) -> str | None:
    """A free-text parameter, stripped; None when absent or empty."""
    value = request.args.get(name, "").strip()
    return value or None


def bool_param(name: str) -> bool:
    """An HSDS boolean: ``true``/``false`` (also ``1``/``0``); 400 for anything else."""
    raw = request.args.get(name, "").strip().lower()
    if raw in ("", "false", "0"):
        return False
    if raw not in ("true", "1"):
        abort(400, description=f"{name} must be true or false")
    return True


def format_param() -> str:
    """``json`` (a page in the paging envelope) or ``ndjson`` (every record, one per line)."""
    value = request.args.get("format", "").strip().lower() or "json"
    if value not in FORMATS:
        abort(400, description=f"format must be one of {', '.join(FORMATS)}")
    return value


def datetime_param(name: str) -> datetime | None:
    """An ISO 8601 date or date-time (UTC when it names no offset); 400 when malformed."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), time(0, 0), tzinfo=UTC)
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        abort(400, description=f"{name} must be an ISO 8601 date or date-time")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def folded(text: str) -> str:
    """Lower case without accents, for matching words."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words_match(query: str, texts: Iterable[str]) -> bool:
    """True when every word of ``query`` occurs in one of ``texts`` (accents and case ignored)."""
    haystack = " ".join(folded(t) for t in texts if t)
    return all(word in haystack for word in folded(query).split())


@dataclass(frozen=True)
class TermFilter:
    """A ``taxonomy_term_id`` or ``taxonomy_id`` filter, resolved against the taxonomy."""

    vocabulary: str | None  # None: the id names no term or vocabulary, nothing matches
    code: str | None = None  # None with a vocabulary: any term of it

    @classmethod
    def for_term(cls, term_id_value: str) -> TermFilter:
        data = load_taxonomy()
        for name in data.terms:
            for term in data.vocabulary(name):
                if term.id == term_id_value:
                    return cls(term.vocabulary, term.code)
        return cls(None)

    @classmethod
    def for_taxonomy(cls, taxonomy_id_value: str) -> TermFilter:
        names = load_taxonomy().terms
        return cls(next((n for n in names if taxonomy_id(n) == taxonomy_id_value), None))

    def matches_term(self, term: Term) -> bool:
        """For taxonomy terms themselves."""
        return term.vocabulary == self.vocabulary and self.code in (None, term.code)


@dataclass(frozen=True)
class RecordFilters:
    """The filters of one list request, applied in SQL to organisations and services."""

    organization_ids: frozenset[str] | None = None  # from ``search``; None: no text filter
    terms: tuple[TermFilter, ...] = ()
    organization_id: str | None = None
    modified_after: datetime | None = None

    def organization_conditions(self, viewer: Viewer) -> list[ColumnElement[bool]]:
        """Conditions on ``Organization`` (an organisation record and what it nests)."""
        conditions: list[ColumnElement[bool]] = []
        if self.organization_ids is not None:
            conditions.append(Organization.id.in_(sorted(self.organization_ids)))
        if self.organization_id:
            conditions.append(Organization.id == self.organization_id)
        if self.modified_after is not None:
            conditions.append(Organization.updated_at >= self.modified_after)
        conditions.extend(_organization_term(viewer, term) for term in self.terms)
        return conditions

    def service_conditions(self) -> list[ColumnElement[bool]]:
        """Conditions on ``Service`` itself (its one attribute is its service type)."""
        conditions: list[ColumnElement[bool]] = []
        for term in self.terms:
            if term.vocabulary != "service_type":
                conditions.append(false())
            elif term.code is not None:
                conditions.append(Service.service_type == term.code)
        return conditions


def _organization_term(viewer: Viewer, term: TermFilter) -> ColumnElement[bool]:
    """An organisation carries the term: as its type, an attribute, or a visible service's type."""
    if term.vocabulary is None:
        return false()
    if term.vocabulary == "org_type":
        return true() if term.code is None else Organization.org_type == term.code
    if term.vocabulary == "service_type":
        service = [
            Service.organization_id == Organization.id,
            Service.visibility.in_(viewer.allowed()),
        ]
        if term.code is not None:
            service.append(Service.service_type == term.code)
        return exists(select(Service.id).where(and_(*service)))
    attribute = [
        Attribute.organization_id == Organization.id,
        Attribute.vocabulary == term.vocabulary,
    ]
    if term.code is not None:
        attribute.append(Attribute.term_code == term.code)
    return exists(select(Attribute.id).where(and_(*attribute)))


def term_filters() -> tuple[TermFilter, ...]:
    """The ``taxonomy_term_id`` and ``taxonomy_id`` filters of this request."""
    filters: list[TermFilter] = []
    if term := text_param("taxonomy_term_id"):
        filters.append(TermFilter.for_term(term))
    if vocabulary := text_param("taxonomy_id"):
        filters.append(TermFilter.for_taxonomy(vocabulary))
    return tuple(filters)


def any_of(conditions: list[ColumnElement[bool]]) -> ColumnElement[bool]:
    """OR of conditions (false for none)."""
    return or_(*conditions) if conditions else false()


def postcode_matches(location: dict[str, Any] | None, postcode: str) -> bool:
    """True when a served location has an address with this postal code (spaces, case ignored)."""
    wanted = postcode.replace(" ", "").upper()
    addresses = (location or {}).get("addresses", [])
    return any(a.get("postal_code", "").replace(" ", "").upper() == wanted for a in addresses)
