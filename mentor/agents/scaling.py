"""Memory-aware test-time scaling (MaTTS; Ouyang et al., ICLR 2026, section 3.3).

A task gets several attempts, and the memory learns from all of them at once
(self-contrast extraction):

- :func:`single`: one attempt (no scaling);
- :func:`parallel`: ``attempts`` independent attempts with the same retrieved items;
  the task's answer is the first attempt the judge accepts (best-of-n), else the first;
- :func:`sequential`: one attempt refined ``attempts - 1`` times, each refinement seeing
  the previous one; the answer is the last attempt.
"""

from __future__ import annotations

from dataclasses import dataclass

from mentor.agents.agent import Agent
from mentor.agents.items import Task, Trajectory
from mentor.agents.judge import Judge
from mentor.agents.memory import Memory, Recorded
from mentor.errors import ParameterError

SCALINGS = ("none", "parallel", "sequential")


@dataclass
class TaskResult:
    """One task: the attempts, their judged outcomes, the task's outcome, the ids of the
    retrieved items, and what the memory did."""

    task: Task
    trajectories: list[Trajectory]
    outcomes: list[bool]
    success: bool
    retrieved: list[int]
    recorded: Recorded


def solve(
    task: Task,
    agent: Agent,
    memory: Memory,
    judge: Judge,
    scaling: str = "none",
    attempts: int = 1,
    learn: bool = True,
) -> TaskResult:
    """Retrieve, attempt (scaled as asked), judge, and record in the memory.

    Parameters
    ----------
    scaling
        ``"none"`` (one attempt), ``"parallel"`` or ``"sequential"``.
    attempts
        The attempt budget of the task (k in the paper), >= 1; 1 with ``"none"``.
    learn
        Record the task in the memory (False for a frozen evaluation).
    """
    if scaling not in SCALINGS:
        raise ParameterError(
            f"must be one of {', '.join(SCALINGS)}", field="scaling", value=scaling
        )
    if not (isinstance(attempts, int) and attempts >= 1) or (scaling == "none" and attempts != 1):
        raise ParameterError(
            "must be >= 1 (and 1 without scaling)", field="attempts", value=attempts
        )
    retrieved = memory.retrieve(task)
    trajectories: list[Trajectory] = []
    outcomes: list[bool] = []
    for i in range(attempts):
        previous = trajectories[-1] if scaling == "sequential" and trajectories else None
        trajectory = agent.attempt(
            task, retrieved, previous=previous, index=i if scaling == "parallel" else 0
        )
        trajectories.append(trajectory)
        outcomes.append(judge.judge(task, trajectory))
    if scaling == "sequential":
        success = outcomes[-1]
    else:
        success = any(outcomes)
    recorded = (
        memory.record(task, trajectories, outcomes, retrieved, success) if learn else Recorded()
    )
    return TaskResult(
        task,
        trajectories,
        outcomes,
        success,
        [m.id for m in retrieved if m.id is not None],
        recorded,
    )
