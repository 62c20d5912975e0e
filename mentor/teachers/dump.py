"""DUMP: distribution-level curriculum by an upper confidence bound on the mean absolute
advantage.

Wang, Cui, Li, Wan and Zhao, "DUMP: Automated Distribution-Level Curriculum Learning for
RL-based LLM Post-training", arXiv:2504.09710, 2025 (code: github.com/ZhentingWang/DUMP,
``verl/utils/curriculum_learning.py``).

Each arm is a data distribution (a source or difficulty level). Its learnability is the
expected absolute advantage of the policy's rollouts on it, estimated as the mean ``|A|``
over the last ``window`` rollouts drawn from it. The score of arm ``j`` is an upper
confidence bound,

    score_j = mean_window |A|_j + c * sqrt(2 ln(N + 1) / (n_j + 1)),

where ``n_j`` counts every rollout ever drawn from arm ``j`` and ``N`` is the sum of ``n_j``
over all arms the learner has been observed on (the ``+ 1`` terms are the authors' code; the
paper writes ``sqrt(2 ln N / n_j)``). The next arms are drawn from the softmax of the scores
with ``temperature``. An arm never observed has mean 0 and the largest bonus, so it is
explored.

Signal: the extra column ``column`` (default ``"advantage"``) of the event log; without it,
each event's advantage is its outcome minus the mean outcome of the same learner's events on
the same arm in the batch (see :func:`mentor.teachers.statistics.batch_advantages`), so a
single event per arm and call carries no signal.

Defaults are the authors' code: ``window`` 300, ``c`` 1.0, ``temperature`` 0.1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mentor._checks import check_count, check_number
from mentor.events import EventLog
from mentor.students.base import StudentModel
from mentor.teachers.base import Teacher
from mentor.teachers.sampling import boltzmann, boltzmann_probabilities, ucb_scores
from mentor.teachers.statistics import (
    Count,
    MeanAbsAdvantage,
    batch_advantages,
    group_by_learner_and_arm,
)


class DUMP(Teacher):
    """DUMP (Wang et al. 2025): softmax over UCB scores of the windowed mean ``|advantage|``.

    Parameters
    ----------
    window
        Absolute advantages kept per arm. Default 300.
    c
        Weight of the exploration bonus, >= 0. Default 1.0.
    temperature
        Softmax temperature, > 0. Default 0.1.
    column
        Extra column of the event log that holds advantages. Default ``"advantage"``.
    seed
        Seed of the teacher's random choices.
    """

    name = "dump"

    def __init__(
        self,
        window: int = 300,
        c: float = 1.0,
        temperature: float = 0.1,
        column: str = "advantage",
        seed: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(seed)
        self.window = check_count("window", window, 1)
        self.c = check_number("c", c, 0.0)
        self.temperature = check_number("temperature", temperature, 0.0, strict=True)
        self.column = str(column)
        self.learners_: dict[Any, _LearnerArms] = {}

    def get_params(self) -> dict[str, Any]:
        return {
            "window": self.window,
            "c": self.c,
            "temperature": self.temperature,
            "column": self.column,
        }

    def scores(self, learner: Any, arms: Sequence[Any]) -> np.ndarray:
        """The UCB score of each arm for ``learner``."""
        state = self.learners_.get(learner) or _LearnerArms(self.window)
        return ucb_scores(
            state.advantage.values(arms),
            state.count.values(arms),
            self.c,
            total=state.count.total(),
            offset=1.0,
        )

    def select(
        self,
        learner: Any,
        candidates: Sequence[Any],
        k: int = 1,
        t: float | None = None,
        model: StudentModel | None = None,
    ) -> list[Any]:
        """Draw ``k`` distinct candidates from the softmax of their UCB scores."""
        self._check(candidates, k, model)
        if not len(candidates):
            return []
        picks = boltzmann(self.scores(learner, candidates), self.temperature, self.rng, k)
        return [candidates[i] for i in picks.tolist()]

    def slot_distribution(
        self,
        learner: Any,
        items: Sequence[Any],
        t: float | None = None,
        model: StudentModel | None = None,
    ) -> tuple[Sequence[Any], np.ndarray]:
        """The softmax of the UCB scores: the distribution of one pick (what
        :meth:`select_slots` draws each slot from)."""
        return items, boltzmann_probabilities(self.scores(learner, items), self.temperature)

    def observe(self, events: EventLog) -> None:
        """Add each event's ``|advantage|`` to its arm's window and count it; arms not in
        ``events`` are left as they are."""
        groups = group_by_learner_and_arm(events.learner.tolist(), events.item.tolist())
        advantages = batch_advantages(
            events.outcome, events.extra.get(self.column), groups, self.column
        )
        for learner, arms in groups.items():
            state = self.learners_.get(learner)
            if state is None:
                state = self.learners_[learner] = _LearnerArms(self.window)
            for arm, index in arms.items():
                state.advantage.extend(arm, advantages[index])
                state.count.add(arm, len(index))

    def _get_state(self) -> dict[str, Any]:
        return {
            "learners": [
                {
                    "learner": learner,
                    "advantage": state.advantage.state_dict(),
                    "count": state.count.state_dict(),
                }
                for learner, state in self.learners_.items()
            ]
        }

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self.learners_ = {}
        for entry in state["learners"]:
            arms = _LearnerArms(self.window)
            arms.advantage.load_state_dict(entry["advantage"])
            arms.count.load_state_dict(entry["count"])
            self.learners_[entry["learner"]] = arms


class _LearnerArms:
    """One learner's DUMP state: windowed ``|advantage|`` and all-time counts per arm."""

    __slots__ = ("advantage", "count")

    def __init__(self, window: int) -> None:
        self.advantage = MeanAbsAdvantage(window)
        self.count = Count()
