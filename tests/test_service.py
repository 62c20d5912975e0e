"""The teaching service's HTTP API, on SQLite always and on PostgreSQL when
MENTOR_TEST_POSTGRES_URL names a server (a fresh database is made for the run
and dropped after it).

Covers: access (each denial: 401, 403, 404), course import in one transaction
(JSON, CSV, the Junyi table; malformed files, unknown items and cycles leave
nothing behind), idempotent event batches, limits (413, 422), next items and
state, the course's model and teacher, exports, and a restart that changes no
decision.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("sqlalchemy")

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import text  # noqa: E402

from mentor.events import read_csv, read_parquet  # noqa: E402
from mentor.service import Limits, create_app  # noqa: E402
from mentor.service.testing import OPERATOR, bearer, postgres_database  # noqa: E402

JUNYI = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "graphs"
JUNYI_TABLE = JUNYI / "junyi_exercise_table.csv"
ITEMS_CSV = b"item,skills,difficulty\na1,A,0.2\na2,A,0.6\nb1,B,0.4\nb2,B,0.8\n"
PREREQS_CSV = b"prerequisite,skill\nA,B\n"
NOW = 1_000_000.0


@pytest.fixture(scope="session")
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
    """Start app instances over the test's database (each a fresh process's view)."""
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


@pytest.fixture
def client(make_client):
    return make_client()


_counter = iter(range(10**6))


def workspace(client) -> dict[str, str]:
    """A new workspace; returns the admin's headers."""
    name = f"school-{next(_counter)}"
    response = client.post("/v1/workspaces", json={"name": name}, headers=bearer(OPERATOR))
    assert response.status_code == 201, response.text
    return bearer(response.json()["admin_key"]["key"])


def import_course(client, admin, course="algebra", files=None, **form):
    files = files or {
        "items": ("items.csv", ITEMS_CSV, "text/csv"),
        "prerequisites": ("prerequisites.csv", PREREQS_CSV, "text/csv"),
    }
    return client.post("/v1/courses", headers=admin, data={"id": course, **form}, files=files)


def learner(client, admin, name) -> dict[str, str]:
    response = client.post("/v1/learners", headers=admin, json={"id": name})
    assert response.status_code == 201, response.text
    return bearer(response.json()["token"])


def post(client, headers, events, key, course="algebra"):
    return client.post(
        f"/v1/courses/{course}/events",
        headers={**headers, "Idempotency-Key": key},
        json={"events": events},
    )


_graders: dict[str, dict[str, str]] = {}


def grader(client, admin) -> dict[str, str]:
    """The headers of a grader key of the admin's workspace (made once)."""
    found = _graders.get(admin["Authorization"])
    if found is None:
        response = client.post("/v1/keys", headers=admin, json={"name": "app", "role": "grader"})
        assert response.status_code == 201, response.text
        found = _graders[admin["Authorization"]] = bearer(response.json()["key"])
    return found


def practise(client, admin, name, events, key, course="algebra"):
    """Post learner ``name``'s outcomes as an app that grades them (a grader key)."""
    events = [{"learner": name, **event} for event in events]
    return post(client, grader(client, admin), events, key, course)


def stored(client, admin, course="algebra") -> list[dict]:
    response = client.get(f"/v1/courses/{course}/events?limit=10000", headers=admin)
    assert response.status_code == 200, response.text
    return response.json()["events"]


@pytest.fixture
def course(client):
    """A workspace with the course 'algebra' (clock: steps) and learner 'ada'."""
    admin = workspace(client)
    response = import_course(client, admin, clock="steps")
    assert response.status_code == 201, response.text
    ada = learner(client, admin, "ada")
    return admin, ada


# ---------------------------------------------------------------- the service
def test_health_openapi_and_database_settings(client, db_url):
    assert client.get("/healthz").json()["status"] == "ok"
    schema = client.get("/openapi.json").json()
    paths = set(schema["paths"])
    for path in (
        "/v1/workspaces",
        "/v1/courses",
        "/v1/courses/{course}/events",
        "/v1/courses/{course}/learners/{learner}/next",
        "/v1/courses/{course}/learners/{learner}/state",
        "/v1/courses/{course}/policy",
    ):
        assert path in paths
    assert "HTTPBearer" in schema["components"]["securitySchemes"]
    service = client.app.state.service
    if db_url.startswith("sqlite"):
        with service.db.write() as session:
            run = session.connection().exec_driver_sql
            assert run("PRAGMA journal_mode").scalar() == "wal"
            assert run("PRAGMA synchronous").scalar() == 2  # FULL
            assert run("PRAGMA busy_timeout").scalar() >= 5000
            assert run("PRAGMA foreign_keys").scalar() == 1


def test_migrations_are_at_head_and_rerun_is_a_no_op(client):
    from mentor.service.migrate import current, head, upgrade

    db = client.app.state.service.db
    with db.read() as session:
        assert current(session.connection()) == head()
    upgrade(db)
    with db.read() as session:
        assert current(session.connection()) == head()


