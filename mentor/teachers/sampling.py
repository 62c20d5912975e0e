"""Sampling rules shared by teachers: the last of a teacher's three parts
(signal -> statistic per arm -> sampling rule)."""

from __future__ import annotations

import numpy as np


def proportional(
    weights: np.ndarray, epsilon: float, rng: np.random.Generator, k: int = 1
) -> np.ndarray:
    """Indices of ``k`` distinct arms drawn with probability
    ``(1 - epsilon) * w / sum(w) + epsilon / n`` (uniform when all weights are 0).

    This is the exploration rule of EXP4-style bandits used by ZPDES
    (Clement et al. 2015). Negative weights count as 0.
    """
    w = np.clip(np.asarray(weights, dtype=float), 0.0, None)
    n = w.size
    total = w.sum()
    probs = np.full(n, 1.0 / n) if total <= 0 else (1.0 - epsilon) * w / total + epsilon / n
    return rng.choice(n, size=min(k, n), replace=False, p=probs / probs.sum())


def closest(scores: np.ndarray, target: float, rng: np.random.Generator, k: int = 1) -> np.ndarray:
    """Indices of the ``k`` scores closest to ``target``; exact ties broken at random."""
    distance = np.abs(np.asarray(scores, dtype=float) - target)
    order = np.lexsort((rng.random(distance.size), distance))
    return order[:k]
