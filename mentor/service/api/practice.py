"""Practice: posting events in batches (idempotent), the next items, a learner's
state, and exporting events."""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, Header, HTTPException, Query
from fastapi.responses import FileResponse, JSONResponse
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from mentor.events import EventLog, write_csv, write_parquet
from mentor.service.api.courses import CoursePath
from mentor.service.api.deps import (
    Credentials,
    Member,
    Svc,
    find_course,
    find_learner,
    member_of,
    own_practice,
    principal_of,
    unauthorized,
)
from mentor.service.api.learners import LearnerPath, ensure_learners
from mentor.service.api.schemas import (
    EXTRA_NAME,
    LEARNER_ID,
    BatchOut,
    EventBatchIn,
    EventIn,
    EventPageOut,
    NextOut,
    StateOut,
)
from mentor.service.db import retrying
from mentor.service.engines import (
    CourseGone,
    EngineBusy,
    EngineStale,
    Head,
    Writing,
    memory_model,
    select_items,
)
from mentor.service.events_store import insert_events, load_events
from mentor.service.quotas import charge_events, quotas_of
from mentor.service.security import ADMIN_PREFIX, LEARNER_PREFIX, Principal, token_hash
from mentor.service.tables import (
    ApiKey,
    Batch,
    Course,
    CourseState,
    Enrolment,
    EventRow,
    Learner,
    utcnow,
)
from mentor.service.timerules import TimeRefused, event_time, exact

router = APIRouter(tags=["practice"])
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
_EXTRA = re.compile(EXTRA_NAME)
CORE = ("learner", "item", "time", "outcome")


