"""The Open Referral HSDS 3.1 API under ``/hsds/``, with HSDS's paging envelope.

Same visibility rules as the JSON API: anonymous callers see public entries, signed-in callers
what their role may see. ``page``/``per_page`` page the lists; ``lang`` picks the text language.
"""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, Flask, abort, jsonify, request
from flask.typing import ResponseReturnValue

from core.web import db_session
from directory.api import current_places, current_viewer, language_param, paging_params
from directory.hsds import (
    HSDS_VERSION,
    hsds_organization,
    hsds_service,
    hsds_taxonomy,
    hsds_taxonomy_term,
    organization_summary,
    service_summary,
)
from directory.queries import (
    count_organizations,
    count_services,
    get_organization,
    get_service,
    list_organizations,
    list_services,
)
from directory.taxonomy import Term, load_taxonomy, taxonomy_id

blueprint = Blueprint("hsds", __name__, url_prefix="/hsds")
PROFILE = "https://docs.openreferral.org/en/latest/hsds/profiles.html"
OPENAPI = "https://raw.githubusercontent.com/openreferral/specification/3.1/schema/openapi.json"
DEFAULT_PER_PAGE = 50


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


@blueprint.get("/")
def about() -> ResponseReturnValue:
    """What this API is: HSDS 3.1 with Liaison's visibility rules."""
    return jsonify(
        {
            "version": HSDS_VERSION,
            "profile": PROFILE,
            "openapi_url": OPENAPI,
            "description": "Liaison directory of the Benelux anti-trafficking network. "
            "Anonymous callers see public entries; signed-in callers what their role may see.",
        }
    )


@blueprint.get("/organizations")
def organizations() -> ResponseReturnValue:
    """A page of organisations (their one-to-one fields)."""
    lang = language_param()
    page, per_page = paging_params(DEFAULT_PER_PAGE)
    session, viewer = db_session(), current_viewer()
    total = count_organizations(session, viewer)
    rows = list_organizations(session, viewer, limit=per_page, offset=(page - 1) * per_page)
    contents = [organization_summary(row, lang) for row in rows]
    return jsonify(envelope(contents, total, page, per_page))


@blueprint.get("/organizations/<key>")
def organization(key: str) -> ResponseReturnValue:
    """One fully nested organisation with its services."""
    lang = language_param()
    viewer = current_viewer()
    found = get_organization(db_session(), viewer, key)
    if found is None:
        abort(404, description="no organization with this id")
    return jsonify(hsds_organization(viewer, found, lang, current_places()))


@blueprint.get("/services")
def services() -> ResponseReturnValue:
    """A page of services, optionally of one organisation (``organization_id``)."""
    lang = language_param()
    page, per_page = paging_params(DEFAULT_PER_PAGE)
    organization_id = request.args.get("organization_id") or None
    session, viewer = db_session(), current_viewer()
    total = count_services(session, viewer, organization_id=organization_id)
    rows = list_services(
        session,
        viewer,
        organization_id=organization_id,
        limit=per_page,
        offset=(page - 1) * per_page,
    )
    contents = [service_summary(row, lang) for row in rows]
    return jsonify(envelope(contents, total, page, per_page))


@blueprint.get("/services/<service_id>")
def service(service_id: str) -> ResponseReturnValue:
    """One fully nested service with its organisation, phones and contact points."""
    lang = language_param()
    viewer = current_viewer()
    found = get_service(db_session(), viewer, service_id)
    if found is None:
        abort(404, description="no service with this id")
    return jsonify(hsds_service(viewer, found, lang, nested=True))


@blueprint.get("/taxonomies")
def taxonomies() -> ResponseReturnValue:
    """The taxonomy's vocabularies."""
    page, per_page = paging_params(DEFAULT_PER_PAGE)
    data = load_taxonomy()
    every = [hsds_taxonomy(name, data) for name in data.terms]
    return jsonify(_page_of(every, page, per_page))


@blueprint.get("/taxonomies/<vocabulary_id>")
def taxonomy(vocabulary_id: str) -> ResponseReturnValue:
    """One vocabulary."""
    data = load_taxonomy()
    found = next((name for name in data.terms if taxonomy_id(name) == vocabulary_id), None)
    if found is None:
        abort(404, description="no taxonomy with this id")
    return jsonify(hsds_taxonomy(found, data))


@blueprint.get("/taxonomy_terms")
def taxonomy_terms() -> ResponseReturnValue:
    """The taxonomy's terms, optionally of one vocabulary (``taxonomy_id``)."""
    lang = language_param()
    page, per_page = paging_params(DEFAULT_PER_PAGE)
    wanted = request.args.get("taxonomy_id") or None
    every = [
        hsds_taxonomy_term(term, lang)
        for term in _all_terms()
        if wanted is None or taxonomy_id(term.vocabulary) == wanted
    ]
    return jsonify(_page_of(every, page, per_page))


@blueprint.get("/taxonomy_terms/<term_id>")
def taxonomy_term(term_id: str) -> ResponseReturnValue:
    """One term."""
    lang = language_param()
    found = next((term for term in _all_terms() if term.id == term_id), None)
    if found is None:
        abort(404, description="no taxonomy term with this id")
    return jsonify(hsds_taxonomy_term(found, lang))


def _all_terms() -> list[Term]:
    data = load_taxonomy()
    return [term for name in data.terms for term in data.vocabulary(name)]


def _page_of(every: list[Any], page: int, per_page: int) -> dict[str, Any]:
    start = (page - 1) * per_page
    return envelope(every[start : start + per_page], len(every), page, per_page)


def register_hsds(app: Flask) -> None:
    """Mount the HSDS API."""
    app.register_blueprint(blueprint)
