"""LwF: learning without forgetting, by distillation from the previous model."""

from __future__ import annotations

import copy
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from mentor._checks import check_number
from mentor.torch.continual.strategies.base import Strategy


def distillation(
    logits: torch.Tensor, old_logits: torch.Tensor, temperature: float
) -> torch.Tensor:
    """Li and Hoiem's knowledge-distillation loss: the cross-entropy between the
    old and new softmax at temperature ``T``,
    ``-mean_n sum_c softmax(old / T)_c * log_softmax(new / T)_c``."""
    target = F.softmax(old_logits / temperature, dim=1)
    return -(target * F.log_softmax(logits / temperature, dim=1)).sum(1).mean()


class LwF(Strategy):
    """Learning without Forgetting (Li and Hoiem, TPAMI 2017), single-head.

    At the start of task ``t > 0`` the network is copied and frozen. The loss of
    a step is cross-entropy on the classes seen so far plus ``alpha`` times
    :func:`distillation` between the frozen and the current network on the
    classes of earlier tasks, on the current batch. The paper's warm-up phase
    (training the new head alone first) is left out.

    Parameters
    ----------
    net
        The network.
    alpha
        Weight of the distillation term (the paper's lambda_o). Default 1.
    temperature
        Softmax temperature of the distillation. Default 2 (paper).
    lr
        SGD learning rate. Default 0.01 (DER paper, Seq-CIFAR-10, where
        alpha = 3 and weight decay 5e-4 were used).
    **kwargs
        See :class:`Strategy`.
    """

    name = "lwf"

    def __init__(
        self,
        net: nn.Module,
        alpha: float = 1.0,
        temperature: float = 2.0,
        lr: float = 0.01,
        **kwargs: Any,
    ) -> None:
        super().__init__(net, lr=lr, **kwargs)
        self.alpha = check_number("alpha", alpha, 0.0)
        self.temperature = check_number("temperature", temperature, 0.0, strict=True)
        self.old_net_: nn.Module | None = None
        self._old_classes: torch.Tensor | None = None
        self._seen: torch.Tensor | None = None

    def begin_task(self, task: int, x: torch.Tensor, y: torch.Tensor) -> None:
        if self.classes_seen:
            self.old_net_ = copy.deepcopy(self.net).eval().requires_grad_(False)
            self._old_classes = torch.tensor(self.classes_seen, device=self.device)
        super().begin_task(task, x, y)
        self._seen = self.seen_mask()

    def observe(self, x: torch.Tensor, y: torch.Tensor, task: int | torch.Tensor) -> torch.Tensor:
        t = self.task_ids(task, len(y))
        x = self.augment(x)
        logits = self.forward(x)
        unseen = ~self._seen if self._seen is not None else None
        current = logits if unseen is None else logits.masked_fill(unseen, float("-inf"))
        loss = self.cross_entropy(current, y, t)
        if self.old_net_ is not None and self.alpha > 0:
            with torch.no_grad():
                old = self.forward(x, self.old_net_)
            loss = loss + self.alpha * distillation(
                logits[:, self._old_classes], old[:, self._old_classes], self.temperature
            )
        self.step(loss)
        return loss.detach()
