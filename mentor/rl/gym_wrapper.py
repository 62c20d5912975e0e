"""A Gymnasium wrapper that runs each episode on a task chosen by a mentor teacher.

:class:`TaskWrapper` sets the task at every ``reset`` and reports the episode's result in
the ``info`` of its last step:

* ``info["task_episode"]`` on every reset and step: the index of the running episode of
  this environment (0, 1, 2, ...);
* on the step that ends an episode (terminated or truncated), ``info["task_return"]`` (the
  sum of the rewards the wrapper saw) and ``info["task_success"]`` (``info[success_key]`` of
  that step as a float, NaN when the environment does not report it).

Where the task comes from, in this order:

1. ``reset(options={"task": task})``, when the caller gives one;
2. a :class:`~mentor.rl.gym_tasks.TaskSource` handed to the wrapper (the teacher lives in
   the same process: a single environment, or a ``SyncVectorEnv`` whose wrappers share one
   source). The wrapper then also reports each finished episode to the source itself;
3. the schedule that a :class:`~mentor.rl.gym_curriculum.TaskCurriculum` in the main
   process keeps filled (``AsyncVectorEnv``, Stable-Baselines3's ``SubprocVecEnv``: the
   teacher stays in the main process, no Ray): ``task_schedule`` maps episode indices to
   tasks, and episode ``e`` runs ``task_schedule[e]``.

The task is applied by ``apply``: a callable ``apply(env.unwrapped, task)``, or the name of
a method of the unwrapped environment; by default its ``set_task(task)`` method when it has
one, else the task is passed on as ``reset(options={"task": task})``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, SupportsFloat

import gymnasium

from mentor.errors import MentorError, ParameterError
from mentor.rl.gym_tasks import TaskSource

OUTCOMES = ("return", "success")


class TaskWrapper(gymnasium.Wrapper):
    """Run each episode on a teacher's task and report its return and success.

    Parameters
    ----------
    env
        The environment.
    source
        A :class:`TaskSource` in this process, or ``None`` when a main-process
        :class:`~mentor.rl.gym_curriculum.TaskCurriculum` schedules the tasks.
    apply
        How to set a task (see the module docstring). Default: ``set_task`` if the unwrapped
        environment has it, else ``options["task"]``.
    success_key
        The ``info`` key of the last step that says whether the episode succeeded. Default
        ``"is_success"`` (Stable-Baselines3's convention).
    outcome
        What the wrapper reports to an in-process source: ``"return"`` (default) or
        ``"success"``.
    """

    def __init__(
        self,
        env: gymnasium.Env,
        source: TaskSource | None = None,
        apply: Callable[[Any, Any], Any] | str | None = None,
        success_key: str = "is_success",
        outcome: str = "return",
    ) -> None:
        super().__init__(env)
        if source is not None and not isinstance(source, TaskSource):
            raise ParameterError(
                "must be a TaskSource or None", field="source", value=type(source).__name__
            )
        if outcome not in OUTCOMES:
            raise ParameterError(f"must be one of {OUTCOMES}", field="outcome", value=outcome)
        if isinstance(apply, str) and not callable(getattr(env.unwrapped, apply, None)):
            raise ParameterError(
                "the unwrapped environment has no such method", field="apply", value=apply
            )
        self.source = source
        self.apply = apply
        self.success_key = success_key
        self.outcome = outcome
        self.task_schedule: dict[int, Any] = {}
        self.task: Any = None
        self.episode = -1
        self._return = 0.0

    def schedule_tasks(self, schedule: Mapping[int, Any]) -> None:
        """Add ``{episode index: task}`` entries to :attr:`task_schedule`."""
        self.task_schedule = {**self.task_schedule, **{int(e): t for e, t in schedule.items()}}

    def running_episode(self) -> int:
        """The index of the episode this environment runs now (-1 before its first reset)."""
        return self.episode

    def _next_task(self, options: Mapping[str, Any] | None) -> Any:
        if options and "task" in options:
            return options["task"]
        if self.source is not None:
            return self.source.draw(1)[0]
        if self.episode not in self.task_schedule:
            raise MentorError(
                f"no task for episode {self.episode} of this environment: give the wrapper a "
                "TaskSource, or build a TaskCurriculum over the vector env before its first reset"
            )
        task = self.task_schedule.pop(self.episode)
        self.task_schedule = {e: t for e, t in self.task_schedule.items() if e > self.episode}
        return task

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        self.episode += 1
        self.task = self._next_task(options)
        self._return = 0.0
        unwrapped: Any = self.env.unwrapped  # any environment: its methods looked up by name
        if callable(self.apply):
            self.apply(unwrapped, self.task)
        elif isinstance(self.apply, str):
            getattr(unwrapped, self.apply)(self.task)
        elif callable(getattr(unwrapped, "set_task", None)):
            unwrapped.set_task(self.task)
        else:
            options = {**(options or {}), "task": self.task}
        obs, info = self.env.reset(seed=seed, options=options)
        return obs, {**info, "task_episode": self.episode}

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._return += float(reward)
        info = {**info, "task_episode": self.episode}
        if terminated or truncated:
            success = info.get(self.success_key)
            info["task_return"] = self._return
            info["task_success"] = math.nan if success is None else float(success)
            if self.source is not None:
                value = self._return if self.outcome == "return" else info["task_success"]
                self.source.observe([self.task], [0.0 if math.isnan(value) else value])
        return obs, reward, terminated, truncated, info
