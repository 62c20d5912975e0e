"""Judges: did an attempt succeed?

ReasoningBank judges its own trajectories with an LLM (Ouyang et al., ICLR 2026,
section 3.2), since web tasks have no ground truth at test time. Where a task has a
checker (an expected answer), :class:`CheckerJudge` replaces the LLM.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from mentor.agents import prompts
from mentor.agents.items import Task, Trajectory
from mentor.agents.parsing import parse_judgement
from mentor.demo.questions import Question, check_answer
from mentor.llm import ChatModel


class Judge(Protocol):
    """Decides whether a trajectory solved its task."""

    def judge(self, task: Task, trajectory: Trajectory) -> bool:
        """True for a success."""
        ...


def numeric_or_text_check(task: Task, trajectory: Trajectory) -> bool:
    """The answer equals ``task.answer`` by value when both are numbers (``0.5`` is
    ``1/2``), else ignoring case and spacing (the demo course's lenient checking)."""
    if task.answer is None:
        raise ValueError(f"task {task.id!r} has no expected answer to check against")
    return check_answer(Question(task.text, task.answer, kind="text"), trajectory.answer)


class CheckerJudge:
    """Ground truth instead of an LLM: ``check(task, trajectory)`` decides.

    Parameters
    ----------
    check
        The checker; default :func:`numeric_or_text_check`.
    """

    def __init__(self, check: Callable[[Task, Trajectory], bool] = numeric_or_text_check) -> None:
        self.check = check

    def judge(self, task: Task, trajectory: Trajectory) -> bool:
        """``check(task, trajectory)``."""
        return bool(self.check(task, trajectory))


class LLMJudge:
    """LLM-as-judge: the model reads the task and the attempt and ends with
    ``Status: success`` or ``Status: failure``.

    Raises
    ------
    JudgeParseError
        From :meth:`judge`, when the answer has no status line.
    """

    def __init__(self, model: ChatModel, options: Mapping[str, Any] | None = None) -> None:
        self.model = model
        self.options = {"temperature": 0.0} if options is None else dict(options)

    def judge(self, task: Task, trajectory: Trajectory) -> bool:
        """The model's verdict."""
        text = prompts.JUDGE.format(
            task=task.text, trajectory=trajectory.text, answer=trajectory.answer
        )
        answer = self.model.complete([{"role": "user", "content": text}], **self.options)
        return parse_judgement(answer.text)
