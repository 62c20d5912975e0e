"""Online difficulty filtering: train only on items the learner sometimes passes
and sometimes fails.

Bae, Hong, Lee, Kim, Nam and Kwak, "Online Difficulty Filtering for Reasoning
Oriented Reinforcement Learning", arXiv 2504.03380, 2025 (EACL 2026). In
GRPO-style RL fine-tuning an item that every rollout passes or every rollout
fails has zero advantage and teaches nothing; the paper samples a batch of
prompts, estimates each prompt's pass rate from its rollouts, keeps those
whose pass rate lies strictly inside (0, 1) (or, "balanced" filtering, inside
a band around 0.5) and refills the batch until it is full.

Here the pass rate of an item for a learner is estimated before it is drawn,
from what the teacher has observed (the mean outcome over the last ``window``
attempts, or a Beta posterior mean over them) or from the student model's
predicted success. Refills are bounded: at most ``1 + max_refills`` draws of
``draw_size`` items, after which the batch is completed with the drawn items
closest to the band.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mentor._checks import check_choice, check_count, check_number, check_unit
from mentor.errors import MentorError
from mentor.events import EventLog
from mentor.students.base import StudentModel
from mentor.teachers.base import Teacher

ESTIMATES = ("empirical", "beta", "model")


class OnlineDifficultyFilter(Teacher):
    """Draw items at random, keep those whose estimated pass rate is in the band
    (Bae et al. 2025).

    Parameters
    ----------
    low, high
        The band: an item qualifies when ``low <= p <= high`` and ``0 < p < 1``
        (an item always passed or always failed never qualifies). Defaults 0
        and 1: strictly inside (0, 1), the paper's main setting.
    estimate
        How the pass rate p is estimated. ``"empirical"`` (default): the mean
        outcome over the item's last ``window`` observed attempts by the
        learner; an item never attempted has no estimate and qualifies (it
        cannot be known to be degenerate). ``"beta"``: the posterior mean
        ``(prior_a + successes) / (prior_a + prior_b + attempts)`` over the same
        window. ``"model"``: the student model's predicted success at ``t``.
    window
        Attempts kept per (learner, item). Default 8 (ours; a typical GRPO group size).
    prior_a, prior_b
        Beta prior of ``estimate="beta"``. Defaults 1 and 1 (uniform).
    draw_size
        Items per draw; default ``k``.
    max_refills
        Draws after the first, at most. Default 3 (ours).
    seed
        Seed of the draws.

    When the draws yield fewer than ``k`` qualifying items, the rest of the
    batch is made of the other drawn items closest to the band (distance
    ``max(low - p, p - high, 0)``, in draw order on ties). :attr:`last_draws_`
    holds the number of draws the last :meth:`select` made.
    """

    name = "online_filter"

    def __init__(
        self,
        low: float = 0.0,
        high: float = 1.0,
        estimate: str = "empirical",
        window: int = 8,
        prior_a: float = 1.0,
        prior_b: float = 1.0,
        draw_size: int | None = None,
        max_refills: int = 3,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(seed)
        self.low = check_unit("low", low)
        self.high = check_number("high", high, self.low, maximum=1.0)
        self.estimate = check_choice("estimate", estimate, ESTIMATES)
        self.window = check_count("window", window, 1)
        self.prior_a = check_number("prior_a", prior_a, 0.0, strict=True)
        self.prior_b = check_number("prior_b", prior_b, 0.0, strict=True)
        self.draw_size = None if draw_size is None else check_count("draw_size", draw_size, 1)
        self.max_refills = check_count("max_refills", max_refills, 0)
        #: Last ``window`` outcomes per (learner, item).
        self.history_: dict[tuple[Any, Any], list[float]] = {}
        #: Number of draws made by the last :meth:`select` (diagnostic, not saved).
        self.last_draws_ = 0

    def get_params(self) -> dict[str, Any]:
        return {
            "low": self.low,
            "high": self.high,
            "estimate": self.estimate,
            "window": self.window,
            "prior_a": self.prior_a,
            "prior_b": self.prior_b,
            "draw_size": self.draw_size,
            "max_refills": self.max_refills,
        }

    def pass_rate(
        self,
        learner: Any,
        items: Sequence[Any],
        t: float | None = None,
        model: StudentModel | None = None,
    ) -> np.ndarray:
        """Estimated pass rate of each item; NaN where the empirical estimate has no data."""
        if self.estimate == "model":
            if model is None:
                raise MentorError(f"teacher {self.name!r} needs a student model (estimate 'model')")
            return np.asarray(model.predict(learner, items, t), dtype=float)
        out = np.empty(len(items))
        for i, item in enumerate(items):
            history = self.history_.get((learner, item), ())
            if self.estimate == "beta":
                out[i] = (self.prior_a + sum(history)) / (
                    self.prior_a + self.prior_b + len(history)
                )
            else:
                out[i] = sum(history) / len(history) if history else np.nan
        return out

    def qualifies(self, p: np.ndarray) -> np.ndarray:
        """Whether each pass rate is in the band and strictly inside (0, 1); NaN qualifies."""
        p = np.asarray(p, dtype=float)
        inside = (p > 0.0) & (p < 1.0) & (p >= self.low) & (p <= self.high)
        result: np.ndarray = np.isnan(p) | inside
        return result

    def distance(self, p: np.ndarray) -> np.ndarray:
        """Distance of each pass rate to the band ``[low, high]`` (0 for NaN)."""
        p = np.asarray(p, dtype=float)
        gap = np.maximum(np.maximum(self.low - p, p - self.high), 0.0)
        return np.where(np.isnan(p), 0.0, gap)

    def select(
        self,
        learner: Any,
        candidates: Sequence[Any],
        k: int = 1,
        t: float | None = None,
        model: StudentModel | None = None,
    ) -> list[Any]:
        self._check(candidates, k, model)
        self.last_draws_ = 0
        n = len(candidates)
        if not n:
            return []
        size = self.draw_size or k
        drawn = self.rng.choice(n, size=min(n, size * (1 + self.max_refills)), replace=False)
        kept: list[int] = []
        rejected: list[int] = []
        rejected_gap: list[float] = []
        for start in range(0, drawn.size, size):
            chunk = drawn[start : start + size]
            self.last_draws_ += 1
            p = self.pass_rate(learner, [candidates[i] for i in chunk.tolist()], t, model)
            ok = self.qualifies(p)
            kept += chunk[ok].tolist()
            rejected += chunk[~ok].tolist()
            rejected_gap += self.distance(p)[~ok].tolist()
            if len(kept) >= k:
                break
        picks = kept[:k]
        if len(picks) < k and rejected:
            closest = np.argsort(np.asarray(rejected_gap), kind="stable")
            picks += [rejected[i] for i in closest[: k - len(picks)].tolist()]
        return [candidates[i] for i in picks]

    def observe(self, events: EventLog) -> None:
        """Append outcomes to the observed (learner, item) histories only."""
        if self.estimate == "model":
            return
        for learner, item, outcome in zip(
            events.learner.tolist(), events.item.tolist(), events.outcome.tolist(), strict=True
        ):
            history = self.history_.setdefault((learner, item), [])
            history.append(float(outcome))
            del history[: -self.window]

    def _get_state(self) -> dict[str, Any]:
        return {"history": [[learner, item, h] for (learner, item), h in self.history_.items()]}

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self.history_ = {
            (learner, item): [float(x) for x in h][-self.window :]
            for learner, item, h in state["history"]
        }
