"""Attempts: the questions the server issues, answered once and graded by the server.

A learner's practice goes through attempts, so that an outcome is something
the server can trust:

1. ``POST /courses/{course}/learners/{learner}/attempts`` issues the teacher's
   next item for the learner as an attempt: an unguessable id, the item, the
   learner's step (number of events), when it was issued and when it expires
   (:attr:`~mentor.service.api.deps.Limits.attempt_seconds`). Asked again at
   the same step, it gives the same open attempt.
2. ``POST /courses/{course}/attempts/{attempt}/answer`` answers it, once. When
   the item has a checkable answer (a question generator, or ``question`` and
   ``answer`` attributes: :mod:`mentor.service.questions`) the server grades
   the answer; otherwise the learner reports the outcome (the server has
   nothing to check it against).

Denials: another learner's attempt, or one of another workspace or course, is
404 (its existence is not revealed); an answered attempt is 409; an expired
one 410. The check that an attempt is still open and the event it records are
one transaction under the course's write lock, so two answers sent at once
record one event. Learner tokens cannot post outcomes directly
(:func:`~mentor.service.api.practice.post_events`).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from mentor.service.api.courses import CoursePath
from mentor.service.api.deps import Member, Service, Svc, find_course
from mentor.service.api.learners import LearnerPath
from mentor.service.api.practice import find_practice, store_batch
from mentor.service.api.schemas import EventIn, Finite, Outcome, Strict
from mentor.service.engines import CourseGone, Writing, select_items
from mentor.service.questions import question_of
from mentor.service.security import Principal
from mentor.service.tables import Attempt, Course, EventRow, Learner
from mentor.service.timerules import exact, utc_text

router = APIRouter(tags=["attempts"])
ATTEMPT_ID = r"^[0-9a-f]{32}$"
AttemptPath = Annotated[str, Path(pattern=ATTEMPT_ID)]
#: Longest answer text.
MAX_ANSWER = 100


class AttemptOut(BaseModel):
    id: str
    course: str
    learner: str
    item: str
    step: int = Field(description="The learner's number of events when it was issued.")
    issued_at: float
    expires_at: float
    prompt: str = Field(description="The question (or what to practise).")
    graded: bool = Field(
        description="true: the server checks the answer (send answer); false: the item has "
        "no checkable answer, the learner reports the outcome (send outcome)."
    )
    kind: str | None = Field(None, description="number, text, choice, ... (graded only).")
    choices: list[str] = Field(default_factory=list)
    hint: str | None = None


class AnswerIn(Strict):
    answer: str | None = Field(None, max_length=MAX_ANSWER)
    outcome: Outcome | None = None
    extra: dict[str, Finite] | None = Field(
        None, max_length=32, description="Optional numeric fields (response_time, ...)."
    )


class AnswerOut(BaseModel):
    attempt: str
    item: str
    correct: bool
    outcome: float
    expected: str | None = Field(description="The right answer (graded items).")
    batch_id: int
    events: int = Field(description="The learner's events in the course now.")


def attempt_out(attempt: Attempt, course: str, learner: str, domain: Any) -> dict:
    question, prompt = question_of(domain, attempt.item, learner, attempt.step)
    return {
        "id": attempt.id,
        "course": course,
        "learner": learner,
        "item": attempt.item,
        "step": attempt.step,
        "issued_at": attempt.issued_at,
        "expires_at": attempt.expires_at,
        "prompt": prompt,
        "graded": question is not None,
        "kind": None if question is None else question.kind,
        "choices": [] if question is None else list(question.choices),
        "hint": None if question is None else question.hint,
    }


def open_attempt(svc: Service, course_id: int, learner_id: int, item: str, step: int) -> Attempt:
    """The open attempt of the learner for ``item`` at ``step``: the one issued
    before if it is unanswered and unexpired, else a new one."""
    now = svc.now()
    with svc.db.write() as session:
        found = session.scalar(
            select(Attempt)
            .where(
                Attempt.course_id == course_id,
                Attempt.learner_id == learner_id,
                Attempt.step == step,
                Attempt.item == item,
                Attempt.answered_at.is_(None),
                Attempt.expires_at > now,
            )
            .order_by(Attempt.issued_at.desc())
            .limit(1)
        )
        if found is not None:
            return found
        attempt = Attempt(
            id=secrets.token_hex(16),
            course_id=course_id,
            learner_id=learner_id,
            item=item,
            step=step,
            issued_at=now,
            expires_at=now + svc.limits.attempt_seconds,
        )
        session.add(attempt)
        session.flush()
        return attempt


@router.post(
    "/courses/{course}/learners/{learner}/attempts", status_code=201, response_model=AttemptOut
)
def post_attempt(course: CoursePath, learner: LearnerPath, who: Member, svc: Svc) -> dict:
    """Issue the teacher's next item for the learner as an attempt (the same open
    attempt again if asked again before it is answered). 409 when the teacher has
    nothing for the learner now (no review due, say)."""
    if who.kind == "grader":
        raise HTTPException(403, "a grader key posts outcomes; attempts are for learners")
    try:
        with svc.db.read() as session:
            practice = find_practice(session, who, course, learner)
            learner_id = session.scalar(
                select(Learner.id).where(
                    Learner.workspace_id == who.workspace_id, Learner.external_id == learner
                )
            )
            t = svc.now() if practice.clock == "wall" else None
            with svc.engines.reading(practice.course_id, session) as (_, engine):
                picked = select_items(engine, learner, 1, t, practice.seed, practice.events)
                domain = engine.domain
    except CourseGone:
        raise HTTPException(404, f"course {course!r} not found") from None
    if not picked:
        raise HTTPException(409, f"the teacher has nothing for learner {learner!r} to practise now")
    attempt = open_attempt(svc, practice.course_id, learner_id, str(picked[0]), practice.events)
    return attempt_out(attempt, course, learner, domain)


def find_attempt(
    session: Session, who: Principal, row: Course, attempt_id: str
) -> tuple[Attempt, str]:
    """The attempt and its learner's id, if the caller may answer it (404 otherwise:
    another learner's attempt, or one of another course, is not revealed)."""
    found = session.execute(
        select(Attempt, Learner.external_id)
        .join(Learner, Learner.id == Attempt.learner_id)
        .where(Attempt.id == attempt_id, Attempt.course_id == row.id)
    ).one_or_none()
    if found is None or (who.kind == "learner" and found[0].learner_id != who.learner_id):
        raise HTTPException(404, f"attempt {attempt_id!r} not found in course {row.slug!r}")
    session.expunge(found[0])
    return found[0], found[1]


