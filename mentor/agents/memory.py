"""Experience memories behind one interface: retrieve items for a task, record how a
task went.

- :class:`NoMemory`: the memory-free baseline.
- :class:`ExperienceMemory`: retrieval by embedding similarity, top-k, and extraction
  after each task. With an :class:`~mentor.agents.LLMExtractor` and failures on, it is
  ReasoningBank (Ouyang et al., ICLR 2026); with failures off, the success-only,
  workflow-style baseline (AWM, Wang et al. 2024); with
  :class:`~mentor.agents.RawTrajectories`, trajectory-as-memory (Synapse).
- :class:`Consolidation`: beyond the paper, which only appends. Near-identical new
  items are merged into the item they duplicate (its ``support`` grows and its
  retrieval key becomes the mean of its source tasks' embeddings), each item's
  uses and its success when retrieved are tracked, and an item that does worse than its
  tasks' families do on average is retired.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from mentor.agents.embed import Embedder, normalise
from mentor.agents.extract import Extractor
from mentor.agents.items import MemoryItem, Task, Trajectory
from mentor.agents.store import MemoryStore, Outcome, Stored
from mentor.errors import ParameterError


class Memory(Protocol):
    """What an agent loop needs from a memory."""

    def retrieve(self, task: Task) -> list[MemoryItem]:
        """Items for ``task``, most relevant first."""
        ...

    def record(
        self,
        task: Task,
        trajectories: Sequence[Trajectory],
        outcomes: Sequence[bool],
        retrieved: Sequence[MemoryItem],
        success: bool,
    ) -> Recorded:
        """Learn from a finished task: its attempts, their judged outcomes, the items
        that were retrieved for it and whether the task succeeded in the end."""
        ...


@dataclass
class Recorded:
    """What :meth:`ExperienceMemory.record` did."""

    added: list[int] = field(default_factory=list)
    merged: dict[int, int] = field(default_factory=dict)
    keys: dict[int, np.ndarray] = field(default_factory=dict)
    retired: dict[int, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


def embed_items(
    embedder: Embedder, items: Sequence[MemoryItem], task_text: str = ""
) -> list[Stored]:
    """Items with their embeddings: the retrieval key embeds the item's ``source_task``,
    else ``task_text``, else the item's own text; the vector (for deduplication) embeds
    its title, description and content."""
    if not items:
        return []
    texts = [f"{m.title}. {m.description} {m.content}" for m in items]
    vectors = embedder.embed(texts)
    keys = embedder.embed([m.source_task or task_text or texts[i] for i, m in enumerate(items)])
    return [Stored(m, keys[i], vectors[i]) for i, m in enumerate(items)]


class NoMemory:
    """No memory: retrieves nothing, learns nothing."""

    def retrieve(self, task: Task) -> list[MemoryItem]:
        """Nothing."""
        return []

    def record(self, task, trajectories, outcomes, retrieved, success) -> Recorded:
        """Nothing."""
        return Recorded()


@dataclass(frozen=True)
class Consolidation:
    """How :class:`ExperienceMemory` consolidates.

    Attributes
    ----------
    merge_threshold
        A new item whose text embedding has cosine similarity at least this with an
        active item of the same polarity is merged into it: the item keeps its text and
        statistics, its support grows by one and its retrieval key moves to the
        normalised mean of the embeddings of all the source tasks merged into it.
        Default 0.9.
    min_uses
        Uses before an item can be retired. Default 5.
    retire_margin
        An item is retired when ``(successes - expected) / uses < -retire_margin``:
        its tasks succeeded less often, by more than the margin, than their families
        did on average (``expected`` adds up the family's success rate, Laplace
        smoothed, at each use). Default 0.1.
    """

    merge_threshold: float = 0.9
    min_uses: int = 5
    retire_margin: float = 0.1

    def __post_init__(self) -> None:
        if not -1.0 <= self.merge_threshold <= 1.0:
            raise ParameterError(
                "must lie in [-1, 1]", field="merge_threshold", value=self.merge_threshold
            )
        if self.min_uses < 1:
            raise ParameterError("must be >= 1", field="min_uses", value=self.min_uses)
        if self.retire_margin < 0:
            raise ParameterError("must be >= 0", field="retire_margin", value=self.retire_margin)


class ExperienceMemory:
    """Retrieval-augmented experience memory of one agent in one workspace.

    Parameters
    ----------
    store
        Where items and outcomes live (its tables must exist: :meth:`MemoryStore.create`).
    embedder
        Embeds task texts (retrieval keys) and item texts (deduplication).
    extractor
        Turns judged attempts into items (None where the agent extracts its own and
        calls :meth:`remember`).
    workspace, agent
        Whose memory this is.
    k
        Items retrieved per task. Default 1, the paper's best setting.
    failures
        Learn from failed attempts too (ReasoningBank, default) or only from successes.
    consolidation
        A :class:`Consolidation`, or None to only append (the paper).

    Notes
    -----
    The memory keeps its active items in memory as well as in the store (write-through)
    and reads the store once, when built; one process should write one agent's memory.
    """

    def __init__(
        self,
        store: MemoryStore,
        embedder: Embedder,
        extractor: Extractor | None = None,
        workspace: str = "default",
        agent: str = "agent",
        k: int = 1,
        failures: bool = True,
        consolidation: Consolidation | None = None,
    ) -> None:
        if not (isinstance(k, int) and k >= 1):
            raise ParameterError("must be an integer >= 1", field="k", value=k)
        self.store = store
        self.embedder = embedder
        self.extractor = extractor
        self.workspace = workspace
        self.agent = agent
        self.k = k
        self.failures = failures
        self.consolidation = consolidation
        self._active: dict[int, Stored] = {s.item.id: s for s in store.load(workspace, agent)}
        self._families = store.family_counts(workspace, agent)

    # ------------------------------------------------------------------ reading
    def items(self) -> list[MemoryItem]:
        """The active items, in id order."""
        return [s.item for s in self._active.values()]

    def family_rate(self, family: str) -> float:
        """The family's success rate so far, Laplace smoothed: ``(s + 1) / (n + 2)``."""
        n, s = self._families.get(family, (0, 0))
        return (s + 1) / (n + 2)

    def retrieve(self, task: Task) -> list[MemoryItem]:
        """The ``k`` active items whose source tasks are most similar to ``task``
        (cosine similarity of embeddings; ties go to the older item)."""
        return [item for item, _ in self.scored(task.text)]

    def scored(self, text: str, k: int | None = None) -> list[tuple[MemoryItem, float]]:
        """The ``k`` (default :attr:`k`) active items most similar to a task's text,
        with their cosine similarity, most similar first (ties: the older item)."""
        if not self._active:
            return []
        entries = list(self._active.values())
        keys = np.stack([s.key for s in entries])
        scores = keys @ self.embedder.embed([text])[0]
        order = np.argsort(-scores, kind="stable")[: self.k if k is None else k]
        return [(entries[i].item, float(scores[i])) for i in order]

    # ------------------------------------------------------------------ learning
    def record(
        self,
        task: Task,
        trajectories: Sequence[Trajectory],
        outcomes: Sequence[bool],
        retrieved: Sequence[MemoryItem],
        success: bool,
    ) -> Recorded:
        """Credit the retrieved items, extract new items, merge and retire (with
        consolidation), and write it all in one transaction."""
        learn = [(t, o) for t, o in zip(trajectories, outcomes, strict=True) if o or self.failures]
        items: list[MemoryItem] = []
        skipped: list[str] = []
        if learn and self.extractor is None:
            raise ParameterError(
                "this memory has no extractor: call remember() with the items",
                field="extractor",
                value=None,
            )
        if learn:
            extraction = self.extractor.extract(task, [t for t, _ in learn], [o for _, o in learn])
            items, skipped = extraction.items, extraction.skipped
        done = self.remember(
            task,
            success,
            [m.id for m in retrieved if m.id is not None],
            items,
            attempts=len(trajectories),
        )
        done.skipped = skipped
        return done

    def remember(
        self,
        task: Task,
        success: bool,
        retrieved: Sequence[int],
        items: Sequence[MemoryItem | Stored] = (),
        attempts: int = 1,
    ) -> Recorded:
        """Record a finished task whose items were extracted elsewhere (by the agent
        itself, as over the service's API): credit the retrieved items (ids), add
        ``items`` (their retrieval key is their ``source_task``, else the task's text),
        merge and retire with consolidation, in one transaction.

        Retrieved ids that are not active items (retired meanwhile) are recorded with
        the outcome but credit nothing. ``items`` may come embedded already
        (:func:`embed_items`, so that a server embeds before it takes a write lock).
        """
        done = Recorded()
        rate = self.family_rate(task.family)
        used = {i: rate for i in dict.fromkeys(retrieved) if i in self._active}
        new = self._embed(items, task.text)
        if self.consolidation is not None:
            new = self._merge(new, done)
            done.retired = self._to_retire(used, success)
        stored = self.store.commit(
            self.workspace,
            self.agent,
            Outcome(task.id, task.family, bool(success), int(attempts), tuple(retrieved)),
            used=used,
            new=new,
            merged=done.merged,
            retired=done.retired,
            keys=done.keys,
        )
        self._apply(used, success, stored, done)
        n, s = self._families.get(task.family, (0, 0))
        self._families[task.family] = (n + 1, s + int(bool(success)))
        done.added = [s.item.id for s in stored]
        return done

    def add(self, items: Sequence[MemoryItem | Stored], task_text: str = "") -> Recorded:
        """Add items with no task outcome (written by hand, or imported): merged into
        near-identical items with consolidation; the retrieval key of each is its
        ``source_task``, else ``task_text``, else its own text."""
        done = Recorded()
        new = self._embed(items, task_text)
        if self.consolidation is not None:
            new = self._merge(new, done)
        stored = self.store.commit(
            self.workspace, self.agent, None, new=new, merged=done.merged, keys=done.keys
        )
        self._apply({}, False, stored, done)
        done.added = [s.item.id for s in stored]
        return done

    def _embed(self, items: Sequence[MemoryItem | Stored], task_text: str) -> list[Stored]:
        if items and all(isinstance(m, Stored) for m in items):
            return list(items)
        return embed_items(self.embedder, items, task_text)

    def _merge(self, new: list[Stored], done: Recorded) -> list[Stored]:
        kept: list[Stored] = []
        threshold = self.consolidation.merge_threshold
        for entry in new:
            twin = None
            for other in self._active.values():
                if other.item.polarity == entry.item.polarity and (
                    float(other.vector @ entry.vector) >= threshold
                ):
                    twin = other
                    break
            if twin is not None:
                twin_id = twin.item.id
                support = twin.item.support + done.merged.get(twin_id, 0)
                key = done.keys.get(twin_id, twin.key) * support + entry.key
                done.keys[twin_id] = normalise(key[None, :])[0]
                done.merged[twin_id] = done.merged.get(twin_id, 0) + 1
            elif not any(
                k.item.polarity == entry.item.polarity
                and float(k.vector @ entry.vector) >= threshold
                for k in kept
            ):
                kept.append(entry)
        return kept

    def _to_retire(self, used: dict[int, float], success: bool) -> dict[int, str]:
        rule = self.consolidation
        retired = {}
        for item_id, expected in used.items():
            item = self._active[item_id].item
            uses = item.uses + 1
            excess = (item.successes + int(bool(success)) - item.expected - expected) / uses
            if uses >= rule.min_uses and excess < -rule.retire_margin:
                retired[item_id] = (
                    f"success when retrieved {excess:+.2f} against its tasks' families "
                    f"over {uses} uses"
                )
        return retired

    def _apply(self, used, success, stored: list[Stored], done: Recorded) -> None:
        for item_id, expected in used.items():
            entry = self._active[item_id]
            item = entry.item
            self._active[item_id] = replace(
                entry,
                item=replace(
                    item,
                    uses=item.uses + 1,
                    successes=item.successes + int(bool(success)),
                    expected=item.expected + expected,
                    version=item.version + 1,
                ),
            )
        for item_id, n in done.merged.items():
            entry = self._active[item_id]
            self._active[item_id] = replace(
                entry,
                key=done.keys[item_id],
                item=replace(
                    entry.item, support=entry.item.support + n, version=entry.item.version + 1
                ),
            )
        for item_id in done.retired:
            del self._active[item_id]
        for entry in stored:
            self._active[entry.item.id] = entry
