"""A learner's pages: practice (a question, the answer checked, what comes next and
why), the knowledge map, and upcoming reviews.

Practice follows the API exactly. The question shown is the item that
``GET /v1/courses/{course}/learners/{learner}/next`` gives at that moment
(:func:`~mentor.service.engines.select_items`, seeded by the learner's count
of events, the *step*), and its text and answer come from the item's
question generator seeded by the item, the learner and the step
(:func:`mentor.demo.questions.question_for`), so a reload shows the same
question. The question is issued as an attempt
(:mod:`mentor.service.api.attempts`, the same open attempt on a reload) and
the form carries only the attempt's id: the item it answers is the one the
server issued, the answer is checked on the server, and an attempt is
answered once (a second tab or a resubmitted page records nothing).

Items without a generator show their ``question`` attribute and check the
``answer`` attribute as text; items with neither ask the learner to practise
the item and say whether they succeeded (:mod:`mentor.service.questions`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from starlette.exceptions import HTTPException

from mentor.questions import Question
from mentor.service.api.attempts import answer_attempt, open_attempt
from mentor.service.api.courses import CoursePath
from mentor.service.api.deps import find_course
from mentor.service.api.practice import plain
from mentor.service.engines import CourseGone, select_items
from mentor.service.events_store import load_events
from mentor.service.questions import question_of
from mentor.service.tables import Attempt, Course, Enrolment, EventRow, Learner
from mentor.service.tutoring import chat_of
from mentor.service.web.common import LearnerWho, Svc, WebRoute, check_csrf, render, skill_name
from mentor.service.web.explain import Reason, explain, item_label
from mentor.service.web.knowledge_map import legend, render_map, skill_rows
from mentor.service.web.reviews import upcoming_reviews, when

router = APIRouter(route_class=WebRoute, include_in_schema=False)
MAX_ANSWER = 100


@dataclass
class Turn:
    """A question to show: the item, the step it belongs to, its question and why."""

    item: str
    step: int
    label: str
    skills: list[str]
    question: Question | None
    prompt: str
    reason: Reason
    attempt: str | None = None
    code: str = ""  # a code-debugging item's program (its ``code`` attribute)


def _course_and_learner(svc, who, course: str) -> tuple[Course, Learner]:
    with svc.db.read() as session:
        row = find_course(session, who, course)
        person = session.get(Learner, who.learner_id)
        if person is None:
            raise HTTPException(401, "this learner no longer exists")
        session.expunge(row)
        session.expunge(person)
    return row, person


def _now(svc, row: Course) -> float | None:
    return svc.now() if row.clock == "wall" else None


def _gone(course: str) -> HTTPException:
    return HTTPException(404, f"course {course!r} not found")


def current(svc, row: Course, person: Learner) -> dict[str, Any]:
    """The learner's next turn, mastery and progress in the course, from one read."""
    learner = person.external_id
    t = _now(svc, row)
    try:
        with svc.engines.reading(row.id) as (session, engine):
            enrolment = session.get(Enrolment, (row.id, person.id))
            step = 0 if enrolment is None else int(enrolment.events)
            picked = select_items(engine, learner, 1, t, row.seed, step)
            reason = explain(engine, learner, picked[0], t) if picked else None
            mastery = plain(engine.state(learner)).get("mastery") or {}
            domain = engine.domain
    except CourseGone:
        raise _gone(row.slug) from None
    turn = None
    if picked:
        item = str(picked[0])
        question, prompt = question_of(domain, item, learner, step)
        skills = [str(s) for s in domain.item(item).skills]
        turn = Turn(item, step, item_label(engine, item), skills, question, prompt, reason)
        code = domain.item(item).attributes.get("code")
        turn.code = code if isinstance(code, str) else ""
    return {"turn": turn, "mastery": mastery, "step": step, "domain": domain}


def _right_so_far(svc, row: Course, person: Learner) -> int:
    with svc.db.read() as session:
        found = session.scalar(
            select(func.count())
            .select_from(EventRow)
            .where(
                EventRow.course_id == row.id,
                EventRow.learner_id == person.id,
                EventRow.voided_at.is_(None),
                EventRow.outcome >= 0.5,
            )
        )
    return int(found or 0)


def _courses(svc, workspace_id: int) -> list[Course]:
    with svc.db.read() as session:
        rows = session.scalars(
            select(Course).where(Course.workspace_id == workspace_id).order_by(Course.id)
        ).all()
        for row in rows:
            session.expunge(row)
    return list(rows)


@router.get("/practice")
def practice_index(request: Request, who: LearnerWho, svc: Svc) -> Response:
    """The workspace's courses (straight to the course when there is only one)."""
    courses = _courses(svc, who.workspace_id)
    if len(courses) == 1:
        return RedirectResponse(f"/practice/{courses[0].slug}", status_code=303)
    return render(request, "courses.html", {"title": "Your courses", "courses": courses})


