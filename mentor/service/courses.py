"""Creating a course, for every way one is made: the API's import
(:func:`mentor.service.api.courses.post_course`), the import worker
(:mod:`mentor.service.worker`) and the demo seeder (:mod:`mentor.demo.seed`).

:func:`create_course` parses the files, builds the engine with the course's student
model and teacher (:func:`mentor.students.create_model`,
:func:`mentor.teachers.create_teacher`), replays an imported history, and stores
course, domain, events and the engine's first snapshot in one transaction: a
malformed file, an unknown item, a prerequisite cycle, a bad model or teacher or a
quota leaves nothing behind.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

import numpy as np
from fastapi import HTTPException
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mentor.engine import Engine
from mentor.errors import DataError, ParameterError
from mentor.events import EventLog
from mentor.service.api.deps import Service
from mentor.service.api.learners import ensure_learners
from mentor.service.engines import dump_state, quiet_gc
from mentor.service.events_store import insert_events
from mentor.service.importing import Upload, parse_course
from mentor.service.policy import DEFAULT_MODEL, DEFAULT_TEACHER
from mentor.service.quotas import charge_events, quotas_of, refuse_size
from mentor.service.security import Principal
from mentor.service.tables import (
    Course,
    CourseItem,
    CourseState,
    Enrolment,
    EventRow,
    Prerequisite,
    Skill,
    utcnow,
)
from mentor.service.timerules import MAX_STEP, TimeRefused, event_time, exact
from mentor.students import create_model
from mentor.teachers import create_teacher


def course_out(session: Session, course: Course) -> dict:
    """A course's description with its counts."""

    def count(table, *where) -> int:
        return session.scalar(select(func.count()).select_from(table).where(*where)) or 0

    return {
        "id": course.slug,
        "name": course.name,
        "clock": course.clock,
        "time_unit": course.time_unit,
        "model": course.model,
        "teacher": course.teacher,
        "items": count(CourseItem, CourseItem.course_id == course.id),
        "skills": count(Skill, Skill.course_id == course.id),
        "prerequisites": count(Prerequisite, Prerequisite.course_id == course.id),
        "events": count(EventRow, EventRow.course_id == course.id, EventRow.voided_at.is_(None)),
        "learners": count(Enrolment, Enrolment.course_id == course.id),
        "created_at": course.created_at,
    }


def read_spec(text: str | None, default: dict[str, Any], field: str) -> dict[str, Any]:
    """A model or teacher spec sent as JSON text (``default`` when none was sent)."""
    if text is None or not text.strip():
        return dict(default)
    try:
        spec = json.loads(text)
    except (ValueError, RecursionError):
        raise ParameterError("not valid JSON", field=field, value=text[:200]) from None
    if not isinstance(spec, dict):
        raise ParameterError("expected a JSON object", field=field, value=text[:200])
    return {"name": spec.get("name"), "params": spec.get("params") or {}} | {
        k: v for k, v in spec.items() if k not in ("name", "params")
    }


def create_course_quietly(*args: Any) -> dict:
    """:func:`create_course` with the garbage collector held off (a large import
    allocates millions of small objects)."""
    with quiet_gc():
        return create_course(*args)


