"""The import worker: large course imports run in a separate, lower-priority process.

Reading a 100,000-item course and building its engine takes seconds of CPU and
makes millions of Python objects. In a thread of the web process it holds the
GIL most of that time, and every other tenant's requests wait for it (measured:
another tenant's p99 ``next`` 17-88 times its quiet value during a 100,000-item
import, ``benchmarks/service.py --scenarios noisy``). Here the import runs in
a child process instead (:class:`concurrent.futures.ProcessPoolExecutor`, one
worker, forked by a ``forkserver`` that has the import code loaded), at a
lower scheduling priority (``nice`` :data:`WORKER_NICE`), so the operating
system gives the web process the CPU first, and the web process only waits
for the answer, on its event loop.

Each import gets a fresh worker process (``max_tasks_per_child=1``): the
memory a large course took is given back to the system when it is done, and
a crash of one import (out of memory, a bug in a loader) cannot leave state
behind for the next. The worker runs the same import code as a small
import (:func:`mentor.service.courses.create_course`: the same checks,
quotas and error messages) against its own connection to the same database.

Durability (:mod:`mentor.service.jobs`): a job row is written, ``queued``,
before the upload is handed over; the worker marks it ``running`` and keeps a
heartbeat while it works. The one transaction that stores the course also
writes the course's id to the job, so a job has a course exactly when the
course is stored; then the job is marked ``done`` with the import's answer.
An error marks it ``failed`` with the error's message; a worker killed
mid-way leaves an uncommitted transaction (rolled back: no half-written
course) and a job whose heartbeat stops, reported as interrupted. The web
process answers the import as before (201 with the course) once the worker
is done, or at once with 202 and the job's URL when the client sends
``Prefer: respond-async`` (RFC 7240); ``GET /v1/imports/{id}`` then reports
its status.

The worker also exits when the server process that started it is gone (it
checks every second), so a killed server does not leave an import running.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import multiprocessing as mp
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from mentor.errors import MentorError
from mentor.service.db import Database
from mentor.service.importing import Upload, UploadError
from mentor.service.jobs import HEARTBEAT_S, ImportJob, beat, job_out, set_status
from mentor.service.security import Principal
from mentor.service.tables import utcnow

#: The worker's scheduling priority (``nice`` increment): below the web process.
WORKER_NICE = 10
#: Imports of at least this many bytes (all files together) run in the worker.
WORKER_BYTES = 64 << 10
#: Imports running at once (each in its own process).
WORKERS = 1


@dataclass(frozen=True)
class ImportRequest:
    """Everything the worker needs to import one course (plain, picklable data)."""

    db_url: str
    job_id: int
    who: Principal
    slug: str
    name: str
    format: str
    clock: str
    model: str | None
    teacher: str | None
    items: Upload
    prerequisites: Upload | None
    events: Upload | None
    time_unit: str
    #: The server's clock when the request arrived (the history's times are checked
    #: against it, as a synchronous import would).
    now: float
    limits: Any


@dataclass(frozen=True)
class Failure:
    """An import's error, carried back to the web process as plain data."""

    status: int
    detail: str
    kind: str

    def exception(self) -> Exception:
        """The exception the synchronous import would have raised (same answer)."""
        if self.status == 422:
            return UploadError(self.detail, self.kind)
        return HTTPException(self.status, self.detail)


def failure_of(error: BaseException) -> Failure:
    """The :class:`Failure` an exception of the import code stands for."""
    if isinstance(error, HTTPException):
        return Failure(error.status_code, str(error.detail), "HTTPException")
    if isinstance(error, UploadError):
        return Failure(422, str(error), error.kind)
    if isinstance(error, MentorError):
        return Failure(422, str(error), type(error).__name__)
    return Failure(500, f"the import failed: {type(error).__name__}: {error}", "internal")


# ------------------------------------------------------------------ worker process


def _initialise(parent: int, priority: int) -> None:
    """Run in each worker process at its start: its priority (the forkserver's
    already, as a fork of it), and exit with the server process."""
    with contextlib.suppress(OSError):  # lowering the niceness is not allowed: keep it
        if os.getpriority(os.PRIO_PROCESS, 0) < priority:
            os.setpriority(os.PRIO_PROCESS, 0, priority)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            try:
                os.kill(parent, 0)
            except ProcessLookupError:
                os._exit(1)

    threading.Thread(target=watch, name="mentor-worker-parent-watch", daemon=True).start()


