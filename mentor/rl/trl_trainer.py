"""TRL's ``GRPOTrainer`` with a mentor teacher choosing the prompts, and DAPO dynamic sampling.

:class:`MentorGRPOTrainer` is a ``trl.GRPOTrainer`` with three more keyword arguments:

- ``teacher``: the train sampler becomes a
  :class:`~mentor.rl.trl_sampler.TeacherRepeatSampler` over the dataset's ``id_column`` (and
  ``arm_column``, to choose arms such as difficulty levels instead of prompts), with the
  same layout and step arithmetic as TRL's ``RepeatSampler``. After each generation batch is
  scored, the weighted sum of the reward functions (TRL's ``reward_weights``) of every rollout
  is handed to the teacher with its prompt id (gathered over processes, so that every
  process's teacher copy observes the same events and draws the same chunks). Evaluation
  rollouts are not reported.
- ``dynamic_sampling``: a :class:`DynamicSampling`: DAPO's dynamic sampling (Yu et al., "DAPO:
  An Open-Source LLM Reinforcement Learning System at Scale", arXiv:2503.14476, 2025): after
  a generation batch is scored, the groups (prompts) whose rewards all agree are dropped
  (their group-relative advantages are 0: they carry no policy gradient), and further
  generation batches are drawn, generated and scored until the batch is full again, or until
  ``max_extra_batches`` extra generation batches have been spent. With ``low``/``high``
  given, a group is kept only when its mean reward also lies in ``[low, high]`` (the
  "balanced" online filtering of Bae et al., arXiv:2504.03380, 2025). The extra prompts come
  from the teacher, or uniformly at random from the dataset without one.
- ``id_column``, ``arm_column``, ``reward_range``, ``learner``: see
  :class:`~mentor.rl._draws.TeacherDraws`.

Feedback arrives late: the trainer's dataloader (accelerate's ``DataLoaderShard``) fetches
the next batch before it hands over the current one, so with ``num_iterations *
steps_per_generation == 1`` the teacher chooses chunk ``c + 1`` before it observes the rewards
of chunk ``c``. With a larger ``repeat_count`` the next chunk is chosen after the feedback.
Refills for dynamic sampling are chosen after the feedback of the rounds before them.

Counters: :attr:`MentorGRPOTrainer.rollouts_` (training rollouts generated, refills
included), :attr:`MentorGRPOTrainer.generation_batches_` (generation batches generated);
and the ``mentor/`` metrics logged with TRL's own.

Checkpoints: each checkpoint folder also gets ``mentor_teacher.json`` (the teacher's
``state_dict``), read back by ``train(resume_from_checkpoint=...)``; the teacher resumes with
what it had learned, though the chunks drawn after resuming are not those the interrupted run
would have drawn (the trainer replays its dataloader to skip the batches already seen).

Dynamic sampling runs in one process only (a group may span processes in TRL's layout) and
for text prompts only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from trl import GRPOTrainer
from trl.trainer.utils import pad

from mentor.errors import ParameterError
from mentor.rl._draws import TeacherDraws
from mentor.rl.trl_sampler import TeacherRepeatSampler
from mentor.teachers.base import Teacher

if TYPE_CHECKING:
    from trl import GRPOConfig

#: Output keys padded on the left (prompt side) and on the right (completion side), with
#: their padding values (``None``: the tokenizer's pad token).
_LEFT = {"prompt_ids": None, "prompt_mask": 0}
_RIGHT = {
    "completion_ids": None,
    "completion_mask": 0,
    "old_per_token_logps": 0.0,
    "ref_per_token_logps": 0.0,
    "sampling_per_token_logps": 0.0,
    "importance_sampling_ratio": 0.0,
    "tool_mask": 1,
}


@dataclass(frozen=True)
class DynamicSampling:
    """DAPO's dynamic sampling (drop groups whose rewards all agree, refill).

    Parameters
    ----------
    max_extra_batches
        Generation batches drawn after the first, at most, per training batch. Default 3
        (ours; DAPO's recipe caps the number of generation batches the same way). When the
        cap is reached the batch is completed with the dropped groups, earliest first (their
        advantages are 0, so they only dilute the loss).
    low, high
        Optional band on a group's mean reward (balanced filtering). Default: none, DAPO's
        rule alone.
    """

    max_extra_batches: int = 3
    low: float | None = None
    high: float | None = None

    def __post_init__(self) -> None:
        value = self.max_extra_batches
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ParameterError("must be an integer >= 0", field="max_extra_batches", value=value)
        low = -np.inf if self.low is None else float(self.low)
        high = np.inf if self.high is None else float(self.high)
        if not low <= high:
            raise ParameterError("needs low <= high", field="low", value=(self.low, self.high))

    def keep(self, rewards: np.ndarray, group_size: int) -> np.ndarray:
        """Which groups of ``group_size`` consecutive rewards to keep: rewards not all equal
        (NaN rewards ignored; an all-NaN group is dropped) and mean in the band."""
        groups = np.asarray(rewards, dtype=float).reshape(-1, group_size)
        valid = ~np.isnan(groups)
        has = valid.any(axis=1)
        filled_hi = np.where(valid, groups, -np.inf).max(axis=1)
        filled_lo = np.where(valid, groups, np.inf).min(axis=1)
        spread = has & (filled_hi > filled_lo)
        total = np.where(valid, groups, 0.0).sum(axis=1)
        mean = np.where(has, total / np.maximum(valid.sum(axis=1), 1), 0.0)
        low = -np.inf if self.low is None else self.low
        high = np.inf if self.high is None else self.high
        kept: np.ndarray = spread & (mean >= low) & (mean <= high)
        return kept


def _rows(output: dict[str, Any], rows: np.ndarray) -> dict[str, Any]:
    index = torch.as_tensor(rows, dtype=torch.long)
    out = {}
    for key, value in output.items():
        if isinstance(value, torch.Tensor) and value.ndim > 0:
            out[key] = value[index.to(value.device)]
        else:
            out[key] = value
    return out


def _concat(parts: list[dict[str, Any]], pad_token_id: int) -> dict[str, Any]:
    """One output dict from several, re-padding prompts on the left and completions on the
    right; ``num_items_in_batch`` recomputed from the completion (and tool) masks."""
    out: dict[str, Any] = {}
    for key in parts[0]:
        values = [part[key] for part in parts]
        if key == "num_items_in_batch":
            continue
        if key in _LEFT or key in _RIGHT:
            fill = _LEFT.get(key, _RIGHT.get(key))
            fill = pad_token_id if fill is None else fill
            side = "left" if key in _LEFT else "right"
            if values[0].ndim == 2:
                rows = [row for value in values for row in value]
                # trl annotates padding_value as int, but hands it to torch.full (floats work)
                out[key] = pad(rows, padding_value=fill, padding_side=side)  # type: ignore[arg-type,unused-ignore]
            else:
                out[key] = torch.cat(values)
        elif key == "advantages":
            out[key] = torch.cat(values)
        else:
            raise ParameterError(
                "dynamic sampling supports text prompts only; the trainer's output has",
                field="key",
                value=key,
            )
    mask = out["completion_mask"]
    if "tool_mask" in out:
        mask = mask * out["tool_mask"]
    out["num_items_in_batch"] = mask.sum()
    return out


class MentorGRPOTrainer(GRPOTrainer):
    """``GRPOTrainer`` whose prompts a mentor teacher chooses, with optional dynamic sampling.

    Parameters
    ----------
    *args, **kwargs
        ``GRPOTrainer``'s arguments (``model``, ``reward_funcs``, ``args``,
        ``train_dataset``, ...).
    teacher
        A mentor teacher, or None for TRL's own ``RepeatSampler``.
    id_column
        Dataset column of prompt ids (needed with a teacher). Default ``"prompt_id"``.
    arm_column
        Dataset column of arm ids: the teacher chooses arms, not prompts. Default None.
    reward_range
        Range of the summed reward, mapped to outcomes in [0, 1]. Default ``(0, 1)``.
    dynamic_sampling
        A :class:`DynamicSampling`, or None (default) for none.
    learner
        The learner id of the teacher's events. Default 0.
    """

    # Set by GRPOTrainer.__init__: the config (GRPOConfig.__post_init__ has filled
    # num_generations, generation_batch_size and steps_per_generation) and the policy.
    args: GRPOConfig
    num_generations: int
    model: torch.nn.Module

    def __init__(
        self,
        *args: Any,
        teacher: Teacher | None = None,
        id_column: str = "prompt_id",
        arm_column: str | None = None,
        reward_range: tuple[float, float] = (0.0, 1.0),
        dynamic_sampling: DynamicSampling | None = None,
        learner: Any = 0,
        **kwargs: Any,
    ) -> None:
        if dynamic_sampling is not None and not isinstance(dynamic_sampling, DynamicSampling):
            raise ParameterError(
                "must be a DynamicSampling",
                field="dynamic_sampling",
                value=type(dynamic_sampling).__name__,
            )
        self.mentor_teacher = teacher
        self.id_column = id_column
        self.dynamic_sampling = dynamic_sampling
        self.draws: TeacherDraws | None = None
        self.rollouts_ = 0
        self.generation_batches_ = 0
        self._last_rewards: np.ndarray | None = None
        dataset = kwargs.get("train_dataset")
        wants_rows = teacher is not None or dynamic_sampling is not None
        if wants_rows and not hasattr(dataset, "__len__"):
            raise ParameterError(
                "a teacher or dynamic sampling needs a map-style training set (a datasets "
                "Dataset), not a stream",
                field="train_dataset",
                value=type(dataset).__name__,
            )
        if teacher is not None:
            if dataset is None:
                raise ParameterError("a teacher needs train_dataset=", field="train_dataset")
            columns = getattr(dataset, "column_names", None) or []
            for column in (id_column, arm_column):
                if column is not None and column not in columns:
                    raise ParameterError(
                        f"not a column of the training set (columns: {', '.join(columns)})",
                        field="column",
                        value=column,
                    )
            self.draws = TeacherDraws(
                teacher,
                dataset[id_column],
                None if arm_column is None else dataset[arm_column],
                learner=learner,
                reward_range=reward_range,
                seed=getattr(kwargs.get("args"), "seed", None),
            )
        super().__init__(*args, **kwargs)
        if dynamic_sampling is not None and self.accelerator.num_processes > 1:
            raise ParameterError(
                "dynamic sampling runs in one process only",
                field="num_processes",
                value=self.accelerator.num_processes,
            )
        self._refill_rng = np.random.default_rng(self.args.seed)

    # ------------------------------------------------------------------ checkpoints
    TEACHER_FILE = "mentor_teacher.json"

    def _save_checkpoint(self, model: Any, trial: Any) -> None:
        # trl's GRPOTrainer._save_checkpoint is unannotated (unused-ignore: a later trl may not be)
        super()._save_checkpoint(model, trial)  # type: ignore[no-untyped-call,unused-ignore]
        if self.mentor_teacher is None or not self.args.should_save:
            return
        import os

        from mentor._io import write_json

        folder = os.path.join(self._get_output_dir(trial), f"checkpoint-{self.state.global_step}")
        write_json(os.path.join(folder, self.TEACHER_FILE), self.mentor_teacher.state_dict())

    def _load_from_checkpoint(self, resume_from_checkpoint: str, model: Any = None) -> None:
        super()._load_from_checkpoint(resume_from_checkpoint, model)
        import json
        import os

        path = os.path.join(resume_from_checkpoint, self.TEACHER_FILE)
        if self.mentor_teacher is not None and os.path.isfile(path):
            with open(path, encoding="utf-8") as handle:
                self.mentor_teacher.load_state_dict(json.load(handle))

    # ------------------------------------------------------------------ sampler
    def _get_train_sampler(self, dataset: Any = None) -> Any:
        if self.draws is None:
            return super()._get_train_sampler(dataset)
        assert self.args.generation_batch_size is not None  # see the class attributes
        assert self.args.steps_per_generation is not None
        return TeacherRepeatSampler(
            self.draws,
            mini_repeat_count=self.num_generations,
            batch_size=self.args.generation_batch_size // self.num_generations,
            repeat_count=self.num_iterations * self.args.steps_per_generation,
        )

    # ------------------------------------------------------------------ feedback
    def _calculate_rewards(
        self,
        inputs: list[dict[str, Any]],
        prompts: list[Any],
        completions: list[Any],
        completion_ids_list: list[list[int]],
    ) -> torch.Tensor:
        rewards_per_func: torch.Tensor = super()._calculate_rewards(
            inputs, prompts, completions, completion_ids_list
        )
        if not self.model.training:
            return rewards_per_func
        weights = self.reward_weights.to(rewards_per_func.device).unsqueeze(0)
        total = (rewards_per_func * weights).nansum(dim=1)
        total[torch.isnan(rewards_per_func).all(dim=1)] = torch.nan
        rewards = total.detach().float().cpu().numpy()
        self._last_rewards = rewards
        self.rollouts_ += rewards.size
        self.generation_batches_ += 1
        if self.draws is not None:
            from accelerate.utils import gather_object

            ids = gather_object([example[self.id_column] for example in inputs])
            self.draws.observe(ids, rewards, float(self.state.global_step))
        return rewards_per_func

    # ------------------------------------------------------------------ dynamic sampling
    def _refill_inputs(self) -> list[dict[str, Any]]:
        assert self.args.generation_batch_size is not None  # see the class attributes
        size = self.args.generation_batch_size // self.num_generations
        dataset: Any = self.train_dataset  # map-style: __init__ checked it
        if self.draws is not None:
            rows = self.draws.draw(size, t=float(self.state.global_step))
        else:
            n = len(dataset)
            rows = self._refill_rng.choice(n, size=min(size, n), replace=False).tolist()
        return [dataset[int(r)] for r in rows for _ in range(self.num_generations)]

    def _generate_and_score_completions(
        self, inputs: list[dict[str, torch.Tensor | Any]]
    ) -> dict[str, torch.Tensor | Any]:
        output = super()._generate_and_score_completions(inputs)
        rule = self.dynamic_sampling
        if rule is None or not self.model.training:
            return output
        size = self.num_generations
        target = len(inputs) // size
        kept: list[dict[str, Any]] = []
        dropped: list[dict[str, Any]] = []
        n_kept = rounds = 0
        while True:
            assert self._last_rewards is not None  # set by _calculate_rewards, called above
            keep = rule.keep(self._last_rewards, size)
            groups = np.arange(keep.size)
            take = groups[keep][: target - n_kept]
            if take.size:
                kept.append(_rows(output, (take[:, None] * size + np.arange(size)).ravel()))
                n_kept += take.size
            if (~keep).any():
                rest = groups[~keep]
                dropped.append(_rows(output, (rest[:, None] * size + np.arange(size)).ravel()))
            if n_kept >= target or rounds >= rule.max_extra_batches:
                break
            rounds += 1
            output = super()._generate_and_score_completions(self._refill_inputs())
        filled = 0
        for part in dropped:
            if n_kept >= target:
                break
            need = min(target - n_kept, part["advantages"].numel() // size)
            kept.append(_rows(part, np.arange(need * size)))
            n_kept += need
            filled += need
        self._metrics["train"]["mentor/extra_generation_batches"].append(float(rounds))
        self._metrics["train"]["mentor/filled_with_dropped_groups"].append(filled / target)
        return _concat(kept, self._tokenizer.pad_token_id)