def create_course(
    svc: Service,
    who: Principal,
    slug: str,
    name: str,
    format: str,
    clock: str,
    model_text: str | None,
    teacher_text: str | None,
    items: Upload,
    prerequisites: Upload | None,
    events: Upload | None,
    time_unit: str = "s",
) -> dict:
    if clock not in ("wall", "steps"):
        raise ParameterError("clock must be 'wall' or 'steps'", field="clock", value=clock)
    if time_unit not in ("s", "ms"):
        raise ParameterError("time_unit must be 's' or 'ms'", field="time_unit", value=time_unit)
    with svc.db.read() as session:
        quotas = quotas_of(session, who.workspace_id, svc.limits.quotas)
        check_course_count(session, who.workspace_id, quotas.courses)
    size = sum(len(u.data) for u in (items, prerequisites, events) if u is not None)
    if size > quotas.import_bytes:
        raise refuse_size("the import", size, quotas.import_bytes, "bytes")
    parsed = parse_course(items, prerequisites, events, format)
    domain = parsed.domain
    if len(domain.items) > quotas.items_per_course:
        raise refuse_size("the course", len(domain.items), quotas.items_per_course, "items")
    if parsed.events is not None and events is not None:
        check_history_times(svc, parsed.events, clock, events.filename)
    seed = secrets.randbits(62)
    model_spec = read_spec(model_text, DEFAULT_MODEL, "model")
    teacher_spec = read_spec(teacher_text, DEFAULT_TEACHER, "teacher")
    engine = Engine(
        domain, create_model(model_spec, domain), create_teacher(teacher_spec, domain, seed)
    )
    log = parsed.events
    if log is not None and len(log):
        engine.record(log)
    model_state, teacher_state = dump_state(engine)
    try:
        with svc.db.write() as session:
            taken = session.scalar(
                select(Course.id).where(
                    Course.workspace_id == who.workspace_id, Course.slug == slug
                )
            )
            if taken is not None:
                raise HTTPException(409, f"course {slug!r} already exists")
            check_course_count(session, who.workspace_id, quotas.courses)
            course = Course(
                workspace_id=who.workspace_id,
                slug=slug,
                name=name,
                clock=clock,
                time_unit=time_unit,
                seed=seed,
                model=model_spec,
                teacher=teacher_spec,
                task_spaces={n: box.state_dict() for n, box in domain.task_spaces.items()},
                source={"format": parsed.format, "file": items.filename},
                created_at=utcnow(),
            )
            session.add(course)
            session.flush()
            insert_domain(session, course.id, domain)
            if log is not None and len(log):
                # An imported history counts against the day's events like a batch.
                charge_events(session, who.workspace_id, len(log), svc.now(), quotas.events_per_day)
                learners = ensure_learners(session, who.workspace_id, log.learner.tolist())
                insert_events(session, course.id, None, log, learners)
            session.add(
                CourseState(
                    course_id=course.id,
                    version=0,
                    snapshot_version=0,
                    base_version=0,
                    model_state=model_state,
                    teacher_state=teacher_state,
                    updated_at=utcnow(),
                )
            )
            session.flush()
            out = course_out(session, course)
    except IntegrityError:
        raise HTTPException(409, f"course {slug!r} already exists") from None
    # This process need not load the course it has just built.
    svc.engines.adopt(course.id, 0, engine)
    return {
        **out,
        "format": parsed.format,
        "dropped_prerequisites": parsed.dropped_prerequisites,
        "imported_events": 0 if log is None else len(log),
    }


def check_course_count(session: Session, workspace_id: int, quota: int) -> None:
    """429 if the workspace already has ``quota`` courses."""
    count = session.scalar(
        select(func.count()).select_from(Course).where(Course.workspace_id == workspace_id)
    )
    if count >= quota:
        raise HTTPException(
            429,
            f"quota: this workspace may have {quota} courses and has {count}; delete one first",
        )


def check_history_times(svc: Service, log: EventLog, clock: str, filename: str) -> None:
    """Refuse an imported history with a time the course would refuse from the API
    (:func:`mentor.service.timerules.event_time`), naming the first such event."""
    now = svc.now()
    tolerance = svc.limits.future_tolerance_s
    times = log.time
    if clock == "wall":
        bad = np.flatnonzero((times < 0) | (times > now + tolerance))
    else:
        bad = np.flatnonzero(np.abs(times) > MAX_STEP)
    if len(bad):
        index = int(bad[0])
        value = float(times[index])
        try:
            event_time(value, clock=clock, unit="s", now=now, tolerance=tolerance)
        except TimeRefused as error:
            raise DataError(
                f"event {index + 1} of the file: {error}",
                file=filename,
                field="time",
                value=exact(value),
            ) from None


def insert_domain(session: Session, course_id: int, domain) -> None:
    """Store a course's skills, items and prerequisites in its tables.

    The items go in with their JSON columns serialised here, each distinct value
    once (a large course repeats few: one skill list per skill, ``{}``), without
    the ORM's per-row work: on PostgreSQL in one ``COPY`` (a 100,000-item course
    took 6 of the import's 8.5 s under cProfile as 100,000 ``INSERT`` statements,
    and work again in the database server), on SQLite in one ``executemany``
    (``benchmarks/service_course_load.py`` measures both).
    """
    skills = [
        {"course_id": course_id, "position": k, "skill_id": s, "attributes": a}
        for k, (s, a) in enumerate(domain.skill_attributes.items())
    ]
    edges = [{"course_id": course_id, "prerequisite": p, "skill": c} for p, c in domain.graph.edges]
    for table, rows in ((Skill, skills), (Prerequisite, edges)):
        if rows:
            session.execute(insert(table), rows)
    skill_texts: dict[tuple, str] = {}

    def skills_text(key: tuple) -> str:
        text = skill_texts.get(key)
        if text is None:
            text = skill_texts[key] = json.dumps(list(key))
        return text

    items = [
        (
            course_id,
            k,
            item.id,
            skills_text(item.skills),
            item.difficulty,
            json.dumps(dict(item.attributes)) if item.attributes else "{}",
        )
        for k, item in enumerate(domain.items.values())
    ]
    if not items:
        return
    columns = "course_id, position, item_id, skills, difficulty, attributes"
    table = CourseItem.__tablename__
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        with connection.connection.driver_connection.cursor() as cursor:
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in items:
                    copy.write_row(row)
    else:
        connection.exec_driver_sql(
            f"INSERT INTO {table} ({columns}) VALUES (?, ?, ?, ?, ?, ?)", items
        )