def test_the_migrations_make_the_tables_of_the_models(client):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from mentor.service.tables import Base

    with client.app.state.service.db.read() as session:
        context = MigrationContext.configure(session.connection(), opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_a_database_from_a_newer_mentor_is_refused(tmp_path):
    from mentor.errors import MentorError

    url = f"sqlite:///{tmp_path / 'mentor.db'}"
    db = create_app(url, tmp_path, operator_token=OPERATOR).state.service.db
    with db.write() as session:
        session.execute(text("UPDATE alembic_version SET version_num = 'zzzz'"))
    db.dispose()
    with pytest.raises(MentorError, match="newer mentor"):
        create_app(url, tmp_path, operator_token=OPERATOR)


# ---------------------------------------------------------------- access
def test_every_denial(client, course):
    admin, ada = course
    bob = learner(client, admin, "bob")
    next_ada = "/v1/courses/algebra/learners/ada/next"
    # 401: no token, a malformed header, an unknown token of each kind.
    response = client.get(next_ada)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "missing token" in response.json()["detail"]
    assert client.get(next_ada, headers={"Authorization": "Basic abc"}).status_code == 401
    for token in ("mk_nope", "ml_nope", "mo_nope", "garbage"):
        response = client.get(next_ada, headers=bearer(token))
        assert response.status_code == 401, token
        assert response.json()["detail"] == "invalid token"
    # 403: a learner on admin routes, on another learner's practice, the operator
    # anywhere but workspace creation, an admin creating a workspace.
    assert client.get("/v1/learners", headers=ada).status_code == 403
    assert client.post("/v1/learners", headers=ada, json={"id": "eve"}).status_code == 403
    assert import_course(client, ada, course="mine").status_code == 403
    assert client.put("/v1/courses/algebra/policy", headers=ada, json={}).status_code == 403
    assert client.delete("/v1/courses/algebra", headers=ada).status_code == 403
    assert client.get("/v1/keys", headers=ada).status_code == 403
    assert client.get("/v1/courses/algebra/learners/bob/next", headers=ada).status_code == 403
    assert client.get("/v1/courses/algebra/learners/bob/state", headers=ada).status_code == 403
    response = client.get("/v1/courses/algebra/events?learner=bob", headers=ada)
    assert response.status_code == 403
    event = {"learner": "bob", "item": "a1", "time": 1, "outcome": 1}
    response = post(client, ada, [event], "k1")
    assert response.status_code == 403
    assert "cannot post outcomes" in response.json()["detail"]
    # ... and for a learner unknown to the workspace, still 403 (existence is not told).
    assert client.get("/v1/courses/algebra/learners/zed/next", headers=ada).status_code == 403
    assert client.get("/v1/courses", headers=bearer(OPERATOR)).status_code == 403
    assert client.post("/v1/workspaces", json={"name": "x"}, headers=admin).status_code == 403
    # A learner's own practice is allowed.
    assert client.get(next_ada, headers=ada).status_code == 200
    assert client.get("/v1/courses/algebra/learners/bob/next", headers=bob).status_code == 200
    assert client.get("/v1/me", headers=ada).json()["learner"] == "ada"
    assert stored(client, admin) == []


def test_workspaces_never_see_each_other(client, course):
    admin, ada = course
    practise(client, admin, "ada", [{"item": "a1", "time": 1, "outcome": 1}], "k1")
    other = workspace(client)
    # 404 for the other workspace's course and learner, as for ones that do not exist.
    for path in (
        "/v1/courses/algebra",
        "/v1/courses/algebra/items",
        "/v1/courses/algebra/events",
        "/v1/courses/algebra/learners/ada/next",
        "/v1/courses/algebra/learners/ada/state",
    ):
        response = client.get(path, headers=other)
        assert response.status_code == 404, path
        assert response.json()["detail"] == "course 'algebra' not found"
    assert client.get("/v1/learners/ada", headers=other).status_code == 404
    assert client.post("/v1/learners/ada/token", headers=other).status_code == 404
    assert client.delete("/v1/courses/algebra", headers=other).status_code == 404
    assert client.put("/v1/courses/algebra/policy", headers=other, json={}).status_code == 404
    assert (
        post(client, other, [{"learner": "ada", "item": "a1", "outcome": 1}], "k").status_code
        == 404
    )
    assert client.get("/v1/courses", headers=other).json() == []
    assert client.get("/v1/learners", headers=other).json() == []
    # The same course id and learner id in the other workspace are separate.
    assert import_course(client, other, clock="steps").status_code == 201
    response = post(
        client, other, [{"learner": "ada", "item": "b1", "time": 5, "outcome": 0}], "k1"
    )
    assert response.status_code == 201
    assert [e["item"] for e in stored(client, admin)] == ["a1"]
    assert [e["item"] for e in stored(client, other)] == ["b1"]
    # A learner token of one workspace is a stranger in the other.
    assert client.get("/v1/courses/algebra", headers=ada).json()["events"] == 1
    other_key_id = client.get("/v1/keys", headers=other).json()[0]["id"]
    assert client.delete(f"/v1/keys/{other_key_id}", headers=admin).status_code == 404


def test_keys_are_hashed_listed_by_prefix_and_revoked_at_once(client):
    admin = workspace(client)
    response = client.post("/v1/keys", headers=admin, json={"name": "ci"})
    assert response.status_code == 201
    key = response.json()
    second = bearer(key["key"])
    assert client.get("/v1/courses", headers=second).status_code == 200
    listed = client.get("/v1/keys", headers=admin).json()
    assert [k["name"] for k in listed] == ["first admin key", "ci"]
    assert all("key" not in k for k in listed)
    assert key["key"].startswith(key["prefix"])
    # Only the SHA-256 of a token is in the database.
    from sqlalchemy import select

    from mentor.service.security import token_hash
    from mentor.service.tables import ApiKey

    with client.app.state.service.db.read() as session:
        hashes = session.scalars(select(ApiKey.token_hash)).all()
    assert token_hash(key["key"]) in hashes
    assert key["key"] not in hashes
    assert client.delete(f"/v1/keys/{key['id']}", headers=admin).json()["revoked"] is True
    response = client.get("/v1/courses", headers=second)
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_learner_tokens_rotate(client, course):
    admin, ada = course
    assert client.post("/v1/learners", headers=admin, json={"id": "ada"}).status_code == 409
    response = client.post("/v1/learners/ada/token", headers=admin)
    assert response.status_code == 200
    assert client.get("/v1/me", headers=ada).status_code == 401
    assert client.get("/v1/me", headers=bearer(response.json()["token"])).status_code == 200


# ---------------------------------------------------------------- import
def test_import_csv_json_and_junyi(client):
    admin = workspace(client)
    response = import_course(client, admin, name="Algebra")
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["items"], body["skills"], body["prerequisites"]) == (4, 2, 1)
    assert body["format"] == "csv"
    items = client.get("/v1/courses/algebra/items", headers=admin).json()
    assert [i["id"] for i in items["items"]] == ["a1", "a2", "b1", "b2"]
    assert items["items"][2] == {"id": "b1", "skills": ["B"], "difficulty": 0.4, "attributes": {}}
    # JSON, with integer ids: the service keeps every id as a string.
    domain = {
        "skills": [{"id": 1, "name": "counting"}, {"id": 2}],
        "items": [{"id": 10, "skills": [1]}, {"id": 20, "skills": [2], "difficulty": 1.5}],
        "prerequisites": [[1, 2]],
    }
    files = {"items": ("course.json", json.dumps(domain).encode(), "application/json")}
    response = import_course(client, admin, "numbers", files=files)
    assert response.status_code == 201, response.text
    assert response.json()["format"] == "json"
    items = client.get("/v1/courses/numbers/items", headers=admin).json()["items"]
    assert [(i["id"], i["skills"]) for i in items] == [("10", ["1"]), ("20", ["2"])]
    event = {"learner": "ada", "item": 20, "time": 1, "outcome": 1}
    assert post(client, admin, [event], "k", "numbers").status_code == 201
    if not JUNYI_TABLE.is_file():
        pytest.skip(f"{JUNYI_TABLE} is not here")
    files = {"items": ("junyi_exercise_table.csv", JUNYI_TABLE.read_bytes(), "text/csv")}
    response = import_course(client, admin, "junyi", files=files)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["format"] == "junyi"
    assert body["items"] == body["skills"] == 835
    # Two self-loops and one edge of a three-exercise cycle are dropped, and said so.
    assert len(body["dropped_prerequisites"]) == 3
    response = client.get("/v1/courses/junyi/learners/ada/next?k=3&t=0", headers=admin)
    assert response.status_code == 200
    assert len(response.json()["items"]) == 3


