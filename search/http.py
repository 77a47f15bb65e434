"""Search blueprint: the search page and ``GET /api/v1/search`` (its health: search.readiness)."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, current_app, g, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import event

from config import Settings
from core.api_schema import describe
from core.db import Database
from core.i18n import current_locale, gettext, ngettext
from directory.taxonomy import load_taxonomy
from directory.visibility import viewer_for
from search.openapi import SEARCH
from search.params import parse_search
from search.query import FACET_FIELDS, InvalidQuery, SearchPage, SearchQuery
from search.service import SearchService

log = logging.getLogger("liaison.search.http")
bp = Blueprint("search", __name__)
RADII = (5, 10, 25, 50, 100)
FACET_TOP = 8  # a facet shows its most frequent values; the rest behind a "more" control


def service() -> SearchService:
    """The app's search service, following the change log from the first search it serves."""
    search_service: SearchService = current_app.extensions["liaison.search"]
    search_service.start()
    return search_service


def _query_from_request() -> SearchQuery:
    audience = viewer_for(g.get("user")).audience
    return parse_search(
        request.args.get,
        request.args.getlist,
        lambda: service().places,
        audience=audience,
        locale=current_locale(),
    )


@bp.get("/api/v1/search")
def api_search() -> ResponseReturnValue:
    """Search the directory as the caller's role allows."""
    try:
        query = _query_from_request()
    except InvalidQuery as error:
        return jsonify({"error": "Invalid search", "status": 400, "detail": str(error)}), 400
    return jsonify(service().search(query).to_dict())


describe(api_search, SEARCH)


def _facet_options(page: SearchPage | None, query: SearchQuery | None) -> dict[str, list[Any]]:
    taxonomy, locale = load_taxonomy(), current_locale()
    options: dict[str, list[Any]] = {}
    for name in FACET_FIELDS:
        counts = dict(page.facets.get(name, {})) if page else {}
        chosen = query.filter_values(name) if query else ()
        for value in chosen:
            counts.setdefault(value, 0)
        rows = [
            {
                "value": value,
                "label": taxonomy.label(name, value, locale),
                "count": count,
                "checked": value in chosen,
            }
            for value, count in counts.items()
        ]
        options[name] = sorted(rows, key=lambda r: (not r["checked"], -r["count"], r["label"]))
    return options


def _page_url(number: int) -> str:
    args = request.args.to_dict(flat=False)
    args["page"] = [str(number)]
    return "?" + urlencode(args, doseq=True)


@bp.get("/search")
def page() -> ResponseReturnValue:
    """The search page: a plain GET form that works without JavaScript."""
    error: str | None = None
    query: SearchQuery | None = None
    result: SearchPage | None = None
    try:
        query = _query_from_request()
    except InvalidQuery as bad:
        error = str(bad)
    if query is not None:
        result = service().search(query)
    partial = request.headers.get("X-Liaison-Partial")
    facets = _facet_options(result, query)
    context = {
        "query": query,
        "result": result,
        "error": error,
        "args": request.args,
        "facets": facets,
        "facet_top": FACET_TOP,
        "availability": _availability(result),
        "taxonomy": load_taxonomy(),
        "radii": RADII,
        "facet_fields": FACET_FIELDS,
        "page_url": _page_url,
    }
    status = 400 if error else 200
    if partial == "json":
        # Search-as-you-type: the results fragment with the facet counts of the same search,
        # so that the page refreshes both (and announces the count) in one go.
        return jsonify(
            {
                "html": render_template("search/_results.html", **context),
                "facets": facets,
                "availability": context["availability"],
                "total": result.total if result else 0,
                "announce": _announcement(result, error),
            }
        ), status
    template = "search/_results.html" if partial == "results" else "search/index.html"
    return render_template(template, **context), status


def _availability(page: SearchPage | None) -> dict[str, int | None]:
    """The counts beside the yes/no filters (None when the search counted nothing)."""
    counts: dict[str, int | None] = {}
    for name in ("is_24_7", "cross_border"):
        facet = page.facets.get(name) if page else None
        counts[name] = facet.get("true", 0) if facet else None
    return counts


def _announcement(page: SearchPage | None, error: str | None) -> str:
    """What a screen reader hears after the results change."""
    if error:
        return f"{gettext('This search could not be run:')} {error}"
    if page is None or not page.total:
        return gettext("No organisation matches this search.")
    return ngettext("%(count)s organisation found", "%(count)s organisations found", page.total)


def init_search(app: Flask, settings: Settings, database: Database) -> None:
    """Register search routes and the after-commit indexer (no I/O here: all on first use)."""
    search_service = SearchService(settings, database)
    app.extensions["liaison.search"] = search_service
    app.extensions.setdefault("liaison.closers", []).append(search_service.close)
    event.listen(database.sessions, "after_commit", search_service.after_commit)
    if settings.production:
        # Follow the change log from the start (elsewhere: from the first search served or the
        # first change committed), so changes made through other hosts reach this host's index
        # within a second or two.
        search_service.start()
    app.register_blueprint(bp)
