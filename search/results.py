"""Turning a stored document into a hit: highlights in the reader's language, badges, distance."""

from __future__ import annotations

from typing import Any

from directory.models import i18n_text
from search.highlight import Highlighter
from search.query import SearchHit

BADGES = (("is_24_7", "24_7"), ("cross_border", "cross_border"))


def build_hit(
    payload: dict[str, Any],
    highlighter: Highlighter | None,
    locale: str,
    distance_km: float | None = None,
    score: float = 0.0,
) -> SearchHit:
    """A hit from a document's stored payload."""
    name, _ = i18n_text(payload.get("name_i18n"), locale)
    name = name or payload["name"]
    highlights: dict[str, str] = {}
    if highlighter is not None:
        marked = highlighter.mark(name)
        if marked is not None:
            highlights["name"] = marked
        descriptions = payload.get("description") or {}
        shown, lang = i18n_text(descriptions, locale)
        # The reader's language first, then one other: enough to show why it matched.
        others = [text for key, text in descriptions.items() if key != lang][:1]
        for text in (shown, *others):
            marked = highlighter.mark(text, crop=180) if text else None
            if marked is not None:
                highlights["description"] = marked
                break
    return SearchHit(
        id=payload["id"],
        ref=payload["ref"],
        name=name,
        country=payload["country"],
        city=payload.get("city"),
        org_type=payload["org_type"],
        is_24_7=bool(payload.get("is_24_7")),
        cross_border=bool(payload.get("cross_border")),
        distance_km=None if distance_km is None else round(distance_km, 1),
        highlights=highlights,
        badges=[badge for key, badge in BADGES if payload.get(key)],
        score=score,
    )
