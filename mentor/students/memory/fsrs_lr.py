"""FSRS with a logistic correction: FSRS-6's recall, re-weighed by the card's review history.

FSRS-6 (J. Ye, J. Su, Y. Cao, KDD 2022; py-fsrs, through
:class:`~mentor.students.memory.FSRS`) predicts recall R from one stability S
and one difficulty D per card. Its weights are fitted on the reviews a day or
more after the previous one, and nothing in it looks at the card's record
beyond S and D. This model keeps FSRS as it is and fits, on the same training
log, a logistic regression whose *offset* is FSRS's own logit, so that what it
learns is a correction to FSRS::

    logit p = logit R + b_g + w_g · z,     z = (x - mean_g) / sd_g

with x the review's features, known before it (12, in this order):

    logit R (FSRS-6 at the exact elapsed time), log(Δ + 1 minute) (Δ in days
    since the card's previous review), log S, D, log(1 + n) (earlier reviews),
    log(1 + lapses) (earlier Again ratings), (successes + 1) / (n + 2) (the
    card's own success rate, Laplace prior), the previous rating (Hard, Good,
    Easy; Again is the base) and FSRS's learning state (Learning, Relearning;
    Review is the base).

The regime g is *same-day* (Δ < 1 day) or *cross-day* (Δ >= 1 day); each has
its own (mean, sd, b, w), because same-day reviews test short-term memory,
which FSRS's curve does not aim to describe (srs-benchmark scores cross-day
reviews only). Fitting one regime minimises the summed log loss of its
training reviews plus ``l2 / 2 · |w|²`` (the intercept is not penalised but
kept within ±20, so that a regime whose outcomes are all one class stays
finite), by L-BFGS. The penalty pulls w to 0, that is towards FSRS re-centred
by b; with no reviews in a regime the model *is* FSRS there (b = 0, w = 0).
``l2`` is chosen per regime on the training log only: each candidate is
fitted on the earlier ``1 - holdout`` of the regime's training reviews (time
order) and scored by log loss on the later ``holdout``; the best is refitted
on all of them. FSRS's weights are fitted first, on the whole training log, so
its logit on the training reviews is in-sample (21 weights against thousands
of reviews).

Sources: Platt scaling (J. Platt, "Probabilistic outputs for support vector
machines", 1999) for a logistic model on another model's logit; the open
srs-benchmark's logistic-regression and "FSRS-7 + LR ensemble" models for the
idea of correcting FSRS in logit space with review-history counts, separately
for same-day and cross-day reviews, with the blending chosen on a temporal
holdout of the training data. The features and fitting here are our own.

Recall is not guaranteed to fall with elapsed time: logit R falls, but the
log(Δ) weight may have either sign. Fitting costs FSRS's optimizer (PyTorch;
without it the default FSRS weights are kept, with a warning) plus one replay
of the log and a few small L-BFGS fits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
from fsrs import State
from scipy.optimize import minimize
from scipy.special import expit, logit

from mentor._checks import check_count, check_number
from mentor.domain import Domain
from mentor.errors import ParameterError
from mentor.events import EventLog
from mentor.students.base import EpochCallback
from mentor.students.memory._history import AGAIN, DAY, EASY, GOOD, HARD
from mentor.students.memory.fsrs_model import FSRS

FEATURES = (
    "logit_recall",
    "log_elapsed",
    "log_stability",
    "difficulty",
    "log_reviews",
    "log_lapses",
    "success_rate",
    "last_hard",
    "last_good",
    "last_easy",
    "learning",
    "relearning",
)
"""Names of the features x, in order."""

REGIMES = ("same_day", "cross_day")
"""Same-day: under a day since the card's previous review; cross-day: a day or more."""

MINUTE = 1.0 / 1440.0
"""One minute in days, added to Δ before its log (review times are to the second)."""

EDGE = 1e-6
"""FSRS's recall is clipped to [EDGE, 1 - EDGE] before its logit."""

