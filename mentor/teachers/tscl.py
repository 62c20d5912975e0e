"""TSCL: Teacher-Student Curriculum Learning, a bandit on the slope of each task's
learning curve.

Matiisen, Oliver, Cohen and Schulman, "Teacher-Student Curriculum Learning", IEEE
Transactions on Neural Networks and Learning Systems 31(9), 2020 (arXiv:1707.00183, 2017).

The teacher estimates the learning progress of each task (arm) as the slope of the
learner's recent scores on it and samples the tasks with the largest absolute slope: a
steep rise means fast learning, a steep fall means forgetting, and both deserve practice.
Two of the paper's estimates are available:

- ``variant="window"`` ("Window"): the slope of a least-squares line through the last
  ``window`` ``(step, score)`` pairs of the task. A task with fewer than two scores has
  slope 1, as in the authors' code, so that every task gets tried.
- ``variant="online"`` ("Online"): ``Q <- Q + alpha (r - Q)`` with ``r = x - x'``, the
  change between the task's score now and at its previous observation (both start at 0).

The next tasks are drawn by ``policy`` from ``|Q|`` (or ``Q`` when ``absolute=False``):
``"epsilon_greedy"`` (the best task, or a uniform one with probability ``epsilon``) or
``"boltzmann"`` (softmax with ``temperature``).

Steps and scores. Each call to :meth:`TSCL.observe` is one training step of each learner in
it; the learner's score on a task at that step is the mean outcome of its events on the
task in the call (for one event per call, the outcome itself). A learner's step counter
counts the calls it appeared in.

Defaults follow the authors' addition experiments (``addition_rnn_teacher.py``): window 10,
``alpha`` 0.1, ``epsilon`` 0.1, ``temperature`` 0.0004 (slopes of accuracies per step are
small numbers). The paper's "Naive" and "Sampling" teachers are not included.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from mentor._checks import check_choice, check_count, check_flag, check_number, check_unit
from mentor.events import EventLog
from mentor.students.base import StudentModel
from mentor.teachers.base import Teacher
from mentor.teachers.sampling import (
    boltzmann,
    boltzmann_probabilities,
    epsilon_greedy,
    epsilon_greedy_probabilities,
)
from mentor.teachers.statistics import (
    ArmStatistic,
    OnlineLP,
    WindowedLP,
    group_by_learner_and_arm,
)


class TSCL(Teacher):
    """Teacher-Student Curriculum Learning (Matiisen et al. 2017): sample tasks by the
    absolute slope of their learning curves.

    Parameters
    ----------
    variant
        ``"window"`` (slope of a regression over the last ``window`` scores, default) or
        ``"online"`` (moving average of score differences).
    window
        Scores kept per task by the window variant, at least 2. Default 10.
    alpha
        Step size of the online variant, in (0, 1]. Default 0.1.
    policy
        ``"epsilon_greedy"`` (default) or ``"boltzmann"``.
    epsilon
        Uniform exploration of the epsilon-greedy policy, in [0, 1]. Default 0.1.
    temperature
        Temperature of the Boltzmann policy, > 0. Default 0.0004.
    absolute
        Sample by ``|Q|`` (default, so that forgetting also draws practice) or by ``Q``.
    seed
        Seed of the teacher's random choices.
    """

    name = "tscl"
    VARIANTS: ClassVar[tuple[str, ...]] = ("window", "online")
    POLICIES: ClassVar[tuple[str, ...]] = ("epsilon_greedy", "boltzmann")

    def __init__(
        self,
        variant: str = "window",
        window: int = 10,
        alpha: float = 0.1,
        policy: str = "epsilon_greedy",
        epsilon: float = 0.1,
        temperature: float = 0.0004,
        absolute: bool = True,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(seed)
        self.variant = check_choice("variant", variant, self.VARIANTS)
        # both checked, whichever variant uses them (as WindowedLP and OnlineLP check them)
        self.window = check_count("window", window, 2)
        self.alpha = check_unit("alpha", alpha, strict=True)
        self.policy = check_choice("policy", policy, self.POLICIES)
        self.epsilon = check_unit("epsilon", epsilon)
        self.temperature = check_number("temperature", temperature, 0.0, strict=True)
        self.absolute = check_flag("absolute", absolute)
        self.learners_: dict[Any, _LearnerCurves] = {}

    def get_params(self) -> dict[str, Any]:
        return {
            "variant": self.variant,
            "window": self.window,
            "alpha": self.alpha,
            "policy": self.policy,
            "epsilon": self.epsilon,
            "temperature": self.temperature,
            "absolute": self.absolute,
        }

    def _new_statistic(self) -> ArmStatistic:
        if self.variant == "window":
            return WindowedLP(self.window, "slope", initial=1.0)
        return OnlineLP(self.alpha)

    def progress(self, learner: Any, arms: Sequence[Any]) -> np.ndarray:
        """The learning-progress estimate ``Q`` of each arm for ``learner`` (signed)."""
        curves = self.learners_.get(learner)
        statistic = curves.statistic if curves is not None else self._new_statistic()
        return statistic.values(arms)

    def select(
        self,
        learner: Any,
        candidates: Sequence[Any],
        k: int = 1,
        t: float | None = None,
        model: StudentModel | None = None,
    ) -> list[Any]:
        """Draw ``k`` distinct candidates by the policy applied to ``|Q|`` (or ``Q``)."""
        self._check(candidates, k, model)
        if not len(candidates):
            return []
        q = self._scores(learner, candidates)
        if self.policy == "boltzmann":
            picks = boltzmann(q, self.temperature, self.rng, k)
        else:
            picks = epsilon_greedy(q, self.epsilon, self.rng, k)
        return [candidates[i] for i in picks.tolist()]

    def _scores(self, learner: Any, arms: Sequence[Any]) -> np.ndarray:
        q = self.progress(learner, arms)
        return np.abs(q) if self.absolute else q

    def slot_distribution(
        self,
        learner: Any,
        items: Sequence[Any],
        t: float | None = None,
        model: StudentModel | None = None,
    ) -> tuple[Sequence[Any], np.ndarray]:
        """The policy's distribution of one pick (what :meth:`select_slots` draws each
        slot from)."""
        q = self._scores(learner, items)
        if self.policy == "boltzmann":
            return items, boltzmann_probabilities(q, self.temperature)
        return items, epsilon_greedy_probabilities(q, self.epsilon)

    def observe(self, events: EventLog) -> None:
        """One training step per learner in ``events``: each observed task's score is the
        mean outcome of the learner's events on it. Other tasks are left as they are."""
        outcomes = events.outcome
        groups = group_by_learner_and_arm(events.learner.tolist(), events.item.tolist())
        for learner, arms in groups.items():
            curves = self.learners_.get(learner)
            if curves is None:
                curves = self.learners_[learner] = _LearnerCurves(self._new_statistic())
            step = curves.step
            curves.step += 1
            for arm, index in arms.items():
                curves.statistic.update(arm, float(outcomes[index].mean()), float(step))

    def _get_state(self) -> dict[str, Any]:
        return {
            "learners": [
                {"learner": learner, "step": curves.step, "arms": curves.statistic.state_dict()}
                for learner, curves in self.learners_.items()
            ]
        }

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self.learners_ = {}
        for entry in state["learners"]:
            statistic = self._new_statistic()
            statistic.load_state_dict(entry["arms"])
            self.learners_[entry["learner"]] = _LearnerCurves(statistic, int(entry["step"]))


class _LearnerCurves:
    """One learner's TSCL state: its step counter and the per-arm statistic."""

    __slots__ = ("statistic", "step")

    def __init__(self, statistic: ArmStatistic, step: int = 0) -> None:
        self.statistic = statistic
        self.step = step
