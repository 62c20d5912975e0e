"""Courses: import (one transaction), list, read, delete, items, and the course's
student model and teacher."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Header, HTTPException, Path, Query, UploadFile
from sqlalchemy import delete, func, select
from starlette.concurrency import run_in_threadpool

from mentor.engine import Engine
from mentor.errors import ParameterError
from mentor.service.api.deps import Admin, Member, Svc, find_course
from mentor.service.api.schemas import (
    COURSE_ID,
    NAME,
    CourseOut,
    ImportOut,
    ItemsOut,
    PolicyIn,
)
from mentor.service.courses import course_out, create_course_quietly
from mentor.service.engines import CourseGone
from mentor.service.events_store import load_events
from mentor.service.importing import Upload
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
)
from mentor.students import create_model
from mentor.teachers import create_teacher

router = APIRouter(tags=["courses"])
CoursePath = Annotated[str, Path(pattern=COURSE_ID)]


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
        create_course_quietly,
        *(svc, who, id, name, format, clock, model, teacher, *uploads, time_unit),
    )


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