def plain(value: Any) -> Any:
    """JSON-able data: NumPy scalars and arrays as Python values, NaN and
    infinities as null, mapping keys as strings."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _unprocessable(message: str) -> HTTPException:
    return HTTPException(422, message)


def checked_time(
    svc: Any, course: Course, index: int, raw: float | str, now: float, field: str = "events"
) -> float:
    """The time ``raw`` of ``field[index]`` as the course stores it (422 if refused:
    :func:`mentor.service.timerules.event_time`)."""
    try:
        return event_time(
            raw,
            clock=course.clock,
            unit=course.time_unit,
            now=now,
            tolerance=svc.limits.future_tolerance_s,
        )
    except TimeRefused as error:
        raise _unprocessable(f"{field}[{index}].time: {error}") from None


@router.post(
    "/courses/{course}/events",
    status_code=201,
    response_model=BatchOut,
)
def post_events(
    course: CoursePath,
    body: EventBatchIn,
    who: Member,
    svc: Svc,
    idempotency_key: Annotated[
        str,
        Header(
            description="Unique per batch (a UUID, say). A retried batch with the same key "
            "and body is stored once and gets the first response again (with the header "
            "Idempotent-Replayed: true); the same key with another body is refused (422)."
        ),
    ],
) -> Any:
    """Store a batch of outcomes graded elsewhere and teach the course's student model
    and teacher with them, in one transaction: all of the batch or none of it.

    Needs an admin key or a *grader* key (``POST /v1/keys`` with ``role: grader``):
    a learner token cannot post outcomes, it answers the attempts it was issued
    (``POST .../learners/{learner}/attempts``), which the server grades."""
    if who.kind == "learner":
        raise HTTPException(
            403,
            "a learner token cannot post outcomes: it answers the attempts it is issued "
            f"(POST /v1/courses/{course}/learners/{who.learner}/attempts); outcomes graded "
            "by an app are posted with a grader key",
        )
    if not IDEMPOTENCY_KEY.match(idempotency_key):
        raise _unprocessable(
            "Idempotency-Key must be 1 to 255 printable ASCII characters without spaces"
        )
    limit = svc.limits.max_batch_events
    events = body.events
    if not events:
        raise _unprocessable("the batch has no events")
    if len(events) > limit:
        raise _unprocessable(
            f"the batch has {len(events)} events; at most {limit} are allowed per request"
        )
    request_hash = hashlib.sha256(
        json.dumps(body.model_dump(mode="json"), sort_keys=True).encode()
    ).hexdigest()
    with svc.db.read_once() as session:  # one statement: no transaction's round trips
        row = find_course(session, who, course)
    return store_batch(svc, who, row, events, idempotency_key, request_hash)


def store_batch(
    svc: Any,
    who: Principal,
    row: Course,
    events: list[EventIn],
    idempotency_key: str,
    request_hash: str,
    check: Callable[[Writing], None] | None = None,
    stored: Callable[[Session, int], None] | None = None,
    stamp_steps: bool = False,
    field: str = "events",
) -> JSONResponse:
    """Store ``events`` in course ``row`` as one batch under ``idempotency_key``
    (a retry with the same ``request_hash`` gets the first response again) and
    teach the course's engine with them, in one transaction.

    An event without a time gets the server's clock in a wall-clock course; in a
    step-clock course, with ``stamp_steps`` (the answers to attempts that the
    server records: :mod:`.attempts`), the learner's previous time plus one. ``check`` runs
    under the course's write lock, before anything is written (an answered
    attempt raises there); ``stored`` in the same transaction once the events are
    inserted, with the batch's id. ``field`` names the events in errors about times."""
    course = row.slug
    learners: list[str] = []
    for index, event in enumerate(events):
        if event.learner is None:
            if who.kind != "learner":
                raise _unprocessable(
                    f"events[{index}].learner: required with an admin or grader key"
                )
            learners.append(who.learner)
        else:
            own_practice(who, event.learner)
            learners.append(event.learner)
    times: list[float | None] = []  # None: stamped under the lock
    now = svc.now()
    for index, event in enumerate(events):
        if event.time is None:
            if row.clock != "wall" and not stamp_steps:
                raise _unprocessable(
                    f"events[{index}].time: required in a course whose clock is 'steps'"
                )
            times.append(None)
        else:
            times.append(checked_time(svc, row, index, event.time, now, field))
    names = sorted({name for event in events for name in (event.extra or {})})
    for name in names:
        if not _EXTRA.match(name) or name in CORE:
            raise _unprocessable(
                f"extra field {name!r}: names are letters, digits and _ (not starting with a "
                f"digit), up to 64 characters, other than {', '.join(CORE)}"
            )
    extra = {
        name: np.array(
            [float((event.extra or {}).get(name, math.nan)) for event in events], dtype=np.float64
        )
        for name in names
    }
    items = [str(event.item) for event in events]
    try:
        with svc.engines.writing(row.id) as work:
            session = work.session
            done = session.scalar(
                select(Batch).where(
                    Batch.course_id == row.id,
                    Batch.principal == who.scope,
                    Batch.idempotency_key == idempotency_key,
                )
            )
            if check is not None:
                check(work)
            if done is not None:
                if done.request_hash != request_hash:
                    raise _unprocessable(
                        f"Idempotency-Key {idempotency_key!r} was already used for a different "
                        "batch; use a new key for a new batch"
                    )
                return JSONResponse(
                    done.response,
                    status_code=done.status_code,
                    headers={"Idempotent-Replayed": "true"},
                )
            quota = quotas_of(session, who.workspace_id, svc.limits.quotas).events_per_day
            charge_events(session, who.workspace_id, len(events), now, quota)
            engine = work.engine
            known = engine.domain.items
            for index, item in enumerate(items):
                if item not in known:
                    raise _unprocessable(
                        f"events[{index}].item: unknown item {item!r} in course {course!r}"
                    )
            ids = ensure_learners(session, who.workspace_id, learners)
            last = dict(
                session.execute(
                    select(Learner.external_id, Enrolment.last_time)
                    .join(Learner, Learner.id == Enrolment.learner_id)
                    .where(Enrolment.course_id == row.id, Enrolment.learner_id.in_(ids.values()))
                ).all()
            )
            now = svc.now()
            for index, (learner, time) in enumerate(zip(learners, times, strict=True)):
                previous = last.get(learner)
                if time is None and row.clock != "wall":
                    time = times[index] = 0.0 if previous is None else previous + 1.0
                elif time is None:
                    # Never before the learner's previous event, even if this server's
                    # clock is behind the one that stamped it.
                    time = times[index] = now if previous is None else max(now, previous)
                if previous is not None and time < previous:
                    raise _unprocessable(
                        f"events[{index}].time: {exact(time)} is before learner {learner!r}'s "
                        f"previous event at {exact(previous)} (times must not go backwards; "
                        "an admin can void a wrong event: POST "
                        f"/v1/courses/{course}/learners/{learner}/corrections)"
                    )
                last[learner] = time
            log = EventLog(learners, items, times, [e.outcome for e in events], extra)
            work.changed = True
            try:
                engine.record(log)
            except (ValueError, OverflowError) as error:
                # A model or teacher that cannot take these events (a time past
                # its calendar, say): the batch is refused whole, the engine
                # that may have changed is dropped and loaded again.
                raise _unprocessable(
                    f"the course's student model ({type(engine.model).__name__}) or teacher "
                    f"({type(engine.teacher).__name__}) cannot take this batch: {error}"
                ) from None
            batch = Batch(
                course_id=row.id,
                principal=who.scope,
                idempotency_key=idempotency_key,
                request_hash=request_hash,
                status_code=201,
                response={},
                created_at=utcnow(),
                version=work.next_version,
            )
            session.add(batch)
            session.flush()
            counts = insert_events(session, row.id, batch.id, log, ids)
            if stored is not None:
                stored(session, batch.id)
            response = {
                "batch_id": batch.id,
                "course": course,
                "accepted": len(log),
                "learners": counts,
            }
            batch.response = response
            session.flush()
    except CourseGone:
        raise HTTPException(404, f"course {course!r} not found") from None
    return JSONResponse(response, status_code=201)


