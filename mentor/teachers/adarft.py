"""AdaRFT: a target difficulty that follows the learner's recent reward.

Shi, Wu, Song, Zhou and Zhao, "Efficient Reinforcement Finetuning via Adaptive
Curriculum Learning", arXiv 2504.05520, 2025. Each item has a difficulty d_i
(in the paper, 100 x the failure rate of a reference model, so in [0, 100]).
The teacher keeps a target difficulty T; after each batch with mean reward
R_avg it moves

    T <- clip(T + eta * tanh(alpha * (R_avg - beta)), d_min, d_max)

so that the target rises while the learner succeeds more often than ``beta``
and falls when it succeeds less, and the next batch is the B items with the
smallest |d_i - T|. The paper's settings: beta = 0.5, alpha = 2, eta = 50 on
its [0, 100] scale (half the range), T = 0 at the start.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mentor._checks import check_number
from mentor.domain import Domain
from mentor.errors import ParameterError
from mentor.events import EventLog
from mentor.students.base import StudentModel
from mentor.teachers.base import Teacher
from mentor.teachers.curriculum import DifficultyScores


class AdaRFT(Teacher):
    """Items whose difficulty is closest to a reward-driven target (Shi et al. 2025).

    Parameters
    ----------
    domain
        Gives :attr:`Item.difficulty` when ``difficulty="domain"``.
    difficulty
        ``"domain"`` (default), ``"model"`` (1 - predicted success, on [0, 1])
        or a score per item; see :class:`~mentor.teachers.curriculum.DifficultyScores`.
    low, high
        Bounds d_min, d_max of the target. Default: the smallest and largest
        known difficulty (domain or table), or 0 and 1 for ``"model"``.
    target
        Initial target T. Default ``low`` (the paper starts at 0, its easiest).
    eta
        Step size, in difficulty units. Default ``(high - low) / 2`` (the
        paper's 50 on [0, 100]).
    alpha
        Sensitivity of the step to the reward gap. Default 2.
    beta
        Target reward. Default 0.5.
    seed
        Breaks exact ties at random.

    One target per learner. Each :meth:`observe` call is one batch: a learner's
    target moves once, by the mean outcome of that learner's events in the
    call. Items without a difficulty are picked last. With one event per call
    (a person answering one item at a time) every answer moves the target by
    up to ``0.76 * eta`` (tanh(2 * 0.5)); choose a smaller ``eta`` there.
    """

    name = "adarft"

    def __init__(
        self,
        domain: Domain | None = None,
        difficulty: Any = "domain",
        low: float | None = None,
        high: float | None = None,
        target: float | None = None,
        eta: float | None = None,
        alpha: float = 2.0,
        beta: float = 0.5,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(seed)
        self.domain = domain
        self.difficulty = DifficultyScores(difficulty, domain, self.name)
        known = np.array([0.0, 1.0]) if self.difficulty.needs_model else self.difficulty.known()
        if (low is None or high is None) and not known.size:
            raise ParameterError(f"{self.name}: no item has a difficulty; give low and high")
        self.low = check_number("low", float(known.min()) if low is None else low)
        self.high = check_number("high", float(known.max()) if high is None else high, self.low)
        self.target = check_number(
            "target", self.low if target is None else target, self.low, maximum=self.high
        )
        default_eta = (self.high - self.low) / 2.0
        self.eta = check_number("eta", default_eta if eta is None else eta, 0.0)
        self.alpha = check_number("alpha", alpha, 0.0)
        self.beta = check_number("beta", beta)
        #: Current target difficulty per learner (learners not here are at ``target``).
        self.targets_: dict[Any, float] = {}

    def get_params(self) -> dict[str, Any]:
        return {
            "difficulty": self.difficulty.spec(),
            "low": self.low,
            "high": self.high,
            "target": self.target,
            "eta": self.eta,
            "alpha": self.alpha,
            "beta": self.beta,
        }

    def target_of(self, learner: Any) -> float:
        """The learner's current target difficulty T."""
        return self.targets_.get(learner, self.target)

    def step(self, target: float, reward: float) -> float:
        """``clip(target + eta * tanh(alpha * (reward - beta)), low, high)``."""
        moved = target + self.eta * math.tanh(self.alpha * (reward - self.beta))
        return min(self.high, max(self.low, moved))

    def select(
        self,
        learner: Any,
        candidates: Sequence[Any],
        k: int = 1,
        t: float | None = None,
        model: StudentModel | None = None,
    ) -> list[Any]:
        self._check(candidates, k, model)
        if not len(candidates):
            return []
        scores = self.difficulty(learner, candidates, t, model)
        distance = np.abs(scores - self.target_of(learner))
        distance[np.isnan(distance)] = np.inf
        order = np.lexsort((self.rng.random(distance.size), distance))
        return [candidates[i] for i in order[:k].tolist()]

    def observe(self, events: EventLog) -> None:
        """Move the target of each learner in ``events`` once, by their mean outcome."""
        if not len(events):
            return
        learners, inverse = np.unique(events.learner, return_inverse=True)
        total = np.bincount(inverse, weights=events.outcome, minlength=learners.size)
        count = np.bincount(inverse, minlength=learners.size)
        for learner, reward in zip(learners.tolist(), (total / count).tolist(), strict=True):
            self.targets_[learner] = self.step(self.target_of(learner), reward)

    def _get_state(self) -> dict[str, Any]:
        return {"targets": [[learner, v] for learner, v in self.targets_.items()]}

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self.targets_ = {learner: float(v) for learner, v in state["targets"]}
