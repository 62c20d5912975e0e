"""Teaching metrics: how much a cohort learned and how fast."""

from __future__ import annotations

import math

import numpy as np
from scipy import integrate, stats


def mean_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval ``(mean, low, high)`` of independent runs.

    With one value the interval is that value (no spread can be estimated).
    """
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        raise ValueError("no values to summarise")
    mean = float(x.mean())
    if x.size == 1:
        return mean, mean, mean
    half = float(stats.t.ppf(0.5 + level / 2.0, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    return mean, mean - half, mean + half


def gain_per_step(curve: np.ndarray) -> float:
    """Learning gain per practice step: (last - first) / number of steps."""
    c = np.asarray(curve, dtype=float)
    return float((c[-1] - c[0]) / (c.size - 1))


def aulc(curve: np.ndarray) -> float:
    """Area under the learning curve, normalised by the number of steps
    (trapezoid rule), so a curve constant at m has area m."""
    c = np.asarray(curve, dtype=float)
    # scipy, not np.trapezoid: that needs NumPy 2, and numpy>=1.26 is supported.
    return float(integrate.trapezoid(c) / (c.size - 1))
