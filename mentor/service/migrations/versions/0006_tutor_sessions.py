"""Tutoring sessions (:mod:`mentor.service.tutor_tables`): ``tutor_sessions``, one
row per Socratic session opened after a wrong answer, with its saved state.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "tutor_sessions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.String(length=32), nullable=False),
        sa.Column("item", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("stuck", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(["course_id"], ["courses.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["learner_id"], ["learners.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("attempt_id"),
    )
    with op.batch_alter_table("tutor_sessions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tutor_sessions_course_learner", ["course_id", "learner_id"], unique=False
        )


def downgrade() -> None:
    """Downgrade schema (the tutoring sessions are lost; their events stay)."""
    with op.batch_alter_table("tutor_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_tutor_sessions_course_learner")
    op.drop_table("tutor_sessions")
