"""Corrections of a learner's events by an admin: void wrong events, add corrected
ones, with an audit trail.

A voided event stays in the database, marked with the time and the correction
that voided it; it is left out of the learner's counts, of the exports used
for fitting, and of the course's student model and teacher, which are rebuilt
from the remaining events (replayed online, in time order) in the same
transaction. Each correction is kept (who, when, why, which events) and
listed by ``GET``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import numpy as np
from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field
from sqlalchemy import func, select, update

from mentor.engine import Engine
from mentor.events import EventLog
from mentor.service.api.courses import CoursePath
from mentor.service.api.deps import Admin, Svc, find_course, find_learner
from mentor.service.api.learners import LearnerPath
from mentor.service.api.practice import checked_time
from mentor.service.api.schemas import NAME, Finite, Outcome, Strict
from mentor.service.engines import CourseGone
from mentor.service.events_store import load_events
from mentor.service.tables import Correction, Course, Enrolment, EventRow, utcnow
from mentor.students import create_model
from mentor.teachers import create_teacher

router = APIRouter(tags=["corrections"])
#: Most events one correction may void or add.
MAX_CHANGES = 10_000


class CorrectedEventIn(Strict):
    """An event to add in place of a wrong one (its time checked as any event's)."""

    item: str = Field(min_length=1, max_length=200)
    time: Finite | str
    outcome: Outcome
    extra: dict[str, Finite] | None = Field(None, max_length=32)


class CorrectionIn(Strict):
    reason: str = Field(min_length=1, max_length=500, pattern=NAME)
    void: list[Annotated[int, Field(ge=1)]] = Field(
        default_factory=list, max_length=MAX_CHANGES, description="Ids of events to void."
    )
    void_future: bool = Field(
        False,
        description="Void every event of the learner whose time is beyond the server's "
        "clock plus the tolerance (events stored before the time rules, or by a clock "
        "that was wrong).",
    )
    add: list[CorrectedEventIn] = Field(default_factory=list, max_length=MAX_CHANGES)


class CorrectionOut(BaseModel):
    id: int
    course: str
    learner: str
    actor: str
    reason: str
    voided: list[int]
    added: list[int]
    events: int = Field(description="The learner's events in the course now (not voided).")
    created_at: datetime


def time_ordered(log: EventLog) -> EventLog:
    """``log`` as it is if every learner's times are in order, else sorted by time
    (stable), as the student models need."""
    n = len(log)
    if n < 2:
        return log
    by_learner = np.lexsort((np.arange(n), log.learner))
    learners = log.learner[by_learner]
    times = log.time[by_learner]
    if not np.any((learners[1:] == learners[:-1]) & (times[1:] < times[:-1])):
        return log
    return log[np.argsort(log.time, kind="stable")]


def _out(correction: Correction, course: str, learner: str, events: int) -> dict:
    return {
        "id": correction.id,
        "course": course,
        "learner": learner,
        "actor": correction.actor,
        "reason": correction.reason,
        "voided": correction.detail.get("voided", []),
        "added": correction.detail.get("added", []),
        "events": events,
        "created_at": correction.created_at,
    }


@router.post(
    "/courses/{course}/learners/{learner}/corrections",
    status_code=201,
    response_model=CorrectionOut,
)
def post_correction(
    course: CoursePath, learner: LearnerPath, body: CorrectionIn, who: Admin, svc: Svc
) -> dict:
    """Void some of a learner's events and/or add corrected ones. The voided events
    are kept and marked; the course's student model and teacher are rebuilt without
    them, in the same transaction; the correction is kept in the audit trail."""
    if not (body.void or body.void_future or body.add):
        raise HTTPException(422, "nothing to correct: give void, void_future or add")
    with svc.db.read() as session:
        row = find_course(session, who, course)
        person = find_learner(session, who, learner)
    now = svc.now()
    times = [checked_time(svc, row, i, e.time, now, "add") for i, e in enumerate(body.add)]
    try:
        with svc.engines.writing(row.id) as work:
            session = work.session
            engine = work.engine
            for index, event in enumerate(body.add):
                if event.item not in engine.domain.items:
                    raise HTTPException(
                        422, f"add[{index}].item: unknown item {event.item!r} in course {course!r}"
                    )
            mine = (EventRow.course_id == row.id) & (EventRow.learner_id == person.id)
            wanted = sorted(set(body.void))
            found: dict[int, int | None] = {}
            if wanted:
                query = select(EventRow.id, EventRow.correction_id).where(
                    mine, EventRow.id.in_(wanted)
                )
                found = dict(session.execute(query).all())
            for event_id in wanted:
                if event_id not in found:
                    raise HTTPException(
                        422,
                        f"void: event {event_id} is not one of learner {learner!r}'s events "
                        f"in course {course!r}",
                    )
                if found[event_id] is not None:
                    raise HTTPException(
                        422,
                        f"void: event {event_id} was already voided by correction "
                        f"{found[event_id]}",
                    )
            if body.void_future and row.clock == "wall":
                limit = now + svc.limits.future_tolerance_s
                wanted = sorted(
                    set(wanted)
                    | set(
                        session.scalars(
                            select(EventRow.id).where(
                                mine, EventRow.voided_at.is_(None), EventRow.time > limit
                            )
                        ).all()
                    )
                )
            correction = Correction(
                course_id=row.id,
                learner_id=person.id,
                actor=f"admin key {who.key_id}",
                reason=body.reason,
                detail={},
                created_at=utcnow(),
            )
            session.add(correction)
            session.flush()
            if wanted:
                session.execute(
                    update(EventRow)
                    .where(mine, EventRow.id.in_(wanted))
                    .values(voided_at=utcnow(), correction_id=correction.id)
                )
            added = [
                EventRow(
                    course_id=row.id,
                    batch_id=None,
                    learner_id=person.id,
                    item=event.item,
                    time=time,
                    outcome=event.outcome,
                    extra=event.extra or None,
                )
                for event, time in zip(body.add, times, strict=True)
            ]
            session.add_all(added)
            session.flush()
            correction.detail = {"voided": wanted, "added": [e.id for e in added]}
            count, last = session.execute(
                select(func.count(), func.max(EventRow.time)).where(
                    mine, EventRow.voided_at.is_(None)
                )
            ).one()
            enrolment = session.get(Enrolment, (row.id, person.id))
            if enrolment is None:
                enrolment = Enrolment(course_id=row.id, learner_id=person.id)
                session.add(enrolment)
            enrolment.events, enrolment.last_time = int(count), last
            current = session.get(Course, row.id)
            domain = engine.domain
            rebuilt = Engine(
                domain,
                create_model(current.model, domain),
                create_teacher(current.teacher, domain, current.seed),
            )
            log, _, _ = load_events(session, row.id)
            if len(log):
                try:
                    rebuilt.record(time_ordered(log))
                except (ValueError, OverflowError) as error:
                    raise HTTPException(
                        422,
                        "the course's student model or teacher cannot take the corrected "
                        f"events: {error}",
                    ) from None
            work.replacement = rebuilt
            session.flush()
            return _out(correction, course, learner, int(count))
    except CourseGone:
        raise HTTPException(404, f"course {course!r} not found") from None


@router.get("/courses/{course}/learners/{learner}/corrections", response_model=list[CorrectionOut])
def get_corrections(course: CoursePath, learner: LearnerPath, who: Admin, svc: Svc) -> list[dict]:
    """The audit trail: every correction of the learner's events in the course, oldest
    first."""
    with svc.db.read() as session:
        row = find_course(session, who, course)
        person = find_learner(session, who, learner)
        events = session.scalar(
            select(Enrolment.events).where(
                Enrolment.course_id == row.id, Enrolment.learner_id == person.id
            )
        )
        rows = session.scalars(
            select(Correction)
            .where(Correction.course_id == row.id, Correction.learner_id == person.id)
            .order_by(Correction.id)
        ).all()
        return [_out(c, course, learner, int(events or 0)) for c in rows]
