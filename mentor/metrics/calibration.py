"""Calibration of predicted probabilities: do events predicted at p succeed a share p of the time?

Predictions are grouped into ``bins`` equal-width bins of [0, 1] (a prediction
of exactly 1 falls in the last bin). For bin b with n_b events, mean
prediction P_b and mean outcome O_b:

- expected calibration error (Naeini, Cooper, Hauskrecht, AAAI 2015)::

      ECE = sum_b (n_b / n) |P_b - O_b|

- RMSE over bins, the calibration figure of the open srs-benchmark of FSRS::

      RMSE(bins) = sqrt( sum_b (n_b / n) (P_b - O_b)^2 )

  srs-benchmark forms its bins from review features (interval, number of
  reviews, lapses); ours are bins of the prediction itself, so that the figure
  means the same for every model and log. Both weight bins by their size.

Empty bins do not count. Outcomes may be fractional (mean recall).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mentor._checks import check_count
from mentor.metrics.prediction import _check


@dataclass(frozen=True)
class Reliability:
    """Per-bin figures of a reliability diagram (only the non-empty bins)."""

    lower: np.ndarray
    upper: np.ndarray
    count: np.ndarray
    mean_prediction: np.ndarray
    mean_outcome: np.ndarray


def reliability(outcomes: np.ndarray, predictions: np.ndarray, bins: int = 10) -> Reliability:
    """Mean prediction and mean outcome in each of ``bins`` equal-width bins."""
    bins = check_count("bins", bins, 1)
    y, p = _check(outcomes, predictions)
    index = np.minimum((p * bins).astype(np.int64), bins - 1)
    count = np.bincount(index, minlength=bins)
    sum_p = np.bincount(index, weights=p, minlength=bins)
    sum_y = np.bincount(index, weights=y, minlength=bins)
    used = count > 0
    edges = np.linspace(0.0, 1.0, bins + 1)
    return Reliability(
        lower=edges[:-1][used],
        upper=edges[1:][used],
        count=count[used],
        mean_prediction=sum_p[used] / count[used],
        mean_outcome=sum_y[used] / count[used],
    )


def calibration_error(outcomes: np.ndarray, predictions: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error over ``bins`` equal-width bins (default 10)."""
    r = reliability(outcomes, predictions, bins)
    weight = r.count / r.count.sum()
    return float(np.sum(weight * np.abs(r.mean_prediction - r.mean_outcome)))


def rmse_bins(outcomes: np.ndarray, predictions: np.ndarray, bins: int = 20) -> float:
    """Size-weighted RMSE between mean prediction and mean outcome over ``bins`` bins."""
    r = reliability(outcomes, predictions, bins)
    weight = r.count / r.count.sum()
    return float(np.sqrt(np.sum(weight * (r.mean_prediction - r.mean_outcome) ** 2)))
