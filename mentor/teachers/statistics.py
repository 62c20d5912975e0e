"""Per-arm statistics: the middle of a teacher's three parts
(signal -> statistic per arm -> sampling rule).

A statistic keeps a small record for each arm (an item, a task family, a data source)
and turns the signals observed on that arm (outcomes, scores, advantages) into one number
that a sampling rule can use. Only the arms passed to :meth:`ArmStatistic.update` change;
an arm never observed has a documented default value. The whole record is JSON-able
(:meth:`ArmStatistic.get_state`), so a teacher built on statistics can be saved and
restored exactly.

- :class:`Count`: number of observations.
- :class:`EMA`: exponential moving average ``q <- q + alpha (x - q)`` (the TD(0) step of SEC).
- :class:`OnlineLP`: moving average of successive differences (TSCL "Online").
- :class:`WindowedLP`: learning progress over the last observations: slope of a linear
  regression (TSCL "Window") or difference of the newer and older half's means (ZPDES).
- :class:`AbsoluteLP`: ``|fast EMA - slow EMA|`` (Kanitscheider et al. 2021).
- :class:`MeanAbsAdvantage`: mean absolute advantage over a sliding window (DUMP).
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from mentor._checks import check_choice, check_count, check_number, check_unit
from mentor.errors import DataError, ParameterError


class ArmStatistic(abc.ABC):
    """Base class of per-arm statistics.

    Arms are any hashable, JSON-able ids (integers or strings). Subclasses keep one record
    per arm in :attr:`arms_`.
    """

    name: ClassVar[str]

    def __init__(self) -> None:
        self.arms_: dict[Any, Any] = {}

    @abc.abstractmethod
    def update(self, arm: Any, value: float, step: float | None = None) -> None:
        """Take one observation ``value`` of ``arm`` (made at ``step``, where it matters)."""

    @abc.abstractmethod
    def value(self, arm: Any) -> float:
        """The statistic of one arm (its default if the arm was never observed)."""

    def values(self, arms: Iterable[Any]) -> np.ndarray:
        """The statistic of each arm, as a float array."""
        return np.array([self.value(a) for a in arms], dtype=float)

    def update_many(
        self, arms: Sequence[Any], values: Sequence[float], steps: Sequence[float] | None = None
    ) -> None:
        """Take observations in the order given."""
        if len(arms) != len(values) or (steps is not None and len(steps) != len(arms)):
            raise ParameterError("arms, values and steps must have the same length")
        for i, (arm, value) in enumerate(zip(arms, values, strict=True)):
            self.update(arm, float(value), None if steps is None else float(steps[i]))

    def __contains__(self, arm: Any) -> bool:
        return arm in self.arms_

    def __len__(self) -> int:
        return len(self.arms_)

    def get_params(self) -> dict[str, Any]:
        """Constructor arguments (JSON-able)."""
        return {}

    def state_dict(self) -> list[list[Any]]:
        """The per-arm records as ``[[arm, record], ...]`` (JSON-able)."""
        return [[arm, _plain(record)] for arm, record in self.arms_.items()]

    def load_state_dict(self, state: Iterable[Sequence[Any]]) -> None:
        """Restore what :meth:`state_dict` returned."""
        self.arms_ = {arm: self._load_record(record) for arm, record in state}

    def _load_record(self, record: Any) -> Any:
        return record


def _plain(record: Any) -> Any:
    """A copy of a record made of lists, floats and ints only."""
    if isinstance(record, (list, tuple, np.ndarray)):
        return [_plain(r) for r in record]
    if isinstance(record, (np.integer, int)) and not isinstance(record, bool):
        return int(record)
    return float(record)


class Count(ArmStatistic):
    """Number of observations of each arm (0 for an arm never observed)."""

    name = "count"

    def update(self, arm: Any, value: float = 0.0, step: float | None = None) -> None:
        self.arms_[arm] = self.arms_.get(arm, 0) + 1

    def value(self, arm: Any) -> float:
        return float(self.arms_.get(arm, 0))

    def add(self, arm: Any, n: int) -> None:
        """Count ``n`` observations of ``arm`` at once (``n`` calls of :meth:`update`)."""
        self.arms_[arm] = self.arms_.get(arm, 0) + int(n)

    def total(self) -> int:
        """Observations over all arms."""
        return int(sum(self.arms_.values()))

    def _load_record(self, record: Any) -> Any:
        return int(record)


class EMA(ArmStatistic):
    """Exponential moving average ``q <- q + alpha (x - q)``, starting from ``initial``.

    This is the TD(0) / constant step-size value update of bandits (Sutton and Barto,
    *Reinforcement Learning*, 2nd ed., section 2.5), used by SEC (Chen et al. 2025).

    Parameters
    ----------
    alpha
        Step size in (0, 1]. Default 0.1.
    initial
        Value of an arm never observed, and the starting point of its average. Default 0.
    """

    name = "ema"

    def __init__(self, alpha: float = 0.1, initial: float = 0.0) -> None:
        super().__init__()
        self.alpha = check_unit("alpha", alpha, strict=True)
        self.initial = check_number("initial", initial)

    def get_params(self) -> dict[str, Any]:
        return {"alpha": self.alpha, "initial": self.initial}

    def update(self, arm: Any, value: float, step: float | None = None) -> None:
        q = self.arms_.get(arm, self.initial)
        self.arms_[arm] = q + self.alpha * (float(value) - q)

    def value(self, arm: Any) -> float:
        return float(self.arms_.get(arm, self.initial))

    def _load_record(self, record: Any) -> Any:
        return float(record)


class OnlineLP(ArmStatistic):
    """Moving average of the change in an arm's score between its successive observations.

    The "Online" teacher of TSCL (Matiisen, Oliver, Cohen and Schulman, "Teacher-Student
    Curriculum Learning", IEEE TNNLS 2019, arXiv:1707.00183): on observing score ``x`` of an
    arm whose previous score was ``x'``, ``r = x - x'`` and ``q <- q + alpha (r - q)``. Every
    arm's previous score and ``q`` start at 0, as in the authors' code.

    Parameters
    ----------
    alpha
        Step size in (0, 1]. Default 0.1 (the authors' ``bandit_lr``).
    """

    name = "online_lp"

    def __init__(self, alpha: float = 0.1) -> None:
        super().__init__()
        self.alpha = check_unit("alpha", alpha, strict=True)

    def get_params(self) -> dict[str, Any]:
        return {"alpha": self.alpha}

    def update(self, arm: Any, value: float, step: float | None = None) -> None:
        q, last = self.arms_.get(arm, (0.0, 0.0))
        q = q + self.alpha * ((float(value) - last) - q)
        self.arms_[arm] = [q, float(value)]

    def value(self, arm: Any) -> float:
        record = self.arms_.get(arm)
        return 0.0 if record is None else float(record[0])

    def _load_record(self, record: Any) -> Any:
        return [float(record[0]), float(record[1])]


class WindowedLP(ArmStatistic):
    """Learning progress over each arm's last ``window`` observations.

    ``method="slope"``: the slope of the least-squares line through the ``(step, value)``
    pairs, the "Window" teacher of TSCL (Matiisen et al. 2019). ``method="difference"``:
    the mean of the newer half of the window minus the mean of the older half (the older
    half is the first ``n // 2`` values), the learning progress of ZPDES (Clement et al. 2015).

    Parameters
    ----------
    window
        Observations kept per arm, at least 2. Default 10 (TSCL's K).
    method
        ``"slope"`` (default) or ``"difference"``.
    initial
        Value of an arm with fewer than two observations, or whose steps are all equal.
        Default 0; TSCL uses 1, so that such arms get tried.

    A missing ``step`` counts as the arm's previous step plus one (0 for its first).
    """

    name = "windowed_lp"
    METHODS: ClassVar[tuple[str, ...]] = ("slope", "difference")

    def __init__(self, window: int = 10, method: str = "slope", initial: float = 0.0) -> None:
        super().__init__()
        self.window = check_count("window", window, 2)
        self.method = check_choice("method", method, self.METHODS)
        self.initial = check_number("initial", initial)

    def get_params(self) -> dict[str, Any]:
        return {"window": self.window, "method": self.method, "initial": self.initial}

    def update(self, arm: Any, value: float, step: float | None = None) -> None:
        steps, values = self.arms_.setdefault(arm, [[], []])
        if step is None:
            step = steps[-1] + 1.0 if steps else 0.0
        steps.append(float(step))
        values.append(float(value))
        del steps[: -self.window]
        del values[: -self.window]

    def value(self, arm: Any) -> float:
        record = self.arms_.get(arm)
        if record is None or len(record[1]) < 2:
            return self.initial
        x = np.asarray(record[0])
        y = np.asarray(record[1])
        if self.method == "difference":
            half = y.size // 2
            return float(y[half:].mean() - y[:half].mean())
        dx = x - x.mean()
        denominator = float(dx @ dx)
        if denominator == 0.0:
            return self.initial
        return float(dx @ (y - y.mean()) / denominator)

    def _load_record(self, record: Any) -> Any:
        return [[float(s) for s in record[0]], [float(v) for v in record[1]]]


class AbsoluteLP(ArmStatistic):
    """Absolute learning progress ``|fast - slow|`` from two chained moving averages.

    On observing ``x``: ``fast <- fast + alpha (x - fast)``, then
    ``slow <- slow + alpha (fast - slow)``; both start at 0. This is the bidirectional
    learning progress of Kanitscheider et al., "Multi-task curriculum learning in a complex,
    visual, hard-exploration domain: Minecraft" (arXiv:2106.14876, 2021), as implemented in
    the Syllabus library, without the paper's optional reweighting of success rates.

    Parameters
    ----------
    alpha
        Step size of both averages, in (0, 1]. Default 0.1 (Syllabus's ``ema_alpha``).
    """

    name = "absolute_lp"

    def __init__(self, alpha: float = 0.1) -> None:
        super().__init__()
        self.alpha = check_unit("alpha", alpha, strict=True)

    def get_params(self) -> dict[str, Any]:
        return {"alpha": self.alpha}

    def update(self, arm: Any, value: float, step: float | None = None) -> None:
        fast, slow = self.arms_.get(arm, (0.0, 0.0))
        fast = fast + self.alpha * (float(value) - fast)
        slow = slow + self.alpha * (fast - slow)
        self.arms_[arm] = [fast, slow]

    def value(self, arm: Any) -> float:
        record = self.arms_.get(arm)
        return 0.0 if record is None else abs(record[0] - record[1])

    def _load_record(self, record: Any) -> Any:
        return [float(record[0]), float(record[1])]


class MeanAbsAdvantage(ArmStatistic):
    """Mean absolute advantage over each arm's last ``window`` observations.

    The learnability estimate of DUMP (Wang et al., "DUMP: Automated Distribution-Level
    Curriculum Learning for RL-based LLM Post-training", arXiv:2504.09710, 2025): the
    expected ``|A|`` of a data distribution, estimated over a sliding window. An arm never
    observed has 0, as in the authors' code.

    Parameters
    ----------
    window
        Advantages kept per arm. Default 300 (the authors' ``window_size``).
    """

    name = "mean_abs_advantage"

    def __init__(self, window: int = 300) -> None:
        super().__init__()
        self.window = check_count("window", window, 1)

    def get_params(self) -> dict[str, Any]:
        return {"window": self.window}

    def update(self, arm: Any, value: float, step: float | None = None) -> None:
        self.extend(arm, np.array([float(value)]))

    def extend(self, arm: Any, values: np.ndarray) -> None:
        """Take observations of one arm in the order given (the window of one
        :meth:`update` per value, in one array operation).

        Each arm's window is a float array, oldest first, so that :meth:`value` is
        ``np.mean`` of the same numbers in the same order as over a list (the same
        pairwise sum), without turning a list of ``window`` floats into an array at every
        read."""
        new = np.abs(np.asarray(values, dtype=float).reshape(-1))
        old = self.arms_.get(arm)
        joined = new if old is None else np.concatenate((old, new))
        self.arms_[arm] = joined[-self.window :].copy() if joined.size > self.window else joined

    def value(self, arm: Any) -> float:
        recent = self.arms_.get(arm)
        return float(np.mean(recent)) if recent is not None and recent.size else 0.0

    def _load_record(self, record: Any) -> Any:
        return np.array([float(v) for v in record], dtype=float)


def group_by_learner_and_arm(
    learners: Sequence[Any], arms: Sequence[Any]
) -> dict[Any, dict[Any, list[int]]]:
    """Event indices grouped as ``{learner: {arm: [i, ...]}}``, learners and arms in order of
    first appearance and indices in log order."""
    groups: dict[Any, dict[Any, list[int]]] = {}
    for i, (learner, arm) in enumerate(zip(learners, arms, strict=True)):
        groups.setdefault(learner, {}).setdefault(arm, []).append(i)
    return groups


def batch_advantages(
    outcomes: np.ndarray,
    advantages: np.ndarray | None,
    groups: Mapping[Any, Mapping[Any, list[int]]],
    column: str = "advantage",
) -> np.ndarray:
    """Each event's advantage: the given column when there is one, else the outcome minus the
    mean outcome of the same learner's events on the same arm in this batch (the
    group-relative advantage of GRPO, without dividing by the standard deviation).

    ``groups`` is :func:`group_by_learner_and_arm` of the batch. Without an advantage column,
    a learner's single event on an arm has advantage 0.
    """
    if advantages is not None:
        try:
            adv = np.asarray(advantages, dtype=float)
        except (TypeError, ValueError):
            raise DataError("advantages must be numbers", field=column) from None
        if adv.shape != outcomes.shape:
            raise DataError("one advantage per event is needed", field=column)
        bad = np.flatnonzero(~np.isfinite(adv))
        if bad.size:
            raise DataError("advantage must be finite", field=column, value=str(adv[bad[0]]))
        return adv
    adv = np.empty(outcomes.shape, dtype=float)
    for arms in groups.values():
        for index in arms.values():
            adv[index] = outcomes[index] - outcomes[index].mean()
    return adv
