"""The Open Referral HSDS 3.1 API under ``/hsds/``, as its official OpenAPI describes it.

Every operation answers GET and POST alike (POST takes the same query parameters; it only reads,
so it needs no CSRF token). Lists come in HSDS's paging envelope, or with ``format=ndjson`` as
every record, one per line. Same visibility rules as the JSON API: anonymous callers see public
entries, signed-in callers what their role may see, and a location's point is the one the
location rule gives the caller. ``lang`` (Liaison's own) picks the text language.
``docs/directory-formats.md`` has the conformance table.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from core.security import CSRF_READ_ONLY
from core.web import db_session
from directory.api import current_places, current_viewer, int_param, language_param
from directory.hsds import (
    HSDS_VERSION,
    derived_id,
    hsds_location,
    hsds_organization,
    hsds_service,
    hsds_taxonomy,
    hsds_taxonomy_term,
    organization_summary,
    service_summary,
)
from directory.hsds_query import (
    RecordFilters,
    TermFilter,
    bool_param,
    check_parameters,
    datetime_param,
    format_param,
    postcode_matches,
    term_filters,
    text_param,
    words_match,
)
from directory.models import Organization, Service
from directory.queries import FULL_ORGANISATION, get_organization, get_service
from directory.taxonomy import Term, load_taxonomy, taxonomy_id
from directory.visibility import Viewer, can_see_child, organization_filter

blueprint = Blueprint("hsds", __name__, url_prefix="/hsds")
PROFILE = "https://docs.openreferral.org/en/latest/hsds/profiles.html"
OPENAPI = "https://raw.githubusercontent.com/openreferral/specification/3.1/schema/openapi.json"
DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
SEARCH_LIMIT = 1000  # the most organisations one ``search`` term selects, best matches first
BOTH = ("GET", "POST")


def envelope(contents: list[Any], total: int, page: int, per_page: int) -> dict[str, Any]:
    """HSDS's paging envelope around one page of records."""
    pages = math.ceil(total / per_page)
    return {
        "total_items": total,
        "total_pages": pages,
        "page_number": page,
        "size": len(contents),
        "first_page": page == 1,
        "last_page": page >= pages,
        "empty": not contents,
        "contents": contents,
    }


