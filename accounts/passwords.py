"""Passwords: argon2id hashing and the policy (length 15-128, not a common password, not
guessable).

There are no composition rules (NIST SP 800-63B): length, a block-list and a strength estimate do
the work. The estimate is zxcvbn's (patterns, dictionaries, keyboard walks, dates, the person's
own e-mail address); a score below 3 of 4 is refused with the estimator's own hints, whose English
texts are msgids translated in ``web/translations/*/passwords.po``. Text is NFKC-normalised before
checking and hashing so the same password typed on another keyboard or system still matches.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn import zxcvbn

MIN_LENGTH = 15
MIN_SCORE = 3  # zxcvbn: 3 is "safely unguessable", about 10^8 guesses and more
MAX_LENGTH = 128
DATA_DIR = Path(__file__).resolve().parent / "data"
COMMON_FILES = ("common-passwords.txt", "common-passwords-extra.txt")

TOO_SHORT = "Use at least %(min)s characters."
TOO_LONG = "Use at most %(max)s characters."
TOO_COMMON = "This password is on a list of commonly used passwords. Choose another one."
SAME_AS_EMAIL = "Your password must not be your e-mail address."
MISMATCH = "The two passwords are not the same."
TOO_GUESSABLE = (
    "This password is too easy to guess. Choose a longer one, for example four or five"
    " unrelated words."
)

_hasher = PasswordHasher()  # argon2id with the RFC 9106 low-memory parameters


def normalize(password: str) -> str:
    """The form of a password that is checked and hashed."""
    return unicodedata.normalize("NFKC", password)


@cache
def common_passwords() -> frozenset[str]:
    """The bundled block-list, lower-cased (see accounts/data/README.md for its source)."""
    words: set[str] = set()
    for name in COMMON_FILES:
        for line in (DATA_DIR / name).read_text(encoding="utf-8").splitlines():
            word = line.strip().lower()
            if word:
                words.add(word)
    return frozenset(words)


def _repeated_unit(text: str) -> str:
    """The shortest piece that ``text`` repeats (``text`` itself when it repeats nothing)."""
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return text[:size]
    return text


def is_common(password: str) -> bool:
    """True for a listed password, or a listed (or very short) piece repeated: 'abcabcabc…'."""
    lowered = normalize(password).lower()
    listed = common_passwords()
    if lowered in listed or lowered.strip() in listed:
        return True
    unit = _repeated_unit(lowered)
    return unit != lowered and (len(unit) <= 3 or unit in listed)


def policy_problems(password: str, email: str = "") -> list[str]:
    """Every reason the password is refused (English msgids); empty when it is acceptable."""
    text = normalize(password)
    if len(text) < MIN_LENGTH:
        return [TOO_SHORT]
    if len(text) > MAX_LENGTH:
        return [TOO_LONG]
    problems = []
    if is_common(text):
        problems.append(TOO_COMMON)
    if email and text.strip().lower() == email.strip().lower():
        problems.append(SAME_AS_EMAIL)
    return problems or guessability_problems(text, email)


def guessability_problems(password: str, email: str = "") -> list[str]:
    """``TOO_GUESSABLE`` and the estimator's hints when zxcvbn scores the password below 3."""
    hints = [email, *email.replace("@", " ").replace(".", " ").split(), "liaison"] if email else []
    estimate = zxcvbn(password, user_inputs=[h for h in hints if h], max_length=MAX_LENGTH)
    if estimate["score"] >= MIN_SCORE:
        return []
    feedback = estimate["feedback"]
    return [TOO_GUESSABLE, *([feedback["warning"]] if feedback["warning"] else [])] + [
        hint for hint in feedback["suggestions"] if hint
    ]


def hash_password(password: str) -> str:
    """The argon2id hash to store."""
    return _hasher.hash(normalize(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; a missing hash is checked against a dummy (same work)."""
    if len(password) > MAX_LENGTH * 4:
        return False  # bound the work an attacker can ask for
    try:
        return _hasher.verify(password_hash or _dummy_hash(), normalize(password)) and bool(
            password_hash
        )
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the stored hash uses older parameters than the current ones."""
    return _hasher.check_needs_rehash(password_hash)


@cache
def _dummy_hash() -> str:
    return _hasher.hash("dummy password for accounts that do not exist")
