"""Fit and score student models over the folds of a protocol.

For every model and fold a fresh model is built, fitted on the fold's training
log, and asked for :meth:`~mentor.students.StudentModel.predict_log` on the
test log: each test event is predicted from what the model learned in training
plus the learner's earlier test events, never from its own outcome.

Items with several skills are predicted once, at item level. The log is
never expanded into one row per skill, which would let a model see an answer
on one copy before predicting the next copy of the same answer. How each model
uses an item's skills: BKT multiplies the skills' success probabilities, Elo
averages the skills' abilities, PFA adds the skills' terms on the logit scale;
IRT and the memory models (FSRS, HLR, DASH, SM-2) model the item itself and
ignore its skills; DKT and simpleKT learn from item ids and use the domain
only to report mastery per skill; psikt needs exactly one skill per item and
says so.

A model that fails with a :class:`~mentor.errors.MentorError` on some fold
(say, a GPU the machine lacks) is left out of the results and reported in
:attr:`Evaluation.failures`; the other models go on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mentor.domain import Domain
from mentor.errors import DataError, MentorError
from mentor.evaluation.splits import Fold
from mentor.events import EventLog
from mentor.metrics import accuracy, auc, calibration_error, log_loss, rmse
from mentor.students import create_model

METRICS = ("auc", "log_loss", "rmse", "accuracy", "calibration_error")

#: How test events are scored. ``all``: every test event, each from the
#: learner's earlier events (attention models keep their default context).
#: ``window``: pyKT's published protocol (its "window" evaluation): every answer
#: predicted from its full history (models with a ``stride`` get 1, a sliding
#: context of their ``max_len - 1`` previous answers, as pyKT's window files),
#: and each learner's first answer left out of the figures.
SCORINGS = {
    "all": "every test event",
    "window": "pyKT window: full history, each learner's first answer excluded",
}


def first_answers(train: EventLog, test: EventLog) -> np.ndarray:
    """Mask of the test events that are their learner's first answer: the
    earliest test event (ties in log order) of a learner with no training event."""
    mask = np.zeros(len(test), dtype=bool)
    if len(test) == 0:
        return mask
    order = np.lexsort(
        (np.arange(len(test)), test.time, np.unique(test.learner, return_inverse=True)[1])
    )
    learners = test.learner[order]
    first = order[np.r_[True, learners[1:] != learners[:-1]]]
    mask[first] = True
    mask &= ~np.isin(test.learner, train.learner)
    return mask


@dataclass
class Evaluation:
    """Figures per model and fold, and every test prediction for the plots."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    outcomes: dict[str, list[np.ndarray]] = field(default_factory=dict)
    predictions: dict[str, list[np.ndarray]] = field(default_factory=dict)
    #: Model name -> (fold index, error) for models that failed and were left out.
    failures: dict[str, tuple[int, MentorError]] = field(default_factory=dict)

    def drop(self, name: str) -> None:
        """Remove every figure and prediction of one model."""
        self.rows = [row for row in self.rows if row["model"] != name]
        self.outcomes.pop(name, None)
        self.predictions.pop(name, None)

    def models(self) -> list[str]:
        """Model names in the order they were evaluated."""
        return list(dict.fromkeys(row["model"] for row in self.rows))

    def summary(self) -> list[dict[str, Any]]:
        """One row per model: the mean and standard deviation over folds of each figure.

        Keys ``model``, ``folds``, each metric and ``fit_seconds`` (means), and the
        same names suffixed ``_std`` (sample standard deviation, 0 for one fold).
        """
        out = []
        for name in self.models():
            rows = [row for row in self.rows if row["model"] == name]
            entry: dict[str, Any] = {"model": name, "folds": len(rows)}
            for key in (*METRICS, "fit_seconds"):
                values = np.array([row[key] for row in rows], dtype=float)
                entry[key] = float(np.mean(values))
                entry[f"{key}_std"] = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
            out.append(entry)
        return out

    def pooled(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """All test outcomes and predictions of one model, over every fold."""
        return np.concatenate(self.outcomes[name]), np.concatenate(self.predictions[name])


def evaluate(
    models: Sequence[str],
    folds: Iterable[Fold],
    domain: Domain | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    on_fit: Callable[[str, int], None] | None = None,
    on_epoch: Callable[[str, int, dict[str, Any]], None] | None = None,
    scoring: str = "all",
) -> Evaluation:
    """Evaluate each named model on each fold.

    Parameters
    ----------
    models
        Short model names (see :data:`mentor.students.MODELS`).
    folds
        From a protocol of :mod:`mentor.evaluation.splits`.
    domain
        Item-to-skill map given to every model.
    params
        Constructor arguments per model name, e.g. ``{"dkt": {"epochs": 5}}``.
    on_fit
        Called with (model name, fold index) before each fit, for progress.
    on_epoch
        Called with (model name, fold index, epoch record) after each training
        epoch of the models that train in epochs (DKT, simpleKT, AKT).
    scoring
        ``all`` (default) or ``window`` (see :data:`SCORINGS`); written in
        every row.

    A model that raises a :class:`MentorError` is dropped from the results, and
    from later folds, and recorded in ``failures``.
    """
    if scoring not in SCORINGS:
        raise DataError(f"choose one of {', '.join(SCORINGS)}", field="scoring", value=scoring)
    params = {name: dict((params or {}).get(name, {})) for name in models}
    for name in models:  # a bad parameter stops the run before any fit
        model = create_model(name, domain=domain, **params[name])
        if scoring == "window" and "stride" in model.get_params() and "stride" not in params[name]:
            params[name]["stride"] = 1
    result = Evaluation()
    for fold in folds:
        for name in models:
            if name in result.failures:
                continue
            if on_fit is not None:
                on_fit(name, fold.index)
            try:
                model = create_model(name, domain=domain, **params[name])
                start = time.perf_counter()
                report = None
                if on_epoch is not None:
                    report = lambda record, name=name, k=fold.index: on_epoch(name, k, record)  # noqa: E731
                model.fit(fold.train, on_epoch=report)
                fit_seconds = time.perf_counter() - start
                start = time.perf_counter()
                predictions = np.asarray(model.predict_log(fold.test), dtype=float)
                predict_seconds = time.perf_counter() - start
            except MentorError as error:
                result.failures[name] = (fold.index, error)
                result.drop(name)
                continue
            outcomes = fold.test.outcome
            if scoring == "window":
                scored = ~first_answers(fold.train, fold.test)
                outcomes, predictions = outcomes[scored], predictions[scored]
            result.rows.append(
                {
                    "model": name,
                    "fold": fold.index,
                    "scoring": scoring,
                    "train_events": len(fold.train),
                    "test_events": len(fold.test),
                    "scored_events": len(outcomes),
                    "auc": auc(outcomes, predictions),
                    "log_loss": log_loss(outcomes, predictions),
                    "rmse": rmse(outcomes, predictions),
                    "accuracy": accuracy(outcomes, predictions),
                    "calibration_error": calibration_error(outcomes, predictions),
                    "fit_seconds": fit_seconds,
                    "predict_seconds": predict_seconds,
                }
            )
            result.outcomes.setdefault(name, []).append(outcomes)
            result.predictions.setdefault(name, []).append(predictions)
    return result