@dataclass(frozen=True)
class Practice:
    """A learner's practice in a course: the course's row id, seed and clock, and
    the learner's number of events there and the time of the latest."""

    course_id: int
    seed: int
    clock: str
    events: int
    last_time: float | None
    #: The course's versions, read in the same query (saves the engine store a
    #: round trip to the database).
    head: Head | None = None


def find_practice(session: Session, who: Principal, course: str, learner: str) -> Practice:
    """The caller's course ``course`` and learner ``learner`` in one query (404 for
    either if it is not in the caller's workspace; 403 for another learner's)."""
    own_practice(who, learner)
    row = session.execute(
        select(
            Course.id,
            Course.seed,
            Course.clock,
            Learner.id,
            Enrolment.events,
            Enrolment.last_time,
            CourseState.version,
            CourseState.snapshot_version,
            CourseState.base_version,
        )
        .select_from(Course)
        .outerjoin(CourseState, CourseState.course_id == Course.id)
        .outerjoin(
            Learner,
            (Learner.workspace_id == Course.workspace_id) & (Learner.external_id == learner),
        )
        .outerjoin(
            Enrolment, (Enrolment.course_id == Course.id) & (Enrolment.learner_id == Learner.id)
        )
        .where(Course.workspace_id == who.workspace_id, Course.slug == course)
    ).one_or_none()
    if row is None:
        raise HTTPException(404, f"course {course!r} not found")
    course_id, seed, clock, learner_id, events, last_time, *versions = row
    if learner_id is None:
        raise HTTPException(404, f"learner {learner!r} not found")
    head = None if versions[0] is None else Head(*versions)
    return Practice(course_id, seed, clock, int(events or 0), last_time, head)


def _practice_query(caller_table, who_columns: tuple[str, ...]):
    """The query of :func:`caller_and_practice` for tokens kept in ``caller_table``
    (built once, in plain table columns: no ORM work per request; its SQL is
    compiled once and cached)."""
    caller = caller_table.alias("caller")
    courses, states = Course.__table__, CourseState.__table__
    learners, enrolments = Learner.__table__, Enrolment.__table__
    return (
        select(
            *(caller.c[name] for name in who_columns),
            courses.c.id,
            courses.c.seed,
            courses.c.clock,
            learners.c.id,
            enrolments.c.events,
            enrolments.c.last_time,
            states.c.version,
            states.c.snapshot_version,
            states.c.base_version,
        )
        .select_from(caller)
        .outerjoin(
            courses,
            (courses.c.workspace_id == caller.c.workspace_id)
            & (courses.c.slug == bindparam("course")),
        )
        .outerjoin(states, states.c.course_id == courses.c.id)
        .outerjoin(
            learners,
            (learners.c.workspace_id == caller.c.workspace_id)
            & (learners.c.external_id == bindparam("learner")),
        )
        .outerjoin(
            enrolments,
            (enrolments.c.course_id == courses.c.id) & (enrolments.c.learner_id == learners.c.id),
        )
        .where(caller.c.token_hash == bindparam("token_hash"))
    )


_BY_LEARNER_TOKEN = _practice_query(Learner.__table__, ("id", "workspace_id", "external_id"))
_BY_KEY = _practice_query(ApiKey.__table__, ("id", "workspace_id", "revoked_at", "role"))


