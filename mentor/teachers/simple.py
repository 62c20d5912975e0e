"""Teachers that need no learning: uniform random choice and a fixed sequence."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mentor._checks import check_count
from mentor.domain import Domain
from mentor.errors import ParameterError
from mentor.events import EventLog
from mentor.students.base import StudentModel
from mentor.teachers.base import Teacher


class RandomTeacher(Teacher):
    """Uniformly random distinct items from the candidates: the baseline every
    teacher must beat."""

    name = "random"

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
        picks = self.rng.choice(len(candidates), size=min(k, len(candidates)), replace=False)
        return [candidates[i] for i in picks.tolist()]

    def slot_distribution(
        self,
        learner: Any,
        items: Sequence[Any],
        t: float | None = None,
        model: StudentModel | None = None,
    ) -> tuple[Sequence[Any], np.ndarray]:
        """Uniform over the items: the distribution of one pick."""
        return items, np.full(len(items), 1.0 / max(len(items), 1))


class FixedSequence(Teacher):
    """A fixed curriculum: every learner works through ``order``, each item
    ``repeats`` times, then starts again from the top.

    A learner's position advances by one for each of their observed events.
    Items of the sequence that are not among the candidates are skipped.

    Parameters
    ----------
    order
        The items in teaching order.
    repeats
        Attempts per item before moving on (default 1).
    """

    name = "fixed"

    def __init__(
        self,
        order: Sequence[Any],
        repeats: int = 1,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(seed)
        if not len(order):
            raise ParameterError("a fixed sequence needs at least one item")
        self.order = list(order)
        self.repeats = check_count("repeats", repeats, 1)
        self.position_: dict[Any, int] = {}

    def get_params(self) -> dict[str, Any]:
        return {"order": self.order, "repeats": self.repeats}

    @classmethod
    def _unit_test_params(cls, domain: Domain) -> dict[str, Any]:
        return {"order": domain.item_ids}

    def select(
        self,
        learner: Any,
        candidates: Sequence[Any],
        k: int = 1,
        t: float | None = None,
        model: StudentModel | None = None,
    ) -> list[Any]:
        self._check(candidates, k, model)
        allowed = set(candidates)
        step = self.position_.get(learner, 0) // self.repeats
        picks: list[Any] = []
        for offset in range(len(self.order)):
            item = self.order[(step + offset) % len(self.order)]
            if item in allowed and item not in picks:
                picks.append(item)
                if len(picks) == k:
                    break
        return picks

    def observe(self, events: EventLog) -> None:
        learners, counts = np.unique(events.learner, return_counts=True)
        for learner, count in zip(learners.tolist(), counts.tolist(), strict=True):
            self.position_[learner] = self.position_.get(learner, 0) + count

    def _get_state(self) -> dict[str, Any]:
        return {"position": [[k, v] for k, v in self.position_.items()]}

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self.position_ = {k: int(v) for k, v in state["position"]}
