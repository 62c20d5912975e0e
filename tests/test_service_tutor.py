"""Tutoring sessions in the service (/v1 API, mentor.service.tutoring), on SQLite
always and on PostgreSQL when MENTOR_TEST_POSTGRES_URL names a server.

A learner answers an attempt of the demo course wrong with a known
misconception's answer, opens the session, goes through it; the first answer to
each sub-question is an event in the course's log (tutor = 1, hints), a hint asked
for a miss that the course's BKT reads as such (checked by hand), and helped
answers are no events. The
session is saved: a fresh app over the same database resumes it. Denials:
another learner's session is 404, a grader key 403, an attempt answered right
or not yet answered 409, a finished session 409.
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("sqlalchemy")

from fastapi.testclient import TestClient  # noqa: E402
from test_service import db_url, postgres_url  # noqa: E402, F401 - the same two databases

from mentor.demo import course, question_for  # noqa: E402
from mentor.demo.seed import ensure_demo  # noqa: E402
from mentor.service import create_app  # noqa: E402
from mentor.service.testing import OPERATOR, bearer  # noqa: E402

NOW = 1_700_000_000.0
COURSE = "/v1/courses/arithmetic"


@pytest.fixture
def service(db_url, tmp_path):  # noqa: F811
    def make():
        app = create_app(db_url, tmp_path / "data", operator_token=OPERATOR, clock=lambda: NOW)
        client = TestClient(app)
        client.__enter__()
        return client

    first = make()
    demo = ensure_demo(first.app.state.service, seed=7)
    yield first, demo, make
    first.__exit__(None, None, None)


def new_learner(client, demo, name):
    response = client.post("/v1/learners", headers=bearer(demo.admin_key), json={"id": name})
    assert response.status_code == 201, response.text
    return bearer(response.json()["token"])


def wrong_attempt(client, headers, name):
    """Ask for an attempt and answer it with a misconception's answer; returns the
    attempt, its question and the wrong answer."""
    attempt = client.post(f"{COURSE}/learners/{name}/attempts", headers=headers).json()
    question = question_for(
        attempt["item"], course().item(attempt["item"]).attributes, name, attempt["step"]
    )
    wrong = question.misconceptions[0].answer
    done = client.post(
        f"{COURSE}/attempts/{attempt['id']}/answer", headers=headers, json={"answer": wrong}
    ).json()
    assert done["correct"] is False
    return attempt, question, wrong


def state(client, demo, name):
    response = client.get(f"{COURSE}/learners/{name}/state", headers=bearer(demo.admin_key))
    return response.json()


def test_a_wrong_answer_opens_a_session_whose_turns_are_events(service):
    client, demo, make = service
    admin = bearer(demo.admin_key)
    me = new_learner(client, demo, "kim")
    attempt, question, wrong = wrong_attempt(client, me, "kim")
    before = state(client, demo, "kim")
    assert before["events"] == 1
    opened = client.post(
        f"{COURSE}/attempts/{attempt['id']}/tutor", headers=me, json={"answer": wrong}
    )
    assert opened.status_code == 201, opened.text
    body = opened.json()
    misconception = question.misconceptions[0]
    assert body["status"] == "active" and body["question"] == question.text
    assert body["prompt"] == question.step(misconception.step).prompt  # asked first
    target = next(a for a in body["attributes"] if a["id"] == misconception.step)
    assert target["misconceptions"] == [misconception.text]
    # asking again gives the same session
    again = client.post(f"{COURSE}/attempts/{attempt['id']}/tutor", headers=me, json={})
    assert again.json()["id"] == body["id"]
    sid = body["id"]
    # a wrong answer to the step: an event with outcome 0 on the step's skill
    step = question.step(misconception.step)
    reply = client.post(f"{COURSE}/tutor/{sid}/answer", headers=me, json={"answer": "-999"})
    assert reply.status_code == 200, reply.text
    assert reply.json()["feedback"] == "Not quite."
    [event] = reply.json()["events"]
    assert (event["skill"], event["outcome"]) == (step.skill or attempt["item"].split("-")[0], 0)
    assert state(client, demo, "kim")["events"] == 2
    # resumed by a fresh app over the same database
    other = make()
    resumed = other.get(f"{COURSE}/tutor/{sid}", headers=me).json()
    assert resumed["prompt"] == reply.json()["prompt"] and resumed["turns"] == 1
    # then the steps, right, until the session is solved
    tutor = resumed
    answers = 0
    while tutor["status"] == "active":
        prompt = tutor["prompt"]
        current = next((s for s in question.steps if s.prompt in prompt), None)
        answer = current.answer if current is not None else question.answer
        tutor = other.post(
            f"{COURSE}/tutor/{sid}/answer", headers=me, json={"answer": answer}
        ).json()
        answers += 1
        assert answers < 10, tutor
    assert tutor["status"] == "solved" and tutor["prompt"] is None
    after = state(client, demo, "kim")
    # one event per sub-question asked afresh (its first answer); the answer right
    # after the nudge and the whole question's answer are none (ASSISTments' rule)
    fresh = [n for n in tutor["transcript"] if n["rung"] == 0 and n["kind"] == "step"]
    assert after["events"] == 1 + len(fresh) and len(fresh) <= answers
    exported = client.get(f"{COURSE}/events", headers=admin, params={"learner": "kim"}).json()
    tutored = [e for e in exported["events"] if (e["extra"] or {}).get("tutor") == 1]
    assert [e["outcome"] for e in tutored] == [0.0] + [1.0] * (len(fresh) - 1)
    assert after["mastery"] != before["mastery"]
    # a finished session takes no more answers
    done = client.post(f"{COURSE}/tutor/{sid}/answer", headers=me, json={"answer": "1"})
    assert done.status_code == 409
    listed = client.get(f"{COURSE}/tutor", headers=admin).json()
    assert [s["id"] for s in listed["sessions"]] == [sid]


def bkt_of(client, attempt, item):
    """The BKT of the attempt's course and the parameters of ``item``."""
    from sqlalchemy import select

    from mentor.service.tables import Attempt

    svc = client.app.state.service
    with svc.db.read() as session:  # by the attempt: PostgreSQL's database is shared
        course_id = session.scalar(select(Attempt.course_id).where(Attempt.id == attempt))
    with svc.engines.reading(course_id) as (_, engine):
        return engine.model, engine.model.params(item, item)


