"""Courses: import (one transaction), list, read, delete, items, and the course's
student model and teacher."""

from __future__ import annotations

import json
import secrets
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, File, Form, Header, HTTPException, Path, Query, UploadFile
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from mentor.engine import Engine
from mentor.errors import DataError, ParameterError
from mentor.events import EventLog
from mentor.service.api.deps import Admin, Member, Service, Svc, find_course
from mentor.service.api.learners import ensure_learners
from mentor.service.api.schemas import (
    COURSE_ID,
    NAME,
    CourseOut,
    ImportOut,
    ItemsOut,
    PolicyIn,
)
from mentor.service.engines import CourseGone, dump_state, quiet_gc
from mentor.service.events_store import insert_events, load_events
from mentor.service.importing import Upload, parse_course
from mentor.service.policy import DEFAULT_MODEL, DEFAULT_TEACHER
from mentor.service.quotas import quotas_of, refuse_size
from mentor.service.security import Principal
from mentor.service.tables import (
    Attempt,
    Batch,
    Correction,
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

router = APIRouter(tags=["courses"])
CoursePath = Annotated[str, Path(pattern=COURSE_ID)]


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


def _spec(text: str | None, default: dict[str, Any], field: str) -> dict[str, Any]:
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


async def _upload(file: UploadFile | None) -> Upload | None:
    if file is None:
        return None
    return Upload(file.filename or "", await file.read())


@router.post("/courses", status_code=201, response_model=ImportOut)
async def post_course(
    who: Admin,
    svc: Svc,
    id: Annotated[str, Form(pattern=COURSE_ID, description="The course's id in URLs.")],
    items: Annotated[
        UploadFile,
        File(description="Items: a domain JSON, an items CSV, or the Junyi exercise table."),
    ],
    prerequisites: Annotated[
        UploadFile | None,
        File(description="With the csv format: a table of prerequisite,skill rows."),
    ] = None,
    events: Annotated[
        UploadFile | None,
        File(description="Optional history: an event log (CSV, KT, review log or Parquet)."),
    ] = None,
    name: Annotated[str, Form(max_length=200, pattern=NAME)] = "",
    format: Annotated[str, Form(description="auto, json, csv or junyi.")] = "auto",
    clock: Annotated[str, Form(description="wall (seconds since the epoch) or steps.")] = "wall",
    model: Annotated[str | None, Form(description='e.g. {"name": "bkt", "params": {}}')] = None,
    teacher: Annotated[str | None, Form(description='e.g. {"name": "zpdes"}')] = None,
    time_unit: Annotated[
        str,
        Form(
            description="s or ms: the unit of numeric times posted to the course's events "
            "(a wall-clock course; stored in seconds)."
        ),
    ] = "s",
    prefer: Annotated[
        str | None, Header(description="respond-async: answer 202 with the import's job.")
    ] = None,
) -> Any:
    """Import a course from its files, in one transaction: a malformed file, an
    unknown item, a prerequisite cycle or a bad model or teacher leaves nothing
    behind, and the 422 names the file, line, field and value. A large import runs
    in the import worker (another process); with ``Prefer: respond-async`` it is
    answered at once, 202 with the job to follow at ``/v1/imports/{id}``."""
    uploads = [await _upload(items), await _upload(prerequisites), await _upload(events)]
    if svc.imports is not None:
        from mentor.service.worker import import_in_worker

        answer = await import_in_worker(
            svc, who, id, name, format, clock, model, teacher, *uploads, time_unit, prefer
        )
        if answer is not None:
            return answer
    # Reading the files and building the engine takes CPU: off the event loop.
    return await run_in_threadpool(
        _create_quietly, svc, who, id, name, format, clock, model, teacher, *uploads, time_unit
    )


def _create_quietly(*args: Any) -> dict:
    with quiet_gc():
        return _create_course(*args)


def _create_course(
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
        _check_course_count(session, who.workspace_id, quotas.courses)
    size = sum(len(u.data) for u in (items, prerequisites, events) if u is not None)
    if size > quotas.import_bytes:
        raise refuse_size("the import", size, quotas.import_bytes, "bytes")
    parsed = parse_course(items, prerequisites, events, format)
    domain = parsed.domain
    if len(domain.items) > quotas.items_per_course:
        raise refuse_size("the course", len(domain.items), quotas.items_per_course, "items")
    if parsed.events is not None and events is not None:
        _check_history_times(svc, parsed.events, clock, events.filename)
    seed = secrets.randbits(62)
    model_spec = _spec(model_text, DEFAULT_MODEL, "model")
    teacher_spec = _spec(teacher_text, DEFAULT_TEACHER, "teacher")
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
            _check_course_count(session, who.workspace_id, quotas.courses)
            course = Course(
                workspace_id=who.workspace_id,
                slug=slug,
                name=name,
                clock=clock,
                time_unit=time_unit,
                seed=seed,
                model=model_spec,
                teacher=teacher_spec,
                task_spaces={n: box.to_dict() for n, box in domain.task_spaces.items()},
                source={"format": parsed.format, "file": items.filename},
                created_at=utcnow(),
            )
            session.add(course)
            session.flush()
            _insert_domain(session, course.id, domain)
            if log is not None and len(log):
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


def _check_course_count(session: Session, workspace_id: int, quota: int) -> None:
    """429 if the workspace already has ``quota`` courses."""
    count = session.scalar(
        select(func.count()).select_from(Course).where(Course.workspace_id == workspace_id)
    )
    if count >= quota:
        raise HTTPException(
            429,
            f"quota: this workspace may have {quota} courses and has {count}; delete one first",
        )


def _check_history_times(svc: Service, log: EventLog, clock: str, filename: str) -> None:
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


def _insert_domain(session: Session, course_id: int, domain) -> None:
    skills = [
        {"course_id": course_id, "position": k, "skill_id": s, "attributes": a}
        for k, (s, a) in enumerate(domain.skill_attributes.items())
    ]
    items = [
        {
            "course_id": course_id,
            "position": k,
            "item_id": item.id,
            "skills": list(item.skills),
            "difficulty": item.difficulty,
            "attributes": dict(item.attributes),
        }
        for k, item in enumerate(domain.items.values())
    ]
    edges = [{"course_id": course_id, "prerequisite": p, "skill": c} for p, c in domain.graph.edges]
    for table, rows in ((Skill, skills), (CourseItem, items), (Prerequisite, edges)):
        if rows:
            session.execute(insert(table), rows)


@router.get("/courses", response_model=list[CourseOut])
def get_courses(who: Member, svc: Svc) -> list[dict]:
    """The workspace's courses."""
    with svc.db.read() as session:
        courses = session.scalars(
            select(Course).where(Course.workspace_id == who.workspace_id).order_by(Course.id)
        ).all()
        return [course_out(session, course) for course in courses]


@router.get("/courses/{course}", response_model=CourseOut)
def get_course(course: CoursePath, who: Member, svc: Svc) -> dict:
    with svc.db.read() as session:
        return course_out(session, find_course(session, who, course))


@router.delete("/courses/{course}", status_code=204)
def delete_course(course: CoursePath, who: Admin, svc: Svc) -> None:
    """Delete a course with all its events and state."""
    with svc.db.read() as session:
        row = find_course(session, who, course)
    try:
        with svc.engines.writing(row.id, engine=False) as work:
            session = work.session
            tables = (
                Attempt,
                Correction,
                EventRow,
                Batch,
                Enrolment,
                CourseState,
                CourseItem,
                Skill,
                Prerequisite,
            )
            for table in tables:
                session.execute(delete(table).where(table.course_id == row.id))
            session.execute(delete(Course).where(Course.id == row.id))
    except CourseGone:
        raise HTTPException(404, f"course {course!r} not found") from None
    svc.engines.forget(row.id)


@router.get("/courses/{course}/items", response_model=ItemsOut)
def get_items(
    course: CoursePath,
    who: Member,
    svc: Svc,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
) -> dict:
    """The course's items in their order, with their skills."""
    with svc.db.read() as session:
        row = find_course(session, who, course)
        total = session.scalar(
            select(func.count()).select_from(CourseItem).where(CourseItem.course_id == row.id)
        )
        items = session.scalars(
            select(CourseItem)
            .where(CourseItem.course_id == row.id)
            .order_by(CourseItem.position)
            .offset(offset)
            .limit(limit)
        ).all()
        return {
            "total": total,
            "items": [
                {
                    "id": i.item_id,
                    "skills": i.skills,
                    "difficulty": i.difficulty,
                    "attributes": i.attributes,
                }
                for i in items
            ],
        }


@router.put("/courses/{course}/policy", response_model=CourseOut)
def put_policy(course: CoursePath, body: PolicyIn, who: Admin, svc: Svc) -> dict:
    """Set the course's student model and/or teacher (registry names and parameters)
    and/or its clock. A new model or teacher learns the course's events so far
    (replayed in order, or with ``fit`` a batch fit of the model), in the same
    transaction that saves it."""
    if body.fit and body.model is None:
        raise ParameterError("fit needs a model to fit", field="fit")
    with svc.db.read() as session:
        row = find_course(session, who, course)
    try:
        with svc.engines.writing(row.id) as work:
            session = work.session
            current = session.get(Course, row.id)
            engine = work.engine
            domain = engine.domain
            model, teacher = engine.model, engine.teacher
            log = None
            if body.model is not None or body.teacher is not None:
                log, _, _ = load_events(session, row.id)
            if body.model is not None:
                model = create_model(body.model.model_dump(), domain)
                if len(log) and body.fit:
                    model.fit(log)
                elif len(log):
                    model.update(log)
                current.model = body.model.model_dump()
            if body.teacher is not None:
                teacher = create_teacher(body.teacher.model_dump(), domain, current.seed)
                if len(log):
                    teacher.observe(log)
                current.teacher = body.teacher.model_dump()
            if body.clock is not None:
                current.clock = body.clock
            if body.time_unit is not None:
                current.time_unit = body.time_unit
            if log is not None:
                work.replacement = Engine(domain, model, teacher)
            session.flush()
            return course_out(session, current)
    except CourseGone:
        raise HTTPException(404, f"course {course!r} not found") from None
