"""Guards against the known ways an evaluation of student models leaks the answer.

- Duplicated rows: the same (learner, item, time) recorded twice. One copy in
  training and one in test, or the second copy predicted from the first,
  inflates AUC by several points (the ASSISTments 2009 trap). Reported as a
  warning with the count and the first duplicate; :func:`drop_duplicates`
  keeps the first copy.
- Test events seen in training (a learner's test rows also in the training
  log) and future events in training (a training event of a learner later
  than one of their test events, so the model is fitted on the future it then
  predicts): errors naming the learner, item and times. A learner in both
  logs whose training events all come first is fine (the test continues their
  history) and is reported in a note. k-fold over learners never shares a
  learner between train and test, by construction.
- Items outside the domain: with a domain, an item it does not know has no
  skills to learn from: an error naming the item.
"""

from __future__ import annotations

import numpy as np

from mentor.domain import Domain
from mentor.errors import DataError
from mentor.events import EventLog


def _duplicate_mask(log: EventLog) -> np.ndarray:
    """True for every event that repeats an earlier (learner, item, time)."""
    if len(log) == 0:
        return np.zeros(0, dtype=bool)
    keys = np.rec.fromarrays(
        [
            np.unique(log.learner, return_inverse=True)[1],
            np.unique(log.item, return_inverse=True)[1],
            log.time,
        ]
    )
    _, first = np.unique(keys, return_index=True)
    mask = np.ones(len(log), dtype=bool)
    mask[first] = False
    return mask


def duplicate_warning(log: EventLog, name: str) -> str | None:
    """A one-line warning if ``log`` repeats a (learner, item, time), else None."""
    mask = _duplicate_mask(log)
    if not mask.any():
        return None
    i = int(np.flatnonzero(mask)[0])
    return (
        f"{name}: {int(mask.sum())} duplicated rows (same learner, item and time), first: "
        f"learner {log.learner[i].item()!r}, item {log.item[i].item()!r}, time {log.time[i]:g}"
    )


def drop_duplicates(log: EventLog) -> EventLog:
    """The log without repeated (learner, item, time) rows; the first copy stays."""
    return log[~_duplicate_mask(log)]


def check_split(train: EventLog, test: EventLog) -> str | None:
    """Check a given train/test pair for leaks between them.

    Raises :class:`DataError` if a test event is also in training (same learner,
    item and time) or a learner's training events come after one of their test
    events. Learners in both logs whose training events all come first are
    legitimate (their test events continue their history); a one-line note
    saying how many is returned, else None.
    """
    shared = np.intersect1d(train.learners(), test.learners())
    if not len(shared):
        return None
    check_no_future(train, test)  # first: then their concatenation is in time order
    before = train.for_learners(shared)
    both = EventLog.concat([before, test.for_learners(shared)])
    repeated = _duplicate_mask(both)[len(before) :]
    if repeated.any():
        i = len(before) + int(np.flatnonzero(repeated)[0])
        raise DataError(
            f"{int(repeated.sum())} test events are also in the training log, first: "
            f"learner {both.learner[i].item()!r}, item {both.item[i].item()!r}, "
            f"time {both.time[i]:g}"
        )
    return (
        f"{len(shared)} test learners also have training events (e.g. {shared[0].item()!r}); "
        "their test events are scored as the continuation of their history"
    )


def check_no_future(train: EventLog, test: EventLog) -> None:
    """Raise :class:`DataError` if a learner's training events come after a test event."""
    shared = np.intersect1d(train.learners(), test.learners())
    if not len(shared):
        return
    last_train = _per_learner(train, shared, np.maximum, -np.inf)
    first_test = _per_learner(test, shared, np.minimum, np.inf)
    late = np.flatnonzero(last_train > first_test)
    if len(late):
        j = late[0]
        raise DataError(
            f"training holds events from the future of the test: learner {shared[j].item()!r} "
            f"has a training event at time {last_train[j]:g} after a test event at "
            f"{first_test[j]:g}"
        )


def _per_learner(log: EventLog, learners: np.ndarray, ufunc: np.ufunc, fill: float) -> np.ndarray:
    out = np.full(len(learners), fill)
    index = np.searchsorted(learners, log.learner)
    index = np.clip(index, 0, len(learners) - 1)
    known = learners[index] == log.learner
    ufunc.at(out, index[known], log.time[known])
    return out


def check_domain(log: EventLog, domain: Domain, name: str) -> None:
    """Raise :class:`DataError` if ``log`` has an item that ``domain`` does not know."""
    items = log.items()
    known = np.fromiter((item in domain.items for item in items.tolist()), bool, len(items))
    if not known.all():
        missing = items[~known]
        raise DataError(
            f"{len(missing)} items are not in the domain (no skills known for them)",
            file=name,
            field="item",
            value=missing[0].item(),
        )
