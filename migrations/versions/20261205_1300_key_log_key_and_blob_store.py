"""key-log signing key in the database, blob store column and database blob chunks

Revision ID: blobs0001
Revises: 46d530f7bd0b
Create Date: 2026-12-05 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "blobs0001"
down_revision: str | Sequence[str] | None = "46d530f7bd0b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "key_log_key",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seed", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_log_key")),
    )
    op.create_table(
        "blob_chunk",
        sa.Column("blob_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("blob_id", "seq", name=op.f("pk_blob_chunk")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Encrypted chunks do not compress: store them out of line without trying.
        op.execute("ALTER TABLE blob_chunk ALTER COLUMN data SET STORAGE EXTERNAL")
    with op.batch_alter_table("blob") as batch_op:
        batch_op.add_column(
            sa.Column("store", sa.String(length=10), server_default="filesystem", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("blob") as batch_op:
        batch_op.drop_column("store")
    op.drop_table("blob_chunk")
    op.drop_table("key_log_key")
