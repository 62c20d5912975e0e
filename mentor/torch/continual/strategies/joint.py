"""Joint training: the upper bound that sees all data so far at once."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from mentor.torch.continual.strategies.base import Strategy


class Joint(Strategy):
    """At task ``t``, train on the union of the training sets of tasks ``0..t``
    (i.i.d. batches over everything seen so far), so that every row of the
    accuracy matrix is that of a jointly trained model. The DER paper reports
    only the final row ("JOINT").

    Parameters
    ----------
    net
        The network.
    lr
        SGD learning rate. Default 0.03.
    **kwargs
        See :class:`Strategy`.

    The trainer makes ``epochs`` passes over the union at every task, so the
    total cost grows as ``T (T + 1) / 2`` task-epochs.
    """

    name = "joint"

    def __init__(self, net: nn.Module, lr: float = 0.03, **kwargs: Any) -> None:
        super().__init__(net, lr=lr, **kwargs)
        self._x: list[torch.Tensor] = []
        self._y: list[torch.Tensor] = []
        self._t: list[torch.Tensor] = []

    def train_set(
        self, task: int, x: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        self._x.append(x)
        self._y.append(y)
        self._t.append(self.task_ids(task, len(y)))
        return torch.cat(self._x), torch.cat(self._y), torch.cat(self._t)

    def observe(self, x: torch.Tensor, y: torch.Tensor, task: int | torch.Tensor) -> torch.Tensor:
        loss = self.cross_entropy(self.forward(self.augment(x)), y, self.task_ids(task, len(y)))
        self.step(loss)
        return loss.detach()
