"""A mentor teacher behind verl's curriculum-sampler hook.

verl 0.5.0 to 0.7.1 let a run replace its prompt sampler (``verl.trainer.main_ppo.
create_rl_sampler``): with

.. code-block:: yaml

    data:
      dataloader_num_workers: 0          # verl asserts it, so nothing is fetched ahead
      sampler:
        class_path: pkg://mentor.rl.verl_sampler
        class_name: MentorCurriculumSampler
        teacher: {name: sec, params: {temperature: 0.5}}
        arm_key: level                    # optional: choose levels, not prompts
        score_key: acc                    # optional: default the summed token-level scores

verl builds ``MentorCurriculumSampler(data_source=train_dataset, data_config=config.data)``
and, after every training step, ``RayPPOTrainer.fit`` calls ``sampler.update(batch=batch)``
with the step's ``DataProto``: one row per rollout, ``non_tensor_batch["index"]`` the
prompt's ``extra_info.index`` and the reward either in ``non_tensor_batch[score_key]`` (a
reward function's extra info, such as ``acc``) or ``batch["token_level_scores"]`` (summed over
tokens). The sampler hands them to the teacher (:class:`~mentor.rl._draws.TeacherDraws`,
prompt ids = ``extra_info.index``), and draws every ``data.train_batch_size`` prompts as one
chunk from the teacher.

verl 0.8.0 removed this hook: in 0.9.x ``create_rl_sampler`` builds a random or sequential
sampler only, and the curriculum hook is the replay buffer of finished rollouts
(``trainer.v1.sampler.custom_sampler``, on TransferQueue and Ray), which picks among groups
already generated rather than the prompts to generate. :mod:`mentor.rl.verl_replay` serves
that hook (``MentorReplayBuffer``, ``MentorReplayBufferAsync``).

The class derives from verl's ``AbstractCurriculumSampler`` when verl is importable (verl
asserts it), else from ``torch.utils.data.Sampler``, so it can be built and tested without
verl.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence, Sized
from typing import Any

import numpy as np
from torch.utils.data import Sampler

from mentor.errors import DataError, ParameterError
from mentor.rl._draws import TeacherDraws
from mentor.teachers import teacher_class
from mentor.teachers.base import Teacher

try:  # verl 0.5.0 - 0.7.1
    from verl.experimental.dataset.sampler import AbstractCurriculumSampler as _Base
except ImportError:  # verl absent, or a release without the hook
    _Base = Sampler


def _get(config: Any, key: str, default: Any = None) -> Any:
    if config is None:
        return default
    if isinstance(config, Mapping):
        return config.get(key, default)
    getter = getattr(config, "get", None)
    return getter(key, default) if getter is not None else getattr(config, key, default)


def _rows(data_source: Any) -> Sequence[Mapping[str, Any]]:
    """The rows of verl's ``RLHFDataset`` (its ``dataframe``), or of any sequence of dicts."""
    frame: Sequence[Mapping[str, Any]] | None = getattr(data_source, "dataframe", None)
    return frame if frame is not None else data_source


def _extra(row: Mapping[str, Any], key: str, line: int) -> Any:
    info = row.get("extra_info") or {}
    if key in info:
        return info[key]
    if key in row:
        return row[key]
    raise DataError(f"row {line} has no {key!r} (in extra_info or as a column)", field=key)


class MentorCurriculumSampler(_Base):
    """verl curriculum sampler whose prompts a mentor teacher chooses.

    Parameters
    ----------
    data_source
        verl's ``RLHFDataset`` (or any sized sequence of rows with ``extra_info``).
    data_config
        verl's ``config.data``: ``train_batch_size``, ``seed`` and ``sampler.teacher``
        (``{"name": ..., "params": {...}}``), ``sampler.arm_key``, ``sampler.score_key``,
        ``sampler.reward_range``.
    teacher
        A teacher object instead of ``sampler.teacher`` (for use from Python).
    """

    def __init__(
        self, data_source: Sized, data_config: Any = None, teacher: Teacher | None = None
    ) -> None:
        sampler_config = _get(data_config, "sampler", None)
        if teacher is None:
            spec = _get(sampler_config, "teacher", None)
            if spec is None:
                raise ParameterError(
                    "give data.sampler.teacher: {name: ..., params: {...}}", field="teacher"
                )
            name = _get(spec, "name")
            params = dict(_get(spec, "params", None) or {})
            params.setdefault("seed", _get(data_config, "seed", None))
            teacher = teacher_class(str(name))(**params)
        rows = _rows(data_source)
        ids = [_extra(rows[i], "index", i) for i in range(len(rows))]
        arm_key = _get(sampler_config, "arm_key", None)
        arms = None if arm_key is None else [_extra(rows[i], arm_key, i) for i in range(len(rows))]
        reward_range = tuple(_get(sampler_config, "reward_range", None) or (0.0, 1.0))
        self.draws = TeacherDraws(
            teacher, ids, arms, reward_range=reward_range, seed=_get(data_config, "seed", None)
        )
        self.score_key = _get(sampler_config, "score_key", None)
        batch = _get(data_config, "train_batch_size", None) or len(ids)
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
            raise ParameterError("must be an integer >= 1", field="train_batch_size", value=batch)
        self.batch_size = batch
        self.n = len(ids)
        self.steps_ = 0
        self.chunks_: list[list[int]] = []

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[int]:
        left = self.n
        while left > 0:
            chunk = self.draws.draw(min(self.batch_size, left), t=float(self.steps_))
            self.chunks_.append(chunk)
            left -= len(chunk)
            yield from chunk

    def update(self, batch: Any) -> None:
        """Hand one step's rollouts to the teacher (``index`` and score of every row)."""
        extras = batch.non_tensor_batch
        if "index" not in extras:
            raise DataError("the batch has no non_tensor_batch['index']", field="index")
        if self.score_key is not None:
            if self.score_key not in extras:
                raise DataError(
                    "the batch has no such reward extra info",
                    field="score_key",
                    value=self.score_key,
                )
            scores = np.asarray(extras[self.score_key], dtype=float)
        else:
            scores = batch.batch["token_level_scores"].sum(-1).float().cpu().numpy()
        self.draws.observe(np.asarray(extras["index"]).tolist(), scores, float(self.steps_))
        self.steps_ += 1
