"""Tutoring sessions in the service: opened after a wrong answer, answered turn by
turn, each turn an event in the course's log.

A session is opened for an attempt the learner answered wrong
(:mod:`mentor.service.api.attempts`), over the item's generated question and its
steps (:class:`mentor.tutor.StepPlanner`). Each step's prior is the course's
student model's P(success) on the easiest item of the step's skill, for this
learner, now. An item with a written answer (``question`` and ``answer``
attributes; a ``code`` attribute makes it a code-debugging item whose answer is
the corrected line) is tutored by a language model
(:class:`mentor.tutor.LLMPlanner`) when the service has one: ``MENTOR_LLM_URL``
and ``MENTOR_LLM_MODEL`` (:meth:`mentor.llm.OpenAIChat.from_env`), or a model set
as ``service.tutor_chat``; without one such items cannot be tutored (422), and a
model that fails mid-session is a 503 (the turn is not recorded).

Each answer (or hint asked for) is stored with the events it produces as one
batch (:func:`mentor.service.api.practice.store_batch`), so the course's model
and teacher learn from tutoring as from practice. Which answers are events, and
scored how, is ASSISTments' convention (:mod:`mentor.tutor.session`): the first
action on each sub-question asked afresh, 0 when it was a hint asked for; helped
answers and the answers to the whole question (whose row is the opening
attempt) are none. A step's event is logged on the easiest item of the step's
skill: the item whose prediction gave the step its prior, so the tutor's
estimate and the student model read and write the same knowledge component
(with the per-item BKT of the demo, the skill's first level: a sub-question is
one application of the skill, the level-1 kind of question). Each carries
``extra`` ``tutor = 1`` and ``hints`` (1 when the first action was a hint), so an
analysis can leave tutoring out, as ASSISTments' ``original = 0`` marks its
scaffolding rows. The session's new state is written under the same write lock and
transaction, after checking that nobody answered the same turn meanwhile (a
second tab, a resent form: 409).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from mentor.domain import Domain
from mentor.llm import LLMError
from mentor.service.api.attempts import find_attempt
from mentor.service.api.practice import store_batch
from mentor.service.api.schemas import EventIn
from mentor.service.engines import CourseGone, Writing
from mentor.service.questions import question_of
from mentor.service.security import Principal
from mentor.service.tables import Course, Learner
from mentor.service.tutor_tables import TutorSessionRow
from mentor.tutor import FreeItem, LLMPlanner, Reply, StepPlanner, TutorError, TutorSession, resume

#: Longest answer to a tutor's question.
MAX_ANSWER = 200


@dataclass
class Opened:
    """A session row and the tutor's latest reply (the opening, or the last answer's)."""

    row: TutorSessionRow
    reply: Reply | None


def easiest_items(domain: Domain) -> dict[str, str]:
    """Each skill's easiest item (lowest difficulty, then first in the course)."""
    best: dict[str, tuple[float, int, str]] = {}
    for position, item in enumerate(domain.items):
        found = domain.item(item)
        key = (
            float(found.difficulty if found.difficulty is not None else 0.5),
            position,
            str(item),
        )
        for skill in found.skills:
            if str(skill) not in best or key < best[str(skill)]:
                best[str(skill)] = key
    return {skill: key[2] for skill, key in best.items()}


class _NoModel:
    """Stands in for the language model when reading a session needs no call."""

    def complete(self, messages: Any, **options: Any) -> Any:
        raise LLMError("no language model is configured (MENTOR_LLM_URL, MENTOR_LLM_MODEL)")


_FROM_ENV: dict[tuple[str, str], Any] = {}


def chat_of(svc: Any) -> Any | None:
    """The service's language model for tutoring, or None."""
    chat = getattr(svc, "tutor_chat", None)
    if chat is not None:
        return chat
    import os

    url, model = os.environ.get("MENTOR_LLM_URL"), os.environ.get("MENTOR_LLM_MODEL")
    if not url or not model:
        return None
    if (url, model) not in _FROM_ENV:
        from mentor.llm import OpenAIChat

        _FROM_ENV[(url, model)] = OpenAIChat.from_env()
    return _FROM_ENV[(url, model)]


def load(svc: Any, state: dict[str, Any]) -> TutorSession:
    """A saved session, with the service's model for an LLM session (a stand-in that
    refuses calls when there is none: reading needs no call)."""
    if state["planner"].get("kind") == "llm":
        return resume(state, chat=chat_of(svc) or _NoModel())
    return resume(state)


def _model_failed(error: LLMError) -> HTTPException:
    return HTTPException(503, f"the tutor's language model did not answer: {error}")


