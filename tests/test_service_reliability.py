"""The service under a crash and under load, as a real server (``mentor serve`` in
a subprocess, listening on a free port of 127.0.0.1).

- Crash safety: clients stream event batches; the server is killed with
  SIGKILL mid-stream and restarted over the same database (SQLite, and
  PostgreSQL when MENTOR_TEST_POSTGRES_URL names a server). Every batch the
  server acknowledged is stored exactly once, a batch in flight is stored
  whole or not at all (and once its client retries it), nothing else is
  stored, and the student model's saved state matches the stored events.
- Concurrency: 50 learners practise at once, each from their own client
  thread: no event lost or duplicated, every request answered (no "database
  is locked" reaches a client), each learner's count of events right.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")

from mentor import Domain, Engine, Item  # noqa: E402
from mentor.events import EventLog  # noqa: E402
from mentor.service.testing import (  # noqa: E402
    ServerProcess,
    bearer,
    postgres_database,
    setup_workspace,
)
from mentor.students import create_model  # noqa: E402
from mentor.teachers import RandomTeacher  # noqa: E402

ITEMS_CSV = b"item,skills,difficulty\na1,A,0.2\na2,A,0.6\nb1,B,0.4\nb2,B,0.8\n"
PREREQS_CSV = b"prerequisite,skill\nA,B\n"


def _course(client: httpx.Client, admin: dict[str, str]) -> None:
    response = client.post(
        "/v1/courses",
        headers=admin,
        data={"id": "algebra", "clock": "steps"},
        files={
            "items": ("items.csv", ITEMS_CSV, "text/csv"),
            "prerequisites": ("prerequisites.csv", PREREQS_CSV, "text/csv"),
        },
    )
    assert response.status_code == 201, response.text


def _learners(client: httpx.Client, admin: dict[str, str], n: int) -> dict[str, dict]:
    tokens = {}
    for k in range(n):
        name = f"learner-{k:02d}"
        response = client.post("/v1/learners", headers=admin, json={"id": name})
        assert response.status_code == 201, response.text
        tokens[name] = bearer(response.json()["token"])
    return tokens


def _all_events(client: httpx.Client, admin: dict[str, str]) -> list[dict]:
    events, after = [], None
    while True:
        url = "/v1/courses/algebra/events?limit=10000" + (f"&after={after}" if after else "")
        page = client.get(url, headers=admin).json()
        events += page["events"]
        after = page["next_after"]
        if after is None:
            return events


def _grader(client: httpx.Client, admin: dict[str, str]) -> dict[str, str]:
    """A grader key's headers: an app that grades its learners' answers posts them."""
    response = client.post("/v1/keys", headers=admin, json={"name": "app", "role": "grader"})
    assert response.status_code == 201, response.text
    return bearer(response.json()["key"])


def _batch(name: str, index: int) -> list[dict]:
    """Batch ``index`` of a learner: three events with times unique to it."""
    items = ["a1", "a2", "b1", "b2"]
    return [
        {
            "learner": name,
            "item": items[(index + j) % 4],
            "time": 3 * index + j,
            "outcome": float((index + j) % 2),
        }
        for j in range(3)
    ]


def _backends():
    yield "sqlite"
    yield pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            not os.environ.get("MENTOR_TEST_POSTGRES_URL"),
            reason="MENTOR_TEST_POSTGRES_URL is not set: the PostgreSQL variant is skipped",
        ),
    )


@contextlib.contextmanager
def _database(backend: str) -> Iterator[str | None]:
    """The server's database URL: None (SQLite in its data folder) or a fresh
    PostgreSQL database, dropped after."""
    if backend == "sqlite":
        yield None
        return
    with postgres_database(os.environ["MENTOR_TEST_POSTGRES_URL"]) as url:
        yield url


@pytest.mark.parametrize("backend", list(_backends()))
def test_sigkill_mid_stream_loses_and_duplicates_nothing(tmp_path: Path, backend: str):
    with _database(backend) as db_url:
        _sigkill_mid_stream(tmp_path / "data", db_url)


def _sigkill_mid_stream(data: Path, db_url: str | None) -> None:
    server = ServerProcess(data, db_url).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            admin = bearer(setup_workspace(client))
            _course(client, admin)
            tokens = _learners(client, admin, 8)
            grader = _grader(client, admin)
        acked: dict[str, list[int]] = {name: [] for name in tokens}
        in_flight: dict[str, int | None] = dict.fromkeys(tokens)
        failures: list[str] = []
        stop = threading.Event()

        def stream(name: str) -> None:
            with httpx.Client(base_url=server.url, timeout=30) as own:
                for index in range(10_000):
                    if stop.is_set():
                        return
                    in_flight[name] = index
                    try:
                        response = own.post(
                            "/v1/courses/algebra/events",
                            headers={**grader, "Idempotency-Key": f"{name}-{index}"},
                            json={"events": _batch(name, index)},
                        )
                    except httpx.HTTPError:
                        return  # the server is gone; this batch was not acknowledged
                    if response.status_code != 201:
                        failures.append(f"{name}-{index}: {response.status_code} {response.text}")
                        return
                    acked[name].append(index)
                    in_flight[name] = None

        threads = [threading.Thread(target=stream, args=(name,)) for name in tokens]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while sum(map(len, acked.values())) < 40 and time.monotonic() < deadline:
            time.sleep(0.01)
        server.kill()  # SIGKILL, mid-stream
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        assert not failures, failures
        assert sum(map(len, acked.values())) >= 10  # the kill came mid-stream

        server = ServerProcess(data, db_url).start()  # the same database
        with httpx.Client(base_url=server.url, timeout=30) as client:
            events = _all_events(client, admin)
            by_key = Counter((e["learner"], int(e["time"]) // 3) for e in events)
            for name, indexes in acked.items():
                for index in indexes:
                    assert by_key.pop((name, index)) == 3, (name, index)
            # Only the batches in flight at the kill may be there besides, and whole.
            leftover = {key: n for key, n in by_key.items() if n}
            for (name, index), count in leftover.items():
                assert in_flight[name] == index and count == 3, (name, index, count)
            # Their clients retry them with the same keys: each is then stored once.
            for name, index in in_flight.items():
                if index is None:
                    continue
                response = client.post(
                    "/v1/courses/algebra/events",
                    headers={**grader, "Idempotency-Key": f"{name}-{index}"},
                    json={"events": _batch(name, index)},
                )
                assert response.status_code == 201, response.text
                acked[name].append(index)
            events = _all_events(client, admin)
            keys = Counter((e["learner"], int(e["time"]) // 3) for e in events)
            expected = {(name, index) for name, indexes in acked.items() for index in indexes}
            assert set(keys) == expected
            assert set(keys.values()) == {3}
            assert len({(e["learner"], e["time"]) for e in events}) == len(events)
            # The saved model state is that of exactly these events (same transaction):
            # the course's model (whatever the service's default is) fed the stored
            # events from scratch gives the service's mastery.
            domain = Domain(
                [Item("a1", ("A",), 0.2), Item("a2", ("A",), 0.6)]
                + [Item("b1", ("B",), 0.4), Item("b2", ("B",), 0.8)],
                prerequisites=[("A", "B")],
            )
            spec = client.get("/v1/courses/algebra", headers=admin).json()["model"]
            replay = Engine(domain, create_model(spec, domain), RandomTeacher(seed=0))
            replay.record(
                EventLog(
                    [e["learner"] for e in events],
                    [e["item"] for e in events],
                    [e["time"] for e in events],
                    [e["outcome"] for e in events],
                )
            )
            for name, token in tokens.items():
                state = client.get(
                    f"/v1/courses/algebra/learners/{name}/state", headers=token
                ).json()
                assert state["events"] == 3 * len(acked[name])
                for skill, p in replay.state(name)["mastery"].items():
                    assert state["mastery"][skill] == pytest.approx(p, abs=1e-12)
    finally:
        server.stop()


@pytest.mark.parametrize("backend", list(_backends()))
def test_fifty_learners_at_once(tmp_path: Path, backend: str):
    learners, rounds = 50, 4
    if backend == "postgresql":
        database = postgres_database(os.environ["MENTOR_TEST_POSTGRES_URL"])
        db_url = database.__enter__()
    else:
        database, db_url = None, None
    server = ServerProcess(tmp_path / "data", db_url).start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            admin = bearer(setup_workspace(client))
            _course(client, admin)
            tokens = _learners(client, admin, learners)
            grader = _grader(client, admin)
        problems: list[str] = []
        start = threading.Barrier(learners)

        def practise(name: str) -> None:
            with httpx.Client(base_url=server.url, timeout=60) as own:
                start.wait()
                for index in range(rounds):
                    url = f"/v1/courses/algebra/learners/{name}/next"
                    response = own.get(url, headers=tokens[name])
                    if response.status_code != 200:
                        problems.append(f"next {name}: {response.status_code} {response.text}")
                        return
                    events = _batch(name, index)
                    events[0]["item"] = response.json()["items"][0]
                    headers = {**grader, "Idempotency-Key": f"{name}-{index}"}
                    body = {"events": events}
                    first = own.post("/v1/courses/algebra/events", headers=headers, json=body)
                    if first.status_code != 201:
                        problems.append(f"post {name}: {first.status_code} {first.text}")
                        return
                    if index % 3 == 0:  # a client that retries a batch it already sent
                        again = own.post("/v1/courses/algebra/events", headers=headers, json=body)
                        if again.status_code != 201 or again.json() != first.json():
                            problems.append(f"retry {name}: {again.status_code} {again.text}")
                            return
                    state = own.get(
                        f"/v1/courses/algebra/learners/{name}/state", headers=tokens[name]
                    )
                    if state.status_code != 200 or state.json()["events"] != 3 * (index + 1):
                        problems.append(f"state {name}: {state.status_code} {state.text}")
                        return

        threads = [threading.Thread(target=practise, args=(name,)) for name in tokens]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not problems, problems[:5]
        with httpx.Client(base_url=server.url, timeout=60) as client:
            events = _all_events(client, admin)
            course = client.get("/v1/courses/algebra", headers=admin).json()
        assert len(events) == learners * rounds * 3
        assert course["events"] == len(events) and course["learners"] == learners
        assert len({(e["learner"], e["time"]) for e in events}) == len(events)
        assert Counter(e["learner"] for e in events) == {name: rounds * 3 for name in tokens}
        assert "database is locked" not in server.log.read_text()
    finally:
        server.stop()
        if database is not None:
            database.__exit__(None, None, None)
