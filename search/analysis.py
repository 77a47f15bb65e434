"""How text becomes words for search: folding, stemming, typo budget, synonyms, "near <town>".

The same rules serve indexing, querying and highlighting, so a highlighted word is always one
that made the organisation match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import tantivy
from rapidfuzz.distance import OSA

from directory.taxonomy import TaxonomyData, load_taxonomy

LANGUAGES = ("nl", "fr", "de", "en")
STEMMERS = {"nl": "dutch", "fr": "french", "de": "german", "en": "english"}

# Words that carry no meaning on their own; a query still needs its other words to match.
STOPWORDS = frozenset(
    [
        "de",
        "het",
        "een",
        "van",
        "voor",
        "in",
        "op",
        "en",
        "te",
        "met",
        "bij",
        "aan",
        "of",
        "door",
        "naar",
        "om",
        "le",
        "la",
        "les",
        "l",
        "d",
        "du",
        "des",
        "un",
        "une",
        "et",
        "a",
        "au",
        "aux",
        "pour",
        "en",
        "dans",
        "sur",
        "avec",
        "par",
        "ou",
        "der",
        "die",
        "das",
        "den",
        "dem",
        "des",
        "ein",
        "eine",
        "und",
        "fur",
        "im",
        "in",
        "am",
        "zum",
        "zur",
        "von",
        "mit",
        "bei",
        "oder",
        "the",
        "a",
        "an",
        "of",
        "for",
        "in",
        "on",
        "and",
        "to",
        "with",
        "at",
        "or",
        "by",
    ]
)
# Words that introduce a place: "shelter near Maastricht", "opvang bij Luik", "près de Liège".
NEAR_WORDS = (
    r"near|around|close to|nearby|bij|nabij|dichtbij|in de buurt van|rond|"
    r"près de|pres de|proche de|autour de|aux environs de|"
    r"in der nähe von|in der nahe von|nahe|bei"
)
NEAR_PATTERN = re.compile(rf"(?:^|\s)(?:{NEAR_WORDS})\s+(?P<place>[^\s].*)$", re.IGNORECASE)


@cache
def folding_analyzer() -> tantivy.TextAnalyzer:
    """Words lowercased, accents folded (Liège → liege), no stemming."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .build()
    )


