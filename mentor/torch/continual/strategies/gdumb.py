"""GDumb: greedy class-balanced memory, retrained from scratch."""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from mentor._checks import check_count, check_number
from mentor.torch.continual.buffer import ClassBalancedBuffer
from mentor.torch.continual.strategies.base import Strategy


class GDumb(Strategy):
    """GDumb (Prabhu, Torr and Dokania, ECCV 2020).

    The stream only fills a :class:`ClassBalancedBuffer`; nothing is learned
    from it directly (:meth:`observe` returns a zero loss). At the end of each
    task the network is reset to its initial weights and trained on the memory
    alone: SGD with momentum, cosine annealing with warm restarts (SGDR,
    ``T_0 = 1`` epoch, ``T_mult = 2``) from ``lr`` down to ``min_lr``, gradient
    norm clipped. The paper's CutMix augmentation is left out.

    Parameters
    ----------
    net
        The network (its weights at construction are the starting point of
        every retraining).
    buffer_size
        Memory capacity. Default 200.
    epochs
        Epochs over the memory at each retraining. Default 256 (paper).
    batch_size
        Default 16 (paper).
    lr, min_lr
        SGDR's maximum and minimum learning rate. Defaults 0.05 and 0.0005 (paper).
    momentum, weight_decay
        Defaults 0.9 and 1e-6 (paper).
    clip
        Maximum gradient norm. Default 10 (paper).
    **kwargs
        ``device``, ``amp``, ``seed``: see :class:`Strategy`.
    """

    name = "gdumb"

    def __init__(
        self,
        net: nn.Module,
        buffer_size: int = 200,
        epochs: int = 256,
        batch_size: int = 16,
        lr: float = 0.05,
        min_lr: float = 0.0005,
        momentum: float = 0.9,
        weight_decay: float = 1e-6,
        clip: float = 10.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(net, lr=lr, momentum=momentum, weight_decay=weight_decay, **kwargs)
        self.epochs = check_count("epochs", epochs, 1)
        self.batch_size = check_count("batch_size", batch_size, 1)
        self.min_lr = check_number("min_lr", min_lr, 0.0)
        self.clip = check_number("clip", clip, 0.0, strict=True)
        self.buffer = ClassBalancedBuffer(buffer_size, self.device, seed=self.seed)
        self._initial = copy.deepcopy(self.net.state_dict())

    def observe(self, x: torch.Tensor, y: torch.Tensor, task: int | torch.Tensor) -> torch.Tensor:
        self.buffer.add(x, y, task=self.task_ids(task, len(y)))
        return torch.zeros((), device=self.device)

    def end_task(self, task: int, x: torch.Tensor, y: torch.Tensor) -> None:
        self.net.load_state_dict(self._initial)
        self.net.train()
        self.optimizer = self.make_optimizer()
        schedule = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
            self.optimizer, T_0=1, T_mult=2, eta_min=self.min_lr
        )
        memory_x, memory_y, memory_t = self.buffer.x, self.buffer.y, self.buffer.task
        n = len(memory_y)
        steps = -(-n // self.batch_size)
        for epoch in range(self.epochs):
            order = torch.randperm(n, generator=self.generator, device=self.device)
            for i in range(steps):
                rows = order[i * self.batch_size : (i + 1) * self.batch_size]
                loss = self.cross_entropy(
                    self.forward(self.augment(memory_x[rows])), memory_y[rows], memory_t[rows]
                )
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                nn.utils.clip_grad_norm_(self.net.parameters(), self.clip)
                self.optimizer.step()
                schedule.step(epoch + (i + 1) / steps)