def test_bkt_sees_a_hint_as_a_miss_and_helped_answers_not_at_all(service):
    # ASSISTments' rule (mentor.tutor.session): the first action on a sub-question
    # is its one event, and asking for a hint scores it 0; the right answer that
    # follows the hint is no event. Checked on the course's BKT (per item, no
    # forgetting) by hand: posterior = p S / (p S + (1 - p)(1 - G)), then
    # p' = posterior + (1 - posterior) T.
    from mentor.service.tutoring import easiest_items

    client, demo, _ = service
    me = new_learner(client, demo, "ivy")
    attempt, question, wrong = wrong_attempt(client, me, "ivy")
    body = client.post(
        f"{COURSE}/attempts/{attempt['id']}/tutor", headers=me, json={"answer": wrong}
    ).json()
    step = next(s for s in question.steps if s.prompt == body["prompt"])
    item = easiest_items(course())[step.skill]
    model, params = bkt_of(client, attempt["id"], item)
    p = model.knowledge("ivy", item)
    hinted = client.post(
        f"{COURSE}/tutor/{body['id']}/answer", headers=me, json={"hint": True}
    ).json()
    assert hinted["events"] == [
        {"attribute": step.id, "skill": step.skill, "outcome": 0.0, "hints": 1}
    ]
    slip, guess, learn = params["slip"], params["guess"], params["learn"]
    posterior = p * slip / (p * slip + (1 - p) * (1 - guess))
    expected = posterior + (1 - posterior) * learn
    model, _ = bkt_of(client, attempt["id"], item)
    assert model.knowledge("ivy", item) == pytest.approx(expected, rel=1e-9)
    assert expected < p + (1 - p) * learn  # below what a right answer would give
    exported = client.get(
        f"{COURSE}/events", headers=bearer(demo.admin_key), params={"learner": "ivy"}
    ).json()["events"]
    assert (exported[-1]["item"], exported[-1]["outcome"]) == (item, 0.0)
    assert exported[-1]["extra"] == {"tutor": 1.0, "hints": 1.0}
    # the step's answer after the hint: right, but helped, so no event
    helped = client.post(
        f"{COURSE}/tutor/{body['id']}/answer", headers=me, json={"answer": step.answer}
    ).json()
    assert helped["feedback"].startswith("Yes") and helped["events"] == []
    model, _ = bkt_of(client, attempt["id"], item)
    assert model.knowledge("ivy", item) == pytest.approx(expected, rel=1e-9)
    assert state(client, demo, "ivy")["events"] == 2


