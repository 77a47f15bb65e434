"""The client's errors, under one root: ``LiaisonError``.

``ApiError`` (the relay refused a request or could not be reached; ``check`` names why) and
``CryptoError`` with its kinds (something failed a check of the spec; ``reason`` names which).
An integration can catch ``LiaisonError`` for everything the library raises on purpose.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from liaison_client.referral import FormProblem


class LiaisonError(Exception):
    """Everything the client library raises on purpose."""


class ApiError(LiaisonError):
    """The relay refused a request or could not be reached; ``check`` names why. ``retry_after``
    is the relay's ``Retry-After`` in seconds, when it sent one."""

    def __init__(
        self, status: int, check: str, detail: str, *, retry_after: float | None = None
    ) -> None:
        super().__init__(f"{detail} ({check})" if detail else check)
        self.status = status
        self.check = check
        self.detail = detail
        self.retry_after = retry_after


class CryptoError(LiaisonError):
    """Something failed a check of the spec; ``reason`` names which (e.g. ``bad-signature``)."""

    kind = "crypto"

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class EnvelopeError(CryptoError):
    """A message envelope is malformed or fails an opening check; nothing of it may be shown."""

    kind = "envelope"


class BlobError(CryptoError):
    """An attachment blob is truncated, extended, tampered with or does not match its manifest."""

    kind = "blob"


class BackupError(CryptoError):
    """A key backup is malformed, downgraded, rolled back or does not open."""

    kind = "backup"


class KeyLogError(CryptoError):
    """The key log does not chain, does not extend the remembered head, or is badly signed."""

    kind = "key-log"


class ReferralFormError(CryptoError):
    """A referral form breaks a rule of the form definition; ``field`` names the first bad field
    and ``problems`` lists every one."""

    kind = "referral-form"

    def __init__(self, problems: Sequence[FormProblem]) -> None:
        first = problems[0]
        super().__init__("bad-referral-form", f"referral form: {first.field}: {first.message()}")
        self.field = first.field
        self.code = first.code
        self.problems = list(problems)
