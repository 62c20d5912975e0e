"""SEC: Self-Evolving Curriculum, a bandit on the absolute advantage of each problem category.

Chen, Lu, Kim, Zhang, Tang, Piché, Gontier, Bengio and Kamalloo, "Self-Evolving Curriculum
for LLM Reasoning", arXiv:2505.14970, 2025.

Each arm is a category of problems (a difficulty level, a problem type). After a training
step, the reward of each category drawn in the batch is the mean absolute advantage of its
rollouts, ``r = mean |A|``: in policy-gradient training the size of the advantage measures
how much the model can still learn from the category (all-correct and all-wrong groups give
0). The value of the category moves by one TD(0) step, ``Q <- Q + alpha (r - Q)`` (``Q``
starts at 0), and the categories of the next batch are drawn from the Boltzmann distribution
``p(c) = exp(Q(c) / tau) / sum_c' exp(Q(c') / tau)``.

Signal. The advantages come from the event log's extra column ``column`` (default
``"advantage"``, one value per event, e.g. GRPO's per-rollout advantage). Without that
column, the advantage of an event is its outcome minus the mean outcome of the same
learner's events on the same arm in the batch passed to :meth:`SEC.observe` (GRPO's
group-relative advantage without the division by the standard deviation); for a batch of
0/1 outcomes with success rate p it gives ``mean |A| = 2 p (1 - p)``. A learner's single
event on an arm then has advantage 0, so feed whole batches, or pass advantages.

Each call to :meth:`SEC.observe` is one training step: each learner's arms in it get one TD
update each, from all their events in the call.

Defaults: ``alpha`` 0.5 and ``temperature`` 1.0 are ours; the paper treats both as
hyper-parameters to tune per task (low temperatures make the curriculum greedier).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mentor._checks import check_number, check_unit
from mentor.events import EventLog
from mentor.students.base import StudentModel
from mentor.teachers.base import Teacher
from mentor.teachers.sampling import boltzmann, boltzmann_probabilities
from mentor.teachers.statistics import EMA, batch_advantages, group_by_learner_and_arm


class SEC(Teacher):
    """Self-Evolving Curriculum (Chen et al. 2025): TD(0) values of mean ``|advantage|``
    per arm, sampled with a Boltzmann distribution.

    Parameters
    ----------
    alpha
        TD(0) step size, in (0, 1]. Default 0.5.
    temperature
        Boltzmann temperature, > 0. Default 1.0.
    column
        Extra column of the event log that holds advantages. Default ``"advantage"``.
    seed
        Seed of the teacher's random choices.
    """

    name = "sec"

    def __init__(
        self,
        alpha: float = 0.5,
        temperature: float = 1.0,
        column: str = "advantage",
        seed: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(seed)
        self.alpha = check_unit("alpha", alpha, strict=True)
        self.temperature = check_number("temperature", temperature, 0.0, strict=True)
        self.column = str(column)
        self.learners_: dict[Any, EMA] = {}

    def get_params(self) -> dict[str, Any]:
        return {"alpha": self.alpha, "temperature": self.temperature, "column": self.column}

    def values(self, learner: Any, arms: Sequence[Any]) -> np.ndarray:
        """The value ``Q`` of each arm for ``learner`` (0 for arms never observed)."""
        q = self.learners_.get(learner)
        return q.values(arms) if q is not None else np.zeros(len(arms))

    def select(
        self,
        learner: Any,
        candidates: Sequence[Any],
        k: int = 1,
        t: float | None = None,
        model: StudentModel | None = None,
    ) -> list[Any]:
        """Draw ``k`` distinct candidates from the Boltzmann distribution over ``Q``."""
        self._check(candidates, k, model)
        if not len(candidates):
            return []
        picks = boltzmann(self.values(learner, candidates), self.temperature, self.rng, k)
        return [candidates[i] for i in picks.tolist()]

    def slot_distribution(
        self,
        learner: Any,
        items: Sequence[Any],
        t: float | None = None,
        model: StudentModel | None = None,
    ) -> tuple[Sequence[Any], np.ndarray]:
        """The Boltzmann distribution of one pick (what :meth:`select_slots` draws each
        slot from)."""
        return items, boltzmann_probabilities(self.values(learner, items), self.temperature)

    def observe(self, events: EventLog) -> None:
        """One TD(0) step for each (learner, arm) in ``events``, with ``r`` the mean
        ``|advantage|`` of its events; arms not in ``events`` are left as they are."""
        groups = group_by_learner_and_arm(events.learner.tolist(), events.item.tolist())
        advantages = np.abs(
            batch_advantages(events.outcome, events.extra.get(self.column), groups, self.column)
        )
        for learner, arms in groups.items():
            q = self.learners_.get(learner)
            if q is None:
                q = self.learners_[learner] = EMA(self.alpha)
            for arm, index in arms.items():
                q.update(arm, float(advantages[index].mean()))

    def _get_state(self) -> dict[str, Any]:
        return {
            "learners": [
                {"learner": learner, "arms": arms.state_dict()}
                for learner, arms in self.learners_.items()
            ]
        }

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self.learners_ = {}
        for entry in state["learners"]:
            q = EMA(self.alpha)
            q.load_state_dict(entry["arms"])
            self.learners_[entry["learner"]] = q
