"""A malformed request's 422 names the field and the value given, in one line
(mentor.service.errors): pydantic's own messages carry no value, so the handler adds
it, cut to 80 characters; a missing field names no value (there is none)."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("sqlalchemy")

from fastapi.testclient import TestClient  # noqa: E402

from mentor.demo.seed import ensure_demo  # noqa: E402
from mentor.service import create_app  # noqa: E402
from mentor.service.testing import OPERATOR, bearer  # noqa: E402

EVENTS = "/v1/courses/arithmetic/events"


@pytest.fixture
def client(tmp_path):
    app = create_app(
        f"sqlite:///{tmp_path}/db.sqlite",
        tmp_path / "data",
        operator_token=OPERATOR,
        clock=lambda: 1_700_000_000.0,
    )
    with TestClient(app) as client:
        demo = ensure_demo(app.state.service, seed=7)
        client.headers.update({**bearer(demo.admin_key), "Idempotency-Key": "k1"})
        yield client


def detail(client, event):
    response = client.post(EVENTS, json={"events": [event]})
    assert response.status_code == 422, response.text
    return response.json()["detail"]


def test_a_wrong_type_names_the_field_and_the_value(client):
    assert detail(client, {"learner": "ann", "item": "count-1", "outcome": "abc"}) == (
        "events[0].outcome: Value error, text, not a number (an outcome is 1 or 0, or a "
        "number between), got 'abc'"
    )


def test_a_long_value_is_cut_to_80_characters(client):
    shown = "'" + "x" * 76 + "..."
    message = detail(client, {"learner": "x" * 300, "item": "count-1", "outcome": 1})
    assert message.startswith("events[0].learner: String should match pattern")
    assert message.endswith(f", got {shown}") and len(shown) == 80


def test_a_missing_field_or_header_names_no_value(client):
    response = client.post(EVENTS, json={"events": [{"learner": "ann", "outcome": 1}]})
    assert response.json()["detail"] == "events[0].item: Field required"
    del client.headers["Idempotency-Key"]
    response = client.post(EVENTS, json={"events": []})
    assert response.json()["detail"].startswith("header Idempotency-Key: Field required")


def test_a_message_that_gives_the_value_is_left_as_it_is(client):
    assert (
        detail(client, {"learner": "ann", "item": "count-1", "outcome": 1, "time": "soon"})
        == "events[0].time: 'soon' is neither a number nor an ISO 8601 time"
    )
