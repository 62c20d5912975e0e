"""Request and response bodies of the agents' memory API (:mod:`.agents`).

Every field is checked by a validator whose message names the value it got, so a 422
says which field was wrong and with what (``k: Value error, must be an integer from 1
to 50, got 0``); the OpenAPI schema still carries the bounds.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from mentor.agents.items import POLARITIES
from mentor.service.agent_tables import EMBEDDERS

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE = re.compile(r"[\x00-\x1f\x7f]")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def integer(lo: int, hi: int) -> Any:
    """An integer from ``lo`` to ``hi`` (not a boolean, not 2.0)."""

    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise ValueError(f"must be an integer from {lo} to {hi}, got {_short(value)}")
        return value

    return Annotated[
        int,
        BeforeValidator(check),
        WithJsonSchema({"type": "integer", "minimum": lo, "maximum": hi}),
    ]


def number(lo: float, hi: float) -> Any:
    """A finite number from ``lo`` to ``hi``."""

    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
            raise ValueError(f"must be a number from {lo:g} to {hi:g}, got {_short(value)}")
        return float(value)

    return Annotated[
        float,
        BeforeValidator(check),
        WithJsonSchema({"type": "number", "minimum": lo, "maximum": hi}),
    ]


def text(lo: int, hi: int, line: bool = True) -> Any:
    """Text of ``lo`` to ``hi`` characters, without control characters (``line``) or
    with line breaks and tabs allowed."""
    bad = _LINE if line else _CONTROL

    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError(f"must be text, got {_short(value)}")
        if not lo <= len(value) <= hi:
            raise ValueError(
                f"must have {lo} to {hi} characters, got {len(value)}: {_short(value)}"
            )
        if bad.search(value):
            raise ValueError(f"must not contain control characters, got {_short(value)}")
        return value

    return Annotated[
        str,
        BeforeValidator(check),
        WithJsonSchema({"type": "string", "minLength": lo, "maxLength": hi}),
    ]


def choice(options: tuple[str, ...]) -> Any:
    """One of ``options``."""

    def check(value: Any) -> str:
        if value not in options:
            raise ValueError(f"must be one of {', '.join(options)}, got {_short(value)}")
        return value

    return Annotated[
        str, BeforeValidator(check), WithJsonSchema({"type": "string", "enum": list(options)})
    ]


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, got {_short(value)}")
    return value


Flag = Annotated[bool, BeforeValidator(_flag), WithJsonSchema({"type": "boolean"})]
ItemId = integer(1, 2**31 - 1)
EmbedderName = choice(EMBEDDERS)
Polarity = choice(POLARITIES)
Attempts = integer(1, 1000)
Uses = integer(1, 1_000_000)
TopK = integer(1, 50)
Cosine = number(-1.0, 1.0)
Margin = number(0.0, 1.0)
Seconds = number(0.0, 1e12)
OptionalText = text(0, 20000, line=False)
Sentence = text(1, 1000, line=False)
Name = text(1, 200)
TaskText = text(1, 20000, line=False)
Content = text(1, 4000, line=False)
TaskId = text(1, 500)
Key = text(1, 64)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConsolidationIn(_Strict):
    """Beyond ReasoningBank, which only appends (:class:`mentor.agents.Consolidation`)."""

    merge_threshold: Cosine = Field(
        0.9,
        description="A new item this similar (cosine of the item texts' embeddings) to "
        "an active item of the same polarity is merged into it.",
    )
    min_uses: Uses = Field(5, description="Uses before an item can be retired.")
    retire_margin: Margin = Field(
        0.1,
        description="An item is retired when its tasks succeeded less often than their "
        "families did on average by more than this.",
    )


class AgentIn(_Strict):
    embedder: EmbedderName = Field(
        "minilm",
        description="How texts are embedded: minilm (all-MiniLM-L6-v2, offline "
        "weights) or hashing (words and trigrams hashed, 512 dimensions). Fixed once the "
        "memory holds items.",
    )
    k: TopK = Field(1, description="Items retrieved per task by default (the paper's best: 1).")
    consolidation: ConsolidationIn | None = Field(
        default_factory=ConsolidationIn,
        description="Merge near-duplicates and retire items that hurt; null: only append "
        "(the paper).",
    )


class AgentOut(BaseModel):
    id: str
    embedder: str
    k: int
    consolidation: dict[str, Any] | None
    items: int = Field(description="Active items.")
    retired: int = Field(description="Retired items (kept, no longer retrieved).")
    outcomes: int = Field(description="Task outcomes recorded.")


class ItemIn(_Strict):
    """A memory item as ReasoningBank defines it (Ouyang et al., ICLR 2026, section 3.2)."""

    title: Name = Field(description="A short name of the strategy or lesson.")
    description: Sentence = Field(description="One sentence: when the item applies.")
    content: Content = Field(
        description="One to three sentences: the strategy, or how to avoid the failure."
    )
    polarity: Polarity = Field(
        "success", description="Learnt from a success, a failure, or a raw trajectory."
    )
    source_task: OptionalText = Field(
        "",
        description="The task it was learnt from; retrieval compares new tasks with it "
        "(empty: the outcome's task, else the item's own text).",
    )


class ItemsIn(_Strict):
    items: Annotated[list[ItemIn], Field(min_length=1, max_length=50)]


class ItemOut(BaseModel):
    id: int
    title: str
    description: str
    content: str
    polarity: str
    source_task: str
    uses: int = Field(description="Tasks it was retrieved for.")
    successes: int = Field(description="Of those, how many succeeded.")
    expected: float = Field(
        description="The successes those tasks would have had at their families' success rates."
    )
    support: int = Field(description="Extractions it stands for (1 + items merged into it).")
    version: int = Field(description="Incremented at every change.")
    retired: bool
    retired_reason: str | None


class ScoredItemOut(ItemOut):
    score: float = Field(description="Cosine similarity of its source task to the task.")


class RetrieveIn(_Strict):
    task: TaskText = Field(description="The task's text.")
    k: TopK | None = Field(None, description="Items to retrieve; default the agent's k.")


class RetrieveOut(BaseModel):
    items: list[ScoredItemOut]


class AddedOut(BaseModel):
    added: list[int] = Field(description="Ids of the items stored.")
    merged: dict[int, int] = Field(
        description="Item id: how many of the items sent were merged into it."
    )


class OutcomeIn(_Strict):
    """A finished task, with the ids of the items retrieved for it and, optionally, the
    items the agent extracted from it."""

    task_id: TaskId = Field(description="The task's id.")
    family: Name = Field(description="Its task family (what a curriculum chooses).")
    task: OptionalText = Field(
        "", description="The task's text: the retrieval key of the new items."
    )
    success: Flag = Field(description="Whether the task succeeded (judged or checked).")
    attempts: Attempts = Field(1, description="Attempts made (MaTTS).")
    retrieved: Annotated[list[ItemId], Field(max_length=50)] = Field(
        default_factory=list, description="Ids of the items retrieved for the task."
    )
    items: Annotated[list[ItemIn], Field(max_length=50)] = Field(
        default_factory=list, description="Items extracted from the task."
    )


class OutcomeOut(BaseModel):
    added: list[int]
    merged: dict[int, int]
    retired: dict[int, str] = Field(description="Item id: why it was retired.")
    family_rate: float = Field(
        description="The family's success rate before this task, "
        "Laplace smoothed: what each retrieved item was expected to do."
    )


class OutcomeRowOut(BaseModel):
    id: int
    task_id: str
    family: str
    success: bool
    attempts: int
    retrieved: list[int]
    time: float


class FamilyOut(BaseModel):
    tasks: int
    successes: int
    base: float = Field(description="(successes + 1) / (tasks + 2).")
    with_memory: int = Field(description="Recent tasks with an active item retrieved.")
    with_memory_successes: int
    p: float = Field(description="Predicted success on the family's next task.")


class StudentOut(BaseModel):
    """The memory read as a student model (:class:`mentor.agents.MemoryStudent`)."""

    families: dict[str, FamilyOut]


class CallIn(_Strict):
    """One chat call as :class:`mentor.llm.OpenAIChat` logs it; fields beyond these are
    kept as they are."""

    model_config = ConfigDict(extra="allow")
    model: Name = Field(description="The model asked.")
    key: Key = Field(
        description="A hash of the request (mentor.llm.request_key): replay matches on it."
    )
    messages: list[dict[str, Any]] = Field(max_length=1000)
    text: str | None = Field(
        None, max_length=1_000_000, description="The answer; null for a failed call."
    )
    error: str | None = None
    time: Seconds | None = None


class CallsIn(_Strict):
    run: Name = Field("default", description="The run the calls belong to.")
    calls: Annotated[list[CallIn], Field(min_length=1, max_length=1000)]


class CallsOut(BaseModel):
    run: str
    calls: list[dict[str, Any]]
