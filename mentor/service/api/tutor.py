"""Socratic tutoring sessions over the API (:mod:`mentor.tutor`,
:mod:`mentor.service.tutoring`), so any front end can run them:

- ``POST /courses/{course}/attempts/{attempt}/tutor`` opens the session of an
  attempt answered wrong (the same session again if asked again); send the
  wrong answer that was given, so the tutor can read its misconception;
- ``GET /courses/{course}/tutor/{session}``: the session (question, current
  prompt, attribute state with the estimates, transcript);
- ``POST /courses/{course}/tutor/{session}/answer`` with ``answer``, or
  ``hint: true`` to ask for a hint; each is recorded as events;
- ``GET /courses/{course}/tutor`` (admin): the course's sessions and where
  learners got stuck (the steps that needed a teaching hint).

A learner token sees and answers its own sessions only (404 for another's);
a grader key is refused (403).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, Field

from mentor.service.api.attempts import AttemptPath
from mentor.service.api.courses import CoursePath
from mentor.service.api.deps import Admin, Member, Svc, find_course
from mentor.service.api.schemas import Strict
from mentor.service.tutoring import (
    MAX_ANSWER,
    find_session,
    list_sessions,
    open_session,
    session_out,
    stuck_points,
    take_turn,
)

router = APIRouter(tags=["tutor"])
SessionPath = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


class OpenIn(Strict):
    answer: str | None = Field(
        None, max_length=MAX_ANSWER, description="The wrong answer that was given to the attempt."
    )


class TurnIn(Strict):
    answer: str | None = Field(None, max_length=MAX_ANSWER)
    hint: bool = Field(False, description="true: ask for a hint instead of answering.")


class AttributeOut(BaseModel):
    id: str
    text: str
    skill: str
    p: float = Field(description="Estimated probability that the learner has it.")
    status: str = Field(description="open, resolved, taught or assumed.")
    misconceptions: list[str]


class EventOut(BaseModel):
    attribute: str
    skill: str
    outcome: float
    hints: int


class SessionOut(BaseModel):
    id: str
    course: str
    learner: str
    item: str
    attempt: str
    status: str = Field(description="active, solved or revealed.")
    turns: int
    question: str
    prompt: str | None = Field(description="The question waiting for an answer.")
    feedback: str | None = Field(description="The tutor's reply to the last message.")
    events: list[EventOut] = Field(description="The events the last message recorded.")
    attributes: list[AttributeOut]
    transcript: list[dict[str, Any]]
    stuck: list[str]
    created_at: float
    updated_at: float


class StuckOut(BaseModel):
    item: str
    attribute: str
    sessions: int


class SessionsOut(BaseModel):
    sessions: list[SessionOut]
    stuck: list[StuckOut] = Field(description="Where learners needed a teaching hint, most first.")


def _course(svc: Any, who: Any, course: str) -> Any:
    with svc.db.read() as session:
        row = find_course(session, who, course)
        session.expunge(row)
    return row


@router.post(
    "/courses/{course}/attempts/{attempt}/tutor", status_code=201, response_model=SessionOut
)
def post_tutor(
    course: CoursePath, attempt: AttemptPath, body: OpenIn, who: Member, svc: Svc
) -> dict:
    """Open the tutoring session of an attempt answered wrong (or the one opened before)."""
    row = _course(svc, who, course)
    opened = open_session(svc, who, row, attempt, body.answer)
    _, learner = find_session(svc, who, row, opened.row.id)
    return session_out(svc, opened.row, learner, opened.reply, course)


@router.get("/courses/{course}/tutor/{session}", response_model=SessionOut)
def get_tutor(course: CoursePath, session: SessionPath, who: Member, svc: Svc) -> dict:
    """A tutoring session: the current question, the attribute state, the transcript."""
    row = _course(svc, who, course)
    found, learner = find_session(svc, who, row, session)
    return session_out(svc, found, learner, None, course)


@router.post("/courses/{course}/tutor/{session}/answer", response_model=SessionOut)
def post_tutor_answer(
    course: CoursePath, session: SessionPath, body: TurnIn, who: Member, svc: Svc
) -> dict:
    """Answer the session's current question, or ask for a hint (``hint: true``)."""
    if body.hint == (body.answer is not None):
        raise HTTPException(
            422,
            f"answer, hint: send either an answer or hint: true, not "
            f"answer={body.answer!r} with hint={str(body.hint).lower()}",
        )
    row = _course(svc, who, course)
    done = take_turn(svc, who, row, session, body.answer, body.hint)
    _, learner = find_session(svc, who, row, session)
    return session_out(svc, done.row, learner, done.reply, course)


@router.get("/courses/{course}/tutor", response_model=SessionsOut)
def get_tutor_sessions(
    course: CoursePath,
    who: Admin,
    svc: Svc,
    learner: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict:
    """The course's tutoring sessions, newest first, and where learners got stuck."""
    row = _course(svc, who, course)
    rows = list_sessions(svc, row, learner, limit)
    return {
        "sessions": [session_out(svc, found, name, None, course) for found, name in rows],
        "stuck": stuck_points(rows),
    }
