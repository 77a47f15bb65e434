"""The formats a directory value must have, shared by the JSONL importer and the secretariat's
forms so that whatever one accepts, the other accepts too (an export always re-imports).

Each function returns the normalised value, or None (``e164``: raises ValueError) when the text
does not have the format; the caller words the error for its audience (a line report, or a message
next to a form field).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import phonenumbers
from babel import Locale
from email_validator import EmailNotValidError, validate_email

COUNTRY = re.compile(r"[A-Z]{2}")
REGION = re.compile(r"([A-Z]{2})-[A-Z0-9]{1,3}")
# ISO 3166-1 alpha-2 codes Babel (CLDR) knows, minus CLDR's pseudo-regions.
_NOT_COUNTRIES = {"ZZ", "EU", "EZ", "UN", "QO", "XA", "XB"}
KNOWN_COUNTRIES = frozenset(
    code
    for code in map(str, Locale("en").territories)
    if COUNTRY.fullmatch(code) and code not in _NOT_COUNTRIES
)


def region_country(code: str) -> str | None:
    """The country part of an ISO 3166-2 code such as BE-VLG, or None when malformed."""
    match = REGION.fullmatch(code)
    return match.group(1) if match else None


def e164(text: str, country: str | None) -> str:
    """A possible telephone number in E.164 form (a national number read in ``country``).

    Raises ValueError saying whether the text is no telephone number at all or not a possible
    one (too short or too long for its country).
    """
    try:
        number = phonenumbers.parse(text, country or None)
    except phonenumbers.NumberParseException:
        raise ValueError("not a telephone number") from None
    if not phonenumbers.is_possible_number(number):
        raise ValueError("not a possible telephone number")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def email_address(text: str) -> str | None:
    """The normalised e-mail address (syntax only, no DNS look-up)."""
    try:
        return str(validate_email(text, check_deliverability=False).normalized)
    except EmailNotValidError:
        return None


def web_address(text: str) -> str | None:
    """The text when it is an absolute http(s) URL with a host and no white space."""
    if any(character.isspace() for character in text):
        return None
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return None
    if parts.scheme not in {"http", "https"} or not host:
        return None
    return text
