"""clear the stored points of locations whose address is not stored

Revision ID: locpriv0001
Revises: jobsmail0001
Create Date: 2026-12-05 13:50:00

A ``not_stored`` address keeps only its town: its exact point is not kept either (issue 10).
Data only; the schema is unchanged. The points are gone for good, so downgrade restores nothing.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "locpriv0001"
down_revision: str | Sequence[str] | None = "jobsmail0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "UPDATE location SET latitude = NULL, longitude = NULL "
        "WHERE (latitude IS NOT NULL OR longitude IS NOT NULL) AND id IN "
        "(SELECT location_id FROM address WHERE visibility = 'not_stored')"
    )


def downgrade() -> None:
    pass  # the cleared points cannot come back, and nothing else changed
