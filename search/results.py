"""Turning a stored document into a hit: highlights in the reader's language, badges, distance."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from directory.models import i18n_text
from search.highlight import Highlighter
from search.query import SearchHit

BADGES = (("is_24_7", "24_7"), ("cross_border", "cross_border"))


def _texts(payload: dict[str, Any], locale: str) -> tuple[str, list[str]]:
    """The name shown in ``locale`` and the descriptions a hit may highlight, in order."""
    name, _ = i18n_text(payload.get("name_i18n"), locale)
    descriptions = payload.get("description") or {}
    shown, lang = i18n_text(descriptions, locale)
    # The reader's language first, then one other: enough to show why it matched.
    others = [text for key, text in descriptions.items() if key != lang][:1]
    return name or payload["name"], [shown, *others]


def shown_distance(distance_km: float | None, audience: str) -> float | None:
    """The distance a hit shows: to 100 m for the secretariat, else in whole kilometres.

    Other callers' distances are measured from the point ``directory.points`` gives them (a
    confidential address's town centre) and rounded, so that answers from several places
    cannot be combined into a position finer than the town.
    """
    if distance_km is None:
        return None
    return round(distance_km, 1) if audience == "secretariat" else round(distance_km)


def build_hits(
    rows: Sequence[tuple[dict[str, Any], float | None, float]],
    highlighter: Highlighter | None,
    locale: str,
    audience: str,
) -> list[SearchHit]:
    """Hits from (payload, distance, score) rows, their words highlighted in one go."""
    if highlighter is not None:
        texts = [_texts(payload, locale) for payload, _, _ in rows]
        highlighter.prepare(t for name, descriptions in texts for t in (name, *descriptions))
    return [build_hit(p, highlighter, locale, d, s, audience=audience) for p, d, s in rows]


def build_hit(
    payload: dict[str, Any],
    highlighter: Highlighter | None,
    locale: str,
    distance_km: float | None = None,
    score: float = 0.0,
    *,
    audience: str,
) -> SearchHit:
    """A hit from a document's stored payload."""
    name, descriptions = _texts(payload, locale)
    highlights: dict[str, str] = {}
    if highlighter is not None:
        marked = highlighter.mark(name)
        if marked is not None:
            highlights["name"] = marked
        for text in descriptions:
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
        distance_km=shown_distance(distance_km, audience),
        highlights=highlights,
        badges=[badge for key, badge in BADGES if payload.get(key)],
        score=score,
    )
