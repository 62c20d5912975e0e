"""Storage of experience memory in SQL (SQLite by default, PostgreSQL), via SQLAlchemy.

The store has its own two tables, named with a prefix (default ``agent_memory_``) so
that it can share a database with mentor's service without touching its tables:

- ``{prefix}items``: one row per memory item, per workspace and agent, with its text,
  its two embeddings (of its source task, for retrieval, and of its own text, for
  deduplication), its use statistics, a version counter incremented at every change,
  and whether it is retired;
- ``{prefix}outcomes``: one row per finished task (family, success, attempts, the ids of
  the items retrieved for it).

:meth:`MemoryStore.create` creates them. Every change that one task causes (its outcome,
the use counts of the retrieved items, the new, merged and retired items) is written by
:meth:`MemoryStore.commit` in one transaction, so a crash never leaves half of it.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from mentor.agents.items import MemoryItem
from mentor.errors import MentorError, ParameterError


@dataclass(frozen=True)
class Stored:
    """An item with its embeddings: ``key`` (of its source task) and ``vector`` (of its
    text)."""

    item: MemoryItem
    key: np.ndarray
    vector: np.ndarray


@dataclass(frozen=True)
class Outcome:
    """A finished task: what :meth:`MemoryStore.commit` records."""

    task_id: str
    family: str
    success: bool
    attempts: int = 1
    retrieved: tuple[int, ...] = ()


def _blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def _vector(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f4").copy()


class MemoryStore:
    """Memory items and task outcomes in a SQL database.

    Parameters
    ----------
    url
        A SQLAlchemy URL (``sqlite:///memory.db``, ``postgresql+psycopg://...``) or an
        ``Engine``. Default an in-memory SQLite database.
    prefix
        Prefix of the table names: letters, digits and underscores. Default
        ``"agent_memory_"``.
    """

    def __init__(self, url: str | object = "sqlite://", prefix: str = "agent_memory_") -> None:
        try:
            import sqlalchemy as sa
        except ImportError:
            raise MentorError(
                "the memory store needs SQLAlchemy: pip install 'mentor[agents]'"
            ) from None
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", prefix):
            raise ParameterError(
                "must be letters, digits and underscores", field="prefix", value=prefix
            )
        self._sa = sa
        if isinstance(url, str):
            try:
                self.engine = sa.create_engine(url)
            except sa.exc.ArgumentError as error:
                raise ParameterError(str(error), field="url", value=url) from None
        else:
            self.engine = url
        self.metadata = sa.MetaData()
        self.items = sa.Table(
            f"{prefix}items",
            self.metadata,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("workspace", sa.String(200), nullable=False),
            sa.Column("agent", sa.String(200), nullable=False),
            sa.Column("title", sa.Text, nullable=False),
            sa.Column("description", sa.Text, nullable=False),
            sa.Column("content", sa.Text, nullable=False),
            sa.Column("polarity", sa.String(16), nullable=False),
            sa.Column("source_task", sa.Text, nullable=False),
            sa.Column("key_vec", sa.LargeBinary, nullable=False),
            sa.Column("item_vec", sa.LargeBinary, nullable=False),
            sa.Column("uses", sa.Integer, nullable=False, default=0),
            sa.Column("successes", sa.Integer, nullable=False, default=0),
            sa.Column("expected", sa.Float, nullable=False, default=0.0),
            sa.Column("support", sa.Integer, nullable=False, default=1),
            sa.Column("version", sa.Integer, nullable=False, default=1),
            sa.Column("retired", sa.Boolean, nullable=False, default=False),
            sa.Column("retired_reason", sa.Text, nullable=True),
            sa.Column("created", sa.Float, nullable=False),
            sa.Column("updated", sa.Float, nullable=False),
            sa.Index(f"{prefix}items_owner", "workspace", "agent", "retired"),
        )
        self.outcomes = sa.Table(
            f"{prefix}outcomes",
            self.metadata,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("workspace", sa.String(200), nullable=False),
            sa.Column("agent", sa.String(200), nullable=False),
            sa.Column("task_id", sa.String(500), nullable=False),
            sa.Column("family", sa.String(200), nullable=False),
            sa.Column("success", sa.Boolean, nullable=False),
            sa.Column("attempts", sa.Integer, nullable=False),
            sa.Column("retrieved", sa.Text, nullable=False),
            sa.Column("time", sa.Float, nullable=False),
            sa.Index(f"{prefix}outcomes_owner", "workspace", "agent", "family"),
        )

    def create(self) -> MemoryStore:
        """Create the tables where missing; returns the store."""
        self.metadata.create_all(self.engine)
        return self

    def drop(self) -> None:
        """Drop the store's tables (and only them)."""
        self.metadata.drop_all(self.engine)

    def load(self, workspace: str, agent: str, retired: bool = False) -> list[Stored]:
        """The agent's items in id order; retired ones too when ``retired``."""
        sa, t = self._sa, self.items
        query = sa.select(t).where(t.c.workspace == workspace, t.c.agent == agent)
        if not retired:
            query = query.where(t.c.retired.is_(False))
        with self.engine.connect() as connection:
            rows = connection.execute(query.order_by(t.c.id)).mappings().all()
        return [
            Stored(
                MemoryItem(
                    title=r["title"],
                    description=r["description"],
                    content=r["content"],
                    polarity=r["polarity"],
                    source_task=r["source_task"],
                    id=r["id"],
                    uses=r["uses"],
                    successes=r["successes"],
                    expected=r["expected"],
                    support=r["support"],
                    version=r["version"],
                    retired=bool(r["retired"]),
                    retired_reason=r["retired_reason"],
                ),
                _vector(r["key_vec"]),
                _vector(r["item_vec"]),
            )
            for r in rows
        ]

    def family_counts(self, workspace: str, agent: str) -> dict[str, tuple[int, int]]:
        """``{family: (tasks, successes)}`` over the recorded outcomes."""
        sa, t = self._sa, self.outcomes
        query = (
            sa.select(t.c.family, sa.func.count(), sa.func.sum(sa.cast(t.c.success, sa.Integer)))
            .where(t.c.workspace == workspace, t.c.agent == agent)
            .group_by(t.c.family)
        )
        with self.engine.connect() as connection:
            return {f: (int(n), int(s or 0)) for f, n, s in connection.execute(query)}

    def commit(
        self,
        workspace: str,
        agent: str,
        outcome: Outcome | None = None,
        used: Mapping[int, float] | None = None,
        new: Sequence[Stored] = (),
        merged: Mapping[int, int] | None = None,
        retired: Mapping[int, str] | None = None,
        keys: Mapping[int, np.ndarray] | None = None,
    ) -> list[Stored]:
        """Write everything one task changed, in one transaction.

        Parameters
        ----------
        outcome
            The task's outcome, appended to the outcomes table.
        used
            ``{item id: expected success}`` of the items retrieved for the task: each
            gets ``uses + 1``, ``successes + outcome.success``, ``expected + value``.
        new
            Items to insert.
        merged
            ``{item id: n}``: ``n`` near-identical items were merged into the item.
        retired
            ``{item id: reason}``: items to retire.
        keys
            ``{item id: embedding}``: new retrieval keys (of merged items).

        Returns
        -------
        list of Stored
            ``new`` with the ids the database gave them.
        """
        t = self.items
        now = time.time()
        owner = (t.c.workspace == workspace) & (t.c.agent == agent)
        stored = []
        with self.engine.begin() as connection:
            if outcome is not None:
                connection.execute(
                    self.outcomes.insert().values(
                        workspace=workspace,
                        agent=agent,
                        task_id=outcome.task_id,
                        family=outcome.family,
                        success=bool(outcome.success),
                        attempts=int(outcome.attempts),
                        retrieved=json.dumps(list(outcome.retrieved)),
                        time=now,
                    )
                )
            for item_id, expected in (used or {}).items():
                if outcome is None:
                    raise ParameterError("item uses need the task's outcome", field="used")
                connection.execute(
                    t.update()
                    .where(owner & (t.c.id == item_id))
                    .values(
                        uses=t.c.uses + 1,
                        successes=t.c.successes + int(bool(outcome.success)),
                        expected=t.c.expected + float(expected),
                        version=t.c.version + 1,
                        updated=now,
                    )
                )
            for item_id, n in (merged or {}).items():
                connection.execute(
                    t.update()
                    .where(owner & (t.c.id == item_id))
                    .values(support=t.c.support + int(n), version=t.c.version + 1, updated=now)
                )
            for item_id, key in (keys or {}).items():
                connection.execute(
                    t.update().where(owner & (t.c.id == item_id)).values(key_vec=_blob(key))
                )
            for item_id, reason in (retired or {}).items():
                connection.execute(
                    t.update()
                    .where(owner & (t.c.id == item_id))
                    .values(retired=True, retired_reason=reason, version=t.c.version + 1,
                            updated=now)
                )
            for entry in new:
                item = entry.item
                result = connection.execute(
                    t.insert().values(
                        workspace=workspace,
                        agent=agent,
                        title=item.title,
                        description=item.description,
                        content=item.content,
                        polarity=item.polarity,
                        source_task=item.source_task,
                        key_vec=_blob(entry.key),
                        item_vec=_blob(entry.vector),
                        uses=0,
                        successes=0,
                        expected=0.0,
                        support=item.support,
                        version=1,
                        retired=False,
                        retired_reason=None,
                        created=now,
                        updated=now,
                    )
                )
                new_id = int(result.inserted_primary_key[0])
                stored.append(replace(entry, item=replace(item, id=new_id, version=1)))
        return stored

    def delete(self, workspace: str, agent: str, item_id: int) -> bool:
        """Delete one item; False when the agent has no such item."""
        t = self.items
        with self.engine.begin() as connection:
            result = connection.execute(
                t.delete().where(
                    (t.c.workspace == workspace) & (t.c.agent == agent) & (t.c.id == item_id)
                )
            )
        return result.rowcount > 0
