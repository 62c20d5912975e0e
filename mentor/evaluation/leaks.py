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
- One attempt written once per skill (:func:`expansion_warning`): rows of the
  same learner at the same time, with different items and one outcome, as in
  ASSISTments exports keyed by skill. One copy then predicts the next copy of
  the same answer. A warning naming the lines and the ``--columns item=...``
  fix.
- Time order lost (:func:`sorted_items_warning`): a three-line KT file in
  which every learner's sequence runs in increasing item id is most likely
  sorted by skill, which puts a learner's answers on one skill in one block
  and inflates AUC. A warning (the items may truly have come in that order,
  as in the DKVMN synthetic set).
"""

from __future__ import annotations

import numpy as np

from mentor.domain import Domain
from mentor.errors import DataError
from mentor.events import EventLog
from mentor.events.log import exact


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
        f"learner {log.learner[i].item()!r}, item {log.item[i].item()!r}, time {exact(log.time[i])}"
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
            f"time {exact(both.time[i])}"
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
            f"has a training event at time {exact(last_train[j])} after a test event at "
            f"{exact(first_test[j])}"
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


#: Least number of (learner, time) groups before :func:`expansion_warning` speaks,
#: and the least share of them with a single outcome.
EXPANSION_MIN_GROUPS = 3
EXPANSION_MIN_SHARE = 0.95


def expansion_warning(log: EventLog, name: str, columns: list[str] | None = None) -> str | None:
    """A one-line warning if ``log`` looks like one row per skill of each attempt.

    Groups of rows with the same learner and time but different items are
    counted; when there are at least :data:`EXPANSION_MIN_GROUPS` of them and
    at least :data:`EXPANSION_MIN_SHARE` of them have one outcome throughout
    (two independent answers agree far less often), the rows are named as an
    attempt expanded per skill. ``columns`` (the file's unused columns) are
    offered as the item column. Without a time column every row has its own
    time and nothing is found.
    """
    n = len(log)
    if n < 2:
        return None
    learner = np.unique(log.learner, return_inverse=True)[1]
    item = np.unique(log.item, return_inverse=True)[1]
    order = np.lexsort((np.arange(n), log.time, learner))
    key_l, key_t = learner[order], log.time[order]
    starts = np.flatnonzero(np.r_[True, (key_l[1:] != key_l[:-1]) | (key_t[1:] != key_t[:-1])])
    sizes = np.diff(np.r_[starts, n])
    group = np.repeat(np.arange(starts.size), sizes)
    items, outcomes = item[order], log.outcome[order]
    spread = np.maximum.reduceat(items, starts) != np.minimum.reduceat(items, starts)
    one_outcome = np.maximum.reduceat(outcomes, starts) == np.minimum.reduceat(outcomes, starts)
    tied = (sizes > 1) & spread
    if tied.sum() < EXPANSION_MIN_GROUPS or (one_outcome[tied]).mean() < EXPANSION_MIN_SHARE:
        return None
    rows = int(sizes[tied & one_outcome].sum())
    first = np.flatnonzero(tied & one_outcome)[0]
    members = order[group == first][:2]
    a, b = (int(m) for m in members)
    where = (
        f"lines {int(log.lines[a])} and {int(log.lines[b])}"
        if log.lines is not None
        else f"events {a} and {b}"
    )
    hint = f" (unused columns: {', '.join(columns)})" if columns else ""
    return (
        f"{name}: {rows} rows look like one attempt written once per skill (same learner and "
        f"time, different item, same outcome), first: {where}, learner "
        f"{log.learner[a].item()!r}, time {exact(log.time[a])}, items {log.item[a].item()!r} "
        f"and {log.item[b].item()!r}; one copy then predicts the other and inflates AUC. "
        f"Read the column that names the question as the item, --columns item=COLUMN{hint}, "
        "and give the skills with --domain"
    )


#: Least number of learners with two or more items before
#: :func:`sorted_items_warning` speaks (all sorted by chance: at most 1 in 2**5).
SORTED_MIN_LEARNERS = 5


def sorted_items_warning(log: EventLog, name: str) -> str | None:
    """A one-line warning if every learner's sequence (in time order) runs in
    non-decreasing item id order, counting learners with at least two distinct
    items (at least :data:`SORTED_MIN_LEARNERS` of them)."""
    n = len(log)
    if n < 2:
        return None
    learner = np.unique(log.learner, return_inverse=True)[1]
    item = np.unique(log.item, return_inverse=True)[1]
    order = np.lexsort((np.arange(n), log.time, learner))
    key_l, items = learner[order], item[order]
    same = key_l[1:] == key_l[:-1]
    changes = np.bincount(key_l[1:][same & (items[1:] != items[:-1])], minlength=learner.max() + 1)
    drops = np.bincount(key_l[1:][same & (items[1:] < items[:-1])], minlength=learner.max() + 1)
    several = changes > 0
    if several.sum() < SORTED_MIN_LEARNERS or drops[several].any():
        return None
    return (
        f"{name}: every learner's sequence runs in increasing item id ({int(several.sum())} "
        "learners with more than one item): if the file was sorted by skill and lost the time "
        "order, each learner's answers on a skill form one block and AUC will be inflated; if "
        "the items really came in this order, ignore this"
    )
