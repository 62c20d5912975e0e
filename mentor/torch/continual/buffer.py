"""Replay memories preallocated on the device.

:class:`ReplayBuffer` keeps up to ``capacity`` examples (input, label, logits,
task id) in tensors allocated once, on the training device, at the first
:meth:`~ReplayBuffer.add`. Insertion follows reservoir sampling (Vitter,
"Random Sampling with a Reservoir", ACM TOMS 11(1), 1985, Algorithm R): the
``n``-th stream example (0-based) goes to slot ``n`` while the buffer fills,
afterwards to slot ``j ~ U{0..n}`` if ``j < capacity`` and is dropped otherwise,
so that after ``N`` examples each one is in the buffer with probability
``capacity / N``. A batch is inserted at once, with the random draws, the
slot choice and the writes all on the device (no host synchronisation);
where two examples of a batch draw the same slot the later one wins, exactly
as if they had been inserted one at a time.

:class:`ClassBalancedBuffer` is GDumb's greedy class-balancing sampler
(Prabhu, Torr and Dokania, "GDumb: A Simple Approach that Questions Our
Progress in Continual Learning", ECCV 2020).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from mentor._checks import check_count
from mentor.errors import ParameterError


class Batch(NamedTuple):
    """Examples drawn from a buffer (``logits`` is ``None`` when the buffer keeps none)."""

    x: torch.Tensor
    y: torch.Tensor
    logits: torch.Tensor | None
    task: torch.Tensor


class ReplayBuffer:
    """A reservoir-sampled replay memory on one device.

    Parameters
    ----------
    capacity
        Number of examples kept.
    device
        Device of the stored tensors and of the random draws.
    seed
        Seed of the buffer's own ``torch.Generator`` (insertion and sampling).

    Attributes
    ----------
    seen
        Number of stream examples offered so far.
    size
        Number of examples held, ``min(seen, capacity)``.
    """

    def __init__(self, capacity: int, device: torch.device | str = "cpu", seed: int = 0) -> None:
        self.capacity = check_count("capacity", capacity, 1)
        self.device = torch.device(device)
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(seed)
        self.seen = 0
        self.size = 0
        # One spare row at index ``capacity``: discarded examples are written there,
        # so that every write is a fixed-shape index_copy_ with no host sync.
        self._x: torch.Tensor | None = None
        self._y: torch.Tensor | None = None
        self._logits: torch.Tensor | None = None
        self._task: torch.Tensor | None = None

    def __len__(self) -> int:
        return self.size

    # --------------------------------------------------------------- storage
    def _allocate(self, x: torch.Tensor, logits: torch.Tensor | None) -> None:
        rows = self.capacity + 1
        self._x = torch.zeros((rows, *x.shape[1:]), dtype=x.dtype, device=self.device)
        self._y = torch.zeros(rows, dtype=torch.int64, device=self.device)
        self._task = torch.zeros(rows, dtype=torch.int64, device=self.device)
        if logits is not None:
            self._logits = torch.zeros(
                (rows, *logits.shape[1:]), dtype=logits.dtype, device=self.device
            )

    @property
    def x(self) -> torch.Tensor:
        """Stored inputs, ``[size, ...]``."""
        return self._stored(self._x)

    @property
    def y(self) -> torch.Tensor:
        return self._stored(self._y)

    @property
    def logits(self) -> torch.Tensor | None:
        return None if self._logits is None else self._logits[: self.size]

    @property
    def task(self) -> torch.Tensor:
        return self._stored(self._task)

    def _stored(self, tensor: torch.Tensor | None) -> torch.Tensor:
        if tensor is None:
            raise ParameterError("the buffer is empty: nothing has been added yet")
        return tensor[: self.size]

    def _tensors(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The allocated inputs, labels and task ids (``capacity + 1`` rows each)."""
        if self._x is None or self._y is None or self._task is None:
            raise ParameterError("the buffer is empty: nothing has been added yet")
        return self._x, self._y, self._task

    def _write(
        self,
        rows: torch.Tensor,
        x: torch.Tensor,
        y: torch.Tensor,
        logits: torch.Tensor | None,
        task: torch.Tensor,
    ) -> None:
        stored_x, stored_y, stored_task = self._tensors()
        stored_x.index_copy_(0, rows, x.detach().to(stored_x.dtype))
        stored_y.index_copy_(0, rows, y)
        stored_task.index_copy_(0, rows, task)
        if self._logits is not None:
            if logits is None:
                raise ParameterError("this buffer keeps logits: pass them to add()")
            self._logits.index_copy_(0, rows, logits.detach().to(self._logits.dtype))

    @staticmethod
    def _tasks(task: int | torch.Tensor | None, n: int, device: torch.device) -> torch.Tensor:
        if isinstance(task, torch.Tensor):
            return task.to(device=device, dtype=torch.int64).expand(n)
        return torch.full((n,), 0 if task is None else int(task), dtype=torch.int64, device=device)

    # --------------------------------------------------------------- insertion
    def _draws(self, positions: torch.Tensor) -> torch.Tensor:
        """Uniform integers in ``0..positions[k]`` for each k (Algorithm R's draw)."""
        high = torch.randint(
            0, 2**62, positions.shape, generator=self.generator, device=self.device
        )
        return high % (positions + 1)

    def add(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        logits: torch.Tensor | None = None,
        task: int | torch.Tensor | None = None,
    ) -> None:
        """Offer a batch of stream examples; each is kept by reservoir sampling.

        Parameters
        ----------
        x, y
            Inputs and int64 labels (on the buffer's device).
        logits
            The model's outputs on ``x`` (DER/DER++); a buffer that got logits
            at its first ``add`` needs them every time.
        task
            Task id of the examples: one int or one per example. Default 0.
        """
        n = len(y)
        if n == 0:
            return
        if self._x is None:
            self._allocate(x, logits)
        task_ids = self._tasks(task, n, self.device)
        positions = torch.arange(self.seen, self.seen + n, device=self.device)
        if self.seen + n <= self.capacity:
            rows = positions
        else:
            slots = torch.where(positions < self.capacity, positions, self._draws(positions))
            slots = torch.where(slots < self.capacity, slots, self.capacity)
            # later examples win a contested slot, as in one-at-a-time insertion
            winner = torch.full((self.capacity + 1,), -1, dtype=torch.int64, device=self.device)
            winner.scatter_reduce_(0, slots, positions, reduce="amax")
            keep = (winner[slots] == positions) & (slots < self.capacity)
            rows = torch.where(keep, slots, self.capacity)
        self._write(rows, x, y, logits, task_ids)
        self.seen += n
        self.size = min(self.seen, self.capacity)

    def load(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        logits: torch.Tensor | None = None,
        task: int | torch.Tensor | None = None,
    ) -> None:
        """Replace the contents with the given examples (at most ``capacity``);
        used by strategies that choose their exemplars themselves (iCaRL)."""
        n = len(y)
        if n > self.capacity:
            raise ParameterError(
                f"cannot load {n} examples into a buffer of capacity {self.capacity}",
                field="capacity",
                value=self.capacity,
            )
        if self._x is None:
            self._allocate(x, logits)
        if n:
            rows = torch.arange(n, device=self.device)
            self._write(rows, x, y, logits, self._tasks(task, n, self.device))
        self.size = n
        self.seen = max(self.seen, n)

    # --------------------------------------------------------------- sampling
    def sample(self, n: int, task: int | None = None) -> Batch:
        """Draw ``min(n, size)`` stored examples without replacement, on the device.

        With ``task``, draw ``n`` examples of that task with replacement (any
        stored example if the buffer holds none of that task).
        """
        if self.size == 0:
            raise ParameterError("cannot sample from an empty buffer")
        stored_x, stored_y, stored_task = self._tensors()
        if task is None:
            index = torch.randperm(self.size, generator=self.generator, device=self.device)
            index = index[: min(n, self.size)]
        else:
            match = (stored_task[: self.size] == task).float()
            weights = match + (1.0 - match) * 1e-12
            index = torch.multinomial(weights, n, replacement=True, generator=self.generator)
        logits = None if self._logits is None else self._logits[index]
        return Batch(stored_x[index], stored_y[index], logits, stored_task[index])


