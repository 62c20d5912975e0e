"""Language models and RL agents as learners: mentor's teachers inside RL trainers.

An adapter layer over the core (extra ``mentor[rl]``); the core never imports it, and each
module here imports its trainer library (``trl``, ``verl``, ``torch``) only itself.

The learner is the policy being trained (one learner id, ``0`` by default); the items are the
prompts of the training set, named by an id column, or the *arms* they belong to (a difficulty
level, a data source), named by an arm column. A rollout's reward is an event's outcome.

- :mod:`mentor.rl._draws`: the library-free part: a teacher picks each chunk of prompts and
  learns from their rewards (:class:`~mentor.rl._draws.TeacherDraws`).
- :mod:`mentor.rl.trl_sampler`: :class:`TeacherRepeatSampler`, TRL's ``RepeatSampler``
  layout with every chunk chosen by a teacher.
- :mod:`mentor.rl.trl_reward`: :class:`MentorReward`, a reward-function wrapper that feeds
  (prompt id, reward) to the teacher.
- :mod:`mentor.rl.trl_trainer`: :class:`MentorGRPOTrainer`, a ``GRPOTrainer`` wiring both,
  with DAPO dynamic sampling (:class:`DynamicSampling`).
- :mod:`mentor.rl.sft`: easy-to-hard orderings for TRL's ``SFTTrainer``.
- :mod:`mentor.rl.verl_sampler`: a sampler for verl's curriculum-sampler hook (0.5-0.7).
- :mod:`mentor.rl.verl_replay`: a replay buffer for verl 0.9's custom-sampler hook: the
  teacher chooses among finished rollout groups and observes their rewards.

RL agents (Gymnasium), where the items are episode tasks (points of a task space, or ids):

- :mod:`mentor.rl.gym_tasks`: the library-free part: a teacher choosing each episode's task
  and learning from its result.
- :mod:`mentor.rl.gym_wrapper`: :class:`TaskWrapper`, sets the task at every ``reset``.
- :mod:`mentor.rl.gym_curriculum`: :class:`TaskCurriculum`, the teacher in the main process
  for ``SyncVectorEnv`` and ``AsyncVectorEnv`` (no Ray).
- :mod:`mentor.rl.sb3`: :class:`TaskCallback` for Stable-Baselines3.
- :mod:`mentor.rl.syllabus`: :class:`MentorCurriculum`, a Syllabus ``Curriculum`` backed by a
  mentor teacher.
- :mod:`mentor.rl.gym_envs`: environments with a continuous task parameter: :class:`GoalLine`,
  a small toy, and :class:`TaskCartPole`, CartPole-v1 whose task is the pole's half-length.
"""
