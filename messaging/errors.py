"""Domain errors of the relay; each names the check that failed so clients can react to it."""

from __future__ import annotations


class RelayError(Exception):
    """A request the relay refuses; nothing was stored. ``check`` is a stable machine name."""

    status = 400
    check = "malformed"

    def __init__(self, detail: str, *, check: str | None = None, status: int | None = None):
        super().__init__(detail)
        self.detail = detail
        if check is not None:
            self.check = check
        if status is not None:
            self.status = status


class Malformed(RelayError):
    """The envelope (or another body) does not parse or a field has the wrong size."""


class Forbidden(RelayError):
    """The caller may not do this (e.g. send as someone else)."""

    status = 403
    check = "forbidden"


class Rejected(RelayError):
    """The request parses but breaks a rule of the spec (recipients, keys, signature, expiry)."""

    status = 422
    check = "rejected"


class Conflict(RelayError):
    """The id is taken by other bytes, or a newer version already exists."""

    status = 409
    check = "conflict"


class NotFound(RelayError):
    """Absent, or not the caller's: the relay never tells the two apart."""

    status = 404
    check = "not-found"

    def __init__(self, detail: str = "not found", **kwargs: object) -> None:
        super().__init__(detail, **kwargs)  # type: ignore[arg-type]


class TooLarge(RelayError):
    """The body is larger than the relay accepts."""

    status = 413
    check = "too-large"


class RateLimited(RelayError):
    """Too many requests of this kind from this person; retry after ``retry_after`` seconds."""

    status = 429
    check = "rate-limited"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class BadTransition(Conflict):
    """A referral's current status does not allow the requested change."""

    check = "bad-transition"