def test_import_with_history(client):
    admin = workspace(client)
    history = b"learner,item,time,outcome\nada,a1,1,1\nada,a2,2,0\nbob,a1,1,1\n"
    files = {
        "items": ("items.csv", ITEMS_CSV, "text/csv"),
        "prerequisites": ("prerequisites.csv", PREREQS_CSV, "text/csv"),
        "events": ("history.csv", history, "text/csv"),
    }
    response = import_course(client, admin, files=files, clock="steps")
    assert response.status_code == 201, response.text
    assert response.json()["imported_events"] == 3
    assert response.json()["learners"] == 2
    state = client.get("/v1/courses/algebra/learners/ada/state", headers=admin).json()
    assert state["events"] == 2 and state["last_time"] == 2.0
    # The history's learners exist, without tokens until an admin issues them.
    learners = client.get("/v1/learners", headers=admin).json()
    assert {(x["id"], x["has_token"]) for x in learners} == {("ada", False), ("bob", False)}
    assert "token" in client.post("/v1/learners", headers=admin, json={"id": "ada"}).json()


@pytest.mark.parametrize(
    ("files", "message", "kind"),
    [
        (
            {"items": ("items.csv", b"item,skills,difficulty\na1,A,0.2\na2,A,hard\n")},
            "items.csv:3, field 'difficulty', value 'hard': difficulty is not a number",
            "DataError",
        ),
        (
            {
                "items": ("items.csv", ITEMS_CSV),
                "prerequisites": ("prereqs.csv", b"prerequisite,skill\nA,B\nB,A\n"),
            },
            "items.csv: prerequisite graph has a cycle: A -> B -> A",
            "CycleError",
        ),
        (
            {
                "items": ("items.csv", ITEMS_CSV),
                "prerequisites": ("prereqs.csv", b"prerequisite,skill\nA,Z\n"),
            },
            "prereqs.csv:2, field 'skill', value 'Z': unknown skill (no item exercises it)",
            "DataError",
        ),
        (
            {
                "items": ("items.csv", ITEMS_CSV),
                "events": ("log.csv", b"learner,item,time,outcome\nada,a1,1,1\nada,zz,2,1\n"),
            },
            "log.csv, field 'item', value 'zz': unknown item (event 2 of the file",
            "DataError",
        ),
        (
            {"items": ("c.json", b'{"items": [{"id": "a", "skills": ["s"]}], "prerequisites":')},
            "c.json:1: invalid JSON",
            "DataError",
        ),
        ({"items": ("items.csv", b"\xff\xfe\x00bad")}, "not UTF-8 text", "DataError"),
        ({"items": ("items.csv", b"item,skills\n")}, "the course has no items", "DataError"),
        (
            {"items": ("items.csv", b"item,skills\na1,A\na1,B\n")},
            "items.csv:3, field 'item', value 'a1': duplicate item (first on line 2)",
            "DataError",
        ),
    ],
)
def test_a_bad_import_leaves_nothing(client, files, message, kind):
    admin = workspace(client)
    response = import_course(client, admin, files=files)
    assert response.status_code == 422, response.text
    assert message in response.json()["detail"]
    assert response.json()["kind"] == kind
    assert "/tmp" not in response.json()["detail"]  # names the file as uploaded
    assert client.get("/v1/courses", headers=admin).json() == []
    assert client.get("/v1/courses/algebra", headers=admin).status_code == 404
    assert client.get("/v1/learners", headers=admin).json() == []


