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
- :mod:`mentor.rl.verl_sampler`: a sampler for verl's curriculum-sampler hook.
"""
