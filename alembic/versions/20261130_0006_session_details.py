"""Sessions keep how their token travels, the browser that started them, and when last seen.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sessions") as sessions:
        sessions.add_column(
            sa.Column("kind", sa.String(length=8), server_default="cookie", nullable=False)
        )
        sessions.add_column(sa.Column("user_agent", sa.String(length=256), nullable=True))
        sessions.add_column(sa.Column("last_seen", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sessions") as sessions:
        sessions.drop_column("last_seen")
        sessions.drop_column("user_agent")
        sessions.drop_column("kind")
