"""TaskCartPole: Gymnasium's CartPole-v1 whose task is the pole's half-length.

The equations checked by hand are those of ``gymnasium.envs.classic_control.cartpole``
(Florian 2007, "Correct equations for the dynamics of the cart-pole system"), Euler steps of
``tau = 0.02`` s.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from gymnasium.envs.classic_control.cartpole import CartPoleEnv
from gymnasium.utils.env_checker import check_env

from mentor.domain import Box
from mentor.errors import DataError, ParameterError
from mentor.rl.gym_envs import CARTPOLE_STEPS, CARTPOLE_THRESHOLD, TaskCartPole
from mentor.rl.gym_tasks import TaskSource
from mentor.rl.gym_wrapper import TaskWrapper
from mentor.teachers.taskspace import UniformTasks

ACTIONS = [1, 0, 0, 1, 1, 1, 0, 1, 0, 0, 1, 0] * 2  # 24 fixed pushes


def rollout(env, actions=ACTIONS, seed=3):
    obs, _ = env.reset(seed=seed)
    states = [obs]
    for action in actions:
        obs, _, terminated, truncated, _ = env.step(action)
        states.append(obs)
        if terminated or truncated:
            break
    return np.array(states)


def test_default_length_is_cartpole_v1_and_the_length_changes_the_dynamics():
    ours = rollout(TaskCartPole())
    gym = rollout(CartPoleEnv())
    np.testing.assert_array_equal(ours, gym)  # half-length 0.5: CartPole-v1's very steps
    short = rollout(TaskCartPole(task=0.25))
    long = rollout(TaskCartPole(task=1.0))
    # same start (same seed), same pushes: the trajectories part from the first step on
    np.testing.assert_array_equal(short[0], ours[0])
    assert not np.allclose(short[1], ours[1]) and not np.allclose(long[1], ours[1])
    # a shorter pole turns faster: |theta_dot| after the first push grows as length shrinks
    assert abs(short[1, 3]) > abs(ours[1, 3]) > abs(long[1, 3])


@pytest.mark.parametrize("length", [0.05, 0.5, 2.0])
def test_one_step_matches_the_equations_with_polemass_length_recomputed(length):
    env = TaskCartPole()
    env.set_task(length)
    assert env.length == length and env.polemass_length == pytest.approx(0.1 * length)
    env.reset(seed=0)
    env.state = np.array([0.1, -0.2, 0.05, 0.3])
    obs, reward, terminated, truncated, _ = env.step(1)
    # Florian's equations, CartPole's constants: m_c 1, m_p 0.1, g 9.8, F 10 N
    x, x_dot, theta, theta_dot = 0.1, -0.2, 0.05, 0.3
    total, ml = 1.1, 0.1 * length
    temp = (10.0 + ml * theta_dot**2 * math.sin(theta)) / total
    theta_acc = (9.8 * math.sin(theta) - math.cos(theta) * temp) / (
        length * (4 / 3 - 0.1 * math.cos(theta) ** 2 / total)
    )
    x_acc = temp - ml * theta_acc * math.cos(theta) / total
    expected = [
        x + 0.02 * x_dot,
        x_dot + 0.02 * x_acc,
        theta + 0.02 * theta_dot,
        theta_dot + 0.02 * theta_acc,
    ]
    np.testing.assert_allclose(obs, np.array(expected, dtype=np.float32), rtol=1e-6)
    assert reward == 1.0 and not terminated and not truncated


def test_the_wrapper_sets_each_episodes_length():
    seen = []

    class Recorder(UniformTasks):
        name = "uniform"

        def observe(self, tasks, outcomes):
            super().observe(tasks, outcomes)
            seen.extend((float(t[0]), float(o)) for t, o in zip(tasks, outcomes, strict=True))

    env = TaskWrapper(
        TaskCartPole(max_steps=30),
        TaskSource(Recorder(Box([0.05], [2.0]), seed=0)),
        outcome="success",
    )
    lengths = []
    for episode in range(4):
        _, info = env.reset(seed=episode)
        assert info["task_episode"] == episode
        pole = env.unwrapped
        assert pole.length == float(env.task[0]) == info["length"]
        assert pole.polemass_length == pytest.approx(pole.masspole * pole.length)
        lengths.append(pole.length)
        done = False
        while not done:
            _, _, terminated, truncated, info = env.step(episode % 2)
            done = terminated or truncated
    assert len(set(lengths)) == 4 and all(0.05 <= v <= 2.0 for v in lengths)
    assert [t for t, _ in seen] == lengths  # the teacher saw each episode's own length
    # options override the source, and set both attributes
    env.reset(options={"task": 0.3})
    assert env.unwrapped.length == 0.3 and env.unwrapped.polemass_length == pytest.approx(0.03)


def test_truncation_and_success():
    assert (CARTPOLE_STEPS, CARTPOLE_THRESHOLD) == (500, 475.0)
    # 5 steps from near upright: the pole (max 0.05 rad at reset) cannot pass 12 degrees
    for threshold, success in ((5, True), (6, False)):
        env = TaskCartPole(max_steps=5, success_return=threshold)
        env.reset(seed=1)
        for step in range(5):
            _, _, terminated, truncated, info = env.step(step % 2)
            assert not terminated and truncated == (step == 4)
        assert info["is_success"] is success
    # a 2 cm half-length under a steady push falls within a few steps: a failure
    env = TaskCartPole(task=0.02)
    env.reset(seed=1)
    for _ in range(20):
        _, _, terminated, truncated, info = env.step(1)
        if terminated:
            break
    assert terminated and not truncated and env.steps < 5 and info["is_success"] is False
    env.reset(seed=1)  # a new episode starts its count and return again
    assert env.steps == 0 and env.episode_return == 0.0


def test_errors_and_env_checker():
    check_env(TaskCartPole(), skip_render_check=True)
    env = TaskCartPole()
    for bad in (0.0, -0.5, float("nan"), float("inf"), [0.5, 1.0], [], "long", None):
        with pytest.raises(DataError, match="one half-length > 0"):
            env.set_task(bad)
    assert env.length == 0.5  # a refused task leaves the pole as it was
    for kwargs in ({"max_steps": 0}, {"max_steps": True}, {"success_return": float("nan")}):
        with pytest.raises(ParameterError):
            TaskCartPole(**kwargs)
