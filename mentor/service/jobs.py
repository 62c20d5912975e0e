"""Import jobs: the durable status of a course import run by the import worker.

A large course import runs in a worker process (:mod:`mentor.service.worker`),
not in the web process. Its job row says where it is, in the database, so
that any server process can answer for it and a restart does not lose it:

``queued``
    accepted by a web process, waiting for the worker;
``running``
    the worker is reading the files, building the engine or writing the
    course; while it runs it touches ``heartbeat_at`` every
    :data:`HEARTBEAT_S` seconds;
``done``
    the course is stored, ``result`` is the import's answer. The course's id is
    written to the job in the same transaction that stores the course, so a
    job with a course is done even if its worker stopped before writing the
    answer (``result`` is then null);
``failed``
    nothing was stored; ``detail`` is the error (the same one-line message a
    synchronous import gives) and ``http_status`` its status code.

A job still ``queued`` or ``running`` whose heartbeat is older than
:data:`STALE_S` seconds lost its worker (the server or the worker was killed):
it is reported as ``failed`` with ``interrupted`` as its kind, unless it has a
course. A job without a course has stored nothing, because the import writes
everything in one transaction, which was never committed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from mentor.service.tables import Base, utcnow

#: Seconds between two heartbeats of a running job.
HEARTBEAT_S = 2.0
#: A queued or running job whose heartbeat is older than this lost its worker.
STALE_S = 60.0
STATUSES = ("queued", "running", "done", "failed")


class ImportJob(Base):
    """One course import handed to the import worker (see the module docstring)."""

    __tablename__ = "import_jobs"
    __table_args__ = (Index("ix_import_jobs_workspace", "workspace_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    #: The id the course gets (its slug).
    course: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    #: Bytes uploaded (all files together).
    size: Mapped[int] = mapped_column(Integer, default=0)
    #: The error of a failed job, one line.
    detail: Mapped[str | None] = mapped_column(Text, default=None)
    #: The error's kind (``DataError``, ``CycleError``, ``interrupted``, ...).
    kind: Mapped[str | None] = mapped_column(String(64), default=None)
    http_status: Mapped[int | None] = mapped_column(Integer, default=None)
    #: The course, set in the transaction that stores it.
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("courses.id", ondelete="SET NULL"), default=None
    )
    #: The import's answer (what ``POST /v1/courses`` returns) once done.
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


def job_out(job: ImportJob, now: datetime | None = None) -> dict[str, Any]:
    """A job as the API shows it; a queued or running job whose heartbeat stopped
    is shown as failed (``kind`` ``interrupted``)."""
    now = now or utcnow()
    status, detail, kind = job.status, job.detail, job.kind
    if status == "running" and job.course_id is not None and job.result is None:
        # Stored; the worker has not written its answer yet (or stopped before it).
        if now - job.heartbeat_at > timedelta(seconds=STALE_S):
            status = "done"
    elif status in ("queued", "running") and now - job.heartbeat_at > timedelta(seconds=STALE_S):
        status, kind = "failed", "interrupted"
        detail = (
            f"the import stopped without finishing (no sign of its worker for over "
            f"{STALE_S:g} s: the server or the worker was stopped); nothing was stored, "
            "import the course again"
        )
    return {
        "id": job.id,
        "course": job.course,
        "status": status,
        "size": job.size,
        "detail": detail,
        "kind": kind,
        "http_status": job.http_status,
        "result": job.result,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }


def set_status(session: Session, job_id: int, status: str, **values: Any) -> bool:
    """Move a job that is not finished to ``status`` (with other columns); False if
    it had finished already (a done job is never marked failed afterwards)."""
    if status not in STATUSES:
        raise ValueError(f"unknown job status {status!r}")
    now = utcnow()
    values = {"status": status, "heartbeat_at": now, **values}
    if status == "running":
        values.setdefault("started_at", now)
    if status in ("done", "failed"):
        values.setdefault("finished_at", now)
    done = session.execute(
        update(ImportJob)
        .where(ImportJob.id == job_id, ImportJob.status.in_(("queued", "running")))
        .values(**values)
    )
    return done.rowcount == 1


def beat(session: Session, job_id: int) -> None:
    """A running job's heartbeat."""
    session.execute(
        update(ImportJob)
        .where(ImportJob.id == job_id, ImportJob.status == "running")
        .values(heartbeat_at=utcnow())
    )
