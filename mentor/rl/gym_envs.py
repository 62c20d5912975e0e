"""Gymnasium environments with a continuous task parameter, for tests and benchmarks.

* :class:`GoalLine`, mentor's own toy (episodes of a few steps);
* :class:`TaskCartPole`, Gymnasium's CartPole-v1 whose task is the pole's half-length
  (episodes of up to 500 steps).

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
from gymnasium.envs.classic_control.cartpole import CartPoleEnv

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


#: CartPole-v1's episode cap and its registered ``reward_threshold`` (``gymnasium.envs``'s
#: registration of ``CartPole-v1``: ``max_episode_steps=500``, ``reward_threshold=475.0``).
CARTPOLE_STEPS = 500
CARTPOLE_THRESHOLD = 475.0


class TaskCartPole(CartPoleEnv):
    """Gymnasium's CartPole-v1 whose task is the pole's half-length, in metres.

    The dynamics are :class:`gymnasium.envs.classic_control.cartpole.CartPoleEnv`'s (Barto,
    Sutton and Anderson 1983, in Florian's corrected equations), unchanged but for the pole:
    :meth:`set_task` sets ``length`` (CartPole's half-length, 0.5 by default) and recomputes
    ``polemass_length = masspole * length``, the two attributes through which the length
    enters the equations of motion. A shorter pole falls faster (its angular acceleration
    scales roughly as ``1 / length``) while the push stays 10 N every 0.02 s, so short poles are the
    hard tasks. The observation is CartPole's ``(x, x_dot, theta, theta_dot)``: the policy is
    not told the length.

    The environment carries CartPole-v1's time limit itself (truncated after ``max_steps``
    steps, 500) so that it needs no ``TimeLimit`` wrapper, and reports on the last step of an
    episode ``info["is_success"]``: the episode's return (+1 a step) reached
    ``success_return``, by default CartPole-v1's registered ``reward_threshold`` of 475.

    Parameters
    ----------
    task
        Initial half-length, a number > 0. Default 0.5 (CartPole-v1's).
    max_steps
        Steps after which an episode is truncated. Default 500.
    success_return
        Return at or above which an episode succeeds. Default 475.
    """

    def __init__(
        self,
        task: float = 0.5,
        max_steps: int = CARTPOLE_STEPS,
        success_return: float = CARTPOLE_THRESHOLD,
    ) -> None:
        if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
            raise ParameterError("must be an integer >= 1", field="max_steps", value=max_steps)
        if not isinstance(success_return, (int, float)) or not np.isfinite(success_return):
            raise ParameterError(
                "must be a finite number", field="success_return", value=success_return
            )
        super().__init__()
        self.max_steps = max_steps
        self.success_return = float(success_return)
        self.set_task(task)
        self.steps = 0
        self.episode_return = 0.0

    def set_task(self, task: Any) -> None:
        """Set the pole's half-length of the next episodes (a number > 0 or a 1-vector)."""
        try:
            x = np.asarray(task, dtype=float).reshape(-1)
        except (TypeError, ValueError):
            x = np.array([np.nan, np.nan])
        if x.size != 1 or not np.isfinite(x[0]) or x[0] <= 0.0:
            raise DataError("a TaskCartPole task is one half-length > 0", field="task", value=task)
        self.task = float(x[0])
        self.length = self.task
        self.polemass_length = self.masspole * self.length

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        if options and "task" in options:
            self.set_task(options["task"])
        self.steps = 0
        self.episode_return = 0.0
        obs, info = super().reset(seed=seed, options=options)
        return obs, {**info, "length": self.length}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        # Gymnasium's CartPoleEnv.step is unannotated (untyped_calls_exclude does not reach
        # a call through super() here)
        obs, reward, terminated, _, info = super().step(action)  # type: ignore[no-untyped-call]
        self.steps += 1
        self.episode_return += float(reward)
        truncated = not terminated and self.steps >= self.max_steps
        if terminated or truncated:
            info = {**info, "is_success": self.episode_return >= self.success_return}
        return obs, float(reward), terminated, truncated, info
