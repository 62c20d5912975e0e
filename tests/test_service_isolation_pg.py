"""PostgreSQL connections of the service's hot path (:mod:`mentor.service.db`):
a ``next`` takes one round trip, pooled connections are tested only after they
sat idle, and a connection that died (its backend terminated, as on a server
restart) costs no request an error.
"""

from __future__ import annotations

import json
import os

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("sqlalchemy")

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import event  # noqa: E402

from mentor.service import create_app  # noqa: E402
from mentor.service import db as db_module  # noqa: E402
from mentor.service.testing import OPERATOR, bearer, postgres_database  # noqa: E402

COURSE = {
    "skills": [{"id": "a"}],
    "items": [{"id": "a1", "skills": ["a"]}, {"id": "a2", "skills": ["a"]}],
}


@pytest.fixture(scope="module")
def postgres_url():
    url = os.environ.get("MENTOR_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("MENTOR_TEST_POSTGRES_URL is not set: the PostgreSQL variant is skipped")
    pytest.importorskip("psycopg")
    with postgres_database(url) as fresh:
        yield fresh


@pytest.fixture
def served(postgres_url, tmp_path):
    """A client, a learner's headers and their ``next`` URL, the engine current."""
    app = create_app(postgres_url, tmp_path, operator_token=OPERATOR)
    with TestClient(app) as client:
        response = client.post("/v1/workspaces", json={"name": "s"}, headers=bearer(OPERATOR))
        admin = bearer(response.json()["admin_key"]["key"])
        files = {"items": ("c.json", json.dumps(COURSE).encode(), "application/json")}
        response = client.post(
            "/v1/courses", headers=admin, data={"id": "c", "clock": "steps"}, files=files
        )
        assert response.status_code == 201, response.text
        response = client.post("/v1/learners", headers=admin, json={"id": "ada"})
        ada = bearer(response.json()["token"])
        url = "/v1/courses/c/learners/ada/next"
        assert client.get(url, headers=ada).status_code == 200
        yield client, ada, url


def _count(engine, counts):
    @event.listens_for(engine, "before_cursor_execute")
    def statement(*args) -> None:
        counts["statements"] += 1

    ping = engine.dialect.do_ping

    def counted(connection):
        counts["pings"] += 1
        return ping(connection)

    engine.dialect.do_ping = counted


def _terminate_pool(client) -> None:
    """End the backend of every pooled connection of the service (a server restart,
    as the pool sees it), from a connection of its own."""
    import psycopg

    url = client.app.state.service.db.url.set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
        ended = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()[0]
    assert ended >= 1


def test_next_is_one_round_trip_and_a_fresh_connection_is_not_pinged(served):
    client, ada, url = served
    counts = {"statements": 0, "pings": 0}
    _count(client.app.state.service.db.writer.engine, counts)
    for _ in range(10):
        assert client.get(url, headers=ada).status_code == 200
    assert counts == {"statements": 10, "pings": 0}


def test_an_idle_connection_is_pinged_and_a_dead_one_replaced(served, monkeypatch):
    client, ada, url = served
    counts = {"statements": 0, "pings": 0}
    _count(client.app.state.service.db.writer.engine, counts)
    monkeypatch.setattr(db_module, "PING_IDLE_S", 0.0)  # every pooled connection is "idle"
    _terminate_pool(client)
    response = client.get(url, headers=ada)
    assert response.status_code == 200, response.text
    # The dead connection failed its ping and was replaced before the query: the
    # query ran once.
    assert counts["pings"] >= 1 and counts["statements"] == 1


def test_a_connection_that_died_unseen_is_retried(served):
    client, ada, url = served
    counts = {"statements": 0, "pings": 0}
    _count(client.app.state.service.db.writer.engine, counts)
    _terminate_pool(client)  # used a moment ago: not pinged, so its query fails
    response = client.get(url, headers=ada)
    assert response.status_code == 200, response.text
    assert response.json()["items"]
    # The query failed on the dead connection and ran again on a new one.
    assert counts == {"statements": 2, "pings": 0}
