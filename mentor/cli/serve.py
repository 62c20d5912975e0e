"""``mentor serve``: run the teaching service (HTTP API) with uvicorn."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from mentor.errors import MentorError


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    data_dir: Annotated[
        Path,
        typer.Option(help="Folder for the SQLite database and the operator token."),
    ] = Path("mentor-data"),
    db: Annotated[
        str | None,
        typer.Option(
            help="Database URL instead of SQLite in the data folder, e.g. "
            "postgresql+psycopg://user@127.0.0.1:5432/mentor."
        ),
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn's log level.")] = "info",
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Server processes sharing the port and the database (one per core is a "
            "good start; each keeps its own copy of the courses' engines).",
        ),
    ] = 1,
    rate_limit: Annotated[
        float,
        typer.Option(
            min=0.0,
            help="Requests per second allowed to one token (bursts of twice as many); "
            "beyond it 429 with Retry-After. Counted per worker process. 0: no limit.",
        ),
    ] = 0.0,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Put the demo course (arithmetic and fractions) in a demo workspace on "
            "first start, and print links to practise and to the admin dashboard.",
        ),
    ] = False,
) -> None:
    """Serve the mentor API at http://HOST:PORT/v1 (OpenAPI at /docs) and the web app
    at http://HOST:PORT/.

    On first start the data folder gets the file operator-token, whose token
    (or MENTOR_OPERATOR_TOKEN) creates workspaces:

        curl -X POST -H "Authorization: Bearer $(cat mentor-data/operator-token)"
             -H 'Content-Type: application/json' -d '{"name": "school"}'
             http://127.0.0.1:8000/v1/workspaces

    With --demo, the data folder also gets a demo workspace (its keys in the file
    demo.json), and the links to open are printed:

        mentor serve --demo
    """
    try:
        import uvicorn

        from mentor.service import create_app
    except ImportError as error:
        raise MentorError(
            f"mentor serve needs the service extra ({error.name} is missing): "
            "pip install 'mentor[service]'"
        ) from None
    from sqlalchemy.exc import ArgumentError, OperationalError

    from mentor.service import Limits

    try:
        app = create_app(db, data_dir, limits=Limits(requests_per_second=rate_limit))
    except ArgumentError as error:
        raise MentorError(f"--db: not a database URL: {error}") from None
    except OperationalError as error:
        raise MentorError(f"cannot use the database: {error.orig}") from None
    service = app.state.service
    where = service.operator_token_file or "the MENTOR_OPERATOR_TOKEN variable"
    typer.echo(f"mentor: database {service.db.display_url}", err=True)
    typer.echo(f"mentor: the operator token (creates workspaces) is in {where}", err=True)
    typer.echo(
        f"mentor: API at http://{host}:{port}/v1, docs at http://{host}:{port}/docs", err=True
    )
    if demo:
        from mentor.demo.seed import ensure_demo

        shown = "[::1]" if host == "::1" else "127.0.0.1" if host in ("0.0.0.0", "::") else host
        found = ensure_demo(service)
        links = found.links(f"http://{shown}:{port}")
        made = "created" if found.created else "found"
        typer.echo(
            f"mentor: demo workspace {made}, course {found.course!r} "
            f"(its keys are in {Path(service.data_dir) / 'demo.json'})",
            err=True,
        )
        typer.echo(f"mentor: practise as {found.learner}: {links['learner']}", err=True)
        typer.echo(f"mentor: admin dashboard: {links['admin']}", err=True)
    if workers == 1:
        uvicorn.run(app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=5)
        return
    # Each worker process builds its own app from the same settings.
    service.db.dispose()
    os.environ["MENTOR_DB_URL"] = service.db.url.render_as_string(hide_password=False)
    os.environ["MENTOR_DATA_DIR"] = str(data_dir)
    os.environ["MENTOR_RATE_LIMIT"] = repr(rate_limit)
    typer.echo(f"mentor: {workers} worker processes", err=True)
    uvicorn.run(
        "mentor.service.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        timeout_graceful_shutdown=5,
    )
