"""A small Gymnasium environment with a continuous task parameter, for tests and benchmarks.

:class:`GoalLine`: an agent walks a line of cells ``0 .. length`` from cell 0 and must
*claim* the goal cell. The task ``x`` in [0, 1] sets the goal,
``goal = 1 + round(x * (length - 1))`` cells to the right. Actions: 0 left (not below 0),
1 right (not beyond ``length``), 2 claim. Claiming on the goal ends the episode with reward
1 (``info["is_success"] = True``); claiming anywhere else ends it with reward 0; otherwise
the episode is truncated after ``goal + slack`` steps with reward 0. The observation is
``(position / length, goal / length)`` as float32.

A policy must compare its position with the goal, and a random walk claims the right cell
less and less often as the goal moves away, so near goals are learnable first and far ones
only once walking right and stopping have been learned: a task parameter along which a
curriculum can help (the "goal distance" of the teacher-student curriculum literature).
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np

from mentor.errors import DataError, ParameterError


class GoalLine(gymnasium.Env):
    """Walk right to a goal set by the task and claim it (rules in the module docstring).

    Parameters
    ----------
    length
        Cells to the right of the start (the farthest goal). Default 16.
    slack
        Extra steps allowed beyond the goal distance. Default 4.
    task
        Initial task in [0, 1]. Default 0 (the nearest goal).
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, length: int = 16, slack: int = 4, task: float = 0.0) -> None:
        if isinstance(length, bool) or not isinstance(length, int) or length < 1:
            raise ParameterError("must be an integer >= 1", field="length", value=length)
        if isinstance(slack, bool) or not isinstance(slack, int) or slack < 0:
            raise ParameterError("must be an integer >= 0", field="slack", value=slack)
        self.length = length
        self.slack = slack
        self.observation_space = gymnasium.spaces.Box(0.0, 1.0, shape=(2,), dtype=np.float32)
        self.action_space = gymnasium.spaces.Discrete(3)
        self.set_task(task)
        self.position = 0
        self.steps = 0

    def set_task(self, task: Any) -> None:
        """Set the goal of the next episodes from a task in [0, 1] (a number or a 1-vector)."""
        x = np.asarray(task, dtype=float).reshape(-1)
        if x.size != 1 or not np.isfinite(x[0]) or not 0.0 <= x[0] <= 1.0:
            raise DataError("a GoalLine task is one number in [0, 1]", field="task", value=task)
        self.task = float(x[0])
        self.goal = 1 + int(round(self.task * (self.length - 1)))

    def _obs(self) -> np.ndarray:
        return np.array([self.position / self.length, self.goal / self.length], dtype=np.float32)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if options and "task" in options:
            self.set_task(options["task"])
        self.position = 0
        self.steps = 0
        return self._obs(), {"goal": self.goal}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        action = int(action)
        if action not in (0, 1, 2):
            raise DataError("GoalLine actions are 0, 1, 2", field="action", value=action)
        self.steps += 1
        if action == 2:
            success = self.position == self.goal
            return self._obs(), float(success), True, False, {"is_success": success}
        self.position = min(max(self.position + (1 if action == 1 else -1), 0), self.length)
        truncated = self.steps >= self.goal + self.slack
        info = {"is_success": False} if truncated else {}
        return self._obs(), 0.0, False, truncated, info
