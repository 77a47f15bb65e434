"""Imports every model module so that ``Base.metadata`` is complete (Alembic, tests)."""

from __future__ import annotations

from core.db import Base


def import_all_models() -> type[Base]:
    """Load every package's models and return the declarative base."""
    import directory.models  # noqa: F401

    return Base
