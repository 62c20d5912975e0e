"""Prediction metrics for student models: how well P(success) matches outcomes.

Outcomes may be fractional; AUC and accuracy then threshold them at 0.5, while
the likelihood-based metrics use them as soft labels.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

from mentor.errors import DataError

EPS = 1e-12


def _check(outcomes: np.ndarray, predictions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(outcomes, dtype=float)
    p = np.asarray(predictions, dtype=float)
    if y.shape != p.shape:
        raise DataError(f"{y.size} outcomes but {p.size} predictions")
    if y.size == 0:
        raise DataError("no events to score")
    if np.any(~np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise DataError("predictions must be probabilities in [0, 1]")
    return y, p


def log_likelihood(outcomes: np.ndarray, predictions: np.ndarray) -> float:
    """Sum of ``o log p + (1 - o) log(1 - p)`` (natural log), p clipped to [1e-12, 1 - 1e-12]."""
    y, p = _check(outcomes, predictions)
    p = np.clip(p, EPS, 1.0 - EPS)
    return float(np.sum(y * np.log(p) + (1.0 - y) * np.log1p(-p)))


def log_loss(outcomes: np.ndarray, predictions: np.ndarray) -> float:
    """Mean negative log-likelihood per event."""
    return -log_likelihood(outcomes, predictions) / np.asarray(outcomes).size


def rmse(outcomes: np.ndarray, predictions: np.ndarray) -> float:
    """Root mean squared error between outcomes and predictions."""
    y, p = _check(outcomes, predictions)
    return float(np.sqrt(np.mean((y - p) ** 2)))


def accuracy(outcomes: np.ndarray, predictions: np.ndarray) -> float:
    """Share of events where ``p >= 0.5`` agrees with ``o >= 0.5``."""
    y, p = _check(outcomes, predictions)
    return float(np.mean((p >= 0.5) == (y >= 0.5)))


def auc(outcomes: np.ndarray, predictions: np.ndarray) -> float:
    """Area under the ROC curve (scikit-learn), outcomes thresholded at 0.5.

    NaN when the outcomes hold only one class, where AUC is undefined.
    """
    y, p = _check(outcomes, predictions)
    labels = y >= 0.5
    if labels.all() or not labels.any():
        return float("nan")
    return float(roc_auc_score(labels, p))
