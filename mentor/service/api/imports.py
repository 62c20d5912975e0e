"""Import jobs: the status of course imports run by the import worker
(:mod:`mentor.service.worker`, :mod:`mentor.service.jobs`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel
from sqlalchemy import select

from mentor.service.api.deps import Admin, RowId, Svc
from mentor.service.jobs import ImportJob, job_out

router = APIRouter(tags=["courses"])


class ImportJobOut(BaseModel):
    id: int
    course: str
    status: str
    size: int
    detail: str | None
    kind: str | None
    http_status: int | None
    result: dict[str, Any] | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


@router.get("/imports/{job}", response_model=ImportJobOut)
def get_import(job: RowId, who: Admin, svc: Svc) -> dict:
    """A course import's status: ``queued``, ``running``, ``done`` (``result`` is the
    import's answer) or ``failed`` (``detail`` says why; nothing was stored)."""
    with svc.db.read() as session:
        row = session.scalar(
            select(ImportJob).where(ImportJob.id == job, ImportJob.workspace_id == who.workspace_id)
        )
        if row is None:
            raise HTTPException(404, f"import {job} not found")
        return job_out(row)


@router.get("/imports", response_model=list[ImportJobOut])
def get_imports(who: Admin, svc: Svc) -> list[dict]:
    """The workspace's course imports run by the worker, newest first (at most 100)."""
    with svc.db.read() as session:
        rows = session.scalars(
            select(ImportJob)
            .where(ImportJob.workspace_id == who.workspace_id)
            .order_by(ImportJob.id.desc())
            .limit(100)
        ).all()
        return [job_out(row) for row in rows]
