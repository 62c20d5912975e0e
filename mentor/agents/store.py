"""Storage of experience memory in SQL (SQLite by default, PostgreSQL), via SQLAlchemy.

The store has its own three tables, named with a prefix (default ``agent_memory_``) so
that it can share a database with mentor's service without touching its tables (the
service defines them in its own metadata with :func:`memory_tables`, and its migration
0004 creates them):

- ``{prefix}agents``: each agent's memory settings, for the service (embedder, items
  retrieved per task, consolidation rule);
- ``{prefix}items``: one row per memory item, per workspace and agent, with its text,
  its two embeddings (of its source task, for retrieval, and of its own text, for
  deduplication), its use statistics, a version counter incremented at every change,
  and whether it is retired;
- ``{prefix}outcomes``: one row per finished task (family, success, attempts, the ids of
  the items retrieved for it).

:meth:`MemoryStore.create` creates them outside the service. Every change that one
task causes (its outcome, the use counts of the retrieved items, the new, merged and
retired items) is written by :meth:`MemoryStore.commit` in one transaction, so a crash
never leaves half of it.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

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


def _item(r: Mapping[str, Any]) -> MemoryItem:
    return MemoryItem(
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
    )


def _stored(r: Mapping[str, Any]) -> Stored:
    return Stored(_item(r), _vector(r["key_vec"]), _vector(r["item_vec"]))


@dataclass(frozen=True)
class MemoryTables:
    """The store's tables: ``agents`` (each agent's memory settings), ``items`` and
    ``outcomes``."""

    agents: Any
    items: Any
    outcomes: Any


def memory_tables(metadata: Any, prefix: str = "agent_memory_") -> MemoryTables:
    """Define the store's tables in a SQLAlchemy ``MetaData`` (the service puts them in
    its own, so that its migrations create them).

    Parameters
    ----------
    metadata
        Where to define them.
    prefix
        Prefix of the table names: letters, digits and underscores.
    """
    import sqlalchemy as sa

    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", prefix):
        raise ParameterError(
            "must be letters, digits and underscores", field="prefix", value=prefix
        )
    agents = sa.Table(
        f"{prefix}agents",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("workspace", sa.String(200), nullable=False),
        sa.Column("agent", sa.String(200), nullable=False),
        sa.Column("embedder", sa.String(64), nullable=False),
        sa.Column("k", sa.Integer, nullable=False),
        sa.Column("consolidation", sa.Text, nullable=True),
        sa.Column("created", sa.Float, nullable=False),
        sa.Column("updated", sa.Float, nullable=False),
        sa.UniqueConstraint("workspace", "agent", name=f"{prefix}agents_owner"),
    )
    items = sa.Table(
        f"{prefix}items",
        metadata,
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
    outcomes = sa.Table(
        f"{prefix}outcomes",
        metadata,
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
    return MemoryTables(agents, items, outcomes)


@dataclass(frozen=True)
class Settings:
    """An agent's memory settings, as the service keeps them: the embedder's name, the
    items retrieved per task, and the consolidation rule (None: append only)."""

    embedder: str
    k: int
    consolidation: dict[str, Any] | None


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
    tables
        Tables already defined by :func:`memory_tables` (in the service's metadata);
        ``prefix`` is then unused.
    """

    def __init__(
        self,
        url: str | object = "sqlite://",
        prefix: str = "agent_memory_",
        tables: MemoryTables | None = None,
    ) -> None:
        try:
            import sqlalchemy as sa
        except ImportError:
            raise MentorError(
                "the memory store needs SQLAlchemy: pip install 'mentor[agents]'"
            ) from None
        self._sa = sa
        if tables is None:
            self.metadata = sa.MetaData()
            tables = memory_tables(self.metadata, prefix)
        else:
            self.metadata = tables.items.metadata
        if isinstance(url, str):
            try:
                self.engine = sa.create_engine(url)
            except sa.exc.ArgumentError as error:
                raise ParameterError(str(error), field="url", value=url) from None
        else:
            self.engine = url
        self.tables = tables
        self.agents, self.items, self.outcomes = tables.agents, tables.items, tables.outcomes
        self._connection = None

    def using(self, connection: Any) -> MemoryStore:
        """The same store, whose reads and writes all run on ``connection`` (inside
        the caller's transaction, which the caller commits)."""
        bound = copy.copy(self)
        bound._connection = connection
        return bound

    def _begin(self):
        if self._connection is not None:
            return contextlib.nullcontext(self._connection)
        return self.engine.begin()

    def _connect(self):
        if self._connection is not None:
            return contextlib.nullcontext(self._connection)
        return self.engine.connect()

    def create(self) -> MemoryStore:
        """Create the tables where missing; returns the store."""
        self.metadata.create_all(self.engine, tables=list(self._all()))
        return self

    def drop(self) -> None:
        """Drop the store's tables (and only them)."""
        self.metadata.drop_all(self.engine, tables=list(self._all()))

    def _all(self):
        return (self.agents, self.items, self.outcomes)

    def load(self, workspace: str, agent: str, retired: bool = False) -> list[Stored]:
        """The agent's items in id order; retired ones too when ``retired``."""
        sa, t = self._sa, self.items
        query = sa.select(t).where(t.c.workspace == workspace, t.c.agent == agent)
        if not retired:
            query = query.where(t.c.retired.is_(False))
        with self._connect() as connection:
            rows = connection.execute(query.order_by(t.c.id)).mappings().all()
        return [_stored(r) for r in rows]

    def page(
        self,
        workspace: str,
        agent: str,
        retired: bool | None = False,
        offset: int = 0,
        limit: int = 100,
    ) -> list[MemoryItem]:
        """One page of the agent's items in id order (no embeddings): active ones
        (``retired=False``), retired ones (True) or both (None)."""
        sa, t = self._sa, self.items
        columns = [c for c in t.c if c.name not in ("key_vec", "item_vec")]
        query = sa.select(*columns).where(t.c.workspace == workspace, t.c.agent == agent)
        if retired is not None:
            query = query.where(t.c.retired.is_(bool(retired)))
        query = query.order_by(t.c.id).offset(offset).limit(limit)
        with self._connect() as connection:
            return [_item(r) for r in connection.execute(query).mappings().all()]

    def get(self, workspace: str, agent: str, item_id: int) -> MemoryItem | None:
        """One item of the agent (retired or not), None if it has no such item."""
        sa, t = self._sa, self.items
        columns = [c for c in t.c if c.name not in ("key_vec", "item_vec")]
        query = sa.select(*columns).where(
            t.c.workspace == workspace, t.c.agent == agent, t.c.id == item_id
        )
        with self._connect() as connection:
            row = connection.execute(query).mappings().one_or_none()
        return None if row is None else _item(row)

    def keys(self, workspace: str, agent: str) -> tuple[list[int], np.ndarray]:
        """The active items' ids (in id order) and retrieval keys, one row each (what
        retrieval needs, without the items' texts and other vectors)."""
        sa, t = self._sa, self.items
        query = (
            sa.select(t.c.id, t.c.key_vec)
            .where(t.c.workspace == workspace, t.c.agent == agent, t.c.retired.is_(False))
            .order_by(t.c.id)
        )
        with self._connect() as connection:
            rows = connection.execute(query).all()
        if not rows:
            return [], np.zeros((0, 0), dtype=np.float32)
        keys = np.frombuffer(b"".join(r.key_vec for r in rows), dtype="<f4")
        return [int(r.id) for r in rows], keys.reshape(len(rows), -1).copy()

    def by_ids(self, workspace: str, agent: str, ids: Sequence[int]) -> list[MemoryItem]:
        """The agent's items with these ids, in the order of ``ids`` (missing ones left
        out)."""
        if not ids:
            return []
        sa, t = self._sa, self.items
        columns = [c for c in t.c if c.name not in ("key_vec", "item_vec")]
        query = sa.select(*columns).where(
            t.c.workspace == workspace, t.c.agent == agent, t.c.id.in_(list(ids))
        )
        with self._connect() as connection:
            found = {r["id"]: _item(r) for r in connection.execute(query).mappings()}
        return [found[i] for i in ids if i in found]

    def owned(self, workspace: str, agent: str, ids: Sequence[int]) -> dict[int, bool]:
        """``{id: retired}`` for those of ``ids`` that are the agent's items."""
        if not ids:
            return {}
        sa, t = self._sa, self.items
        query = sa.select(t.c.id, t.c.retired).where(
            t.c.workspace == workspace, t.c.agent == agent, t.c.id.in_(sorted(set(ids)))
        )
        with self._connect() as connection:
            return {int(i): bool(r) for i, r in connection.execute(query)}

    def history(
        self,
        workspace: str,
        agent: str,
        family: str | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """The recorded outcomes in the order they were recorded (of one family, if
        given): ``task_id``, ``family``, ``success``, ``attempts``, ``retrieved`` (item
        ids) and ``time`` (seconds since the epoch)."""
        sa, t = self._sa, self.outcomes
        query = sa.select(t).where(t.c.workspace == workspace, t.c.agent == agent)
        if family is not None:
            query = query.where(t.c.family == family)
        query = query.order_by(t.c.id).offset(offset)
        if limit is not None:
            query = query.limit(limit)
        with self._connect() as connection:
            rows = connection.execute(query).mappings().all()
        return [
            {
                "id": int(r["id"]),
                "task_id": r["task_id"],
                "family": r["family"],
                "success": bool(r["success"]),
                "attempts": int(r["attempts"]),
                "retrieved": [int(i) for i in json.loads(r["retrieved"])],
                "time": float(r["time"]),
            }
            for r in rows
        ]

    def counts(self, workspace: str, agent: str) -> dict[str, int]:
        """``{"active": n, "retired": n, "outcomes": n}``."""
        sa, t, o = self._sa, self.items, self.outcomes
        with self._connect() as connection:
            by = dict(
                connection.execute(
                    sa.select(t.c.retired, sa.func.count())
                    .where(t.c.workspace == workspace, t.c.agent == agent)
                    .group_by(t.c.retired)
                ).all()
            )
            outcomes = connection.execute(
                sa.select(sa.func.count()).where(o.c.workspace == workspace, o.c.agent == agent)
            ).scalar_one()
        return {
            "active": int(sum(n for r, n in by.items() if not r)),
            "retired": int(sum(n for r, n in by.items() if r)),
            "outcomes": int(outcomes),
        }

    # ------------------------------------------------------------------ settings
    def settings(self, workspace: str, agent: str, lock: bool = False) -> Settings | None:
        """The agent's memory settings, None for an agent the store does not know;
        ``lock`` locks its row until the transaction ends (PostgreSQL's ``FOR
        UPDATE``; SQLite's writers are serialised anyway), so that one agent's
        writes happen one at a time."""
        sa, a = self._sa, self.agents
        query = sa.select(a.c.embedder, a.c.k, a.c.consolidation).where(
            a.c.workspace == workspace, a.c.agent == agent
        )
        if lock:
            query = query.with_for_update()
        with self._connect() as connection:
            row = connection.execute(query).one_or_none()
        if row is None:
            return None
        return Settings(
            row.embedder,
            int(row.k),
            None if row.consolidation is None else json.loads(row.consolidation),
        )

    def agents_of(self, workspace: str) -> list[tuple[str, Settings]]:
        """The workspace's agents and their settings, by name."""
        sa, a = self._sa, self.agents
        query = (
            sa.select(a.c.agent, a.c.embedder, a.c.k, a.c.consolidation)
            .where(a.c.workspace == workspace)
            .order_by(a.c.agent)
        )
        with self._connect() as connection:
            rows = connection.execute(query).all()
        return [
            (
                r.agent,
                Settings(
                    r.embedder,
                    int(r.k),
                    None if r.consolidation is None else json.loads(r.consolidation),
                ),
            )
            for r in rows
        ]

    def put_settings(self, workspace: str, agent: str, settings: Settings) -> bool:
        """Create or replace the agent's settings; True when the agent is new."""
        a = self.agents
        now = time.time()
        values = {
            "embedder": settings.embedder,
            "k": int(settings.k),
            "consolidation": None
            if settings.consolidation is None
            else json.dumps(settings.consolidation, sort_keys=True),
            "updated": now,
        }
        with self._begin() as connection:
            result = connection.execute(
                a.update().where(a.c.workspace == workspace, a.c.agent == agent).values(values)
            )
            if result.rowcount:
                return False
            connection.execute(
                a.insert().values(workspace=workspace, agent=agent, created=now, **values)
            )
        return True

    def forget(self, workspace: str, agent: str) -> bool:
        """Delete the agent: its settings, items and outcomes; False if unknown."""
        a, t, o = self.agents, self.items, self.outcomes
        with self._begin() as connection:
            for table in (t, o):
                connection.execute(
                    table.delete().where(table.c.workspace == workspace, table.c.agent == agent)
                )
            result = connection.execute(
                a.delete().where(a.c.workspace == workspace, a.c.agent == agent)
            )
        return result.rowcount > 0

    def family_counts(self, workspace: str, agent: str) -> dict[str, tuple[int, int]]:
        """``{family: (tasks, successes)}`` over the recorded outcomes."""
        sa, t = self._sa, self.outcomes
        query = (
            sa.select(t.c.family, sa.func.count(), sa.func.sum(sa.cast(t.c.success, sa.Integer)))
            .where(t.c.workspace == workspace, t.c.agent == agent)
            .group_by(t.c.family)
        )
        with self._connect() as connection:
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
        with self._begin() as connection:
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
                    .values(
                        retired=True, retired_reason=reason, version=t.c.version + 1, updated=now
                    )
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
        with self._begin() as connection:
            result = connection.execute(
                t.delete().where(
                    (t.c.workspace == workspace) & (t.c.agent == agent) & (t.c.id == item_id)
                )
            )
        return result.rowcount > 0
