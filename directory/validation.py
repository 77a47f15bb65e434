"""Checks of what the secretariat types into the directory's forms.

A ``Checker`` collects one error per field instead of stopping at the first, so a form can show
every problem next to its field at once; ``raise_if_any`` then refuses the whole write.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from directory.errors import FieldError, InvalidDirectoryInput
from directory.formats import KNOWN_COUNTRIES, e164, email_address, region_country, web_address
from directory.models import Visibility
from directory.taxonomy import load_taxonomy

TEXT_LANGUAGES = ("nl", "fr", "de", "en")
VISIBILITIES = ("public", "network", "secretariat")
ADDRESS_VISIBILITIES = (*VISIBILITIES, "not_stored")
VERIFICATION_STATUSES = ("unverified", "verified", "needs_review")
SERVICE_STATUSES = ("active", "inactive")


def visibility_rank(value: str) -> int:
    """0 public … 3 not stored: a higher rank is a narrower audience."""
    return Visibility(value).rank


class Checker:
    """Normalises form values and collects one error per field."""

    def __init__(self) -> None:
        self.errors: dict[str, FieldError] = {}

    def fail(self, field: str, message: str, **values: str | int) -> None:
        """Refuse a field (the first reason given for a field is kept)."""
        self.errors.setdefault(field, FieldError(message, values or None))

    def raise_if_any(self) -> None:
        """Refuse the whole write when any field was refused."""
        if self.errors:
            raise InvalidDirectoryInput(self.errors)

    def text(
        self, field: str, value: Any, *, max_length: int, required: bool = False
    ) -> str | None:
        """A trimmed text of at most ``max_length`` characters; empty gives None."""
        # Browsers send textarea line breaks as CRLF; store them as LF so a resave changes nothing.
        text = str(value).replace("\r\n", "\n").strip() if value is not None else ""
        if not text:
            if required:
                self.fail(field, "This field is required.")
            return None
        if len(text) > max_length:
            self.fail(field, "At most %(max)s characters.", max=max_length)
            return None
        if any(ord(char) < 32 and char not in "\n\r\t" for char in text):
            self.fail(field, "Contains characters that are not allowed.")
            return None
        return text

    def translations(self, field: str, value: Any, *, max_length: int) -> dict[str, str]:
        """Texts keyed by NL/FR/DE/EN; empty languages are left out."""
        result: dict[str, str] = {}
        for lang in TEXT_LANGUAGES:
            text = self.text(f"{field}_{lang}", (value or {}).get(lang), max_length=max_length)
            if text:
                result[lang] = text
        return result

    def choice(self, field: str, value: Any, allowed: Iterable[str]) -> str | None:
        """One of ``allowed``."""
        allowed = tuple(allowed)
        if value not in allowed:
            self.fail(field, "Choose one of the options.")
            return None
        return str(value)

    def code(self, field: str, vocabulary: str, value: Any, *, required: bool = True) -> str | None:
        """A code of a taxonomy vocabulary."""
        if not value:
            if required:
                self.fail(field, "This field is required.")
            return None
        if load_taxonomy().get(vocabulary, str(value)) is None:
            self.fail(field, "Unknown code: %(code)s.", code=str(value)[:60])
            return None
        return str(value)

    def codes(self, field: str, vocabulary: str, values: Any) -> list[str]:
        """Codes of a vocabulary, without repeats, in the order given."""
        result: list[str] = []
        for value in values or []:
            code = self.code(field, vocabulary, value)
            if code and code not in result:
                result.append(code)
        return result

    def country(self, field: str, value: Any) -> str | None:
        """An ISO 3166-1 alpha-2 country code."""
        code = str(value or "").strip().upper()
        if not code:
            self.fail(field, "This field is required.")
            return None
        if code not in KNOWN_COUNTRIES:
            self.fail(field, "Not a known two-letter country code.")
            return None
        return code

    def region(self, field: str, value: Any, country: str | None) -> str | None:
        """An ISO 3166-2 region code of the country (optional)."""
        code = str(value or "").strip().upper()
        if not code:
            return None
        part = region_country(code)
        if part is None or (country and part != country):
            self.fail(field, "Use a region code of the country, such as BE-VLG.")
            return None
        return code

    def email(self, field: str, value: Any) -> str | None:
        """An e-mail address (not checked for deliverability)."""
        text = self.text(field, value, max_length=254)
        if text is None:
            return None
        address = email_address(text)
        if address is None:
            self.fail(field, "Not a valid e-mail address.")
        return address

    def url(self, field: str, value: Any) -> str | None:
        """An http(s) address."""
        text = self.text(field, value, max_length=500)
        if text is None:
            return None
        url = web_address(text)
        if url is None:
            self.fail(field, "Use a web address starting with https:// or http://.")
        return url

    def phone(self, field: str, value: Any, country: str | None) -> str | None:
        """A telephone number in E.164 form (a national number is read in the country given)."""
        text = self.text(field, value, max_length=40)
        if text is None:
            return None
        try:
            return e164(text, country)
        except ValueError:
            self.fail(field, "Not a possible telephone number; use the form +32 2 000 00 00.")
            return None

    def day(self, field: str, value: Any) -> date | None:
        """A date as YYYY-MM-DD (optional)."""
        text = str(value or "").strip()
        if not text:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            self.fail(field, "Use a date in the form YYYY-MM-DD.")
            return None

    def number(self, field: str, value: Any, *, low: int, high: int) -> int | None:
        """A whole number between ``low`` and ``high``."""
        try:
            result = int(str(value).strip())
        except ValueError:
            self.fail(field, "Use a whole number.")
            return None
        if not low <= result <= high:
            self.fail(field, "Use a number from %(low)s to %(high)s.", low=low, high=high)
            return None
        return result

    def not_wider(self, field: str, visibility: str | None, parent: str) -> None:
        """Refuse a child record more visible than the organisation it belongs to."""
        if visibility and visibility_rank(visibility) < visibility_rank(parent):
            self.fail(
                field,
                "Refused: this cannot be more visible than its organisation (%(visibility)s).",
                visibility=parent,
            )


def flag(values: Mapping[str, Any], name: str) -> bool:
    """A checkbox or boolean value."""
    value = values.get(name)
    if isinstance(value, str):
        return value.lower() in {"1", "on", "true", "yes"}
    return bool(value)
