"""The network's own words across languages: query words → concepts, documents → concepts.

``search/data/domain-vocabulary.json`` lists, per concept (trafficking, labour exploitation,
victim, shelter, police, …), how it is written in NL/FR/DE/EN and which taxonomy codes make an
organisation about it. A query word (or words in a row) naming a concept matches every
organisation about that concept, whatever language its entry is written in; an organisation
whose type, services or name are the concept (a *specialist*) ranks above one that only works on
it (its exploitation forms or target groups), which ranks above one that mentions it in its
texts. Place names across languages are not here: ``search.places`` (town exonyms) and the
taxonomy's country labels already fill every document's ``places``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from search.analysis import (
    LANGUAGES,
    STOPWORDS,
    ConceptSpan,
    typo_budget,
    within_typos,
    words,
)

VOCABULARY_FILE = Path(__file__).resolve().parent / "data" / "domain-vocabulary.json"
# Where an organisation's concept comes from, best first (see ``document_concepts``).
TIERS = ("core", "tagged", "text")
CORE_CODES = ("org_type", "service_type")
TAGGED_CODES = ("exploitation_form", "target_group")
MAX_PHRASE = 6
MIN_PREFIX = 4


@dataclass(frozen=True)
class Concept:
    """One thing the network works on, its words (folded) and the codes that imply it."""

    id: str
    forms: tuple[tuple[str, ...], ...]
    codes: dict[str, frozenset[str]]


@cache
def concepts() -> dict[str, Concept]:
    """The domain vocabulary, by concept id."""
    data = json.loads(VOCABULARY_FILE.read_text(encoding="utf-8"))
    found = {}
    for concept_id, entry in data["concepts"].items():
        forms = {tuple(words(text)) for lang in LANGUAGES for text in entry.get(lang, ())}
        forms.discard(())
        codes = {name: frozenset(values) for name, values in entry.get("codes", {}).items()}
        found[concept_id] = Concept(concept_id, tuple(sorted(forms)), codes)
    return found


@cache
def _phrases() -> dict[str, dict[tuple[str, ...], tuple[str, ...]]]:
    """First word → its phrases → the concepts each names."""
    index: dict[str, dict[tuple[str, ...], set[str]]] = {}
    for concept in concepts().values():
        for form in concept.forms:
            index.setdefault(form[0], {}).setdefault(form, set()).add(concept.id)
    return {
        first: {form: tuple(sorted(ids)) for form, ids in forms.items()}
        for first, forms in index.items()
    }


def concepts_in(folded: list[str]) -> set[str]:
    """The concepts named anywhere in ``folded`` words (phrases as words in a row)."""
    phrases = _phrases()
    found: set[str] = set()
    for i, word in enumerate(folded):
        for form, ids in phrases.get(word, {}).items():
            if tuple(folded[i : i + len(form)]) == form:
                found.update(ids)
    return found


@cache
def _single_words() -> dict[str, tuple[tuple[str, tuple[str, ...]], ...]]:
    """First letter → the one-word forms starting with it and the concepts each names."""
    starts: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for first, forms in _phrases().items():
        for form, ids in forms.items():
            if len(form) == 1:
                starts.setdefault(first[0], []).append((form[0], ids))
    return {letter: tuple(sorted(items)) for letter, items in starts.items()}


def _near_concepts(word: str, prefix: bool) -> tuple[str, ...]:
    """Concepts a mistyped word (or, typed last, the start of one) names, by the engines' typo
    rules: same first letter, 1 typo from 5 letters, 2 from 9; a prefix from 4 letters."""
    budget = typo_budget(word)
    prefix = prefix and len(word) >= MIN_PREFIX
    if not budget and not prefix:
        return ()
    found: set[str] = set()
    for form, ids in _single_words().get(word[0], ()):
        if within_typos(word, form, budget, prefix=prefix):
            found.update(ids)
    return tuple(sorted(found))


def concept_spans(folded: list[str], prefix: bool = False) -> tuple[ConceptSpan, ...]:
    """Where query words name concepts: the longest phrase first, left to right; a word naming
    none may still name one with a typo (or, the last word when ``prefix``, by its start)."""
    phrases = _phrases()
    spans = []
    i = 0
    while i < len(folded):
        candidates = phrases.get(folded[i], {})
        for size in range(min(MAX_PHRASE, len(folded) - i), 0, -1):
            phrase = tuple(folded[i : i + size])
            if phrase in candidates and not all(w in STOPWORDS for w in phrase):
                spans.append(ConceptSpan(i, i + size, candidates[phrase]))
                i += size
                break
        else:
            if folded[i] not in STOPWORDS:
                near = _near_concepts(folded[i], prefix and i == len(folded) - 1)
                if near:
                    spans.append(ConceptSpan(i, i + 1, near))
            i += 1
    return tuple(spans)


def concept_forms(ids: Iterable[str]) -> set[tuple[str, ...]]:
    """Every way the concepts ``ids`` are written (for highlighting)."""
    table = concepts()
    return {form for i in ids if i in table for form in table[i].forms}


def _from_codes(codes: Mapping[str, Iterable[str]], vocabularies: tuple[str, ...]) -> set[str]:
    found = set()
    for concept in concepts().values():
        for name in vocabularies:
            if concept.codes.get(name, frozenset()) & set(codes.get(name, ())):
                found.add(concept.id)
    return found


@lru_cache(maxsize=8192)
def _text_concepts(text: str) -> frozenset[str]:
    """The concepts one text names (cached: most texts are taxonomy labels, the same few)."""
    return frozenset(concepts_in(words(text)))


def _from_texts(texts: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for text in texts:
        if text:
            found |= _text_concepts(text)
    return found


def document_concepts(
    *, codes: dict[str, list[str]], names: Iterable[str], texts: Iterable[str]
) -> dict[str, list[str]]:
    """An organisation's concepts by tier, each concept in its best tier only.

    ``core``: its type or services are the concept (by the codes the vocabulary lists), or its
    name names it; ``tagged``: its exploitation forms or target groups are; ``text``: only its
    texts (descriptions, services, the labels of its codes) mention it.
    """
    core = _from_codes(codes, CORE_CODES) | _from_texts(names)
    tagged = _from_codes(codes, TAGGED_CODES) - core
    text = _from_texts(texts) - core - tagged
    return {"core": sorted(core), "tagged": sorted(tagged), "text": sorted(text)}


def concept_term(tier: str, concept_id: str) -> str:
    """How an organisation's concept is indexed (embedded engine's ``concepts`` field)."""
    return f"{tier}:{concept_id}"
