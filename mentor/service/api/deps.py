"""What every route needs: the service's parts, the caller, and access checks.

Denials, by design:

- 401: no token, a malformed one, an unknown or revoked one.
- 403: a valid token that may not do this (a learner or grader token on an
  admin route, a learner token on another learner's practice or posting
  outcomes; the operator token anywhere but
  workspace creation; an admin key on workspace creation).
- 404: a course or learner that is not in the caller's workspace, whether or
  not it exists in another one: one workspace cannot learn that another's
  ids exist.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from mentor.service.db import Database
from mentor.service.engines import EngineStore
from mentor.service.quotas import Quotas
from mentor.service.security import (
    ADMIN_PREFIX,
    LEARNER_PREFIX,
    OPERATOR_PREFIX,
    OperatorToken,
    Principal,
    token_hash,
)
from mentor.service.tables import ApiKey, Course, Learner
from mentor.service.timerules import FUTURE_TOLERANCE_S


@dataclass(frozen=True)
class Limits:
    """Limits on what one request may carry.

    Parameters
    ----------
    max_body_bytes
        Largest request body, except course imports (413 beyond it). Default 1 MiB.
    max_import_bytes
        Largest course import (all its files together). Default 64 MiB.
    max_batch_events
        Most events in one batch (422 beyond it). Default 1000.
    max_next_items
        Most items one ``next`` request may ask for. Default 100.
    max_page
        Most events in one page of the JSON export. Default 10000.
    requests_per_second
        Requests per second allowed to one token (or, without one, one client
        address), in bursts of up to twice as many; beyond it 429 with
        Retry-After (:class:`mentor.service.limits.RateLimit`). Each server
        process counts its own requests. Default 0: no limit.
    future_tolerance_s
        How far after the server's clock an event's time may be, in a course
        whose clock is ``wall`` (422 beyond it;
        :mod:`mentor.service.timerules`). Default 300 s.
    attempt_seconds
        How long an issued attempt may be answered (410 after). Default 1 hour.
    quotas
        Each workspace's quotas, unless it has its own
        (:class:`mentor.service.quotas.Quotas`).
    load_inline_items
        Courses with more items than this are loaded into memory in the
        background: meanwhile their requests get 503 with Retry-After, and other
        courses' requests are not held up (:mod:`mentor.service.engines`).
        Default 20,000.
    import_worker_bytes
        Course imports of at least this many bytes (all files together) run in
        the import worker, a separate lower-priority process, so that they do
        not slow other tenants' requests (:mod:`mentor.service.worker`); smaller
        ones run in the server process. Default 64 KiB; negative: never.
    """

    max_body_bytes: int = 1 << 20
    max_import_bytes: int = 64 << 20
    max_batch_events: int = 1000
    max_next_items: int = 100
    max_page: int = 10_000
    requests_per_second: float = 0.0
    future_tolerance_s: float = FUTURE_TOLERANCE_S
    attempt_seconds: float = 3600.0
    quotas: Quotas = Quotas()
    load_inline_items: int = 20_000
    import_worker_bytes: int = 64 << 10


@dataclass
class Service:
    """The parts of one running service, shared by its routes."""

    db: Database
    engines: EngineStore
    operator: OperatorToken
    limits: Limits
    data_dir: FilePath
    operator_token_file: FilePath | None = None
    clock: object = field(default=time.time)
    #: The import worker (:class:`mentor.service.worker.ImportWorker`), None: none.
    imports: Any = None

    def now(self) -> float:
        """The server's clock: seconds since the epoch."""
        return float(self.clock())  # type: ignore[operator]


async def service(request: Request) -> Service:
    return request.app.state.service


bearer = HTTPBearer(
    auto_error=False,
    description="A workspace admin key (mk_...), a learner token (ml_...) or, to create "
    "workspaces, the operator token (mo_...).",
)


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


