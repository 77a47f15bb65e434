"""Alembic migrations, one per schema change, named ``YYYYMMDD_HHMM_<what>.py``."""
