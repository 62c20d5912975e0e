"""Evaluation of student models: protocols, leak guards, and the fit-and-score loop."""

from mentor.evaluation.leaks import check_domain, check_split, drop_duplicates, duplicate_warning
from mentor.evaluation.runner import METRICS, SCORINGS, Evaluation, evaluate, first_answers
from mentor.evaluation.splits import Fold, fixed_split, learner_kfold, time_folds

__all__ = [
    "METRICS",
    "SCORINGS",
    "Evaluation",
    "Fold",
    "check_domain",
    "check_split",
    "drop_duplicates",
    "duplicate_warning",
    "evaluate",
    "first_answers",
    "fixed_split",
    "learner_kfold",
    "time_folds",
]
