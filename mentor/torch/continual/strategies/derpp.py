"""DER++: dark experience replay with labels."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from mentor._checks import check_count, check_number
from mentor.errors import MentorError
from mentor.torch.continual.buffer import ReplayBuffer
from mentor.torch.continual.strategies.base import Strategy


class DERpp(Strategy):
    """DER++ (Buzzega, Boschini, Porrello, Abati and Calderara, "Dark Experience
    for General Continual Learning: a Strong, Simple Baseline", NeurIPS 2020).

    The loss of one step is

    ``CE(f(x), y) + alpha * MSE(f(x'), z') + beta * CE(f(x''), y'')``

    where ``(x, y)`` is the stream batch, ``(x', z')`` and ``(x'', y'')`` are two
    independent draws from a reservoir buffer that keeps each example's logits
    ``z`` as they were when it was inserted, and MSE is the mean over batch and
    logits (``F.mse_loss``). The stream batch is then inserted with its logits.

    Parameters
    ----------
    net
        The network.
    buffer_size
        Capacity of the reservoir. Default 200.
    alpha, beta
        Weights of the logit-matching and replayed-label terms. Defaults 0.1 and
        0.5 (the DER paper's choice for Seq-CIFAR-10 with 200 examples; it uses
        0.2 / 0.5 with 500).
    minibatch_size
        Size of each buffer draw. Default 32.
    lr
        SGD learning rate. Default 0.03 (DER paper, Seq-CIFAR-10).
    **kwargs
        See :class:`Strategy`.
    """

    name = "derpp"

    def __init__(
        self,
        net: nn.Module,
        buffer_size: int = 200,
        alpha: float = 0.1,
        beta: float = 0.5,
        minibatch_size: int = 32,
        lr: float = 0.03,
        **kwargs: Any,
    ) -> None:
        super().__init__(net, lr=lr, **kwargs)
        self.alpha = check_number("alpha", alpha, 0.0)
        self.beta = check_number("beta", beta, 0.0)
        self.minibatch_size = check_count("minibatch_size", minibatch_size, 1)
        self.buffer = ReplayBuffer(buffer_size, self.device, seed=self.seed)

    def observe(self, x: torch.Tensor, y: torch.Tensor, task: int | torch.Tensor) -> torch.Tensor:
        t = self.task_ids(task, len(y))
        logits = self.forward(self.augment(x))
        loss = self.cross_entropy(logits, y, t)
        if len(self.buffer):
            first = self.buffer.sample(self.minibatch_size)
            if first.logits is None:  # every add() below stores logits
                raise MentorError("DER++'s replay buffer holds no logits")
            loss = loss + self.alpha * F.mse_loss(self.forward(self.augment(first.x)), first.logits)
            second = self.buffer.sample(self.minibatch_size)
            loss = loss + self.beta * self.cross_entropy(
                self.forward(self.augment(second.x)), second.y, second.task
            )
        self.step(loss)
        self.buffer.add(x, y, logits=logits.detach(), task=t)
        return loss.detach()
