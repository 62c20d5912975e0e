"""Learners of a workspace and their tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from mentor.service.api.deps import Admin, Service, Svc, find_learner
from mentor.service.api.schemas import LEARNER_ID, LearnerIn, LearnerOut, NewLearnerOut
from mentor.service.security import LEARNER_PREFIX, SHOWN, new_token, token_hash
from mentor.service.tables import Learner, utcnow

router = APIRouter(tags=["learners"])
LearnerPath = Annotated[str, Path(pattern=LEARNER_ID)]


def learner_out(learner: Learner, token: str | None = None) -> dict:
    out = {
        "id": learner.external_id,
        "has_token": learner.token_hash is not None,
        "created_at": learner.created_at,
    }
    if token is not None:
        out["token"] = token
    return out


def ensure_learners(session: Session, workspace_id: int, ids: list[str]) -> dict[str, int]:
    """The row ids of the workspace's learners ``ids``, adding those that are new
    (safe against a concurrent insert of the same learner by another transaction)."""
    # Sorted: two transactions adding overlapping learners lock them in the same
    # order, so they wait for each other instead of deadlocking (PostgreSQL).
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    now = utcnow()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        session.execute(
            insert(Learner)
            .values(
                [{"workspace_id": workspace_id, "external_id": x, "created_at": now} for x in chunk]
            )
            .on_conflict_do_nothing(index_elements=["workspace_id", "external_id"])
        )
    found: dict[str, int] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update(
            session.execute(
                select(Learner.external_id, Learner.id).where(
                    Learner.workspace_id == workspace_id, Learner.external_id.in_(chunk)
                )
            ).all()
        )
    return found


def _issue(learner: Learner) -> str:
    token = new_token(LEARNER_PREFIX)
    learner.token_prefix = token[:SHOWN]
    learner.token_hash = token_hash(token)
    return token


@router.post("/learners", status_code=201, response_model=NewLearnerOut)
def post_learner(body: LearnerIn, who: Admin, svc: Svc) -> dict:
    """Add a learner to the workspace and issue their token (shown once). A learner
    who already has practice but no token (added by an admin's events) gets one;
    409 if the learner already has a token (rotate it with ``POST .../token``)."""
    return create_learner(svc, who.workspace_id, body.id)


def create_learner(svc: Service, workspace_id: int, learner_id: str) -> dict:
    """Add ``learner_id`` to the workspace and issue their token, as
    :func:`post_learner` answers (the demo seeder and the admin page call this)."""
    with svc.db.write() as session:
        ensure_learners(session, workspace_id, [learner_id])
        learner = session.scalar(
            select(Learner).where(
                Learner.workspace_id == workspace_id, Learner.external_id == learner_id
            )
        )
        if learner.token_hash is not None:
            raise HTTPException(409, f"learner {learner_id!r} already exists and has a token")
        return learner_out(learner, _issue(learner))


@router.get("/learners", response_model=list[LearnerOut])
def get_learners(
    who: Admin,
    svc: Svc,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict]:
    """The workspace's learners, in the order they were added."""
    with svc.db.read() as session:
        rows = session.scalars(
            select(Learner)
            .where(Learner.workspace_id == who.workspace_id)
            .order_by(Learner.id)
            .offset(offset)
            .limit(limit)
        ).all()
        return [learner_out(row) for row in rows]


@router.get("/learners/{learner}", response_model=LearnerOut)
def get_learner(learner: LearnerPath, who: Admin, svc: Svc) -> dict:
    with svc.db.read() as session:
        return learner_out(find_learner(session, who, learner))


@router.post("/learners/{learner}/token", response_model=NewLearnerOut)
def post_learner_token(learner: LearnerPath, who: Admin, svc: Svc) -> dict:
    """A new token for the learner; the old one stops working at once."""
    with svc.db.write() as session:
        row = find_learner(session, who, learner)
        return learner_out(row, _issue(row))
