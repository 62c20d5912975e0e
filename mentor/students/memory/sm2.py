"""SuperMemo-2 as a recall predictor, the baseline of the open srs-benchmark.

SM-2 (P. A. Wozniak, "Optimization of learning", 1990, ch. 3.2) schedules each
card by an interval I (days) and an easiness factor EF (start 2.5). A review's
rating (1 Again, 2 Hard, 3 Good, 4 Easy) is read as the SM-2 quality
q = rating + 1 (2 to 5), as srs-benchmark does (``models/sm2.py``)::

    if q >= 3:  I = 1, then 6, then I * EF   (repetition 1, 2, later ones)
    else:       I = 1 and the repetitions start again
    EF = max(1.3, EF + 0.1 - (5 - q) (0.08 + (5 - q) 0.02))
    I  = min(max(1, round(I + 0.01)), max_interval)

(the new interval uses the EF before the review). Like srs-benchmark, EF is
updated after a lapse too; Wozniak's text leaves EF unchanged when q < 3.

SM-2 gives no probability, so the recall at Δ days after the last review is
srs-benchmark's (``other.py``: ``p = exp(log(0.9) * delta_t / stability)`` with
the SM-2 interval as stability)::

    p = 0.9 ** (Δ / I)

that is, a card is taken to be recalled with probability 0.9 when it is due.
Here Δ is fractional days since the last review (srs-benchmark uses whole days
unless run with ``--secs``), and every review counts as an SM-2 repetition,
same-day ones included (srs-benchmark drops same-day reviews by default).
Without a ``rating`` column, outcome < 0.5 is Again and >= 0.5 is Good.
SM-2 has nothing to fit: :meth:`SM2.fit` replays the log.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

import numpy as np

from mentor._checks import check_number
from mentor.domain import Domain
from mentor.events import EventLog
from mentor.students.base import EpochCallback
from mentor.students.memory._base import MemoryModel
from mentor.students.memory._history import DAY


class SM2(MemoryModel):
    """SuperMemo-2 intervals read as forgetting curves, p = 0.9 ** (Δ / I).

    Parameters
    ----------
    domain
        Not used (each card is its own skill); kept for the common contract.
    easiness
        Starting easiness factor EF. Default 2.5 (SM-2).
    max_interval
        Longest interval in days. Default 36500 (srs-benchmark's ``s_max``).

    Attributes
    ----------
    interval_, easiness_, repetitions_ : list
        Per (learner, card) row: interval (days), EF and the count of
        successful repetitions since the last lapse.
    """

    name = "sm2"

    def __init__(
        self, domain: Domain | None = None, easiness: float = 2.5, max_interval: float = 36500.0
    ) -> None:
        self.easiness = check_number("easiness", easiness, 1.3)
        self.max_interval = check_number("max_interval", max_interval, 1.0)
        super().__init__(domain)

    def get_params(self) -> dict[str, Any]:
        return {"easiness": self.easiness, "max_interval": self.max_interval}

    def _clear_memory(self) -> None:
        self.interval_: list[float] = []
        self.easiness_: list[float] = []
        self.repetitions_: list[int] = []

    # ------------------------------------------------------------ contract
    def fit(self, log: EventLog, on_epoch: EpochCallback | None = None) -> Self:
        """Replay the log in time order from a fresh start (SM-2 has no parameters to fit)."""
        self._reset()
        self.update(log.sorted())
        if on_epoch is not None:
            on_epoch({"epoch": 1})
        return self

    def _review(self, row: int, new: bool, time: float, outcome: float, rating: int) -> None:
        if new:
            self.interval_.append(0.0)
            self.easiness_.append(self.easiness)
            self.repetitions_.append(0)
        q = rating + 1
        interval, ef, reps = self.interval_[row], self.easiness_[row], self.repetitions_[row]
        if q > 2:
            interval = 1.0 if reps == 0 else 6.0 if reps == 1 else interval * ef
            reps += 1
        else:
            interval, reps = 1.0, 0
        ef = max(1.3, ef + (0.1 - (5 - q) * (0.08 + (5 - q) * 0.02)))
        self.interval_[row] = float(min(max(1, round(interval + 0.01)), self.max_interval))
        self.easiness_[row] = ef
        self.repetitions_[row] = reps

    def _recall(self, rows: np.ndarray, time: float) -> np.ndarray:
        rows = rows.tolist()
        last = np.array([self.reviews_.last_time[r] for r in rows], dtype=np.float64)
        interval = np.array([self.interval_[r] for r in rows], dtype=np.float64)
        return 0.9 ** (np.maximum(time - last, 0.0) / DAY / interval)

    def predict_log(self, log: EventLog) -> np.ndarray:
        """Each event from the state before it (SM-2 is a recursion: one pass in time order)."""
        return self._replay(log)

    def _memory(self, rows: list[int]) -> dict[str, list[Any]]:
        return {
            "interval": [self.interval_[r] for r in rows],
            "easiness": [self.easiness_[r] for r in rows],
            "due": [self.reviews_.last_time[r] + self.interval_[r] * DAY for r in rows],
        }

    def _get_memory_state(self) -> dict[str, Any]:
        return {
            "interval": list(self.interval_),
            "easiness": list(self.easiness_),
            "repetitions": list(self.repetitions_),
        }

    def _set_memory_state(self, state: Mapping[str, Any]) -> None:
        n = len(self.reviews_)
        self.interval_ = [float(x) for x in state["interval"]]
        self.easiness_ = [float(x) for x in state["easiness"]]
        self.repetitions_ = [int(x) for x in state["repetitions"]]
        if not len(self.interval_) == len(self.easiness_) == len(self.repetitions_) == n:
            raise ValueError(f"SM-2 state needs {n} rows of interval, easiness and repetitions")
        if any(not i >= 1 for i in self.interval_):
            raise ValueError("SM-2 intervals must be at least 1 day")
