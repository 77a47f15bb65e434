"""search change log: cursors of shared indexes, and the log's age index

Revision ID: searchsync0001
Revises: locpriv0001
Create Date: 2026-12-05 18:10:00

``search_outbox`` stops being drained: it becomes a change log every index reads from its own
cursor. Meilisearch's cursor (shared by all hosts) and the prune mark live in ``search_cursor``;
the embedded index keeps its cursor beside its files. ``created_at`` is indexed for pruning.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "searchsync0001"
down_revision: str | Sequence[str] | None = "locpriv0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "search_cursor",
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("gaps", sa.Text(), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_search_cursor")),
    )
    with op.batch_alter_table("search_outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_search_outbox_created_at"), ["created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("search_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_search_outbox_created_at"))
    op.drop_table("search_cursor")
