"""DASH: logistic regression on the study history in expanding time windows.

R. V. Lindsey, J. D. Shroyer, H. Pashler, M. C. Mozer, "Improving students'
long-term knowledge retention through personalized review", Psychological
Science 25(3), 2014 (DASH: Difficulty, Ability and Study History), in the form
of the "DASH" baseline of the open srs-benchmark of FSRS
(``features/dash_engineer.py``, ``models/dash.py``), which drops the
per-student ability and per-item difficulty and keeps the study history of the
card. For a review at time t of a card whose earlier reviews were at t_j with
outcomes o_j, over windows W (default 1 hour, 1 day, 1 week, 30 days and all
time)::

    n_w = #{j : t - t_j <= w},   c_w = sum of o_j over the same j
    P(recall) = sigmoid(b + sum_w [a_w f(c_w) + b_w f(n_w)])

with f(x) = log(1 + x) (srs-benchmark, default) or sqrt(x). The weights are
fitted by scikit-learn's ``LogisticRegression`` (L2, inverse strength ``C``,
default 1.0) on every review that has a previous review of the same card (the
reviews srs-benchmark scores); fractional outcomes enter as two weighted rows
(label 1 with weight o, label 0 with weight 1 - o). Features are built for the
whole log at once: window counts are differences of positions in the reviews
sorted by (card, time), found with one ``lexsort`` per window.

Forgetting in DASH is only reviews leaving windows: the prediction is a step
function of t, and it falls with t only when the fitted window weights are
non-negative (a_w, b_w >= 0); with a negative weight a review leaving a window
can raise it. :meth:`DASH.is_monotone` says which holds.

The model keeps every review time (O(1) to record; reviews of a card must
arrive in time order); predicting one card at time t counts its reviews at or
before t and costs O(log n) in its number of reviews (binary search per window).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from typing import Any, Self

import numpy as np
from scipy.special import expit, logit

from mentor._checks import check_choice, check_count, check_number
from mentor.domain import Domain
from mentor.errors import ParameterError
from mentor.events import EventLog
from mentor.students.base import EpochCallback
from mentor.students.memory._base import MemoryModel

WINDOWS = (3600.0, 86_400.0, 7 * 86_400.0, 30 * 86_400.0)
"""Default finite windows in seconds: 1 hour, 1 day, 1 week, 30 days (all time is always added)."""

TRANSFORMS = ("log", "sqrt")


def window_counts(
    group: np.ndarray, time: np.ndarray, outcome: np.ndarray, windows: Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    """Reviews and summed outcomes of the earlier reviews of the same group within each window.

    Rows must be sorted by group, then time (earlier reviews first). Returns two
    (n, len(windows) + 1) arrays: for row i and window w, the number of earlier
    rows j of its group with ``time[i] - time[j] <= w`` and the sum of their
    outcomes; the last column counts all earlier rows of the group.
    """
    n = len(group)
    k = len(windows)
    total = np.zeros((n, k + 1))
    correct = np.zeros((n, k + 1))
    if n == 0:
        return total, correct
    position = np.arange(n)
    running = np.r_[0.0, np.cumsum(outcome)]
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    first = np.repeat(starts, np.diff(np.r_[starts, n]))
    total[:, k] = position - first
    correct[:, k] = running[position] - running[first]
    kind = np.r_[np.ones(n, dtype=np.int8), np.zeros(n, dtype=np.int8)]  # data, then queries
    groups = np.r_[group, group]
    for j, w in enumerate(windows):
        # position of (group, time - w) among the rows: rows before it in (group, time)
        # order; a query sorts before rows with the same key, so a row exactly w earlier counts
        merged = np.lexsort((kind, np.r_[time, time - w], groups))
        is_row = kind[merged] == 1
        rows_before = np.cumsum(is_row) - is_row
        lower = np.empty(n, dtype=np.int64)
        lower[merged[~is_row] - n] = rows_before[~is_row]
        total[:, j] = position - lower
        correct[:, j] = running[position] - running[lower]
    return total, correct


class DASH(MemoryModel):
    """DASH-style logistic regression on window counts (Lindsey et al. 2014; srs-benchmark).

    Parameters
    ----------
    domain
        Not used (each card is its own skill); kept for the common contract.
    windows
        Finite time windows in seconds; an all-time window is always added.
        Default 1 hour, 1 day, 1 week, 30 days.
    transform
        ``"log"`` for log(1 + x) (srs-benchmark's DASH, default) or ``"sqrt"``.
    C
        Inverse L2 strength of scikit-learn's ``LogisticRegression``. Default 1.0.
    max_iter
        Iterations of its lbfgs solver. Default 1000.

    Attributes
    ----------
    coef_ : numpy.ndarray
        Weights of f(c_w), f(n_w) for each window in turn (all time last).
    intercept_ : float
    """

    name = "dash"
    keep_history = True

    def __init__(
        self,
        domain: Domain | None = None,
        windows: Sequence[float] = WINDOWS,
        transform: str = "log",
        C: float = 1.0,  # noqa: N803 (scikit-learn's name)
        max_iter: int = 1000,
    ) -> None:
        windows = [check_number("windows", w, 0.0, strict=True) for w in windows]
        if len(set(windows)) != len(windows):
            raise ParameterError("must be distinct seconds", field="windows", value=windows)
        self.windows = sorted(windows)
        self.transform = check_choice("transform", transform, TRANSFORMS)
        self.C = check_number("C", C, 0.0, strict=True)
        self.max_iter = check_count("max_iter", max_iter, 1)
        self.coef_ = np.zeros(2 * (len(self.windows) + 1))
        self.intercept_ = 0.0
        super().__init__(domain)

    def get_params(self) -> dict[str, Any]:
        return {
            "windows": list(self.windows),
            "transform": self.transform,
            "C": self.C,
            "max_iter": self.max_iter,
        }

    def _clear_memory(self) -> None:
        pass  # DASH's memory is the review history kept by reviews_

    # ------------------------------------------------------------ features
    def features(self, total: np.ndarray, correct: np.ndarray) -> np.ndarray:
        """f(c_w), f(n_w) for each window in turn, from (n, windows + 1) counts."""
        f = np.log1p if self.transform == "log" else np.sqrt
        return np.stack([f(correct), f(total)], axis=2).reshape(len(total), 2 * total.shape[1])

    def _log_features(self, log: EventLog) -> tuple[np.ndarray, Any]:
        """Features of every event of ``log`` from the history before it (vectorised)."""
        reviews = self.reviews_
        look = reviews.lookback(log)
        known = np.unique(look.row[look.row < len(reviews)]).tolist()
        sizes = [len(reviews.times[r]) for r in known]
        history = sum(sizes)
        group = np.r_[np.repeat(np.asarray(known, dtype=np.int64), sizes), look.row]
        phase = np.r_[np.zeros(history, dtype=np.int8), np.ones(len(log), dtype=np.int8)]
        rank = np.empty(len(log), dtype=np.int64)
        rank[look.order] = np.arange(len(log))
        sequence = np.r_[
            np.concatenate([np.arange(s) for s in sizes]) if sizes else np.zeros(0, np.int64),
            rank,
        ]
        time = np.r_[
            np.concatenate([reviews.times[r] for r in known]) if known else np.zeros(0),
            log.time,
        ]
        outcome = np.r_[
            np.concatenate([reviews.outcomes[r] for r in known]) if known else np.zeros(0),
            log.outcome,
        ]
        # by card, then time; at equal times recorded reviews first, then the log's
        # events in time order (as replaying them one at a time would have them)
        order = np.lexsort((sequence, phase, time, group))
        total, correct = window_counts(group[order], time[order], outcome[order], self.windows)
        at = np.empty(len(order), dtype=np.int64)
        at[order] = np.arange(len(order))
        mine = at[history:]  # where each event of the log landed
        return self.features(total[mine], correct[mine]), look

    # ------------------------------------------------------------ contract
    def fit(self, log: EventLog, on_epoch: EpochCallback | None = None) -> Self:
        """Fit the logistic regression on every review with a previous review of
        the same card, then replay the log to hold each learner's history."""
        from sklearn.linear_model import LogisticRegression

        log = log.sorted()
        self._reset()
        x, look = self._log_features(log)
        use = look.seen
        x, y = x[use], log.outcome[use]
        self.coef_ = np.zeros(x.shape[1])
        self.intercept_ = 0.0
        if len(y):
            weight = np.r_[y, 1.0 - y]
            keep = weight > 0
            labels = np.r_[np.ones(len(y)), np.zeros(len(y))][keep]
            if labels.min() == labels.max():  # one class only: the base rate, no slopes
                self.intercept_ = float(logit(np.clip(np.mean(y), 1e-3, 1 - 1e-3)))
            else:
                model = LogisticRegression(C=self.C, max_iter=self.max_iter)
                model.fit(np.r_[x, x][keep], labels, sample_weight=weight[keep])
                self.coef_ = model.coef_[0].astype(np.float64)
                self.intercept_ = float(model.intercept_[0])
        self.update(log)
        if on_epoch is not None:
            on_epoch({"epoch": 1})
        return self

    def _review(self, row: int, new: bool, time: float, outcome: float, rating: int) -> None:
        pass  # the review history is kept by reviews_

    def _row_counts(self, rows: np.ndarray, time: float) -> tuple[np.ndarray, np.ndarray]:
        k = len(self.windows)
        total = np.zeros((len(rows), k + 1))
        correct = np.zeros((len(rows), k + 1))
        for i, row in enumerate(rows.tolist()):
            times, running = self.reviews_.times[row], self.reviews_.cumulative[row]
            hi = bisect_right(times, time)
            total[i, k], correct[i, k] = hi, running[hi]
            for j, w in enumerate(self.windows):
                lo = bisect_left(times, time - w, 0, hi)
                total[i, j], correct[i, j] = hi - lo, running[hi] - running[lo]
        return total, correct

    def _recall(self, rows: np.ndarray, time: float) -> np.ndarray:
        total, correct = self._row_counts(rows, time)
        result: np.ndarray = expit(self.features(total, correct) @ self.coef_ + self.intercept_)
        return result

    def predict_log(self, log: EventLog) -> np.ndarray:
        """Each event from the history before it, vectorised over the whole log."""
        x, look = self._log_features(log)
        seen: np.ndarray = expit(x @ self.coef_ + self.intercept_)
        return np.where(look.seen, seen, look.new_card_recall)

    def is_monotone(self) -> bool:
        """Whether recall can only fall as time passes: all window weights >= 0
        (the all-time weights do not matter, no review ever leaves that window)."""
        return bool(np.all(self.coef_[:-2] >= 0))

    def _memory(self, rows: list[int]) -> dict[str, list[Any]]:
        reviews = self.reviews_
        return {"last_review": [reviews.last_time[r] for r in rows]}

    def _get_memory_state(self) -> dict[str, Any]:
        return {"coef": self.coef_.tolist(), "intercept": self.intercept_}

    def _set_memory_state(self, state: Mapping[str, Any]) -> None:
        coef = np.asarray(state["coef"], dtype=np.float64)
        if coef.shape != (2 * (len(self.windows) + 1),) or not np.all(np.isfinite(coef)):
            raise ValueError(f"DASH coef must be {2 * (len(self.windows) + 1)} finite numbers")
        self.coef_ = coef
        self.intercept_ = float(state["intercept"])
