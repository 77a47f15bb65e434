"""The per-person rate limiter behind sending and key look-ups."""

from __future__ import annotations

import pytest

from messaging.errors import RateLimited
from messaging.ratelimit import RateLimiter


def test_the_limit_is_per_person_and_says_when_to_retry():
    limiter = RateLimiter(2)
    limiter.hit("anna", "messages")
    limiter.hit("anna", "messages")
    limiter.hit("bram", "messages")

    with pytest.raises(RateLimited) as refused:
        limiter.hit("anna", "messages")

    assert 1 <= refused.value.retry_after <= 60
    assert "messages" in refused.value.detail


def test_a_limit_of_zero_means_no_limit():
    limiter = RateLimiter(0)

    for _ in range(1000):
        limiter.hit("anna", "key look-ups")
