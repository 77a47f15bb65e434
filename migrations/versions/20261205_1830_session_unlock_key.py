"""session unlock key

Revision ID: unlockkey0001
Revises: searchsync0001
Create Date: 2026-12-05 18:30:00.000000

The per-session key under which the browser keeps its unlocked private keys (issue 12). Sessions
open at upgrade time simply have none: their next unlock creates one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "unlockkey0001"
down_revision: str | Sequence[str] | None = "searchsync0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unlock_key", sa.LargeBinary(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.drop_column("unlock_key")
