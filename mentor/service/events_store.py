"""Events in the database: writing a log's rows, reading rows back as an :class:`EventLog`."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from mentor.events import EventLog
from mentor.service.tables import Batch, Enrolment, EventRow, Learner

#: Rows per INSERT statement.
CHUNK = 1000


def insert_events(
    session: Session,
    course_id: int,
    batch_id: int | None,
    log: EventLog,
    learner_ids: Mapping[str, int],
) -> dict[str, int]:
    """Insert the log's events (in order) and advance the learners' enrolments.

    Returns each learner's number of events in the course afterwards.
    """
    names = list(log.extra)
    columns = [np.asarray(log.extra[name], dtype=np.float64).tolist() for name in names]
    learners = log.learner.tolist()
    items = log.item.tolist()
    times = log.time.tolist()
    outcomes = log.outcome.tolist()
    rows = []
    for i in range(len(log)):
        extra = {
            name: columns[j][i] for j, name in enumerate(names) if not math.isnan(columns[j][i])
        }
        rows.append(
            {
                "course_id": course_id,
                "batch_id": batch_id,
                "learner_id": learner_ids[learners[i]],
                "item": items[i],
                "time": times[i],
                "outcome": outcomes[i],
                "extra": extra or None,
            }
        )
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(EventRow), rows[start : start + CHUNK])
    # Enrolments: count and latest time per learner.
    totals: dict[str, tuple[int, float]] = {}
    for learner, time in zip(learners, times, strict=True):
        count, last = totals.get(learner, (0, -math.inf))
        totals[learner] = (count + 1, max(last, time))
    ids = [learner_ids[x] for x in totals]
    existing = {
        row.learner_id: row
        for row in session.scalars(
            select(Enrolment).where(Enrolment.course_id == course_id, Enrolment.learner_id.in_(ids))
        )
    }
    after: dict[str, int] = {}
    for learner, (count, last) in totals.items():
        row = existing.get(learner_ids[learner])
        if row is None:
            row = Enrolment(course_id=course_id, learner_id=learner_ids[learner], events=0)
            session.add(row)
        row.events = (row.events or 0) + count
        row.last_time = last if row.last_time is None else max(row.last_time, last)
        after[learner] = row.events
    session.flush()
    return after


def load_batches(
    session: Session, course_id: int, after: int, upto: int
) -> list[tuple[int, EventLog]]:
    """The course's batches with versions ``after + 1 .. upto``, in order, each as
    ``(version, log)``: the log the batch was applied as (its events in the order
    they were stored; its extra columns those its events had)."""
    batches = session.execute(
        select(Batch.id, Batch.version)
        .where(Batch.course_id == course_id, Batch.version > after, Batch.version <= upto)
        .order_by(Batch.version)
    ).all()
    if not batches:
        return []
    log, _, batch_ids = _events(
        session,
        select().where(
            EventRow.course_id == course_id,
            EventRow.batch_id.in_([b.id for b in batches]),
        ),
    )
    owner = np.array(batch_ids, dtype=np.int64)
    found = []
    for batch in batches:
        part = log[np.flatnonzero(owner == batch.id)]
        extra = {name: values for name, values in part.extra.items() if not np.isnan(values).all()}
        found.append(
            (
                batch.version,
                EventLog(part.learner, part.item, part.time, part.outcome, extra, validate=False),
            )
        )
    return found


def load_events(
    session: Session,
    course_id: int,
    learner_id: int | None = None,
    after: int | None = None,
    limit: int | None = None,
    voided: bool = False,
) -> tuple[EventLog, np.ndarray, list[int | None]]:
    """The course's events (one learner's, when given) in the order they were stored,
    as a log whose extra columns are the union of the events' extra fields (NaN
    where an event lacks one); also their ids and batch ids. Voided events are
    left out unless ``voided``."""
    query = select().where(EventRow.course_id == course_id)
    if not voided:
        query = query.where(EventRow.voided_at.is_(None))
    if learner_id is not None:
        query = query.where(EventRow.learner_id == learner_id)
    if after is not None:
        query = query.where(EventRow.id > after)
    if limit is not None:
        query = query.limit(limit)
    return _events(session, query)


def _events(session: Session, where) -> tuple[EventLog, np.ndarray, list[int | None]]:
    """The events selected by ``where`` (a ``select()`` with conditions and limit),
    in the order they were stored."""
    query = (
        where.add_columns(
            EventRow.id,
            EventRow.batch_id,
            Learner.external_id,
            EventRow.item,
            EventRow.time,
            EventRow.outcome,
            EventRow.extra,
        )
        .join_from(EventRow, Learner, Learner.id == EventRow.learner_id)
        .order_by(EventRow.id)
    )
    rows = session.execute(query).all()
    names = sorted({name for row in rows if row.extra for name in row.extra})
    extra = {
        name: np.array([(row.extra or {}).get(name, math.nan) for row in rows], dtype=np.float64)
        for name in names
    }
    log = EventLog(
        np.array([row.external_id for row in rows], dtype=str),
        np.array([row.item for row in rows], dtype=str),
        np.array([row.time for row in rows], dtype=np.float64),
        np.array([row.outcome for row in rows], dtype=np.float64),
        extra,
        validate=False,
    )
    return log, np.array([row.id for row in rows], dtype=np.int64), [r.batch_id for r in rows]