def _gone(row: Course) -> HTTPException:
    return HTTPException(404, f"course {row.slug!r} not found")


def _check_caller(who: Principal) -> None:
    if who.kind == "grader":
        raise HTTPException(403, "a grader key posts outcomes; tutoring is for learners")


def open_session(
    svc: Any, who: Principal, row: Course, attempt_id: str, answer: str | None
) -> Opened:
    """The tutoring session of a wrongly answered attempt: the one opened before,
    or a new one (see the module docstring)."""
    _check_caller(who)
    with svc.db.read() as session:
        attempt, learner = find_attempt(session, who, row, attempt_id)
        existing = session.scalar(
            select(TutorSessionRow).where(TutorSessionRow.attempt_id == attempt_id)
        )
        if existing is not None:
            session.expunge(existing)
            return Opened(existing, None)
    if attempt.answered_at is None:
        raise HTTPException(409, f"attempt {attempt_id!r} is not answered yet: answer it first")
    if attempt.outcome is not None and attempt.outcome >= 0.5:
        raise HTTPException(409, f"attempt {attempt_id!r} was answered right: nothing to work out")
    t = svc.now() if row.clock == "wall" else None
    try:
        with svc.engines.reading(row.id) as (_, engine):
            domain = engine.domain
            question, _ = question_of(domain, attempt.item, learner, attempt.step)
            chat = chat_of(svc)
            if question is None or not (question.steps or chat is not None):
                raise HTTPException(
                    422,
                    f"item {attempt.item!r} has no steps to work out "
                    "(generated questions that know their steps can be "
                    "tutored, and items with a written answer when the "
                    "service has a language model)",
                )
            easiest = easiest_items(domain)
            skills = sorted({s.skill for s in question.steps if s.skill in easiest})
            items = [easiest[s] for s in skills] + [attempt.item]
            predicted = [float(p) for p in engine.model.predict(learner, items, t)]
            priors = dict(zip(skills, predicted, strict=False))
            own = [str(s) for s in domain.item(attempt.item).skills]
            attributes = domain.item(attempt.item).attributes
    except CourseGone:
        raise _gone(row) from None
    if answer is not None and answer.strip() and question.check(answer):
        raise HTTPException(
            422,
            f"answer: {answer!r} is a right answer to attempt "
            f"{attempt_id!r}; send the wrong answer that was given",
        )
    wrong = (answer or "").strip()
    if question.steps:
        planner: Any = StepPlanner(question, priors, own[0] if own else "")
    else:
        code = attributes.get("code")
        item = FreeItem(
            attempt.item,
            "code" if isinstance(code, str) else "text",
            question.text,
            question.answer,
            code if isinstance(code, str) else "",
            own[0] if own else "",
        )
        planner = LLMPlanner(chat, item, wrong, prior=predicted[-1])
    tutor = TutorSession(planner, wrong_answer=wrong)
    try:
        reply = tutor.start()
    except LLMError as error:
        raise _model_failed(error) from None
    now = svc.now()
    new = TutorSessionRow(
        id=secrets.token_hex(16),
        course_id=row.id,
        learner_id=attempt.learner_id,
        attempt_id=attempt_id,
        item=attempt.item,
        status=tutor.status_,
        turns=0,
        state=tutor.state_dict(),
        stuck=[],
        created_at=now,
        updated_at=now,
    )
    try:
        with svc.db.write() as session:
            session.add(new)
            session.flush()
            session.expunge(new)
    except IntegrityError:  # opened at the same moment by another request
        with svc.db.read() as session:
            existing = session.scalar(
                select(TutorSessionRow).where(TutorSessionRow.attempt_id == attempt_id)
            )
            session.expunge(existing)
        return Opened(existing, None)
    return Opened(new, reply)


def find_session(
    svc: Any, who: Principal, row: Course, session_id: str
) -> tuple[TutorSessionRow, str]:
    """The session and its learner's id, if the caller may see it (404 otherwise: another
    learner's session is not revealed)."""
    with svc.db.read() as session:
        found = session.execute(
            select(TutorSessionRow, Learner.external_id)
            .join(Learner, Learner.id == TutorSessionRow.learner_id)
            .where(TutorSessionRow.id == session_id, TutorSessionRow.course_id == row.id)
        ).one_or_none()
        if found is None or (who.kind == "learner" and found[0].learner_id != who.learner_id):
            raise HTTPException(
                404, f"tutoring session {session_id!r} not found in course {row.slug!r}"
            )
        session.expunge(found[0])
    return found[0], found[1]


