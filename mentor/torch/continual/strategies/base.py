"""The common base of continual-learning strategies.

A strategy owns a network and its optimiser and learns from a stream one
batch at a time with :meth:`Strategy.observe`, which takes one optimisation
step and returns the loss. Three hooks frame each task: :meth:`begin_task`
(before its first batch), :meth:`train_set` (what the trainer iterates over
for the task: the task's own data by default) and :meth:`end_task` (after its
last batch). :meth:`predict` gives the scores used at test time.

``observe`` returns the loss as a detached 0-dim tensor, not a Python float:
converting it would wait for the device at every step. ``float(loss)`` when
a number is wanted; the trainer sums losses on the device and reads them once
per epoch.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from mentor._checks import check_number
from mentor.devices import check_device, resolve_device
from mentor.errors import ParameterError


class Strategy(abc.ABC):
    """Base class of continual-learning strategies.

    Parameters
    ----------
    net
        The network; it is moved to ``device``.
    lr
        SGD learning rate (> 0).
    momentum, weight_decay
        SGD momentum and L2 weight decay. Default 0 (the DER paper's setting).
    device
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``.
    amp
        Run forward passes under bfloat16 autocast (losses are computed in float32).
    seed
        Seed of the strategy's own random draws (buffer insertion and sampling).
    transform
        Training-time augmentation of input batches (for example
        :class:`~mentor.torch.continual.augment.RandomCropFlip`), applied to the
        stream batch and to replayed batches, never at test time; buffers keep
        the raw inputs. Default none.

    Attributes
    ----------
    class_mask
        ``[num_tasks, num_classes]`` booleans set by the trainer in the task
        setting: cross-entropy then uses only the logits of each example's task.
    task
        Index of the current task (-1 before the first).
    classes_seen
        Sorted labels met so far, in :meth:`begin_task` order.
    """

    name: ClassVar[str]

    def __init__(
        self,
        net: nn.Module,
        *,
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        device: str = "auto",
        amp: bool = False,
        seed: int = 0,
        transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> None:
        self.transform = transform
        self.device = resolve_device(check_device(device))
        self.net = net.to(self.device)
        self.lr = check_number("lr", lr, 0.0, strict=True)
        self.momentum = check_number("momentum", momentum, 0.0)
        self.weight_decay = check_number("weight_decay", weight_decay, 0.0)
        self.amp = bool(amp)
        self.seed = int(seed)
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(self.seed)
        self.optimizer = self.make_optimizer()
        self.class_mask: torch.Tensor | None = None
        self.task = -1
        self.classes_seen: list[int] = []

    # ------------------------------------------------------------ building blocks
    def make_optimizer(self) -> torch.optim.Optimizer:
        """A fresh SGD optimiser over the network's parameters."""
        return torch.optim.SGD(
            self.net.parameters(),
            lr=self.lr,
            momentum=self.momentum,
            weight_decay=self.weight_decay,
        )

    def autocast(self) -> torch.autocast:
        """bfloat16 autocast on the strategy's device when ``amp`` is on."""
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp)

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` through the training-time ``transform`` (unchanged without one)."""
        return x if self.transform is None else self.transform(x)

    def forward(self, x: torch.Tensor, net: nn.Module | None = None) -> torch.Tensor:
        """Logits of ``net`` (default: the strategy's network) as float32."""
        with self.autocast():
            out: torch.Tensor = (net or self.net)(x)
        return out.float()

    def task_ids(self, task: int | torch.Tensor, n: int) -> torch.Tensor:
        """Per-example task ids: ``task`` repeated, or the given tensor."""
        if isinstance(task, torch.Tensor):
            return task.to(device=self.device, dtype=torch.int64).expand(n)
        return torch.full((n,), int(task), dtype=torch.int64, device=self.device)

    def mask_logits(self, logits: torch.Tensor, task: torch.Tensor) -> torch.Tensor:
        """Logits outside each example's task set to ``-inf`` (task setting only)."""
        if self.class_mask is None:
            return logits
        return logits.masked_fill(~self.class_mask[task], float("-inf"))

    def cross_entropy(
        self, logits: torch.Tensor, y: torch.Tensor, task: torch.Tensor
    ) -> torch.Tensor:
        """Mean cross-entropy, restricted to each example's task in the task setting."""
        return F.cross_entropy(self.mask_logits(logits, task), y)

    def step(self, loss: torch.Tensor) -> None:
        """One optimiser step on ``loss``."""
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()

    def seen_mask(self) -> torch.Tensor:
        """Boolean mask over the outputs: the classes seen so far."""
        mask = torch.zeros(self.num_outputs(), dtype=torch.bool, device=self.device)
        mask[self.classes_seen] = True
        return mask

    def num_outputs(self) -> int:
        """Number of outputs of the network (its last nn.Linear)."""
        last = [m for m in self.net.modules() if isinstance(m, nn.Linear)]
        if not last:
            raise ParameterError("the network needs a final nn.Linear layer", field="net")
        return last[-1].out_features

    # ------------------------------------------------------------ the protocol
    def begin_task(self, task: int, x: torch.Tensor, y: torch.Tensor) -> None:
        """Called before the first batch of ``task`` with its training data."""
        self.task = task
        self.classes_seen = sorted(set(self.classes_seen) | set(torch.unique(y).tolist()))

    def train_set(
        self, task: int, x: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The examples the trainer iterates over for ``task``, with their task ids."""
        return x, y, self.task_ids(task, len(y))

    @abc.abstractmethod
    def observe(self, x: torch.Tensor, y: torch.Tensor, task: int | torch.Tensor) -> torch.Tensor:
        """Learn from one batch of the stream; return the loss (detached, 0-dim)."""

    def end_task(self, task: int, x: torch.Tensor, y: torch.Tensor) -> None:  # noqa: B027
        """Called after the last batch of ``task`` (default: nothing)."""

    @torch.no_grad()
    def predict(self, x: torch.Tensor, task: int | torch.Tensor | None = None) -> torch.Tensor:
        """Scores for each class (argmax is the prediction); the network in eval mode."""
        was_training = self.net.training
        self.net.eval()
        try:
            return self.forward(x)
        finally:
            self.net.train(was_training)
