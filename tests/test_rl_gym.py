"""Gymnasium, Stable-Baselines3 and Syllabus adapters, against the real libraries.

The environment is :class:`mentor.rl.gym_envs.GoalLine`; a scripted policy ("walk right at
most 5 cells, then claim") succeeds exactly when the goal ``1 + round(15 x)`` is at most 5,
i.e. for tasks ``x <= 4.5 / 15 = 0.3``, so every (task, outcome) pair a teacher is handed
can be checked by hand, whichever environment and episode it came from.
"""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from mentor.domain import Box
from mentor.errors import DataError, MentorError, ParameterError
from mentor.rl.gym_curriculum import TaskCurriculum
from mentor.rl.gym_envs import GoalLine
from mentor.rl.gym_tasks import TaskSource
from mentor.rl.gym_wrapper import TaskWrapper
from mentor.teachers import TSCL
from mentor.teachers.taskspace import RegionLP, UniformTasks

LINE = Box([0.0], [1.0])


class Recorder(UniformTasks):
    """Uniform tasks that remember every (task, outcome) they are handed."""

    name = "uniform"

    def __init__(self, space, seed=None):
        super().__init__(space, seed)
        self.seen: list[tuple[float, float]] = []

    def observe(self, tasks, outcomes):
        super().observe(tasks, outcomes)
        self.seen += [(float(t[0]), float(o)) for t, o in zip(tasks, outcomes, strict=True)]


def succeeds(task: float, length: int = 16) -> bool:
    return 1 + round(task * (length - 1)) <= 5


def scripted(obs: np.ndarray) -> np.ndarray:
    """Right while below the goal and below cell 5, else claim (obs rows: pos, goal)."""
    position, goal = np.round(obs[:, 0] * 16), np.round(obs[:, 1] * 16)
    return np.where((position < goal) & (position < 5), 1, 2)


def make_env():
    return TaskWrapper(GoalLine())


def check_pairs(seen):
    assert seen, "no episode reached the teacher"
    for task, outcome in seen:
        assert outcome == float(succeeds(task)), (task, outcome)


# ================================================================== TaskSource
def test_task_source_continuous_and_discrete():
    source = TaskSource(UniformTasks(Box([0.0, 1.0], [1.0, 3.0]), seed=0), reward_range=(-1, 1))
    tasks = source.draw(3)
    assert len(tasks) == 3 and all(t.shape == (2,) for t in tasks)
    assert source.outcome(0.0) == 0.5 and source.outcome(5.0) == 1.0 and source.outcome(-3) == 0.0
    discrete = TaskSource(TSCL(seed=0), tasks=["easy", "hard"])
    assert set(discrete.draw(20)) <= {"easy", "hard"}
    discrete.observe(["easy", "easy", "hard"], [1.0, 0.0, 0.5])
    assert discrete.timing_["episodes"] == 3 and discrete.observed_ == 1
    with pytest.raises(ParameterError, match="task ids"):
        TaskSource(TSCL())
    with pytest.raises(ParameterError, match="give no task ids"):
        TaskSource(UniformTasks(LINE), tasks=[1])
    with pytest.raises(ParameterError):
        TaskSource("tscl")
    with pytest.raises(ParameterError, match="low < high"):
        TaskSource(UniformTasks(LINE), reward_range=(1, 1))
    with pytest.raises(DataError, match="distinct"):
        TaskSource(TSCL(), tasks=[1, 1])
    with pytest.raises(DataError, match="2 tasks but 1 rewards"):
        discrete.observe(["easy", "hard"], [1.0])


