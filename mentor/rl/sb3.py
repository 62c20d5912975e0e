"""A Stable-Baselines3 callback that lets a mentor teacher choose each episode's task.

Wrap every environment in :class:`~mentor.rl.gym_wrapper.TaskWrapper`, build the model, then
a :class:`~mentor.rl.gym_curriculum.TaskCurriculum` over ``model.get_env()`` (before
``learn``: it schedules the first tasks, which the model's first reset runs), and pass
:class:`TaskCallback` to ``learn``::

    venv = make_vec_env(make_env, n_envs=4, wrapper_class=TaskWrapper)
    model = PPO("MlpPolicy", venv)
    curriculum = TaskCurriculum(TaskSource(RegionLP(box)), model.get_env())
    model.learn(100_000, callback=TaskCallback(curriculum))

After each environment step the callback hands the step's ``infos`` to
:meth:`TaskCurriculum.update`; it records ``mentor/episodes`` and ``mentor/teacher_seconds``
(the time spent choosing tasks and observing outcomes) in the model's logger at each rollout
end, after handing the teacher any outcomes a batched curriculum (``batch`` > 1) still holds,
so that every episode of a rollout reaches the teacher before PPO's update. Works with
``DummyVecEnv`` and ``SubprocVecEnv`` (the teacher stays in this process; both tested).

``learn`` may be called again, with or without Stable-Baselines3's default
``reset_num_timesteps=True``: that reset abandons the episodes the environments were running,
and the callback's :meth:`~TaskCallback._on_training_start` calls
:meth:`TaskCurriculum.resync`, which drops them and schedules what the environments lack. The
curriculum must still be built before the first reset: an environment reset before it holds
no task and its wrapper raises :class:`~mentor.errors.MentorError`.
"""

from __future__ import annotations

from stable_baselines3.common.callbacks import BaseCallback

from mentor.errors import ParameterError
from mentor.rl.gym_curriculum import TaskCurriculum


class TaskCallback(BaseCallback):
    """Feed each finished episode to a :class:`TaskCurriculum` and keep its tasks scheduled.

    Parameters
    ----------
    curriculum
        Built over the model's vector env before ``learn``.
    verbose
        Stable-Baselines3's verbosity.
    """

    def __init__(self, curriculum: TaskCurriculum, verbose: int = 0) -> None:
        super().__init__(verbose)
        if not isinstance(curriculum, TaskCurriculum):
            raise ParameterError(
                "must be a TaskCurriculum", field="curriculum", value=type(curriculum).__name__
            )
        self.curriculum = curriculum

    def _on_training_start(self) -> None:
        self.curriculum.resync()

    def _on_step(self) -> bool:
        self.curriculum.update(self.locals["infos"])
        return True

    def _on_rollout_end(self) -> None:
        self.curriculum.flush()  # outcomes held back by a batched curriculum: PPO updates now
        self.logger.record("mentor/episodes", self.curriculum.episodes_)
        self.logger.record("mentor/teacher_seconds", self.curriculum.seconds_)
