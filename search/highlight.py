"""Highlighted matches: escaped text with ``<mark>`` around the words that matched the query.

Everything from the directory is escaped first, so a name such as ``<script>`` is shown as text;
the only markup in a highlight is ``<mark>`` and ``</mark>``, added here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from markupsafe import escape
from rapidfuzz import process
from rapidfuzz.distance import OSA

from search.analysis import LANGUAGES, STOPWORDS, QueryPlan, stem, within_typos, words
from search.domain import concept_forms

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
        # The words of the domain concepts the query names (search.domain), in every language.
        named = [c for span in plan.concepts for c in span.concepts]
        self.synonym_words |= {
            word for form in concept_forms(named) for word in form if word not in STOPWORDS
        }
        self.stems = {(w.text, lang): stem(w.text, lang) for w in plan.words for lang in LANGUAGES}
        # The same rules as a loop over the words, grouped so that most tokens are decided by
        # a few set look-ups: exact words, prefixes, stems per language, then typos.
        self._exact = self.synonym_words | {w.text for w in plan.words}
        self._prefixes = tuple(w.text for w in plan.words if w.prefix)
        self._stems = [
            (lang, {self.stems[(w.text, lang)] for w in plan.words if len(w.text) > 3})
            for lang in LANGUAGES
        ]
        self._typos = [(w.text, w.budget, w.prefix) for w in plan.words if w.budget]
        self._cache: dict[str, bool] = {}

    def matches(self, token: str) -> bool:
        """True when the folded ``token`` matches one of the query's words."""
        found = self._cache.get(token)
        if found is None:
            found = self._cache[token] = self._matches(token)
        return found

    def prepare(self, texts: Iterable[str]) -> None:
        """Decide at once for every word of ``texts`` (before marking them): the typo
        comparisons then run as a few batches in C instead of one call per word."""
        fresh = {_fold(m.group()) for text in texts if text for m in _WORD.finditer(text)}
        left = []
        for token in fresh - self._cache.keys():
            if self._close(token):
                self._cache[token] = True
            else:
                left.append(token)
        matched: set[str] = set()
        for text, budget, prefix in self._typos:
            pool = [t for t in left if t not in matched]
            if not prefix:
                pool = [t for t in pool if abs(len(text) - len(t)) <= budget]
            lengths = range(max(1, len(text) - budget), len(text) + budget + 1) if prefix else [0]
            for length in lengths:
                starts = [t[:length] for t in pool] if prefix else pool
                found = process.extract(
                    text, starts, scorer=OSA.distance, score_cutoff=budget, limit=None
                )
                matched.update(pool[index] for _, _, index in found)
        for token in left:
            self._cache[token] = token in matched

    def _close(self, token: str) -> bool:
        """True when the token is a query word, starts with a prefix or shares a stem."""
        if token in self._exact or token.startswith(self._prefixes):
            return True
        return any(stems and stem(token, lang) in stems for lang, stems in self._stems)

    def _matches(self, token: str) -> bool:
        if self._close(token):
            return True
        return any(
            (prefix or abs(len(text) - len(token)) <= budget)
            and within_typos(text, token, budget, prefix)
            for text, budget, prefix in self._typos
        )

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
