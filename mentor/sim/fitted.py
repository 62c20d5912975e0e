"""Simulated students drawn from a student model fitted on a real log.

A data-driven simulator: the learning law is whatever the fitted model learned
from real learners, not one written by hand, so a teacher is judged on students
its own model does not describe. Any fitted :class:`~mentor.students.StudentModel`
works; with Deep Knowledge Tracing (Piech et al., "Deep Knowledge Tracing",
NeurIPS 2015), whose paper already used a fitted DKT to simulate students when
choosing the order of exercises, each simulated student is an LSTM state that
moves with every simulated answer. The model is the simulator's, never the
teacher's.

Answers are drawn from the model's predicted success; the model is then
updated with the drawn answer. The post-test is the mean predicted success
over all items (no answer is drawn, nothing changes), at the current time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mentor._checks import check_number
from mentor.events import EventLog
from mentor.students.base import StudentModel


class ModelPopulation:
    """Simulated students whose answers a fitted student model draws.

    Same interface as :class:`~mentor.sim.StudentPopulation` (``attempt``,
    ``advance``, ``post_test``, ``item_ids``, ``time``), so
    :func:`~mentor.sim.run_cohort` runs any teacher on it.

    Parameters
    ----------
    model
        A fitted student model; it is changed (each simulated student is a new
        learner of it, named ``"sim-<seed>-<n>"``), so pass a copy.
    item_ids
        The items the students can attempt and are tested on.
    n_students
        Number of students.
    seed
        Seed of the answers drawn.
    """

    def __init__(
        self, model: StudentModel, item_ids: Sequence[Any], n_students: int, seed: int = 0
    ) -> None:
        self.model = model
        self.item_ids = list(item_ids)
        self.n_students = int(n_students)
        self.rng = np.random.default_rng(seed)
        self.learners = [f"sim-{seed}-{n}" for n in range(self.n_students)]
        self.time = 0.0

    def success_probability(self, students: np.ndarray, items: np.ndarray) -> np.ndarray:
        """The model's P(correct) of each student on the item at the same position."""
        return np.array(
            [
                float(self.model.predict(self.learners[s], [self.item_ids[i]], self.time)[0])
                for s, i in zip(students.tolist(), items.tolist(), strict=True)
            ]
        )

    def attempt(self, items: np.ndarray, students: np.ndarray | None = None) -> np.ndarray:
        """Every student (or those listed) attempts one item (index into
        :attr:`item_ids`); returns the drawn 0/1 outcomes and updates the model."""
        students = np.arange(self.n_students) if students is None else np.asarray(students)
        items = np.asarray(items)
        p = self.success_probability(students, items)
        outcomes = (self.rng.random(students.size) < p).astype(float)
        self.model.update(
            EventLog(
                [self.learners[s] for s in students.tolist()],
                [self.item_ids[i] for i in items.tolist()],
                np.full(students.size, self.time),
                outcomes,
                validate=False,
            )
        )
        return outcomes

    def advance(self, dt: float = 1.0) -> None:
        """Let ``dt`` time units pass (the model decides what time changes)."""
        self.time += dt

    def post_test(self, delay: float = 0.0) -> np.ndarray:
        """Each student's mean predicted success over all items, ``delay`` from now."""
        delay = check_number("delay", delay, 0.0)
        return np.array(
            [
                float(np.mean(self.model.predict(learner, self.item_ids, self.time + delay)))
                for learner in self.learners
            ]
        )
