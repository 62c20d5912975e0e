"""Easy-to-hard orderings for supervised fine-tuning with TRL's ``SFTTrainer``.

Two schedules, chosen by ``schedule``:

- ``"staged"``: progressive learning in stages, as Orca 2's and Orca's progressive training
  from easier to harder teacher traces (Mukherjee et al., "Orca: Progressive Learning from
  Complex Explanation Traces of GPT-4", arXiv:2306.02707, 2023): every example of the
  easiest stage (smallest ``difficulty``), shuffled, then every example of the next stage,
  and so on; each pass over the sampler is one pass over all stages. :class:`StagedSampler`.
- a pacing (a :class:`~mentor.teachers.pacing.Pacing`, its spec or a name such as
  ``"linear"``): the batches of mentor's :class:`~mentor.teachers.Curriculum` teacher (Bengio
  et al. 2009; Hacohen and Weinshall 2019): the examples sorted easy to hard, each batch drawn
  uniformly from the first ``pacing(step)`` fraction, ``step`` counting batches
  (:func:`paced_sampler`, through :class:`mentor.torch.sampler.CurriculumSampler`).

:class:`CurriculumSFTTrainer` is an ``SFTTrainer`` whose train sampler is one of these, the
difficulty read from a dataset column before TRL tokenises it. Packing is refused: it would
merge examples of different difficulties into one sequence.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from torch.utils.data import Sampler
from trl import SFTTrainer

from mentor.errors import DataError, ParameterError
from mentor.teachers.curriculum import Curriculum
from mentor.teachers.pacing import Pacing

if TYPE_CHECKING:
    from datasets import Dataset


def _difficulty(values: Sequence[Any] | np.ndarray) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1 or not array.size:
        raise DataError("needs one difficulty per example", field="difficulty")
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        raise DataError(
            f"difficulty of row {bad[0]} is not a finite number",
            field="difficulty",
            value=values[bad[0]],
        )
    return array


class StagedSampler(Sampler[int]):
    """Every example of each stage, easiest stage first, shuffled within the stage.

    Parameters
    ----------
    difficulty
        One number per example; equal numbers form a stage.
    seed
        Seed of the shuffles (a new shuffle each pass).
    """

    def __init__(self, difficulty: Sequence[Any] | np.ndarray, seed: int | None = None) -> None:
        self.difficulty = _difficulty(difficulty)
        self.stages = [np.flatnonzero(self.difficulty == d) for d in np.unique(self.difficulty)]
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return int(self.difficulty.size)

    def __iter__(self) -> Iterator[int]:
        for stage in self.stages:
            yield from self.rng.permutation(stage).tolist()


def paced_sampler(
    difficulty: Sequence[Any] | np.ndarray,
    batch_size: int,
    pacing: Pacing | dict[str, Any] | str = "linear",
    seed: int | None = None,
    steps_per_epoch: int | None = None,
) -> Sampler[int]:
    """Single indices of a :class:`~mentor.teachers.Curriculum` (easy first, ``pacing`` over
    batches) drawn by :class:`mentor.torch.sampler.CurriculumSampler`."""
    from mentor.torch.sampler import CurriculumSampler

    scores = _difficulty(difficulty)
    teacher = Curriculum(
        difficulty=dict(enumerate(scores.tolist())), pacing=pacing, clock="time", seed=seed
    )
    batches = CurriculumSampler(
        teacher, scores.size, batch_size, seed=seed, steps_per_epoch=steps_per_epoch
    )
    return batches.examples()


class CurriculumSFTTrainer(SFTTrainer):
    """``SFTTrainer`` that reads its examples easy to hard.

    Parameters
    ----------
    *args, **kwargs
        ``SFTTrainer``'s arguments (``train_dataset`` needed).
    difficulty_column
        Dataset column with each example's difficulty (or stage). Default ``"difficulty"``.
    schedule
        ``"staged"`` (default) or a pacing for :func:`paced_sampler`.
    """

    #: A ``datasets.Dataset``: ``__init__`` read its difficulty column.
    train_dataset: Dataset

    def __init__(
        self,
        *args: Any,
        difficulty_column: str = "difficulty",
        schedule: Any = "staged",
        **kwargs: Any,
    ) -> None:
        dataset: Any = kwargs.get("train_dataset")  # not None: it has the column (below)
        columns = getattr(dataset, "column_names", None) or []
        if difficulty_column not in columns:
            raise ParameterError(
                f"not a column of the training set (columns: {', '.join(columns)})",
                field="difficulty_column",
                value=difficulty_column,
            )
        config = kwargs.get("args")
        if config is not None and getattr(config, "packing", False):
            raise ParameterError("a curriculum needs packing=False", field="packing", value=True)
        self.difficulty = _difficulty(dataset[difficulty_column])
        self.schedule = schedule
        super().__init__(*args, **kwargs)
        if len(self.train_dataset) != self.difficulty.size:
            raise DataError(
                f"the prepared training set has {len(self.train_dataset)} rows, the raw one "
                f"{self.difficulty.size} (were rows filtered?)",
                field="train_dataset",
            )

    def _get_train_sampler(self, dataset: Any = None) -> Sampler[int]:
        if self.schedule == "staged":
            return StagedSampler(self.difficulty, seed=self.args.seed)
        return paced_sampler(
            self.difficulty,
            self.args.per_device_train_batch_size,
            self.schedule,
            seed=self.args.seed,
        )
