"""Mastering-rate curriculum: attention over a graph of tasks from how well each task, its
ancestors and its successors are mastered.

Willems, Lahlou and Bengio, "Mastering Rate based Curriculum Learning", arXiv:2008.06456,
2020 (code: github.com/lcswillems/automatic-curriculum, ``auto_curri/att_computer.py``).

Tasks are the items of the domain, linked as in ZPDES by
:func:`mentor.teachers.zpdes.activity_graph` (easier levels of a skill before harder ones,
prerequisite skills before the skills that need them). For each learner and task the
teacher keeps the last ``window`` performances ``(step, perf)``; then, for every task ``c``:

- performance ``P(c)``: the mean of the last ``window`` performances, clipped to
  ``[min(c), max(c)]``; ``P(c) = min(c)`` for a task never observed. The bounds start at
  ``min_performance`` and ``max_performance`` and widen to take in ``P(c)`` once ``window``
  performances have been seen;
- mastering rate ``M(c) = (P(c) - min(c)) / (max(c) - min(c))``, in [0, 1];
- learning progress ``lp(c)``: the slope of a least-squares line through the last ``window``
  ``(step, perf)`` pairs (0 with fewer than two), normalised as
  ``na_lp(c) = |lp(c)| / max_c' |lp(c')|``;
- ``M(Anc_c)``: the smallest mastering rate among all ancestors of ``c`` (1 for a root);
  ``M(Succ_c)``: the smallest among its direct successors (0 for a leaf);
- pre-attention ``pre(c) = M(Anc_c)^power * ((1 - potential) na_lp(c) + potential (1 - M(c)))
  * (1 - M(Succ_c))``: a task gets attention once its ancestors are mastered, while it is
  learning or not yet mastered, and until its successors are mastered.

The attention then flows along the graph, tasks taken in reverse topological order: each
task hands ``to_predecessors`` of its current attention to its direct predecessors (split
equally; they pass it on when their turn comes) and then ``to_successors`` of what it has
left to its direct successors (split equally, not passed on). As in the authors' code, a task
without predecessors (successors) gives up those shares all the same. The next items are
drawn with probability proportional to ``attention + 1e-8`` (the authors' "Prop" converter),
mixed with ``epsilon`` of uniform choice ("GreedyProp").

Steps and performances: each call to :meth:`MasteringRate.observe` is one step of each
learner in it, and a task's performance at that step is the mean outcome of the learner's
events on it in the call.

Defaults are those of the authors' training scripts: ``window`` 10 (both their ``K``),
``power`` 6, ``potential`` 0.5, ``to_predecessors`` 0.2, ``to_successors`` 0.05,
``epsilon`` 0; performances in [0, 1] (outcomes), so ``min_performance`` 0 and
``max_performance`` 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import networkx as nx
import numpy as np

from mentor._checks import check_count, check_number, check_unit
from mentor.domain import Domain
from mentor.errors import MentorError
from mentor.events import EventLog
from mentor.students.base import StudentModel
from mentor.teachers.base import Teacher
from mentor.teachers.sampling import proportional, proportional_probabilities
from mentor.teachers.statistics import group_by_learner_and_arm
from mentor.teachers.zpdes import activity_graph

#: Added to every attention before normalising, as in the authors' "Prop" converter.
ATTENTION_FLOOR = 1e-8


class MasteringRate(Teacher):
    """Mastering-rate based curriculum (Willems, Lahlou and Bengio 2020).

    Parameters
    ----------
    domain
        The course; its items are the tasks, linked by
        :func:`~mentor.teachers.zpdes.activity_graph`.
    window
        Performances kept per task, for both the mean performance and the learning-progress
        regression. At least 2; default 10.
    power
        Exponent of the ancestors' mastering rate, >= 0. Default 6.
    potential
        Weight ``gamma`` of the potential ``1 - M(c)`` against normalised learning progress,
        in [0, 1]. Default 0.5.
    to_predecessors, to_successors
        Shares of attention handed to predecessors and successors, in [0, 1]. Defaults 0.2
        and 0.05.
    min_performance, max_performance
        Initial bounds of every task's performance, ``min < max``. Defaults 0 and 1.
    epsilon
        Share of uniform choice mixed into the proportional draw, in [0, 1]. Default 0.
    seed
        Seed of the teacher's random choices.
    """

    name = "mastering_rate"

    def __init__(
        self,
        domain: Domain,
        window: int = 10,
        power: float = 6.0,
        potential: float = 0.5,
        to_predecessors: float = 0.2,
        to_successors: float = 0.05,
        min_performance: float = 0.0,
        max_performance: float = 1.0,
        epsilon: float = 0.0,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(seed)
        if domain is None:
            raise MentorError("the mastering-rate teacher needs a domain for its task graph")
        self.domain = domain
        self.window = check_count("window", window, 2)
        self.power = check_number("power", power, 0.0)
        self.potential = check_unit("potential", potential)
        self.to_predecessors = check_unit("to_predecessors", to_predecessors)
        self.to_successors = check_unit("to_successors", to_successors)
        self.epsilon = check_unit("epsilon", epsilon)
        self.min_performance = check_number("min_performance", min_performance)
        self.max_performance = check_number(
            "max_performance", max_performance, self.min_performance, strict=True
        )
        self.graph = activity_graph(domain)
        self.tasks = list(self.graph.nodes)
        self._index = {task: i for i, task in enumerate(self.tasks)}
        index = self._index
        self._ancestors = [
            np.array([index[a] for a in nx.ancestors(self.graph, t)], dtype=np.int64)
            for t in self.tasks
        ]
        self._predecessors = [
            np.array([index[p] for p in self.graph.predecessors(t)], dtype=np.int64)
            for t in self.tasks
        ]
        self._successors = [
            np.array([index[s] for s in self.graph.successors(t)], dtype=np.int64)
            for t in self.tasks
        ]
        self._reverse_order = [index[t] for t in reversed(list(nx.topological_sort(self.graph)))]
        self.learners_: dict[Any, _LearnerTasks] = {}

    def get_params(self) -> dict[str, Any]:
        return {
            "window": self.window,
            "power": self.power,
            "potential": self.potential,
            "to_predecessors": self.to_predecessors,
            "to_successors": self.to_successors,
            "min_performance": self.min_performance,
            "max_performance": self.max_performance,
            "epsilon": self.epsilon,
        }

    # ------------------------------------------------------------------ estimates
    def _arrays(self, learner: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Performance, bounds and learning progress of every task (graph order)."""
        n = len(self.tasks)
        low = np.full(n, self.min_performance)
        high = np.full(n, self.max_performance)
        perf = low.copy()
        lp = np.zeros(n)
        state = self.learners_.get(learner)
        if state is not None:
            for task, (steps, perfs) in state.history.items():
                i = self._index[task]
                low[i], high[i] = state.bounds[task]
                perf[i] = np.clip(np.mean(perfs), low[i], high[i])
                lp[i] = _slope(steps, perfs)
        return perf, low, high, lp

    def mastering_rates(self, learner: Any) -> dict[Any, float]:
        """Each task's mastering rate ``M(c)`` for ``learner``."""
        perf, low, high, _ = self._arrays(learner)
        return dict(zip(self.tasks, ((perf - low) / (high - low)).tolist(), strict=True))

    def attention(self, learner: Any) -> dict[Any, float]:
        """Each task's attention for ``learner``, after the flow along the graph."""
        perf, low, high, lp = self._arrays(learner)
        mastery = (perf - low) / (high - low)
        absolute = np.abs(lp)
        top = absolute.max(initial=0.0)
        normalised = absolute / top if top > 0 else absolute
        ancestors = np.array([mastery[a].min() if a.size else 1.0 for a in self._ancestors])
        successors = np.array([mastery[s].min() if s.size else 0.0 for s in self._successors])
        learning = (1.0 - self.potential) * normalised + self.potential * (1.0 - mastery)
        att = ancestors**self.power * learning * (1.0 - successors)
        for i in self._reverse_order:
            given = att[i] * self.to_predecessors
            att[i] -= given
            predecessors = self._predecessors[i]
            if predecessors.size:
                att[predecessors] += given / predecessors.size
            given = att[i] * self.to_successors
            att[i] -= given
            successors_i = self._successors[i]
            if successors_i.size:
                att[successors_i] += given / successors_i.size
        return dict(zip(self.tasks, att.tolist(), strict=True))

    # ------------------------------------------------------------------ contract
    def select(
        self,
        learner: Any,
        candidates: Sequence[Any],
        k: int = 1,
        t: float | None = None,
        model: StudentModel | None = None,
    ) -> list[Any]:
        """Draw ``k`` distinct candidates with probability proportional to their attention
        plus 1e-8 (candidates outside the task graph have attention 0)."""
        self._check(candidates, k, model)
        if not len(candidates):
            return []
        picks = proportional(self._weights(learner, candidates), self.epsilon, self.rng, k)
        return [candidates[i] for i in picks.tolist()]

    def slot_distribution(
        self,
        learner: Any,
        items: Sequence[Any],
        t: float | None = None,
        model: StudentModel | None = None,
    ) -> tuple[Sequence[Any], np.ndarray]:
        """The distribution of one pick (what :meth:`select_slots` draws each slot from)."""
        return items, proportional_probabilities(self._weights(learner, items), self.epsilon)

    def _weights(self, learner: Any, candidates: Sequence[Any]) -> np.ndarray:
        attention = self.attention(learner)
        return np.array([attention.get(c, 0.0) for c in candidates]) + ATTENTION_FLOOR

    def observe(self, events: EventLog) -> None:
        """One step per learner in ``events``: append each observed task's mean outcome to
        its history and widen its bounds; other tasks are left as they are. Items outside
        the task graph are ignored."""
        outcomes = events.outcome
        groups = group_by_learner_and_arm(events.learner.tolist(), events.item.tolist())
        for learner, arms in groups.items():
            state = self.learners_.get(learner)
            if state is None:
                state = self.learners_[learner] = _LearnerTasks()
            step = state.step
            state.step += 1
            for task, index in arms.items():
                if task not in self._index:
                    continue
                steps, perfs = state.history.setdefault(task, ([], []))
                steps.append(float(step))
                perfs.append(float(outcomes[index].mean()))
                del steps[: -self.window]
                del perfs[: -self.window]
                low, high = state.bounds.get(task, (self.min_performance, self.max_performance))
                if len(perfs) >= self.window:
                    mean = float(np.mean(perfs))
                    low, high = min(low, mean), max(high, mean)
                state.bounds[task] = (low, high)

    def _get_state(self) -> dict[str, Any]:
        return {
            "learners": [
                {
                    "learner": learner,
                    "step": state.step,
                    "tasks": [
                        [task, steps, perfs, list(state.bounds[task])]
                        for task, (steps, perfs) in state.history.items()
                    ],
                }
                for learner, state in self.learners_.items()
            ]
        }

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self.learners_ = {}
        for entry in state["learners"]:
            tasks = _LearnerTasks(int(entry["step"]))
            for task, steps, perfs, bounds in entry["tasks"]:
                tasks.history[task] = ([float(s) for s in steps], [float(p) for p in perfs])
                tasks.bounds[task] = (float(bounds[0]), float(bounds[1]))
            self.learners_[entry["learner"]] = tasks


def _slope(steps: Sequence[float], perfs: Sequence[float]) -> float:
    """Least-squares slope of ``perfs`` on ``steps`` (0 with fewer than two distinct steps)."""
    if len(perfs) < 2:
        return 0.0
    x = np.asarray(steps, dtype=float)
    y = np.asarray(perfs, dtype=float)
    dx = x - x.mean()
    denominator = float(dx @ dx)
    return float(dx @ (y - y.mean()) / denominator) if denominator > 0 else 0.0


class _LearnerTasks:
    """One learner's mastering-rate state: step counter, recent ``(step, perf)`` per task,
    and each observed task's performance bounds."""

    __slots__ = ("step", "history", "bounds")

    def __init__(self, step: int = 0) -> None:
        self.step = step
        self.history: dict[Any, tuple[list[float], list[float]]] = {}
        self.bounds: dict[Any, tuple[float, float]] = {}
