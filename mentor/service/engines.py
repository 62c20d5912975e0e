"""Each course's :class:`~mentor.engine.Engine`, kept in memory and in the database.

The database is the truth: table ``course_states`` holds the JSON
``state_dict`` of the course's student model and teacher and a ``version``
that every write increments. A process keeps the engine it last loaded or
updated, with its version, and uses it while the version in the database is
the same (one cheap read per request), so two processes over one database
never act on a stale engine, and a restarted process loads exactly the state
of the last committed batch.

A batch of events changes the engine and the saved state in one transaction
(:meth:`EngineStore.writing`): the events, the new state and the stored
response of the batch commit together or not at all. If anything fails
after the engine was changed in memory, the cached engine is dropped and the
next request loads the committed state again.

Choosing the next items changes nothing that is stored (a GET is safe and can
be repeated). Teachers draw at random; to make that draw a function of the
stored state alone, :func:`select_items` runs the teacher with random generators
seeded from the course's seed, the learner and the number of the learner's
events, instead of the teachers' own generators (which it puts back). The
same stored state and the same request thus give the same items in every
process and after every restart, and a learner gets a fresh draw after each
of their events.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import select as sql_select
from sqlalchemy import update
from sqlalchemy.orm import Session

from mentor.domain import Box, Domain, Item
from mentor.engine import Engine
from mentor.errors import MentorError
from mentor.service.db import Database
from mentor.service.tables import Course, CourseItem, CourseState, Prerequisite, Skill, utcnow
from mentor.students import StudentModel, model_from_state
from mentor.teachers import Teacher, teacher_from_state


class CourseGone(MentorError):
    """The course was deleted while a request was working on it."""


def dump_state(engine: Engine) -> tuple[str, str]:
    """The model's and the teacher's state as JSON text (the model's copy of the
    domain left out: the course's tables hold it)."""
    model_state = engine.model.state_dict()
    model_state["domain"] = None
    return json.dumps(model_state), json.dumps(engine.teacher.state_dict())


def restore(domain: Domain, model_state: str, teacher_state: str) -> Engine:
    """An engine rebuilt from :func:`dump_state` output."""
    model = model_from_state(json.loads(model_state), domain=domain)
    teacher = teacher_from_state(json.loads(teacher_state), domain=domain)
    return Engine(domain, model, teacher)


def load_domain_rows(session: Session, course_id: int) -> Domain:
    """A course's domain from its skills, items and prerequisites tables."""
    spaces = session.scalar(sql_select(Course.task_spaces).where(Course.id == course_id)) or {}
    skills = session.scalars(
        sql_select(Skill).where(Skill.course_id == course_id).order_by(Skill.position)
    ).all()
    items = session.scalars(
        sql_select(CourseItem)
        .where(CourseItem.course_id == course_id)
        .order_by(CourseItem.position)
    ).all()
    edges = session.execute(
        sql_select(Prerequisite.prerequisite, Prerequisite.skill)
        .where(Prerequisite.course_id == course_id)
        .order_by(Prerequisite.id)
    ).all()
    return Domain(
        [Item(i.item_id, tuple(i.skills), i.difficulty, dict(i.attributes)) for i in items],
        {s.skill_id: dict(s.attributes) for s in skills},
        [(p, s) for p, s in edges],
        {name: Box.from_dict(box) for name, box in spaces.items()},
    )


@dataclass
class _Cached:
    version: int
    engine: Engine


@dataclass
class Writing:
    """What :meth:`EngineStore.writing` hands the block: the session, the engine,
    and ``changed``, to set *before* changing the engine: the engine is then saved
    at the end of the block, or dropped from the cache if the block fails."""

    session: Session
    engine: Engine
    version: int
    changed: bool = False
    #: Replaces the engine (a new model or teacher); implies ``changed``.
    replacement: Engine | None = field(default=None)


class EngineStore:
    """The engines of all courses, cached per process and saved in the database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._cache: dict[int, _Cached] = {}
        self._domains: dict[int, Domain] = {}
        self._locks: dict[int, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock(self, course_id: int) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(course_id, threading.Lock())

    def forget(self, course_id: int) -> None:
        """Drop a course's cached engine and domain (after it was deleted)."""
        with self._guard:
            self._cache.pop(course_id, None)
            self._domains.pop(course_id, None)

    def domain(self, session: Session, course_id: int) -> Domain:
        """The course's domain (cached: a course's domain never changes)."""
        domain = self._domains.get(course_id)
        if domain is None:
            domain = self._domains[course_id] = load_domain_rows(session, course_id)
        return domain

    def _current(self, session: Session, course_id: int, for_update: bool) -> tuple[Engine, int]:
        query = sql_select(CourseState.version).where(CourseState.course_id == course_id)
        if for_update and self.db.dialect == "postgresql":
            query = query.with_for_update()
        version = session.scalar(query)
        if version is None:
            raise CourseGone("the course was deleted")
        cached = self._cache.get(course_id)
        if cached is not None and cached.version == version:
            return cached.engine, version
        row = session.execute(
            sql_select(CourseState.model_state, CourseState.teacher_state).where(
                CourseState.course_id == course_id
            )
        ).one()
        engine = restore(self.domain(session, course_id), row.model_state, row.teacher_state)
        self._cache[course_id] = _Cached(version, engine)
        return engine, version

    @contextlib.contextmanager
    def reading(self, course_id: int) -> Iterator[tuple[Session, Engine]]:
        """A read-only session and the course's current engine. The engine is
        the process's shared copy: the block must not change what is saved."""
        with self._lock(course_id), self.db.read() as session:
            engine, _ = self._current(session, course_id, for_update=False)
            yield session, engine

    @contextlib.contextmanager
    def writing(self, course_id: int) -> Iterator[Writing]:
        """A writing transaction on one course, its engine locked against every
        other writer (in this process and, through the database, in others).

        If the block sets ``changed``, the engine's state is saved in the same
        transaction; if anything fails, nothing is committed and a cached
        engine that the block may have changed is dropped.
        """
        work: Writing | None = None
        with self._lock(course_id):
            try:
                with self.db.write() as session:
                    engine, version = self._current(session, course_id, for_update=True)
                    work = Writing(session, engine, version)
                    yield work
                    if work.replacement is not None:
                        work.engine, work.changed = work.replacement, True
                    if work.changed:
                        model_state, teacher_state = dump_state(work.engine)
                        done = session.execute(
                            update(CourseState)
                            .where(
                                CourseState.course_id == course_id,
                                CourseState.version == version,
                            )
                            .values(
                                version=version + 1,
                                model_state=model_state,
                                teacher_state=teacher_state,
                                updated_at=utcnow(),
                            )
                        )
                        if done.rowcount != 1:  # cannot happen while the row is locked
                            raise MentorError("the course changed under a writer; try again")
                if work.changed:
                    self._cache[course_id] = _Cached(version + 1, work.engine)
            except BaseException:
                if work is None or work.changed or work.replacement is not None:
                    self._cache.pop(course_id, None)
                raise


def _teachers(teacher: Teacher) -> list[Teacher]:
    """A teacher and every teacher it is composed of."""
    found = [teacher]
    parts = getattr(teacher, "teachers", None)
    if isinstance(parts, list):
        for part in parts:
            if isinstance(part, Teacher):
                found += _teachers(part)
    inner = getattr(teacher, "teacher", None)
    if isinstance(inner, Teacher):
        found += _teachers(inner)
    return found


def _number(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def select_items(
    engine: Engine,
    learner: str,
    k: int,
    t: float | None,
    seed: int,
    step: int,
    candidates: Sequence[Any] | None = None,
) -> list[Any]:
    """``engine.next(learner, k, t)`` with the teachers' random draws seeded from
    ``(seed, learner, step)`` (see the module's docstring); the teachers'
    own generators are put back afterwards."""
    teachers = _teachers(engine.teacher)
    saved = [teacher.rng for teacher in teachers]
    streams = np.random.SeedSequence([seed & (2**63 - 1), _number(learner), step]).spawn(
        len(teachers)
    )
    try:
        for teacher, stream in zip(teachers, streams, strict=True):
            teacher.rng = np.random.default_rng(stream)
        return engine.next(learner, k=k, t=t, candidates=candidates)
    finally:
        for teacher, rng in zip(teachers, saved, strict=True):
            teacher.rng = rng


def memory_model(model: StudentModel) -> bool:
    """Whether the model predicts recall of each reviewed item (a memory model)."""
    from mentor.students.memory._base import MemoryModel

    return isinstance(model, MemoryModel)
