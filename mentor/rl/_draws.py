"""A teacher choosing prompts for an RL trainer, and learning from their rollouts' rewards.

This is the part of every RL adapter that does not depend on the trainer library: the TRL
sampler, the TRL reward wrapper, the verl sampler and the SFT curricula all hold one
:class:`TeacherDraws`.

Two ways of choosing
--------------------
Over prompts (``arms=None``): the teacher's items are the prompt ids; one
``teacher.select(learner, ids, k, t)`` call picks the ``k`` distinct prompts of a chunk. This
is how per-prompt teachers work (online difficulty filtering, learnability over prompts,
AdaRFT with a difficulty per prompt).

Over arms (``arms`` gives each prompt's arm: a difficulty level, a data source): one
``teacher.select_slots(learner, arm_ids, k, t)`` call fills the ``k`` slots of a chunk, each
slot one pick, with repetition (the way SEC, Chen et al. 2025, and DUMP, Wang et al. 2025,
fill a batch from their category distribution). Teachers that sample from a distribution
over the arms (SEC, DUMP, TSCL, learnability, ...) compute it once per chunk and draw the
``k`` arms from it; any other teacher is called once per slot with ``select(..., 1, t)``
(see :meth:`~mentor.teachers.base.Teacher.select_slots`). The slot's prompt is the next one
of that arm's own shuffled cycle (every prompt of an arm is used once before any is used
twice).

Feedback
--------
:meth:`TeacherDraws.observe` takes one reward per rollout with its prompt id, and hands the
teacher one :class:`~mentor.events.EventLog`: learner ``learner``, item the prompt id (or its
arm), time ``t``, outcome the reward mapped to [0, 1] by ``reward_range`` (clipped), and an
``advantage`` column: the outcome minus the mean outcome of the rollouts of the same prompt in
the call (GRPO's group-relative advantage without the division by the standard deviation;
SEC's and DUMP's signal). A teacher is told nothing about prompts it has not seen rewarded.

A trainer that prefetches its data decides the next chunk before the rewards of the current
one arrive; teachers are built for that (they only keep per-arm statistics of what they have
observed). :attr:`TeacherDraws.timing_` adds up the seconds spent in ``select`` and in
``observe``, to measure the teacher's overhead per step.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from mentor._checks import check_count, plain
from mentor.errors import DataError, ParameterError
from mentor.events import EventLog
from mentor.teachers.base import Teacher


def _ids(name: str, values: Any) -> list[Any]:
    ids = [plain(v) for v in (values.tolist() if hasattr(values, "tolist") else values)]
    for i, value in enumerate(ids):
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise DataError(
                "ids must be integers or strings", field=name, value=f"row {i}: {value!r}"
            )
    return ids


def rollout_events(
    learner: Any,
    items: Sequence[Any],
    groups: Sequence[int],
    rewards: np.ndarray,
    t: float,
    reward_range: tuple[float, float],
) -> EventLog:
    """One event per rollout (see the module docstring): ``items`` the teacher's item of each
    rollout, ``groups`` an integer naming each rollout's group (its prompt), the outcome the
    reward mapped to [0, 1] by ``reward_range`` (NaN as ``low``), the ``advantage`` the
    outcome minus the mean outcome of its group."""
    low, high = reward_range
    outcome = np.clip((np.nan_to_num(rewards, nan=low) - low) / (high - low), 0.0, 1.0)
    _, group = np.unique(np.asarray(groups, dtype=np.int64), return_inverse=True)
    means = np.bincount(group, weights=outcome) / np.bincount(group)
    return EventLog(
        [learner] * len(items),
        list(items),
        np.full(len(items), float(t)),
        outcome,
        {"advantage": outcome - means[group]},
    )


class TeacherDraws:
    """A teacher choosing chunks of prompts (rows of a dataset) and observing their rewards.

    Parameters
    ----------
    teacher
        Any :class:`~mentor.teachers.base.Teacher`.
    ids
        One id per dataset row (integers or strings, distinct): the prompt ids that rewards
        are reported with. Default: the row numbers ``0 .. n - 1`` (give ``n``).
    arms
        One arm id per row, or None to let the teacher choose prompts.
    n
        Number of rows, when ``ids`` is not given.
    learner
        The learner id of the events. Default 0.
    reward_range
        ``(low, high)``: a reward ``r`` becomes the outcome ``(r - low) / (high - low)``,
        clipped to [0, 1]. Default ``(0, 1)``.
    seed
        Seed of the cycles within arms and of the fill-up draws.

    When the teacher returns fewer than ``k`` prompts (a filter that lets none through),
    the chunk is completed with prompts drawn uniformly at random; :attr:`filled_` counts
    them.
    """

    def __init__(
        self,
        teacher: Teacher,
        ids: Sequence[Any] | None = None,
        arms: Sequence[Any] | None = None,
        *,
        n: int | None = None,
        learner: Any = 0,
        reward_range: tuple[float, float] = (0.0, 1.0),
        seed: int | None = None,
    ) -> None:
        if not isinstance(teacher, Teacher):
            raise ParameterError(
                "must be a mentor Teacher", field="teacher", value=type(teacher).__name__
            )
        if ids is None:
            if n is None:
                raise ParameterError("give ids, or a number of rows n >= 1", field="n", value=n)
            ids = range(check_count("n", n, 1))
        self.teacher = teacher
        self.ids = _ids("ids", ids)
        if not self.ids:
            raise DataError("no prompts to choose from", field="ids")
        self.row_of: dict[Any, int] = {}
        for row, prompt in enumerate(self.ids):
            if prompt in self.row_of:
                raise DataError(
                    f"duplicate prompt id (rows {self.row_of[prompt]} and {row})",
                    field="ids",
                    value=prompt,
                )
            self.row_of[prompt] = row
        low, high = (float(x) for x in reward_range)
        if not (np.isfinite(low) and np.isfinite(high) and high > low):
            raise ParameterError("needs low < high", field="reward_range", value=reward_range)
        self.reward_range = (low, high)
        self.learner = learner
        self.rng = np.random.default_rng(seed)
        self.arms: list[Any] | None = None
        if arms is not None:
            arms = _ids("arms", arms)
            if len(arms) != len(self.ids):
                raise DataError(
                    f"has {len(arms)} arm ids for {len(self.ids)} prompts", field="arms"
                )
            self.arms = arms
            self.arm_ids = sorted(set(arms), key=lambda a: (isinstance(a, str), a))
            self.members: dict[Any, list[int]] = {arm: [] for arm in self.arm_ids}
            for row, arm in enumerate(arms):
                self.members[arm].append(row)
            self._cycles: dict[Any, list[int]] = {arm: [] for arm in self.arm_ids}
        self.filled_ = 0
        self.timing_ = {"select": 0.0, "observe": 0.0, "select_calls": 0, "observe_calls": 0}

    def __len__(self) -> int:
        return len(self.ids)

    def item_of(self, prompt: Any) -> Any:
        """The teacher's item for a prompt id: the prompt itself, or its arm."""
        row = self._row(prompt)
        return self.ids[row] if self.arms is None else self.arms[row]

    def _row(self, prompt: Any) -> int:
        row = self.row_of.get(plain(prompt))
        if row is None:
            raise DataError("reward for an unknown prompt id", field="id", value=plain(prompt))
        return row

    # ------------------------------------------------------------------ choosing
    def draw(self, k: int, t: float | None = None) -> list[int]:
        """The rows of the next chunk of ``k`` prompts (distinct when choosing prompts)."""
        k = check_count("k", k, 1)
        start = time.perf_counter()
        if self.arms is None:
            picks = self.teacher.select(self.learner, self.ids, min(k, len(self.ids)), t)
            rows = [self.row_of[plain(p)] for p in picks]
            self.timing_["select_calls"] += 1
        else:
            arms = self.teacher.select_slots(self.learner, self.arm_ids, k, t)
            rows = [self._next_of(plain(arm)) for arm in arms]
            self.timing_["select_calls"] += 1
        self.timing_["select"] += time.perf_counter() - start
        if len(rows) < k:
            self.filled_ += k - len(rows)
            rows += self.rng.integers(len(self.ids), size=k - len(rows)).tolist()
        return rows

    def _next_of(self, arm: Any) -> int:
        cycle = self._cycles[arm]
        if not cycle:
            cycle.extend(self.rng.permutation(self.members[arm]).tolist())
        return cycle.pop()

    # ------------------------------------------------------------------ learning
    def events(
        self, prompts: Sequence[Any], rewards: Sequence[float] | np.ndarray, t: float
    ) -> EventLog:
        """The event log that :meth:`observe` hands the teacher (see the module docstring)."""
        rewards = np.asarray(rewards, dtype=float)
        if rewards.ndim != 1 or rewards.size != len(prompts):
            raise DataError(
                f"got {rewards.size} rewards for {len(prompts)} prompt ids", field="rewards"
            )
        known: dict[Any, int] = {}  # a GRPO batch repeats each prompt num_generations times
        rows = [known[p] if p in known else known.setdefault(p, self._row(p)) for p in prompts]
        labels = self.ids if self.arms is None else self.arms
        items = [labels[row] for row in rows]
        return rollout_events(self.learner, items, rows, rewards, t, self.reward_range)

    def observe(
        self, prompts: Sequence[Any], rewards: Sequence[float] | np.ndarray, t: float
    ) -> None:
        """Hand the teacher one reward per rollout (with its prompt id), made at step ``t``.
        Rewards that are NaN (no reward function scored the rollout) are left out."""
        rewards = np.asarray(rewards, dtype=float)
        if rewards.ndim != 1 or rewards.size != len(prompts):
            raise DataError(
                f"got {rewards.size} rewards for {len(prompts)} prompt ids", field="rewards"
            )
        keep = ~np.isnan(rewards)
        if not keep.any():
            return
        prompts = [p for p, ok in zip(prompts, keep.tolist(), strict=True) if ok]
        start = time.perf_counter()
        self.teacher.observe(self.events(prompts, rewards[keep], t))
        self.timing_["observe"] += time.perf_counter() - start
        self.timing_["observe_calls"] += 1
