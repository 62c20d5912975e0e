"""The agent's experience memory read as a student model, so that a teacher can choose
the agent's next task family from what its memory holds.

An LLM agent's knowledge is its memory: a task family is "known" when the memory holds
items that, retrieved for the family's tasks, make them succeed. :class:`MemoryStudent`
turns the memory's record into that belief, per task family (the teacher's items):

- the family's success rate over all its recorded tasks, Laplace smoothed,
  ``base = (s + 1) / (n + 2)``;
- the success rate *when relevant items were retrieved*: over the family's last
  ``window`` tasks for which the memory retrieved at least one item that is still
  active (an item retired since then no longer counts: the memory would not retrieve
  it now), ``s_r`` successes in ``n_r`` tasks;
- the prediction is the second shrunk towards the first, ``p = (s_r + a base) /
  (n_r + a)`` with ``a = strength`` (a Beta prior of weight ``a`` centred on the
  family's base rate).

So ``p`` moves when the memory changes (items retired, items that start being retrieved
for a family) and with the family's recent outcomes under the current memory. Skills are
the domain's (for the simulated world, one per group of families); a skill's mastery is
the mean ``p`` of its families.

The state is the memory store's (:meth:`MemoryStore.history` and the items' retirement);
:meth:`MemoryStudent.update` and :meth:`MemoryStudent.fit` change nothing, because the
memory's own :meth:`~mentor.agents.ExperienceMemory.record` writes what the model reads.
Defaults ``window=20``, ``strength=2`` are ours.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Self

import numpy as np

from mentor.agents.store import MemoryStore
from mentor.domain import Domain
from mentor.errors import MentorError, ParameterError
from mentor.events import EventLog
from mentor.students.base import StudentModel


def family_estimates(
    history: Sequence[Mapping[str, Any]],
    active: set[int],
    window: int = 20,
    strength: float = 2.0,
) -> dict[str, dict[str, float]]:
    """Per family: ``tasks``, ``successes``, ``base`` rate, ``with_memory`` tasks and
    ``with_memory_successes`` (last ``window`` tasks whose retrieved items include an
    active one), and the prediction ``p`` (see the module docstring).

    ``history`` is :meth:`MemoryStore.history` (oldest first); ``active`` the ids of the
    active items.
    """
    counts: dict[str, list[int]] = {}
    recent: dict[str, list[bool]] = {}
    for row in history:
        family = row["family"]
        n = counts.setdefault(family, [0, 0])
        n[0] += 1
        n[1] += int(bool(row["success"]))
        if any(i in active for i in row["retrieved"]):
            recent.setdefault(family, []).append(bool(row["success"]))
    out = {}
    for family, (n, s) in counts.items():
        base = (s + 1) / (n + 2)
        kept = recent.get(family, [])[-window:]
        nr, sr = len(kept), sum(kept)
        out[family] = {
            "tasks": n,
            "successes": s,
            "base": base,
            "with_memory": nr,
            "with_memory_successes": sr,
            "p": (sr + strength * base) / (nr + strength),
        }
    return out


class MemoryStudent(StudentModel):
    """Per task family, P(success) from the memory's record (module docstring).

    Parameters
    ----------
    domain
        Task families as items and their skills (None: each family is its own skill).
    store
        The memory store to read.
    workspace, agent
        Whose memory.
    window
        Recent tasks with retrieved active items counted per family. Default 20.
    strength
        Weight ``a`` of the family's base rate. Default 2.
    source
        Instead of ``store``: anything with an ``estimates(window, strength)`` method
        returning :func:`family_estimates` (:class:`~mentor.agents.RemoteMemory` asks
        the service's ``/student`` route).
    """

    name = "agent_memory"

    def __init__(
        self,
        domain: Domain | None = None,
        store: MemoryStore | None = None,
        workspace: str = "default",
        agent: str = "agent",
        window: int = 20,
        strength: float = 2.0,
        source: Any = None,
    ) -> None:
        super().__init__(domain)
        if isinstance(window, bool) or not isinstance(window, int) or window < 1:
            raise ParameterError("must be an integer >= 1", field="window", value=window)
        if not (isinstance(strength, int | float) and strength > 0):
            raise ParameterError("must be a number > 0", field="strength", value=strength)
        self.store = store
        self.source = source
        self.workspace = workspace
        self.agent = agent
        self.window = window
        self.strength = float(strength)

    def get_params(self) -> dict[str, Any]:
        return {
            "workspace": self.workspace,
            "agent": self.agent,
            "window": self.window,
            "strength": self.strength,
        }

    def estimates(self) -> dict[str, dict[str, float]]:
        """:func:`family_estimates` of the memory now."""
        if self.source is not None:
            return self.source.estimates(self.window, self.strength)
        if self.store is None:
            raise MentorError("the memory student model needs a memory store (store=...)")
        active = {s.item.id for s in self.store.load(self.workspace, self.agent)}
        history = self.store.history(self.workspace, self.agent)
        return family_estimates(history, active, self.window, self.strength)

    def fit(self, log: EventLog, on_epoch: Any = None) -> Self:
        """Nothing to fit: the memory's record is the model's state (``on_epoch`` is
        called once, with ``{"epoch": 1}``, as for a model fitted in one pass)."""
        if on_epoch is not None:
            on_epoch({"epoch": 1})
        return self

    def update(self, events: EventLog) -> None:
        """Nothing to do: the memory records each task itself."""

    def predict(self, learner: Any, items: Iterable[Any], t: float | None = None) -> np.ndarray:
        """P(success) on a task of each family; 0.5 for a family never tried."""
        found = self.estimates()
        return np.array([found[f]["p"] if f in found else 0.5 for f in items], dtype=float)

    def state(self, learner: Any) -> dict[str, Any]:
        """``mastery`` per skill (mean prediction of its families) and ``families``:
        the estimates of each family tried so far."""
        found = self.estimates()
        families = list(self.domain.item_ids) if self.domain is not None else list(found)
        by_skill: dict[Any, list[float]] = {}
        for family in families:
            p = found[family]["p"] if family in found else 0.5
            for skill in self.skills_of(family):
                by_skill.setdefault(skill, []).append(p)
        return {
            "mastery": {skill: float(np.mean(v)) for skill, v in by_skill.items()},
            "families": found,
        }

    def _get_state(self) -> dict[str, Any]:
        return {}

    def _set_state(self, state: Mapping[str, Any]) -> None:
        pass