# ================================================================== the wrapper, one env
def test_wrapper_with_an_in_process_teacher_reports_each_episode():
    teacher = Recorder(LINE, seed=1)
    env = TaskWrapper(GoalLine(), TaskSource(teacher))
    check_env(GoalLine(), skip_render_check=True)  # the raw env passes Gymnasium's checks
    for _ in range(30):
        obs, info = env.reset()
        assert info["task_episode"] == env.episode and info["goal"] == env.unwrapped.goal
        done = False
        while not done:
            obs, reward, terminated, truncated, info = env.step(int(scripted(obs[None])[0]))
            done = terminated or truncated
        assert info["task_return"] == reward and info["task_success"] == float(reward)
    assert len(teacher.seen) == 30
    check_pairs(teacher.seen)
    assert {o for _, o in teacher.seen} == {0.0, 1.0}


def test_wrapper_options_apply_and_errors():
    env = TaskWrapper(GoalLine())
    with pytest.raises(MentorError, match="no task for episode 0"):
        env.reset()
    obs, info = env.reset(options={"task": 1.0})
    assert env.unwrapped.goal == 16 and obs[1] == 1.0
    # discrete task ids, applied by a callable
    levels = TaskWrapper(
        GoalLine(),
        TaskSource(TSCL(seed=0), tasks=[0, 1, 2, 3]),
        apply=lambda e, task: e.set_task(task / 3),
    )
    levels.reset()
    assert levels.unwrapped.goal == 1 + round(levels.task / 3 * 15)

    # a task passed on as a reset option when the env has no set_task
    class Echo(gymnasium.Env):
        observation_space = gymnasium.spaces.Discrete(1)
        action_space = gymnasium.spaces.Discrete(1)

        def reset(self, *, seed=None, options=None):
            return 0, {"echo": options["task"]}

    echo = TaskWrapper(Echo(), TaskSource(TSCL(seed=0), tasks=["a"]))
    assert echo.reset(options={"other": 1})[1] == {"echo": "a", "task_episode": 0}
    with pytest.raises(ParameterError, match="no such method"):
        TaskWrapper(GoalLine(), apply="set_level")
    with pytest.raises(ParameterError, match="outcome"):
        TaskWrapper(GoalLine(), outcome="reward")


# ================================================================== vector envs
@pytest.mark.parametrize("vector", ["sync", "async"])
def test_vector_envs_with_the_teacher_in_the_main_process(vector):
    teacher = Recorder(LINE, seed=2)
    cls = gymnasium.vector.SyncVectorEnv if vector == "sync" else gymnasium.vector.AsyncVectorEnv
    envs = cls([make_env] * 3)
    try:
        curriculum = TaskCurriculum(TaskSource(teacher), envs, outcome="success")
        scheduled = [dict(p) for p in curriculum.pending]
        obs, info = envs.reset(seed=0)
        goals = [1 + round(float(scheduled[i][0][0]) * 15) for i in range(3)]
        assert info["goal"].tolist() == goals  # episode 0 of each env ran its scheduled task
        for _ in range(60):
            obs, reward, terminated, truncated, info = envs.step(scripted(obs))
            curriculum.update(info)
    finally:
        envs.close()
    assert curriculum.episodes_ == len(teacher.seen) >= 20
    check_pairs(teacher.seen)
    # every env always holds the task of its next episode
    assert all(len(p) >= 1 for p in curriculum.pending)


def test_curriculum_refuses_an_episode_it_did_not_schedule():
    envs = gymnasium.vector.SyncVectorEnv([make_env] * 2)
    curriculum = TaskCurriculum(TaskSource(UniformTasks(LINE, seed=0)), envs)
    infos = {
        "task_return": np.array([1.0, 0]),
        "_task_return": np.array([True, False]),
        "task_episode": np.array([7, 0]),
        "task_success": np.array([1.0, 0]),
    }
    with pytest.raises(DataError, match="episode 7"):
        curriculum.update(infos)
    with pytest.raises(ParameterError, match="vector env"):
        TaskCurriculum(TaskSource(UniformTasks(LINE)), object())