class _JobDatabase(Database):
    """The worker's database: its one writing transaction (the import's) also writes
    the course's id into the job, so the course and its job's course commit
    together (and a job already marked failed makes the import roll back)."""

    def __init__(self, url: str, job_id: int, workspace_id: int, slug: str) -> None:
        super().__init__(url)
        self.job_id, self.workspace_id, self.slug = job_id, workspace_id, slug

    @contextmanager
    def write(self) -> Iterator[Session]:
        from mentor.service.tables import Course

        with super().write() as session:
            yield session
            course_id = session.scalar(
                select(Course.id).where(
                    Course.workspace_id == self.workspace_id, Course.slug == self.slug
                )
            )
            if course_id is None:  # the block stored nothing: not the import's transaction
                return
            done = session.execute(
                update(ImportJob)
                .where(ImportJob.id == self.job_id, ImportJob.status == "running")
                .values(course_id=course_id, heartbeat_at=utcnow())
            )
            if done.rowcount != 1:  # marked failed meanwhile: the course is not stored
                raise MentorError(f"import job {self.job_id} was finished by someone else")


def _heartbeat(db: Database, job_id: int, stop: threading.Event) -> None:
    while not stop.wait(HEARTBEAT_S):
        try:
            with db.write() as session:
                beat(session, job_id)
        except Exception:  # noqa: BLE001 - a missed beat is retried at the next one
            continue


def run_import(request: ImportRequest) -> dict[str, Any] | Failure:
    """The worker's task: import the course; its answer, or a :class:`Failure`
    (the job row says the same)."""
    from mentor.service.api.deps import Service
    from mentor.service.courses import create_course_quietly
    from mentor.service.engines import EngineStore

    status = Database(request.db_url)
    with status.write() as session:
        set_status(session, request.job_id, "running")
    stop = threading.Event()
    beating = threading.Thread(target=_heartbeat, args=(status, request.job_id, stop), daemon=True)
    beating.start()
    db = _JobDatabase(request.db_url, request.job_id, request.who.workspace_id, request.slug)
    try:
        svc = Service(
            db,
            EngineStore(db, max_cached=1),
            None,  # type: ignore[arg-type]  # the operator token: not needed to import
            request.limits,
            Path("."),
            clock=functools.partial(float, request.now),
        )
        result = create_course_quietly(
            svc,
            request.who,
            request.slug,
            request.name,
            request.format,
            request.clock,
            request.model,
            request.teacher,
            request.items,
            request.prerequisites,
            request.events,
            request.time_unit,
        )
        result = {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in result.items()}
        stop.set()
        with status.write() as session:
            set_status(session, request.job_id, "done", result=result)
        return result
    except BaseException as error:  # every error goes to the job row and back
        stop.set()
        failure = failure_of(error)
        with status.write() as session:
            set_status(
                session,
                request.job_id,
                "failed",
                detail=failure.detail,
                kind=failure.kind,
                http_status=failure.status,
            )
        return failure
    finally:
        stop.set()
        db.dispose()
        status.dispose()


# ------------------------------------------------------------------- web process


def _context() -> Any:
    """``forkserver`` with the import code preloaded: each import's fresh process is a
    fork of a server process that has imported it once (milliseconds, where a
    ``spawn`` imports the service again for each import, seconds of CPU)."""
    context = mp.get_context("forkserver")
    context.set_forkserver_preload(["mentor.service.worker", "mentor.service.api.courses"])
    return context


def _start_forkserver(priority: int) -> None:
    """Start the forkserver (if it is not running) at the workers' priority, so that
    its loading of the import code, and every worker forked from it, yields the CPU
    to the server process."""
    from multiprocessing import forkserver

    forkserver.ensure_running()
    pid = getattr(forkserver._forkserver, "_forkserver_pid", None)  # noqa: SLF001
    if pid:
        with contextlib.suppress(OSError):
            if os.getpriority(os.PRIO_PROCESS, pid) < priority:
                os.setpriority(os.PRIO_PROCESS, pid, priority)