class ClassBalancedBuffer(ReplayBuffer):
    """GDumb's greedy class-balancing memory (Prabhu et al. 2020, Algorithm 1).

    An example of class ``c`` is stored while the memory has room; once full,
    it is stored only if ``c`` holds fewer than ``capacity / |classes seen|``
    examples, replacing a random example of the class that holds the most.
    The decision is taken on the host, one example at a time, from the labels
    (one copy of ``y`` to the host per batch); the inputs stay on the device.

    Parameters
    ----------
    capacity, device, seed
        As :class:`ReplayBuffer`; ``seed`` also seeds the choice of the
        example that is replaced.
    """

    def __init__(self, capacity: int, device: torch.device | str = "cpu", seed: int = 0) -> None:
        super().__init__(capacity, device, seed)
        self._rng = np.random.default_rng(seed)
        self._labels = np.full(capacity, -1, dtype=np.int64)
        self._counts: dict[int, int] = {}

    def add(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        logits: torch.Tensor | None = None,
        task: int | torch.Tensor | None = None,
    ) -> None:
        n = len(y)
        if n == 0:
            return
        if self._x is None:
            self._allocate(x, logits)
        slot_of: dict[int, int] = {}  # slot -> example of this batch that fills it
        for i, label in enumerate(y.tolist()):
            self._counts.setdefault(label, 0)
            if self.size < self.capacity:
                slot = self.size
                self.size += 1
            elif self._counts[label] < self.capacity / len(self._counts):
                largest = max(self._counts, key=lambda c: (self._counts[c], -c))
                slot = int(self._rng.choice(np.flatnonzero(self._labels == largest)))
                self._counts[largest] -= 1
            else:
                continue
            self._labels[slot] = label
            self._counts[label] += 1
            slot_of[slot] = i
        self.seen += n
        if slot_of:
            rows = torch.tensor(list(slot_of), dtype=torch.int64, device=self.device)
            picks = torch.tensor(list(slot_of.values()), dtype=torch.int64, device=self.device)
            task_ids = self._tasks(task, n, self.device)[picks]
            self._write(
                rows, x[picks], y[picks], None if logits is None else logits[picks], task_ids
            )

    def class_counts(self) -> dict[int, int]:
        """Number of stored examples per class."""
        return {c: k for c, k in sorted(self._counts.items()) if k}
