"""Fuzzing the service's parsers (on SQLite, and on PostgreSQL when
MENTOR_TEST_POSTGRES_URL names a server; the schemathesis part on SQLite).

Hypothesis: a valid course (JSON domain) or batch of events round-trips
through the API unchanged; anything else gets a 4xx, never a 500.
Schemathesis: requests generated from the OpenAPI schema never get a 5xx and
every response matches the schema.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("sqlalchemy")
from fastapi.testclient import TestClient  # noqa: E402
from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from mentor.service import create_app  # noqa: E402
from mentor.service.testing import (  # noqa: E402
    OPERATOR,
    bearer,
    postgres_database,
    setup_workspace,
)

FUZZ = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ITEMS_CSV = b"item,skills,difficulty\na1,A,0.2\na2,A,0.6\nb1,B,0.4\nb2,B,0.8\n"
ITEMS = ["a1", "a2", "b1", "b2"]
_ids = itertools.count()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def service(request, tmp_path_factory):
    """The app over a SQLite file, and over a fresh PostgreSQL database when
    MENTOR_TEST_POSTGRES_URL names a server."""
    with contextlib.ExitStack() as stack:
        url = None
        if request.param == "postgresql":
            admin_url = os.environ.get("MENTOR_TEST_POSTGRES_URL")
            if not admin_url:
                pytest.skip(
                    "MENTOR_TEST_POSTGRES_URL is not set: the PostgreSQL variant is skipped"
                )
            url = stack.enter_context(postgres_database(admin_url))
        yield stack.enter_context(_client(url, tmp_path_factory.mktemp("fuzz")))


@contextlib.contextmanager
def _client(url, folder):
    app = create_app(url, folder, operator_token=OPERATOR)
    with TestClient(app) as client:
        admin = bearer(setup_workspace(client))
        response = client.post(
            "/v1/courses",
            headers=admin,
            data={"id": "algebra", "clock": "steps"},
            files={"items": ("items.csv", ITEMS_CSV)},
        )
        assert response.status_code == 201, response.text
        yield client, admin


def _fresh(prefix: str) -> str:
    return f"{prefix}{next(_ids)}"


# ---------------------------------------------------------------- course import
ids = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12
).filter(lambda s: s.strip() == s and s)
finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@st.composite
def domains(draw):
    skills = draw(st.lists(ids, min_size=1, max_size=6, unique=True))
    items = draw(st.lists(ids, min_size=1, max_size=8, unique=True))
    item_list = []
    for item in items:
        chosen = draw(st.lists(st.sampled_from(skills), min_size=1, max_size=3, unique=True))
        entry = {"id": item, "skills": chosen}
        if draw(st.booleans()):
            entry["difficulty"] = draw(finite)
        item_list.append(entry)
    # Prerequisites only from an earlier skill to a later one: always acyclic.
    pairs = [(a, b) for i, a in enumerate(skills) for b in skills[i + 1 :]]
    edges = draw(st.lists(st.sampled_from(pairs), unique=True)) if pairs else []
    return {
        "skills": [{"id": s} for s in skills],
        "items": item_list,
        "prerequisites": [list(e) for e in edges],
    }


@FUZZ
@given(domain=domains())
def test_a_valid_course_round_trips(service, domain):
    client, admin = service
    course = _fresh("json")
    files = {"items": ("course.json", json.dumps(domain).encode(), "application/json")}
    response = client.post("/v1/courses", headers=admin, data={"id": course}, files=files)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["skills"] == len(domain["skills"])
    assert body["prerequisites"] == len(domain["prerequisites"])
    got = client.get(f"/v1/courses/{course}/items", headers=admin).json()["items"]
    assert [i["id"] for i in got] == [i["id"] for i in domain["items"]]
    assert [i["skills"] for i in got] == [i["skills"] for i in domain["items"]]
    assert [i["difficulty"] for i in got] == [i.get("difficulty") for i in domain["items"]]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
shapes = st.fixed_dictionaries(
    {},
    optional={
        "skills": json_values,
        "items": st.lists(
            st.dictionaries(
                st.sampled_from(["id", "skills", "difficulty", "attributes"]), json_values
            ),
            max_size=4,
        )
        | json_values,
        "prerequisites": json_values,
        "task_spaces": json_values,
    },
)


@FUZZ
@given(data=st.one_of(shapes, json_values))
def test_any_json_course_gets_201_or_4xx(service, data):
    client, admin = service
    course = _fresh("any")
    raw = json.dumps(data).encode()
    files = {"items": ("course.json", raw, "application/json")}
    response = client.post("/v1/courses", headers=admin, data={"id": course}, files=files)
    assert response.status_code in (201, 409, 413, 422), response.text
    if response.status_code == 422:
        assert response.json()["detail"]


@FUZZ
@given(
    raw=st.binary(max_size=400) | st.text(max_size=400).map(str.encode),
    name=st.sampled_from(["items.csv", "items.json", "items", "junyi.csv", "../x.csv"]),
    prereqs=st.none() | st.binary(max_size=100),
    fmt=st.sampled_from(["auto", "csv", "json", "junyi", "nope"]),
)
def test_any_file_gets_201_or_4xx(service, raw, name, prereqs, fmt):
    client, admin = service
    course = _fresh("raw")
    files = {"items": (name, raw)}
    if prereqs is not None:
        files["prerequisites"] = ("p.csv", prereqs)
    response = client.post(
        "/v1/courses", headers=admin, data={"id": course, "format": fmt}, files=files
    )
    assert response.status_code in (201, 422), response.text
    if response.status_code == 422:
        assert "/tmp" not in response.json()["detail"]
    else:
        assert client.get(f"/v1/courses/{course}", headers=admin).status_code == 200


# ---------------------------------------------------------------- events
extras = st.dictionaries(
    st.sampled_from(["rating", "response_time", "hint", "advantage"]),
    st.floats(0, 1e4, allow_nan=False) | st.booleans(),
    max_size=2,
)


@st.composite
def batches(draw):
    n = draw(st.integers(1, 12))
    steps = draw(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=n, max_size=n))
    events = []
    t = 0.0
    for step in steps:
        t += step
        event = {
            "item": draw(st.sampled_from(ITEMS)),
            "time": t,
            "outcome": draw(st.floats(0, 1, allow_nan=False)),
        }
        extra = draw(extras)
        if extra:
            event["extra"] = extra
        events.append(event)
    return events


@FUZZ
@given(events=batches())
def test_a_valid_batch_round_trips(service, events):
    client, admin = service
    learner = _fresh("learner")
    for event in events:
        event["learner"] = learner
    # A rating is 1-4 (for memory models); the course's BKT ignores it but keep it valid.
    for event in events:
        if "rating" in event.get("extra", {}):
            event["extra"]["rating"] = 3
    key = _fresh("key")
    response = client.post(
        "/v1/courses/algebra/events",
        headers={**admin, "Idempotency-Key": key},
        json={"events": events},
    )
    assert response.status_code == 201, response.text
    assert response.json()["learners"] == {learner: len(events)}
    page = client.get(f"/v1/courses/algebra/events?learner={learner}", headers=admin).json()
    got = page["events"]
    assert [(e["item"], e["time"], e["outcome"]) for e in got] == [
        (e["item"], e["time"], e["outcome"]) for e in events
    ]
    for sent, back in zip(events, got, strict=True):
        expected = {k: float(v) for k, v in sent.get("extra", {}).items()}
        assert (back["extra"] or {}) == expected


event_values = st.fixed_dictionaries(
    {},
    optional={
        "learner": json_values,
        "item": json_values | st.sampled_from(ITEMS),
        "time": json_values,
        "outcome": json_values | st.floats(),
        "extra": json_values,
    },
)


@FUZZ
@given(
    body=st.one_of(
        json_values,
        st.fixed_dictionaries({"events": st.lists(event_values, max_size=5) | json_values}),
    )
)
def test_any_events_body_gets_201_or_4xx(service, body):
    client, admin = service
    try:
        raw = json.dumps(body, allow_nan=True).encode()
    except ValueError:
        assume(False)
    response = client.post(
        "/v1/courses/algebra/events",
        headers={**admin, "Idempotency-Key": _fresh("k"), "Content-Type": "application/json"},
        content=raw,
    )
    assert response.status_code in (201, 403, 413, 422), response.text
    if response.status_code == 201:
        assert response.json()["accepted"] == len(body["events"])


@FUZZ
@given(raw=st.binary(max_size=300))
def test_any_bytes_as_events_get_4xx(service, raw):
    client, admin = service
    response = client.post(
        "/v1/courses/algebra/events",
        headers={**admin, "Idempotency-Key": _fresh("k"), "Content-Type": "application/json"},
        content=raw,
    )
    assert 400 <= response.status_code < 500 or response.status_code == 201, response.text


# ---------------------------------------------------------------- schemathesis
schemathesis = pytest.importorskip("schemathesis")


def _schema():
    """The app's schema, built when the module is collected (schemathesis needs the
    schema to parametrize the test), over a SQLite file in a temporary folder."""
    import atexit
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="mentor-schemathesis-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    app = create_app(None, folder, operator_token=OPERATOR)
    app.state.agent_embedders = ("hashing",)  # MiniLM's first load outlasts the 10 s timeout
    with TestClient(app) as client:
        admin = setup_workspace(client)
        client.post(
            "/v1/courses",
            headers=bearer(admin),
            data={"id": "algebra", "clock": "steps"},
            files={"items": ("items.csv", ITEMS_CSV)},
        )
        client.post("/v1/learners", headers=bearer(admin), json={"id": "ada"})
    return schemathesis.openapi.from_asgi("/openapi.json", app), admin


SCHEMA, ADMIN = _schema()


@SCHEMA.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_openapi_schema_fuzz(case):
    """Requests generated from the schema (with the admin key): never a 5xx, and
    every response as the schema says."""
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance

    case.call_and_validate(
        headers={"Authorization": f"Bearer {ADMIN}"},
        checks=[not_a_server_error, response_schema_conformance],
    )
