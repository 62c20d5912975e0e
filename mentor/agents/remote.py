"""An experience memory kept by mentor's service, over its ``/v1/agents`` API.

:class:`RemoteMemory` has the :class:`~mentor.agents.Memory` interface of the in-process
:class:`~mentor.agents.ExperienceMemory`, so the same agent loop
(:func:`~mentor.agents.run`, MaTTS) runs against a memory that several processes, or
agents written in other languages, share through the service. Retrieval and the
bookkeeping (credit, merge, retire) happen on the server with the agent's settings
(``PUT /v1/agents/{agent}``); extraction stays with the agent, whose extractor (an LLM)
writes the items that :meth:`RemoteMemory.record` sends with the outcome.

Each outcome is posted with an Idempotency-Key of its own, and a request that fails on
the way (a dropped connection, a timeout, a 502, 503 or 504) is sent again with the same
key, up to ``retries`` times: the server records the outcome once even when the first
answer was lost after it was stored.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from mentor.agents.extract import Extractor
from mentor.agents.items import MemoryItem, Task, Trajectory
from mentor.agents.memory import Recorded
from mentor.errors import MentorError


def _item(data: dict[str, Any]) -> MemoryItem:
    return MemoryItem(
        title=data["title"],
        description=data["description"],
        content=data["content"],
        polarity=data["polarity"],
        source_task=data["source_task"],
        id=data["id"],
        uses=data["uses"],
        successes=data["successes"],
        expected=data["expected"],
        support=data["support"],
        version=data["version"],
        retired=data["retired"],
        retired_reason=data["retired_reason"],
    )


class RemoteMemory:
    """The memory of ``agent`` in the service at ``url``.

    Parameters
    ----------
    url
        The service's base URL (``http://127.0.0.1:8000``), or a path when ``client``
        already has a base URL.
    token
        The agent's own learner token (or a workspace admin key).
    agent
        The agent's id (set up with ``PUT /v1/agents/{agent}``).
    extractor
        Turns judged attempts into items (None: the memory only retrieves and records
        outcomes).
    failures
        Learn from failed attempts too (ReasoningBank, default) or only from successes.
    k
        Items retrieved per task; default the agent's setting.
    client
        An ``httpx.Client`` to send with (tests pass the service's test client).
    timeout
        Seconds per request of the client made here (unused with ``client``). Default 30.
    retries
        Times a failed request (connection error, timeout, 502, 503, 504) is sent again,
        after 0.5 s, 1 s, 2 s, ... (or the server's Retry-After). Default 3.
    """

    #: Answers worth sending the same request again for (the server or a proxy was busy).
    RETRY_STATUS = (502, 503, 504)

    def __init__(
        self,
        url: str,
        token: str,
        agent: str,
        extractor: Extractor | None = None,
        failures: bool = True,
        k: int | None = None,
        client: Any = None,
        timeout: float = 30.0,
        retries: int = 3,
    ) -> None:
        if client is None:
            try:
                import httpx
            except ImportError:
                raise MentorError(
                    "the remote memory needs httpx: pip install 'mentor[agents]'"
                ) from None
            client = httpx.Client(timeout=timeout)
        self.client = client
        self.base = f"{url.rstrip('/')}/v1/agents/{quote(agent, safe='')}"
        self.headers = {"Authorization": f"Bearer {token}"}
        self.agent = agent
        self.extractor = extractor
        self.failures = failures
        self.k = k
        self.retries = retries

    def _send(self, method: str, path: str, body: dict | None, headers: dict[str, str]) -> Any:
        """The response, after up to :attr:`retries` more tries of a request that failed on
        the way."""
        import httpx

        for attempt in range(self.retries + 1):
            wait = 0.5 * 2**attempt
            try:
                response = self.client.request(method, self.base + path, json=body, headers=headers)
            except httpx.TransportError:
                if attempt == self.retries:
                    raise
            else:
                if response.status_code not in self.RETRY_STATUS or attempt == self.retries:
                    return response
                after = response.headers.get("retry-after", "")
                wait = float(after) if after.isdigit() else wait
            time.sleep(wait)
        raise AssertionError("unreachable")  # the last try returns or raises

    def _call(
        self, method: str, path: str, body: dict | None = None, key: str | None = None
    ) -> Any:
        headers = self.headers if key is None else {**self.headers, "Idempotency-Key": key}
        response = self._send(method, path, body, headers)
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            raise MentorError(f"{method} {self.base}{path}: HTTP {response.status_code}: {detail}")
        return None if response.status_code == 204 else response.json()

    def retrieve(self, task: Task) -> list[MemoryItem]:
        """The items the service retrieves for the task's text."""
        body: dict[str, Any] = {"task": task.text}
        if self.k is not None:
            body["k"] = self.k
        return [_item(i) for i in self._call("POST", "/retrieve", body)["items"]]

    def items(self) -> list[MemoryItem]:
        """The active items (every page)."""
        out: list[MemoryItem] = []
        while True:
            page = self._call("GET", f"/items?offset={len(out)}&limit=1000")
            out += [_item(i) for i in page]
            if len(page) < 1000:
                return out

    def estimates(self, window: int = 20, strength: float = 2.0) -> dict[str, dict[str, float]]:
        """The memory read as a student model by the service
        (:func:`~mentor.agents.family_estimates`), for
        :class:`~mentor.agents.MemoryStudent` (``source=``)."""
        return self._call("GET", f"/student?window={window}&strength={strength!r}")["families"]

    def record(
        self,
        task: Task,
        trajectories: Sequence[Trajectory],
        outcomes: Sequence[bool],
        retrieved: Sequence[MemoryItem],
        success: bool,
    ) -> Recorded:
        """Extract items here, then post the outcome with them: the service credits,
        merges and retires in one transaction."""
        done = Recorded()
        learn = [(t, o) for t, o in zip(trajectories, outcomes, strict=True) if o or self.failures]
        items: list[MemoryItem] = []
        if learn and self.extractor is not None:
            extraction = self.extractor.extract(task, [t for t, _ in learn], [o for _, o in learn])
            items, done.skipped = extraction.items, extraction.skipped
        answer = self._call(
            "POST",
            "/outcomes",
            {
                "task_id": task.id,
                "family": task.family,
                "task": task.text,
                "success": bool(success),
                "attempts": len(trajectories),
                "retrieved": [m.id for m in retrieved if m.id is not None],
                "items": [
                    {
                        "title": m.title,
                        "description": m.description,
                        "content": m.content,
                        "polarity": m.polarity,
                        "source_task": m.source_task,
                    }
                    for m in items
                ],
            },
            key=uuid.uuid4().hex,
        )
        done.added = list(answer["added"])
        done.merged = {int(i): n for i, n in answer["merged"].items()}
        done.retired = {int(i): why for i, why in answer["retired"].items()}
        return done