@cache
def stemming_analyzer(language: str) -> tantivy.TextAnalyzer:
    """Words lowercased, stemmed in ``language``, then accents folded."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.stemmer(STEMMERS[language]))
        .filter(tantivy.Filter.ascii_fold())
        .build()
    )


def words(text: str) -> list[str]:
    """The folded words of ``text``."""
    return list(folding_analyzer().analyze(text))


@cache
def stem(word: str, language: str) -> str:
    """The stem of one folded word in ``language``."""
    stems = stemming_analyzer(language).analyze(word)
    return stems[0] if stems else word


def typo_budget(word: str) -> int:
    """Typos forgiven in a word, as Meilisearch does: 1 from 5 letters, 2 from 9."""
    if len(word) >= 9:
        return 2
    if len(word) >= 5:
        return 1
    return 0


def within_typos(word: str, candidate: str, budget: int, prefix: bool = False) -> bool:
    """True when ``candidate`` (or, for a prefix, its start) is ``budget`` edits from ``word``.

    Edits are insertions, deletions, substitutions and swaps of neighbours (each counts one).
    """
    if prefix:
        if len(candidate) < len(word) - budget:
            return False
        lengths = range(max(1, len(word) - budget), len(word) + budget + 1)
        return any(
            OSA.distance(word, candidate[:n], score_cutoff=budget) <= budget for n in lengths
        )
    if abs(len(word) - len(candidate)) > budget:
        return False
    return bool(OSA.distance(word, candidate, score_cutoff=budget) <= budget)


@dataclass(frozen=True)
class SynonymGroup:
    """Every way the network writes one taxonomy term, each as a tuple of folded words."""

    vocabulary: str
    code: str
    forms: tuple[tuple[str, ...], ...]


@cache
def synonym_groups(taxonomy: TaxonomyData | None = None) -> tuple[SynonymGroup, ...]:
    """Labels in NL/FR/DE/EN plus synonyms of every searchable taxonomy term."""
    taxonomy = taxonomy or load_taxonomy()
    groups = []
    for vocabulary in ("service_type", "org_type", "exploitation_form", "target_group"):
        for term in taxonomy.vocabulary(vocabulary):
            forms = {tuple(words(label)) for label in term.labels.values()}
            forms |= {tuple(words(synonym)) for synonym in term.synonyms}
            forms.discard(())
            groups.append(SynonymGroup(vocabulary, term.code, tuple(sorted(forms))))
    return tuple(groups)


@cache
def synonym_index() -> dict[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """Folded phrase → the other phrases meaning the same thing (in any language)."""
    index: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
    for group in synonym_groups():
        for form in group.forms:
            index.setdefault(form, set()).update(f for f in group.forms if f != form)
    return {form: tuple(sorted(others)) for form, others in index.items()}


@cache
def _forms_by_first_word() -> dict[str, tuple[tuple[str, ...], ...]]:
    starts: dict[str, list[tuple[str, ...]]] = {}
    for form in synonym_index():
        starts.setdefault(form[0], []).append(form)
    return {word: tuple(forms) for word, forms in starts.items()}


def forms_in(folded: list[str]) -> set[tuple[str, ...]]:
    """The taxonomy terms' forms (see ``synonym_index``) written as consecutive words in
    ``folded``: what a phrase query for each form would find, decided once at indexing."""
    starts = _forms_by_first_word()
    found: set[tuple[str, ...]] = set()
    for i, word in enumerate(folded):
        for form in starts.get(word, ()):
            if tuple(folded[i : i + len(form)]) == form:
                found.add(form)
    return found


def form_term(form: tuple[str, ...]) -> str:
    """How a form is indexed in the ``forms`` field."""
    return " ".join(form)


def split_near(text: str) -> tuple[str, str | None]:
    """Split "shelter near Maastricht" into ("shelter", "Maastricht")."""
    match = NEAR_PATTERN.search(text.strip())
    if not match:
        return text, None
    return text[: match.start()].strip(), match.group("place").strip()


@dataclass(frozen=True)
class QueryWord:
    """One word of a query and how it may match."""

    text: str
    required: bool
    prefix: bool

    @property
    def budget(self) -> int:
        """Typos forgiven in this word."""
        return typo_budget(self.text)


@dataclass(frozen=True)
class SynonymSpan:
    """Words ``start``..``end`` of a query that name a taxonomy term, and its other names."""

    start: int
    end: int
    alternatives: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class ConceptSpan:
    """Words ``start``..``end`` of a query that name the domain's ``concepts``."""

    start: int
    end: int
    concepts: tuple[str, ...]


@dataclass(frozen=True)
class QueryPlan:
    """A query's words, which must match, and where synonyms may stand in for them."""

    words: tuple[QueryWord, ...]
    spans: tuple[SynonymSpan, ...]
    # Where words name the domain's concepts (search.domain): they match across languages.
    concepts: tuple[ConceptSpan, ...] = ()

    def required_count(self) -> int:
        """How many words must match."""
        return sum(1 for w in self.words if w.required)

    def relaxed(self) -> QueryPlan | None:
        """The plan with its last required word made optional (Meilisearch's "last" strategy)."""
        required = [i for i, w in enumerate(self.words) if w.required]
        if len(required) <= 1:
            return None
        last = required[-1]
        words = tuple(
            QueryWord(w.text, False, w.prefix) if i == last else w for i, w in enumerate(self.words)
        )
        return QueryPlan(words, self.spans, self.concepts)


def plan_query(text: str, prefix: bool = True, max_words: int = 10) -> QueryPlan:
    """Turn query text into words (stopwords optional, last word a prefix), synonym spans and
    the domain concepts they name."""
    from search.domain import concept_spans  # search.domain builds on this module

    folded = words(text)[:max_words]
    meaningful = any(w not in STOPWORDS for w in folded)
    query_words = tuple(
        QueryWord(
            text=w,
            required=not (meaningful and w in STOPWORDS),
            prefix=prefix and i == len(folded) - 1,
        )
        for i, w in enumerate(folded)
    )
    spans = []
    synonyms = synonym_index()
    i = 0
    while i < len(folded):
        for size in range(min(4, len(folded) - i), 0, -1):
            phrase = tuple(folded[i : i + size])
            if phrase in synonyms and not all(w in STOPWORDS for w in phrase):
                spans.append(SynonymSpan(i, i + size, synonyms[phrase]))
                i += size
                break
        else:
            i += 1
    return QueryPlan(query_words, tuple(spans), concept_spans(folded, prefix))