def test_import_refuses_a_taken_id_and_bad_policies(client):
    admin = workspace(client)
    assert import_course(client, admin).status_code == 201
    response = import_course(client, admin)
    assert response.status_code == 409
    response = import_course(client, admin, "other", model='{"name": "nope"}')
    assert response.status_code == 422
    assert "unknown student model" in response.json()["detail"]
    assert "bkt" in response.json()["detail"]
    response = import_course(
        client, admin, "other", teacher='{"name": "zpdes", "params": {"x": 1}}'
    )
    assert response.status_code == 422
    assert "zpdes has no parameter 'x'" in response.json()["detail"]
    response = import_course(client, admin, "other", format="xml")
    assert response.status_code == 422
    response = import_course(client, admin, "bad id!")
    assert response.status_code == 422
    assert [c["id"] for c in client.get("/v1/courses", headers=admin).json()] == ["algebra"]


# ---------------------------------------------------------------- events
def test_a_retried_batch_is_stored_once_and_gets_the_same_response(client, course):
    admin, ada = course
    events = [{"item": "a1", "time": 1, "outcome": 1}, {"item": "a2", "time": 2, "outcome": 0}]
    first = practise(client, admin, "ada", events, "batch-1")
    assert first.status_code == 201, first.text
    assert first.json()["accepted"] == 2
    assert first.json()["learners"] == {"ada": 2}
    assert "idempotent-replayed" not in first.headers
    again = practise(client, admin, "ada", events, "batch-1")
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert len(stored(client, admin)) == 2
    # The same key with another body is refused, and stores nothing.
    other = practise(client, admin, "ada", [{"item": "b1", "time": 3, "outcome": 1}], "batch-1")
    assert other.status_code == 422
    assert "already used for a different batch" in other.json()["detail"]
    assert len(stored(client, admin)) == 2
    # Keys are per scope: the workspace's graders share one, its admins another.
    by_admin = post(
        client, admin, [{"learner": "cy", "item": "a1", "time": 1, "outcome": 1}], "batch-1"
    )
    assert by_admin.status_code == 201
    assert len(stored(client, admin)) == 3
    # No key: refused, saying so.
    response = client.post("/v1/courses/algebra/events", headers=ada, json={"events": events})
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["detail"]


def test_bad_events_are_refused_whole(make_client):
    client = make_client(max_batch_events=5, max_body_bytes=4096)
    admin = workspace(client)
    assert import_course(client, admin, clock="steps").status_code == 201
    ada = learner(client, admin, "ada")
    good = {"item": "a1", "time": 1, "outcome": 1}
    cases = [
        ([good, {"item": "zz", "time": 2, "outcome": 1}], "events[1].item: unknown item 'zz'"),
        ([good, {"item": "a1", "time": 2, "outcome": 1.5}], "events[1].outcome"),
        ([good, {"item": "a1", "time": 0, "outcome": 1}], "events[1].time: 0 is before"),
        ([{"item": "a1", "outcome": 1}], "events[0].time: required in a course whose clock"),
        ([{"item": "a1", "time": "yesterday", "outcome": 1}], "neither a number nor an ISO"),
        ([good] * 6, "the batch has 6 events; at most 5 are allowed per request"),
        ([], "the batch has no events"),
        ([{**good, "extra": {"time": 3}}], "extra field 'time'"),
        ([{**good, "colour": "red"}], "events[0].colour: Extra inputs are not permitted"),
        ([{**good, "outcome": True}], "true is a boolean, not a number"),
    ]
    for k, (events, message) in enumerate(cases):
        response = practise(client, admin, "ada", events, f"key-{k}")
        assert response.status_code in (403, 422), (message, response.text)
        assert message in response.json()["detail"], (message, response.text)
    response = client.post(
        "/v1/courses/algebra/events",
        headers={**ada, "Idempotency-Key": "big", "Content-Type": "application/json"},
        content=b'{"events": [' + b" " * 5000 + b"]}",
    )
    assert response.status_code == 413
    assert "over the limit of 4096 bytes" in response.json()["detail"]
    response = client.post(
        "/v1/courses/algebra/events",
        headers={**ada, "Idempotency-Key": "chunked", "Content-Type": "application/json"},
        content=iter([b'{"events": [', b" " * 5000, b"]}"]),
    )
    assert response.status_code == 413
    # A NaN is not a number mentor takes.
    response = client.post(
        "/v1/courses/algebra/events",
        headers={**ada, "Idempotency-Key": "nan", "Content-Type": "application/json"},
        content=b'{"events": [{"item": "a1", "time": NaN, "outcome": 1}]}',
    )
    assert response.status_code == 422
    assert stored(client, admin) == []
    # Times go forward across batches too, per learner.
    assert (
        practise(client, admin, "ada", [{"item": "a1", "time": 5, "outcome": 1}], "ok").status_code
        == 201
    )
    response = practise(client, admin, "ada", [{"item": "a1", "time": 4, "outcome": 1}], "late")
    assert response.status_code == 422
    assert "4 is before learner 'ada''s previous event at 5" in response.json()["detail"]
    assert len(stored(client, admin)) == 1


