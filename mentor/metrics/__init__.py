"""Metrics: prediction quality of student models and outcomes of teaching."""

from mentor.metrics.calibration import Reliability, calibration_error, reliability, rmse_bins
from mentor.metrics.prediction import accuracy, auc, log_likelihood, log_loss, rmse
from mentor.metrics.teaching import aulc, gain_per_step, mean_ci

__all__ = [
    "Reliability",
    "accuracy",
    "auc",
    "aulc",
    "calibration_error",
    "gain_per_step",
    "log_likelihood",
    "log_loss",
    "mean_ci",
    "reliability",
    "rmse",
    "rmse_bins",
]
