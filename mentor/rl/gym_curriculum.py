"""The teacher in the main process, the environments anywhere: tasks for vector envs.

A :class:`TaskCurriculum` keeps the task schedule of every :class:`~mentor.rl.gym_wrapper.
TaskWrapper` of a vector environment filled and feeds each finished episode back to its
:class:`~mentor.rl.gym_tasks.TaskSource`. It speaks to the sub-environments only through the
vector env's own attribute calls, so it works the same with Gymnasium's ``SyncVectorEnv`` and
``AsyncVectorEnv`` (``set_attr``, which reaches the wrapper through the wrappers around it),
Stable-Baselines3's ``DummyVecEnv`` and ``SubprocVecEnv`` (``env_method``), and a single
wrapped environment; no Ray, no process of its own.

Protocol: build it over the vector env *before* the first reset: it draws the tasks of
episodes 0 and 1 of every sub-environment. After each ``step`` call :meth:`TaskCurriculum.
update` with the step's ``infos``: for every sub-environment whose episode ``e`` ended (its
info has ``task_return``), it hands the teacher (task of ``e``, outcome) and schedules the
task of episode ``e + 2``. A sub-environment therefore always holds the task of its next
episode before the current one ends, whichever way its vector env resets (Gymnasium's
next-step autoreset, Stable-Baselines3's same-step reset), and a task is chosen one episode
before it runs: the teacher sees every outcome, one episode late, as with a prefetching
data loader. A reset that the curriculum did not schedule for (the caller resets the vector
env mid-episode, or Stable-Baselines3's ``learn`` is called again with its default
``reset_num_timesteps=True``) starts each environment's next scheduled episode early and
abandons the one it was running; :meth:`TaskCurriculum.resync` then drops the abandoned
episodes (their outcome is never seen, so the teacher is not told one) and schedules what
the environments now lack. The outcome is the episode's return (``outcome="return"``,
mapped to [0, 1] by the source's ``reward_range``) or its success (``"success"``; an episode
whose environment reports none counts as 0).

Batched hand-over (``batch=B`` > 1), for environments whose episodes are a few steps long, where
one teacher call and one hand-over per episode weigh on every step: each environment holds
the tasks of its next ``B`` episodes, the outcomes of finished episodes are held back, and
only when an environment that just finished an episode has no task left beyond the one it
now runs are all held outcomes handed to the teacher in one ``observe``, one ``draw`` refills
every environment to ``B`` episodes ahead, and each of them gets its new tasks in one
hand-over. The teacher then sees an outcome up to ``B`` episodes late (one with ``B=1``, the
default, which is the protocol above call for call); :meth:`TaskCurriculum.flush` hands over
what is held at any time (the Stable-Baselines3 callback does at each rollout's end, when
PPO's policy changes).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mentor._checks import check_count
from mentor.errors import DataError, ParameterError
from mentor.rl.gym_tasks import TaskSource
from mentor.rl.gym_wrapper import OUTCOMES


class TaskCurriculum:
    """Schedules a teacher's tasks on the sub-environments of a vector env.

    Parameters
    ----------
    source
        The teacher, as a :class:`TaskSource`.
    envs
        A Gymnasium vector env, a Stable-Baselines3 ``VecEnv`` or a single environment,
        whose (sub-)environments are wrapped in :class:`~mentor.rl.gym_wrapper.TaskWrapper`.
    outcome
        ``"return"`` (default) or ``"success"``.
    batch
        Episodes scheduled ahead per environment, and so the most episodes an outcome may be
        held back before the teacher sees it (see the module docstring). Default 1.

    Attributes
    ----------
    episodes_
        Episodes fed back to the teacher (not counting those held back, :attr:`held`).
    seconds_
        Wall seconds spent in :meth:`update`, :meth:`resync` and in drawing tasks (the
        curriculum's overhead; on a loaded machine it includes time the process was
        descheduled).
    cpu_seconds_
        The same spans in CPU time of the calling thread (:func:`time.thread_time`): what the
        curriculum itself costs, whatever else runs on the machine.
    """

    def __init__(
        self, source: TaskSource, envs: Any, outcome: str = "return", batch: int = 1
    ) -> None:
        if not isinstance(source, TaskSource):
            raise ParameterError(
                "must be a TaskSource", field="source", value=type(source).__name__
            )
        if outcome not in OUTCOMES:
            raise ParameterError(f"must be one of {OUTCOMES}", field="outcome", value=outcome)
        self.source = source
        self.envs = envs
        self.outcome = outcome
        self.batch = check_count("batch", batch, 1)
        if hasattr(envs, "env_method"):  # Stable-Baselines3 VecEnv
            self.kind = "sb3"
        elif hasattr(envs, "set_attr") and hasattr(envs, "num_envs"):  # Gymnasium VectorEnv
            self.kind = "vector"
        elif hasattr(envs, "get_wrapper_attr"):
            self.kind = "single"
        else:
            raise ParameterError(
                "must be a vector env or a Gymnasium env", field="envs", value=type(envs).__name__
            )
        self.num_envs = 1 if self.kind == "single" else int(envs.num_envs)
        self.pending: list[dict[int, Any]] = [{} for _ in range(self.num_envs)]
        self.running: list[int] = [0] * self.num_envs  # the episode each env runs, or will
        self.held: list[tuple[Any, float]] = []  # (task, outcome) not yet observed
        self.episodes_ = 0
        self.seconds_ = 0.0
        self.cpu_seconds_ = 0.0
        start, cpu = time.perf_counter(), time.thread_time()
        tasks = source.draw((self.batch + 1) * self.num_envs)
        for i in range(self.num_envs):
            self.pending[i] = {e: tasks[e * self.num_envs + i] for e in range(self.batch + 1)}
        self._push(range(self.num_envs))
        self._clock(start, cpu)

    def _clock(self, start: float, cpu: float) -> None:
        self.seconds_ += time.perf_counter() - start
        self.cpu_seconds_ += time.thread_time() - cpu

    def _push(self, envs: Sequence[int]) -> None:
        if self.kind == "sb3":
            for i in envs:
                self.envs.env_method("schedule_tasks", self.pending[i], indices=[i])
        elif self.kind == "vector":
            self.envs.set_attr("task_schedule", [dict(p) for p in self.pending])
        else:
            self.envs.get_wrapper_attr("schedule_tasks")(self.pending[0])

    def _refill(self) -> None:
        """Observe the held outcomes, then schedule every environment ``batch`` episodes
        beyond the one it runs, with one draw and one hand-over per environment."""
        if self.held:
            tasks, values = zip(*self.held, strict=True)
            self.source.observe(list(tasks), list(values))
            self.episodes_ += len(self.held)
            self.held = []
        need = []
        for i in range(self.num_envs):
            ahead = sum(e > self.running[i] for e in self.pending[i])
            last = max(self.pending[i], default=self.running[i])
            need += [(i, last + 1 + j) for j in range(self.batch - ahead)]
        if not need:
            return
        for (i, episode), task in zip(need, self.source.draw(len(need)), strict=True):
            self.pending[i][episode] = task
        self._push(sorted({i for i, _ in need}))

    def flush(self) -> int:
        """Hand the teacher the outcomes held back (``batch`` > 1) and top up every
        environment's schedule; returns the outcomes handed over (0 when none was held)."""
        if not self.held:
            return 0
        start, cpu = time.perf_counter(), time.thread_time()
        held = len(self.held)
        self._refill()
        self._clock(start, cpu)
        return held

    def _running(self) -> list[int]:
        """The episode each environment runs now, asked of its wrapper."""
        if self.kind == "sb3":
            return [int(e) for e in self.envs.env_method("running_episode")]
        if self.kind == "vector":
            return [int(e) for e in self.envs.call("running_episode")]
        return [int(self.envs.get_wrapper_attr("running_episode")())]

    def resync(self) -> int:
        """Catch up with resets the curriculum did not see; returns the tasks drawn.

        Asks each environment which episode it runs, forgets the scheduled episodes before
        it (abandoned by the reset: never reported, never observed) and schedules the task
        of the episode after it where the environment has none. Without such a reset it
        changes nothing and draws nothing, so calling it at every ``learn`` is free of
        side effects.
        """
        start, cpu = time.perf_counter(), time.thread_time()
        lacking = []
        for i, running in enumerate(self._running()):
            self.running[i] = max(running, 0)
            self.pending[i] = {e: t for e, t in self.pending[i].items() if e >= running}
            if max(self.pending[i], default=-1) <= running:
                lacking.append((i, running + 1))
        if lacking:
            for (i, episode), task in zip(lacking, self.source.draw(len(lacking)), strict=True):
                self.pending[i][episode] = task
            self._push(sorted(i for i, _ in lacking))
        self._clock(start, cpu)
        return len(lacking)

    def _any_ended(self, infos: Any) -> bool:
        """Whether an episode may have ended in this step (False only when none did)."""
        if isinstance(infos, Mapping):
            if self.kind == "single":
                return "task_return" in infos
            return "_task_return" in infos
        if len(infos) != self.num_envs:
            raise DataError(f"{len(infos)} infos for {self.num_envs} environments", field="infos")
        for info in infos:
            if "task_return" in info:
                return True
        return False

    def _finished(self, infos: Any) -> list[tuple[int, int, float, float]]:
        """``(env, episode, return, success)`` of each episode that ended in this step."""
        out = []
        if isinstance(infos, Mapping):  # Gymnasium vector infos (arrays), or one env's info
            if self.kind == "single":
                infos = [infos]
            else:
                mask = np.asarray(infos.get("_task_return", np.zeros(self.num_envs, bool)))
                for env in np.flatnonzero(mask):
                    out.append(
                        (
                            int(env),
                            int(infos["task_episode"][env]),
                            float(infos["task_return"][env]),
                            float(infos["task_success"][env]),
                        )
                    )
                return out
        if len(infos) != self.num_envs:
            raise DataError(f"{len(infos)} infos for {self.num_envs} environments", field="infos")
        for i, info in enumerate(infos):
            if "task_return" in info:
                out.append(
                    (i, int(info["task_episode"]), info["task_return"], info["task_success"])
                )
        return out

    def update(self, infos: Any) -> int:
        """Take the outcome of every episode that ended in this step, and feed back and
        schedule as the module docstring says (at once with ``batch=1``); returns the number
        of episodes that ended.

        A step in which no episode ended (most steps) is recognised before the clocks start
        and costs well under a microsecond, less than reading the CPU clock (about 1 us, a
        system call); it is not added to :attr:`seconds_` or :attr:`cpu_seconds_`."""
        if not self._any_ended(infos):
            return 0
        start, cpu = time.perf_counter(), time.thread_time()
        done = self._finished(infos)
        if not done:
            self._clock(start, cpu)
            return 0
        short = False
        for i, episode, ret, success in done:
            if episode not in self.pending[i]:
                raise DataError(
                    f"environment {i} reports episode {episode}, which this curriculum did "
                    "not schedule (was it reset behind the curriculum's back?)",
                    field="task_episode",
                    value=episode,
                )
            value = float(ret) if self.outcome == "return" else float(success)
            self.held.append((self.pending[i].pop(episode), 0.0 if math.isnan(value) else value))
            self.running[i] = episode + 1
            short = short or max(self.pending[i], default=episode) <= episode + 1
        if short:  # an environment holds no task beyond the episode it starts now
            self._refill()
        self._clock(start, cpu)
        return len(done)
