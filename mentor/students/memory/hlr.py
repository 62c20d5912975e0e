"""Half-life regression (Settles and Meeder, ACL 2016).

B. Settles and B. Meeder, "A trainable spaced repetition model for language
learning", ACL 2016 (Duolingo's HLR). The recall of a card Δ days after its
last review decays with a half-life h (days) that grows with practice::

    p = 2 ** (-Δ / h),        h = 2 ** (θ · x)

with, per (learner, card), x = (1, sqrt(1 + #correct), sqrt(1 + #wrong)) over
the reviews before (the paper's "right" and "wrong" features and bias), plus,
with ``card_bias=True``, a weight per card (the paper's lexeme-tag features),
shared by all learners. As in the paper's code, h is clipped to
[15 minutes, 274 days].

Fitting minimises the paper's loss, averaged over the reviews that have a
previous review of the same card::

    L(θ) = mean[(p - p̂)² + alpha (h - ĥ)²] + l2 ‖θ‖²

where p is the observed recall (the outcome, clipped to [0.0001, 0.9999]) and
h = -Δ / log2(p) the half-life it implies (clipped like ĥ). The paper applies
``l2`` to every instance in SGD, which over a pass is this mean loss plus
``l2 ‖θ‖²``. Defaults are the paper's: alpha = 0.01, l2 = 0.1. The loss and
its exact gradient are vectorised over all reviews and minimised with SciPy's
L-BFGS-B. Fractional outcomes count as fractional right and wrong answers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
from scipy.optimize import minimize

from mentor._checks import check_count, check_flag, check_number, json_id
from mentor.domain import Domain
from mentor.events import EventLog
from mentor.students.base import EpochCallback, solver_progress
from mentor.students.memory._base import MemoryModel
from mentor.students.memory._history import DAY, Reviews

LN2 = math.log(2.0)
MIN_HALF_LIFE = 15.0 / (24 * 60)  # days, as in the paper's code
MAX_HALF_LIFE = 274.0  # days
P_CLIP = (0.0001, 0.9999)


@dataclass(frozen=True)
class HLRData:
    """The training reviews of HLR as arrays: features, card index, Δ, p and h."""

    x: np.ndarray  # (n, 3): 1, sqrt(1 + right), sqrt(1 + wrong)
    card: np.ndarray  # index into ``cards`` (for card biases)
    cards: np.ndarray  # the distinct cards of the training reviews
    delta: np.ndarray  # days since the previous review
    p: np.ndarray  # observed recall, clipped
    h: np.ndarray  # observed half-life, clipped


def features(correct: np.ndarray, count: np.ndarray) -> np.ndarray:
    """HLR features (1, sqrt(1 + right), sqrt(1 + wrong)) as an (n, 3) array."""
    correct = np.asarray(correct, dtype=np.float64)
    wrong = np.asarray(count, dtype=np.float64) - correct
    return np.column_stack([np.ones_like(correct), np.sqrt(1.0 + correct), np.sqrt(1.0 + wrong)])


class HLR(MemoryModel):
    """Half-life regression: p = 2 ** (-Δ / h), h = 2 ** (θ · x) (Settles and Meeder 2016).

    Parameters
    ----------
    domain
        Not used (each card is its own skill); kept for the common contract.
    alpha
        Weight of the half-life term of the loss. Default 0.01 (the paper);
        0 fits the recall term only (the paper's "-h" ablation).
    l2
        L2 penalty on θ (and the card biases). Default 0.1 (the paper).
    card_bias
        Learn a half-life bias per card, shared by learners (the paper's
        lexeme features). Default False.
    min_half_life, max_half_life
        Clip of the half-life in days. Defaults 15 minutes and 274 days (the paper's code).
    max_iter
        L-BFGS-B iterations (run to tight tolerances: relative loss change 1e-12,
        gradient 1e-9). Default 500.

    Attributes
    ----------
    theta_ : numpy.ndarray
        Weights of (bias, sqrt(1 + right), sqrt(1 + wrong)).
    card_bias_ : dict
        Per-card bias (with ``card_bias``).
    loss_, n_iter_
        Final loss and iterations of the last fit.
    """

    name = "hlr"

    def __init__(
        self,
        domain: Domain | None = None,
        alpha: float = 0.01,
        l2: float = 0.1,
        card_bias: bool = False,
        min_half_life: float = MIN_HALF_LIFE,
        max_half_life: float = MAX_HALF_LIFE,
        max_iter: int = 500,
    ) -> None:
        self.alpha = check_number("alpha", alpha, 0.0)
        self.l2 = check_number("l2", l2, 0.0)
        self.card_bias = check_flag("card_bias", card_bias)
        self.min_half_life = check_number("min_half_life", min_half_life, 0.0, strict=True)
        self.max_half_life = check_number(
            "max_half_life", max_half_life, self.min_half_life, strict=True
        )
        self.max_iter = check_count("max_iter", max_iter, 0)
        self.theta_ = np.zeros(3)
        self.card_bias_: dict[Any, float] = {}
        self.loss_ = math.nan
        self.n_iter_ = 0
        super().__init__(domain)

    def get_params(self) -> dict[str, Any]:
        return {
            "alpha": self.alpha,
            "l2": self.l2,
            "card_bias": self.card_bias,
            "min_half_life": self.min_half_life,
            "max_half_life": self.max_half_life,
            "max_iter": self.max_iter,
        }

    def _clear_memory(self) -> None:
        pass  # HLR's memory is the review counts of reviews_

    # ------------------------------------------------------------ the model
    def half_life(self, x: np.ndarray, bias: np.ndarray | float = 0.0) -> np.ndarray:
        """ĥ = clip(2 ** (θ · x + bias)) in days, for features ``x`` of shape (n, 3)."""
        z = x @ self.theta_ + bias
        return np.clip(np.exp2(np.minimum(z, 60.0)), self.min_half_life, self.max_half_life)

    def _bias_of(self, cards: list[Any]) -> np.ndarray:
        if not self.card_bias:
            return np.zeros(len(cards))
        return np.array([self.card_bias_.get(c, 0.0) for c in cards], dtype=np.float64)

    def data(self, log: EventLog, reviews: Reviews | None = None) -> HLRData:
        """Training arrays of ``log``: every review with a previous review of the
        same card, its features and Δ from the reviews before it (from a fresh
        state unless ``reviews`` is given)."""
        look = (reviews or Reviews()).lookback(log)
        use = look.seen
        delta = look.elapsed_days[use]
        p = np.clip(log.outcome[use], *P_CLIP)
        h = np.clip(-delta / np.log2(p), self.min_half_life, self.max_half_life)
        cards, card = np.unique(log.item[use], return_inverse=True)
        return HLRData(features(look.correct[use], look.count[use]), card, cards, delta, p, h)

    def loss(self, params: np.ndarray, data: HLRData) -> tuple[float, np.ndarray]:
        """The paper's loss and its gradient at ``params`` (θ, then the card biases)."""
        n = len(data.p)
        theta = params[:3]
        bias = params[3:]
        z = data.x @ theta + (bias[data.card] if bias.size else 0.0)
        raw = np.exp2(np.minimum(z, 60.0))
        h_hat = np.clip(raw, self.min_half_life, self.max_half_life)
        inside = (raw > self.min_half_life) & (raw < self.max_half_life)
        p_hat = np.exp2(-data.delta / h_hat)
        err_p = p_hat - data.p
        err_h = h_hat - data.h
        value = np.sum(err_p**2 + self.alpha * err_h**2) / max(n, 1)
        value += self.l2 * float(params @ params)
        # d/dz: p̂ depends on z through ĥ = 2^z (zero where ĥ is clipped)
        dz = (
            2.0 * err_p * p_hat * LN2**2 * data.delta / h_hat
            + 2.0 * self.alpha * err_h * LN2 * h_hat
        )
        dz = np.where(inside, dz, 0.0) / max(n, 1)
        grad = 2.0 * self.l2 * params
        grad[:3] += data.x.T @ dz
        if bias.size:
            grad[3:] += np.bincount(data.card, weights=dz, minlength=bias.size)
        return float(value), grad

    # ------------------------------------------------------------ contract
    def fit(self, log: EventLog, on_epoch: EpochCallback | None = None) -> Self:
        """Fit θ (and card biases) on every review with a previous review of the
        same card, then replay the log to hold each learner's state."""
        log = log.sorted()
        self._reset()
        data = self.data(log)
        start = np.zeros(3 + (len(data.cards) if self.card_bias else 0))
        if len(data.p):
            result = minimize(
                self.loss,
                start,
                args=(data,),
                jac=True,
                method="L-BFGS-B",
                options={"maxiter": self.max_iter, "ftol": 1e-12, "gtol": 1e-9},
                callback=solver_progress(on_epoch),
            )
            params = result.x
            self.loss_, self.n_iter_ = float(result.fun), int(result.nit)
        else:
            params = start
            self.loss_, self.n_iter_ = math.nan, 0
        self.theta_ = np.asarray(params[:3], dtype=np.float64)
        self.card_bias_ = (
            dict(zip(data.cards.tolist(), params[3:].tolist(), strict=True))
            if self.card_bias
            else {}
        )
        self.update(log)
        return self

    def _review(self, row: int, new: bool, time: float, outcome: float, rating: int) -> None:
        pass  # the counts and last time are kept by reviews_

    def _rows_half_life(self, rows: np.ndarray) -> np.ndarray:
        reviews = self.reviews_
        rows = rows.tolist()
        count = np.array([reviews.count[r] for r in rows], dtype=np.float64)
        correct = np.array([reviews.correct[r] for r in rows], dtype=np.float64)
        bias = self._bias_of([reviews.card[r] for r in rows])
        return self.half_life(features(correct, count), bias)

    def _recall(self, rows: np.ndarray, time: float) -> np.ndarray:
        last = np.array([self.reviews_.last_time[r] for r in rows.tolist()], dtype=np.float64)
        elapsed = np.maximum(time - last, 0.0) / DAY
        result: np.ndarray = np.exp2(-elapsed / self._rows_half_life(rows))
        return result

    def predict_log(self, log: EventLog) -> np.ndarray:
        """Each event from the state before it, vectorised over the whole log."""
        look = self.reviews_.lookback(log)
        h = self.half_life(features(look.correct, look.count), self._bias_of(log.item.tolist()))
        elapsed = np.maximum(np.nan_to_num(look.elapsed_days, nan=0.0), 0.0)
        return np.where(look.seen, np.exp2(-elapsed / h), look.new_card_recall)

    def _memory(self, rows: list[int]) -> dict[str, list[Any]]:
        if not rows:
            return {"half_life": []}
        half_life = self._rows_half_life(np.asarray(rows, dtype=int))
        return {"half_life": [float(h) for h in half_life]}

    def _get_memory_state(self) -> dict[str, Any]:
        return {
            "theta": self.theta_.tolist(),
            "card_bias": [[card, value] for card, value in self.card_bias_.items()],
            "loss": None if math.isnan(self.loss_) else self.loss_,
            "n_iter": self.n_iter_,
        }

    def _set_memory_state(self, state: Mapping[str, Any]) -> None:
        theta = np.asarray(state["theta"], dtype=np.float64)
        if theta.shape != (3,) or not np.all(np.isfinite(theta)):
            raise ValueError(f"HLR theta must be 3 finite numbers, got {state['theta']!r}")
        self.theta_ = theta
        self.card_bias_ = {}
        for card, value in state["card_bias"]:
            self.card_bias_[json_id(card)] = float(value)
        self.loss_ = math.nan if state["loss"] is None else float(state["loss"])
        self.n_iter_ = int(state["n_iter"])