def _practice_page(
    request: Request,
    svc,
    row: Course,
    person: Learner,
    feedback: dict[str, Any] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    state = current(svc, row, person)
    domain = state["domain"]
    turn = state["turn"]
    mastery = state["mastery"]
    focus = []
    if turn is not None:
        turn.attempt = open_attempt(svc, row.id, person.id, turn.item, turn.step).id
        focus = [
            {
                "name": skill_name(domain, s),
                "mastery": mastery.get(s),
            }
            for s in turn.skills
        ]
    context = {
        "title": f"Practice: {row.name or row.slug}",
        "course": row,
        "turn": turn,
        "focus": focus,
        "feedback": feedback,
        "notice": notice,
        "attempts": state["step"],
        "right": _right_so_far(svc, row, person),
    }
    return render(request, "practice.html", context, status_code=status_code)


@router.get("/practice/{course}")
def practice(request: Request, course: CoursePath, who: LearnerWho, svc: Svc) -> Response:
    row, person = _course_and_learner(svc, who, course)
    return _practice_page(request, svc, row, person)


@router.post("/practice/{course}")
def answer(
    request: Request,
    course: CoursePath,
    who: LearnerWho,
    svc: Svc,
    attempt: Annotated[str, Form(max_length=32)],
    csrf: Annotated[str, Form()] = "",
    answer: Annotated[str, Form(max_length=MAX_ANSWER)] = "",
    outcome: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Check the answer to the attempt, record it, and show the feedback with the
    next question."""
    check_csrf(request, csrf)
    row, person = _course_and_learner(svc, who, course)
    learner = person.external_id
    with svc.db.read() as session:
        found = session.get(Attempt, attempt)
    if found is None or found.learner_id != person.id or found.course_id != row.id:
        raise HTTPException(404, f"attempt {attempt!r} not found in course {course!r}")
    item = found.item
    try:
        with svc.engines.reading(row.id) as (_, engine):
            domain = engine.domain
            before = plain(engine.state(learner)).get("mastery") or {}
    except CourseGone:
        raise _gone(course) from None
    question, prompt = question_of(domain, item, learner, found.step)
    if question is not None and not answer.strip():
        return _practice_page(
            request, svc, row, person, notice="Type an answer before checking it.", status_code=422
        )
    if question is None and outcome not in ("1", "0"):
        raise HTTPException(422, "say whether you got it right (outcome 1) or not (outcome 0)")
    try:
        done = answer_attempt(
            svc,
            who,
            row,
            attempt,
            answer if question is not None else None,
            None if question is not None else float(outcome),
        )
    except CourseGone:
        raise _gone(course) from None
    except HTTPException as error:
        if error.status_code in (409, 410):  # answered (another tab, a resent form) or expired
            notice = (
                "That question was already answered (in another tab, or the page was sent again). "
                if error.status_code == 409
                else "That question expired. "
            )
            return _practice_page(
                request, svc, row, person, notice=notice + "Here is your next one."
            )
        raise
    correct = done["correct"]
    state = current(svc, row, person)
    after = state["mastery"]
    skills = [str(s) for s in domain.item(item).skills]
    feedback = {
        "correct": correct,
        "prompt": prompt,
        "given": answer.strip() if question is not None else None,
        "expected": question.answer if question is not None else None,
        "label": item_label(engine, item),
        "attempt": attempt,
        "tutor": question is not None
        and not correct
        and (bool(question.steps) or chat_of(svc) is not None),
        "changes": [
            {"name": skill_name(domain, s), "before": before.get(s), "after": after.get(s)}
            for s in skills
        ],
    }
    return _practice_page(request, svc, row, person, feedback=feedback)


@router.get("/practice/{course}/map")
def knowledge_map(request: Request, course: CoursePath, who: LearnerWho, svc: Svc) -> Response:
    row, person = _course_and_learner(svc, who, course)
    state = current(svc, row, person)
    domain = state["domain"]
    mastery = state["mastery"]
    turn = state["turn"]
    context = {
        "title": f"Knowledge map: {row.name or row.slug}",
        "course": row,
        "svg": render_map(domain, mastery, turn.skills if turn else (), "Your knowledge map"),
        "rows": skill_rows(domain, mastery),
        "legend": legend(),
        "show_next": turn is not None,
        "next": turn,
    }
    return render(request, "map.html", context)


@router.get("/practice/{course}/reviews")
def reviews(request: Request, course: CoursePath, who: LearnerWho, svc: Svc) -> Response:
    row, person = _course_and_learner(svc, who, course)
    now = svc.now()
    items: list[Any] = []
    if row.clock == "wall":
        with svc.db.read() as session:
            log, _, _ = load_events(session, row.id, person.id)
        try:
            with svc.engines.reading(row.id) as (_, engine):
                items = upcoming_reviews(engine, person.external_id, log, now)
                model = engine.model.name
        except CourseGone:
            raise _gone(course) from None
    else:
        model = None
    rows = [
        {
            "label": r.label,
            "when": when(r.due, now),
            "due": r.is_due(now),
            "date": r.due,
            "recall": r.recall,
            "reviews": r.reviews,
        }
        for r in items
    ]
    context = {
        "title": f"Reviews: {row.name or row.slug}",
        "course": row,
        "rows": rows,
        "due_now": sum(1 for r in rows if r["due"]),
        "model": model,
        "steps_clock": row.clock != "wall",
    }
    return render(request, "reviews.html", context)
