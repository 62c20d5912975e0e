"""A teacher choosing the task of each RL episode, and learning from the episode's result.

The library-free part of the Gymnasium, Stable-Baselines3 and Syllabus adapters: one
:class:`TaskSource` wraps either kind of mentor teacher.

* A task-space teacher (:class:`~mentor.teachers.taskspace.TaskTeacher`: ALP-GMM,
  Covar-GMM, RIAC, RegionLP, ...) for a continuous task parameter: ``draw(n)`` returns ``n``
  points of its box (1-D float arrays) and ``observe`` hands it the tasks with their outcomes.
* An item teacher (:class:`~mentor.teachers.Teacher`: TSCL, SEC, DUMP, learning progress,
  ...) for discrete tasks: ``tasks`` lists the task ids (levels, maps, seeds); the ``n`` slots
  are one ``teacher.select_slots(learner, tasks, n)`` call (each slot one pick, so tasks repeat
  across slots as a batch from the teacher's distribution does); ``observe`` hands it one
  :class:`~mentor.events.EventLog` (item = task id, time = the number of earlier
  ``observe`` calls).

An episode's outcome is its return (or success) mapped to [0, 1] by ``reward_range``:
``(r - low) / (high - low)``, clipped; the default ``(0, 1)`` leaves rewards already in
[0, 1] unchanged. :attr:`TaskSource.timing_` adds up the seconds spent in the teacher, to
measure its overhead per training step: wall time (``draw``, ``observe``) and CPU time of the
calling thread (``draw_cpu``, ``observe_cpu``, :func:`time.thread_time`), which leaves out
the time the process was descheduled on a loaded machine.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from mentor.errors import DataError, ParameterError
from mentor.events import EventLog
from mentor.teachers.base import Teacher
from mentor.teachers.taskspace import TaskTeacher


class TaskSource:
    """A mentor teacher as a source of episode tasks (rules in the module docstring).

    Parameters
    ----------
    teacher
        A task-space teacher (continuous tasks) or an item teacher (discrete tasks).
    tasks
        The discrete task ids (integers or strings), required with an item teacher.
    learner
        The learner id of the events handed to an item teacher. Default ``"agent"``.
    reward_range
        ``(low, high)`` that maps a return to an outcome in [0, 1]. Default ``(0, 1)``.
    """

    def __init__(
        self,
        teacher: TaskTeacher | Teacher,
        tasks: Sequence[Any] | None = None,
        learner: Any = "agent",
        reward_range: tuple[float, float] = (0.0, 1.0),
    ) -> None:
        if isinstance(teacher, TaskTeacher):
            if tasks is not None:
                raise ParameterError(
                    "a task-space teacher samples its own box; give no task ids", field="tasks"
                )
            self.continuous = True
            self.tasks: list[Any] = []
        elif isinstance(teacher, Teacher):
            if tasks is None or not len(tasks):
                raise ParameterError("an item teacher needs the list of task ids", field="tasks")
            self.continuous = False
            self.tasks = [t.item() if isinstance(t, np.generic) else t for t in tasks]
            if len(set(self.tasks)) != len(self.tasks):
                raise DataError("task ids must be distinct", field="tasks")
        else:
            raise ParameterError(
                "must be a mentor teacher (task-space or item)",
                field="teacher",
                value=type(teacher).__name__,
            )
        low, high = (float(x) for x in reward_range)
        if not (np.isfinite(low) and np.isfinite(high) and high > low):
            raise ParameterError("needs low < high", field="reward_range", value=reward_range)
        self.teacher = teacher
        self.learner = learner
        self.reward_range = (low, high)
        self.observed_ = 0
        self.timing_ = {
            "draw": 0.0,
            "observe": 0.0,
            "draw_cpu": 0.0,
            "observe_cpu": 0.0,
            "draws": 0,
            "episodes": 0,
        }

    def outcome(self, reward: float) -> float:
        """A return mapped to [0, 1] by ``reward_range`` (clipped)."""
        low, high = self.reward_range
        return min(max((float(reward) - low) / (high - low), 0.0), 1.0)

    def draw(self, n: int = 1) -> list[Any]:
        """``n`` tasks: 1-D float arrays (continuous) or task ids (discrete)."""
        start, cpu = time.perf_counter(), time.thread_time()
        if isinstance(self.teacher, TaskTeacher):  # self.continuous
            tasks = list(self.teacher.sample(n))
        elif n > 0:
            tasks = self.teacher.select_slots(self.learner, self.tasks, n, float(self.observed_))
            # slots a teacher left open (a filter closing every task): tasks in turn
            tasks += [self.tasks[i % len(self.tasks)] for i in range(len(tasks), n)]
        else:
            tasks = []
        self.timing_["draw"] += time.perf_counter() - start
        self.timing_["draw_cpu"] += time.thread_time() - cpu
        self.timing_["draws"] += n
        return tasks

    def observe(self, tasks: Sequence[Any], rewards: Sequence[float]) -> None:
        """Hand the teacher each task with its outcome (its reward mapped by
        ``reward_range``), in order."""
        if not len(tasks):
            return
        if len(tasks) != len(rewards):
            raise DataError(f"{len(tasks)} tasks but {len(rewards)} rewards", field="rewards")
        start, cpu = time.perf_counter(), time.thread_time()
        outcomes = [self.outcome(r) for r in rewards]
        if isinstance(self.teacher, TaskTeacher):  # self.continuous
            self.teacher.observe(np.asarray(tasks, dtype=float), outcomes)
        else:
            items = [t.item() if isinstance(t, np.generic) else t for t in tasks]
            self.teacher.observe(
                EventLog(
                    [self.learner] * len(items),
                    items,
                    np.full(len(items), float(self.observed_)),
                    outcomes,
                )
            )
        self.observed_ += 1
        self.timing_["observe"] += time.perf_counter() - start
        self.timing_["observe_cpu"] += time.thread_time() - cpu
        self.timing_["episodes"] += len(tasks)
