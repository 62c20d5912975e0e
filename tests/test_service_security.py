"""The service against a careless client and an attacker (issue 18): time rules,
corrections with an audit trail, trusted outcomes (attempts, grader keys),
exact error text, ids that routes can address.

On SQLite always and on PostgreSQL when MENTOR_TEST_POSTGRES_URL names a server.
"""

from __future__ import annotations

import os
import re
import threading

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("sqlalchemy")

from fastapi.testclient import TestClient  # noqa: E402

from mentor.service import Limits, create_app  # noqa: E402
from mentor.service.testing import OPERATOR, bearer, postgres_database  # noqa: E402
from mentor.service.timerules import exact  # noqa: E402

#: The server's clock: 2026-12-07T00:00:00Z.
NOW = 1_796_601_600.0
ITEMS_CSV = b"item,skills,difficulty\na1,A,0.2\na2,A,0.6\nb1,B,0.4\nb2,B,0.8\n"
#: Items with a question and an answer the server can check, and one without.
QUIZ_JSON = (
    b'{"items": ['
    b'{"id": "sum", "skills": ["add"], "attributes": {"question": "2 + 3 = ?", "answer": "5"}},'
    b'{"id": "essay", "skills": ["write"], "attributes": {"question": "Write a haiku."}}'
    b"]}"
)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def postgres_url():
    url = os.environ.get("MENTOR_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("MENTOR_TEST_POSTGRES_URL is not set: the PostgreSQL variant is skipped")
    pytest.importorskip("psycopg")
    with postgres_database(url) as fresh:
        yield fresh


@pytest.fixture(params=["sqlite", "postgresql"])
def make_service(request, tmp_path):
    """Makes apps over one fresh database, with a clock the test moves: each call
    ``make(**limits)`` gives ``(client, clock, admin headers of a new workspace)``."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'data' / 'mentor.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    clients = []

    def make(**limits):
        clock = Clock(NOW)
        app = create_app(
            url, tmp_path / "data", operator_token=OPERATOR, limits=Limits(**limits), clock=clock
        )
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        name = f"school-{os.urandom(4).hex()}"
        response = client.post("/v1/workspaces", json={"name": name}, headers=bearer(OPERATOR))
        assert response.status_code == 201, response.text
        return client, clock, bearer(response.json()["admin_key"]["key"])

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def service(make_service):
    return make_service()


def course(client, admin, slug, items=ITEMS_CSV, filename="items.csv", **form):
    response = client.post(
        "/v1/courses",
        headers=admin,
        data={"id": slug, **form},
        files={"items": (filename, items, "text/plain")},
    )
    assert response.status_code == 201, response.text


def learner(client, admin, name) -> dict[str, str]:
    response = client.post("/v1/learners", headers=admin, json={"id": name})
    assert response.status_code == 201, response.text
    return bearer(response.json()["token"])


def grader(client, admin) -> dict[str, str]:
    response = client.post("/v1/keys", headers=admin, json={"name": "app", "role": "grader"})
    assert response.status_code == 201, response.text
    assert response.json()["role"] == "grader"
    return bearer(response.json()["key"])


def post(client, headers, events, key, slug="c"):
    return client.post(
        f"/v1/courses/{slug}/events",
        headers={**headers, "Idempotency-Key": key},
        json={"events": events},
    )


def events_of(client, admin, slug="c", voided=False) -> list[dict]:
    url = f"/v1/courses/{slug}/events?limit=10000" + ("&voided=true" if voided else "")
    response = client.get(url, headers=admin)
    assert response.status_code == 200, response.text
    return response.json()["events"]


# ---------------------------------------------------------------- time rules
def test_a_time_in_milliseconds_is_refused_naming_the_unit(service):
    client, _, admin = service
    course(client, admin, "c")
    ms = NOW * 1000 + 250  # Date.now() sent as seconds
    response = post(
        client, admin, [{"learner": "ada", "item": "a1", "time": ms, "outcome": 1}], "1"
    )
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "events[0].time: 1796601600250 is 1794804998650 s after the server's time "
        "1796601600 (2026-12-07T00:00:00Z); at most 300 s ahead is accepted; it looks like "
        "milliseconds: in seconds it would be 1796601600.25 (2026-12-07T00:00:00.250000Z) "
        "(or set the course's time_unit to 'ms')"
    )
    # Nothing was stored, so the learner's next event with a right time is taken.
    good = [{"learner": "ada", "item": "a1", "time": NOW - 5, "outcome": 1}]
    assert post(client, admin, good, "2").status_code == 201
    # Microseconds are named as such.
    micro = [{"learner": "ada", "item": "a1", "time": NOW * 1e6, "outcome": 1}]
    assert "it looks like microseconds" in post(client, admin, micro, "3").json()["detail"]
    # A number sent as text is read as the number it is, hint included.
    text = [{"learner": "ada", "item": "a1", "time": "1796601600250", "outcome": 1}]
    detail = post(client, admin, text, "4").json()["detail"]
    assert detail.startswith("events[0].time: '1796601600250' is 1794804998650 s after")
    assert "it looks like milliseconds" in detail


def test_absurd_times_are_refused_and_the_tolerance_is_exact(service):
    client, _, admin = service
    course(client, admin, "c")
    course(client, admin, "s", clock="steps")

    def detail(time, slug="c", key=[0]):  # noqa: B006 - a counter for fresh keys
        key[0] += 1
        event = {"learner": "ada", "item": "a1", "time": time, "outcome": 1}
        response = post(client, admin, [event], f"k{key[0]}", slug)
        return response.status_code, response.json().get("detail", "")

    code, text = detail(1e300)
    assert code == 422 and text.startswith("events[0].time: 1e+300 is ")
    code, text = detail("9999-12-31T23:59:59Z")
    assert code == 422
    assert text.startswith("events[0].time: '9999-12-31T23:59:59Z' is 251605699199 s after")
    code, text = detail(-1)
    assert code == 422 and "before 1970-01-01T00:00:00Z" in text
    # The tolerance: 300 s ahead is taken, 300.5 s is not.
    assert detail(NOW + 300)[0] == 201
    code, text = detail(NOW + 300.5)
    assert code == 422 and "1796601900.5 is 300.5 s after" in text
    # A step clock has no server time, but a step must fit a calendar date.
    assert detail(1e9, "s")[0] == 201
    code, text = detail(253402300800, "s")
    assert code == 422 and "253402300800 is not a step count" in text
    code, text = detail(1e300, "s")
    assert code == 422 and "1e+300 is not a step count" in text


def test_times_going_backwards_are_named_exactly(service):
    client, _, admin = service
    course(client, admin, "c")
    first = [{"learner": "ada", "item": "a1", "time": NOW - 1, "outcome": 1}]
    assert post(client, admin, first, "1").status_code == 201
    back = [{"learner": "ada", "item": "a1", "time": NOW - 1.5, "outcome": 1}]
    detail = post(client, admin, back, "2").json()["detail"]
    # Not "1.7966e+09 is before ... 1.7966e+09": both numbers in full.
    assert detail.startswith(
        "events[0].time: 1796601598.5 is before learner 'ada''s previous event at 1796601599 "
    )
    assert exact(1796601598.5) == "1796601598.5" and exact(3.0) == "3"
    assert exact(0.1) == "0.1" and exact(1e300) == "1e+300"


def test_a_course_in_milliseconds_stores_seconds(service):
    client, _, admin = service
    course(client, admin, "c", time_unit="ms")
    assert client.get("/v1/courses/c", headers=admin).json()["time_unit"] == "ms"
    event = {"learner": "ada", "item": "a1", "time": NOW * 1000 - 1500, "outcome": 1}
    assert post(client, admin, [event], "1").status_code == 201
    assert events_of(client, admin)[0]["time"] == NOW - 1.5
    # The same number sent as text is milliseconds too; an ISO time is not scaled.
    as_text = {**event, "time": str(int(NOW * 1000 - 1000))}
    iso = {**event, "time": "2026-12-06T23:59:59.750Z"}
    assert post(client, admin, [as_text, iso], "1b").status_code == 201
    assert [e["time"] for e in events_of(client, admin)] == [NOW - 1.5, NOW - 1.0, NOW - 0.25]
    # Seconds sent to it are refused, not stored as a time in January 1970.
    seconds = [{**event, "time": NOW - 3}]
    response = post(client, admin, seconds, "1c")
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "events[0].time: 1796601597 looks like seconds (2026-12-06T23:59:57Z), but this "
        "course's time_unit is 'ms' (as milliseconds it is 1970-01-21T19:03:21.597000Z): "
        "send milliseconds, or set the course's time_unit to 's'"
    )
    # And a course can change its unit.
    response = client.put("/v1/courses/c/policy", headers=admin, json={"time_unit": "s"})
    assert response.status_code == 200 and response.json()["time_unit"] == "s"


def test_an_imported_history_obeys_the_time_rules(service):
    client, _, admin = service
    history = (
        f"learner,item,time,outcome\nada,a1,{exact(NOW - 10)},1\nada,a2,{exact(NOW * 1000)},0\n"
    )
    response = client.post(
        "/v1/courses",
        headers=admin,
        data={"id": "c"},
        files={
            "items": ("items.csv", ITEMS_CSV, "text/csv"),
            "events": ("history.csv", history.encode(), "text/csv"),
        },
    )
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "history.csv" in detail and "event 2 of the file" in detail
    assert "1796601600000" in detail and "milliseconds" in detail
    assert client.get("/v1/courses/c", headers=admin).status_code == 404


def test_booleans_are_not_outcomes_and_ids_must_be_addressable(service):
    client, _, admin = service
    course(client, admin, "c")
    for field, value in (("outcome", True), ("outcome", False), ("item", True)):
        event = {"learner": "ada", "item": "a1", "time": NOW, "outcome": 1, field: value}
        response = post(client, admin, [event], f"{field}-{value}")
        assert response.status_code == 422
        assert (
            f"events[0].{field}: Value error, {str(value).lower()} is a boolean"
            in (response.json()["detail"])
        )
    text = {"learner": "ada", "item": "a1", "time": NOW, "outcome": "1"}
    response = post(client, admin, [text], "outcome-text")
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "events[0].outcome: Value error, text, not a number (an outcome is 1 or 0, or a "
        "number between), got '1'"
    )
    for bad in ("a/b", ".", ".."):
        response = client.post("/v1/learners", headers=admin, json={"id": bad})
        assert response.status_code == 422, bad
        event = {"learner": bad, "item": "a1", "time": NOW, "outcome": 1}
        assert post(client, admin, [event], f"id-{bad}").status_code == 422
    assert (
        "contains '/'"
        in client.post("/v1/learners", headers=admin, json={"id": "a/b"}).json()["detail"]
    )
    history = b"learner,item,time,outcome\nx/y,a1,1,1\n"
    response = client.post(
        "/v1/courses",
        headers=admin,
        data={"id": "h", "clock": "steps"},
        files={
            "items": ("items.csv", ITEMS_CSV, "text/csv"),
            "events": ("history.csv", history, "text/csv"),
        },
    )
    assert response.status_code == 422 and "contains '/'" in response.json()["detail"]
    assert client.get("/v1/learners", headers=admin).json() == []


# ---------------------------------------------------------------- corrections
def test_a_wrong_clock_is_corrected_by_voiding_with_an_audit_trail(service):
    client, clock, admin = service
    course(client, admin, "c")
    ada = learner(client, admin, "ada")
    app = grader(client, admin)
    # A device whose clock was a day ahead when the server's was too (so accepted).
    clock.now = NOW + 86400
    assert (
        post(client, app, [{"learner": "ada", "item": "a1", "outcome": 1}], "1").status_code == 201
    )
    clock.now = NOW
    late = [{"learner": "ada", "item": "a2", "time": NOW, "outcome": 0}]
    response = post(client, app, late, "2")
    assert response.status_code == 422
    assert "/v1/courses/c/learners/ada/corrections" in response.json()["detail"]
    # Only an admin corrects; graders and learners are refused.
    body = {"reason": "device clock a day ahead", "void_future": True}
    url = "/v1/courses/c/learners/ada/corrections"
    assert client.post(url, headers=ada, json=body).status_code == 403
    assert client.post(url, headers=app, json=body).status_code == 403
    response = client.post(url, headers=admin, json=body)
    assert response.status_code == 201, response.text
    wrong = events_of(client, admin, voided=True)[0]
    assert response.json()["voided"] == [wrong["id"]] and response.json()["events"] == 0
    # The voided event is kept and marked, out of the default export and the counts.
    assert events_of(client, admin) == []
    assert wrong["voided"] is True and wrong["time"] == NOW + 86400
    assert client.get("/v1/courses/c", headers=admin).json()["events"] == 0
    state = client.get("/v1/courses/c/learners/ada/state", headers=ada).json()
    assert state["events"] == 0 and state["last_time"] is None
    # ... and out of the model: its mastery is the prior again, as bob's (no events).
    learner(client, admin, "bob")
    bob = client.get("/v1/courses/c/learners/bob/state", headers=admin).json()
    assert state["mastery"] == bob["mastery"]
    # The learner can practise again.
    assert post(client, app, late, "3").status_code == 201
    # The audit trail.
    trail = client.get(url, headers=admin).json()
    assert [(c["reason"], c["voided"], c["added"]) for c in trail] == [
        ("device clock a day ahead", [wrong["id"]], [])
    ]
    assert trail[0]["actor"].startswith("admin key ")
    assert client.get(url, headers=ada).status_code == 403


def test_a_correction_voids_by_id_adds_events_and_rebuilds_the_model(service):
    client, _, admin = service
    course(client, admin, "c", clock="steps")
    course(client, admin, "ref", clock="steps")
    events = [
        {"learner": "ada", "item": "a1", "time": 1, "outcome": 1},
        {"learner": "ada", "item": "a2", "time": 2, "outcome": 1},
        {"learner": "ada", "item": "b1", "time": 3, "outcome": 0},
    ]
    assert post(client, admin, events, "1").status_code == 201
    ids = [e["id"] for e in events_of(client, admin)]
    url = "/v1/courses/c/learners/ada/corrections"
    # Refused whole: an id that is not ada's, or not in the course.
    response = client.post(url, headers=admin, json={"reason": "x", "void": [ids[1], 999]})
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "void: event 999 is not one of learner 'ada''s events in course 'c'"
    )
    # An added event obeys the time rules.
    bad = {"reason": "x", "add": [{"item": "a1", "time": 1e300, "outcome": 1}]}
    response = client.post(url, headers=admin, json=bad)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("add[0].time: 1e+300 is not a step count")
    # Event 2 was really a failure, graded wrongly: void it, add the right one.
    body = {
        "reason": "regraded",
        "void": [ids[1]],
        "add": [{"item": "a2", "time": 2, "outcome": 0}],
    }
    response = client.post(url, headers=admin, json=body)
    assert response.status_code == 201, response.text
    assert response.json()["events"] == 3
    again = client.post(url, headers=admin, json={"reason": "x", "void": [ids[1]]})
    assert again.status_code == 422
    assert (
        f"event {ids[1]} was already voided by correction {response.json()['id']}"
        in (again.json()["detail"])
    )
    kept = events_of(client, admin)
    assert [(e["item"], e["time"], e["outcome"]) for e in kept] == [
        ("a1", 1.0, 1.0),
        ("b1", 3.0, 0.0),
        ("a2", 2.0, 0.0),
    ]
    # The model is that of the corrected history, in time order: the same as a
    # course that got those events right in the first place.
    right = [dict(e, outcome=0) if e["item"] == "a2" else e for e in events]
    assert post(client, admin, right, "1", "ref").status_code == 201
    got = client.get("/v1/courses/c/learners/ada/state", headers=admin).json()
    want = client.get("/v1/courses/ref/learners/ada/state", headers=admin).json()
    assert got["mastery"] == pytest.approx(want["mastery"], abs=1e-12)
    assert got["events"] == 3 and got["last_time"] == 3.0


# ---------------------------------------------------------------- trusted outcomes
def test_a_learner_token_cannot_post_outcomes_and_a_grader_only_grades(service):
    client, _, admin = service
    course(client, admin, "c")
    ada = learner(client, admin, "ada")
    app = grader(client, admin)
    own = [{"item": "a1", "time": NOW, "outcome": 1}]
    response = post(client, ada, own, "1")
    assert response.status_code == 403
    assert "cannot post outcomes" in response.json()["detail"]
    assert events_of(client, admin) == []
    # The grader posts outcomes for any learner of its workspace, nothing else.
    assert post(client, app, [{"learner": "ada", **own[0]}], "1").status_code == 201
    for method, path in (
        ("get", "/v1/learners"),
        ("get", "/v1/keys"),
        ("post", "/v1/keys"),
        ("delete", "/v1/courses/c"),
        ("put", "/v1/courses/c/policy"),
        ("post", "/v1/courses/c/learners/ada/attempts"),
    ):
        response = getattr(client, method)(
            path, headers=app, **({"json": {}} if method in ("post", "put") else {})
        )
        assert response.status_code == 403, (method, path, response.text)
    assert client.get("/v1/me", headers=app).json()["kind"] == "grader"


def test_an_attempt_is_answered_once_by_its_learner_and_graded_by_the_server(service):
    client, clock, admin = service
    course(client, admin, "q", items=QUIZ_JSON, filename="quiz.json", teacher='{"name": "random"}')
    ada = learner(client, admin, "ada")
    bob = learner(client, admin, "bob")
    other_admin = bearer(
        client.post("/v1/workspaces", json={"name": "other"}, headers=bearer(OPERATOR)).json()[
            "admin_key"
        ]["key"]
    )
    # Ask until the teacher gives the checkable item (it draws at random per step).
    response = client.post("/v1/courses/q/learners/ada/attempts", headers=ada)
    assert response.status_code == 201, response.text
    attempt = response.json()
    assert attempt["learner"] == "ada" and attempt["step"] == 0
    assert attempt["issued_at"] == NOW and attempt["expires_at"] == NOW + 3600
    # Asked again before answering: the same attempt.
    assert client.post("/v1/courses/q/learners/ada/attempts", headers=ada).json() == attempt
    # Another learner's attempt: not found; ada cannot ask for bob's.
    assert client.post("/v1/courses/q/learners/bob/attempts", headers=ada).status_code == 403
    answer_url = f"/v1/courses/q/attempts/{attempt['id']}/answer"
    assert client.post(answer_url, headers=bob, json={"outcome": 1}).status_code == 404
    assert client.post(answer_url, headers=other_admin, json={"outcome": 1}).status_code == 404
    if attempt["item"] == "sum":
        assert attempt["graded"] and attempt["prompt"] == "2 + 3 = ?"
        # The server grades: an outcome is refused, a wrong answer is a failure.
        refused = client.post(answer_url, headers=ada, json={"outcome": 1})
        assert refused.status_code == 422 and "checked by the server" in refused.json()["detail"]
        response = client.post(answer_url, headers=ada, json={"answer": "6"})
        assert response.status_code == 200, response.text
        assert response.json()["correct"] is False and response.json()["outcome"] == 0.0
        assert response.json()["expected"] == "5"
    else:
        assert not attempt["graded"] and attempt["prompt"] == "Write a haiku."
        refused = client.post(answer_url, headers=ada, json={"answer": "x"})
        assert refused.status_code == 422 and "no answer to check" in refused.json()["detail"]
        response = client.post(answer_url, headers=ada, json={"outcome": 0})
        assert response.status_code == 200, response.text
    assert response.json()["events"] == 1
    # Once: the same answer again, or another, is 409 and records nothing.
    again = client.post(answer_url, headers=ada, json={"outcome": 1, "answer": None})
    assert again.status_code == 409 and "already answered" in again.json()["detail"]
    stored = events_of(client, admin, "q")
    assert [(e["learner"], e["item"], e["outcome"], e["time"]) for e in stored] == [
        ("ada", attempt["item"], 0.0, NOW)
    ]
    # An attempt expires.
    fresh = client.post("/v1/courses/q/learners/ada/attempts", headers=ada).json()
    assert fresh["id"] != attempt["id"] and fresh["step"] == 1
    clock.now = NOW + 3601
    late = client.post(
        f"/v1/courses/q/attempts/{fresh['id']}/answer",
        headers=ada,
        json={"answer": "5"} if fresh["graded"] else {"outcome": 1},
    )
    assert late.status_code == 410 and "expired at 1796605200" in late.json()["detail"]
    assert len(events_of(client, admin, "q")) == 1
    # Answered through another course's URL: not found there.
    course(client, admin, "other")
    elsewhere = f"/v1/courses/other/attempts/{fresh['id']}/answer"
    assert client.post(elsewhere, headers=ada, json={"outcome": 1}).status_code == 404
    # A made-up id is 404 (and a malformed one 422).
    made_up = "0" * 32
    assert (
        client.post(f"/v1/courses/q/attempts/{made_up}/answer", headers=ada, json={}).status_code
        == 404
    )
    assert client.post("/v1/courses/q/attempts/x/answer", headers=ada, json={}).status_code == 422


def test_two_answers_at_once_record_one_event(service):
    client, _, admin = service
    course(client, admin, "c")
    ada = learner(client, admin, "ada")
    attempt = client.post("/v1/courses/c/learners/ada/attempts", headers=ada).json()
    assert not attempt["graded"]  # a CSV item has no answer: the learner reports it
    url = f"/v1/courses/c/attempts/{attempt['id']}/answer"
    codes: list[int] = []
    start = threading.Barrier(4)

    def answer() -> None:
        start.wait()
        codes.append(client.post(url, headers=ada, json={"outcome": 1}).status_code)

    threads = [threading.Thread(target=answer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [200, 409, 409, 409]
    assert len(events_of(client, admin)) == 1


def test_the_web_form_answers_only_the_attempt_it_was_issued(service):
    client, _, admin = service
    course(client, admin, "q", items=QUIZ_JSON, filename="quiz.json")
    token = client.post("/v1/learners", headers=admin, json={"id": "ada"}).json()["token"]
    response = client.post("/login", data={"token": token}, follow_redirects=False)
    assert response.status_code == 303
    page = client.get("/practice/q")
    assert page.status_code == 200

    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page.text))
    # Posting another item's id with its right answer changes nothing: the form's
    # attempt decides the item.
    other = "essay" if fields["item"] == "sum" else "sum"
    forged = {**fields, "item": other, "step": "0", "answer": "5", "outcome": "1"}
    response = client.post("/practice/q", data=forged)
    assert response.status_code == 200, response.text
    stored = events_of(client, admin, "q")
    assert [e["item"] for e in stored] == [fields["item"]]
    # An attempt id that is not the learner's is 404.
    response = client.post("/practice/q", data={**fields, "attempt": "f" * 32, "answer": "5"})
    assert response.status_code == 404


# ---------------------------------------------------------------- offline docs
def test_the_docs_pages_use_no_cdn(service):
    client, _, _ = service
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        assert "cdn." not in html and "//unpkg" not in html, page
    html = client.get("/docs").text
    assert '<script src="/docs-static/swagger-ui-bundle.js">' in html
    script = client.get("/docs-static/swagger-ui-bundle.js")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.text[:2000]
    assert client.get("/docs-static/swagger-ui.css").status_code == 200


# ---------------------------------------------------------------- make run
def test_a_busy_port_is_one_line_at_once():
    import socket
    import subprocess
    import sys
    from pathlib import Path

    from mentor.errors import MentorError
    from mentor.service.ports import check_port

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(MentorError, match=f"port {port} on 127.0.0.1 is already in use"):
            check_port("127.0.0.1", port)
        script = Path(__file__).resolve().parents[1] / "mentor" / "service" / "ports.py"
        done = subprocess.run(
            [sys.executable, str(script), "127.0.0.1", str(port)], capture_output=True, text=True
        )
        assert done.returncode == 1 and done.stdout == ""
        assert done.stderr.count("\n") == 1 and f"make run PORT={port + 1}" in done.stderr
    check_port("127.0.0.1", port)  # free again
    with pytest.raises(MentorError, match="PORT=0: a port is a number from 1 to 65535"):
        check_port("127.0.0.1", 0)
    done = subprocess.run(
        [sys.executable, str(script), "127.0.0.1", "abc"], capture_output=True, text=True
    )
    assert (done.returncode, done.stderr) == (
        1,
        "mentor: PORT=abc: a port is a number from 1 to 65535\n",
    )


# ---------------------------------------------------------------- tenants
def test_quotas_answer_413_and_429_naming_the_limit(service):
    client, _, admin = service
    workspace_id = client.get("/v1/me", headers=admin).json()["workspace"]["id"]
    url = f"/v1/workspaces/{workspace_id}/quotas"
    # Only the operator sets quotas.
    assert client.put(url, headers=admin, json={"courses": 1}).status_code == 403
    quotas = {"courses": 1, "items_per_course": 3, "import_bytes": 58, "events_per_day": 2}
    response = client.put(url, headers=bearer(OPERATOR), json=quotas)
    assert response.status_code == 200, response.text
    assert response.json() == {**quotas, "today": {"day": "2026-12-07", "events": 0}}
    # Import size and items per course: 413.
    response = client.post(
        "/v1/courses", headers=admin, data={"id": "c"}, files={"items": ("i.csv", ITEMS_CSV)}
    )
    assert response.status_code == 413
    assert response.json()["detail"] == (
        "quota: the import is 59 bytes; this workspace's quota is 58 bytes"
    )
    client.put(url, headers=bearer(OPERATOR), json={"import_bytes": None})
    response = client.post(
        "/v1/courses", headers=admin, data={"id": "c"}, files={"items": ("i.csv", ITEMS_CSV)}
    )
    assert response.status_code == 413
    assert response.json()["detail"] == (
        "quota: the course is 4 items; this workspace's quota is 3 items"
    )
    small = b"item,skills\na1,A\na2,A\n"
    course(client, admin, "c", items=small)
    # Courses: 429.
    response = client.post(
        "/v1/courses", headers=admin, data={"id": "d"}, files={"items": ("i.csv", small)}
    )
    assert response.status_code == 429
    assert response.json()["detail"] == (
        "quota: this workspace may have 1 courses and has 1; delete one first"
    )
    # Events per day: 429 with the seconds to the next UTC midnight, nothing stored.
    two = [{"learner": "ada", "item": "a1", "time": NOW - 10 + k, "outcome": 1} for k in range(2)]
    assert post(client, admin, two, "1").status_code == 201
    response = post(client, admin, [two[0] | {"time": NOW}], "2")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "86400"
    assert response.json()["detail"] == (
        "quota: this workspace may send 2 events per day (UTC); 2 were accepted today and "
        "this request has 1; the count resets in 86400 s"
    )
    assert len(events_of(client, admin)) == 2
    assert client.get("/v1/quotas", headers=admin).json()["today"]["events"] == 2
    # A history imported with a course counts too: the course is refused whole.
    client.put(url, headers=bearer(OPERATOR), json={"courses": 5})
    history = f"learner,item,time,outcome\nada,a1,{exact(NOW - 5)},1\n".encode()
    response = client.post(
        "/v1/courses",
        headers=admin,
        data={"id": "h"},
        files={"items": ("i.csv", small), "events": ("history.csv", history)},
    )
    assert response.status_code == 429
    assert "2 were accepted today and this request has 1" in response.json()["detail"]
    assert client.get("/v1/courses/h", headers=admin).status_code == 404
    client.put(url, headers=bearer(OPERATOR), json={"events_per_day": 3})
    response = client.post(
        "/v1/courses",
        headers=admin,
        data={"id": "h"},
        files={"items": ("i.csv", small), "events": ("history.csv", history)},
    )
    assert response.status_code == 201, response.text
    assert client.get("/v1/quotas", headers=admin).json()["today"]["events"] == 3
    # Another workspace has the service's quotas.
    other = bearer(
        client.post("/v1/workspaces", json={"name": "b"}, headers=bearer(OPERATOR)).json()[
            "admin_key"
        ]["key"]
    )
    assert client.get("/v1/quotas", headers=other).json()["events_per_day"] == 1_000_000


def test_a_large_course_loads_in_the_background_with_503(make_service):
    client, _, admin = make_service(load_inline_items=3)
    course(client, admin, "big")  # 4 items: large here
    course(client, admin, "small", items=b"item,skills\na1,A\n")
    learner(client, admin, "ada")
    # The process that imported the course kept its engine: no loading.
    assert client.get("/v1/courses/big/learners/ada/next", headers=admin).status_code == 200
    # A fresh process (a restart) loads it in the background, answering 503 meanwhile.
    fresh, _, _ = make_service(load_inline_items=3)
    response = fresh.get("/v1/courses/big/learners/ada/next", headers=admin)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    assert "the course is loading" in response.json()["detail"]
    # Other courses answer at once.
    assert fresh.get("/v1/courses/small/learners/ada/next", headers=admin).status_code == 200
    for _ in range(200):
        response = fresh.get("/v1/courses/big/learners/ada/next", headers=admin)
        if response.status_code == 200:
            break
        threading.Event().wait(0.05)
    assert response.status_code == 200
    assert response.json() == client.get("/v1/courses/big/learners/ada/next", headers=admin).json()


# ---------------------------------------------------------------- xAPI
def test_events_round_trip_through_xapi_statements(service):
    client, _, admin = service
    course(client, admin, "a")
    course(client, admin, "b")
    ada = learner(client, admin, "ada")
    app = grader(client, admin)
    sent = [
        {"learner": "ada", "item": "a1", "time": NOW - 30.25, "outcome": 1},
        {"learner": "bob", "item": "b2", "time": NOW - 20, "outcome": 0.5},
        {"learner": "ada", "item": "a2", "time": NOW - 10, "outcome": 0, "extra": {"hint": 1}},
    ]
    assert post(client, app, sent, "1", "a").status_code == 201
    page = client.get("/v1/courses/a/xapi/statements", headers=admin).json()
    statements = page["statements"]
    assert page["more"] is None and len(statements) == 3
    first = statements[0]
    assert first["actor"]["account"]["name"] == "ada"
    assert first["verb"]["id"] == "http://adlnet.gov/expapi/verbs/answered"
    assert first["object"]["id"] == "http://testserver/v1/courses/a/items/a1"
    assert first["result"] == {"score": {"scaled": 1.0}, "success": True}
    assert first["timestamp"] == "2026-12-06T23:59:29.750000Z"
    assert statements[2]["result"]["extensions"] == {"urn:mentor:extra:hint": 1.0}
    # The same export twice: the same statement ids.
    again = client.get("/v1/courses/a/xapi/statements", headers=admin).json()["statements"]
    assert [s["id"] for s in again] == [s["id"] for s in statements]
    # Round trip: statements into another course give the same events.
    response = client.post(
        "/v1/courses/b/xapi/statements",
        headers={**app, "Idempotency-Key": "x1"},
        json=statements,
    )
    assert response.status_code == 201, response.text

    def rows(slug):
        return [
            (e["learner"], e["item"], e["time"], e["outcome"], e["extra"])
            for e in events_of(client, admin, slug)
        ]

    assert rows("b") == rows("a")
    # A statement from elsewhere: an mbox, a timestamp, success only.
    foreign = {
        "actor": {"mbox": "mailto:cy@school.example"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/passed"},
        "object": {"id": "b1"},
        "result": {"success": True},
        "timestamp": "2026-12-06T23:59:59Z",
    }
    response = client.post(
        "/v1/courses/b/xapi/statements", headers={**app, "Idempotency-Key": "x2"}, json=[foreign]
    )
    assert response.status_code == 201, response.text
    assert rows("b")[-1] == ("cy@school.example", "b1", NOW - 1, 1.0, None)
    # Refused, naming the statement and field; a learner token cannot post them.
    response = client.post(
        "/v1/courses/b/xapi/statements",
        headers={**app, "Idempotency-Key": "x3"},
        json=[foreign, {**foreign, "result": {}}],
    )
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "statements[1].result: needs score.scaled (0 to 1) or success"
    )
    late = {**foreign, "timestamp": "9999-12-31T23:59:59Z"}
    response = client.post(
        "/v1/courses/b/xapi/statements", headers={**app, "Idempotency-Key": "x4"}, json=[late]
    )
    assert response.status_code == 422 and "after the server's time" in response.json()["detail"]
    response = client.post(
        "/v1/courses/b/xapi/statements", headers={**ada, "Idempotency-Key": "x5"}, json=[foreign]
    )
    assert response.status_code == 403
    # A learner exports their own statements only.
    mine = client.get("/v1/courses/a/xapi/statements", headers=ada).json()["statements"]
    assert {s["actor"]["account"]["name"] for s in mine} == {"ada"} and len(mine) == 2


def test_xapi_actors_by_openid_or_mbox_sha1sum_and_malformed_extensions(service):
    """An openid (a URL: its '/' cannot be in a learner id) and an mbox_sha1sum become
    learner ids that export back to the same actors; extensions that are not an
    object are a 422 naming the statement and field, not a 500."""
    client, _, admin = service
    course(client, admin, "a")
    app = grader(client, admin)
    base = {
        "verb": {"id": "http://adlnet.gov/expapi/verbs/answered"},
        "object": {"id": "a1"},
        "result": {"success": True},
        "timestamp": "2026-12-06T23:59:59Z",
    }
    openid = "http://openid.example.org/12345"
    sha1 = "ebd31e95054c018b10727ccffd2ef2ec3a016ee9"
    sent = [{**base, "actor": {"openid": openid}}, {**base, "actor": {"mbox_sha1sum": sha1}}]
    response = client.post(
        "/v1/courses/a/xapi/statements", headers={**app, "Idempotency-Key": "o1"}, json=sent
    )
    assert response.status_code == 201, response.text
    learners = [e["learner"] for e in events_of(client, admin, "a")]
    assert learners == ["openid:http:%2F%2Fopenid.example.org%2F12345", f"mbox_sha1sum:{sha1}"]
    exported = client.get("/v1/courses/a/xapi/statements", headers=admin).json()["statements"]
    assert [s["actor"] for s in exported] == [
        {"objectType": "Agent", "openid": openid},
        {"objectType": "Agent", "mbox_sha1sum": sha1},
    ]
    for key, extensions in (("e1", [1]), ("e2", "x")):
        bad = {**sent[1], "result": {"success": True, "extensions": extensions}}
        response = client.post(
            "/v1/courses/a/xapi/statements",
            headers={**app, "Idempotency-Key": key},
            json=[sent[1], bad],
        )
        assert response.status_code == 422
        assert response.json()["detail"] == (
            f"statements[1].result.extensions: not a JSON object (value {str(extensions)!r})"
        )


# ---------------------------------------------------------------- round trips
def test_next_is_one_connection_and_one_query(service):
    """A ``next`` whose engine is current reads the caller, the course, the
    learner and the course's version in one query on one connection (on PostgreSQL
    without a transaction and, the connection used a moment ago, without a ping:
    1 round trip; 3 before, 9 before that)."""
    from sqlalchemy import event

    client, _, admin = service
    course(client, admin, "c")
    ada = learner(client, admin, "ada")
    url = "/v1/courses/c/learners/ada/next"
    assert client.get(url, headers=ada).status_code == 200  # the engine is loaded
    db = client.app.state.service.db
    counts = {"statements": 0, "checkouts": 0}

    def statement(connection, cursor, text, *args) -> None:
        # Queries only: SQLite's own BEGIN (mentor.service.db) is no round trip.
        counts["statements"] += text.lstrip().upper().startswith("SELECT")

    def checkout(*args) -> None:
        counts["checkouts"] += 1

    engines = {db.writer, db.reader} if db.dialect == "sqlite" else {db.writer}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", statement)
        event.listen(engine.pool, "checkout", checkout)
    try:
        for _ in range(5):
            assert client.get(url, headers=ada).status_code == 200
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", statement)
            event.remove(engine.pool, "checkout", checkout)
    assert counts == {"statements": 5, "checkouts": 5}
