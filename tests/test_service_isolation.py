"""Tenant isolation: course imports in the import worker process
(:mod:`mentor.service.worker`), with their durable job status
(:mod:`mentor.service.jobs`), on SQLite and on PostgreSQL.

Each test forces the worker with ``import_worker_bytes=0`` and checks that an
import through it answers exactly as the same import in the server process
(course, errors, 409), that ``Prefer: respond-async`` gives a job to poll, and
that a worker killed in the middle of an import leaves nothing stored and a job
that says it failed.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import timedelta

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("sqlalchemy")

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from mentor.service import Limits, create_app  # noqa: E402
from mentor.service.jobs import STALE_S, ImportJob, job_out  # noqa: E402
from mentor.service.tables import Course, CourseItem, utcnow  # noqa: E402
from mentor.service.testing import OPERATOR, bearer, postgres_database  # noqa: E402

ITEMS_CSV = b"item,skills,difficulty\na1,A,0.2\na2,A,0.6\nb1,B,0.4\nb2,B,0.8\n"
PREREQS_CSV = b"prerequisite,skill\nA,B\n"
NOW = 1_000_000.0


@pytest.fixture(scope="module")
def postgres_url():
    url = os.environ.get("MENTOR_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("MENTOR_TEST_POSTGRES_URL is not set: the PostgreSQL variant is skipped")
    pytest.importorskip("psycopg")
    with postgres_database(url) as fresh:
        yield fresh


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'mentor.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def make_client(db_url, tmp_path):
    clients = []

    def make(**limits) -> TestClient:
        app = create_app(
            db_url,
            tmp_path / "data",
            operator_token=OPERATOR,
            limits=Limits(**limits),
            clock=lambda: NOW,
        )
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


_counter = iter(range(10**6))


def workspace(client) -> dict[str, str]:
    response = client.post(
        "/v1/workspaces", json={"name": f"school-{next(_counter)}"}, headers=bearer(OPERATOR)
    )
    assert response.status_code == 201, response.text
    return bearer(response.json()["admin_key"]["key"])


def import_course(client, admin, course="algebra", items=ITEMS_CSV, headers=None, **form):
    files = {
        "items": ("items.csv", items, "text/csv"),
        "prerequisites": ("prerequisites.csv", PREREQS_CSV, "text/csv"),
    }
    return client.post(
        "/v1/courses",
        headers={**admin, **(headers or {})},
        data={"id": course, "clock": "steps", **form},
        files=files,
    )


def jobs(client, admin) -> list[dict]:
    response = client.get("/v1/imports", headers=admin)
    assert response.status_code == 200, response.text
    return response.json()


def test_an_import_in_the_worker_answers_as_one_in_the_server(make_client):
    inline = make_client(import_worker_bytes=-1)
    worker = make_client(import_worker_bytes=0)
    answers = []
    for client in (inline, worker):
        admin = workspace(client)
        response = import_course(client, admin)
        assert response.status_code == 201, response.text
        body = response.json()
        answers.append({k: v for k, v in body.items() if k != "created_at"})
        assert client.post("/v1/learners", headers=admin, json={"id": "ada"}).status_code == 201
        response = client.get("/v1/courses/algebra/learners/ada/next?k=4", headers=admin)
        assert response.status_code == 200, response.text
        assert sorted(response.json()["items"]) == ["a1", "a2", "b1", "b2"]
    assert answers[0] == answers[1]
    assert jobs(inline, workspace(inline)) == []
    # The worker's import left a job, done, with the same answer.
    (job,) = jobs(worker, admin)
    assert job["status"] == "done" and job["course"] == "algebra"
    assert job["size"] == len(ITEMS_CSV) + len(PREREQS_CSV)
    assert {k: v for k, v in job["result"].items() if k != "created_at"} == answers[1]
    assert worker.get(f"/v1/imports/{job['id']}", headers=admin).json() == job
    # Another workspace sees neither the job nor its course.
    other = workspace(worker)
    assert worker.get(f"/v1/imports/{job['id']}", headers=other).status_code == 404
    assert jobs(worker, other) == []


def test_errors_from_the_worker_are_the_servers_and_store_nothing(make_client):
    inline = make_client(import_worker_bytes=-1)
    worker = make_client(import_worker_bytes=0)
    bad = ITEMS_CSV + b"c1,C,not-a-number\n"
    found = []
    for client in (inline, worker):
        admin = workspace(client)
        response = import_course(client, admin, items=bad)
        assert response.status_code == 422
        found.append(response.json())
        assert client.get("/v1/courses/algebra", headers=admin).status_code == 404
        # A taken id: 409 both ways, and the first course stays as it was.
        assert import_course(client, admin).status_code == 201
        response = import_course(client, admin, name="again")
        assert response.status_code == 409, response.text
        found.append(response.json())
        assert client.get("/v1/courses/algebra", headers=admin).json()["name"] == ""
    assert found[0] == found[2] and found[1] == found[3]
    assert "items.csv:6" in found[0]["detail"] and found[0]["kind"] == "DataError"
    failed, done, taken = jobs(worker, admin)[::-1]
    assert (failed["status"], failed["http_status"], failed["kind"]) == ("failed", 422, "DataError")
    assert failed["detail"] == found[0]["detail"] and failed["result"] is None
    assert done["status"] == "done"
    assert (taken["status"], taken["http_status"]) == ("failed", 409)


def _poll(client, admin, url, until, timeout=120.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(url, headers=admin).json()
        if job["status"] in until or time.monotonic() > deadline:
            return job
        time.sleep(0.02)


def test_respond_async_gives_a_job_to_follow(make_client):
    client = make_client(import_worker_bytes=0)
    admin = workspace(client)
    response = import_course(client, admin, headers={"Prefer": "respond-async"})
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] in ("queued", "running", "done")
    assert response.headers["location"] == body["url"] == f"/v1/imports/{body['id']}"
    job = _poll(client, admin, body["url"], ("done", "failed"))
    assert job["status"] == "done", job
    assert job["result"]["items"] == 4
    assert client.get("/v1/courses/algebra", headers=admin).json()["items"] == 4


def _big_csv(n: int) -> bytes:
    rows = ["item,skills,difficulty"] + [f"x{k},{'AB'[k % 2]},0.5" for k in range(n)]
    return ("\n".join(rows) + "\n").encode()


def test_a_killed_worker_stores_nothing_and_its_job_says_so(make_client):
    """The worker is killed while its import runs and cannot commit (the test holds
    the database's write lock on SQLite, a lock on the courses table on PostgreSQL):
    nothing of the course is stored, the job is failed, and the next import works."""
    client = make_client(import_worker_bytes=0)
    admin = workspace(client)
    db = client.app.state.service.db
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with db.write() as session:
            if db.dialect == "postgresql":  # the import's INSERT INTO courses waits
                session.execute(text("LOCK TABLE courses IN EXCLUSIVE MODE"))
            holding.set()
            release.wait(60)

    response = import_course(
        client, admin, "killed", items=_big_csv(20_000), headers={"Prefer": "respond-async"}
    )
    assert response.status_code == 202, response.text
    url = response.json()["url"]
    assert _poll(client, admin, url, ("running", "done", "failed"))["status"] == "running"
    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(30)
        assert client.get(url, headers=admin).json()["status"] == "running"
        (pid,) = list(client.app.state.service.imports._pool._processes)
        time.sleep(0.5)
        os.kill(pid, signal.SIGKILL)
    finally:
        release.set()
        holder.join()
    job = _poll(client, admin, url, ("done", "failed"))
    assert (job["status"], job["kind"], job["http_status"]) == ("failed", "interrupted", 500)
    assert "nothing was stored" in job["detail"]
    with db.read() as session:
        assert session.scalar(select(func.count()).where(Course.slug == "killed")) == 0
        items = select(func.count()).where(CourseItem.item_id.in_(["x0", "x19999"]))
        assert session.scalar(items) == 0
    assert client.get("/v1/courses/killed", headers=admin).status_code == 404
    # A fresh worker takes the next import.
    assert import_course(client, admin, "killed").status_code == 201


def test_a_job_whose_heartbeat_stopped_reads_as_interrupted():
    now = utcnow()
    job = ImportJob(
        id=7,
        workspace_id=1,
        course="c",
        status="running",
        size=10,
        created_at=now,
        started_at=now,
        heartbeat_at=now - timedelta(seconds=STALE_S - 1),
    )
    assert job_out(job, now)["status"] == "running"
    job.heartbeat_at = now - timedelta(seconds=STALE_S + 1)
    out = job_out(job, now)
    assert (out["status"], out["kind"]) == ("failed", "interrupted")
    job.status = "done"
    assert job_out(job, now)["status"] == "done"  # a finished job has no heartbeat to miss


def test_next_in_one_query_answers_every_caller_as_before(make_client):
    """``next`` looks the caller up in the same query as the practice
    (:func:`mentor.service.api.practice.caller_and_practice`): each kind of token
    gets the answer it got from the two lookups."""
    client = make_client()
    admin = workspace(client)
    assert import_course(client, admin).status_code == 201
    tokens = {}
    for name in ("ada", "bob"):
        response = client.post("/v1/learners", headers=admin, json={"id": name})
        tokens[name] = bearer(response.json()["token"])
    url = "/v1/courses/algebra/learners/{}/next"
    key = client.post("/v1/keys", headers=admin, json={"name": "ci"}).json()
    grader = client.post("/v1/keys", headers=admin, json={"name": "g", "role": "grader"}).json()
    for headers in (admin, tokens["ada"], bearer(key["key"]), bearer(grader["key"])):
        assert client.get(url.format("ada"), headers=headers).status_code == 200
    # A learner token on another learner, known or not: 403 (existence is not told).
    assert client.get(url.format("bob"), headers=tokens["ada"]).status_code == 403
    assert client.get(url.format("zed"), headers=tokens["ada"]).status_code == 403
    # Unknown course or learner for a key: 404; another workspace's, the same.
    assert client.get(url.format("zed"), headers=admin).status_code == 404
    response = client.get("/v1/courses/nope/learners/ada/next", headers=tokens["ada"])
    assert response.status_code == 404 and "nope" in response.json()["detail"]
    other = workspace(client)
    assert client.get(url.format("ada"), headers=other).status_code == 404
    # Unknown tokens of each kind, a revoked key, the operator token.
    for token in ("ml_unknown", "mk_unknown", "mo_unknown", "xx"):
        assert client.get(url.format("ada"), headers=bearer(token)).status_code == 401
    assert client.delete(f"/v1/keys/{key['id']}", headers=admin).status_code == 200
    response = client.get(url.format("ada"), headers=bearer(key["key"]))
    assert response.status_code == 401 and "revoked" in response.json()["detail"]
    assert client.get(url.format("ada"), headers=bearer(OPERATOR)).status_code == 403
    # Too many items asked: 422 after the caller is known.
    response = client.get(url.format("ada") + "?k=101", headers=admin)
    assert response.status_code == 422 and "at most 100" in response.json()["detail"]


def test_short_switches_nest_and_restore_the_interval():
    import sys

    from mentor.service.engines import LOADING_SWITCH_INTERVAL, short_switches

    before = sys.getswitchinterval()
    with short_switches():
        assert sys.getswitchinterval() == LOADING_SWITCH_INTERVAL
        with short_switches():
            assert sys.getswitchinterval() == LOADING_SWITCH_INTERVAL
        assert sys.getswitchinterval() == LOADING_SWITCH_INTERVAL
    assert sys.getswitchinterval() == before
