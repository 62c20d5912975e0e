"""Extractors: from judged trajectories to memory items.

:class:`LLMExtractor` is ReasoningBank's extraction (Ouyang et al., ICLR 2026, section
3.2): one prompt for a success, another for a failure, and a self-contrast prompt over
several attempts at the same task (MaTTS, section 3.3). :class:`RawTrajectories` is the
trajectory-as-memory baseline (Synapse, Zheng et al., ICLR 2024): it keeps successful
trajectories whole.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from mentor._checks import check_count
from mentor.agents import prompts
from mentor.agents.items import MemoryItem, Task, Trajectory
from mentor.agents.parsing import parse_memory_items
from mentor.errors import ParameterError
from mentor.llm import BudgetExceeded, ChatModel, LLMError


@dataclass
class Extraction:
    """Items extracted from one task's attempts, and why others were skipped."""

    items: list[MemoryItem] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


class Extractor(Protocol):
    """Turns a task's judged attempts into memory items."""

    def extract(
        self, task: Task, trajectories: Sequence[Trajectory], outcomes: Sequence[bool]
    ) -> Extraction:
        """Items from ``trajectories`` (one, or several for MaTTS) with their outcomes."""
        ...


def _check(trajectories: Sequence[Trajectory], outcomes: Sequence[bool]) -> None:
    if not trajectories or len(trajectories) != len(outcomes):
        raise ParameterError(
            "needs one outcome per trajectory, and at least one trajectory",
            field="outcomes",
            value=f"{len(outcomes)} outcomes for {len(trajectories)} trajectories",
        )


class LLMExtractor:
    """ReasoningBank's extraction with a chat model.

    Parameters
    ----------
    model
        The chat model that writes the items.
    max_items
        Items kept per extraction, at most. Default 3 (the paper's limit).
    options
        Sampling options of the extraction calls. Default temperature 0.
    """

    def __init__(
        self, model: ChatModel, max_items: int = 3, options: Mapping[str, Any] | None = None
    ) -> None:
        self.model = model
        self.max_items = check_count("max_items", max_items, 1)
        self.options = {"temperature": 0.0} if options is None else dict(options)

    def prompt(
        self, task: Task, trajectories: Sequence[Trajectory], outcomes: Sequence[bool]
    ) -> str:
        """The extraction prompt: success, failure, or self-contrast for several attempts."""
        _check(trajectories, outcomes)
        if len(trajectories) > 1:
            block = prompts.attempts_block(trajectories, outcomes)
            return prompts.CONTRAST.format(task=task.text, attempts=block, max_items=self.max_items)
        template = prompts.SUCCESS if outcomes[0] else prompts.FAILURE
        return template.format(
            task=task.text, trajectory=trajectories[0].text, max_items=self.max_items
        )

    def extract(
        self, task: Task, trajectories: Sequence[Trajectory], outcomes: Sequence[bool]
    ) -> Extraction:
        """Ask the model for items and parse them; a failed call or a malformed answer
        becomes a skip reason, never an exception (a spent budget still raises)."""
        text = self.prompt(task, trajectories, outcomes)
        try:
            answer = self.model.complete([{"role": "user", "content": text}], **self.options)
        except BudgetExceeded:
            raise
        except LLMError as error:
            return Extraction(skipped=[f"extraction call failed: {error}"])
        parsed = parse_memory_items(answer.text, self.max_items)
        polarity = "success" if any(outcomes) else "failure"
        items = [
            MemoryItem(d.title, d.description, d.content, polarity, source_task=task.text)
            for d in parsed.items
        ]
        return Extraction(items, parsed.skipped)


class RawTrajectories:
    """Trajectory-as-memory (Synapse, Zheng et al. 2024): each successful trajectory is
    kept whole as one item; failures are not kept."""

    def extract(
        self, task: Task, trajectories: Sequence[Trajectory], outcomes: Sequence[bool]
    ) -> Extraction:
        """One ``raw`` item per successful trajectory."""
        _check(trajectories, outcomes)
        items = [
            MemoryItem(
                title="A solved task",
                description=f"A successful earlier attempt at: {task.text}",
                content=trajectory.text,
                polarity="raw",
                source_task=task.text,
            )
            for trajectory, ok in zip(trajectories, outcomes, strict=True)
            if ok
        ]
        return Extraction(items)
