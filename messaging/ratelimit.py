"""A small per-person rate limiter (sliding one-minute window, kept in the process's memory).

Each web process counts on its own, so with N processes a person gets at most N times the limit;
that bounds abuse (key-directory scraping, message floods) without a database write per request.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

from messaging.errors import RateLimited

WINDOW = 60.0


class RateLimiter:
    """At most ``per_minute`` events per key in any sliding minute."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._calls = 0

    def hit(self, key: str, what: str) -> None:
        """Count one event for ``key``; raises ``RateLimited`` past the limit (0 means none)."""
        if self.per_minute <= 0:
            return
        now = time.monotonic()
        with self._lock:
            self._calls += 1
            if self._calls % 1000 == 0:
                self._forget_idle(now)
            events = self._events.setdefault(key, deque())
            while events and events[0] <= now - WINDOW:
                events.popleft()
            if len(events) >= self.per_minute:
                retry = max(1, math.ceil(events[0] + WINDOW - now))
                raise RateLimited(f"too many {what}; try again in {retry} seconds", retry)
            events.append(now)

    def _forget_idle(self, now: float) -> None:
        idle = [k for k, events in self._events.items() if not events or events[-1] <= now - WINDOW]
        for key in idle:
            del self._events[key]
