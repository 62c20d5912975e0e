"""CPU time to import a large course and to load its engine back, per backend.

Usage:
    python benchmarks/service_course_load.py [--backends sqlite postgresql] [--items 100000]
        [--repeats 3] [--label after] [--out benchmarks/results/service_course_load.json]

A course of ``--items`` items (``big_course_csv`` of ``benchmarks/service.py``: 100
items per skill, no attributes) is imported through the API in this process
(``fastapi.testclient``, the import kept in the server process so that its CPU is
this process's), into a fresh database (SQLite in a temporary folder; PostgreSQL: a
fresh database on the server of ``--postgres``, dropped after). Then, ``--repeats``
times, a fresh :class:`~mentor.service.engines.EngineStore` reads the course's
domain back (``load_domain_rows``) and loads the whole engine
(``EngineStore.reading``, what a background load does). Each figure is
``time.process_time()`` of this process: CPU, which the machine's load inflates
far less than wall time; the database server's own CPU is not counted.
Run it against older code with ``PYTHONPATH=/path/to/old/checkout``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from service import big_course_csv, import_big_course  # noqa: E402

from mentor._io import write_json  # noqa: E402
from mentor.service import Limits, create_app  # noqa: E402
from mentor.service.engines import EngineStore, load_domain_rows  # noqa: E402
from mentor.service.testing import OPERATOR, bearer, postgres_database  # noqa: E402


def measure(db_url: str, folder: Path, items: int, repeats: int) -> dict:
    app = create_app(
        db_url, folder, operator_token=OPERATOR, limits=Limits(import_worker_bytes=2**40)
    )
    with TestClient(app) as client:
        response = client.post("/v1/workspaces", json={"name": "big"}, headers=bearer(OPERATOR))
        admin = bearer(response.json()["admin_key"]["key"])
        csv = big_course_csv(items)
        start = time.process_time()
        response = import_big_course(client, admin, csv)
        import_s = time.process_time() - start
        response.raise_for_status()
    db = app.state.service.db
    with db.read() as session:
        course_id = session.execute(text("SELECT max(id) FROM courses")).scalar()
    domain_s, load_s = [], []
    for _ in range(repeats):
        start = time.process_time()
        with db.read() as session:
            load_domain_rows(session, course_id)
        domain_s.append(time.process_time() - start)
        start = time.process_time()
        with EngineStore(db).reading(course_id, background=False):
            pass
        load_s.append(time.process_time() - start)
    db.dispose()
    return {"import_cpu_s": import_s, "domain_cpu_s": domain_s, "load_cpu_s": load_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--label", default="", help="a name for this run (e.g. before/after)")
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "MENTOR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument(
        "--out", type=Path, default=Path("benchmarks/results/service_course_load.json")
    )
    args = parser.parse_args()
    rows = []
    for backend in args.backends:
        with tempfile.TemporaryDirectory() as folder:
            if backend == "sqlite":
                row = measure(
                    f"sqlite:///{folder}/mentor.db", Path(folder), args.items, args.repeats
                )
            else:
                with postgres_database(args.postgres) as url:
                    row = measure(url, Path(folder), args.items, args.repeats)
        row = {"label": args.label, "backend": backend, "items": args.items, **row}
        rows.append(row)
        print(
            f"{args.label:>8} {backend:>10}: import {row['import_cpu_s']:.2f} CPU s; domain read "
            + ", ".join(f"{v:.2f}" for v in row["domain_cpu_s"])
            + "; whole load "
            + ", ".join(f"{v:.2f}" for v in row["load_cpu_s"])
            + f" (load average {os.getloadavg()[0]:.1f})"
        )
    previous = json.loads(args.out.read_text()) if args.out.exists() else []
    kept = [r for r in previous if r.get("label") != args.label]
    write_json(args.out, kept + rows)


if __name__ == "__main__":
    main()