def test_curriculum_resyncs_after_a_reset_it_did_not_schedule():
    """A mid-episode ``reset`` of the vector env abandons each environment's episode and runs
    the next scheduled one; ``resync`` drops the abandoned tasks (never observed) and
    schedules what is lacking, so stepping on hands the teacher only real (task, outcome)
    pairs; without ``resync`` the next episode end finds no task."""
    teacher = Recorder(LINE, seed=4)
    envs = gymnasium.vector.SyncVectorEnv([make_env] * 2)
    curriculum = TaskCurriculum(TaskSource(teacher), envs, outcome="success")
    assert curriculum.resync() == 0  # before any reset: nothing lacking, nothing drawn
    obs, _ = envs.reset(seed=0)
    assert curriculum.resync() == 0
    assert [sorted(p) for p in curriculum.pending] == [[0, 1], [0, 1]]
    obs, _ = envs.reset(seed=1)  # behind the curriculum's back: episode 0 abandoned
    assert curriculum.resync() == 2
    assert [sorted(p) for p in curriculum.pending] == [[1, 2], [1, 2]]
    for _ in range(40):
        obs, _, _, _, info = envs.step(scripted(obs))
        curriculum.update(info)
    envs.close()
    assert curriculum.episodes_ == len(teacher.seen) >= 10
    check_pairs(teacher.seen)

    envs = gymnasium.vector.SyncVectorEnv([make_env])
    curriculum = TaskCurriculum(TaskSource(UniformTasks(LINE, seed=0)), envs)
    obs, _ = envs.reset(seed=0)
    obs, _ = envs.reset(seed=1)
    with pytest.raises(MentorError, match="no task for episode 2"):
        for _ in range(40):
            obs, _, _, _, info = envs.step(scripted(obs))
            curriculum.update(info)
    envs.close()


class CallCounter(Recorder):
    """A recorder that also counts the teacher's ``sample`` and ``observe`` calls."""

    def __init__(self, space, seed=None):
        super().__init__(space, seed)
        self.samples = self.observes = 0

    def sample(self, n=1):
        self.samples += 1
        return super().sample(n)

    def observe(self, tasks, outcomes):
        self.observes += 1
        super().observe(tasks, outcomes)


@pytest.mark.parametrize("vector", ["sync", "async"])
def test_batched_curriculum_holds_outcomes_back_at_most_batch_episodes(vector):
    """``batch=4``: each environment is scheduled 4 episodes beyond the one it runs; outcomes
    are held until an environment that just finished has no task beyond its running one.
    Every (task, outcome) pair is still right, nothing is lost (held + fed back = ended),
    at most 4 outcomes per environment wait, and the teacher is called far less often than
    once per episode."""
    teacher = CallCounter(LINE, seed=5)
    cls = gymnasium.vector.SyncVectorEnv if vector == "sync" else gymnasium.vector.AsyncVectorEnv
    envs = cls([make_env] * 3)
    try:
        curriculum = TaskCurriculum(TaskSource(teacher), envs, outcome="success", batch=4)
        assert [sorted(p) for p in curriculum.pending] == [[0, 1, 2, 3, 4]] * 3
        obs, _ = envs.reset(seed=0)
        ended = 0
        for _ in range(150):
            obs, _, _, _, info = envs.step(scripted(obs))
            ended += curriculum.update(info)
            assert len(curriculum.held) <= 4 * 3
            for i in range(3):  # the task of the episode after the running one is there
                assert curriculum.running[i] + 1 in curriculum.pending[i]
    finally:
        envs.close()
    assert ended >= 60
    assert curriculum.episodes_ + len(curriculum.held) == ended
    observes, held = teacher.observes, len(curriculum.held)
    assert curriculum.flush() == held
    assert curriculum.episodes_ == len(teacher.seen) == ended
    check_pairs(teacher.seen)
    assert teacher.observes == observes + (held > 0)
    # a refill leaves every environment 4 tasks beyond the episode it runs, so the next one
    # comes only after some environment ended 4 more episodes: at most one observe per 4
    # episodes, and the final flush
    assert teacher.observes <= ended // 4 + 1
    assert teacher.samples <= ended // 4 + 1
    assert curriculum.flush() == 0


