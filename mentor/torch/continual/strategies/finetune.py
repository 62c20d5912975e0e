"""Fine-tuning: plain SGD on each task in turn, the lower bound of every benchmark."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from mentor.torch.continual.strategies.base import Strategy


class FineTune(Strategy):
    """Train on the current batch only, with nothing to prevent forgetting
    ("SGD" in the DER paper, Buzzega et al. 2020).

    Parameters
    ----------
    net
        The network.
    lr
        SGD learning rate. Default 0.1 (the DER paper's value on Seq-CIFAR-10).
    **kwargs
        ``momentum``, ``weight_decay``, ``device``, ``amp``, ``seed``: see :class:`Strategy`.
    """

    name = "finetune"

    def __init__(self, net: nn.Module, lr: float = 0.1, **kwargs: Any) -> None:
        super().__init__(net, lr=lr, **kwargs)

    def observe(self, x: torch.Tensor, y: torch.Tensor, task: int | torch.Tensor) -> torch.Tensor:
        loss = self.cross_entropy(self.forward(self.augment(x)), y, self.task_ids(task, len(y)))
        self.step(loss)
        return loss.detach()