def test_wall_clock_course_stamps_events_with_the_server_time(client):
    admin = workspace(client)
    assert import_course(client, admin).status_code == 201
    ada = learner(client, admin, "ada")
    response = practise(client, admin, "ada", [{"item": "a1", "outcome": 1}], "k")
    assert response.status_code == 201
    assert stored(client, admin)[0]["time"] == NOW
    iso = practise(
        client, admin, "ada", [{"item": "a2", "time": "1970-01-12T13:48:20Z", "outcome": 1}], "k2"
    )
    assert iso.status_code == 201
    assert stored(client, admin)[1]["time"] == NOW + 100
    state = client.get("/v1/courses/algebra/learners/ada/state", headers=ada).json()
    assert state["t"] == NOW


# ---------------------------------------------------------------- next and state
def test_next_items_and_state(client, course):
    admin, ada = course
    response = client.get("/v1/courses/algebra/learners/ada/next?k=2", headers=ada)
    assert response.status_code == 200
    first = response.json()["items"]
    assert first and set(first) <= {"a1", "a2", "b1", "b2"}
    # Safe to repeat: nothing changed, same items.
    again = client.get("/v1/courses/algebra/learners/ada/next?k=2", headers=ada).json()["items"]
    assert again == first
    assert client.get("/v1/courses/algebra/learners/ada/next?k=0", headers=ada).status_code == 422
    response = client.get("/v1/courses/algebra/learners/ada/next?k=500", headers=ada)
    assert response.status_code == 422
    assert "at most 100 items" in response.json()["detail"]
    state = client.get("/v1/courses/algebra/learners/ada/state", headers=ada).json()
    assert set(state["mastery"]) == {"A", "B"}
    assert state["events"] == 0 and state["recall"] is None and state["due"] == []
    before = state["mastery"]["A"]
    events = [{"item": "a1", "time": t, "outcome": 1} for t in range(1, 4)]
    assert practise(client, admin, "ada", events, "k").status_code == 201
    state = client.get("/v1/courses/algebra/learners/ada/state", headers=ada).json()
    assert state["mastery"]["A"] > before
    assert state["events"] == 3 and state["model"] == "bkt"
    # An admin reads any learner of the workspace; an unknown one is 404.
    assert client.get("/v1/courses/algebra/learners/ada/state", headers=admin).json() == state
    response = client.get("/v1/courses/algebra/learners/nobody/state", headers=admin)
    assert response.status_code == 404


def test_memory_model_gives_recall_and_due_reviews(client, course):
    admin, ada = course
    response = client.put(
        "/v1/courses/algebra/policy",
        headers=admin,
        json={"model": {"name": "sm2"}, "teacher": {"name": "due_review", "params": {}}},
    )
    assert response.status_code == 200, response.text
    assert response.json()["model"] == {"name": "sm2", "params": {}}
    day = 86400.0
    events = [
        {"item": "a1", "time": 0, "outcome": 1},
        {"item": "b1", "time": 10, "outcome": 1},
        {"item": "b1", "time": 2 * day, "outcome": 1},
    ]
    assert practise(client, admin, "ada", events, "k").status_code == 201
    url = "/v1/courses/algebra/learners/ada/state"
    soon = client.get(f"{url}?t={2 * day + 60}", headers=ada).json()
    assert set(soon["recall"]) == {"a1", "b1"}
    later = client.get(f"{url}?t={60 * day}", headers=ada).json()
    assert [d["item"] for d in later["due"]] == sorted(
        later["recall"], key=lambda item: later["recall"][item]
    )
    assert all(d["recall"] < 0.9 for d in later["due"])
    assert later["recall"]["a1"] < soon["recall"]["a1"]
    due = client.get(f"/v1/courses/algebra/learners/ada/next?t={60 * day}&k=2", headers=ada)
    assert due.status_code == 200
    assert due.json()["items"] == [d["item"] for d in later["due"]][:2]


def test_policy_replays_the_events_and_refuses_bad_specs(client, course):
    admin, ada = course
    events = [{"item": "a1", "time": t, "outcome": t % 2} for t in range(1, 9)]
    assert practise(client, admin, "ada", events, "k").status_code == 201
    response = client.put(
        "/v1/courses/algebra/policy",
        headers=admin,
        json={
            "model": {"name": "elo", "params": {"skill_ability": True}},
            "teacher": {
                "name": "mixture",
                "params": {"parts": [[{"name": "target"}, 0.8], [{"name": "random"}, 0.2]]},
            },
        },
    )
    assert response.status_code == 200, response.text
    state = client.get("/v1/courses/algebra/learners/ada/state", headers=ada).json()
    assert state["model"] == "elo"
    assert state["mastery"]["A"] != 0.5  # the replayed events moved it
    assert client.get("/v1/courses/algebra/learners/ada/next", headers=ada).status_code == 200
    response = client.put(
        "/v1/courses/algebra/policy", headers=admin, json={"model": {"name": "bkt"}, "fit": True}
    )
    assert response.status_code == 200, response.text
    for body, message in [
        ({"teacher": {"name": "telepathy"}}, "unknown teacher"),
        ({"model": {"name": "bkt", "params": {"wings": 2}}}, "bkt has no parameter 'wings'"),
        ({"teacher": {"name": "target", "params": {"target": "high"}}}, "target"),
        ({"teacher": {"name": "mixture", "params": {"parts": 3}}}, "mixture needs parts"),
        ({"clock": "sundial"}, "clock"),
    ]:
        response = client.put("/v1/courses/algebra/policy", headers=admin, json=body)
        assert response.status_code == 422, (body, response.text)
        assert message in response.json()["detail"], (body, response.text)
    assert client.get("/v1/courses/algebra", headers=admin).json()["model"]["name"] == "bkt"


