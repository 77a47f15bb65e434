"""Reading a search from request parameters (API, page, CLI), with clear errors for bad input."""

from __future__ import annotations

import math
from collections.abc import Callable

from directory.taxonomy import load_taxonomy
from search.places import Gazetteer
from search.query import FACET_FIELDS, MAX_PER_PAGE, SORTS, GeoPoint, InvalidQuery, SearchQuery

VOCABULARY = {
    "country": "country",
    "org_type": "org_type",
    "exploitation_form": "exploitation_form",
    "target_group": "target_group",
    "service_type": "service_type",
    "language": "language",
}
MAX_TEXT = 200


def _bool(name: str, raw: str | None) -> bool | None:
    if raw is None or raw == "":
        return None
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise InvalidQuery(f"{name} must be true or false, not {raw!r}")


def _number(name: str, raw: str | None, kind: Callable[[str], float] = float) -> float | None:
    if raw is None or raw.strip() == "":
        return None
    try:
        value = kind(raw.strip())
    except ValueError:
        raise InvalidQuery(f"{name} must be a number, not {raw!r}") from None
    if not math.isfinite(value):
        raise InvalidQuery(f"{name} must be a finite number")
    return value


def parse_search(  # noqa: PLR0912 - one branch per parameter reads best
    get: Callable[[str], str | None],
    get_list: Callable[[str], list[str]],
    places: Callable[[], Gazetteer],
    audience: str,
    locale: str,
) -> SearchQuery:
    """A ``SearchQuery`` from parameters; raises ``InvalidQuery`` naming the bad parameter."""
    text = (get("q") or "").strip()
    if len(text) > MAX_TEXT:
        raise InvalidQuery(f"q must be at most {MAX_TEXT} characters")
    taxonomy = load_taxonomy()
    filters: dict[str, tuple[str, ...]] = {}
    for name in FACET_FIELDS:
        values = [v.strip() for raw in get_list(name) for v in raw.split(",") if v.strip()]
        if name == "country":
            values = [v.upper() for v in values]
        unknown = [v for v in values if taxonomy.get(VOCABULARY[name], v) is None]
        if unknown:
            raise InvalidQuery(f"unknown {name} code(s): {', '.join(unknown)}")
        if values:
            filters[name] = tuple(dict.fromkeys(values))
    near_name = (get("near") or "").strip()
    lat, lon = _number("lat", get("lat")), _number("lon", get("lon"))
    near: GeoPoint | None = None
    if near_name and (lat is not None or lon is not None):
        raise InvalidQuery("give either near or lat and lon, not both")
    if (lat is None) != (lon is None):
        raise InvalidQuery("lat and lon go together: give both or neither")
    if lat is not None and lon is not None:
        near = GeoPoint(lat, lon)
    elif near_name:
        near = places().point(near_name)
        if near is None:
            raise InvalidQuery(f"unknown town {near_name!r}: give a Benelux town or lat and lon")
    radius = _number("radius_km", get("radius_km"))
    if radius is not None and radius <= 0:
        raise InvalidQuery("radius_km must be more than 0")
    sort = (get("sort") or "").strip() or ("distance" if near else "relevance")
    if sort not in SORTS:
        raise InvalidQuery(f"sort must be one of {', '.join(SORTS)}")
    page = _number("page", get("page"), int)
    per_page = _number("per_page", get("per_page"), int)
    if per_page is not None and per_page > MAX_PER_PAGE:
        raise InvalidQuery(f"per_page must be at most {MAX_PER_PAGE}")
    if page is not None and page > 10_000:
        raise InvalidQuery("page must be at most 10000")
    return SearchQuery(
        text=text,
        filters=filters,
        is_24_7=_bool("is_24_7", get("is_24_7")),
        cross_border=_bool("cross_border", get("cross_border")),
        near=near,
        radius_km=radius,
        sort=sort,
        page=int(page) if page is not None else 1,
        per_page=int(per_page) if per_page is not None else 20,
        audience=audience,
        locale=locale,
        prefix=(get("prefix") or "true").lower() not in {"0", "false", "no"},
    )
