"""Checks of single values of the import format; each returns the stored form or reports why not.

Used by ``directory.importing.parse``: every check adds a problem to the line's list instead of
raising, so one pass reports every error of a file.
"""

from __future__ import annotations

import math
from typing import Any

from directory.errors import ImportProblem
from directory.formats import COUNTRY, KNOWN_COUNTRIES, REGION, e164, email_address, web_address
from directory.taxonomy import TaxonomyData

VISIBILITIES = ("public", "network", "secretariat")
ADDRESS_VISIBILITIES = (*VISIBILITIES, "not_stored")
TEXT_LANGUAGES = ("nl", "fr", "de", "en")


class LineChecker:
    """Collects the problems of one line of the file."""

    def __init__(self, line: int, taxonomy: TaxonomyData) -> None:
        self.line = line
        self.taxonomy = taxonomy
        self.problems: list[ImportProblem] = []

    def problem(self, field: str | None, message: str) -> None:
        """Report one problem of this line."""
        self.problems.append(ImportProblem(self.line, field, message))

    def text(
        self, field: str, value: Any, *, max_length: int, required: bool = False
    ) -> str | None:
        """A trimmed string of 1..max_length characters (or None when optional and absent)."""
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.problem(field, "is required")
            return None
        if not isinstance(value, str):
            self.problem(field, "must be a string")
            return None
        value = value.strip()
        if len(value) > max_length:
            self.problem(field, f"is longer than {max_length} characters")
            return None
        return value

    def boolean(self, field: str, value: Any) -> bool:
        """true or false; absent or null means false."""
        if value is None:
            return False
        if not isinstance(value, bool):
            self.problem(field, "must be true or false")
            return False
        return value

    def choice(self, field: str, value: Any, allowed: tuple[str, ...], default: str) -> str:
        """One of ``allowed``; absent or null gives the default."""
        if value is None:
            return default
        if value not in allowed:
            self.problem(field, f"must be one of {', '.join(allowed)}")
            return default
        return str(value)

    def code(self, field: str, vocabulary: str, value: Any, *, required: bool = False) -> str:
        """A code of a taxonomy vocabulary."""
        if value is None or value == "":
            if required:
                self.problem(field, "is required")
            return ""
        if not isinstance(value, str) or self.taxonomy.get(vocabulary, value) is None:
            self.problem(field, f"unknown {vocabulary.replace('_', ' ')} code {value!r}")
            return ""
        return value

    def codes(self, field: str, vocabulary: str, value: Any) -> list[str]:
        """A list of distinct codes of one vocabulary; absent or null is an empty list."""
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(field, "must be a list of codes")
            return []
        result: list[str] = []
        for item in value:
            code = self.code(field, vocabulary, item)
            if not code:
                continue
            if code in result:
                self.problem(field, f"code {code!r} is listed twice")
                continue
            result.append(code)
        return result

    def country(self, field: str, value: Any) -> str:
        """An ISO 3166-1 alpha-2 code such as BE."""
        if value is None or value == "":
            self.problem(field, "is required")
            return ""
        if not isinstance(value, str) or not COUNTRY.fullmatch(value):
            self.problem(field, "must be an ISO 3166-1 alpha-2 code in capitals, such as BE")
            return ""
        if value not in KNOWN_COUNTRIES:
            self.problem(field, f"{value!r} is not an ISO 3166-1 country code")
            return ""
        return value

    def region(self, field: str, value: Any, country: str) -> str | None:
        """An ISO 3166-2 subdivision code of the organisation's country, such as BE-VLG."""
        if value is None or value == "":
            return None
        match = REGION.fullmatch(value) if isinstance(value, str) else None
        if match is None:
            self.problem(field, "must be an ISO 3166-2 code such as BE-VLG")
            return None
        if country and match.group(1) != country:
            self.problem(field, f"must be a subdivision of {country} (start with {country}-)")
            return None
        return str(value)

    def coordinate(self, field: str, value: Any, limit: float) -> float | None:
        """A number of WGS 84 degrees between -limit and limit."""
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            self.problem(field, "must be a number of degrees")
            return None
        if not -limit <= value <= limit:
            self.problem(field, f"must be between -{limit:g} and {limit:g}")
            return None
        return float(value)

    def phone(self, field: str, value: Any, country: str) -> str | None:
        """A possible telephone number, stored in E.164 form."""
        text = self.text(field, value, max_length=40)
        if text is None:
            return None
        try:
            return e164(text, country)
        except ValueError as error:
            self.problem(field, f"{text!r} is {error}")
            return None

    def email(self, field: str, value: Any) -> str | None:
        """An e-mail address (syntax only, no DNS look-up), normalised."""
        text = self.text(field, value, max_length=254)
        if text is None:
            return None
        address = email_address(text)
        if address is None:
            self.problem(field, f"{text!r} is not an e-mail address")
        return address

    def url(self, field: str, value: Any) -> str | None:
        """An absolute http(s) URL."""
        text = self.text(field, value, max_length=500)
        if text is None:
            return None
        url = web_address(text)
        if url is None:
            self.problem(field, f"{text!r} is not an http(s) URL")
        return url

    def translations(self, field: str, value: Any, *, max_length: int) -> dict[str, str]:
        """An object of texts keyed by nl/fr/de/en with at least one text."""
        if value is None:
            self.problem(field, "is required")
            return {}
        if not isinstance(value, dict):
            self.problem(field, "must be an object of texts keyed by nl, fr, de or en")
            return {}
        result: dict[str, str] = {}
        for language, text in value.items():
            if language not in TEXT_LANGUAGES:
                self.problem(field, f"language {language!r} must be one of nl, fr, de, en")
                continue
            checked = self.text(f"{field}.{language}", text, max_length=max_length)
            if checked is not None:
                result[language] = checked
        if not result and not self.problems_for(field):
            self.problem(field, "needs a text in at least one of nl, fr, de, en")
        return {language: result[language] for language in TEXT_LANGUAGES if language in result}

    def problems_for(self, field: str) -> bool:
        """True when this field (or one inside it) already has a problem."""
        return any(
            p.field == field or (p.field or "").startswith(field + ".") for p in self.problems
        )
