"""The data of experience memory: tasks, trajectories and memory items.

A memory item is what ReasoningBank distils from one judged trajectory: a title, a
one-sentence description of when it applies and one to three sentences of content
(Ouyang et al., "ReasoningBank: Scaling Agent Self-Evolving with Reasoning Memory",
ICLR 2026, arXiv:2509.25140, section 3.2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: Where an item came from: a judged success, a judged failure, or a raw trajectory.
POLARITIES = ("success", "failure", "raw")


@dataclass(frozen=True)
class Task:
    """One task for an agent.

    Attributes
    ----------
    id
        Unique id.
    family
        The task family, the unit a curriculum chooses (``"all"`` when there is one).
    text
        What the agent is asked.
    answer
        The expected answer, where a checker can judge without an LLM.
    """

    id: str
    family: str
    text: str
    answer: str | None = None


@dataclass(frozen=True)
class Trajectory:
    """One attempt at a task: the agent's reasoning and actions as text, its final
    answer, and anything else the agent reports (``info``)."""

    task: Task
    text: str
    answer: str
    info: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MemoryItem:
    """A distilled piece of experience.

    Attributes
    ----------
    title
        A short name of the strategy or lesson.
    description
        One sentence: when the item applies.
    content
        One to three sentences: the strategy, or how to avoid the failure.
    polarity
        ``"success"``, ``"failure"`` or ``"raw"`` (see :data:`POLARITIES`).
    source_task
        The text of the task it was extracted from (retrieval keys on it).
    id
        The store's id, None before it is stored.
    uses, successes
        Tasks it was retrieved for, and how many of them succeeded.
    expected
        The successes those tasks would have had at their families' success rates.
    support
        How many extractions it stands for (1, plus one per near-identical item merged
        into it).
    version
        Incremented at each change of the stored row.
    retired
        Whether it was retired (no longer retrieved); ``retired_reason`` says why.
    """

    title: str
    description: str
    content: str
    polarity: str = "success"
    source_task: str = ""
    id: int | None = None
    uses: int = 0
    successes: int = 0
    expected: float = 0.0
    support: int = 1
    version: int = 1
    retired: bool = False
    retired_reason: str | None = None

    def render(self) -> str:
        """The item as the agent sees it in its prompt."""
        return f"## {self.title}\n{self.description}\n{self.content}"
