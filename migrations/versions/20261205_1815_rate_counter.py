"""rate counters shared by every web process

Revision ID: ratelimit0001
Revises: unlockkey0001
Create Date: 2026-12-05 18:15:00

One row per (scope, key, minute): the count of events, upserted atomically on each hit so that a
rate limit holds across web processes and hosts (issue 11). Rows are short-lived (pruned after
two minutes); nothing to migrate.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ratelimit0001"
down_revision: str | Sequence[str] | None = "unlockkey0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_counter",
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", "window_start", name=op.f("pk_rate_counter")),
    )


def downgrade() -> None:
    op.drop_table("rate_counter")