INTERCEPT_BOUND = 20.0
"""|b| <= this (keeps the fit finite when a regime's outcomes are all one class)."""

L2_GRID = (0.1, 1.0, 10.0, 100.0, 1000.0)
"""Default candidate penalties."""


@dataclass
class Correction:
    """The logistic correction of one regime: z = (x - mean) / sd, logit p = logit R + b + w · z."""

    mean: np.ndarray
    sd: np.ndarray
    coef: np.ndarray
    intercept: float
    l2: float | None  # the penalty chosen (None: no reviews to fit, FSRS itself)
    reviews: int  # training reviews it was fitted on

    @classmethod
    def identity(cls) -> Correction:
        k = len(FEATURES)
        return cls(np.zeros(k), np.ones(k), np.zeros(k), 0.0, None, 0)

    def logit(self, x: np.ndarray) -> np.ndarray:
        """The correction b + w · z for feature rows x (without the offset logit R)."""
        result: np.ndarray = self.intercept + ((x - self.mean) / self.sd) @ self.coef
        return result

    def to_dict(self) -> dict[str, Any]:
        return {
            "mean": self.mean.tolist(),
            "sd": self.sd.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept,
            "l2": self.l2,
            "reviews": self.reviews,
        }

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> Correction:
        k = len(FEATURES)
        mean, sd, coef = (
            np.asarray(state[key], dtype=np.float64) for key in ("mean", "sd", "coef")
        )
        if any(a.shape != (k,) or not np.all(np.isfinite(a)) for a in (mean, sd, coef)):
            raise ValueError(f"a correction needs {k} finite means, sds and weights")
        if np.any(sd <= 0):
            raise ValueError("a correction's sds must be > 0")
        intercept = float(state["intercept"])
        if not np.isfinite(intercept):
            raise ValueError("a correction's intercept must be finite")
        l2 = None if state["l2"] is None else float(state["l2"])
        return cls(mean, sd, coef, intercept, l2, int(state["reviews"]))


def fit_correction(
    x: np.ndarray, offset: np.ndarray, y: np.ndarray, l2: float, max_iter: int
) -> tuple[np.ndarray, float]:
    """Weights w and intercept b minimising sum log loss(y, expit(offset + b + x w)) + l2/2 |w|²
    (x already standardised; y in [0, 1]), by L-BFGS-B with |b| <= INTERCEPT_BOUND."""
    k = x.shape[1]

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        b, w = theta[0], theta[1:]
        eta = offset + b + x @ w
        value = float(np.sum(np.logaddexp(0.0, eta) - y * eta) + 0.5 * l2 * (w @ w))
        residual = expit(eta) - y
        gradient = np.r_[residual.sum(), x.T @ residual + l2 * w]
        return value, gradient

    bounds = [(-INTERCEPT_BOUND, INTERCEPT_BOUND)] + [(None, None)] * k
    result = minimize(
        loss,
        np.zeros(k + 1),
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": max_iter},
    )
    return result.x[1:].copy(), float(result.x[0])


def mean_log_loss(y: np.ndarray, eta: np.ndarray) -> float:
    """Mean log loss of outcomes y in [0, 1] against predictions expit(eta)."""
    return float(np.mean(np.logaddexp(0.0, eta) - y * eta))


