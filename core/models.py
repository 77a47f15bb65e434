"""Imports every model module so that ``Base.metadata`` is complete (Alembic, tests)."""

from __future__ import annotations

import importlib

from core.db import Base

MODEL_MODULES = (
    "core.audit",
    "core.outbox",
    "core.jobs",
    "core.mail_outbox",
    "core.ratelimit",
    "accounts.models",
    "directory.models",
    "messaging.models",
    "accounts.api_tokens",
)


def import_all_models() -> type[Base]:
    """Load every package's models and return the declarative base."""
    for name in MODEL_MODULES:
        importlib.import_module(name)
    return Base
