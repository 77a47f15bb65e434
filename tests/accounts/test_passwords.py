"""The password policy and argon2id hashing."""

import pytest

from accounts.passwords import (
    SAME_AS_EMAIL,
    TOO_COMMON,
    TOO_GUESSABLE,
    TOO_LONG,
    TOO_SHORT,
    hash_password,
    policy_problems,
    verify_password,
)

EMAIL = "anna.peeters@example.org"
REPEATS = [
    'Repeats like "aaa" are easy to guess.',
    "Add another word or two. Uncommon words are better.",
    "Avoid repeated words and characters.",
]


@pytest.mark.parametrize(
    ("password", "problems"),
    [
        ("", [TOO_SHORT]),
        ("a" * 14, [TOO_SHORT]),
        ("short but ok?", [TOO_SHORT]),
        ("lantern harbour", []),  # exactly 15, letters and a space only: no composition rules
        ("x" * 15, [TOO_COMMON]),  # one character repeated
        ("abcabcabcabcabc", [TOO_COMMON]),  # a short piece repeated
        ("1q2w3e4r5t6y7u8i9o0p", [TOO_COMMON]),  # on the bundled list
        ("1Q2W3E4R5T6Y7U8I9O0P", [TOO_COMMON]),  # the list is compared case-insensitively
        ("CorrectHorseBatteryStaple", [TOO_COMMON]),
        ("passwordpassword", [TOO_COMMON]),  # a listed password repeated
        ("sunflowersunflower", [TOO_COMMON]),
        (EMAIL, [SAME_AS_EMAIL]),
        (EMAIL.upper(), [SAME_AS_EMAIL]),
        ("ß" * 2 + " quiet river stone", []),  # any characters count, non-ASCII included
        ("w" + "q" * 127, [TOO_GUESSABLE, *REPEATS]),  # long but a repeat: easy to guess
        ("violet harbour lantern " * 5 + "quiet waters!", []),  # exactly 128
        ("w" + "q" * 128, [TOO_LONG]),
        ("vier losse woorden zijn sterk", []),
    ],
)
def test_password_policy(password, problems):
    assert policy_problems(password, EMAIL) == problems


def test_hash_is_argon2id_and_verifies_only_the_same_password():
    stored = hash_password("violet harbour lantern 42")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "violet harbour lantern 42")
    assert not verify_password(stored, "violet harbour lantern 43")


def test_same_password_hashes_differently_each_time():
    assert hash_password("violet harbour lantern 42") != hash_password("violet harbour lantern 42")


def test_missing_hash_never_verifies():
    assert not verify_password(None, "dummy password for accounts that do not exist")
    assert not verify_password("", "anything at all here")
    assert not verify_password("not a hash", "anything at all here")


def test_compatible_unicode_forms_match():
    stored = hash_password("ﬁve quiet river stones")  # the "ﬁ" ligature
    assert verify_password(stored, "five quiet river stones")