async def caller(
    svc: Annotated[Service, Depends(service)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> Principal:
    """Who is calling, from the ``Authorization: Bearer`` header (401 if nobody).

    One indexed lookup by token hash. On SQLite it runs on the event loop: the
    query is in-process work of a fraction of a millisecond, and a hop to a worker
    thread would cost more than the query. On PostgreSQL it waits on the network,
    so it runs in a worker thread while the loop serves other requests."""
    if svc.db.in_process:
        return principal_of(svc, credentials)
    return await run_in_threadpool(principal_of, svc, credentials)


def principal_of(
    svc: Service,
    credentials: HTTPAuthorizationCredentials | None,
    session: Session | None = None,
) -> Principal:
    """Who holds these credentials (401 if nobody); the lookup uses ``session`` if
    given (a request that reads more in the same transaction saves a round trip)."""
    if credentials is None:
        raise unauthorized("missing token: send the header 'Authorization: Bearer <token>'")
    token = credentials.credentials.strip()
    if token.startswith(OPERATOR_PREFIX):
        if svc.operator.matches(token):
            return Principal("operator")
    elif token.startswith(ADMIN_PREFIX):
        with _reading(svc, session) as session:
            key = session.execute(
                select(ApiKey.id, ApiKey.workspace_id, ApiKey.revoked_at, ApiKey.role).where(
                    ApiKey.token_hash == token_hash(token)
                )
            ).one_or_none()
        if key is not None and key.revoked_at is None:
            role = "grader" if key.role == "grader" else "admin"
            return Principal(role, workspace_id=key.workspace_id, key_id=key.id)
        if key is not None:
            raise unauthorized("this key was revoked")
    elif token.startswith(LEARNER_PREFIX):
        with _reading(svc, session) as session:
            learner = session.execute(
                select(Learner.id, Learner.workspace_id, Learner.external_id).where(
                    Learner.token_hash == token_hash(token)
                )
            ).one_or_none()
        if learner is not None:
            return Principal(
                "learner",
                workspace_id=learner.workspace_id,
                learner_id=learner.id,
                learner=learner.external_id,
            )
    raise unauthorized("invalid token")


def _reading(svc: Service, session: Session | None):
    """``session``, or one for a single statement (on PostgreSQL without the BEGIN
    and ROLLBACK round trips of a transaction: :meth:`Database.read_once`)."""
    return contextlib.nullcontext(session) if session is not None else svc.db.read_once()


Caller = Annotated[Principal, Depends(caller)]
#: The bearer credentials themselves, for a route that looks the caller up in its
#: own transaction (:func:`principal_of` with a session).
Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]


async def admin(who: Caller) -> Principal:
    """A workspace admin key (403 for any other valid token)."""
    if who.kind != "admin":
        raise HTTPException(403, f"this needs a workspace admin key, not a {who.kind} token")
    return who


async def member(who: Caller) -> Principal:
    """An admin key, a grader key or a learner token of a workspace (403 for the
    operator token)."""
    return member_of(who)


def member_of(who: Principal) -> Principal:
    """``who`` if a member of a workspace (403 for the operator token)."""
    if who.kind == "operator":
        raise HTTPException(403, "the operator token only creates workspaces")
    return who


async def operator(who: Caller) -> Principal:
    if who.kind != "operator":
        raise HTTPException(403, "only the operator token creates workspaces")
    return who


#: A row id in a URL (a 32-bit positive integer, as the tables hold).
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Admin = Annotated[Principal, Depends(admin)]
Member = Annotated[Principal, Depends(member)]
Operator = Annotated[Principal, Depends(operator)]
Svc = Annotated[Service, Depends(service)]


def find_course(session: Session, who: Principal, slug: str) -> Course:
    """The caller's workspace's course ``slug`` (404 otherwise)."""
    course = session.scalar(
        select(Course).where(Course.workspace_id == who.workspace_id, Course.slug == slug)
    )
    if course is None:
        raise HTTPException(404, f"course {slug!r} not found")
    return course


def own_practice(who: Principal, learner: str) -> None:
    """403 unless the caller may read and write ``learner``'s practice."""
    if who.kind == "learner" and learner != who.learner:
        raise HTTPException(403, "a learner token gives access to its own practice only")


def find_learner(session: Session, who: Principal, learner: str) -> Learner:
    """The learner ``learner`` of the caller's workspace, if the caller may see them."""
    own_practice(who, learner)
    row = session.scalar(
        select(Learner).where(
            Learner.workspace_id == who.workspace_id, Learner.external_id == learner
        )
    )
    if row is None:
        raise HTTPException(404, f"learner {learner!r} not found")
    return row
