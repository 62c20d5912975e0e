"""Metrics: prediction quality of student models and outcomes of teaching."""

from mentor.metrics.prediction import accuracy, auc, log_likelihood, log_loss, rmse
from mentor.metrics.teaching import aulc, gain_per_step, mean_ci

__all__ = [
    "accuracy",
    "auc",
    "aulc",
    "gain_per_step",
    "log_likelihood",
    "log_loss",
    "mean_ci",
    "rmse",
]
