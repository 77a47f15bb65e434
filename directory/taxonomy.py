"""The network's taxonomy (codes with NL/FR/DE/EN labels and synonyms), shipped with the project.

Term ids are UUIDv5 of ``vocabulary:code`` so every instance gives a term the same id.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from sqlalchemy.orm import Session

from directory.models import Taxonomy, TaxonomyTerm

TAXONOMY_FILE = Path(__file__).resolve().parent / "data" / "taxonomy.json"
NAMESPACE = uuid.UUID("6f1c1f1e-8a55-4b8e-9d4a-4c1a1b0e5a11")
VOCABULARIES = (
    "exploitation_form",
    "target_group",
    "service_type",
    "org_type",
    "language",
    "country",
)


def term_id(vocabulary: str, code: str) -> str:
    """The stable id of one taxonomy term."""
    return str(uuid.uuid5(NAMESPACE, f"{vocabulary}:{code}"))


def taxonomy_id(vocabulary: str) -> str:
    """The stable id of one vocabulary."""
    return str(uuid.uuid5(NAMESPACE, f"taxonomy:{vocabulary}"))


@dataclass(frozen=True)
class Term:
    """One code with its labels per language and its search synonyms."""

    vocabulary: str
    code: str
    labels: dict[str, str]
    synonyms: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return term_id(self.vocabulary, self.code)

    def label(self, locale: str) -> str:
        """The label in ``locale``, else English, else the code."""
        return self.labels.get(locale) or self.labels.get("en") or self.code


@dataclass(frozen=True)
class TaxonomyData:
    """All vocabularies, indexed by vocabulary then code."""

    version: int
    terms: dict[str, dict[str, Term]] = field(default_factory=dict)

    def vocabulary(self, name: str) -> list[Term]:
        """The terms of one vocabulary in file order."""
        return list(self.terms.get(name, {}).values())

    def get(self, vocabulary: str, code: str) -> Term | None:
        """One term, or None when the code is unknown."""
        return self.terms.get(vocabulary, {}).get(code)

    def label(self, vocabulary: str, code: str, locale: str) -> str:
        """A code's label in ``locale`` (the code itself when unknown)."""
        term = self.get(vocabulary, code)
        return term.label(locale) if term else code


@cache
def load_taxonomy(path: Path = TAXONOMY_FILE) -> TaxonomyData:
    """Parse the taxonomy file once per process."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    terms: dict[str, dict[str, Term]] = {}
    for vocabulary, entries in raw["vocabularies"].items():
        terms[vocabulary] = {
            entry["code"]: Term(
                vocabulary=vocabulary,
                code=entry["code"],
                labels=dict(entry.get("labels", {})),
                synonyms=tuple(entry.get("synonyms", [])),
            )
            for entry in entries
        }
    return TaxonomyData(version=int(raw.get("version", 1)), terms=terms)


def sync_taxonomy(session: Session, data: TaxonomyData | None = None) -> int:
    """Write the taxonomy into ``taxonomy`` / ``taxonomy_term`` (idempotent); returns term count."""
    data = data or load_taxonomy()
    count = 0
    for vocabulary, entries in data.terms.items():
        tax_id = taxonomy_id(vocabulary)
        taxonomy = session.get(Taxonomy, tax_id)
        if taxonomy is None:
            taxonomy = Taxonomy(id=tax_id, name=vocabulary)
            session.add(taxonomy)
        taxonomy.description = f"Liaison {vocabulary.replace('_', ' ')} vocabulary"
        taxonomy.version = str(data.version)
        for term in entries.values():
            row = session.get(TaxonomyTerm, term.id)
            if row is None:
                row = TaxonomyTerm(
                    id=term.id, taxonomy_id=tax_id, vocabulary=vocabulary, code=term.code
                )
                session.add(row)
            row.labels = dict(term.labels)
            row.synonyms = list(term.synonyms)
            count += 1
    session.flush()
    return count