class FSRSLogistic(FSRS):
    """FSRS-6 with a logistic correction on its logit from the card's review history.

    Parameters
    ----------
    domain
        Not used (each card is its own skill); kept for the common contract.
    parameters, optimize, desired_retention
        As :class:`~mentor.students.memory.FSRS` (recall always at the exact elapsed time).
    l2
        Candidate L2 penalties on the correction's weights (standardised
        features); one is chosen per regime on a temporal holdout of the training
        log. Default 0.1, 1, 10, 100, 1000 (one value: no choice to make).
    holdout
        Share of each regime's training reviews (the latest) that scores the
        candidates. Default 0.25.
    max_iter
        L-BFGS iterations per fit. Default 500.

    Attributes
    ----------
    corrections_ : dict of str to Correction
        Per regime (``"same_day"``, ``"cross_day"``): standardisation, weights, intercept,
        chosen penalty and training reviews.
    lapses_, last_rating_ : list of int
        Per (learner, card) row: Again ratings so far, latest rating.
    """

    name = "fsrs-lr"

    def __init__(
        self,
        domain: Domain | None = None,
        parameters: Sequence[float] | None = None,
        optimize: bool = True,
        desired_retention: float = 0.9,
        l2: Sequence[float] = L2_GRID,
        holdout: float = 0.25,
        max_iter: int = 500,
    ) -> None:
        if not isinstance(l2, list | tuple) or not l2:
            raise ParameterError("must be a non-empty list of penalties", field="l2", value=l2)
        self.l2 = [check_number("l2", value, 0.0) for value in l2]
        self.holdout = check_number("holdout", holdout, 0.0, True, maximum=1.0, strict_maximum=True)
        self.max_iter = check_count("max_iter", max_iter, 1)
        self.corrections_ = {regime: Correction.identity() for regime in REGIMES}
        super().__init__(domain, parameters, optimize, desired_retention, "exact")

    def get_params(self) -> dict[str, Any]:
        return {
            "parameters": self.parameters,
            "optimize": self.optimize,
            "desired_retention": self.desired_retention,
            "l2": list(self.l2),
            "holdout": self.holdout,
            "max_iter": self.max_iter,
        }

    def _clear_memory(self) -> None:
        super()._clear_memory()
        self.lapses_: list[int] = []
        self.last_rating_: list[int] = []

    # ------------------------------------------------------------ features
    def features(self, rows: np.ndarray, time: float) -> tuple[np.ndarray, np.ndarray]:
        """Features x (one row per card row, :data:`FEATURES` order) at ``time``, and
        whether each review would be cross-day (a day or more since the previous one)."""
        reviews = self.reviews_
        index = rows.tolist()
        count = np.array([reviews.count[r] for r in index], dtype=np.float64)
        correct = np.array([reviews.correct[r] for r in index], dtype=np.float64)
        last = np.array([reviews.last_time[r] for r in index], dtype=np.float64)
        days = np.maximum(0.0, (time - last) / DAY)
        recall = np.clip(super()._recall(rows, time), EDGE, 1.0 - EDGE)
        cards = [self.cards_[r] for r in index]
        stability = np.array([c.stability for c in cards], dtype=np.float64)
        difficulty = np.array([c.difficulty for c in cards], dtype=np.float64)
        state = np.array([c.state for c in cards])
        rating = np.array([self.last_rating_[r] for r in index])
        lapses = np.array([self.lapses_[r] for r in index], dtype=np.float64)
        x = np.column_stack(
            [
                logit(recall),
                np.log(days + MINUTE),
                np.log(stability),
                difficulty,
                np.log1p(count),
                np.log1p(lapses),
                (correct + 1.0) / (count + 2.0),
                rating == HARD,
                rating == GOOD,
                rating == EASY,
                state == State.Learning,
                state == State.Relearning,
            ]
        ).astype(np.float64)
        return x, days >= 1.0

    def _corrected(self, x: np.ndarray, cross: np.ndarray) -> np.ndarray:
        eta = x[:, 0].copy()
        for regime, mask in (("same_day", ~cross), ("cross_day", cross)):
            if mask.any():
                eta[mask] += self.corrections_[regime].logit(x[mask])
        result: np.ndarray = expit(eta)
        return result

    # ------------------------------------------------------------ contract
    def fit(self, log: EventLog, on_epoch: EpochCallback | None = None) -> Self:
        """Fit FSRS's weights (as :meth:`FSRS.fit`), replay the log recording each
        review's features, then fit the correction of each regime."""
        log = log.sorted()
        self._fit_weights(log)
        x, cross, y = self._replay_features(log)
        self.corrections_ = {
            "same_day": self._fit_regime(x[~cross], y[~cross]),
            "cross_day": self._fit_regime(x[cross], y[cross]),
        }
        if on_epoch is not None:
            on_epoch({"epoch": 1})
        return self

    def _replay_features(self, log: EventLog) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Record the (time-sorted) log as :meth:`update` does, keeping the features
        and regime of every review that has a previous review of its card."""
        xs: list[np.ndarray] = []
        crosses: list[bool] = []
        outcomes: list[float] = []
        one = np.empty(1, dtype=np.int64)
        for row, new, time, outcome, rating in self._walk(log):
            if not new:
                one[0] = row
                x, cross = self.features(one, time)
                xs.append(x[0])
                crosses.append(bool(cross[0]))
                outcomes.append(outcome)
            self._review(row, new, time, outcome, rating)
        k = len(FEATURES)
        x_all = np.array(xs, dtype=np.float64).reshape(len(xs), k)
        return x_all, np.array(crosses, dtype=bool), np.array(outcomes, dtype=np.float64)

    def _fit_regime(self, x: np.ndarray, y: np.ndarray) -> Correction:
        n = len(y)
        if n == 0:
            return Correction.identity()
        mean = x.mean(axis=0)
        sd = x.std(axis=0)
        sd[sd <= 1e-12] = 1.0  # a constant feature: z = 0
        z = (x - mean) / sd
        offset = x[:, 0]
        l2 = self._choose_l2(z, offset, y)
        coef, intercept = fit_correction(z, offset, y, l2, self.max_iter)
        return Correction(mean, sd, coef, intercept, l2, n)

    def _choose_l2(self, z: np.ndarray, offset: np.ndarray, y: np.ndarray) -> float:
        """The candidate penalty with the least log loss on the latest ``holdout`` of the
        reviews when fitted on the earlier ones; the largest when either part is empty."""
        if len(self.l2) == 1:
            return self.l2[0]
        cut = int(round(len(y) * (1.0 - self.holdout)))
        if cut < 1 or cut >= len(y):
            return max(self.l2)
        losses = []
        for l2 in self.l2:
            coef, intercept = fit_correction(z[:cut], offset[:cut], y[:cut], l2, self.max_iter)
            eta = offset[cut:] + intercept + z[cut:] @ coef
            losses.append(mean_log_loss(y[cut:], eta))
        return self.l2[int(np.argmin(losses))]

    def _review(self, row: int, new: bool, time: float, outcome: float, rating: int) -> None:
        super()._review(row, new, time, outcome, rating)
        if new:
            self.lapses_.append(0)
            self.last_rating_.append(0)
        self.lapses_[row] += rating == AGAIN
        self.last_rating_[row] = rating

    def _recall(self, rows: np.ndarray, time: float) -> np.ndarray:
        if not len(rows):
            return np.zeros(0)
        x, cross = self.features(rows, time)
        return self._corrected(x, cross)

    def _memory(self, rows: list[int]) -> dict[str, list[Any]]:
        return {**super()._memory(rows), "lapses": [self.lapses_[r] for r in rows]}

    def _get_memory_state(self) -> dict[str, Any]:
        return {
            **super()._get_memory_state(),
            "lapses": list(self.lapses_),
            "last_rating": list(self.last_rating_),
            "corrections": {regime: c.to_dict() for regime, c in self.corrections_.items()},
        }

    def _set_memory_state(self, state: Mapping[str, Any]) -> None:
        super()._set_memory_state(state)
        self.lapses_ = [int(v) for v in state["lapses"]]
        self.last_rating_ = [int(v) for v in state["last_rating"]]
        if len(self.lapses_) != len(self.reviews_) or len(self.last_rating_) != len(self.reviews_):
            raise ValueError(f"fsrs-lr state needs {len(self.reviews_)} lapses and ratings")
        self.corrections_ = {
            regime: Correction.from_dict(state["corrections"][regime]) for regime in REGIMES
        }
