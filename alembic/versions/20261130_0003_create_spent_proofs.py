"""Create the spent_proofs table: one-time proofs already used, until they expire.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "spent_proofs",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("digest"),
    )
    op.create_index("ix_spent_proofs_expires_at", "spent_proofs", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_spent_proofs_expires_at", table_name="spent_proofs")
    op.drop_table("spent_proofs")