def test_batched_curriculum_refuses_a_batch_below_one():
    envs = gymnasium.vector.SyncVectorEnv([make_env])
    with pytest.raises(ParameterError, match="batch"):
        TaskCurriculum(TaskSource(UniformTasks(LINE)), envs, batch=0)
    envs.close()


# ================================================================== Stable-Baselines3
@pytest.mark.parametrize("batch", [1, 4])
def test_sb3_ppo_with_the_task_callback(batch):
    pytest.importorskip("stable_baselines3")
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    from mentor.rl.sb3 import TaskCallback

    teacher = RegionLP(LINE, regions=8, seed=0)
    venv = make_vec_env(GoalLine, n_envs=2, seed=0, wrapper_class=TaskWrapper)
    model = PPO("MlpPolicy", venv, n_steps=64, batch_size=64, n_epochs=1, seed=0, device="cpu")
    curriculum = TaskCurriculum(
        TaskSource(teacher), model.get_env(), outcome="success", batch=batch
    )
    model.learn(256, callback=TaskCallback(curriculum))
    monitored = sum(len(m) for m in venv.get_attr("episode_returns"))
    # every episode the Monitor saw was fed back (a batched curriculum's held outcomes are
    # handed over at each rollout's end)
    assert curriculum.held == []
    assert curriculum.episodes_ == monitored > 0
    assert teacher.counts_.sum() == monitored
    with pytest.raises(ParameterError):
        TaskCallback("curriculum")


# SB3's own default on Linux is forkserver (this test took 14 s with it on the shared 2-core
# machine, 6 s with fork); fork gives the same separate processes, which is what it is about.
START_METHOD = "fork"


def test_sb3_subproc_vec_env_with_the_teacher_in_the_main_process():
    """Stable-Baselines3's ``SubprocVecEnv`` (each environment in its own process): the
    tasks reach the right episodes (scripted policy: every outcome matches its task), and
    PPO with the callback feeds back every episode its Monitors saw, over three ``learn``
    calls (the second with Stable-Baselines3's default ``reset_num_timesteps=True``, which
    resets the environments mid-episode, the third without)."""
    pytest.importorskip("stable_baselines3")
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import SubprocVecEnv

    from mentor.rl.sb3 import TaskCallback

    def subproc():
        return make_vec_env(
            GoalLine,
            n_envs=2,
            seed=0,
            wrapper_class=TaskWrapper,
            vec_env_cls=SubprocVecEnv,
            vec_env_kwargs={"start_method": START_METHOD},
        )

    teacher = Recorder(LINE, seed=3)
    venv = subproc()
    try:
        curriculum = TaskCurriculum(TaskSource(teacher), venv, outcome="success")
        assert curriculum.kind == "sb3"
        obs = venv.reset()
        for _ in range(60):
            obs, _, _, infos = venv.step(scripted(obs))
            curriculum.update(infos)
    finally:
        venv.close()
    assert curriculum.episodes_ == len(teacher.seen) >= 10
    check_pairs(teacher.seen)

    teacher = RegionLP(LINE, regions=8, seed=0)
    venv = subproc()
    try:
        model = PPO("MlpPolicy", venv, n_steps=32, batch_size=64, n_epochs=1, seed=0, device="cpu")
        curriculum = TaskCurriculum(TaskSource(teacher), model.get_env(), outcome="success")
        model.learn(64, callback=TaskCallback(curriculum))
        first = curriculum.episodes_
        model.learn(64, callback=TaskCallback(curriculum))
        model.learn(64, callback=TaskCallback(curriculum), reset_num_timesteps=False)
        monitored = sum(len(m) for m in venv.get_attr("episode_returns"))
    finally:
        venv.close()
    assert curriculum.episodes_ == monitored == teacher.counts_.sum() > first > 0