def caller_and_practice(
    svc: Any, credentials: Any, session: Session, course: str, learner: str
) -> tuple[Principal, Practice]:
    """:func:`principal_of` and :func:`find_practice` in one query for a learner
    token or a workspace key (one round trip to the database instead of two, the
    same answers: 401, 403 and 404 as they give them); others go the long way."""
    token = credentials.credentials.strip() if credentials is not None else ""
    if token.startswith(LEARNER_PREFIX):
        query, n = _BY_LEARNER_TOKEN, 3
    elif token.startswith(ADMIN_PREFIX):
        query, n = _BY_KEY, 4
    else:
        who = member_of(principal_of(svc, credentials, session))
        return who, find_practice(session, who, course, learner)
    row = session.execute(
        query, {"token_hash": token_hash(token), "course": course, "learner": learner}
    ).one_or_none()
    if row is None:
        raise unauthorized("invalid token")
    if n == 3:
        who = Principal("learner", workspace_id=row[1], learner_id=row[0], learner=row[2])
    elif row[2] is not None:
        raise unauthorized("this key was revoked")
    else:
        role = "grader" if row[3] == "grader" else "admin"
        who = Principal(role, workspace_id=row[1], key_id=row[0])
    own_practice(who, learner)
    course_id, seed, clock, learner_id, events, last_time, *versions = row[n:]
    if course_id is None:
        raise HTTPException(404, f"course {course!r} not found")
    if learner_id is None:
        raise HTTPException(404, f"learner {learner!r} not found")
    head = None if versions[0] is None else Head(*versions)
    return who, Practice(course_id, seed, clock, int(events or 0), last_time, head)


def _t(svc, clock: str, t: float | None) -> float | None:
    if t is None and clock == "wall":
        return svc.now()
    return t


FiniteQuery = Annotated[
    float | None,
    Query(
        allow_inf_nan=False,
        description="The time to decide for (default: now for a wall-clock course, else the "
        "learner's latest event).",
    ),
]


@router.get("/courses/{course}/learners/{learner}/next", response_model=NextOut)
async def get_next(
    course: CoursePath,
    learner: LearnerPath,
    credentials: Credentials,
    svc: Svc,
    k: Annotated[int, Query(ge=1, description="How many items.")] = 1,
    t: FiniteQuery = None,
) -> dict:
    """The next items for the learner, from the course's teacher. Safe to repeat: the
    same stored state gives the same items (a fresh draw after each new event)."""
    # The hot path. On SQLite it is a few in-process reads of under a millisecond
    # each and the teacher's choice, run on the event loop itself: handing every
    # request to a worker thread cost more CPU than the work and, when a batch held
    # the course, queued dozens of threads on its lock, each waiting for the GIL in
    # turn (p99 of seconds). Only while a writer holds the course does the request
    # go to a thread and wait there. PostgreSQL reads wait on the network, so there
    # the request always runs in a thread, letting the loop serve others meanwhile.
    # The caller, the course, the learner and the course's version: one query (on
    # PostgreSQL one round trip when the engine is current; 3 before, 9 before that).
    if svc.db.in_process:
        try:
            return _next_items(svc, credentials, course, learner, k, t, wait=False)
        except EngineBusy:
            pass
    return await run_in_threadpool(
        retrying, _next_items, svc, credentials, course, learner, k, t, wait=True
    )


def _next_items(
    svc: Any,
    credentials: Any,
    course: str,
    learner: str,
    k: int,
    t: float | None,
    wait: bool,
) -> dict:
    # On PostgreSQL the read runs without a transaction (one query, one round trip;
    # the pooled connection is pinged only if it sat idle, mentor.service.db) when
    # the process's engine is current, as it is for all but the first request
    # after a change; otherwise again in one transaction, which brings the engine
    # up to date from one snapshot of the course.
    once = not svc.db.in_process
    while True:
        try:
            with svc.db.read_once() if once else svc.db.read() as session:
                who, practice = caller_and_practice(svc, credentials, session, course, learner)
                if k > svc.limits.max_next_items:
                    raise _unprocessable(
                        f"k is {k}; at most {svc.limits.max_next_items} items per request"
                    )
                t = _t(svc, practice.clock, t)
                with svc.engines.reading(
                    practice.course_id, session, wait=wait, head=practice.head, current_only=once
                ) as (_, engine):
                    items = select_items(engine, learner, k, t, practice.seed, practice.events)
        except EngineStale:
            once = False
            continue
        except CourseGone:
            raise HTTPException(404, f"course {course!r} not found") from None
        return {"course": course, "learner": learner, "t": t, "items": [str(i) for i in items]}


