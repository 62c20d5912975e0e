"""The application factory: :func:`create_app` wires the database, the migrations,
the engines, the limits and the routers together."""

from __future__ import annotations

import contextlib
import gc
import math
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from mentor import __version__
from mentor.service import errors, web
from mentor.service.api import router as api_router
from mentor.service.api.deps import Limits, Service
from mentor.service.db import Database, sqlite_url
from mentor.service.engines import SNAPSHOT_EVERY, EngineStore
from mentor.service.limits import BodyLimit, RateLimit
from mentor.service.migrate import upgrade
from mentor.service.security import OperatorToken
from mentor.service.worker import ImportWorker

#: Where ``mentor serve`` keeps its data unless told otherwise.
DEFAULT_DATA_DIR = "mentor-data"
API_PREFIX = "/v1"
#: Where the API docs' script and style are served from.
DOCS_STATIC = "/docs-static"


def create_app(
    db_url: str | None = None,
    data_dir: str | os.PathLike[str] = DEFAULT_DATA_DIR,
    *,
    operator_token: str | None = None,
    limits: Limits | None = None,
    clock: Callable[[], float] | None = None,
    snapshot_every: int = SNAPSHOT_EVERY,
) -> FastAPI:
    """The mentor service as an ASGI application.

    Parameters
    ----------
    db_url
        SQLAlchemy URL of the database; default a SQLite file ``mentor.db`` in
        ``data_dir``. PostgreSQL: ``postgresql+psycopg://user@host:port/database``.
    data_dir
        Folder for the SQLite database and the operator token file (created if missing).
    operator_token
        The token that creates workspaces; default ``MENTOR_OPERATOR_TOKEN`` or the
        file ``operator-token`` in ``data_dir`` (made on first start).
    limits
        Request limits (:class:`~mentor.service.api.deps.Limits`).
    clock
        The server's clock in seconds since the epoch (default :func:`time.time`; tests
        pass a fixed one).
    snapshot_every
        Event batches between two snapshots of a course's student model and
        teacher (:mod:`mentor.service.engines`).

    The database schema is brought up to date (Alembic) before the app is returned.
    """
    folder = Path(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    db = Database(db_url or sqlite_url(folder / "mentor.db"))
    upgrade(db)
    operator, token_file = OperatorToken.load(folder, operator_token)
    limits = limits or Limits()
    engines = EngineStore(db, snapshot_every, inline_items=limits.load_inline_items)
    service = Service(db, engines, operator, limits, folder, token_file)
    if limits.import_worker_bytes >= 0:
        service.imports = ImportWorker(db, min_bytes=limits.import_worker_bytes)
    if clock is not None:
        service.clock = clock

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Everything imported so far (about 250,000 objects: modules, functions, the
        # libraries' tables) lives as long as the process. Moved out of the garbage
        # collector's sight, they no longer make each full collection take 100-200 ms,
        # which was most of the service's p99 latency (benchmarks/RESULTS.md).
        gc.collect()
        gc.freeze()
        yield
        if service.imports is not None:
            service.imports.close()
        db.dispose()

    # Swagger UI and Redoc from fastapi-offline's own copies, not a CDN: /docs and
    # /redoc work on a network without internet.
    app = FastAPIOffline(
        static_url=DOCS_STATIC,
        title="mentor",
        version=__version__,
        description="Decides what a learner should practise next: courses, learners, "
        "events, next items and learner state, for each workspace.",
        lifespan=lifespan,
    )
    app.state.service = service
    errors.install(app)

    def limit_for(method: str, path: str) -> int:
        if method == "POST" and path.rstrip("/") in (f"{API_PREFIX}/courses", web.IMPORT_PATH):
            return limits.max_import_bytes
        return limits.max_body_bytes

    app.add_middleware(BodyLimit, limit_for=limit_for)
    if limits.requests_per_second > 0:
        app.add_middleware(
            RateLimit,
            rate=limits.requests_per_second,
            burst=max(1, math.ceil(2 * limits.requests_per_second)),
            clock=service.now,
            cookie=web.COOKIE,
            exempt=("/healthz", "/static/", DOCS_STATIC + "/"),
        )
    app.include_router(api_router, prefix=API_PREFIX)
    # The web app (HTML pages, mentor.service.web): a router of its own, outside /v1,
    # using the same app.state.service.
    app.include_router(web.router)

    @app.get("/healthz", tags=["service"])
    def healthz() -> dict[str, str]:
        """Liveness: the service answers and reaches its database."""
        with db.read() as session:
            session.connection().exec_driver_sql("SELECT 1")
        return {"status": "ok", "database": db.dialect}

    return app


def app_from_env() -> FastAPI:
    """:func:`create_app` configured by ``MENTOR_DB_URL``, ``MENTOR_DATA_DIR`` and
    ``MENTOR_RATE_LIMIT`` (requests per second per token)
    (for ``uvicorn --factory mentor.service.app:app_from_env``)."""
    rate = float(os.environ.get("MENTOR_RATE_LIMIT") or 0)
    return create_app(
        os.environ.get("MENTOR_DB_URL") or None,
        os.environ.get("MENTOR_DATA_DIR") or DEFAULT_DATA_DIR,
        limits=Limits(requests_per_second=rate),
    )