class ImportWorker:
    """The web process's handle on the import worker (see the module docstring).

    Parameters
    ----------
    db
        The service's database (the worker connects to the same URL).
    min_bytes
        Imports of at least this many bytes go to the worker; smaller ones run
        in the web process (default :data:`WORKER_BYTES`).
    workers
        Imports at once (default :data:`WORKERS`).
    nice
        The worker's ``nice`` increment (default :data:`WORKER_NICE`).
    """

    def __init__(
        self,
        db: Database,
        min_bytes: int = WORKER_BYTES,
        workers: int = WORKERS,
        nice: int = WORKER_NICE,
    ) -> None:
        self.db = db
        self.min_bytes = min_bytes
        self.workers = workers
        self.nice = nice
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def wants(self, size: int) -> bool:
        """Whether an import of ``size`` bytes runs in the worker."""
        return size >= self.min_bytes

    def _priority(self) -> int:
        """The workers' niceness: this process's plus :attr:`nice` (at most 19)."""
        return min(19, os.getpriority(os.PRIO_PROCESS, 0) + self.nice)

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                context = _context()
                _start_forkserver(self._priority())
                self._pool = ProcessPoolExecutor(
                    self.workers,
                    mp_context=context,
                    initializer=_initialise,
                    initargs=(os.getpid(), self._priority()),
                    max_tasks_per_child=1,
                )
            return self._pool

    def _submit(self, request: ImportRequest) -> tuple[ProcessPoolExecutor, Any]:
        """Start the import (in a worker thread: starting a worker process waits for
        the forkserver, which loads the import code the first time, seconds of CPU
        at low priority; on the event loop that wait would stall every request)."""
        pool = self._executor()
        return pool, pool.submit(run_import, request)

    def _broken(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Stop the worker (a running import is abandoned: its transaction rolls back)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def submit_job(self, who: Principal, slug: str, size: int) -> int:
        """Write the job's row (``queued``); its id."""
        with self.db.write() as session:
            job = ImportJob(workspace_id=who.workspace_id, course=slug, size=size)
            session.add(job)
            session.flush()
            return job.id

    async def run(self, request: ImportRequest, wait: bool) -> dict[str, Any]:
        """Hand ``request`` to the worker. With ``wait``, the import's answer (or its
        error raised as the synchronous import raises it); else the job at once,
        the import going on."""
        task = asyncio.ensure_future(self._run(request))
        if not wait:
            _keep(task)
            return await run_in_threadpool(self.job, request.job_id)
        outcome = await task
        if isinstance(outcome, Failure):
            raise outcome.exception()
        return outcome

    def job(self, job_id: int) -> dict[str, Any]:
        """The job as the API shows it (:func:`mentor.service.jobs.job_out`)."""
        with self.db.read() as session:
            return job_out(session.get(ImportJob, job_id))

    async def _run(self, request: ImportRequest) -> dict[str, Any] | Failure:
        pool = None
        try:
            pool, future = await run_in_threadpool(self._submit, request)
            return await asyncio.wrap_future(future)
        except BrokenProcessPool:
            if pool is not None:
                self._broken(pool)
            failure = Failure(
                500,
                "the import worker stopped before the import finished (killed, or out of "
                "memory?); nothing was stored",
                "interrupted",
            )
        except Exception as error:  # could not be handed over (a cancelled wait is not:
            # the worker goes on, and its job says how it ends)
            failure = failure_of(error)
        await run_in_threadpool(self._fail, request.job_id, failure)
        return failure

    def _fail(self, job_id: int, failure: Failure) -> None:
        with self.db.write() as session:
            set_status(
                session,
                job_id,
                "failed",
                detail=failure.detail,
                kind=failure.kind,
                http_status=failure.status,
            )


_running: set[asyncio.Future] = set()


def _keep(task: asyncio.Future) -> None:
    """Hold a reference to a task that nobody awaits until it ends."""
    _running.add(task)
    task.add_done_callback(_running.discard)


async def import_in_worker(
    svc: Any,
    who: Principal,
    slug: str,
    name: str,
    format: str,
    clock: str,
    model: str | None,
    teacher: str | None,
    items: Upload,
    prerequisites: Upload | None,
    events: Upload | None,
    time_unit: str,
    prefer: str | None,
) -> Any:
    """``POST /v1/courses`` for an import the worker takes (see :meth:`ImportWorker.wants`):
    its answer (201 with the course, or 202 with the job for ``Prefer: respond-async``);
    None for a small import, which the caller runs itself."""
    from fastapi.responses import JSONResponse

    worker: ImportWorker = svc.imports
    size = sum(len(u.data) for u in (items, prerequisites, events) if u is not None)
    if not worker.wants(size):
        return None
    job_id = await run_in_threadpool(worker.submit_job, who, slug, size)
    request = ImportRequest(
        svc.db.url.render_as_string(hide_password=False),
        job_id,
        who,
        slug,
        name,
        format,
        clock,
        model,
        teacher,
        items,
        prerequisites,
        events,
        time_unit,
        svc.now(),
        svc.limits,
    )
    respond_async = "respond-async" in (prefer or "").lower()
    answer = await worker.run(request, wait=not respond_async)
    if respond_async:
        body = {**answer, "url": f"/v1/imports/{job_id}"}
        return JSONResponse(jsonable(body), status_code=202, headers={"Location": body["url"]})
    return answer


def jsonable(value: Any) -> Any:
    """``value`` with datetimes as ISO text."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value.isoformat() if hasattr(value, "isoformat") else value
