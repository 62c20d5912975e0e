"""Agents' experience memory and chat-call audit log (:mod:`mentor.service.agent_tables`):

- ``agent_memory_agents``: each agent's memory settings (embedder, items retrieved per
  task, consolidation rule), per workspace;
- ``agent_memory_items``: memory items with their two embeddings, use statistics,
  version and retirement;
- ``agent_memory_outcomes``: each recorded task outcome and the items retrieved for it;
- ``llm_calls``: every chat call an agent logged (the event-store sink of
  :mod:`mentor.llm`), per workspace, agent and run.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "agent_memory_agents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace", sa.String(length=200), nullable=False),
        sa.Column("agent", sa.String(length=200), nullable=False),
        sa.Column("embedder", sa.String(length=64), nullable=False),
        sa.Column("k", sa.Integer(), nullable=False),
        sa.Column("consolidation", sa.Text(), nullable=True),
        sa.Column("created", sa.Float(), nullable=False),
        sa.Column("updated", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace", "agent", name="agent_memory_agents_owner"),
    )
    op.create_table(
        "agent_memory_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace", sa.String(length=200), nullable=False),
        sa.Column("agent", sa.String(length=200), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("polarity", sa.String(length=16), nullable=False),
        sa.Column("source_task", sa.Text(), nullable=False),
        sa.Column("key_vec", sa.LargeBinary(), nullable=False),
        sa.Column("item_vec", sa.LargeBinary(), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("successes", sa.Integer(), nullable=False),
        sa.Column("expected", sa.Float(), nullable=False),
        sa.Column("support", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column("retired_reason", sa.Text(), nullable=True),
        sa.Column("created", sa.Float(), nullable=False),
        sa.Column("updated", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "agent_memory_items_owner", "agent_memory_items", ["workspace", "agent", "retired"]
    )
    op.create_table(
        "agent_memory_outcomes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace", sa.String(length=200), nullable=False),
        sa.Column("agent", sa.String(length=200), nullable=False),
        sa.Column("task_id", sa.String(length=500), nullable=False),
        sa.Column("family", sa.String(length=200), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("retrieved", sa.Text(), nullable=False),
        sa.Column("time", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "agent_memory_outcomes_owner", "agent_memory_outcomes", ["workspace", "agent", "family"]
    )
    op.create_table(
        "llm_calls",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace", sa.String(length=200), nullable=False),
        sa.Column("agent", sa.String(length=200), nullable=False),
        sa.Column("run", sa.String(length=200), nullable=False),
        sa.Column("time", sa.Float(), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("latency_s", sa.Float(), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=True),
        sa.Column("completion_tokens", sa.Integer(), nullable=True),
        sa.Column("cost", sa.Float(), nullable=True),
        sa.Column("record", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("llm_calls_run", "llm_calls", ["workspace", "agent", "run", "id"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("llm_calls_run", table_name="llm_calls")
    op.drop_table("llm_calls")
    op.drop_index("agent_memory_outcomes_owner", table_name="agent_memory_outcomes")
    op.drop_table("agent_memory_outcomes")
    op.drop_index("agent_memory_items_owner", table_name="agent_memory_items")
    op.drop_table("agent_memory_items")
    op.drop_table("agent_memory_agents")
