"""What the memory models share: per-card review state, "now", and the contract plumbing.

A memory model predicts, for each card a learner has reviewed, the
probability of recalling it at any time t (seconds, the log's clock): a
forgetting curve that starts from the last review. Each card is its own skill,
so ``state(learner)["mastery"]`` maps every card the learner has reviewed to
its recall probability now. "Now" is the time of the learner's latest event
(the model has no other clock; pass ``t`` to :meth:`MemoryModel.predict` for
any other time). A card never reviewed gets the new-card rate of
:mod:`mentor.students.memory._history`.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar

import numpy as np

from mentor.domain import Domain
from mentor.events import EventLog
from mentor.students.base import StudentModel
from mentor.students.memory._history import Reviews, ratings_of


class MemoryModel(StudentModel):
    """Base class of the memory models: a forgetting curve per (learner, card).

    Subclasses keep their own per-row memory (a row per (learner, card) of
    :attr:`reviews_`) and implement :meth:`_review` (one review, O(1)),
    :meth:`_recall` (recall of rows at a time), :meth:`_memory` (per-card
    figures for :meth:`state`) and the persistence hooks.
    """

    keep_history: ClassVar[bool] = False

    def __init__(self, domain: Domain | None = None) -> None:
        super().__init__(domain)
        self.reviews_ = Reviews(keep_history=self.keep_history)
        self._clear_memory()

    def _reset(self) -> None:
        self.reviews_.clear()
        self._clear_memory()

    # ------------------------------------------------------------ hooks
    @abc.abstractmethod
    def _clear_memory(self) -> None:
        """Forget the per-row memory (the fitted parameters stay)."""

    @abc.abstractmethod
    def _review(self, row: int, new: bool, time: float, outcome: float, rating: int) -> None:
        """Update row ``row`` for one review; :attr:`reviews_` still holds the
        state before it (``new``: the row was just opened)."""

    @abc.abstractmethod
    def _recall(self, rows: np.ndarray, time: float) -> np.ndarray:
        """Recall probability of reviewed rows at ``time`` (seconds)."""

    def _memory(self, rows: list[int]) -> dict[str, list[Any]]:
        """Per-card memory figures for :meth:`state`, one list per figure."""
        return {}

    @abc.abstractmethod
    def _get_memory_state(self) -> dict[str, Any]:
        """Fitted parameters and per-row memory, JSON-able."""

    @abc.abstractmethod
    def _set_memory_state(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`_get_memory_state` (after :attr:`reviews_` is restored)."""

    # ------------------------------------------------------------ contract
    def _walk(self, events: EventLog) -> Iterator[tuple[int, bool, float, float, int]]:
        """``(row, new, time, outcome, rating)`` of each review in the order given, with
        :attr:`reviews_` holding the state before it; the review is recorded there when
        the caller asks for the next one."""
        reviews = self.reviews_
        for learner, card, time, outcome, rating in zip(
            events.learner.tolist(),
            events.item.tolist(),
            events.time.tolist(),
            events.outcome.tolist(),
            ratings_of(events).tolist(),
            strict=True,
        ):
            row, new = reviews.open(learner, card)
            yield row, new, time, outcome, rating
            reviews.record(row, time, outcome)

    def update(self, events: EventLog) -> None:
        """Record reviews in the order given; O(1) per review."""
        for review in self._walk(events):
            self._review(*review)

    def predict(self, learner: Any, items: Iterable[Any], t: float | None = None) -> np.ndarray:
        """Probability of recalling each card at time ``t`` (seconds; default:
        the learner's latest event); the new-card rate for cards never reviewed."""
        items = list(items)
        reviews = self.reviews_
        rows = np.array([reviews.row_of.get((learner, item), -1) for item in items], dtype=int)
        out = np.full(len(items), reviews.new_card_recall())
        seen = rows >= 0
        if seen.any():
            time = reviews.now[learner] if t is None else float(t)
            out[seen] = self._recall(rows[seen], time)
        return out

    def state(self, learner: Any) -> dict[str, Any]:
        """Recall now (``mastery``) and memory figures of every card the learner reviewed.

        Keys: ``time`` (the learner's latest event, None if unknown),
        ``mastery`` {card: recall probability at ``time``}, ``reviews`` {card:
        number of reviews}, ``new_card_recall``, and the model's own per-card
        figures (stability, half-life, interval, ...), each {card: value}.
        """
        reviews = self.reviews_
        rows = reviews.rows_of.get(learner, [])
        cards = [reviews.card[r] for r in rows]
        now = reviews.now.get(learner)
        recall = self._recall(np.asarray(rows, dtype=int), now).tolist() if now is not None else []
        out: dict[str, Any] = {
            "time": now,
            "mastery": dict(zip(cards, map(float, recall), strict=True)),
            "reviews": {card: reviews.count[r] for card, r in zip(cards, rows, strict=True)},
            "new_card_recall": reviews.new_card_recall(),
        }
        for name, values in self._memory(rows).items():
            out[name] = dict(zip(cards, values, strict=True))
        return out

    def _get_state(self) -> dict[str, Any]:
        return {"reviews": self.reviews_.state_dict(), **self._get_memory_state()}

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self._reset()
        self.reviews_.load_state_dict(state["reviews"])
        self._set_memory_state(state)

    # ------------------------------------------------------------ replay
    def _replay(self, log: EventLog) -> np.ndarray:
        """:meth:`predict_log` by replaying the events one at a time on a copy
        (for models whose memory is a recursion, such as FSRS and SM-2)."""
        shadow = type(self).from_state_dict(self.state_dict(), domain=self.domain)
        reviews = shadow.reviews_
        ratings = ratings_of(log).tolist()
        learners, cards = log.learner.tolist(), log.item.tolist()
        times, outcomes = log.time.tolist(), log.outcome.tolist()
        predictions = np.empty(len(log))
        one = np.empty(1, dtype=int)
        for i in np.argsort(log.time, kind="stable").tolist():
            row, new = reviews.open(learners[i], cards[i])
            if new:
                predictions[i] = reviews.new_card_recall()
            else:
                one[0] = row
                predictions[i] = shadow._recall(one, times[i])[0]
            shadow._review(row, new, times[i], outcomes[i], ratings[i])
            reviews.record(row, times[i], outcomes[i])
        return predictions
