"""A task-space teacher inside an :class:`~mentor.Engine`: the space discretised into items.

An item teacher chooses among item ids; a task-space teacher samples points of a box. To
serve a population of learners through an engine (its student model, its saved state, the
service), each item of the domain carries a point of the space in its attributes (by
default ``attributes["task"]``, a list of one float per dimension) and :class:`TaskItems`
translates both ways:

* ``select``: the learner's own task-space teacher samples ``k`` tasks; each is mapped to
  the nearest candidate item not already chosen (Euclidean distance after scaling the box
  to the unit cube), so the answer holds ``k`` distinct items when there are that many;
* ``observe``: each event on an item with a point becomes the task ``(point, outcome)`` for
  its learner's teacher, in log order; events on other items are left alone.

Each learner gets a copy of the given teacher's parameters with its own seed, drawn from
the adapter's generator on the learner's first ``select`` or ``observe``.
:func:`grid_items` builds such items on a regular grid of the box::

    box = Box([0.0], [1.0], names=["difficulty"])
    domain = Domain(grid_items(box, 10))
    engine = Engine(domain, Elo(domain), TaskItems(domain, ALPGMM(box, seed=0)))
    engine.next("ada")               # ['task-3'], say: the item nearest ALP-GMM's draw
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mentor.domain import Box, Domain, Item
from mentor.errors import DomainError, ParameterError
from mentor.events import EventLog
from mentor.students.base import StudentModel
from mentor.teachers.base import Teacher
from mentor.teachers.taskspace.base import TaskTeacher


def grid_items(
    space: Box, bins: int | Sequence[int], prefix: str = "task", attribute: str = "task"
) -> list[Item]:
    """Items at the centres of a regular grid of ``bins`` cells per dimension, ids
    ``f"{prefix}-{i}"`` in :meth:`Box.grid` order, one skill ``prefix``, the centre in
    ``attributes[attribute]``."""
    return [
        Item(f"{prefix}-{i}", (prefix,), attributes={attribute: [float(v) for v in point]})
        for i, point in enumerate(space.grid(bins))
    ]


class TaskItems(Teacher):
    """Item-teacher adapter of a task-space teacher (rules in the module docstring).

    Parameters
    ----------
    domain
        The domain whose items carry task parameters.
    teacher
        The task-space teacher whose parameters every learner's copy takes: an instance, or
        its spec ``{"name": ..., "params": {...}}`` (see :func:`~mentor.teachers.taskspace.
        create_task_teacher`).
    attribute
        The item attribute holding the point. Default ``"task"``.
    seed
        Seed of the learners' teachers' seeds.
    """

    name = "task_items"

    def __init__(
        self,
        domain: Domain | None,
        teacher: TaskTeacher | Mapping[str, Any],
        attribute: str = "task",
        seed: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(seed)
        from mentor.teachers.taskspace import create_task_teacher

        if domain is None:
            raise ParameterError(
                "task_items needs a domain whose items carry task parameters", field="domain"
            )
        if isinstance(teacher, Mapping):
            teacher = create_task_teacher(teacher)
        if not isinstance(teacher, TaskTeacher):
            raise ParameterError(
                "task_items needs a task-space teacher",
                field="teacher",
                value=type(teacher).__name__,
            )
        self.domain = domain
        self.teacher = teacher
        self.attribute = str(attribute)
        self.points: dict[Any, np.ndarray] = {}
        for item in domain.items.values():
            if self.attribute in item.attributes:
                point = np.asarray(item.attributes[self.attribute], dtype=float).reshape(-1)
                try:
                    teacher.space.check(point, field=f"{item.id}.{self.attribute}")
                except Exception as error:
                    raise DomainError(f"item {item.id!r}: {error}") from None
                self.points[item.id] = teacher.space.normalise(point)
        if not self.points:
            raise DomainError(f"no item of the domain has a {self.attribute!r} attribute")
        self.learners_: dict[Any, TaskTeacher] = {}

    def get_params(self) -> dict[str, Any]:
        return {"teacher": self.teacher.spec(), "attribute": self.attribute}

    @classmethod
    def _unit_test_params(cls, domain: Domain) -> dict[str, Any]:
        """ALP-GMM over the unit interval: the contract suite's items carry 1-D points."""
        space = {"low": [0.0], "high": [1.0]}
        return {"teacher": {"name": "alp_gmm", "params": {"space": space}}}

    def learner_teacher(self, learner: Any) -> TaskTeacher:
        """``learner``'s own task-space teacher (created on first use)."""
        teacher = self.learners_.get(learner)
        if teacher is None:
            params = {**self.teacher.get_params(), "seed": int(self.rng.integers(2**63 - 1))}
            teacher = self.learners_[learner] = type(self.teacher)(**params)
        return teacher

    def select(
        self,
        learner: Any,
        candidates: Sequence[Any],
        k: int = 1,
        t: float | None = None,
        model: StudentModel | None = None,
    ) -> list[Any]:
        """Up to ``k`` distinct candidates nearest the tasks ``learner``'s teacher samples."""
        self._check(candidates, k, model)
        ids = [c for c in dict.fromkeys(candidates) if c in self.points]
        if not ids:
            return []
        points = np.stack([self.points[c] for c in ids])
        tasks = self.teacher.space.normalise(self.learner_teacher(learner).sample(min(k, len(ids))))
        taken = np.zeros(len(ids), dtype=bool)
        chosen = []
        for task in tasks:
            distance = ((points - task) ** 2).sum(axis=1)
            distance[taken] = np.inf
            j = int(np.argmin(distance))
            taken[j] = True
            chosen.append(ids[j])
        return chosen

    def observe(self, events: EventLog) -> None:
        """Each event on an item with a point, as a task and its outcome, in log order."""
        if not len(events):
            return
        low, width = np.array(self.teacher.space.low), self.teacher.space.width
        rows: dict[Any, tuple[list[np.ndarray], list[float]]] = {}
        for learner, item, outcome in zip(
            events.learner.tolist(), events.item.tolist(), events.outcome.tolist(), strict=True
        ):
            point = self.points.get(item)
            if point is not None:
                tasks, outcomes = rows.setdefault(learner, ([], []))
                tasks.append(low + point * width)
                outcomes.append(outcome)
        for learner, (tasks, outcomes) in rows.items():
            self.learner_teacher(learner).observe(
                self.teacher.space.clip(np.array(tasks)), outcomes
            )

    def _get_state(self) -> dict[str, Any]:
        return {
            "learners": [
                {"learner": learner, "teacher": teacher.state_dict()}
                for learner, teacher in self.learners_.items()
            ]
        }

    def _set_state(self, state: Mapping[str, Any]) -> None:
        cls = type(self.teacher)
        self.learners_ = {
            entry["learner"]: cls.from_state_dict(entry["teacher"]) for entry in state["learners"]
        }