# ================================================================== Syllabus
def test_syllabus_curriculum_backed_by_mentor():
    syllabus = pytest.importorskip("syllabus.task_space")
    from mentor.rl.syllabus import MentorCurriculum

    discrete = syllabus.DiscreteTaskSpace(4)
    curriculum = MentorCurriculum(discrete, TaskSource(TSCL(seed=0), tasks=range(4)))
    tasks = curriculum.sample(5)
    assert len(tasks) == 5 and all(t in range(4) for t in tasks)
    for task in tasks:
        curriculum.update_on_episode(1.0 if task == 0 else 0.0, 10, task, False)
    assert curriculum.source.timing_["episodes"] == 5
    box = syllabus.BoxTaskSpace(gymnasium.spaces.Box(0.0, 1.0, shape=(1,)))
    teacher = RegionLP(LINE, regions=4, seed=0)
    continuous = MentorCurriculum(box, TaskSource(teacher), outcome="success")
    task = continuous.sample(1)[0]
    assert box.contains(task)
    continuous.update_on_episode(0.0, 3, task, True)
    assert teacher.counts_.sum() == 1
    with pytest.raises(ParameterError, match="indices"):
        MentorCurriculum(discrete, TaskSource(TSCL(), tasks=["a", "b", "c", "d"]))
    with pytest.raises(ParameterError, match="same box"):
        MentorCurriculum(box, TaskSource(RegionLP(Box([0.0], [2.0]), regions=4)))


def test_syllabus_multiprocessing_sync_wrapper_with_a_mentor_curriculum():
    """Syllabus's own multiprocessing sync: ``make_multiprocessing_curriculum`` (the
    curriculum in a thread of the main process) and ``GymnasiumSyncWrapper`` in the workers
    of an ``AsyncVectorEnv``, with the queues between them; every finished episode's task and
    outcome reach the mentor teacher, paired right (scripted policy)."""
    pytest.importorskip("syllabus.core")
    import time

    from syllabus.core import GymnasiumSyncWrapper, make_multiprocessing_curriculum
    from syllabus.core.task_interface import TaskWrapper as SyllabusTaskWrapper
    from syllabus.task_space import BoxTaskSpace

    from mentor.rl.syllabus import MentorCurriculum

    class GoalTask(SyllabusTaskWrapper):
        """Syllabus's task interface over GoalLine: the task sets the goal, the episode's
        success is its completion (Syllabus's ``progress``)."""

        def change_task(self, new_task):
            self.env.unwrapped.set_task(float(np.asarray(new_task).reshape(-1)[0]))
            self.task = new_task

        def _task_completion(self, obs, rew, term, trunc, info):
            return float(bool(info.get("is_success", False)))

    space = BoxTaskSpace(gymnasium.spaces.Box(0.0, 1.0, shape=(1,)))
    teacher = Recorder(LINE, seed=4)
    curriculum = make_multiprocessing_curriculum(
        MentorCurriculum(space, TaskSource(teacher), outcome="success")
    )
    components = curriculum.components

    def make():
        return GymnasiumSyncWrapper(GoalTask(GoalLine()), space, components)

    finished = 0
    envs = gymnasium.vector.AsyncVectorEnv([make] * 2)
    try:
        obs, _ = envs.reset(seed=0)
        for _ in range(40):
            obs, _, terminated, truncated, _ = envs.step(scripted(obs))
            finished += int(np.sum(terminated | truncated))
    finally:
        envs.close()
        deadline = time.monotonic() + 10
        while len(teacher.seen) < finished and time.monotonic() < deadline:
            time.sleep(0.01)  # the curriculum's thread drains the update queue
        curriculum.stop()
    assert len(teacher.seen) == finished >= 10
    check_pairs(teacher.seen)
