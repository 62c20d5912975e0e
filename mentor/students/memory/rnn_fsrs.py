"""The recurrent memory model with FSRS-6's memory state among its inputs (a hybrid).

:class:`~mentor.students.memory.rnn.MemoryRNN` reads each review's elapsed
time, rating and count and its own recall. This variant also reads, at every
review, FSRS-6's state of the card just before it (py-fsrs, through
:class:`~mentor.students.memory.FSRS`, weights fitted by ``fsrs.Optimizer`` on
the same training log first): log S (stability, days), (D - 5) / 5
(difficulty, 1 to 10, centred) and logit R (FSRS's recall at the exact elapsed
time, clipped to [1e-6, 1 - 1e-6]); 0 for all three at a card's first review,
which the first-review input already flags. The curve, the training and the
defaults are MemoryRNN's; only the inputs change (12 instead of 9).

Why: FSRS's S, D and R summarise a card's history by a model whose form and
starting weights come from many users' reviews and whose weights are refitted
on this log, while the GRU has to learn such a summary from one user's log alone.
Feeding one model's state to another is the idea of srs-benchmark's NN-17 (a
network given SM-17's difficulty, stability and retrievability) and of
``fsrs-lr`` here (a logistic model on FSRS's logit); the GRU may use or ignore
these inputs. Fitting costs FSRS's optimizer plus MemoryRNN's training.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from fsrs import Card

from mentor._checks import check_flag
from mentor.domain import Domain
from mentor.events import EventLog
from mentor.students.memory.fsrs_model import FSRS
from mentor.students.memory.rnn import MemoryRNN

EDGE = 1e-6
"""FSRS's recall is clipped to [EDGE, 1 - EDGE] before its logit."""


class MemoryRNNFSRS(MemoryRNN):
    """Recurrent memory model that also reads FSRS-6's stability, difficulty and recall of the card.

    Parameters
    ----------
    domain, hidden_size, components, lr, weight_decay, batch_size, max_epochs, patience,
    holdout, seed
        As :class:`~mentor.students.memory.MemoryRNN`.
    fsrs_optimize
        Fit FSRS's weights with ``fsrs.Optimizer`` before the network (default True);
        False keeps py-fsrs's default weights.

    Attributes
    ----------
    fsrs_ : FSRS
        The FSRS model whose state of each card is read (its own cards, one per row).
    """

    name = "memory-rnn-fsrs"
    extra_inputs = ("fsrs_log_stability", "fsrs_difficulty", "fsrs_logit_recall")

    def __init__(
        self,
        domain: Domain | None = None,
        hidden_size: int = 16,
        components: int = 3,
        lr: float = 0.01,
        weight_decay: float = 1e-4,
        batch_size: int = 64,
        max_epochs: int = 150,
        patience: int = 30,
        holdout: float = 0.25,
        seed: int = 0,
        fsrs_optimize: bool = True,
    ) -> None:
        self.fsrs_optimize = check_flag("fsrs_optimize", fsrs_optimize)
        self.fsrs_ = FSRS(optimize=self.fsrs_optimize)
        super().__init__(
            domain,
            hidden_size=hidden_size,
            components=components,
            lr=lr,
            weight_decay=weight_decay,
            batch_size=batch_size,
            max_epochs=max_epochs,
            patience=patience,
            holdout=holdout,
            seed=seed,
        )

    def get_params(self) -> dict[str, Any]:
        return {**super().get_params(), "fsrs_optimize": self.fsrs_optimize}

    def _clear_memory(self) -> None:
        super()._clear_memory()
        self.fsrs_._clear_memory()

    def _fit_extra(self, log: EventLog) -> np.ndarray:
        """Fit FSRS's weights on the log, then replay it, keeping each review's FSRS inputs."""
        self.fsrs_._fit_weights(log)
        rows = [self._extra(*review) for review in self._walk(log)]
        return np.array(rows, dtype=np.float64).reshape(len(rows), len(self.extra_inputs))

    def _extra(self, row: int, new: bool, time: float, outcome: float, rating: int) -> Any:
        if new:
            x = [0.0, 0.0, 0.0]
        else:
            card = self.fsrs_.cards_[row]
            recall = float(np.clip(self.fsrs_._recall(np.array([row]), time)[0], EDGE, 1 - EDGE))
            x = [
                float(np.log(card.stability or 1.0)),
                ((card.difficulty or 5.0) - 5.0) / 5.0,
                float(np.log(recall / (1.0 - recall))),
            ]
        self.fsrs_._review(row, new, time, outcome, rating)
        return x

    def _memory(self, rows: list[int]) -> dict[str, list[Any]]:
        cards = [self.fsrs_.cards_[r] for r in rows]
        return {
            "fsrs_stability": [c.stability for c in cards],
            "fsrs_difficulty": [c.difficulty for c in cards],
        }

    def _get_memory_state(self) -> dict[str, Any]:
        return {**super()._get_memory_state(), "fsrs": self.fsrs_._get_memory_state()}

    def _set_memory_state(self, state: Mapping[str, Any]) -> None:
        super()._set_memory_state(state)
        fsrs = state["fsrs"]
        self.fsrs_._set_parameters([float(w) for w in fsrs["parameters"]])
        self.fsrs_.optimized_ = bool(fsrs["optimized"])
        self.fsrs_.cards_ = [Card.from_dict(card) for card in fsrs["cards"]]
        if len(self.fsrs_.cards_) != len(self.reviews_):
            raise ValueError(f"memory-rnn-fsrs state needs {len(self.reviews_)} FSRS cards")