def test_export_round_trips_through_mentors_readers(client, course, tmp_path):
    admin, ada = course
    learner(client, admin, "bob")
    events = [{"item": "a1", "time": 1, "outcome": 1, "extra": {"rating": 3}}]
    practise(client, admin, "ada", events, "1")
    practise(
        client,
        admin,
        "bob",
        [{"item": "b2", "time": 2.5, "outcome": 0, "extra": {"hint": True}}],
        "2",
    )
    practise(client, admin, "ada", [{"item": "a2", "time": 3, "outcome": 0.5}], "3")
    response = client.get("/v1/courses/algebra/events?format=csv", headers=admin)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "algebra-events.csv" in response.headers["content-disposition"]
    path = tmp_path / "events.csv"
    path.write_bytes(response.content)
    log = read_csv(path)
    assert log.learner.tolist() == ["ada", "bob", "ada"]
    assert log.item.tolist() == ["a1", "b2", "a2"]
    assert log.time.tolist() == [1.0, 2.5, 3.0]
    assert log.outcome.tolist() == [1.0, 0.0, 0.5]
    response = client.get("/v1/courses/algebra/events?format=parquet", headers=admin)
    assert response.status_code == 200
    path = tmp_path / "events.parquet"
    path.write_bytes(response.content)
    log = read_parquet(path)
    assert log.item.tolist() == ["a1", "b2", "a2"]
    assert log.extra["rating"][0] == 3.0 and log.extra["hint"][1] == 1.0
    # A learner exports their own events only.
    mine = client.get("/v1/courses/algebra/events?format=csv", headers=ada).text
    assert "bob" not in mine and mine.count("ada") == 2
    page = client.get("/v1/courses/algebra/events?limit=2", headers=admin).json()
    assert len(page["events"]) == 2 and page["next_after"] is not None
    rest = client.get(f"/v1/courses/algebra/events?after={page['next_after']}", headers=admin)
    assert [e["item"] for e in rest.json()["events"]] == ["a2"]
    assert rest.json()["next_after"] is None


def test_a_restart_changes_no_decision(make_client, course, client):
    admin, ada = course
    others = {name: learner(client, admin, name) for name in ("bob", "cy", "dee")}
    client.put(
        "/v1/courses/algebra/policy",
        headers=admin,
        json={"teacher": {"name": "zpdes", "params": {"window": 2}}},
    )
    tokens = {"ada": ada, **others}
    t = 1
    for round_ in range(4):
        for k, (name, token) in enumerate(tokens.items()):
            items = client.get(f"/v1/courses/algebra/learners/{name}/next", headers=token)
            item = items.json()["items"][0]
            event = {"item": item, "time": t, "outcome": float((round_ + k) % 2)}
            assert practise(client, admin, name, [event], f"{name}-{round_}").status_code == 201
            t += 1

    def decisions(c):
        return {
            name: c.get(f"/v1/courses/algebra/learners/{name}/next?k=2", headers=token).json()
            for name, token in tokens.items()
        } | {
            f"{name}-state": c.get(
                f"/v1/courses/algebra/learners/{name}/state", headers=token
            ).json()["mastery"]
            for name, token in tokens.items()
        }

    before = decisions(client)
    restarted = make_client()  # a second instance over the same database
    assert decisions(restarted) == before
    # Both follow writes made through the other.
    event = {"item": "a1", "time": t, "outcome": 1}
    assert practise(restarted, admin, "ada", [event], "after-restart").status_code == 201
    assert decisions(client) == decisions(restarted)
    assert decisions(client) != before


def test_delete_course(client, course):
    admin, ada = course
    practise(client, admin, "ada", [{"item": "a1", "time": 1, "outcome": 1}], "k")
    assert client.delete("/v1/courses/algebra", headers=admin).status_code == 204
    assert client.get("/v1/courses/algebra", headers=admin).status_code == 404
    assert client.get("/v1/courses/algebra/learners/ada/next", headers=ada).status_code == 404
    assert import_course(client, admin, clock="steps").status_code == 201
    assert stored(client, admin) == []
    # The same key is fresh in the new course.
    assert (
        practise(client, admin, "ada", [{"item": "a1", "time": 1, "outcome": 1}], "k").status_code
        == 201
    )


def test_requests_that_are_not_json_get_a_4xx(client, course):
    admin, ada = course
    response = client.post(
        "/v1/courses/algebra/events",
        headers={**ada, "Idempotency-Key": "x", "Content-Type": "application/json"},
        content=b"{not json",
    )
    assert response.status_code == 422
    response = client.post("/v1/courses", headers=admin, content=b"nothing")
    assert response.status_code == 422
    form = io.BytesIO(b"x")
    response = client.post("/v1/courses", headers=admin, files={"items": ("a.csv", form)})
    assert response.status_code == 422
    assert "id" in response.json()["detail"]


