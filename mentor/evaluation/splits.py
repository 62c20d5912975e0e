"""Evaluation protocols: which events a model is fitted on and which it is scored on.

Each protocol yields :class:`Fold` objects holding two logs. A model is fitted
on ``fold.train`` and then scores ``fold.test`` with
:meth:`~mentor.students.StudentModel.predict_log`, each test event predicted
from the learner's earlier events only.

- :func:`learner_kfold`: learners are dealt into k folds; each fold's learners
  are the test set and are never seen in training. The protocol of knowledge
  tracing papers (pyKT, the DKVMN paper's five folds).
- :func:`time_folds`: each learner's events in time order are cut into
  ``n_splits + 1`` equal chunks; fold f trains on chunks 0..f of every learner
  and tests on chunk f + 1, so the model has seen the learner's past and is
  scored on their future. For review logs: the expanding-window
  ``TimeSeriesSplit`` of the open srs-benchmark of FSRS, applied per learner.
- :func:`fixed_split`: a given train and test log (the DKVMN splits).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from mentor._checks import check_count
from mentor.errors import DataError
from mentor.events import EventLog


@dataclass(frozen=True)
class Fold:
    """One train/test pair of an evaluation protocol."""

    index: int
    train: EventLog
    test: EventLog


def learner_kfold(log: EventLog, k: int = 5, seed: int = 0) -> Iterator[Fold]:
    """k folds over learners, dealt at random with ``seed`` (default 5 folds)."""
    learners = log.learners()
    k = check_count("folds", k, 2)
    if len(learners) < k:
        raise DataError(
            f"k-fold over learners needs at least {k} learners, the log has {len(learners)}",
            field="folds",
            value=k,
        )
    order = np.random.default_rng(seed).permutation(len(learners))
    fold_of_learner = np.empty(len(learners), dtype=np.int64)
    fold_of_learner[order] = np.arange(len(learners)) % k
    fold_of_event = fold_of_learner[np.searchsorted(learners, log.learner)]
    for f in range(k):
        test = fold_of_event == f
        yield Fold(f, log[~test], log[test])


def time_folds(log: EventLog, n_splits: int = 5) -> Iterator[Fold]:
    """Expanding-window folds over each learner's own time line (default 5 folds).

    Event j of a learner with n events (in time order, ties in log order) lies
    in chunk ``floor(j * (n_splits + 1) / n)``.
    """
    n_splits = check_count("folds", n_splits, 1)
    order = np.lexsort(
        (np.arange(len(log)), log.time, np.searchsorted(log.learners(), log.learner))
    )
    learner_sorted = log.learner[order]
    starts = np.flatnonzero(np.r_[True, learner_sorted[1:] != learner_sorted[:-1]])
    lengths = np.diff(np.r_[starts, len(log)])
    rank = np.arange(len(log)) - np.repeat(starts, lengths)
    chunk_sorted = rank * (n_splits + 1) // np.repeat(lengths, lengths)
    chunk = np.empty(len(log), dtype=np.int64)
    chunk[order] = chunk_sorted
    for f in range(n_splits):
        train, test = chunk <= f, chunk == f + 1
        if not test.any():
            continue
        yield Fold(f, log[train], log[test])


def fixed_split(train: EventLog, test: EventLog) -> Iterator[Fold]:
    """The one fold of a given train and test log."""
    yield Fold(0, train, test)
