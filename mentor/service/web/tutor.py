"""The tutoring pages: "Let's work it out" after a wrong answer, and the admin's
view of sessions and where learners got stuck.

- ``POST /practice/{course}/tutor`` (from the practice page's feedback) opens the
  session of the attempt just answered wrong and goes to its page;
- ``/practice/{course}/tutor/{session}``: the question, the tutor's current
  question with an answer field (focused) and a hint button, the steps found so
  far, and the conversation; each answer is a form post (no script needed), and
  goes through the same code as ``/v1`` (:mod:`mentor.service.tutoring`);
- ``/admin/courses/{course}/tutoring``: the course's sessions, their outcome, and
  the steps that needed a teaching hint, most first.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from mentor.service.api.courses import CoursePath
from mentor.service.api.deps import find_course
from mentor.service.api.practice import plain
from mentor.service.engines import CourseGone
from mentor.service.tutoring import (
    MAX_ANSWER,
    find_session,
    list_sessions,
    load,
    open_session,
    stuck_points,
    take_turn,
)
from mentor.service.web.common import AdminWho, LearnerWho, Svc, WebRoute, check_csrf, render
from mentor.service.web.common import skill_name as _skill_name
from mentor.service.web.knowledge_map import band

router = APIRouter(route_class=WebRoute, include_in_schema=False)
STATUS_TEXT = {
    "active": "in progress",
    "solved": "worked out",
    "revealed": "solution shown",
}


def _course(svc: Any, who: Any, course: str) -> Any:
    with svc.db.read() as session:
        row = find_course(session, who, course)
        session.expunge(row)
    return row


def _mastery(svc: Any, row: Any, learner: str, skills: list[str]) -> list[dict[str, Any]]:
    """The session's skills with the model's mastery and the knowledge map's band for it
    (the page and the map use the same words)."""
    try:
        with svc.engines.reading(row.id) as (_, engine):
            mastery = plain(engine.state(learner)).get("mastery") or {}
            return [
                {
                    "name": _skill_name(engine.domain, s),
                    "mastery": mastery.get(s),
                    "band": band(mastery.get(s)).name,
                }
                for s in skills
            ]
    except CourseGone:
        raise HTTPException(404, f"course {row.slug!r} not found") from None


def _page(
    request: Request,
    svc: Any,
    who: Any,
    row: Any,
    session_id: str,
    feedback: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    found, learner = find_session(svc, who, row, session_id)
    tutor = load(svc, found.state)
    current = tutor.current
    steps = [{"text": a.text, "status": a.status} for a in tutor.attributes_]
    skills = sorted({a.skill for a in tutor.attributes_ if a.skill})
    conversation = [n for n in tutor.transcript()[:-1] if n["kind"] != "final" or n["response"]]
    if current is None:
        conversation = tutor.transcript()
    context = {
        "title": "Let's work it out",
        "course": row,
        "session": found,
        "status_text": STATUS_TEXT.get(found.status, found.status),
        "question": tutor.planner.given(),
        "wrong": tutor.wrong_answer,
        "current": current,
        "feedback": feedback,
        "notice": notice,
        "steps": steps,
        "found": sum(1 for s in steps if s["status"] in ("resolved", "taught")),
        "conversation": conversation,
        "mastery": _mastery(svc, row, learner, skills) if current is None else [],
        "max_answer": MAX_ANSWER,
    }
    return render(request, "tutor.html", context, status_code=status_code)


@router.post("/practice/{course}/tutor")
def start(
    request: Request,
    course: CoursePath,
    who: LearnerWho,
    svc: Svc,
    attempt: Annotated[str, Form(max_length=32)],
    csrf: Annotated[str, Form()] = "",
    given: Annotated[str, Form(max_length=MAX_ANSWER)] = "",
) -> Response:
    """Open (or reopen) the session of the attempt just answered wrong."""
    check_csrf(request, csrf)
    row = _course(svc, who, course)
    opened = open_session(svc, who, row, attempt, given or None)
    return RedirectResponse(f"/practice/{course}/tutor/{opened.row.id}", status_code=303)


@router.get("/practice/{course}/tutor/{session}")
def page(request: Request, course: CoursePath, session: str, who: LearnerWho, svc: Svc) -> Response:
    row = _course(svc, who, course)
    return _page(request, svc, who, row, session)


@router.post("/practice/{course}/tutor/{session}")
def turn(
    request: Request,
    course: CoursePath,
    session: str,
    who: LearnerWho,
    svc: Svc,
    csrf: Annotated[str, Form()] = "",
    answer: Annotated[str, Form(max_length=MAX_ANSWER)] = "",
    hint: Annotated[str, Form(max_length=4)] = "",
) -> Response:
    """Answer the tutor's question, or ask for a hint."""
    check_csrf(request, csrf)
    row = _course(svc, who, course)
    if not hint and not answer.strip():
        return _page(
            request,
            svc,
            who,
            row,
            session,
            notice="Type an answer, or ask for a hint.",
            status_code=422,
        )
    try:
        done = take_turn(svc, who, row, session, None if hint else answer, bool(hint))
    except HTTPException as error:
        if error.status_code == 409:  # another tab answered, or the page was sent again
            return _page(
                request,
                svc,
                who,
                row,
                session,
                notice="That question was already answered (in another tab, or the "
                "page was sent again). Here is where you are.",
            )
        raise
    return _page(request, svc, who, row, session, feedback=done.reply.feedback)


@router.get("/admin/courses/{course}/tutoring")
def admin_page(request: Request, course: CoursePath, who: AdminWho, svc: Svc) -> Response:
    """The course's tutoring sessions and where learners got stuck."""
    row = _course(svc, who, course)
    rows = list_sessions(svc, row, None, 500)
    sessions = []
    for found, learner in rows:
        tutor = load(svc, found.state)
        sessions.append(
            {
                "learner": learner,
                "item": found.item,
                "status": STATUS_TEXT.get(found.status, found.status),
                "turns": found.turns,
                "stuck": found.stuck,
                "misconceptions": sorted({m for a in tutor.attributes_ for m in a.misconceptions}),
            }
        )
    seen: dict[str, int] = {}
    for s in sessions:
        for m in s["misconceptions"]:
            seen[m] = seen.get(m, 0) + 1
    context = {
        "title": f"Tutoring: {row.name or row.slug}",
        "misconceptions": sorted(seen.items(), key=lambda kv: (-kv[1], kv[0])),
        "active": sum(1 for f, _ in rows if f.status == "active"),
        "course": row,
        "sessions": sessions,
        "stuck": stuck_points(rows),
        "solved": sum(1 for f, _ in rows if f.status == "solved"),
        "revealed": sum(1 for f, _ in rows if f.status == "revealed"),
    }
    return render(request, "tutoring.html", context)


@router.get("/practice/{course}/tutor")
def no_session(course: CoursePath) -> Response:
    """A reload of the form's address: back to practice."""
    return RedirectResponse(f"/practice/{course}", status_code=303)
