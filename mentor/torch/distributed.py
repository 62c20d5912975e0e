"""Data-parallel training with the curriculum's teacher on rank 0.

Every step, rank 0 draws the global batch from its
:class:`~mentor.torch.sampler.CurriculumSampler` and broadcasts it; each rank
trains on its shard (contiguous, sizes differing by at most one, as
``numpy.array_split`` cuts it) under DistributedDataParallel; the shards'
per-example results are gathered to rank 0, which feeds them back as one
batch. Only rank 0 holds the teacher, the scorer and their state.

All communication goes through a process group of its own (gloo, on the CPU),
so it never interleaves with the gradient all-reduces of DDP, whatever
backend those use::

    curriculum = DistributedCurriculum(sampler if rank == 0 else None, batch_size=256)
    loader = DataLoader(dataset, batch_sampler=curriculum)   # this rank's shards
    hook = CurriculumHook(curriculum)
    for x, y in loader:
        with hook.step() as fb:
            ...

Drawing a batch and giving feedback are collective: every rank must do them
in the same order (a DataLoader does, on every rank alike).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from mentor._checks import check_count
from mentor.errors import DataError, MentorError, ParameterError, StateError
from mentor.events import EventLog
from mentor.torch.sampler import CurriculumSampler, as_numpy

#: The ``kind`` of a saved :class:`DistributedCurriculum`.
STATE_KIND = "mentor.torch.DistributedCurriculum"


class DistributedCurriculum:
    """A curriculum sampler on rank 0, its batches shared by every rank.

    Parameters
    ----------
    sampler
        The sampler, on rank 0 (its ``batch_size`` is the global batch size);
        None on the other ranks.
    batch_size
        The global batch size (checked against the sampler's on rank 0).

    Building it is collective: it creates the gloo process group of its messages.
    The object is a batch sampler of this rank's shards (``len`` = the
    sampler's ``steps_per_epoch``, broadcast from rank 0).
    """

    def __init__(
        self,
        sampler: CurriculumSampler | None,
        batch_size: int,
    ) -> None:
        if not dist.is_available() or not dist.is_initialized():
            raise MentorError("DistributedCurriculum needs torch.distributed to be initialised")
        group = dist.new_group(backend="gloo")
        if not isinstance(group, dist.ProcessGroup):  # a group of all ranks holds every rank
            raise MentorError("this rank is not in the curriculum's process group")
        self.group = group
        self.rank = dist.get_rank()
        self.world_size = dist.get_world_size()
        self.batch_size = check_count("batch_size", batch_size, 1)
        if self.rank == 0:
            if sampler is None:
                raise ParameterError("rank 0 needs the curriculum sampler", field="sampler")
            if sampler.batch_size != self.batch_size:
                raise ParameterError(
                    f"differs from the sampler's batch_size {sampler.batch_size}",
                    field="batch_size",
                    value=batch_size,
                )
        self.sampler = sampler if self.rank == 0 else None
        #: The most examples one rank's shard can hold.
        self.shard_size = math.ceil(self.batch_size / self.world_size)
        steps = torch.tensor([len(self.sampler) if self.sampler is not None else 0])
        dist.broadcast(steps, src=0, group=self.group)
        self.steps_per_epoch = int(steps.item())
        self._pending: deque[np.ndarray] = deque(maxlen=64)  # shards awaiting feedback
        #: The global batch of the latest :meth:`next_batch`.
        self.global_batch_: np.ndarray | None = None

    # ------------------------------------------------------------------ batches
    def next_global_batch(self) -> np.ndarray:
        """The next global batch (collective): drawn on rank 0, the same on every rank."""
        message = torch.full((self.batch_size + 1,), -1, dtype=torch.int64)
        if self.sampler is not None:
            batch = self.sampler.next_batch()
            message[0] = batch.size
            message[1 : 1 + batch.size] = torch.from_numpy(batch)
        dist.broadcast(message, src=0, group=self.group)
        size = int(message[0])
        return message[1 : 1 + size].numpy().copy()

    def shard(self, batch: np.ndarray) -> np.ndarray:
        """This rank's contiguous part of a global batch."""
        return np.array_split(batch, self.world_size)[self.rank]

    def next_batch(self) -> np.ndarray:
        """This rank's shard of the next global batch (collective); remembered until
        fed back."""
        self.global_batch_ = self.next_global_batch()
        local = self.shard(self.global_batch_)
        self._pending.append(local)
        return local

    def __len__(self) -> int:
        return self.steps_per_epoch

    def __iter__(self) -> Iterator[list[int]]:
        self._pending.clear()  # shards fetched ahead in a pass that ended early
        if self.sampler is not None:
            self.sampler.drop_unfed()
        for _ in range(self.steps_per_epoch):
            yield self.next_batch().tolist()

    def pending(self) -> np.ndarray | None:
        """This rank's oldest shard not yet fed back."""
        return self._pending[0] if self._pending else None

    def discard(self, indices: Any) -> None:
        """Forget this rank's pending shard holding ``indices`` (a step that failed;
        on rank 0, also its global batch in the sampler). Not collective."""
        idx = as_numpy("indices", indices)
        for position, shard in enumerate(self._pending):
            if idx.size and np.isin(idx, shard).all():
                del self._pending[position]
                break
        if self.sampler is not None:
            self.sampler.discard(idx)

    # ------------------------------------------------------------------ feedback
    def feedback(self, indices: Any, losses: Any = None, correct: Any = None) -> EventLog | None:
        """Gather every rank's per-example results to rank 0 and feed them to the
        sampler (collective).

        Parameters
        ----------
        indices, losses, correct
            This rank's part of the batch, as for
            :meth:`CurriculumSampler.feedback`; every rank gives losses, or none
            does (likewise correct).

        Returns
        -------
        EventLog or None
            On rank 0 the events the teacher observed (ranks in order), elsewhere None.
        """
        idx = as_numpy("indices", indices)
        m = idx.size
        if m > self.shard_size:
            raise DataError(
                f"holds {m} examples; a shard holds at most {self.shard_size}",
                field="indices",
                value=m,
            )
        message = torch.full((3, self.shard_size + 1), math.nan, dtype=torch.float64)
        message[0, 0] = m
        message[0, 1 : 1 + m] = torch.from_numpy(idx.astype(np.float64))
        for row, (name, column) in enumerate((("losses", losses), ("correct", correct)), start=1):
            if column is not None:
                values = as_numpy(name, column).astype(np.float64)
                if values.size != m:
                    raise DataError(
                        f"has {values.size} values for {m} indices", field=name, value=values.size
                    )
                message[row, 0] = 1.0
                message[row, 1 : 1 + m] = torch.from_numpy(values)
        parts = [torch.empty_like(message) for _ in range(self.world_size)]
        dist.all_gather(parts, message, group=self.group)
        self._retire(idx)
        if self.sampler is None:
            return None
        sizes = [int(p[0, 0]) for p in parts]

        def joined(row: int) -> np.ndarray:
            return torch.cat([p[row, 1 : 1 + s] for p, s in zip(parts, sizes, strict=True)]).numpy()

        columns: list[np.ndarray | None] = []
        for row, name in ((1, "losses"), (2, "correct")):
            flags = {p[row, 0].item() == 1.0 for p in parts}
            if len(flags) > 1:
                raise MentorError(f"ranks disagree on giving {name} in curriculum feedback")
            columns.append(joined(row) if flags == {True} else None)
        gathered = joined(0).astype(np.int64)
        return self.sampler.feedback(gathered, losses=columns[0], correct=columns[1])

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """What a checkpoint keeps (not collective): on rank 0 the sampler's state (its
        teacher and scorer included), elsewhere nothing of its own. Lightning calls it on
        every rank and writes rank 0's."""
        return {
            "kind": STATE_KIND,
            "sampler": None if self.sampler is None else self.sampler.state_dict(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict` output (not collective): every rank drops the shards
        it was waiting to feed back, and rank 0's sampler takes the saved state, so that the
        batches drawn but not fed back when it was saved are drawn again first (as
        :meth:`CurriculumSampler.load_state_dict` does)."""
        if not isinstance(state, Mapping) or state.get("kind") != STATE_KIND:
            kind = state.get("kind") if isinstance(state, Mapping) else type(state).__name__
            raise StateError(f"not a saved distributed curriculum (kind {kind!r})")
        if self.sampler is not None:
            saved = state.get("sampler")
            if not isinstance(saved, Mapping):
                raise StateError(
                    "the saved distributed curriculum holds no sampler state "
                    "(was it saved on a rank other than 0?)"
                )
            self.sampler.load_state_dict(saved)
        self._pending.clear()
        self.global_batch_ = None

    def _retire(self, idx: np.ndarray) -> None:
        for position, shard in enumerate(self._pending):
            if np.isin(idx, shard).all():
                for _ in range(position + 1):
                    self._pending.popleft()
                return
