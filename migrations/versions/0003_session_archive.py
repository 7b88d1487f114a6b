"""Session archive: extracted FastF1 sessions of finished events, kept for good.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 19:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "session_archive",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("round", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("session_type", sa.String(length=8), nullable=False),
        sa.Column("format_version", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("year", "round", "session_type", name=op.f("pk_session_archive")),
    )


def downgrade() -> None:
    op.drop_table("session_archive")
