"""The engine: one domain, one student model and one teacher serving a population
of learners. It asks the teacher for the next items, records outcomes into the
model and the teacher, and saves or restores its whole state as one JSON file."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from mentor._io import write_json
from mentor.domain import Domain
from mentor.errors import (
    DataError,
    MentorError,
    ParameterError,
    StateError,
    UnknownIdError,
)
from mentor.events import Event, EventLog
from mentor.students import StudentModel, model_from_state
from mentor.teachers import Teacher, teacher_from_state
from mentor.teachers.taskspace import TaskItems, TaskTeacher

ENGINE_VERSION = 1


def task_items(domain: Domain, teacher: TaskTeacher) -> TaskItems:
    """``teacher`` inside :class:`TaskItems` over ``domain``'s items with a ``"task"``
    point, or a one-line :class:`ParameterError` that says how to use it."""
    name = type(teacher).__name__
    if not any("task" in item.attributes for item in domain.items.values()):
        raise ParameterError(
            f"{name} is a task-space teacher (it samples points of a Box, it selects no "
            f"items): give the domain items with a 'task' point (grid_items(box, bins)) so "
            f"the engine wraps it in TaskItems, or pass TaskItems(domain, {name}(...)) "
            "with your own items' attribute",
            field="teacher",
            value=name,
        )
    return TaskItems(domain, teacher, seed=copy.deepcopy(teacher.rng))


class Engine:
    """Ties a :class:`~mentor.domain.Domain`, a student model and a teacher together.

    Parameters
    ----------
    domain
        The course: its items are the default candidates.
    model
        The student model the teacher consults and ``record`` updates.
    teacher
        The policy that picks the next items: an item teacher
        (:class:`~mentor.teachers.Teacher`), or a task-space teacher
        (:class:`~mentor.teachers.taskspace.TaskTeacher`: ALP-GMM, RIAC, RegionLP, ...)
        when the domain's items carry task points.

    A task-space teacher samples points of a box and has no ``select``; the engine
    accepts one only through :class:`~mentor.teachers.taskspace.TaskItems`, which maps
    each sampled point to the nearest item and keeps one copy of the teacher per learner.
    Given a bare task-space teacher, the engine wraps it itself when that mapping exists:
    ``Engine(domain, model, ALPGMM(box))`` is ``Engine(domain, model, TaskItems(domain,
    ALPGMM(box), seed=...))``, the adapter seeded from a copy of the teacher's generator
    (the given instance stays untouched, a template: the learners' copies learn), and
    :attr:`teacher` is the adapter, saved and restored as such. When no item of the
    domain has a ``"task"`` attribute (see :func:`~mentor.teachers.taskspace.grid_items`)
    there is nothing to map a point to, and the engine refuses the teacher with a
    :class:`~mentor.errors.ParameterError` at construction rather than fail at the first
    :meth:`next`. Wrapping rather than always refusing keeps the common case one line;
    wrap it yourself to choose another attribute or seed.

    Examples
    --------
    >>> engine = Engine(domain, BKT(domain), ZPDES(domain, seed=0))  # doctest: +SKIP
    >>> item = engine.next("ada")[0]                                  # doctest: +SKIP
    >>> engine.record([Event("ada", item, time=0.0, outcome=1.0)])    # doctest: +SKIP
    """

    def __init__(self, domain: Domain, model: StudentModel, teacher: Teacher | TaskTeacher) -> None:
        self.domain = domain
        self.model = model
        self.teacher = task_items(domain, teacher) if isinstance(teacher, TaskTeacher) else teacher

    def next(
        self,
        learner: Any,
        k: int = 1,
        t: float | None = None,
        candidates: Sequence[Any] | None = None,
    ) -> list[Any]:
        """Up to ``k`` next items for ``learner`` (from the whole domain unless
        ``candidates`` narrows it).

        The list may be shorter than ``k``, or empty, when the teacher has
        nothing to offer: a review teacher with no review due, or a filter that
        allows no candidate. Compose such teachers with a :class:`~mentor.teachers.Mixture` to
        always get an item.
        """
        if candidates is None:
            candidates = self.domain.item_ids
        else:
            for item in candidates:
                self.domain.item(item)
        if not candidates:
            raise MentorError("no candidate items to choose from")
        return self.teacher.select(learner, candidates, k, t, self.model)

    def record(self, events: EventLog | Iterable[Event]) -> None:
        """Feed outcomes to the student model, then to the teacher.

        Every event must name an item of the domain.
        """
        log = events if isinstance(events, EventLog) else EventLog.from_events(events)
        known = self.domain.items
        for item in log.items().tolist():
            if item not in known:
                raise UnknownIdError(f"event names unknown item {item!r}")
        self.model.update(log)
        self.teacher.observe(log)

    def state(self, learner: Any) -> dict[str, Any]:
        """What the student model believes about ``learner`` (mastery per skill and more)."""
        return self.model.state(learner)

    def state_dict(self) -> dict[str, Any]:
        """Domain, model and teacher as one JSON-able object."""
        return {
            "kind": "engine",
            "version": ENGINE_VERSION,
            "domain": self.domain.state_dict(),
            "model": self.model.state_dict(),
            "teacher": self.teacher.state_dict(),
        }

    @classmethod
    def from_state_dict(cls, state: Any) -> Engine:
        """Rebuild an engine saved by :meth:`state_dict`."""
        if not isinstance(state, dict) or state.get("kind") != "engine":
            raise StateError("not a saved mentor engine (expected kind 'engine')")
        if state.get("version") != ENGINE_VERSION:
            raise StateError(f"engine state version {state.get('version')!r} is not supported")
        try:
            domain = Domain.from_state_dict(state["domain"])
            model_state, teacher_state = state["model"], state["teacher"]
        except KeyError as error:
            raise StateError(f"engine state lacks {error}") from None
        try:
            model = model_from_state(model_state, domain=domain)
            teacher = teacher_from_state(teacher_state, domain=domain)
        except MentorError:
            raise
        except (TypeError, ValueError, KeyError, AttributeError) as error:
            # a constructor rejecting a bad hyper-parameter read from the state
            raise StateError(f"corrupt engine state: {error}") from None
        return cls(domain, model, teacher)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the engine's state to a JSON file (atomically)."""
        write_json(path, self.state_dict())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Engine:
        """Read an engine saved by :meth:`save`."""
        if not Path(path).is_file():
            raise DataError("file not found", file=str(path))
        try:
            with open(path, encoding="utf-8") as handle:
                state = json.load(handle)
        except json.JSONDecodeError as error:
            raise DataError(
                f"invalid JSON: {error.msg}", file=str(path), line=error.lineno
            ) from None
        except UnicodeDecodeError as error:
            raise DataError(f"not UTF-8 text: {error.reason}", file=str(path)) from None
        try:
            return cls.from_state_dict(state)
        except MentorError as error:  # also a bad domain or bad parameters inside the file
            raise StateError(f"{path}: {error}") from None
