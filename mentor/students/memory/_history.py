"""Review state per (learner, card), shared by the memory models.

Every memory model keeps, for each card a learner has reviewed, the number of
reviews, the sum of their outcomes ("correct" count; outcomes may be
fractional), the time of the last review and, where a model needs it, the
whole list of review times (:class:`Reviews`). Recording a review is O(1).

:meth:`Reviews.lookback` is the vectorised counterpart used to score or fit a
whole log at once: for every event it gives what the state held just before
that event (events taken in time order, ties in log order), from the state
already recorded plus the earlier events of the same log.

Times are seconds (the :func:`~mentor.events.read_review_log` convention);
memory models work in days, ``DAY`` seconds each.

A card the learner has never reviewed has no memory trace to recall from.
Every memory model then predicts the share of first reviews that succeeded so
far, over all learners and cards, with a Laplace prior:
``(successes + 1) / (first reviews + 2)`` (0.5 before any review).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

import numpy as np

from mentor._checks import check_flag, json_id
from mentor.errors import DataError
from mentor.events import EventLog

DAY = 86_400.0
"""Seconds in a day: log times are seconds, memory models work in days."""

AGAIN, HARD, GOOD, EASY = 1, 2, 3, 4


def ratings_of(log: EventLog) -> np.ndarray:
    """The review rating (1 Again, 2 Hard, 3 Good, 4 Easy) of each event.

    Taken from the log's ``rating`` column when it has one (as
    :func:`~mentor.events.read_review_log` gives); otherwise outcome < 0.5 is
    Again (a lapse) and outcome >= 0.5 is Good.
    """
    if "rating" not in log.extra:
        return np.where(log.outcome >= 0.5, GOOD, AGAIN).astype(np.int64)
    column = np.asarray(log.extra["rating"])
    try:
        ratings = column.astype(np.float64)
    except (TypeError, ValueError):
        raise DataError(
            "rating must be 1 (Again), 2 (Hard), 3 (Good) or 4 (Easy)",
            field="rating",
            value=str(column[0]) if len(column) else None,
        ) from None
    bad = np.flatnonzero(~np.isin(ratings, (AGAIN, HARD, GOOD, EASY)))
    if bad.size:
        raise DataError(
            f"rating must be 1 (Again), 2 (Hard), 3 (Good) or 4 (Easy) (event {bad[0]})",
            field="rating",
            value=column[bad[0]].item(),
        )
    return ratings.astype(np.int64)


@dataclass(frozen=True)
class Lookback:
    """What the review state held just before each event of a log (log order).

    Attributes
    ----------
    order
        The events in time order (stable), as indices into the log.
    row
        Row of the event's (learner, card) in :class:`Reviews`; pairs new to
        the state get rows from ``len(reviews)`` on.
    count
        Reviews of the pair before the event.
    correct
        Sum of the outcomes of those reviews.
    last_time
        Time of the pair's previous review (NaN for a first review).
    new_card_recall
        The new-card prediction in force before the event.
    time
        The events' own times.
    """

    order: np.ndarray
    row: np.ndarray
    count: np.ndarray
    correct: np.ndarray
    last_time: np.ndarray
    new_card_recall: np.ndarray
    time: np.ndarray

    @property
    def elapsed_days(self) -> np.ndarray:
        """Days since the previous review of the same card (NaN for a first review)."""
        result: np.ndarray = (self.time - self.last_time) / DAY
        return result

    @property
    def seen(self) -> np.ndarray:
        """Events that have a previous review of the same (learner, card)."""
        return self.count > 0


class Reviews:
    """Per-(learner, card) review counts and times; O(1) per recorded review.

    Parameters
    ----------
    keep_history
        Also keep every review's time and the running sum of outcomes (for
        models whose features need the whole history, such as DASH's time
        windows). Default False.
    """

    def __init__(self, keep_history: bool = False) -> None:
        self.keep_history = check_flag("keep_history", keep_history)
        self.clear()

    def clear(self) -> None:
        """Forget every review."""
        self.row_of: dict[tuple[Any, Any], int] = {}
        self.learner: list[Any] = []
        self.card: list[Any] = []
        self.count: list[int] = []
        self.correct: list[float] = []
        self.last_time: list[float] = []
        self.times: list[list[float]] = []
        self.outcomes: list[list[float]] = []
        self.cumulative: list[list[float]] = []  # running sums of outcomes, from 0
        self.rows_of: dict[Any, list[int]] = {}
        self.now: dict[Any, float] = {}
        self.first_count = 0
        self.first_correct = 0.0

    def __len__(self) -> int:
        return len(self.learner)

    # ------------------------------------------------------------ online
    def row(self, learner: Any, card: Any) -> int | None:
        """Row of a (learner, card) pair, or None if the learner never reviewed it."""
        return self.row_of.get((learner, card))

    def open(self, learner: Any, card: Any) -> tuple[int, bool]:
        """Row of a pair, created if needed; also says whether it was created."""
        key = (learner, card)
        row = self.row_of.get(key)
        if row is not None:
            return row, False
        row = len(self.learner)
        self.row_of[key] = row
        self.learner.append(learner)
        self.card.append(card)
        self.count.append(0)
        self.correct.append(0.0)
        self.last_time.append(float("nan"))
        if self.keep_history:
            self.times.append([])
            self.outcomes.append([])
            self.cumulative.append([0.0])
        self.rows_of.setdefault(learner, []).append(row)
        return row, True

    def record(self, row: int, time: float, outcome: float) -> None:
        """Add one review to a row opened with :meth:`open`."""
        if self.count[row] == 0:
            self.first_count += 1
            self.first_correct += outcome
        self.count[row] += 1
        self.correct[row] += outcome
        self.last_time[row] = time
        learner = self.learner[row]
        self.now[learner] = max(self.now.get(learner, time), time)
        if self.keep_history:
            self.times[row].append(time)
            self.outcomes[row].append(outcome)
            cumulative = self.cumulative[row]
            cumulative.append(cumulative[-1] + outcome)

    def new_card_recall(self) -> float:
        """Prediction for a card never reviewed: share of successful first reviews
        with a Laplace prior, (successes + 1) / (first reviews + 2)."""
        return (self.first_correct + 1.0) / (self.first_count + 2.0)

    # ------------------------------------------------------------ batch
    def rows(self, log: EventLog) -> np.ndarray:
        """Row of each event's pair; pairs new to the state get rows ``len(self)``,
        ``len(self) + 1``, ... in order of first appearance in the log."""
        rows = np.empty(len(log), dtype=np.int64)
        new: dict[tuple[Any, Any], int] = {}
        base = len(self.learner)
        row_of = self.row_of
        for i, key in enumerate(zip(log.learner.tolist(), log.item.tolist(), strict=True)):
            row = row_of.get(key)
            if row is None:
                row = new.setdefault(key, base + len(new))
            rows[i] = row
        return rows

    def lookback(self, log: EventLog) -> Lookback:
        """For every event of ``log``, the state just before it (vectorised).

        Events are taken in time order (ties in log order) after everything
        already recorded, as :meth:`~mentor.students.StudentModel.predict_log`
        replays them; the state itself is not changed.
        """
        n = len(log)
        order = np.argsort(log.time, kind="stable")
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n)
        rows = self.rows(log)
        grouped = np.lexsort((rank, rows))  # by pair, then in time order
        g_rows = rows[grouped]
        starts = np.flatnonzero(np.r_[True, g_rows[1:] != g_rows[:-1]]) if n else np.array([], int)
        first = np.repeat(starts, np.diff(np.r_[starts, n]))
        within = np.arange(n) - first
        known = g_rows < len(self.learner)
        safe = np.where(known, g_rows, 0)
        base_count = _take(self.count, safe, known, 0.0)
        base_correct = _take(self.correct, safe, known, 0.0)
        base_last = _take(self.last_time, safe, known, np.nan)
        g_outcome = log.outcome[grouped]
        g_time = log.time[grouped]
        running = np.cumsum(g_outcome) - g_outcome
        previous_time = np.r_[np.nan, g_time[:-1]] if n else g_time
        count = np.empty(n)
        correct = np.empty(n)
        last_time = np.empty(n)
        count[grouped] = base_count + within
        correct[grouped] = base_correct + running - running[first]
        last_time[grouped] = np.where(within == 0, base_last, previous_time)
        # the new-card rate moves with every first review, in time order
        is_first = (count == 0).astype(np.float64)
        t_first, t_success = is_first[order], is_first[order] * log.outcome[order]
        seen_first = np.cumsum(t_first) - t_first
        seen_success = np.cumsum(t_success) - t_success
        rate = np.empty(n)
        rate[order] = (self.first_correct + seen_success + 1.0) / (
            self.first_count + seen_first + 2.0
        )
        return Lookback(order, rows, count, correct, last_time, rate, log.time)

    # ------------------------------------------------------------ persistence
    def state_dict(self) -> dict[str, Any]:
        """JSON-able copy of the state."""
        state: dict[str, Any] = {
            "learner": list(self.learner),
            "card": list(self.card),
            "count": list(self.count),
            "correct": list(self.correct),
            "last_time": list(self.last_time),
            "now": [[learner, time] for learner, time in self.now.items()],
            "first_count": self.first_count,
            "first_correct": self.first_correct,
        }
        if self.keep_history:
            state["times"] = [list(t) for t in self.times]
            state["outcomes"] = [list(o) for o in self.outcomes]
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        self.clear()
        learners = [json_id(x) for x in state["learner"]]
        cards = [json_id(x) for x in state["card"]]
        counts = [int(x) for x in state["count"]]
        if not (len(learners) == len(cards) == len(counts)):
            raise ValueError("review state columns differ in length")
        if any(c < 1 for c in counts):
            raise ValueError("review state has a card with no review")
        for learner, card in zip(learners, cards, strict=True):
            self.open(learner, card)
        self.count = counts
        self.correct = [float(x) for x in state["correct"]]
        self.last_time = [float(x) for x in state["last_time"]]
        if len(self.correct) != len(counts) or len(self.last_time) != len(counts):
            raise ValueError("review state columns differ in length")
        self.now = {json_id(learner): float(time) for learner, time in state["now"]}
        self.first_count = int(state["first_count"])
        self.first_correct = float(state["first_correct"])
        if self.keep_history:
            self.times = [[float(t) for t in times] for times in state["times"]]
            self.outcomes = [[float(o) for o in outcomes] for outcomes in state["outcomes"]]
            if (
                len(self.times) != len(counts)
                or len(self.outcomes) != len(counts)
                or any(
                    len(t) != n or len(o) != n
                    for t, o, n in zip(self.times, self.outcomes, counts, strict=True)
                )
            ):
                raise ValueError("review history does not match the review counts")
            # the same additions, in the same order, as record() made
            self.cumulative = [list(accumulate(o, initial=0.0)) for o in self.outcomes]


def _take(values: list[Any], rows: np.ndarray, known: np.ndarray, fill: float) -> np.ndarray:
    """``values[rows]`` where ``known``, ``fill`` elsewhere (values may be empty)."""
    if not len(values):
        return np.full(len(rows), fill, dtype=np.float64)
    return np.where(known, np.asarray(values, dtype=np.float64)[rows], fill)
