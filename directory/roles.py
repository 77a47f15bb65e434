"""Contact point roles: a fixed vocabulary with NL/FR/DE/EN labels, like the taxonomy.

A contact point's role is stored as it was entered or imported (``Contact.title``, a text per
language; the import format carries the English one, e.g. "Intake / contact point"). Stored
values, the import/export format and the HSDS ``contact.title`` stay as they are; only where a
role is shown to a reader is a known role replaced by its label in the reader's language. A
role is known when one of its stored texts equals (case and spacing aside) a label or synonym
of a term in ``data/contact_roles.json``; anything else is shown as stored.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from directory.taxonomy import Term

ROLES_FILE = Path(__file__).resolve().parent / "data" / "contact_roles.json"
VOCABULARY = "contact_role"


def _key(text: str) -> str:
    return " ".join(text.casefold().split())


@cache
def load_roles(path: Path = ROLES_FILE) -> dict[str, Term]:
    """The role vocabulary, by code, in file order."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {
        entry["code"]: Term(
            vocabulary=VOCABULARY,
            code=entry["code"],
            labels=dict(entry["labels"]),
            synonyms=tuple(entry.get("synonyms", [])),
        )
        for entry in raw["roles"]
    }


@cache
def _index() -> dict[str, str]:
    found: dict[str, str] = {}
    for term in load_roles().values():
        for text in (*term.labels.values(), *term.synonyms):
            found.setdefault(_key(text), term.code)
    return found


def role_code(title: dict[str, str] | None) -> str | None:
    """The vocabulary code of a stored role, or None when it is free text."""
    for text in (title or {}).values():
        if text and (code := _index().get(_key(str(text)))):
            return code
    return None


def role_label(title: dict[str, str] | None, locale: str) -> str | None:
    """A known role's label in ``locale``; None for a free-text role (show it as stored)."""
    code = role_code(title)
    return load_roles()[code].label(locale) if code else None
