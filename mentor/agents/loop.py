"""The agent loop: a teacher picks the task family, the agent solves a task of it with
its memory, and the outcome goes back to the teacher and the memory.

Task families are the teacher's items, so any mentor teacher chooses them by the
agent's learning progress (TSCL, ZPDES, ...) or at random (``RandomTeacher``), as
WebRL's self-evolving curriculum and MAGELLAN's learning-progress goals do for LLM
agents.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from mentor.agents.agent import Agent
from mentor.agents.items import Task
from mentor.agents.judge import Judge
from mentor.agents.memory import Memory
from mentor.agents.scaling import solve
from mentor.errors import ParameterError
from mentor.events import EventLog
from mentor.students.base import StudentModel
from mentor.teachers.base import Teacher


@dataclass(frozen=True)
class Step:
    """One row of a learning curve."""

    step: int
    family: str
    task: str
    success: bool
    attempts: int
    retrieved: tuple[int, ...]
    added: int
    merged: int
    retired: int
    skipped: int


class TaskPool:
    """The tasks of each family, handed out in a shuffled order that restarts when a
    family's tasks are all used."""

    def __init__(self, tasks: Sequence[Task], rng: np.random.Generator) -> None:
        if not tasks:
            raise ParameterError("needs at least one task", field="tasks", value=0)
        self.rng = rng
        self.by_family: dict[str, list[Task]] = {}
        for task in tasks:
            self.by_family.setdefault(task.family, []).append(task)
        self.families = sorted(self.by_family)
        self._queues: dict[str, list[Task]] = {f: [] for f in self.families}

    def draw(self, family: str) -> Task:
        """The family's next task."""
        queue = self._queues[family]
        if not queue:
            queue.extend(
                self.by_family[family][i] for i in self.rng.permutation(len(self.by_family[family]))
            )
        return queue.pop()


def run(
    pool: TaskPool,
    agent: Agent,
    memory: Memory,
    judge: Judge,
    teacher: Teacher,
    steps: int,
    scaling: str = "none",
    attempts: int = 1,
    learner: str = "agent",
    callback: Callable[[Step], None] | None = None,
    model: StudentModel | None = None,
) -> list[Step]:
    """Run ``steps`` tasks and return the learning curve, one :class:`Step` per task;
    ``callback`` sees each step as it finishes (to save a curve as it grows). ``model``
    is the student model the teacher selects with (such as
    :class:`~mentor.agents.student.MemoryStudent`, the memory read as one); it gets
    each outcome through ``update``."""
    curve = []
    for step in range(steps):
        family = teacher.select(learner, pool.families, k=1, t=float(step), model=model)[0]
        result = solve(pool.draw(family), agent, memory, judge, scaling, attempts)
        events = EventLog([learner], [family], [float(step)], [float(result.success)])
        teacher.observe(events)
        if model is not None:
            model.update(events)
        curve.append(
            Step(
                step=step,
                family=family,
                task=result.task.id,
                success=result.success,
                attempts=len(result.trajectories),
                retrieved=tuple(result.retrieved),
                added=len(result.recorded.added),
                merged=sum(result.recorded.merged.values()),
                retired=len(result.recorded.retired),
                skipped=len(result.recorded.skipped),
            )
        )
        if callback is not None:
            callback(curve[-1])
    return curve


def evaluate(tasks: Sequence[Task], agent: Agent, memory: Memory, judge: Judge) -> float:
    """Success rate on ``tasks`` with the memory frozen (retrieval, no learning)."""
    if not tasks:
        raise ParameterError("needs at least one task", field="tasks", value=0)
    return float(np.mean([solve(t, agent, memory, judge, learn=False).success for t in tasks]))
