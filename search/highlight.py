"""Highlighted matches: escaped text with ``<mark>`` around the words that matched the query.

Everything from the directory is escaped first, so a name such as ``<script>`` is shown as text;
the only markup in a highlight is ``<mark>`` and ``</mark>``, added here.
"""

from __future__ import annotations

import re
from functools import lru_cache

from markupsafe import escape

from search.analysis import LANGUAGES, QueryPlan, stem, within_typos, words

_WORD = re.compile(r"\w+", re.UNICODE)


@lru_cache(maxsize=50_000)
def _fold(token: str) -> str:
    folded = words(token)
    return folded[0] if folded else ""


class Highlighter:
    """Decides which words of a text match a query plan (same rules as the engines)."""

    def __init__(self, plan: QueryPlan) -> None:
        self.plan = plan
        self.synonym_words = {
            word for span in plan.spans for form in span.alternatives for word in form
        }
        self.stems = {(w.text, lang): stem(w.text, lang) for w in plan.words for lang in LANGUAGES}
        self._cache: dict[str, bool] = {}

    def matches(self, token: str) -> bool:
        """True when the folded ``token`` matches one of the query's words."""
        if token in self._cache:
            return self._cache[token]
        found = token in self.synonym_words
        for word in self.plan.words:
            if found:
                break
            if (
                token == word.text
                or (word.prefix and token.startswith(word.text))
                or (word.budget and within_typos(word.text, token, word.budget, word.prefix))
                or (
                    len(word.text) > 3
                    and any(
                        stem(token, lang) == self.stems[(word.text, lang)] for lang in LANGUAGES
                    )
                )
            ):
                found = True
        self._cache[token] = found
        return found

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Character ranges of matching words in ``text``."""
        return [
            (m.start(), m.end()) for m in _WORD.finditer(text) if self.matches(_fold(m.group()))
        ]

    def mark(self, text: str, crop: int | None = None) -> str | None:
        """Escaped ``text`` with matches in ``<mark>``; cropped around the first match; None if
        nothing matched."""
        spans = self.spans(text)
        if not spans:
            return None
        start, end = 0, len(text)
        if crop is not None and len(text) > crop:
            start = max(0, spans[0][0] - crop // 4)
            if start:
                start = text.rfind(" ", 0, start) + 1  # begin on a whole word
            end = min(len(text), start + crop)
            if end < len(text) and " " in text[spans[0][1] : end]:
                end = text.rfind(" ", spans[0][1], end)  # and end on one
            spans = [s for s in spans if s[0] >= start and s[1] <= end]
        parts: list[str] = ["…" if start > 0 else ""]
        cursor = start
        for begin, finish in spans:
            parts.append(str(escape(text[cursor:begin])))
            parts.append(f"<mark>{escape(text[begin:finish])}</mark>")
            cursor = finish
        parts.append(str(escape(text[cursor:end])))
        if end < len(text):
            parts.append("…")
        return "".join(parts)
