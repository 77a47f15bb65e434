"""One set of format rules for the importer and the secretariat's forms."""

import pytest

from directory.errors import InvalidDirectoryInput
from directory.formats import e164, email_address, web_address
from directory.validation import Checker


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://www.payoke.be", "https://www.payoke.be"),
        ("http://[::1", None),  # urlsplit raises on an unclosed bracket: a refusal, not a crash
        ("https://exa\tmple.org", None),
        ("ftp://example.org", None),
        ("https://", None),
    ],
)
def test_web_address(text, expected):
    assert web_address(text) == expected


@pytest.mark.parametrize(("text", "country"), [("+32 2 000 00 01", None), ("02 000 00 01", "BE")])
def test_e164_normalises_international_and_national_numbers(text, country):
    assert e164(text, country) == "+3220000001"


@pytest.mark.parametrize(
    ("text", "reason"),
    [("+32 12", "not a possible telephone number"), ("call us", "not a telephone number")],
)
def test_e164_says_why_a_number_is_refused(text, reason):
    with pytest.raises(ValueError, match=f"^{reason}$"):
        e164(text, "BE")


def test_email_address_is_normalised_or_refused():
    assert email_address("Intake@Example.org") == "Intake@example.org"
    assert email_address("not an address") is None


def test_the_form_checker_refuses_a_malformed_url_instead_of_failing():
    checker = Checker()
    assert checker.url("website", "http://[::1") is None
    with pytest.raises(InvalidDirectoryInput):
        checker.raise_if_any()
