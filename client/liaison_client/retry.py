"""Retrying what can be retried: a lost connection and a server or gateway error (500, 502,
503, 504) are tried again with exponential back-off and jitter until a deadline; a refusal
(4xx) never is.

Only requests that are safe to repeat go through a policy: reads, acknowledgements, and posting an
envelope, which the relay stores once per message id (the same bytes again answer 200). The
deadline (60 s by default) comes from ``--retry-deadline`` or ``LIAISONCLIENT_RETRY_DEADLINE``.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TypeVar

from liaison_client.errors import ApiError

DEADLINE_ENV = "LIAISONCLIENT_RETRY_DEADLINE"
DEFAULT_DEADLINE = 60.0
RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})

T = TypeVar("T")
OnRetry = Callable[[ApiError, float, int], None]


class GaveUp(ApiError):
    """Every attempt until the deadline failed with an error worth retrying; ``last`` is the last
    one (``status`` and ``check`` are its own) and ``attempts`` how many were made."""

    def __init__(self, last: ApiError, attempts: int, elapsed: float) -> None:
        super().__init__(last.status, last.check, last.detail)
        self.last = last
        self.attempts = attempts
        self.elapsed = elapsed


def retryable(error: ApiError) -> bool:
    """Whether trying again may succeed: unreachable, or a server or gateway error."""
    return error.check == "unreachable" or error.status in RETRYABLE_STATUSES


@dataclass(frozen=True)
class RetryPolicy:
    """How long and how often to try again. Delays double from ``first_delay`` up to
    ``max_delay``, each drawn between half and all of that (jitter, so that many clients cut off
    together do not come back together), never past the ``deadline`` (seconds from the first
    attempt); a ``Retry-After`` from the relay is honoured within it."""

    deadline: float = DEFAULT_DEADLINE
    first_delay: float = 0.5
    max_delay: float = 8.0
    max_attempts: int | None = None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, deadline: float | None = None
    ) -> RetryPolicy:
        """The policy with ``deadline`` if given, else ``$LIAISONCLIENT_RETRY_DEADLINE``."""
        environ = os.environ if environ is None else environ
        if deadline is None:
            raw = environ.get(DEADLINE_ENV, "").strip()
            try:
                deadline = float(raw) if raw else DEFAULT_DEADLINE
            except ValueError:
                message = f"{DEADLINE_ENV} must be a number of seconds, not {raw!r}"
                raise ValueError(message) from None
        if deadline < 0:
            raise ValueError("the retry deadline cannot be negative")
        return cls(deadline=deadline)

    def limited(self, attempts: int) -> RetryPolicy:
        """The same policy, stopping after ``attempts`` attempts at the latest."""
        return replace(self, max_attempts=attempts)

    def delay(self, retry: int) -> float:
        """The pause before retry number ``retry`` (1 for the first)."""
        ceiling = min(self.max_delay, self.first_delay * 2 ** (retry - 1))
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not a secret

    def call(self, attempt: Callable[[], T], on_retry: OnRetry | None = None) -> T:
        """Run ``attempt`` until it succeeds, fails for good (raised at once), or the deadline
        passes (``GaveUp``). ``on_retry(error, pause, attempts)`` is told before each pause."""
        started = self.clock()
        attempts = 0
        while True:
            attempts += 1
            try:
                return attempt()
            except ApiError as error:
                if not retryable(error):
                    raise
                elapsed = self.clock() - started
                remaining = self.deadline - elapsed
                if remaining <= 0 or (self.max_attempts and attempts >= self.max_attempts):
                    raise GaveUp(error, attempts, elapsed) from error
                pause = max(self.delay(attempts), error.retry_after or 0.0)
                pause = min(pause, remaining)
                if on_retry is not None:
                    on_retry(error, pause, attempts)
                self.sleep(pause)