def test_serve_command_refuses_a_bad_database_in_one_line(tmp_path):
    import typer
    from typer.testing import CliRunner

    from mentor.cli.serve import serve
    from mentor.errors import MentorError

    app = typer.Typer()
    app.command()(serve)
    app.command("other")(lambda: None)  # two commands: 'serve' is a subcommand
    runner = CliRunner()
    result = runner.invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--data-dir" in result.output and "--db" in result.output
    for url, message in [
        ("mysql://nobody@localhost/x", "unsupported database"),
        ("not a url", "not a database URL"),
        ("postgresql+psycopg://nobody@127.0.0.1:1/x", "cannot use the database"),
    ]:
        result = runner.invoke(app, ["serve", "--data-dir", str(tmp_path), "--db", url])
        assert isinstance(result.exception, MentorError), result.output
        assert message in str(result.exception)


def test_state_is_a_snapshot_plus_the_batches_after_it(db_url, tmp_path):
    """Every third batch saves a snapshot; a process that starts after 7 batches
    (snapshot at 6, batch 7 applied to it) and one that missed batches (applies
    them to its cached engine) hold exactly the engine of the writer."""

    def app():
        made = create_app(db_url, tmp_path / "data", operator_token=OPERATOR, snapshot_every=3)
        return made, TestClient(made).__enter__()

    writer_app, writer = app()
    admin = workspace(writer)
    assert import_course(writer, admin, clock="steps").status_code == 201
    with writer_app.state.service.db.read() as session:
        course_id = session.execute(text("SELECT max(id) FROM courses")).scalar()
    put = {"model": {"name": "bkt"}, "teacher": {"name": "zpdes", "params": {"window": 2}}}
    assert writer.put("/v1/courses/algebra/policy", headers=admin, json=put).status_code == 200
    reader_app, reader = app()
    names = ("ada", "bob")
    for name in names:
        learner(writer, admin, name)
    assert reader.get("/v1/courses/algebra/learners/ada/next", headers=admin).status_code == 200

    def engine_state(made):
        with made.state.service.engines.reading(course_id) as (session, engine):
            head = made.state.service.engines.head(session, course_id)
            return head, engine.model.state_dict(), engine.teacher.state_dict()

    for step in range(7):
        events = [
            {
                "learner": name,
                "item": ("a1", "b2", "a2")[(step + k) % 3],
                "time": step,
                "outcome": float((step * k) % 2),
                "extra": {"hint": k},
            }
            for k, name in enumerate(names)
        ]
        assert post(writer, admin, events, f"b{step}").status_code == 201
    head, model_state, teacher_state = engine_state(writer_app)
    # Version 1 is the policy (a snapshot); batches are versions 2..8; snapshots every 3.
    assert (head.version, head.snapshot_version, head.base_version) == (8, 7, 1)
    assert engine_state(reader_app) == (head, model_state, teacher_state)
    started_app, _ = app()
    assert engine_state(started_app) == (head, model_state, teacher_state)
    for made in (writer_app, reader_app, started_app):
        with made.state.service.db.read() as session:
            query = text("SELECT count(*) FROM batches WHERE course_id = :c")
            assert session.execute(query, {"c": course_id}).scalar() == 7


def test_a_course_read_back_in_slices_is_the_course_imported(db_url, tmp_path, monkeypatch):
    """Loading a course's domain from its tables (two rows a slice, JSON columns
    decoded once per distinct text) gives back every item as imported, in order:
    several skills, no difficulty, nested and repeated attributes, non-ASCII text."""
    from mentor.service import engines

    monkeypatch.setattr(engines, "ITEM_ROWS_PER_SLICE", 2)
    made = create_app(db_url, tmp_path / "data", operator_token=OPERATOR)
    client = TestClient(made).__enter__()
    admin = workspace(client)
    hint = {"hint": "zählen", "steps": [1, {"n": 2}]}
    items = [
        {"id": "i0", "skills": ["A", "B"], "difficulty": 0.5, "attributes": hint},
        {"id": "i1", "skills": ["A"]},
        {"id": "i2", "skills": ["B"], "difficulty": -1.25, "attributes": hint},
        {"id": "i3", "skills": ["A", "B"], "difficulty": 0.5},
        {"id": "i4", "skills": ["B"], "attributes": {"text": "½ + ½"}},
    ]
    course = {"skills": [{"id": "A"}, {"id": "B"}], "items": items, "prerequisites": [["A", "B"]]}
    files = {"items": ("course.json", json.dumps(course).encode(), "application/json")}
    assert import_course(client, admin, "slices", files=files).status_code == 201
    with made.state.service.db.read() as session:
        course_id = session.execute(text("SELECT max(id) FROM courses")).scalar()
        domain = engines.load_domain_rows(session, course_id)
    attributes = [hint, {}, hint, {}, {"text": "½ + ½"}]
    assert [(i.id, i.skills, i.difficulty, dict(i.attributes)) for i in domain.items.values()] == [
        ("i0", ("A", "B"), 0.5, attributes[0]),
        ("i1", ("A",), None, attributes[1]),
        ("i2", ("B",), -1.25, attributes[2]),
        ("i3", ("A", "B"), 0.5, attributes[3]),
        ("i4", ("B",), None, attributes[4]),
    ]
    # Items with the same attributes text share nothing a caller could change.
    assert domain.items["i0"].attributes is not domain.items["i2"].attributes
    assert (list(domain.skills), list(domain.graph.edges)) == (["A", "B"], [("A", "B")])
    client.__exit__(None, None, None)


