"""Learnability: practise the items whose outcome is most uncertain, weight ``p (1 - p)``.

Rutherford, Beukman, Willi, Lacerda, Hawes and Foerster, "No Regrets: Investigating and
Improving Regret Approximations for Curriculum Discovery" (NeurIPS 2024) call ``p (1 - p)``
the *learnability* of a task whose success rate is ``p``: it is the variance of a 0/1
outcome, zero for a task always solved or never solved, largest (0.25) at ``p = 0.5``.
Foster, Sims, Forkel, Fellows and Foerster, "Learning to Reason at the Frontier of
Learnability" (arXiv:2502.12272, 2025) carry it over to the RL fine-tuning of language
models: a prompt that every rollout solves, or none does, gives GRPO a zero advantage, so
prompts are sampled by their learnability.

Here ``p`` is the learner's pass rate on an item (a prompt, or a whole difficulty level when
the items are levels), estimated from what the teacher has observed:

- ``estimate="beta"`` (default): the posterior mean ``(a + s) / (a + b + n)`` of the last
  ``window`` outcomes, ``s`` their sum and ``n`` their number. With the default uniform prior
  an item never tried has ``p = 0.5`` and the highest weight, so it is tried.
- ``estimate="empirical"``: the mean of the last ``window`` outcomes; an item never tried
  gets the largest weight, 0.25.
- ``estimate="model"``: the student model's predicted success at ``t``.

The sampling rule draws ``k`` distinct items either with probability
``(1 - epsilon) w / sum(w) + epsilon / n`` (``rule="proportional"``, default) or the ``k``
largest weights (``rule="greedy"``, ties at random; the "top learnability" buffer of the
papers, refreshed at every call).

Defaults are ours: ``window`` 16 outcomes (two GRPO groups of 8), uniform Beta prior,
``epsilon`` 0.05. Outcomes in [0, 1] that are not 0/1 are averaged the same way.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from mentor._checks import check_choice, check_count, check_number, check_unit, plain
from mentor.errors import MentorError
from mentor.events import EventLog
from mentor.students.base import StudentModel
from mentor.teachers.base import Teacher
from mentor.teachers.sampling import (
    greedy,
    greedy_probabilities,
    proportional,
    proportional_probabilities,
)


class Learnability(Teacher):
    """Sample items by their learnability ``p (1 - p)`` (Rutherford et al. 2024;
    Foster et al. 2025).

    Parameters
    ----------
    estimate
        ``"beta"`` (default), ``"empirical"`` or ``"model"``: how the pass rate ``p`` is
        estimated (see the module docstring).
    window
        Outcomes kept per (learner, item). Default 16.
    prior_a, prior_b
        Beta prior of ``estimate="beta"``. Defaults 1 and 1.
    rule
        ``"proportional"`` (default) or ``"greedy"``.
    epsilon
        Uniform share of the proportional rule, in [0, 1]. Default 0.05.
    seed
        Seed of the teacher's random draws.
    """

    name = "learnability"
    ESTIMATES: ClassVar[tuple[str, ...]] = ("beta", "empirical", "model")
    RULES: ClassVar[tuple[str, ...]] = ("proportional", "greedy")

    def __init__(
        self,
        estimate: str = "beta",
        window: int = 16,
        prior_a: float = 1.0,
        prior_b: float = 1.0,
        rule: str = "proportional",
        epsilon: float = 0.05,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(seed)
        self.estimate = check_choice("estimate", estimate, self.ESTIMATES)
        self.rule = check_choice("rule", rule, self.RULES)
        self.window = check_count("window", window, 1)
        self.prior_a = check_number("prior_a", prior_a, 0.0, strict=True)
        self.prior_b = check_number("prior_b", prior_b, 0.0, strict=True)
        self.epsilon = check_unit("epsilon", epsilon)
        self.needs_model = estimate == "model"  # type: ignore[misc]
        #: Last ``window`` outcomes per (learner, item).
        self.history_: dict[tuple[Any, Any], deque[float]] = {}

    def get_params(self) -> dict[str, Any]:
        return {
            "estimate": self.estimate,
            "window": self.window,
            "prior_a": self.prior_a,
            "prior_b": self.prior_b,
            "rule": self.rule,
            "epsilon": self.epsilon,
        }

    def pass_rate(
        self,
        learner: Any,
        items: Sequence[Any],
        t: float | None = None,
        model: StudentModel | None = None,
    ) -> np.ndarray:
        """Estimated pass rate of each item; NaN for an item never tried under
        ``estimate="empirical"``."""
        if self.estimate == "model":
            if model is None:
                raise MentorError(f"teacher {self.name!r} needs a student model (estimate 'model')")
            return np.asarray(model.predict(learner, items, t), dtype=float)
        out = np.empty(len(items))
        for i, item in enumerate(items):
            history = self.history_.get((learner, plain(item)), ())
            total, n = sum(history), len(history)
            if self.estimate == "beta":
                out[i] = (self.prior_a + total) / (self.prior_a + self.prior_b + n)
            else:
                out[i] = total / n if n else np.nan
        return out

    def weights(
        self,
        learner: Any,
        items: Sequence[Any],
        t: float | None = None,
        model: StudentModel | None = None,
    ) -> np.ndarray:
        """Learnability ``p (1 - p)`` of each item (0.25 where ``p`` is unknown)."""
        p = self.pass_rate(learner, items, t, model)
        return np.where(np.isnan(p), 0.25, p * (1.0 - p))

    def select(
        self,
        learner: Any,
        candidates: Sequence[Any],
        k: int = 1,
        t: float | None = None,
        model: StudentModel | None = None,
    ) -> list[Any]:
        """Draw ``k`` distinct candidates by their learnability."""
        self._check(candidates, k, model)
        if not len(candidates):
            return []
        w = self.weights(learner, candidates, t, model)
        if self.rule == "greedy":
            picks = greedy(w, self.rng, k)
        else:
            picks = proportional(w, self.epsilon, self.rng, min(k, w.size))
        return [candidates[i] for i in picks.tolist()]

    def slot_distribution(
        self,
        learner: Any,
        items: Sequence[Any],
        t: float | None = None,
        model: StudentModel | None = None,
    ) -> tuple[Sequence[Any], np.ndarray]:
        """The rule's distribution of one pick (what :meth:`select_slots` draws each slot
        from): uniform over the largest weights (greedy) or proportional."""
        w = self.weights(learner, items, t, model)
        if self.rule == "greedy":
            return items, greedy_probabilities(w)
        return items, proportional_probabilities(w, self.epsilon)

    def observe(self, events: EventLog) -> None:
        """Append each outcome to its (learner, item) window; other items are left as they
        are."""
        if self.estimate == "model":
            return
        for learner, item, outcome in zip(
            events.learner.tolist(), events.item.tolist(), events.outcome.tolist(), strict=True
        ):
            history = self.history_.get((learner, item))
            if history is None:
                history = self.history_[(learner, item)] = deque(maxlen=self.window)
            history.append(float(outcome))

    def _get_state(self) -> dict[str, Any]:
        return {
            "history": [[learner, item, list(h)] for (learner, item), h in self.history_.items()]
        }

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self.history_ = {
            (learner, item): deque((float(x) for x in h), maxlen=self.window)
            for learner, item, h in state["history"]
        }