def test_teaching_hints_show_where_learners_got_stuck(service):
    client, demo, _ = service
    admin = bearer(demo.admin_key)
    me = new_learner(client, demo, "lee")
    attempt, question, wrong = wrong_attempt(client, me, "lee")
    sid = client.post(
        f"{COURSE}/attempts/{attempt['id']}/tutor", headers=me, json={"answer": wrong}
    ).json()["id"]
    first = client.post(f"{COURSE}/tutor/{sid}/answer", headers=me, json={"hint": True}).json()
    assert first["events"][0]["hints"] == 1 and first["events"][0]["outcome"] == 0
    for _ in range(2):
        reply = client.post(
            f"{COURSE}/tutor/{sid}/answer", headers=me, json={"answer": "-999"}
        ).json()
    step = question.step(question.misconceptions[0].step)
    assert reply["stuck"] == [step.id.replace("_", " ")]
    listed = client.get(f"{COURSE}/tutor", headers=admin, params={"learner": "lee"}).json()
    assert listed["stuck"] == [
        {"item": attempt["item"], "attribute": reply["stuck"][0], "sessions": 1}
    ]


def test_denials(service):
    client, demo, _ = service
    me = new_learner(client, demo, "ana")
    them = new_learner(client, demo, "bo")
    attempt, _, wrong = wrong_attempt(client, me, "ana")
    sid = client.post(
        f"{COURSE}/attempts/{attempt['id']}/tutor", headers=me, json={"answer": wrong}
    ).json()["id"]
    assert client.get(f"{COURSE}/tutor/{sid}", headers=them).status_code == 404
    assert (
        client.post(f"{COURSE}/attempts/{attempt['id']}/tutor", headers=them, json={}).status_code
        == 404
    )
    assert client.get(f"{COURSE}/tutor", headers=me).status_code == 403
    key = client.post(
        "/v1/keys", headers=bearer(demo.admin_key), json={"name": "g", "role": "grader"}
    ).json()["key"]
    assert (
        client.post(
            f"{COURSE}/attempts/{attempt['id']}/tutor", headers=bearer(key), json={}
        ).status_code
        == 403
    )
    both = client.post(
        f"{COURSE}/tutor/{sid}/answer", headers=me, json={"answer": "1", "hint": True}
    )
    assert both.status_code == 422
    assert both.json()["detail"] == (
        "answer, hint: send either an answer or hint: true, not answer='1' with hint=true"
    )
    neither = client.post(f"{COURSE}/tutor/{sid}/answer", headers=me, json={})
    assert neither.json()["detail"].endswith("not answer=None with hint=false")
    # not answered yet, then answered right
    fresh = client.post(f"{COURSE}/learners/bo/attempts", headers=them).json()
    assert (
        client.post(f"{COURSE}/attempts/{fresh['id']}/tutor", headers=them, json={}).status_code
        == 409
    )
    q = question_for(fresh["item"], course().item(fresh["item"]).attributes, "bo", fresh["step"])
    client.post(f"{COURSE}/attempts/{fresh['id']}/answer", headers=them, json={"answer": q.answer})
    right = client.post(f"{COURSE}/attempts/{fresh['id']}/tutor", headers=them, json={})
    assert right.status_code == 409 and "answered right" in right.json()["detail"]


def text_course(client, demo):
    domain = {
        "skills": [{"id": "geography"}],
        "items": [
            {
                "id": "capital",
                "skills": ["geography"],
                "attributes": {
                    "question": "What is the capital of Australia?",
                    "answer": "Canberra",
                },
            }
        ],
        "prerequisites": [],
    }
    response = client.post(
        "/v1/courses",
        headers=bearer(demo.admin_key),
        data={"id": "geo"},
        files={"items": ("geo.json", json.dumps(domain).encode(), "application/json")},
    )
    assert response.status_code == 201, response.text


