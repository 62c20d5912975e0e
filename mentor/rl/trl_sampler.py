"""TRL's ``RepeatSampler`` layout, with every chunk of prompts chosen by a mentor teacher.

TRL's ``GRPOTrainer`` reads its prompts through ``trl.trainer.utils.RepeatSampler``: the
dataset is cut into chunks of ``batch_size`` prompts (``generation_batch_size //
num_generations``); each chunk is yielded ``repeat_count`` times (``num_iterations *
steps_per_generation``), and within a pass each prompt index is yielded ``mini_repeat_count``
times in a row (``num_generations``, one group of rollouts). With ``mini_repeat_count=2,
batch_size=3, repeat_count=2`` and a chunk ``[4, 3, 0]`` it yields
``4 4 3 3 0 0 4 4 3 3 0 0``.

:class:`TeacherRepeatSampler` yields exactly that layout, but chunk ``c`` is
``draws.draw(batch_size, t=c)``: chosen by the teacher from what it has observed so far,
instead of the next slice of a random permutation. A pass over the sampler (one "epoch" of
the trainer) is ``len(dataset) // batch_size`` chunks, as ``RepeatSampler``'s, so the
trainer's step arithmetic is unchanged. The chunk is drawn lazily, when the trainer's
dataloader asks for its first index.
"""

from __future__ import annotations

from collections.abc import Iterator

from torch.utils.data import Sampler

from mentor._checks import check_count
from mentor.errors import ParameterError
from mentor.rl._draws import TeacherDraws


class TeacherRepeatSampler(Sampler[int]):
    """``RepeatSampler``'s layout over chunks that a teacher chooses.

    Parameters
    ----------
    draws
        The teacher and the dataset's prompt ids (and arms): a
        :class:`~mentor.rl._draws.TeacherDraws`.
    mini_repeat_count
        Times each index is repeated in a row (TRL: ``num_generations``).
    batch_size
        Distinct prompts per chunk (TRL: ``generation_batch_size // num_generations``).
    repeat_count
        Times each chunk is yielded (TRL: ``num_iterations * steps_per_generation``).
    chunks_per_pass
        Chunks per pass of ``iter(sampler)``. Default ``len(draws) // batch_size``, as
        ``RepeatSampler``.

    :attr:`chunks_` lists the rows of every chunk drawn so far, in order.
    """

    def __init__(
        self,
        draws: TeacherDraws,
        mini_repeat_count: int,
        batch_size: int = 1,
        repeat_count: int = 1,
        chunks_per_pass: int | None = None,
    ) -> None:
        if not isinstance(draws, TeacherDraws):
            raise ParameterError(
                "must be a TeacherDraws", field="draws", value=type(draws).__name__
            )
        self.draws = draws
        self.mini_repeat_count = check_count("mini_repeat_count", mini_repeat_count, 1)
        self.batch_size = check_count("batch_size", batch_size, 1)
        self.repeat_count = check_count("repeat_count", repeat_count, 1)
        if chunks_per_pass is None:
            chunks_per_pass = len(draws) // self.batch_size
            if chunks_per_pass < 1:
                raise ParameterError(
                    f"the dataset has {len(draws)} prompts, fewer than one chunk",
                    field="batch_size",
                    value=batch_size,
                )
        self.chunks_per_pass = check_count("chunks_per_pass", chunks_per_pass, 1)
        self.chunks_: list[list[int]] = []

    def __iter__(self) -> Iterator[int]:
        for _ in range(self.chunks_per_pass):
            chunk = self.draws.draw(self.batch_size, t=float(len(self.chunks_)))
            self.chunks_.append(chunk)
            for _ in range(self.repeat_count):
                for index in chunk:
                    for _ in range(self.mini_repeat_count):
                        yield index

    def __len__(self) -> int:
        return self.chunks_per_pass * self.batch_size * self.mini_repeat_count * self.repeat_count
