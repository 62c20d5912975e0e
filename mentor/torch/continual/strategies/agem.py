"""A-GEM: averaged gradient episodic memory."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from mentor._checks import check_count
from mentor.torch.continual.buffer import ReplayBuffer
from mentor.torch.continual.strategies.base import Strategy


def agem_project(g: torch.Tensor, g_ref: torch.Tensor) -> torch.Tensor:
    """A-GEM's projection (Chaudhry et al. 2019, eq. 11):

    ``g - (g . g_ref / g_ref . g_ref) * g_ref`` if ``g . g_ref < 0``, else ``g``.

    Computed without a branch on the host (no device synchronisation).
    """
    dot = torch.dot(g, g_ref)
    ref = torch.dot(g_ref, g_ref).clamp_min(torch.finfo(g.dtype).tiny)
    return g - torch.where(dot < 0, dot / ref, torch.zeros_like(dot)) * g_ref


class AGEM(Strategy):
    """A-GEM (Chaudhry, Ranzato, Rohrbach and Elhoseiny, "Efficient Lifelong
    Learning with A-GEM", ICLR 2019).

    The gradient ``g`` of the stream batch is projected so that it does not
    increase the loss on a batch drawn from the memory (gradient ``g_ref``):
    see :func:`agem_project`. The memory here is a reservoir buffer over the
    stream (the "A-GEM-R" variant of the DER paper); the paper fills a memory
    per task at task end.

    Parameters
    ----------
    net
        The network.
    buffer_size
        Memory capacity. Default 200.
    minibatch_size
        Size of the reference batch. Default 32.
    lr
        SGD learning rate. Default 0.03 (DER paper, Seq-CIFAR-10).
    **kwargs
        See :class:`Strategy`.
    """

    name = "agem"

    def __init__(
        self,
        net: nn.Module,
        buffer_size: int = 200,
        minibatch_size: int = 32,
        lr: float = 0.03,
        **kwargs: Any,
    ) -> None:
        super().__init__(net, lr=lr, **kwargs)
        self.minibatch_size = check_count("minibatch_size", minibatch_size, 1)
        self.buffer = ReplayBuffer(buffer_size, self.device, seed=self.seed)
        self._params = [p for p in self.net.parameters() if p.requires_grad]

    def _flat_grad(self) -> torch.Tensor:
        return torch.cat(
            [
                (p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1)
                for p in self._params
            ]
        )

    def observe(self, x: torch.Tensor, y: torch.Tensor, task: int | torch.Tensor) -> torch.Tensor:
        t = self.task_ids(task, len(y))
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.cross_entropy(self.forward(self.augment(x)), y, t)
        loss.backward()
        if len(self.buffer):
            g = self._flat_grad()
            self.optimizer.zero_grad(set_to_none=True)
            ref = self.buffer.sample(self.minibatch_size)
            self.cross_entropy(self.forward(self.augment(ref.x)), ref.y, ref.task).backward()
            g = agem_project(g, self._flat_grad())
            offset = 0
            for p in self._params:
                n = p.numel()
                p.grad = g[offset : offset + n].view_as(p).clone()
                offset += n
        self.optimizer.step()
        self.buffer.add(x, y, task=t)
        return loss.detach()
