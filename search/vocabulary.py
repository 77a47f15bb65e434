"""The index's words, grouped by first letter, to find the words a typo could stand for.

Finding them here (rapidfuzz, in C++) and asking the index for those exact words is much cheaper
than letting the index build a Levenshtein automaton per word and field. As people rarely
mistype the first letter, and Meilisearch counts such a typo double, candidates share the
query word's first letter.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable

from rapidfuzz import process
from rapidfuzz.distance import OSA

MAX_EXPANSIONS = 64


class Vocabulary:
    """Distinct indexed words of one field."""

    def __init__(self, terms: Iterable[str] = ()) -> None:
        self._buckets: dict[str, set[str]] = {}
        self._lists: dict[str, list[str]] = {}
        self._by_length: dict[str, dict[int, list[str]]] = {}
        self.add(terms)

    def add(self, terms: Iterable[str]) -> None:
        """Learn more words (from documents just indexed)."""
        for term in terms:
            if term:
                bucket = self._buckets.setdefault(term[0], set())
                if term not in bucket:
                    bucket.add(term)
                    self._lists.pop(term[0], None)
                    self._by_length.pop(term[0], None)

    def __len__(self) -> int:
        return sum(len(b) for b in self._buckets.values())

    def _sorted(self, first: str) -> list[str]:
        choices = self._lists.get(first)
        if choices is None:
            choices = self._lists[first] = sorted(self._buckets.get(first, ()))
        return choices

    def _lengths(self, first: str) -> dict[int, list[str]]:
        """The words starting with ``first`` by length, each list in alphabetical order."""
        lengths = self._by_length.get(first)
        if lengths is None:
            lengths = {}
            for term in self._sorted(first):
                lengths.setdefault(len(term), []).append(term)
            self._by_length[first] = lengths
        return lengths

    def starting_with(self, prefix: str) -> list[str] | None:
        """Known words starting with ``prefix``; None when there are too many to list."""
        if not prefix:
            return None
        choices = self._sorted(prefix[0])
        found = []
        for term in choices[bisect_left(choices, prefix) :]:
            if not term.startswith(prefix):
                break
            found.append(term)
            if len(found) > MAX_EXPANSIONS:
                return None
        return found

    def typos(self, word: str, budget: int) -> dict[int, list[str]]:
        """Known words 1..``budget`` edits from ``word`` (same first letter), by distance.

        At most MAX_EXPANSIONS + 1 of them (the nearest, then alphabetically); only words
        whose length is within the budget can be near enough, so only those are compared.
        """
        if budget <= 0 or not word:
            return {}
        first = word[0]
        if first not in self._buckets:
            return {}
        lengths = self._lengths(first)
        found: list[tuple[int, str]] = []
        for length in range(len(word) - budget, len(word) + budget + 1):
            choices = lengths.get(length)
            if choices:
                found += [
                    (int(distance), term)
                    for term, distance, _ in process.extract(
                        word,
                        choices,
                        scorer=OSA.distance,
                        score_cutoff=budget,
                        limit=MAX_EXPANSIONS + 1,
                    )
                ]
        found.sort()
        by_distance: dict[int, list[str]] = {}
        for distance, term in found[: MAX_EXPANSIONS + 1]:
            if term != word:
                by_distance.setdefault(distance, []).append(term)
        return by_distance
