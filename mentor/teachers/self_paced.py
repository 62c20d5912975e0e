"""Self-paced learning: practise only what is currently easy enough, and let the
bar rise over time.

Kumar, Packer and Koller, "Self-Paced Learning for Latent Variable Models",
NeurIPS 2010. Each iteration, a sample takes part in training only if its
loss under the current model is below a threshold 1/K; K is divided by an
annealing factor mu > 1 between iterations, so the threshold grows
geometrically and harder samples join. Here the loss of an item for a learner
is one minus the student model's predicted success (``signal="model"``) or the
latest loss the teacher observed on it (``signal="observed"``), and the
threshold at step s is ``threshold * growth ** floor(s / interval)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mentor._checks import check_choice, check_number
from mentor.errors import MentorError
from mentor.events import EventLog
from mentor.students.base import StudentModel
from mentor.teachers.base import Teacher
from mentor.teachers.curriculum import StepClock

SIGNALS = ("model", "observed")


class SelfPaced(Teacher):
    """Uniform draws among the items whose loss is below a growing threshold
    (Kumar, Packer and Koller 2010).

    Parameters
    ----------
    threshold
        Loss threshold at step 0 (1/K of the paper). Default 0.3 (ours).
    growth
        Factor the threshold is multiplied by every ``interval`` steps (the
        annealing factor mu), at least 1. Default 1.3 (ours).
    interval
        Steps between two growths (an SPL iteration). Default 100 (ours).
    signal
        ``"model"`` (default): loss = 1 - predicted success at time ``t``.
        ``"observed"``: the latest loss observed on the item for the learner,
        from the events' ``loss`` column if they have one, else 1 - outcome.
    unseen_loss
        Loss of an item never observed, with ``signal="observed"``. Default 0
        (an unseen item may be tried once; ours).
    clock
        ``"events"`` (default: the learner's observed events) or ``"time"``
        (the ``t`` given to :meth:`select`).
    seed
        Seed of the teacher's draws.

    An item qualifies when its loss is strictly below the threshold. When
    fewer than ``k`` qualify, the remaining slots go to the easiest of the
    others (lowest loss, ties at random), so when none qualifies the teacher
    falls back to the easiest items.
    """

    name = "self_paced"

    def __init__(
        self,
        threshold: float = 0.3,
        growth: float = 1.3,
        interval: float = 100.0,
        signal: str = "model",
        unseen_loss: float = 0.0,
        clock: str = "events",
        seed: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(seed)
        self.threshold = check_number("threshold", threshold, 0.0, strict=True)
        self.growth = check_number("growth", growth, 1.0)
        self.interval = check_number("interval", interval, 0.0, strict=True)
        self.signal = check_choice("signal", signal, SIGNALS)
        self.unseen_loss = check_number("unseen_loss", unseen_loss)
        self.steps_ = StepClock(clock, self.name)
        #: Latest observed loss per (learner, item) (``signal="observed"``).
        self.loss_: dict[tuple[Any, Any], float] = {}

    def get_params(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "growth": self.growth,
            "interval": self.interval,
            "signal": self.signal,
            "unseen_loss": self.unseen_loss,
            "clock": self.steps_.clock,
        }

    def current_threshold(self, learner: Any, t: float | None = None) -> float:
        """``threshold * growth ** floor(step / interval)`` for ``learner`` now."""
        level = math.floor(max(self.steps_.step(learner, t), 0.0) / self.interval)
        if self.growth == 1.0:
            return self.threshold
        log_value = math.log(self.threshold) + level * math.log(self.growth)
        return math.inf if log_value > 700 else self.threshold * self.growth**level

    def losses(
        self,
        learner: Any,
        candidates: Sequence[Any],
        t: float | None = None,
        model: StudentModel | None = None,
    ) -> np.ndarray:
        """The loss of each candidate for ``learner`` (the teacher's signal)."""
        if self.signal == "model":
            if model is None:
                raise MentorError("teacher 'self_paced' needs a student model (signal 'model')")
            return 1.0 - np.asarray(model.predict(learner, candidates, t), dtype=float)
        table = self.loss_
        return np.array([table.get((learner, c), self.unseen_loss) for c in candidates])

    def select(
        self,
        learner: Any,
        candidates: Sequence[Any],
        k: int = 1,
        t: float | None = None,
        model: StudentModel | None = None,
    ) -> list[Any]:
        self._check(candidates, k, model)
        if not len(candidates):
            return []
        loss = self.losses(learner, candidates, t, model)
        qualified = np.flatnonzero(loss < self.current_threshold(learner, t))
        take = min(k, qualified.size)
        picks = self.rng.choice(qualified, size=take, replace=False).tolist() if take else []
        if len(picks) < k:
            rest = np.setdiff1d(np.arange(len(candidates)), qualified)
            easiest = rest[np.lexsort((self.rng.random(rest.size), loss[rest]))]
            picks += easiest[: k - len(picks)].tolist()
        return [candidates[i] for i in picks]

    def observe(self, events: EventLog) -> None:
        """Advance the observed learners' steps and record their latest losses."""
        self.steps_.observe(events)
        if self.signal != "observed":
            return
        loss = events.extra.get("loss")
        values = (1.0 - events.outcome) if loss is None else np.asarray(loss, dtype=float)
        for learner, item, value in zip(
            events.learner.tolist(), events.item.tolist(), values.tolist(), strict=True
        ):
            self.loss_[(learner, item)] = float(value)

    def _get_state(self) -> dict[str, Any]:
        return {
            "steps": self.steps_.state_dict(),
            "loss": [[learner, item, v] for (learner, item), v in self.loss_.items()],
        }

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self.steps_.load_state_dict(state["steps"])
        self.loss_ = {(learner, item): float(v) for learner, item, v in state["loss"]}
