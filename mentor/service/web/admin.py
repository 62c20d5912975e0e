"""The admin pages: the dashboard (courses and learners), importing a course
through a form (the API's own import, :func:`mentor.service.api.courses.post_course`),
adding a learner, and each course's learning curves and teacher's choices."""

from __future__ import annotations

import inspect
import json
import re
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from starlette.exceptions import HTTPException

from mentor.errors import MentorError
from mentor.service.api import courses as course_api
from mentor.service.api.courses import CoursePath
from mentor.service.api.deps import find_course, find_learner
from mentor.service.api.learners import LearnerPath, create_learner
from mentor.service.api.practice import plain
from mentor.service.api.schemas import COURSE_ID, LEARNER_ID, LearnerIn
from mentor.service.courses import course_out
from mentor.service.engines import CourseGone
from mentor.service.events_store import load_events
from mentor.service.importing import UploadError
from mentor.service.tables import Course, Enrolment, Learner, Workspace
from mentor.service.web import charts
from mentor.service.web.common import AdminWho, Svc, WebRoute, check_csrf, render
from mentor.service.web.knowledge_map import legend, render_map, skill_rows
from mentor.students import MODELS
from mentor.teachers import TEACHERS

router = APIRouter(route_class=WebRoute, include_in_schema=False)
IMPORT_PATH = "/admin/import"


def _built_from_a_name(name: str) -> bool:
    """Whether a teacher needs nothing but its name (and the course): no required
    parameter other than the domain (not a fixed order, parts or an inner teacher)."""
    return all(
        p.default is not inspect.Parameter.empty or p.name == "domain"
        for p in inspect.signature(TEACHERS[name]).parameters.values()
        if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    )


#: Teachers offered by the import form: those a name alone builds (the API takes any
#: teacher with its parameters).
FORM_TEACHERS = sorted(name for name in TEACHERS if _built_from_a_name(name))
LEARNERS_SHOWN = 200


def _workspace(svc, who) -> Workspace:
    with svc.db.read() as session:
        return session.get(Workspace, who.workspace_id)