def answer_attempt(
    svc: Service,
    who: Principal,
    row: Course,
    attempt_id: str,
    answer: str | None,
    outcome: float | None,
    extra: dict[str, float] | None = None,
) -> dict:
    """Grade and record the answer to an attempt, once (see the module's docstring)."""
    with svc.db.read() as session:
        attempt, learner = find_attempt(session, who, row, attempt_id)
        domain = svc.engines.domain(session, row.id)
    now = svc.now()
    _still_open(attempt, now)
    question, _ = question_of(domain, attempt.item, learner, attempt.step)
    if question is not None:
        if outcome is not None:
            raise HTTPException(
                422, "outcome: this item's answer is checked by the server; send answer instead"
            )
        if answer is None or not answer.strip():
            raise HTTPException(422, "answer: required (the server checks it)")
        correct = question.check(answer)
        value = 1.0 if correct else 0.0
    else:
        if answer is not None:
            raise HTTPException(
                422, "answer: this item has no answer to check; send outcome (0 to 1) instead"
            )
        if outcome is None:
            raise HTTPException(422, "outcome: required (this item has no answer to check)")
        value = float(outcome)
        correct = value >= 0.5
    event = EventIn(learner=learner, item=attempt.item, outcome=value, extra=extra)

    def check(work: Writing) -> None:
        current = work.session.get(Attempt, attempt_id, populate_existing=True)
        if current is None:
            raise HTTPException(404, f"attempt {attempt_id!r} not found in course {row.slug!r}")
        _still_open(current, now)
        current.answered_at = now
        current.outcome = value

    def stored(session: Session, batch_id: int) -> None:
        current = session.get(Attempt, attempt_id)
        current.event_id = session.scalar(select(EventRow.id).where(EventRow.batch_id == batch_id))

    digest = hashlib.sha256(f"{attempt_id}:{exact(value)}".encode()).hexdigest()
    response = store_batch(
        svc,
        who,
        row,
        [event],
        f"attempt-{attempt_id}",
        digest,
        check=check,
        stored=stored,
        stamp_steps=True,
    )
    result = json.loads(response.body)
    return {
        "attempt": attempt_id,
        "item": attempt.item,
        "correct": correct,
        "outcome": value,
        "expected": None if question is None else question.answer,
        "batch_id": result["batch_id"],
        "events": result["learners"][learner],
    }


def _still_open(attempt: Attempt, now: float) -> None:
    if attempt.answered_at is not None:
        raise HTTPException(
            409,
            f"attempt {attempt.id!r} was already answered at {exact(attempt.answered_at)} "
            f"({utc_text(attempt.answered_at)}), outcome {exact(attempt.outcome)}; ask for a "
            "new attempt",
        )
    if now > attempt.expires_at:
        raise HTTPException(
            410,
            f"attempt {attempt.id!r} expired at {exact(attempt.expires_at)} "
            f"({utc_text(attempt.expires_at)}); ask for a new attempt",
        )


@router.post("/courses/{course}/attempts/{attempt}/answer", response_model=AnswerOut)
def post_answer(
    course: CoursePath, attempt: AttemptPath, body: AnswerIn, who: Member, svc: Svc
) -> dict:
    """Answer an attempt, once: the server grades the answer when the item has one to
    check, records the event and teaches the course's model and teacher with it."""
    with svc.db.read() as session:
        row = find_course(session, who, course)
        session.expunge(row)
    try:
        return answer_attempt(svc, who, row, attempt, body.answer, body.outcome, body.extra)
    except CourseGone:
        raise HTTPException(404, f"course {course!r} not found") from None
