"""A TRL reward function that also tells a mentor teacher how each prompt went.

TRL calls a reward function as ``f(prompts=..., completions=..., completion_ids=..., **columns)``
where ``columns`` holds every dataset column, one value per rollout, plus ``trainer_state``.
:class:`MentorReward` wraps such a function: it returns the function's rewards unchanged, and
hands ``(column id_column, reward)`` for each rollout to
:meth:`~mentor.rl._draws.TeacherDraws.observe`, at the trainer's ``global_step``.

With a plain ``GRPOTrainer``, pass the wrapper as (one of) ``reward_funcs`` and a
:class:`~mentor.rl.trl_sampler.TeacherRepeatSampler` over the same ``draws``; with several
reward functions, wrap the one that measures success (the teacher then sees that reward, not
the weighted sum). :class:`~mentor.rl.trl_trainer.MentorGRPOTrainer` does both for you and
reports the weighted sum of all reward functions. In a run over several processes each
process's wrapper sees only its own rollouts: use ``MentorGRPOTrainer`` there, which gathers
them so that every process's teacher observes the same events.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mentor.errors import DataError, ParameterError
from mentor.rl._draws import TeacherDraws


class MentorReward:
    """Wrap a TRL reward function so that its rewards reach a teacher.

    Parameters
    ----------
    reward_func
        The reward function, called with TRL's arguments.
    draws
        The teacher and the prompt ids (the same object the sampler uses).
    id_column
        The dataset column holding each prompt's id. Default ``"prompt_id"``.

    Its ``__name__`` is the wrapped function's, so TRL logs the reward under the same name.
    """

    def __init__(
        self, reward_func: Callable[..., Any], draws: TeacherDraws, id_column: str = "prompt_id"
    ) -> None:
        if not callable(reward_func):
            raise ParameterError(
                "must be callable", field="reward_func", value=type(reward_func).__name__
            )
        if not isinstance(draws, TeacherDraws):
            raise ParameterError(
                "must be a TeacherDraws", field="draws", value=type(draws).__name__
            )
        self.reward_func = reward_func
        self.draws = draws
        self.id_column = str(id_column)
        self.__name__ = getattr(reward_func, "__name__", type(reward_func).__name__)

    def __call__(self, prompts: list[Any], completions: list[Any], **kwargs: Any) -> list[Any]:
        rewards = list(self.reward_func(prompts=prompts, completions=completions, **kwargs))
        if self.id_column not in kwargs:
            raise DataError(
                "the dataset has no prompt id column (set id_column, keep the column: "
                "remove_unused_columns=False)",
                field="id_column",
                value=self.id_column,
            )
        state = kwargs.get("trainer_state")
        step = float(getattr(state, "global_step", 0) or 0)
        values = [float("nan") if r is None else float(r) for r in rewards]
        self.draws.observe(kwargs[self.id_column], values, step)
        return rewards
