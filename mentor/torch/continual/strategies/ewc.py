"""Online EWC: elastic weight consolidation with a running Fisher."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, vmap

from mentor._checks import check_count, check_number
from mentor.torch.continual.strategies.base import Strategy


def diagonal_fisher(
    net: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    mask: torch.Tensor | None = None,
    batch_size: int = 64,
) -> dict[str, torch.Tensor]:
    """Empirical diagonal Fisher information of ``net`` on ``(x, y)``:
    ``F_i = mean_n (d log p(y_n | x_n) / d theta_i) ** 2``.

    Per-example gradients are computed with ``torch.func.vmap``, ``batch_size``
    examples at a time, with the network in eval mode (batch-norm uses its
    running statistics). ``mask`` (``[N, C]`` booleans, optional) restricts the
    softmax of each example to its task's classes.
    """
    params = {k: v.detach() for k, v in net.named_parameters() if v.requires_grad}
    buffers = dict(net.named_buffers())

    def nll(
        p: dict[str, torch.Tensor], xi: torch.Tensor, yi: torch.Tensor, mi: torch.Tensor
    ) -> torch.Tensor:
        logits = functional_call(net, (p, buffers), (xi.unsqueeze(0),)).float()
        logits = logits.masked_fill(~mi.unsqueeze(0), float("-inf"))
        return F.cross_entropy(logits, yi.unsqueeze(0))

    per_example = vmap(grad(nll), in_dims=(None, 0, 0, 0))
    fisher = {k: torch.zeros_like(v) for k, v in params.items()}
    was_training = net.training
    net.eval()
    try:
        if mask is None:
            with torch.no_grad():
                outputs = net(x[:1]).shape[1]
            mask = torch.ones(len(y), outputs, dtype=torch.bool, device=y.device)
        for start in range(0, len(y), batch_size):
            end = start + batch_size
            grads = per_example(params, x[start:end], y[start:end], mask[start:end])
            for k in fisher:
                fisher[k] += grads[k].pow(2).sum(0)
    finally:
        net.train(was_training)
    return {k: v / len(y) for k, v in fisher.items()}


class OnlineEWC(Strategy):
    """Online EWC (Schwarz et al., "Progress & Compress: A scalable framework for
    continual learning", ICML 2018), after EWC (Kirkpatrick et al., PNAS 2017).

    After each task the diagonal Fisher ``F_t`` (:func:`diagonal_fisher`, the
    empirical Fisher on the task's training data) is folded into a running one,
    ``F* <- gamma * F* + F_t``, and the weights are saved as ``theta*``. The loss
    of a step is

    ``CE(f(x), y) + (lambda / 2) * sum_i F*_i (theta_i - theta*_i) ** 2``.

    Parameters
    ----------
    net
        The network.
    ewc_lambda
        Strength of the penalty. Default 10 (the DER paper's value on
        Seq-CIFAR-10, where Mammoth's penalty has no 1/2: the same strength
        there is 20 here).
    gamma
        Decay of the running Fisher, in [0, 1]. Default 1.0 (DER paper).
    fisher_batch_size
        Examples per vectorised per-example-gradient batch. Default 64.
    lr
        SGD learning rate. Default 0.03 (DER paper, Seq-CIFAR-10).
    **kwargs
        See :class:`Strategy`.
    """

    name = "oewc"

    def __init__(
        self,
        net: nn.Module,
        ewc_lambda: float = 10.0,
        gamma: float = 1.0,
        fisher_batch_size: int = 64,
        lr: float = 0.03,
        **kwargs: Any,
    ) -> None:
        super().__init__(net, lr=lr, **kwargs)
        self.ewc_lambda = check_number("ewc_lambda", ewc_lambda, 0.0)
        self.gamma = check_number("gamma", gamma, 0.0)
        self.fisher_batch_size = check_count("fisher_batch_size", fisher_batch_size, 1)
        #: Running diagonal Fisher and anchor weights, by parameter name (after task 0).
        self.fisher_: dict[str, torch.Tensor] | None = None
        self.anchor_: dict[str, torch.Tensor] | None = None

    def penalty(self) -> torch.Tensor:
        """``(lambda / 2) * sum_i F*_i (theta_i - theta*_i) ** 2``; 0 before task 0 ends."""
        if self.fisher_ is None or self.anchor_ is None:
            return torch.zeros((), device=self.device)
        total = torch.zeros((), device=self.device)
        for name, p in self.net.named_parameters():
            if name in self.fisher_:
                total = total + (self.fisher_[name] * (p - self.anchor_[name]).pow(2)).sum()
        return 0.5 * self.ewc_lambda * total

    def observe(self, x: torch.Tensor, y: torch.Tensor, task: int | torch.Tensor) -> torch.Tensor:
        loss = self.cross_entropy(self.forward(self.augment(x)), y, self.task_ids(task, len(y)))
        loss = loss + self.penalty()
        self.step(loss)
        return loss.detach()

    def end_task(self, task: int, x: torch.Tensor, y: torch.Tensor) -> None:
        mask = None
        if self.class_mask is not None:
            mask = self.class_mask[self.task_ids(task, len(y))]
        fisher = diagonal_fisher(self.net, x, y, mask, self.fisher_batch_size)
        if self.fisher_ is None:
            self.fisher_ = fisher
        else:
            self.fisher_ = {k: self.gamma * self.fisher_[k] + fisher[k] for k in fisher}
        self.anchor_ = {k: p.detach().clone() for k, p in self.net.named_parameters()}