def test_a_reader_older_than_the_cache_gets_the_newer_engine(db_url, tmp_path):
    """A reader whose transaction began before a batch committed sees the old
    version in the database but gets the process's newer engine, without a
    reload that would put the older state back in the cache; and a reader that
    may not wait is told at once that a writer holds the course."""
    from mentor.service.engines import EngineBusy

    made = create_app(db_url, tmp_path / "data", operator_token=OPERATOR)
    client = TestClient(made).__enter__()
    admin = workspace(client)
    assert import_course(client, admin, clock="steps").status_code == 201
    learner(client, admin, "ada")
    engines = made.state.service.engines
    first = [{"learner": "ada", "item": "a1", "time": 0, "outcome": 1}]
    assert post(client, admin, first, "one").status_code == 201
    with made.state.service.db.read() as stale:
        course_id = stale.execute(text("SELECT max(id) FROM courses")).scalar()
        before = engines.head(stale, course_id).version  # the stale snapshot shows this
        second = [{"learner": "ada", "item": "a2", "time": 1, "outcome": 0}]
        assert post(client, admin, second, "two").status_code == 201
        with engines.reading(course_id) as (_, fresh):
            after = fresh.model.state_dict()
        with engines.reading(course_id, stale) as (_, engine):
            assert engines.head(stale, course_id).version == before
            assert engine.model.state_dict() == after
        assert engines._cache[course_id].version == before + 1
        assert engines._cache[course_id].engine is engine
    with engines.writing(course_id):
        with pytest.raises(EngineBusy, match=f"the engine of course {course_id} is in use"):
            with engines.reading(course_id, wait=False):
                pass
    with engines.reading(course_id, wait=False) as (session, engine):
        assert engines.head(session, course_id).version == before + 1
        assert engine.model.state_dict() == after


def test_next_waits_for_a_writer_that_holds_the_course(db_url, tmp_path):
    """While a batch holds the course's engine, a next-items request does not fail
    or read a half-changed engine: it waits in a worker thread and answers once
    the writer is done, with the items of the committed state."""
    import threading

    made = create_app(db_url, tmp_path / "data", operator_token=OPERATOR)
    client = TestClient(made).__enter__()
    admin = workspace(client)
    assert import_course(client, admin, clock="steps").status_code == 201
    learner(client, admin, "ada")
    url = "/v1/courses/algebra/learners/ada/next?k=2"
    expected = client.get(url, headers=admin).json()["items"]
    engines = made.state.service.engines
    with made.state.service.db.read() as session:
        course_id = session.execute(text("SELECT max(id) FROM courses")).scalar()
    holding, release, answers = threading.Event(), threading.Event(), []

    def writer():
        with engines.writing(course_id):
            holding.set()
            release.wait(10)

    def reader():
        answers.append(client.get(url, headers=admin))

    threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
    threads[0].start()
    assert holding.wait(10)
    threads[1].start()
    threads[1].join(0.5)
    assert threads[1].is_alive() and not answers  # waiting for the writer
    release.set()
    for thread in threads:
        thread.join(10)
    assert answers[0].status_code == 200
    assert answers[0].json()["items"] == expected


def test_rate_limit_per_token_with_retry_after(tmp_path):
    """At 1 request per second (bursts of 2), a token's third request in the same
    instant gets 429 with Retry-After 1; another token is counted apart, health
    checks are not counted, and a second later the token has one request again."""
    now = [1000.0]
    made = create_app(
        None,
        tmp_path / "data",
        operator_token=OPERATOR,
        limits=Limits(requests_per_second=1.0),
        clock=lambda: now[0],
    )
    client = TestClient(made).__enter__()
    admin = workspace(client)  # the operator's request: the operator token's bucket
    url = "/v1/courses"
    assert [client.get(url, headers=admin).status_code for _ in range(2)] == [200, 200]
    refused = client.get(url, headers=admin)
    assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
    assert refused.json()["detail"] == (
        "too many requests: at most 1 per second for one token (bursts of 2); retry in 1 s"
    )
    other = bearer(
        client.post(
            url.replace("courses", "workspaces"), json={"name": "b"}, headers=bearer(OPERATOR)
        ).json()["admin_key"]["key"]
    )
    assert client.get(url, headers=other).status_code == 200
    assert all(client.get("/healthz").status_code == 200 for _ in range(5))
    now[0] += 1.0
    assert [client.get(url, headers=admin).status_code for _ in range(2)] == [200, 429]


def test_rate_limit_token_bucket_by_hand():
    """The bucket by hand: rate 2/s, burst 3; 3 requests at t=0 pass, the 4th waits
    0.5 s; at t=0.25 half a token is back (wait 0.25 s); at t=0.5 one passes."""
    from mentor.service.limits import RateLimit

    now = [0.0]
    limit = RateLimit(None, rate=2.0, burst=3, clock=lambda: now[0], cookie="c")
    assert [limit.take(b"k") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limit.take(b"k") == pytest.approx(0.5)
    now[0] = 0.25
    assert limit.take(b"k") == pytest.approx(0.25)
    now[0] = 0.5
    assert limit.take(b"k") == 0.0 and limit.take(b"k") == pytest.approx(0.5)
    assert limit.take(b"other") == 0.0
    with pytest.raises(ValueError, match="rate must be > 0"):
        RateLimit(None, rate=0.0, burst=1, clock=lambda: 0.0, cookie="c")
