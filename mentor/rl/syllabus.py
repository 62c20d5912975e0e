"""A Syllabus ``Curriculum`` backed by a mentor teacher, for users already on Syllabus.

Syllabus (Sullivan et al., "Syllabus: Portable Curricula for Reinforcement Learning Agents",
2024; ``pip install syllabus-rl``) syncs a curriculum with its environments through its own
wrappers (native multiprocessing or Ray). :class:`MentorCurriculum` is a
``syllabus.core.Curriculum`` whose ``sample`` draws from a
:class:`~mentor.rl.gym_tasks.TaskSource` and whose ``update_on_episode`` feeds the teacher:

* over a ``DiscreteTaskSpace`` of ``n`` tasks the source must be an item teacher over the
  task indices ``0 .. n - 1`` (Syllabus's encoding), e.g. ``TaskSource(TSCL(), range(n))``;
* over a ``BoxTaskSpace`` it must be a task-space teacher over the same box, e.g.
  ``TaskSource(RegionLP(Box(low, high)))``.

The outcome is the episode's return (``outcome="return"``, mapped by the source's
``reward_range``) or Syllabus's ``progress`` (``"success"``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from syllabus.core import Curriculum
from syllabus.task_space import BoxTaskSpace, DiscreteTaskSpace

from mentor.errors import ParameterError
from mentor.rl.gym_tasks import TaskSource
from mentor.rl.gym_wrapper import OUTCOMES
from mentor.teachers.taskspace import TaskTeacher


class MentorCurriculum(Curriculum):
    """A Syllabus curriculum that asks a mentor teacher for every task.

    Parameters
    ----------
    task_space
        A Syllabus ``DiscreteTaskSpace`` or ``BoxTaskSpace``.
    source
        The teacher, as a :class:`TaskSource` matching the task space (module docstring).
    outcome
        ``"return"`` (default) or ``"success"`` (Syllabus's ``progress``).
    **kwargs
        Passed to ``Curriculum`` (``record_stats``, ``task_names``, ...).
    """

    def __init__(
        self, task_space: Any, source: TaskSource, outcome: str = "return", **kwargs: Any
    ) -> None:
        super().__init__(task_space, **kwargs)
        if not isinstance(source, TaskSource):
            raise ParameterError(
                "must be a TaskSource", field="source", value=type(source).__name__
            )
        if outcome not in OUTCOMES:
            raise ParameterError(f"must be one of {OUTCOMES}", field="outcome", value=outcome)
        if isinstance(task_space, DiscreteTaskSpace):
            if source.continuous or source.tasks != list(range(task_space.num_tasks)):
                raise ParameterError(
                    f"a DiscreteTaskSpace of {task_space.num_tasks} tasks needs an item teacher "
                    f"over the task indices 0 .. {task_space.num_tasks - 1}",
                    field="source",
                )
        elif isinstance(task_space, BoxTaskSpace):
            space = task_space.gym_space
            box = source.teacher.space if isinstance(source.teacher, TaskTeacher) else None
            if (
                box is None  # not source.continuous
                or space.shape != (box.dim,)
                or not np.allclose(space.low, box.low)
                or not np.allclose(space.high, box.high)
            ):
                raise ParameterError(
                    "a BoxTaskSpace needs a task-space teacher over the same box", field="source"
                )
        else:
            raise ParameterError(
                "mentor serves Discrete and Box task spaces",
                field="task_space",
                value=type(task_space).__name__,
            )
        self.source = source
        self.outcome = outcome

    def sample(self, k: int = 1) -> list[Any]:
        """``k`` tasks from the teacher, in Syllabus's encoding."""
        tasks = self.source.draw(k)
        if self.source.continuous:
            dtype = self.task_space.gym_space.dtype
            return [np.asarray(t, dtype=dtype) for t in tasks]
        return [int(t) for t in tasks]

    def update_on_episode(
        self,
        episode_return: float,
        length: int,
        task: Any,
        progress: float | bool,
        env_id: int | None = None,
    ) -> None:
        """Feed the episode's return (or progress) for ``task`` to the teacher."""
        super().update_on_episode(episode_return, length, task, progress, env_id)
        value = episode_return if self.outcome == "return" else float(progress)
        # continuous tasks: float32 encodings may round just past the box
        if isinstance(self.source.teacher, TaskTeacher):
            task = self.source.teacher.space.clip(np.asarray(task, dtype=float))
        self.source.observe([task], [float(value)])
