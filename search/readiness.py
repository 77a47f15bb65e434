"""The search backend's state as a readiness check (registered by the composition root)."""

from __future__ import annotations

from core.health import DEGRADED, FAILING, OK, Check, CheckResult
from search.service import SearchService


def search_check(service: SearchService) -> Check:
    """Ok when the configured engine answers; degraded while the embedded fallback serves."""

    def check() -> CheckResult:
        health = service.health()
        status = {"ok": OK, "degraded": DEGRADED}.get(str(health["status"]), FAILING)
        return CheckResult(status, dict(health))

    return check
