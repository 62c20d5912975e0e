"""Database round trips per request of the service, counted with SQLAlchemy events.

Usage:
    python benchmarks/service_roundtrips.py [--backends sqlite postgresql] [--requests 200]

The app runs in this process (``fastapi.testclient``) over a fresh database
(SQLite in a temporary folder; PostgreSQL: a fresh database on the server of
``--postgres``, dropped after). Setup: a workspace, the demo course (BKT, the
random teacher), ``--learners`` learners with their own tokens and one event
each, and one ``next`` per learner (so the process's engine is current, as it
is for all but the first request after a change). Then ``--requests`` ``next``
requests, each with a learner's own token, are counted:

- ``statements``: SQL statements sent (``before_cursor_execute``);
- ``pings``: connection tests at checkout (the dialect's ``do_ping``, which
  SQLAlchemy's ``pool_pre_ping`` and the service's idle-connection test call);
- ``begin`` / ``end``: transaction starts and ends (commit or rollback) on
  connections that are not in autocommit mode: on PostgreSQL each is a round
  trip of its own (psycopg sends ``BEGIN``, ``COMMIT``, ``ROLLBACK`` as queries);
  on SQLite none is a network round trip (the database is in the process).

Round trips (PostgreSQL) = statements + pings + begin + end. ``process_cpu_ms``:
CPU time of this whole process (the test client included, the same in every
run; PostgreSQL's own CPU not) per ``next``, one request at a time, which the
machine's load inflates far less than latency. Also counted for
``POST .../events`` (one event per batch, a grader key) to show the write path.
Writes benchmarks/results/service_roundtrips.json (``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections import Counter
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import event

from mentor._io import write_json
from mentor.demo.course import course_dict
from mentor.service import create_app
from mentor.service.testing import OPERATOR, bearer, postgres_database, setup_workspace

COURSE = "rt"


def install_counters(db) -> Counter:
    """Count statements, pings and transaction round trips on the service's engines."""
    from sqlalchemy.engine.base import OptionEngine

    counts: Counter = Counter()
    # Listeners go on the base engines only: an engine made by execution_options()
    # (PostgreSQL's reader and autocommit engines) shares its base's dialect, and
    # its connections fire its base's listeners too (counted twice otherwise).
    engines = {id(e): e for e in (db.writer, db.reader) if not isinstance(e, OptionEngine)}
    for engine in engines.values():

        @event.listens_for(engine, "before_cursor_execute")
        def _statement(conn, cursor, statement, parameters, context, executemany):
            counts["statements"] += 1

        def autocommit(conn) -> bool:
            """No BEGIN/COMMIT goes to the server: SQLite (in the process) or a
            psycopg connection in autocommit mode."""
            if conn.dialect.name != "postgresql":
                return True
            return bool(conn.connection.driver_connection.autocommit)

        @event.listens_for(engine, "begin")
        def _begin(conn):
            if not autocommit(conn):
                counts["begin"] += 1

        @event.listens_for(engine, "commit")
        def _commit(conn):
            if not autocommit(conn):
                counts["end"] += 1

        @event.listens_for(engine, "rollback")
        def _rollback(conn):
            if not autocommit(conn):
                counts["end"] += 1

        dialect = engine.dialect
        ping = dialect.do_ping

        def counted_ping(dbapi_connection, _ping=ping):
            counts["pings"] += 1
            return _ping(dbapi_connection)

        dialect.do_ping = counted_ping
    return counts


def measure(db_url: str, folder: Path, learners: int, requests: int) -> dict:
    app = create_app(db_url, folder, operator_token=OPERATOR)
    with TestClient(app) as client:
        admin = bearer(setup_workspace(client, "round trips"))
        response = client.post(
            "/v1/courses",
            headers=admin,
            data={"id": COURSE, "clock": "steps", "teacher": json.dumps({"name": "random"})},
            files={"items": ("c.json", json.dumps(course_dict()).encode(), "application/json")},
        )
        response.raise_for_status()
        items = [item["id"] for item in course_dict()["items"]]
        names = [f"l{k}" for k in range(learners)]
        tokens = {}
        for name in names:
            response = client.post("/v1/learners", headers=admin, json={"id": name})
            response.raise_for_status()
            tokens[name] = bearer(response.json()["token"])
        response = client.post("/v1/keys", headers=admin, json={"name": "grader", "role": "grader"})
        response.raise_for_status()
        grader = bearer(response.json()["key"])
        events = [{"learner": n, "item": items[0], "time": 1, "outcome": 1.0} for n in names]
        client.post(
            f"/v1/courses/{COURSE}/events",
            headers={**grader, "Idempotency-Key": "seed"},
            json={"events": events},
        ).raise_for_status()
        for name in names:  # the engine is current from here on
            client.get(f"/v1/courses/{COURSE}/learners/{name}/next", headers=tokens[name])
        counts = install_counters(app.state.service.db)
        cpu = time.process_time()
        for k in range(requests):
            name = names[k % learners]
            response = client.get(
                f"/v1/courses/{COURSE}/learners/{name}/next", headers=tokens[name]
            )
            response.raise_for_status()
        per_next = {key: value / requests for key, value in counts.items()}
        per_next["process_cpu_ms"] = 1000 * (time.process_time() - cpu) / requests
        counts.clear()
        posts = min(requests, learners)
        for k in range(posts):
            name = names[k]
            event_in = {"learner": name, "item": items[1], "time": 2, "outcome": 0.0}
            client.post(
                f"/v1/courses/{COURSE}/events",
                headers={**grader, "Idempotency-Key": f"b{k}"},
                json={"events": [event_in]},
            ).raise_for_status()
        per_batch = {key: value / posts for key, value in counts.items()}
    app.state.service.db.dispose()
    keys = ("statements", "pings", "begin", "end")
    for row in (per_next, per_batch):
        for key in keys:
            row.setdefault(key, 0.0)
        row["round_trips"] = sum(row[key] for key in keys)
    return {"next": per_next, "events_batch": per_batch}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--learners", type=int, default=50)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("MENTOR_TEST_POSTGRES_URL")
        or "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    )
    parser.add_argument("--label", default="", help="a name for this run (e.g. before/after)")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "service_roundtrips.json"
    )
    args = parser.parse_args()
    rows = []
    for backend in args.backends:
        with tempfile.TemporaryDirectory(prefix="mentor-rt-") as folder:
            if backend == "postgresql":
                with postgres_database(args.postgres) as url:
                    found = measure(url, Path(folder), args.learners, args.requests)
            else:
                found = measure(None, Path(folder), args.learners, args.requests)
        for request, row in found.items():
            rows.append({"label": args.label, "backend": backend, "request": request, **row})
            print(
                f"{args.label:>8} {backend:>10} {request:>13}: "
                + ", ".join(f"{k} {row[k]:.2f}" for k in ("statements", "pings", "begin", "end"))
                + f"  -> round trips {row['round_trips']:.2f} per request"
                + (f", CPU {row['process_cpu_ms']:.2f} ms" if "process_cpu_ms" in row else "")
            )
    write_json(args.out, {"label": args.label, "rows": rows})


if __name__ == "__main__":
    main()
