"""FSRS, the Free Spaced Repetition Scheduler, through the official ``fsrs`` package.

J. Ye, J. Su, Y. Cao, "A stochastic shortest path algorithm for optimizing
spaced repetition scheduling", KDD 2022, and FSRS-6 as implemented by py-fsrs
(``fsrs`` on PyPI). Nothing of FSRS is re-implemented here: each (learner,
card) holds an ``fsrs.Card`` advanced by ``fsrs.Scheduler.review_card`` (its
stability S, difficulty D and learning state), the recall at time t is
``Scheduler.get_card_retrievability``::

    R(t) = (1 + F · Δ / S) ** -w20,   F = 0.9 ** (-1 / w20) - 1

with Δ the days since the last review. By default (``elapsed="exact"``) Δ is
the exact elapsed time in days, so recall falls from the moment of a review,
as the FSRS forgetting curve does; ``elapsed="days"`` calls
``get_card_retrievability`` itself, which counts *whole* days (R is 1 for the
first 24 hours after a review and steps once a day after). Either way the
curve's parameters and the card's stability are py-fsrs's. And
:meth:`FSRS.fit` fits the 21 weights with ``fsrs.Optimizer``
(``compute_optimal_parameters``: Adam on the log loss of the reviews that come
a day or more after the previous one, first 64 reviews of each card, five
epochs, seed 42; the default weights when there are fewer than 512 such
reviews). The optimizer needs PyTorch (``pip install 'mentor[torch]'``);
without it :meth:`FSRS.fit` warns and keeps the default weights.

FSRS needs review ratings (1 Again, 2 Hard, 3 Good, 4 Easy): the log's
``rating`` column when it has one, else outcome < 0.5 is Again and >= 0.5 is
Good. Times are seconds since the epoch (UTC). With several learners, one set
of weights is fitted on all of them (each (learner, card) is a card to the
optimizer). Cards are scheduled without fuzz, so the ``due`` times in
:meth:`FSRS.state` are reproducible.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Self

import numpy as np
from fsrs import Card, Rating, ReviewLog, Scheduler
from fsrs.scheduler import DEFAULT_PARAMETERS

from mentor._checks import check_choice, check_flag, check_unit
from mentor.domain import Domain
from mentor.errors import ParameterError
from mentor.events import EventLog
from mentor.students.base import EpochCallback
from mentor.students.memory._base import MemoryModel
from mentor.students.memory._history import ratings_of


def to_datetime(seconds: float) -> datetime:
    """A log time (seconds since the epoch) as the UTC datetime py-fsrs expects."""
    return datetime.fromtimestamp(seconds, tz=UTC)


class FSRS(MemoryModel):
    """FSRS memory model (py-fsrs ``Scheduler``/``Card``), weights fitted by ``fsrs.Optimizer``.

    Parameters
    ----------
    domain
        Not used (each card is its own skill); kept for the common contract.
    parameters
        The 21 FSRS-6 weights used when not optimizing (and when the optimizer
        is unavailable); py-fsrs's defaults when None. ``fsrs.Optimizer``
        itself always starts from py-fsrs's defaults.
    optimize
        Fit the weights on the log in :meth:`fit` (default True); False keeps
        ``parameters``.
    desired_retention
        Retention the scheduler aims at; sets the ``due`` times reported by
        :meth:`state`, not the predictions. Default 0.9 (py-fsrs).
    elapsed
        ``"exact"`` (default): recall at the exact time elapsed since the last
        review; ``"days"``: in whole days, as py-fsrs's ``get_card_retrievability``.

    Attributes
    ----------
    parameters_ : list of float
        The weights in use (fitted, or the starting ones).
    optimized_ : bool
        Whether the last :meth:`fit` ran the optimizer.
    cards_ : list of fsrs.Card
        Memory state per (learner, card) row.
    """

    name = "fsrs"

    def __init__(
        self,
        domain: Domain | None = None,
        parameters: Sequence[float] | None = None,
        optimize: bool = True,
        desired_retention: float = 0.9,
        elapsed: str = "exact",
    ) -> None:
        self.desired_retention = check_unit(
            "desired_retention", desired_retention, strict=True, strict_maximum=True
        )
        self.elapsed = check_choice("elapsed", elapsed, ("exact", "days"))
        self.parameters = None if parameters is None else [float(w) for w in parameters]
        self.optimize = check_flag("optimize", optimize)
        self.optimized_ = False
        self._set_parameters(self._start())
        super().__init__(domain)

    def _start(self) -> list[float]:
        return list(DEFAULT_PARAMETERS) if self.parameters is None else list(self.parameters)

    def _set_parameters(self, parameters: Sequence[float]) -> None:
        try:
            self.scheduler_ = Scheduler(
                parameters=list(parameters),
                desired_retention=self.desired_retention,
                enable_fuzzing=False,
            )
        except (ValueError, TypeError) as error:
            raise ParameterError(f"FSRS parameters rejected by fsrs: {error}") from None
        self.parameters_ = [float(w) for w in self.scheduler_.parameters]

    def get_params(self) -> dict[str, Any]:
        return {
            "parameters": self.parameters,
            "optimize": self.optimize,
            "desired_retention": self.desired_retention,
            "elapsed": self.elapsed,
        }

    def _clear_memory(self) -> None:
        self.cards_: list[Card] = []

    # ------------------------------------------------------------ contract
    def fit(self, log: EventLog, on_epoch: EpochCallback | None = None) -> Self:
        """Fit the weights with ``fsrs.Optimizer`` (if ``optimize``), then replay the log."""
        log = log.sorted()
        self._fit_weights(log)
        self.update(log)
        if on_epoch is not None:
            on_epoch({"epoch": 1})
        return self

    def _fit_weights(self, log: EventLog) -> None:
        """Forget every card, then set the weights: fitted on ``log`` (time-sorted) by
        ``fsrs.Optimizer`` if ``optimize`` and it is available, else the starting ones."""
        self._reset()
        self.optimized_ = False
        start = self._start()
        if self.optimize and len(log):
            fitted = self._optimize(log)
            if fitted is not None:
                start, self.optimized_ = fitted, True
        self._set_parameters(start)

    def _optimize(self, log: EventLog) -> list[float] | None:
        """``fsrs.Optimizer.compute_optimal_parameters`` on the log; None without torch."""
        from fsrs.optimizer import Optimizer

        rows = self.reviews_.rows(log)  # fresh state: one integer id per (learner, card)
        review_logs = [
            ReviewLog(row, Rating(rating), to_datetime(t), None)
            for row, rating, t in zip(
                rows.tolist(), ratings_of(log).tolist(), log.time.tolist(), strict=True
            )
        ]
        try:
            optimizer = Optimizer(review_logs)
        except ImportError as error:
            warnings.warn(
                "FSRS.fit: the FSRS optimizer needs PyTorch (pip install 'mentor[torch]'); "
                "keeping the starting FSRS parameters (py-fsrs's defaults unless "
                f"parameters= was given) ({error})".replace("\n", " "),
                RuntimeWarning,
                stacklevel=3,
            )
            return None
        return [float(w) for w in optimizer.compute_optimal_parameters(verbose=False)]

    def _review(self, row: int, new: bool, time: float, outcome: float, rating: int) -> None:
        when = to_datetime(time)
        if new:
            self.cards_.append(Card(card_id=row, due=when))
        self.cards_[row], _ = self.scheduler_.review_card(
            self.cards_[row], Rating(rating), review_datetime=when
        )

    def _recall(self, rows: np.ndarray, time: float) -> np.ndarray:
        cards = [self.cards_[r] for r in rows.tolist()]
        if self.elapsed == "days":
            when = to_datetime(time)
            retrievability = self.scheduler_.get_card_retrievability
            return np.array([retrievability(card, when) for card in cards], dtype=float)
        # the same curve as get_card_retrievability, at the exact elapsed time
        decay = -self.parameters_[20]
        factor = 0.9 ** (1 / decay) - 1
        out = np.zeros(len(cards))
        for k, card in enumerate(cards):
            if card.last_review is not None and card.stability is not None:
                days = max(0.0, (time - card.last_review.timestamp()) / 86400.0)
                out[k] = (1 + factor * days / card.stability) ** decay
        return out

    def predict_log(self, log: EventLog) -> np.ndarray:
        """Each event from the state before it (FSRS is a recursion: one pass in time order)."""
        return self._replay(log)

    def _memory(self, rows: list[int]) -> dict[str, list[Any]]:
        cards = [self.cards_[r] for r in rows]
        return {
            "stability": [c.stability for c in cards],
            "difficulty": [c.difficulty for c in cards],
            "due": [c.due.timestamp() for c in cards],
            "fsrs_state": [c.state.name for c in cards],
        }

    def _get_memory_state(self) -> dict[str, Any]:
        return {
            "parameters": list(self.parameters_),
            "optimized": self.optimized_,
            "cards": [card.to_dict() for card in self.cards_],
        }

    def _set_memory_state(self, state: Mapping[str, Any]) -> None:
        self._set_parameters([float(w) for w in state["parameters"]])
        self.optimized_ = bool(state["optimized"])
        self.cards_ = [Card.from_dict(card) for card in state["cards"]]
        if len(self.cards_) != len(self.reviews_):
            raise ValueError(f"FSRS state needs {len(self.reviews_)} cards, got {len(self.cards_)}")
