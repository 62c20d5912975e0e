"""Experience replay with a reservoir buffer."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from mentor._checks import check_count
from mentor.torch.continual.buffer import ReplayBuffer
from mentor.torch.continual.strategies.base import Strategy


class ER(Strategy):
    """Experience replay (Chaudhry et al., "On Tiny Episodic Memories in Continual
    Learning", 2019; Riemer et al. 2019): each stream batch is concatenated with
    a batch drawn from a reservoir buffer, one cross-entropy step is taken on
    the union, then the stream batch is offered to the buffer.

    Parameters
    ----------
    net
        The network.
    buffer_size
        Capacity of the reservoir. Default 200.
    minibatch_size
        Examples replayed per step. Default 32 (DER paper, Seq-CIFAR-10).
    lr
        SGD learning rate. Default 0.1 (DER paper, Seq-CIFAR-10).
    **kwargs
        See :class:`Strategy`.
    """

    name = "er"

    def __init__(
        self,
        net: nn.Module,
        buffer_size: int = 200,
        minibatch_size: int = 32,
        lr: float = 0.1,
        **kwargs: Any,
    ) -> None:
        super().__init__(net, lr=lr, **kwargs)
        self.minibatch_size = check_count("minibatch_size", minibatch_size, 1)
        self.buffer = ReplayBuffer(buffer_size, self.device, seed=self.seed)

    def observe(self, x: torch.Tensor, y: torch.Tensor, task: int | torch.Tensor) -> torch.Tensor:
        t = self.task_ids(task, len(y))
        inputs, labels, tasks = x, y, t
        if len(self.buffer):
            replay = self.buffer.sample(self.minibatch_size)
            inputs = torch.cat([x, replay.x])
            labels = torch.cat([y, replay.y])
            tasks = torch.cat([t, replay.task])
        loss = self.cross_entropy(self.forward(self.augment(inputs)), labels, tasks)
        self.step(loss)
        self.buffer.add(x, y, task=t)
        return loss.detach()