def take_turn(
    svc: Any,
    who: Principal,
    row: Course,
    session_id: str,
    answer: str | None = None,
    hint: bool = False,
) -> Opened:
    """The learner's answer (or a hint asked for), stored with its events."""
    _check_caller(who)
    found, learner = find_session(svc, who, row, session_id)
    if found.status != "active":
        raise HTTPException(
            409, f"tutoring session {session_id!r} is {found.status}: it takes no more answers"
        )
    tutor = load(svc, found.state)
    try:
        reply = tutor.hint() if hint else tutor.answer(answer or "")
    except LLMError as error:
        raise _model_failed(error) from None
    except TutorError as error:
        raise HTTPException(422, str(error)) from None
    try:
        with svc.engines.reading(row.id) as (_, engine):
            easiest = easiest_items(engine.domain)
    except CourseGone:
        raise _gone(row) from None
    events = [
        EventIn(
            learner=learner,
            item=easiest.get(e.skill, found.item) if e.kind == "step" else found.item,
            outcome=e.outcome,
            extra={"tutor": 1.0, "hints": float(e.hints)},
        )
        for e in reply.events
    ]
    before = found.turns
    state = tutor.state_dict()
    now = svc.now()
    texts = {a.id: a.text for a in tutor.attributes_}

    def check(work: Writing) -> None:
        current = work.session.get(TutorSessionRow, session_id, populate_existing=True)
        if current is None or current.turns != before or current.status != "active":
            raise HTTPException(
                409,
                f"tutoring session {session_id!r} moved on meanwhile (in "
                "another tab?); load it again",
            )
        current.state = state
        current.turns = tutor.turns()
        current.status = tutor.status_
        current.stuck = [texts.get(a, a) for a in tutor.stuck()]
        current.updated_at = now

    digest = hashlib.sha256(f"{session_id}:{before}:{answer}:{hint}".encode()).hexdigest()
    try:
        store_batch(
            svc,
            who,
            row,
            events,
            f"tutor-{session_id}-{before}",
            digest,
            check=check,
            stamp_steps=True,
        )
    except CourseGone:
        raise _gone(row) from None
    found, _ = find_session(svc, who, row, session_id)
    return Opened(found, reply)


def session_out(
    svc: Any, found: TutorSessionRow, learner: str, reply: Reply | None, course: str
) -> dict[str, Any]:
    """A session as the API returns it."""
    tutor = load(svc, found.state)
    current = tutor.current
    return {
        "id": found.id,
        "course": course,
        "learner": learner,
        "item": found.item,
        "attempt": found.attempt_id,
        "status": found.status,
        "turns": found.turns,
        "question": tutor.planner.given(),
        "prompt": current.text if current is not None else None,
        "feedback": reply.feedback if reply is not None else None,
        "events": [
            {"attribute": e.attribute, "skill": e.skill, "outcome": e.outcome, "hints": e.hints}
            for e in (reply.events if reply is not None else [])
        ],
        "attributes": [
            {
                "id": a.id,
                "text": a.text,
                "skill": a.skill,
                "p": a.p,
                "status": a.status,
                "misconceptions": list(a.misconceptions),
            }
            for a in tutor.attributes_
        ],
        "transcript": tutor.transcript(),
        "stuck": list(found.stuck),
        "created_at": found.created_at,
        "updated_at": found.updated_at,
    }


def list_sessions(
    svc: Any, row: Course, learner: str | None = None, limit: int = 200
) -> list[tuple[TutorSessionRow, str]]:
    """The course's sessions, newest first (one learner's if ``learner``)."""
    with svc.db.read() as session:
        query = (
            select(TutorSessionRow, Learner.external_id)
            .join(Learner, Learner.id == TutorSessionRow.learner_id)
            .where(TutorSessionRow.course_id == row.id)
            .order_by(TutorSessionRow.created_at.desc(), TutorSessionRow.id)
            .limit(limit)
        )
        if learner is not None:
            query = query.where(Learner.external_id == learner)
        rows = session.execute(query).all()
        for r in rows:
            session.expunge(r[0])
    return [(r[0], r[1]) for r in rows]


def stuck_points(rows: list[tuple[TutorSessionRow, str]]) -> list[dict[str, Any]]:
    """Where learners got stuck: per item and attribute, how many sessions needed a
    teaching hint there, most first."""
    counts: dict[tuple[str, str], set[str]] = {}
    for found, _ in rows:
        for attribute in found.stuck:
            counts.setdefault((found.item, attribute), set()).add(found.id)
    out = [
        {"item": item, "attribute": attribute, "sessions": len(ids)}
        for (item, attribute), ids in counts.items()
    ]
    return sorted(out, key=lambda r: (-r["sessions"], r["item"], r["attribute"]))
