"""Self-paced weighting: per-example loss weights from the examples' current losses.

Self-paced learning (Kumar, Packer and Koller, "Self-Paced Learning for Latent
Variable Models", NeurIPS 2010) minimises ``sum_i v_i l_i + f(v; lambda)`` over
the model and the weights ``v_i`` in [0, 1] in turn. For fixed losses, each
regulariser ``f`` has a closed-form optimal weight:

=========== ==========================================================
``hard``    ``v = 1 if l < lambda else 0`` (Kumar et al. 2010)
``linear``  ``v = max(0, 1 - l / lambda)`` (Jiang et al. 2015)
``mixture`` ``v = 1 if l <= lambda'``, ``0 if l >= lambda``, else
            ``zeta / l - zeta / lambda`` with ``lambda' = inner * lambda``
            and ``zeta = lambda lambda' / (lambda - lambda')`` (Jiang et al. 2014)
=========== ==========================================================

The soft variants are from Jiang, Meng, Mitamura and Hauptmann, "Easy samples
first: self-paced reranking for zero-example multimedia search", ACM MM 2014,
and Jiang, Meng, Zhao, Shan and Hauptmann, "Self-paced curriculum learning",
AAAI 2015. The age parameter ``lambda`` grows so that harder examples join:
``lambda(s) = lam * growth ** floor(s / interval)`` (Kumar et al. divide K =
1 / lambda by an annealing factor mu > 1 between iterations; here an
iteration is ``interval`` steps).
"""

from __future__ import annotations

import math
from typing import Any, TypeVar

import numpy as np
import torch

from mentor._checks import check_choice, check_number, check_unit

#: The closed-form weightings :class:`SelfPacedWeights` offers.
KINDS = ("hard", "linear", "mixture")

ArrayT = TypeVar("ArrayT", np.ndarray, torch.Tensor)


class SelfPacedWeights:
    """Per-example weights of self-paced learning, with an age parameter that grows.

    Parameters
    ----------
    kind
        ``"hard"`` (default, Kumar et al. 2010), ``"linear"`` or ``"mixture"``
        (Jiang et al. 2014, 2015); see the module docstring.
    lam
        ``lambda`` at step 0, in the units of the loss. Default 1.0 (ours; a
        10-class cross-entropy starts near ln 10 = 2.3, so at first only the
        examples the model already leans towards count).
    growth
        Factor ``lambda`` is multiplied by every ``interval`` steps (the
        annealing factor mu), at least 1. Default 1.1 (ours).
    interval
        Steps between two growths. Default 100 (ours).
    inner
        ``lambda' / lambda`` of the mixture weighting, in (0, 1). Default 0.5 (ours).

    Calling the object on a batch of losses at step ``s`` returns the weights,
    as a tensor (no gradient) for a tensor, an array for an array;
    :meth:`weighted_mean` gives ``mean(v * l)``, the batch estimate of
    ``(1/n) sum v_i l_i``.
    """

    def __init__(
        self,
        kind: str = "hard",
        lam: float = 1.0,
        growth: float = 1.1,
        interval: float = 100.0,
        inner: float = 0.5,
    ) -> None:
        self.kind = check_choice("kind", kind, KINDS)
        self.lam = check_number("lam", lam, 0.0, strict=True)
        self.growth = check_number("growth", growth, 1.0)
        self.interval = check_number("interval", interval, 0.0, strict=True)
        self.inner = check_unit("inner", inner, strict=True, strict_maximum=True)

    def get_params(self) -> dict[str, Any]:
        """Constructor arguments (JSON-able)."""
        return {
            "kind": self.kind,
            "lam": self.lam,
            "growth": self.growth,
            "interval": self.interval,
            "inner": self.inner,
        }

    def lam_at(self, step: float) -> float:
        """``lam * growth ** floor(step / interval)`` (infinite once it overflows)."""
        level = math.floor(max(float(step), 0.0) / self.interval)
        if self.growth == 1.0:
            return self.lam
        log_value = math.log(self.lam) + level * math.log(self.growth)
        return math.inf if log_value > 700 else self.lam * self.growth**level

    def __call__(self, losses: ArrayT, step: float) -> ArrayT:
        """The weight of each example with loss ``losses[i]`` at ``step``."""
        lam = self.lam_at(step)
        if isinstance(losses, torch.Tensor):
            loss = losses.detach()
            where, ones, zeros = torch.where, torch.ones_like, torch.zeros_like
        else:
            loss = np.asarray(losses, dtype=np.float64)
            where, ones, zeros = np.where, np.ones_like, np.zeros_like
        if self.kind == "hard":
            return where(loss < lam, ones(loss), zeros(loss))
        if not math.isfinite(lam):
            return ones(loss)
        if self.kind == "linear":
            return where(loss < lam, 1.0 - loss / lam, zeros(loss))
        inner = self.inner * lam
        zeta = lam * inner / (lam - inner)
        middle = zeta / where(loss > 0, loss, ones(loss)) - zeta / lam
        return where(loss <= inner, ones(loss), where(loss >= lam, zeros(loss), middle))

    def weighted_mean(self, losses: torch.Tensor, step: float) -> torch.Tensor:
        """``mean(v * losses)``: the self-paced training loss of a batch (gradient
        flows through the losses, not the weights)."""
        return (self(losses, step) * losses).mean()
