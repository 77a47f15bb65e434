"""The relay's per-person rate limiter: the shared limiter of ``core.ratelimit`` (counted in the
database, so a limit holds across web processes and hosts), refusing with the relay's
``RateLimited`` (429 with ``Retry-After`` and the check ``rate-limited``)."""

from __future__ import annotations

from core import ratelimit
from messaging.errors import RateLimited

WINDOW = ratelimit.WINDOW


class RateLimiter(ratelimit.RateLimiter):
    """At most ``per_minute`` events per person in each minute; 429 beyond."""

    error = RateLimited
