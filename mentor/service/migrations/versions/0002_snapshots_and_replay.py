"""Course state as a snapshot plus the batches after it: ``course_states`` gets
``snapshot_version`` (the version its saved state reflects) and ``base_version``
(the version of the last change of model or teacher); ``batches`` gets
``version`` (the course's version once the batch was applied).

Every course saved by revision 0001 has its state saved at its current
version, so both new columns start at ``version``.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("course_states", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("snapshot_version", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("base_version", sa.BigInteger(), nullable=False, server_default="0")
        )
    op.execute("UPDATE course_states SET snapshot_version = version, base_version = version")
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.BigInteger(), nullable=True))
        batch_op.create_index("ix_batches_course_version", ["course_id", "version"], unique=False)


def downgrade() -> None:
    """Downgrade schema (the saved state must be current: save a snapshot first)."""
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.drop_index("ix_batches_course_version")
        batch_op.drop_column("version")
    with op.batch_alter_table("course_states", schema=None) as batch_op:
        batch_op.drop_column("base_version")
        batch_op.drop_column("snapshot_version")