def test_a_written_answer_is_tutored_by_the_language_model(service):
    from test_tutor import FIXTURES, FixtureChat

    client, demo, make = service
    text_course(client, demo)
    me = new_learner(client, demo, "max")
    attempt = client.post("/v1/courses/geo/learners/max/attempts", headers=me).json()
    client.post(
        f"/v1/courses/geo/attempts/{attempt['id']}/answer", headers=me, json={"answer": "Sydney"}
    )
    # without a language model such an item cannot be tutored
    refused = client.post(
        f"/v1/courses/geo/attempts/{attempt['id']}/tutor", headers=me, json={"answer": "Sydney"}
    )
    assert refused.status_code == 422 and "language model" in refused.json()["detail"]
    chat = FixtureChat(FIXTURES / "capital.json")
    client.app.state.service.tutor_chat = chat
    body = client.post(
        f"/v1/courses/geo/attempts/{attempt['id']}/tutor", headers=me, json={"answer": "Sydney"}
    ).json()
    assert body["prompt"] == "Is a country's largest city always its capital?"
    sid = body["id"]
    url = f"/v1/courses/geo/tutor/{sid}/answer"
    reply = client.post(url, headers=me, json={"answer": "yes"}).json()
    assert reply["prompt"] == "Is New York the capital of the United States?"
    assert reply["events"] == [
        {"attribute": "largest_city", "skill": "geography", "outcome": 0.0, "hints": 0}
    ]
    # a fresh app without the model reads the saved session (no call needed)
    assert make().get(f"/v1/courses/geo/tutor/{sid}", headers=me).json()["turns"] == 1
    client.post(url, headers=me, json={"answer": "no"})
    reply = client.post(url, headers=me, json={"answer": "Sydney and Melbourne"}).json()
    assert reply["prompt"] == "Now try the whole question again: What is the capital of Australia?"
    done = client.post(url, headers=me, json={"answer": "canberra"}).json()
    assert done["status"] == "solved"
    assert chat.calls == ["propose", "judge", "rephrase", "judge", "judge"]
    learned = client.get("/v1/courses/geo/learners/max/state", headers=bearer(demo.admin_key))
    # the wrong answer, and the first answers to the two questions asked afresh
    # ("no" came after a nudge; the whole question's answer is no event)
    assert learned.json()["events"] == 1 + 2


def test_a_model_that_fails_is_a_503_and_records_nothing(service):
    from mentor.llm import LLMError

    class Down:
        def complete(self, messages, **options):
            raise LLMError("http://127.0.0.1:9/v1: connection refused")

    client, demo, _ = service
    text_course(client, demo)
    me = new_learner(client, demo, "zoe")
    attempt = client.post("/v1/courses/geo/learners/zoe/attempts", headers=me).json()
    client.post(
        f"/v1/courses/geo/attempts/{attempt['id']}/answer", headers=me, json={"answer": "Perth"}
    )
    client.app.state.service.tutor_chat = Down()
    response = client.post(
        f"/v1/courses/geo/attempts/{attempt['id']}/tutor", headers=me, json={"answer": "Perth"}
    )
    assert response.status_code == 503 and "connection refused" in response.json()["detail"]
    assert (
        client.get("/v1/courses/geo/tutor", headers=bearer(demo.admin_key)).json()["sessions"] == []
    )


def test_a_turn_answered_meanwhile_is_a_409_and_stores_no_events(service, monkeypatch):
    # Two tabs answer the same question: the second one's session state is stale.
    # Its events and its state are one transaction, checked under the write lock:
    # nothing of it is stored.
    import mentor.service.tutoring as tutoring

    client, demo, _ = service
    me = new_learner(client, demo, "tab")
    attempt, question, wrong = wrong_attempt(client, me, "tab")
    sid = client.post(
        f"{COURSE}/attempts/{attempt['id']}/tutor", headers=me, json={"answer": wrong}
    ).json()["id"]
    real = tutoring.find_session
    svc = client.app.state.service
    with svc.db.read() as session:
        from sqlalchemy import select

        from mentor.service.tutor_tables import TutorSessionRow

        stale = session.scalar(select(TutorSessionRow).where(TutorSessionRow.id == sid))
        session.expunge(stale)
    first = client.post(f"{COURSE}/tutor/{sid}/answer", headers=me, json={"hint": True})
    assert first.status_code == 200 and len(first.json()["events"]) == 1
    events = state(client, demo, "tab")["events"]
    calls = []

    def old_then_real(svc, who, row, session_id):
        calls.append(session_id)
        found, learner = real(svc, who, row, session_id)
        return (stale, learner) if len(calls) == 1 else (found, learner)

    monkeypatch.setattr(tutoring, "find_session", old_then_real)
    second = client.post(f"{COURSE}/tutor/{sid}/answer", headers=me, json={"hint": True})
    assert second.status_code == 409 and "moved on meanwhile" in second.json()["detail"]
    monkeypatch.undo()
    assert state(client, demo, "tab")["events"] == events
    assert client.get(f"{COURSE}/tutor/{sid}", headers=me).json()["turns"] == 1