@router.get("/courses/{course}/learners/{learner}/state", response_model=StateOut)
def get_state(
    course: CoursePath,
    learner: LearnerPath,
    who: Member,
    svc: Svc,
    t: FiniteQuery = None,
    retention: Annotated[
        float, Query(gt=0.0, lt=1.0, description="Recall below which a review is due.")
    ] = 0.9,
) -> dict:
    """What the course's student model believes about the learner: mastery per skill,
    and for memory models the predicted recall of each reviewed item and the reviews due."""
    try:
        with svc.db.read() as session:
            practice = find_practice(session, who, course, learner)
            t = _t(svc, practice.clock, t)
            with svc.engines.reading(practice.course_id, session, head=practice.head) as (
                _,
                engine,
            ):
                model = engine.model
                state = plain(engine.state(learner))
                recall = None
                due: list[dict[str, Any]] = []
                if memory_model(model):
                    seen = [str(item) for item in (state.get("reviews") or {})]
                    predicted = plain(model.predict(learner, seen, t)) if seen else []
                    recall = dict(zip(seen, predicted, strict=True))
                    due = sorted(
                        (
                            {"item": item, "recall": p}
                            for item, p in recall.items()
                            if p is not None and p < retention
                        ),
                        key=lambda d: (d["recall"], d["item"]),
                    )
    except CourseGone:
        raise HTTPException(404, f"course {course!r} not found") from None
    mastery = state.pop("mastery", {}) or {}
    return {
        "course": course,
        "learner": learner,
        "t": t,
        "events": practice.events,
        "last_time": practice.last_time,
        "model": model.name,
        "mastery": mastery,
        "recall": recall,
        "due": due,
        "details": state,
    }


@router.get(
    "/courses/{course}/events",
    responses={
        200: {
            "description": "The events: JSON pages, or a CSV or Parquet file.",
            "content": {
                "application/json": {"schema": EventPageOut.model_json_schema()},
                "text/csv": {"schema": {"type": "string"}},
                "application/vnd.apache.parquet": {
                    "schema": {"type": "string", "format": "binary"}
                },
            },
        },
    },
)
def get_events(
    course: CoursePath,
    who: Member,
    svc: Svc,
    format: Literal["json", "csv", "parquet"] = "json",
    learner: Annotated[
        str | None, Query(pattern=LEARNER_ID, description="Only this learner's events.")
    ] = None,
    after: Annotated[
        int | None, Query(ge=0, le=2**62, description="JSON: events after this id.")
    ] = None,
    limit: Annotated[int, Query(ge=1, description="JSON: events per page.")] = 1000,
    voided: Annotated[
        bool,
        Query(description="JSON: include voided events (marked voided: true) for an audit."),
    ] = False,
) -> Any:
    """Export the course's events (a learner token: only the learner's own), in the
    order they were stored: JSON pages, or a whole CSV or Parquet file with columns
    learner, item, time, outcome and the extra fields (as ``mentor fit`` reads them)."""
    if who.kind == "learner":
        learner = who.learner if learner is None else learner
    with svc.db.read() as session:
        row = find_course(session, who, course)
        learner_id = None
        if learner is not None:
            learner_id = find_learner(session, who, learner).id
        if format == "json":
            if limit > svc.limits.max_page:
                raise _unprocessable(f"limit is {limit}; at most {svc.limits.max_page} per page")
            log, ids, batches = load_events(session, row.id, learner_id, after, limit, voided)
            gone = set()
            if voided and len(ids):
                gone = set(
                    session.scalars(
                        select(EventRow.id).where(
                            EventRow.id.in_(ids.tolist()), EventRow.voided_at.is_not(None)
                        )
                    ).all()
                )
        else:
            log, ids, batches = load_events(session, row.id, learner_id)
    if format == "json":
        columns = {name: col.tolist() for name, col in log.extra.items()}
        events = []
        for i, (eid, batch, lrn, item, time, outcome) in enumerate(
            zip(
                ids.tolist(),
                batches,
                log.learner.tolist(),
                log.item.tolist(),
                log.time.tolist(),
                log.outcome.tolist(),
                strict=True,
            )
        ):
            extra = {n: v[i] for n, v in columns.items() if not math.isnan(v[i])}
            events.append(
                {
                    "id": eid,
                    "batch_id": batch,
                    "learner": lrn,
                    "item": item,
                    "time": time,
                    "outcome": outcome,
                    "extra": extra or None,
                    "voided": eid in gone,
                }
            )
        full = len(events) == limit
        return {"events": events, "next_after": events[-1]["id"] if full and events else None}
    return _file(log, course, format)


def _file(log: EventLog, course: str, format: str) -> FileResponse:
    handle, path = tempfile.mkstemp(prefix="mentor-export-", suffix="." + format)
    os.close(handle)
    try:
        (write_csv if format == "csv" else write_parquet)(log, path)
    except BaseException:
        os.unlink(path)
        raise
    media = "text/csv" if format == "csv" else "application/vnd.apache.parquet"
    return FileResponse(
        path,
        media_type=media,
        filename=f"{course}-events.{format}",
        background=BackgroundTask(os.unlink, path),
    )