def _paging() -> tuple[int, int]:
    return int_param("page", 1), int_param("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)


def _ndjson(records: Iterable[Any]) -> Response:
    """Every record, one JSON document per line."""
    lines = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
    return Response(lines, mimetype="application/x-ndjson")


def _answer(
    every: Callable[[], list[Any]], page_of: Callable[[int, int], tuple[list[Any], int]]
) -> Response:
    """A list answer: one page in the envelope, or every record as NDJSON."""
    if format_param() == "ndjson":
        return _ndjson(every())
    page, per_page = _paging()
    contents, total = page_of(page, per_page)
    return jsonify(envelope(contents, total, page, per_page))


def _in_memory(records: list[Any]) -> Callable[[int, int], tuple[list[Any], int]]:
    def page_of(page: int, per_page: int) -> tuple[list[Any], int]:
        start = (page - 1) * per_page
        return records[start : start + per_page], len(records)

    return page_of


def _searched_organizations(viewer: Viewer, lang: str) -> frozenset[str] | None:
    """The organisations the ``search`` term finds through the directory search, or None."""
    text = text_param("search")
    if text is None:
        return None
    from search.query import SearchQuery  # search depends on directory, not the other way

    engine = current_app.extensions["liaison.search"]
    found: list[str] = []
    page = 1
    while len(found) < SEARCH_LIMIT:
        query = SearchQuery(
            text=text, audience=viewer.audience, locale=lang, per_page=100, page=page, prefix=False
        )
        result = engine.search(query)
        found.extend(hit.id for hit in result.hits)
        if page >= result.pages:
            break
        page += 1
    return frozenset(found[:SEARCH_LIMIT])


def _filters(viewer: Viewer, lang: str) -> RecordFilters:
    return RecordFilters(
        organization_ids=_searched_organizations(viewer, lang),
        terms=term_filters(),
        organization_id=text_param("organization_id"),
        modified_after=datetime_param("modified_after"),
    )


# -- about ----------------------------------------------------------------------------------


@blueprint.route("/", methods=BOTH)
def about() -> ResponseReturnValue:
    """What this API is: HSDS 3.1 with Liaison's visibility rules."""
    check_parameters("about")
    return jsonify(
        {
            "version": HSDS_VERSION,
            "profile": PROFILE,
            "openapi_url": OPENAPI,
            "description": "Liaison directory of the Benelux anti-trafficking network. "
            "Anonymous callers see public entries; signed-in callers what their role may see.",
        }
    )


# -- organisations --------------------------------------------------------------------------


def _organizations_statement(viewer: Viewer, filters: RecordFilters) -> Any:
    return select(Organization).where(
        organization_filter(viewer), *filters.organization_conditions(viewer)
    )


@blueprint.route("/organizations", methods=BOTH)
def organizations() -> ResponseReturnValue:
    """Organisations: their one-to-one fields, or fully nested with ``full``/``full_service``."""
    check_parameters("organizations")
    lang = language_param()
    full_service = bool_param("full_service")
    full = bool_param("full") or full_service
    session, viewer = db_session(), current_viewer()
    statement = _organizations_statement(viewer, _filters(viewer, lang))
    places = current_places() if full else None

    def shown(rows: Iterable[Organization]) -> list[Any]:
        if not full:
            return [organization_summary(row, lang) for row in rows]
        return [
            hsds_organization(viewer, row, lang, places, full_service=full_service) for row in rows
        ]

    def rows(limit: int | None = None, offset: int = 0) -> list[Organization]:
        ordered = statement.options(*FULL_ORGANISATION).order_by(
            Organization.country, Organization.name, Organization.id
        )
        if limit is not None:
            ordered = ordered.limit(limit).offset(offset)
        return list(session.scalars(ordered))

    def page_of(page: int, per_page: int) -> tuple[list[Any], int]:
        total = _count(session, statement)
        return shown(rows(per_page, (page - 1) * per_page)), total

    return _answer(lambda: shown(rows()), page_of)


@blueprint.route("/organizations/<key>", methods=BOTH)
def organization(key: str) -> ResponseReturnValue:
    """One fully nested organisation with its services (fully nested with ``full_service``)."""
    check_parameters("organization")
    lang = language_param()
    full_service = bool_param("full_service")
    viewer = current_viewer()
    found = get_organization(db_session(), viewer, key)
    if found is None:
        abort(404, description="no organization with this id")
    return jsonify(
        hsds_organization(viewer, found, lang, current_places(), full_service=full_service)
    )


def _count(session: Session, statement: Any) -> int:
    inner = statement.with_only_columns(Organization.id).subquery()
    return int(session.scalar(select(func.count()).select_from(inner)) or 0)


# -- services -------------------------------------------------------------------------------


def _services_statement(viewer: Viewer, filters: RecordFilters) -> Any:
    return (
        select(Service)
        .join(Service.organization)
        .where(
            organization_filter(viewer),
            Service.visibility.in_(viewer.allowed()),
            *_organization_scope(viewer, filters),
            *filters.service_conditions(),
        )
    )


def _organization_scope(viewer: Viewer, filters: RecordFilters) -> list[Any]:
    """The organisation-level filters that select services: search, organisation, date."""
    scoped = RecordFilters(
        organization_ids=filters.organization_ids,
        organization_id=filters.organization_id,
        modified_after=filters.modified_after,
    )
    return scoped.organization_conditions(viewer)


def _service_rows(
    session: Session, statement: Any, limit: int | None, offset: int
) -> list[Service]:
    ordered = statement.options(
        selectinload(Service.organization).options(*FULL_ORGANISATION)
    ).order_by(Organization.name, Organization.id, Service.position, Service.id)
    if limit is not None:
        ordered = ordered.limit(limit).offset(offset)
    return list(session.scalars(ordered))


def _service_count(session: Session, statement: Any) -> int:
    inner = statement.with_only_columns(Service.id).subquery()
    return int(session.scalar(select(func.count()).select_from(inner)) or 0)


@blueprint.route("/services", methods=BOTH)
def services() -> ResponseReturnValue:
    """Services: one-to-one fields, fully nested with ``full``, or just ids with ``minimal``."""
    check_parameters("services")
    lang = language_param()
    full, minimal = bool_param("full"), bool_param("minimal")
    if full and minimal:
        abort(400, description="full and minimal cannot both be true")
    session, viewer = db_session(), current_viewer()
    statement = _services_statement(viewer, _filters(viewer, lang))

    def shown(rows: list[Service]) -> list[Any]:
        if minimal:
            return [_minimal_service(row, lang) for row in rows]
        if full:
            return [hsds_service(viewer, row, lang, nested=True) for row in rows]
        return [service_summary(row, lang) for row in rows]

    if format_param() == "ndjson":
        return _ndjson(shown(_service_rows(session, statement, None, 0)))
    total = _service_count(session, statement)
    # With minimal, "aim to return all services within one call": one page holds them all.
    default = max(total, 1) if minimal else DEFAULT_PER_PAGE
    page = int_param("page", 1)
    per_page = int_param("per_page", default, max(default, MAX_PER_PAGE))
    rows = _service_rows(session, statement, per_page, (page - 1) * per_page)
    return jsonify(envelope(shown(rows), total, page, per_page))


def _minimal_service(service: Service, lang: str) -> dict[str, Any]:
    """A service's id and modification time (with the name and status its schema requires)."""
    summary = service_summary(service, lang)
    return {key: summary[key] for key in ("id", "name", "status", "last_modified")}


@blueprint.route("/services/<service_id>", methods=BOTH)
def service(service_id: str) -> ResponseReturnValue:
    """One fully nested service with its organisation, phones and contact points."""
    check_parameters("record")
    lang = language_param()
    viewer = current_viewer()
    found = get_service(db_session(), viewer, service_id)
    if found is None:
        abort(404, description="no service with this id")
    return jsonify(hsds_service(viewer, found, lang, nested=True))


# -- services at locations --------------------------------------------------------------------


def _services_at_locations(
    viewer: Viewer, rows: list[Service], lang: str, full: bool
) -> list[dict[str, Any]]:
    """Each visible service at each of its organisation's locations the viewer may see."""
    places = current_places()
    records: list[dict[str, Any]] = []
    for row in rows:
        organization = row.organization
        summary = service_summary(row, lang)
        summary.pop("organization", None)
        for location in organization.locations:
            if not can_see_child(viewer, organization, location.visibility):
                continue
            shown = hsds_location(viewer, organization, location, lang, places)
            if shown is None:
                continue
            record: dict[str, Any] = {
                "id": derived_id("service-at-location", row.id, location.id),
                "service_id": row.id,
                "location_id": location.id,
                "location": shown,
                "service": summary,
            }
            if full:
                nested = hsds_service(viewer, row, lang, nested=True)
                nested.pop("organization", None)
                record.update(
                    {
                        "service": nested,
                        "contacts": nested.get("contacts", []),
                        "phones": nested.get("phones", []),
                        "schedules": nested.get("schedules", []),
                        "service_areas": nested.get("service_areas", []),
                        "attributes": nested.get("attributes", []),
                    }
                )
            records.append(record)
    return records


def _all_services_at_locations(full: bool) -> list[dict[str, Any]]:
    lang = language_param()
    session, viewer = db_session(), current_viewer()
    statement = _services_statement(viewer, _filters(viewer, lang))
    records = _services_at_locations(viewer, _service_rows(session, statement, None, 0), lang, full)
    postcode = text_param("postcode")
    if postcode is not None:
        records = [r for r in records if postcode_matches(r["location"], postcode)]
    return records


@blueprint.route("/service_at_locations", methods=BOTH)
def service_at_locations() -> ResponseReturnValue:
    """Services at the locations where they are offered (a pair per service and location)."""
    check_parameters("service_at_locations")
    records = _all_services_at_locations(bool_param("full"))
    return _answer(lambda: records, _in_memory(records))


@blueprint.route("/service_at_locations/<record_id>", methods=BOTH)
def service_at_location(record_id: str) -> ResponseReturnValue:
    """One service at one location, fully nested."""
    check_parameters("record")
    found = next((r for r in _all_services_at_locations(True) if r["id"] == record_id), None)
    if found is None:
        abort(404, description="no service_at_location with this id")
    return jsonify(found)


# -- taxonomies -------------------------------------------------------------------------------


@blueprint.route("/taxonomies", methods=BOTH)
def taxonomies() -> ResponseReturnValue:
    """The taxonomy's vocabularies."""
    check_parameters("taxonomies")
    data = load_taxonomy()
    every = [hsds_taxonomy(name, data) for name in data.terms]
    text = text_param("search")
    if text is not None:
        every = [t for t in every if words_match(text, (t["name"], t["description"]))]
    return _answer(lambda: every, _in_memory(every))


@blueprint.route("/taxonomies/<vocabulary_id>", methods=BOTH)
def taxonomy(vocabulary_id: str) -> ResponseReturnValue:
    """One vocabulary."""
    check_parameters("record")
    data = load_taxonomy()
    found = next((name for name in data.terms if taxonomy_id(name) == vocabulary_id), None)
    if found is None:
        abort(404, description="no taxonomy with this id")
    return jsonify(hsds_taxonomy(found, data))


@blueprint.route("/taxonomy_terms", methods=BOTH)
def taxonomy_terms() -> ResponseReturnValue:
    """The taxonomy's terms; every term is a top-level term (the vocabularies are flat)."""
    check_parameters("taxonomy_terms")
    lang = language_param()
    bool_param("top_only")  # validated; every term is top-level, so it narrows nothing
    wanted = text_param("taxonomy_id")
    vocabulary = TermFilter.for_taxonomy(wanted) if wanted is not None else None
    parent = text_param("parent_id")
    text = text_param("search")
    terms = [
        term
        for term in _all_terms()
        if (vocabulary is None or vocabulary.matches_term(term))
        and parent is None  # no term has a parent: a parent_id matches none
        and (text is None or words_match(text, (term.code, *term.labels.values())))
    ]
    every = [hsds_taxonomy_term(term, lang) for term in terms]
    return _answer(lambda: every, _in_memory(every))


@blueprint.route("/taxonomy_terms/<term_id>", methods=BOTH)
def taxonomy_term(term_id: str) -> ResponseReturnValue:
    """One term."""
    check_parameters("record")
    lang = language_param()
    found = next((term for term in _all_terms() if term.id == term_id), None)
    if found is None:
        abort(404, description="no taxonomy term with this id")
    return jsonify(hsds_taxonomy_term(found, lang))


def _all_terms() -> list[Term]:
    data = load_taxonomy()
    return [term for name in data.terms for term in data.vocabulary(name)]


def register_hsds(app: Flask) -> None:
    """Mount the HSDS API; its POST forms only read, so they need no CSRF token."""
    app.register_blueprint(blueprint)
    read_only = app.extensions.setdefault(CSRF_READ_ONLY, set())
    read_only.update(
        f"hsds.{name}"
        for name in (
            "about",
            "organizations",
            "organization",
            "services",
            "service",
            "service_at_locations",
            "service_at_location",
            "taxonomies",
            "taxonomy",
            "taxonomy_terms",
            "taxonomy_term",
        )
    )
