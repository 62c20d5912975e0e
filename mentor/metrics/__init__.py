"""Metrics: prediction quality of student models, outcomes of teaching, continual learning."""

from mentor.metrics.calibration import Reliability, calibration_error, reliability, rmse_bins
from mentor.metrics.continual import (
    average_accuracy,
    average_incremental_accuracy,
    backward_transfer,
    check_accuracy_matrix,
    continual_summary,
    forgetting,
    forgetting_per_task,
    forward_transfer,
)
from mentor.metrics.prediction import accuracy, auc, log_likelihood, log_loss, rmse
from mentor.metrics.teaching import aulc, gain_per_step, mean_ci

__all__ = [
    "Reliability",
    "accuracy",
    "auc",
    "aulc",
    "average_accuracy",
    "average_incremental_accuracy",
    "backward_transfer",
    "calibration_error",
    "check_accuracy_matrix",
    "continual_summary",
    "forgetting",
    "forgetting_per_task",
    "forward_transfer",
    "gain_per_step",
    "log_likelihood",
    "log_loss",
    "mean_ci",
    "reliability",
    "rmse",
    "rmse_bins",
]
