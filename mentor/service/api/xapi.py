"""xAPI: a course's events exported and imported as xAPI statements
(:mod:`mentor.service.xapi`), for learning record stores and LMSs."""

from __future__ import annotations

import hashlib
import json
import math
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, HTTPException, Query, Request
from pydantic import ValidationError

from mentor.service.api.courses import CoursePath
from mentor.service.api.deps import Member, Svc, find_course, find_learner
from mentor.service.api.practice import IDEMPOTENCY_KEY, store_batch
from mentor.service.api.schemas import LEARNER_ID, BatchOut, EventIn
from mentor.service.events_store import load_events
from mentor.service.xapi import StatementError, event_of, statement

router = APIRouter(tags=["xapi"])


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@router.get("/courses/{course}/xapi/statements")
def get_statements(
    request: Request,
    course: CoursePath,
    who: Member,
    svc: Svc,
    learner: Annotated[
        str | None, Query(pattern=LEARNER_ID, description="Only this learner's events.")
    ] = None,
    after: Annotated[int | None, Query(ge=0, le=2**62, description="Events after this id.")] = None,
    limit: Annotated[int, Query(ge=1, description="Statements per page.")] = 1000,
) -> dict[str, Any]:
    """The course's events (a learner token: the learner's own) as xAPI statements,
    in the order they were stored, a page at a time (``more``: pass it as ``after``
    for the next page; null on the last). Voided events are left out."""
    if who.kind == "learner":
        learner = who.learner if learner is None else learner
    if limit > svc.limits.max_page:
        raise HTTPException(422, f"limit is {limit}; at most {svc.limits.max_page} per page")
    with svc.db.read() as session:
        row = find_course(session, who, course)
        learner_id = None if learner is None else find_learner(session, who, learner).id
        log, ids, _ = load_events(session, row.id, learner_id, after, limit)
    base = _base(request)
    columns = {name: values.tolist() for name, values in log.extra.items()}
    statements = []
    for i, (eid, lrn, item, time, outcome) in enumerate(
        zip(
            ids.tolist(),
            log.learner.tolist(),
            log.item.tolist(),
            log.time.tolist(),
            log.outcome.tolist(),
            strict=True,
        )
    ):
        extra = {n: v[i] for n, v in columns.items() if not math.isnan(v[i])}
        statements.append(
            statement(base, course, row.clock, eid, lrn, item, time, outcome, extra or None)
        )
    more = int(ids[-1]) if len(ids) == limit else None
    return {"statements": statements, "more": more}


@router.post("/courses/{course}/xapi/statements", status_code=201, response_model=BatchOut)
def post_statements(
    course: CoursePath,
    who: Member,
    svc: Svc,
    statements: Annotated[list[dict[str, Any]], Body(description="xAPI statements.")],
    idempotency_key: Annotated[str, Header(description="As for POST .../events.")],
) -> Any:
    """Store xAPI statements as a batch of events (all or none, as
    ``POST .../events``: a grader or admin key; the same Idempotency-Key rules)."""
    if who.kind == "learner":
        raise HTTPException(
            403, "a learner token cannot post outcomes: statements come from a grader key"
        )
    if not IDEMPOTENCY_KEY.match(idempotency_key):
        raise HTTPException(
            422, "Idempotency-Key must be 1 to 255 printable ASCII characters without spaces"
        )
    if not statements:
        raise HTTPException(422, "no statements")
    if len(statements) > svc.limits.max_batch_events:
        raise HTTPException(
            422,
            f"{len(statements)} statements; at most {svc.limits.max_batch_events} per request",
        )
    events = []
    for index, data in enumerate(statements):
        try:
            events.append(EventIn.model_validate(event_of(data, index)))
        except StatementError as error:
            raise HTTPException(422, str(error)) from None
        except ValidationError as error:
            problem = error.errors()[0]
            where = ".".join(str(p) for p in problem["loc"])
            raise HTTPException(
                422, f"statements[{index}]: event field {where}: {problem['msg']}"
            ) from None
    request_hash = hashlib.sha256(json.dumps(statements, sort_keys=True).encode()).hexdigest()
    with svc.db.read() as session:
        row = find_course(session, who, course)
    return store_batch(svc, who, row, events, idempotency_key, request_hash, field="statements")
