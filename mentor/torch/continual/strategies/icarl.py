"""iCaRL: incremental classifier and representation learning."""

from __future__ import annotations

import copy
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from mentor.errors import ParameterError
from mentor.torch.continual.buffer import ReplayBuffer
from mentor.torch.continual.strategies.base import Strategy


def herding(features: torch.Tensor, m: int) -> torch.Tensor:
    """iCaRL's herding selection (Rebuffi et al. 2017, Algorithm 4; Welling 2009).

    Picks ``m`` distinct rows of ``features`` one at a time: the ``k``-th pick
    ``p_k`` minimises ``|| mu - (phi(x) + sum_{j<k} phi(p_j)) / k ||`` over the rows
    not yet picked, where ``mu`` is the mean of all rows. Returns the row indices
    in pick order (the first ``m'`` of them are the best ``m'``-subset this way).
    """
    n = len(features)
    m = min(m, n)
    mu = features.mean(0)
    total = torch.zeros_like(mu)
    taken = torch.zeros(n, dtype=torch.bool, device=features.device)
    picks = []
    for k in range(1, m + 1):
        distance = (mu - (total + features) / k).norm(dim=1)
        index = distance.masked_fill(taken, float("inf")).argmin()
        picks.append(index)
        taken[index] = True
        total = total + features[index]
    return torch.stack(picks) if picks else torch.zeros(0, dtype=torch.long)


class ICaRL(Strategy):
    """iCaRL (Rebuffi, Kolesnikov, Sperl and Lampert, CVPR 2017).

    Training: each task trains on its data together with the stored exemplars
    (:meth:`train_set`), with a sigmoid binary cross-entropy over the classes
    seen so far whose targets are one-hot labels for the new classes and the
    frozen previous network's sigmoid outputs for the old ones (distillation).
    At task end the exemplar sets are rebuilt: ``m = buffer_size // classes
    seen`` per class, old sets cut to their first ``m``, new ones chosen by
    :func:`herding` on L2-normalised features. Prediction is the nearest mean
    of exemplars: the score of class ``c`` is ``-|| phi(x) - mu_c ||`` with
    normalised features and class means.

    Parameters
    ----------
    net
        The network; it must have a ``features(x)`` method (the representation
        that feeds the final linear layer), as the networks of
        :mod:`mentor.torch.continual.models` do.
    buffer_size
        Total number of exemplars ``K``. Default 200.
    lr
        SGD learning rate. Default 0.1 (DER paper, Seq-CIFAR-10).
    weight_decay
        Default 1e-5 (DER paper, Seq-CIFAR-10).
    feature_batch_size
        Batch size of feature extraction at task end. Default 512.
    **kwargs
        See :class:`Strategy`.
    """

    name = "icarl"

    def __init__(
        self,
        net: nn.Module,
        buffer_size: int = 200,
        lr: float = 0.1,
        weight_decay: float = 1e-5,
        feature_batch_size: int = 512,
        **kwargs: Any,
    ) -> None:
        if not callable(getattr(net, "features", None)):
            raise ParameterError("iCaRL needs a network with a features(x) method", field="net")
        super().__init__(net, lr=lr, weight_decay=weight_decay, **kwargs)
        self.buffer = ReplayBuffer(buffer_size, self.device, seed=self.seed)
        self.feature_batch_size = feature_batch_size
        self.old_net_: nn.Module | None = None
        #: Normalised class means of the exemplars, ``[num_classes, d]`` (after task 0).
        self.class_means_: torch.Tensor | None = None
        self._has_mean: torch.Tensor | None = None
        self._old: torch.Tensor | None = None
        self._seen: torch.Tensor | None = None

    def begin_task(self, task: int, x: torch.Tensor, y: torch.Tensor) -> None:
        self._old = self.seen_mask() if self.classes_seen else None
        if self.classes_seen:
            self.old_net_ = copy.deepcopy(self.net).eval().requires_grad_(False)
        super().begin_task(task, x, y)
        self._seen = self.seen_mask()

    def train_set(
        self, task: int, x: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        t = self.task_ids(task, len(y))
        if not len(self.buffer):
            return x, y, t
        return (
            torch.cat([x, self.buffer.x]),
            torch.cat([y, self.buffer.y]),
            torch.cat([t, self.buffer.task]),
        )

    def observe(self, x: torch.Tensor, y: torch.Tensor, task: int | torch.Tensor) -> torch.Tensor:
        x = self.augment(x)
        logits = self.forward(x)
        target = F.one_hot(y, logits.shape[1]).float()
        # begin_task sets both from the second task on
        if self.old_net_ is not None and self._old is not None:
            with torch.no_grad():
                old = torch.sigmoid(self.forward(x, self.old_net_))
            target = torch.where(self._old, old, target)
        seen = self._seen
        loss = F.binary_cross_entropy_with_logits(logits[:, seen], target[:, seen])
        self.step(loss)
        return loss.detach()

    @torch.no_grad()
    def _features(self, x: torch.Tensor) -> torch.Tensor:
        features = getattr(self.net, "features", None)
        if not callable(features):  # as checked by __init__
            raise ParameterError("iCaRL needs a network with a features(x) method", field="net")
        was_training = self.net.training
        self.net.eval()
        try:
            parts = []
            for start in range(0, len(x), self.feature_batch_size):
                with self.autocast():
                    parts.append(features(x[start : start + self.feature_batch_size]))
            return F.normalize(torch.cat(parts).float(), dim=1)
        finally:
            self.net.train(was_training)

    def end_task(self, task: int, x: torch.Tensor, y: torch.Tensor) -> None:
        per_class = self.buffer.capacity // len(self.classes_seen)
        keep_x, keep_y, keep_t = [], [], []
        if len(self.buffer):
            for c in torch.unique(self.buffer.y).tolist():
                rows = (self.buffer.y == c).nonzero().flatten()[:per_class]
                keep_x.append(self.buffer.x[rows])
                keep_y.append(self.buffer.y[rows])
                keep_t.append(self.buffer.task[rows])
        stored = set(torch.unique(self.buffer.y).tolist()) if len(self.buffer) else set()
        for c in sorted(set(torch.unique(y).tolist()) - stored):
            rows = (y == c).nonzero().flatten()
            picks = rows[herding(self._features(x[rows]), per_class)]
            keep_x.append(x[picks])
            keep_y.append(y[picks])
            keep_t.append(self.task_ids(task, len(picks)))
        self.buffer.load(torch.cat(keep_x), torch.cat(keep_y), task=torch.cat(keep_t))
        features = self._features(self.buffer.x)
        means = torch.zeros(
            self.num_outputs(), features.shape[1], device=self.device, dtype=features.dtype
        )
        means.index_add_(0, self.buffer.y, features)
        self.class_means_ = F.normalize(means, dim=1)
        self._has_mean = torch.zeros(self.num_outputs(), dtype=torch.bool, device=self.device)
        self._has_mean[self.buffer.y] = True

    @torch.no_grad()
    def predict(self, x: torch.Tensor, task: int | torch.Tensor | None = None) -> torch.Tensor:
        """Nearest-mean-of-exemplars scores ``-|| phi(x) - mu_c ||`` (``-inf`` for classes
        without exemplars); the network's logits before the first task ends."""
        if self.class_means_ is None or self._has_mean is None:  # both set at a task's end
            return super().predict(x, task)
        distance = torch.cdist(self._features(x), self.class_means_)
        return (-distance).masked_fill(~self._has_mean, float("-inf"))
