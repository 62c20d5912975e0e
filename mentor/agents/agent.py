"""Agents: anything that attempts a task with memory items in view.

:class:`LLMAgent` prompts a chat model with the task and the retrieved items (the
paper's memory-augmented prompt) and reads the final ``Answer:`` line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from mentor.agents.items import MemoryItem, Task, Trajectory
from mentor.agents.prompts import agent_messages
from mentor.llm import ChatModel

_ANSWER = re.compile(r"^\s*\**\s*answer\s*\**\s*[:=]\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)


class Agent(Protocol):
    """Attempts tasks."""

    def attempt(
        self,
        task: Task,
        memories: Sequence[MemoryItem],
        previous: Trajectory | None = None,
        index: int = 0,
    ) -> Trajectory:
        """One attempt at ``task`` with ``memories`` in view; with ``previous``, a
        refinement of that attempt (MaTTS sequential). ``index`` numbers parallel
        attempts, so that a stochastic agent can vary them."""
        ...


def final_answer(text: str) -> str:
    """The value of the last ``Answer: ...`` line, or the last non-empty line."""
    found = _ANSWER.findall(text)
    if found:
        return found[-1].strip().strip("*").strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


class LLMAgent:
    """A chat model as an agent.

    Parameters
    ----------
    model
        The chat model.
    options
        Sampling options. Parallel attempts (``index > 0``) add ``seed=index`` so that
        servers that honour seeds vary them; default temperature 0.7.
    """

    def __init__(self, model: ChatModel, options: Mapping[str, Any] | None = None) -> None:
        self.model = model
        self.options = {"temperature": 0.7} if options is None else dict(options)

    def attempt(
        self,
        task: Task,
        memories: Sequence[MemoryItem],
        previous: Trajectory | None = None,
        index: int = 0,
    ) -> Trajectory:
        """Ask the model; the answer's text is the trajectory."""
        options = dict(self.options)
        if index:
            options["seed"] = index
        answer = self.model.complete(agent_messages(task, memories, previous), **options)
        return Trajectory(task, answer.text, final_answer(answer.text))