def _dashboard(
    request: Request,
    svc,
    who,
    notice: str | None = None,
    new_learner: dict[str, Any] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    with svc.db.read() as session:
        workspace = session.get(Workspace, who.workspace_id)
        courses = [
            course_out(session, c)
            for c in session.scalars(
                select(Course).where(Course.workspace_id == who.workspace_id).order_by(Course.id)
            ).all()
        ]
        learners = session.execute(
            select(
                Learner.external_id,
                Learner.token_hash.is_not(None),
                func.coalesce(func.sum(Enrolment.events), 0),
            )
            .outerjoin(Enrolment, Enrolment.learner_id == Learner.id)
            .where(Learner.workspace_id == who.workspace_id)
            .group_by(Learner.id)
            .order_by(Learner.id)
            .limit(LEARNERS_SHOWN)
        ).all()
    context = {
        "title": "Dashboard",
        "workspace": workspace,
        "courses": courses,
        "learners": [{"id": x, "has_token": bool(t), "events": int(n)} for x, t, n in learners],
        "notice": notice,
        "new_learner": new_learner,
        "error": error,
        "base_url": str(request.base_url).rstrip("/"),
    }
    return render(request, "admin.html", context, status_code=status_code)


@router.get("/admin")
def dashboard(request: Request, who: AdminWho, svc: Svc, imported: str | None = None) -> Response:
    notice = None
    if imported and re.match(COURSE_ID, imported):
        notice = f"Imported the course {imported!r}."
    return _dashboard(request, svc, who, notice=notice)


@router.post("/admin/learners")
def add_learner(
    request: Request,
    who: AdminWho,
    svc: Svc,
    learner: Annotated[str, Form(max_length=200)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Add a learner and show their token and sign-in link, once."""
    check_csrf(request, csrf)
    learner = learner.strip()
    if not learner or not re.match(LEARNER_ID, learner):
        return _dashboard(
            request, svc, who, error="A learner id is 1 to 200 characters.", status_code=422
        )
    try:
        body = LearnerIn(id=learner)
    except ValueError:
        return _dashboard(
            request,
            svc,
            who,
            error="A learner id is 1 to 200 characters, without '/', and not '.' or '..'.",
            status_code=422,
        )
    try:
        out = create_learner(svc, who.workspace_id, body.id)
    except HTTPException as error:
        return _dashboard(request, svc, who, error=str(error.detail), status_code=error.status_code)
    base = str(request.base_url).rstrip("/")
    new = {"id": out["id"], "token": out["token"], "link": f"{base}/login#token={out['token']}"}
    return _dashboard(request, svc, who, new_learner=new, status_code=201)


def _import_page(
    request: Request, form: dict[str, Any], error: str | None = None, status_code: int = 200
) -> Response:
    context = {
        "title": "Import a course",
        "form": form,
        "error": error,
        "models": sorted(MODELS),
        "teachers": FORM_TEACHERS,
    }
    return render(request, "import.html", context, status_code=status_code)


@router.get(IMPORT_PATH)
def import_form(request: Request, who: AdminWho) -> Response:
    return _import_page(request, {"model": "bkt", "teacher": "zpdes", "format": "auto"})


def _upload(file: UploadFile | None) -> UploadFile | None:
    """None for a file input left empty (browsers send it with no name and no bytes)."""
    if file is None or not (file.filename or "").strip():
        return None
    return file


@router.post(IMPORT_PATH)
async def import_course(
    request: Request,
    who: AdminWho,
    svc: Svc,
    id: Annotated[str, Form(max_length=64)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    format: Annotated[str, Form(max_length=16)] = "auto",
    clock: Annotated[str, Form(max_length=16)] = "wall",
    model: Annotated[str, Form(max_length=64)] = "bkt",
    teacher: Annotated[str, Form(max_length=64)] = "zpdes",
    csrf: Annotated[str, Form()] = "",
    items: Annotated[UploadFile | None, File()] = None,
    prerequisites: Annotated[UploadFile | None, File()] = None,
    events: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Import through the API's own code: the same checks, one transaction, and its
    error message (file, line, field, value) shown above the form."""
    check_csrf(request, csrf)
    form = {
        "id": id,
        "name": name,
        "format": format,
        "clock": clock,
        "model": model,
        "teacher": teacher,
    }
    problem = None
    items = _upload(items)
    if not re.match(COURSE_ID, id):
        problem = (
            "The course id is 1 to 64 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit."
        )
    elif "\x00" in name or any(ord(c) < 32 or ord(c) == 127 for c in name):
        problem = "The name may not hold control characters."
    elif items is None:
        problem = "Choose the items file."
    elif model not in MODELS:
        problem = f"Unknown student model {model!r}."
    elif teacher not in FORM_TEACHERS:
        problem = f"Unknown teacher {teacher!r}."
    if problem:
        return _import_page(request, form, problem, status_code=422)
    try:
        await course_api.post_course(
            who,
            svc,
            id,
            items,
            _upload(prerequisites),
            _upload(events),
            name,
            format,
            clock,
            json.dumps({"name": model}),
            json.dumps({"name": teacher}),
        )
    except UploadError as error:
        return _import_page(request, form, f"{error} ({error.kind})", status_code=422)
    except MentorError as error:
        return _import_page(request, form, str(error), status_code=422)
    except HTTPException as error:
        return _import_page(request, form, str(error.detail), status_code=error.status_code)
    return RedirectResponse(f"/admin?imported={id}", status_code=303)


def _course(svc, who, course: str) -> Course:
    with svc.db.read() as session:
        return find_course(session, who, course)


def _course_log(svc, row: Course, learner_id: int | None = None):
    with svc.db.read() as session:
        log, _, _ = load_events(session, row.id, learner_id)
    return log


def _domain(svc, row: Course):
    try:
        with svc.engines.reading(row.id) as (_, engine):
            return engine.domain
    except CourseGone:
        raise HTTPException(404, f"course {row.slug!r} not found") from None


@router.get("/admin/courses/{course}")
def course_page(request: Request, course: CoursePath, who: AdminWho, svc: Svc) -> Response:
    row = _course(svc, who, course)
    with svc.db.read() as session:
        summary = course_out(session, row)
    domain = _domain(svc, row)
    log = _course_log(svc, row)
    _, curves = charts.learning_curves_svg(row.model, domain, log)
    context = {
        "title": f"Course: {row.name or row.slug}",
        "course": row,
        "summary": summary,
        "curves": curves,
        "shares": charts.skill_shares(domain, log)[:10],
        "success": float(log.outcome.mean()) if len(log) else None,
    }
    return render(request, "course.html", context)


def _svg(body: bytes) -> Response:
    return Response(
        body,
        media_type="image/svg+xml",
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/admin/courses/{course}/curves.svg")
def curves_svg(course: CoursePath, who: AdminWho, svc: Svc) -> Response:
    row = _course(svc, who, course)
    body, _ = charts.learning_curves_svg(row.model, _domain(svc, row), _course_log(svc, row))
    return _svg(body)


@router.get("/admin/courses/{course}/choices.svg")
def choices_svg(course: CoursePath, who: AdminWho, svc: Svc) -> Response:
    row = _course(svc, who, course)
    return _svg(charts.choices_heatmap_svg(_domain(svc, row), _course_log(svc, row)))


def _learner(svc, who, row: Course, learner: str) -> Learner:
    with svc.db.read() as session:
        return find_learner(session, who, learner)


@router.get("/admin/courses/{course}/learners/{learner}")
def learner_page(
    request: Request, course: CoursePath, learner: LearnerPath, who: AdminWho, svc: Svc
) -> Response:
    row = _course(svc, who, course)
    person = _learner(svc, who, row, learner)
    log = _course_log(svc, row, person.id)
    try:
        with svc.engines.reading(row.id) as (_, engine):
            domain = engine.domain
            mastery = plain(engine.state(learner)).get("mastery") or {}
    except CourseGone:
        raise HTTPException(404, f"course {course!r} not found") from None
    recent = [
        {"item": i, "time": t, "outcome": o}
        for i, t, o in list(
            zip(log.item.tolist(), log.time.tolist(), log.outcome.tolist(), strict=True)
        )[-15:][::-1]
    ]
    context = {
        "title": f"{learner} in {row.name or row.slug}",
        "course": row,
        "learner": learner,
        "svg": render_map(domain, mastery, (), f"Knowledge map of {learner}"),
        "rows": skill_rows(domain, mastery),
        "legend": legend(),
        "attempts": len(log),
        "success": float(log.outcome.mean()) if len(log) else None,
        "recent": recent,
    }
    return render(request, "learner.html", context)


@router.get("/admin/courses/{course}/learners/{learner}/choices.svg")
def learner_choices_svg(
    course: CoursePath, learner: LearnerPath, who: AdminWho, svc: Svc
) -> Response:
    row = _course(svc, who, course)
    person = _learner(svc, who, row, learner)
    return _svg(charts.choices_svg(_domain(svc, row), _course_log(svc, row, person.id)))
