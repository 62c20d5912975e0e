"""Evaluation of student models: protocols, leak guards, and the fit-and-score loop."""

from mentor.evaluation.leaks import check_domain, check_split, drop_duplicates, duplicate_warning
from mentor.evaluation.runner import METRICS, Evaluation, evaluate
from mentor.evaluation.splits import Fold, fixed_split, learner_kfold, time_folds

__all__ = [
    "METRICS",
    "Evaluation",
    "Fold",
    "check_domain",
    "check_split",
    "drop_duplicates",
    "duplicate_warning",
    "evaluate",
    "fixed_split",
    "learner_kfold",
    "time_folds",
]
