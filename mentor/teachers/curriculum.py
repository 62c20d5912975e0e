"""Curricula: items sorted by a difficulty score, a pacing function saying how much
of the sorted pool is open at each step, and a uniform draw from the open part.

The three parts of a teacher here are: signal = a difficulty score per item
(the domain's :attr:`Item.difficulty`, a score given per item, or one minus
the student model's predicted success), statistic = the item's rank in the
sorted pool, sampling rule = uniform over the first ``pacing(step)`` fraction
of the ranking (Bengio, Louradour, Collobert and Weston, "Curriculum
learning", ICML 2009; Hacohen and Weinshall, "On the power of curriculum
learning in training deep networks", ICML 2019; Wu, Dyer and Neyshabur, "When
do curricula work?", ICLR 2021, whose easy-to-hard, anti- and random
curricula and pacing functions these are).

- :class:`Curriculum` (``"curriculum"``): easy to hard (or any ``order``).
- :class:`AntiCurriculum` (``"anti_curriculum"``): hard to easy.
- :class:`RandomCurriculum` (``"random_curriculum"``): a fixed random order.
- :class:`CyclicalCurriculum` (``"cyclical"``): the open part grows and shrinks
  in cycles (Kesgin and Amasyali 2023).

The step is the teacher's clock: by default the number of the learner's
events the teacher has observed (so a person's 30th answer and a network's
30th example are both step 30), or the ``t`` passed to :meth:`select`
(``clock="time"``, e.g. a trainer's optimiser step). Nothing assumes seconds
or steps.

This module also holds two small parts that other teachers reuse:
:class:`DifficultyScores` (where a difficulty comes from) and :class:`StepClock`.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mentor._checks import check_choice, check_count, plain
from mentor.domain import Domain
from mentor.errors import MentorError, ParameterError
from mentor.events import EventLog
from mentor.students.base import StudentModel
from mentor.teachers.base import Teacher
from mentor.teachers.pacing import Cyclical, Linear, Pacing, as_pacing

#: The orders a :class:`Curriculum` can sort its pool in.
ORDERS = ("easy_first", "hard_first", "random")
#: The clocks a paced teacher can count steps with.
CLOCKS = ("events", "time")


class DifficultyScores:
    """Where a teacher reads each item's difficulty (larger is harder).

    Parameters
    ----------
    source
        ``"domain"``: :attr:`Item.difficulty` of the domain's items (items
        without one, or not in the domain, have no score); ``"model"``: one
        minus the student model's predicted success for the learner at time
        ``t``; or a score per item, as a mapping or as ``[item, score]`` pairs
        (items not listed have no score).
    domain
        Needed for ``"domain"``.
    owner
        Name of the teacher, for error messages.

    Raises
    ------
    ParameterError
        On an unknown source, a missing domain, or a score that is not a finite number.
    """

    def __init__(self, source: Any, domain: Domain | None, owner: str) -> None:
        self.owner = owner
        self.domain = domain
        self.table: dict[Any, float] | None = None
        if isinstance(source, str):
            if source not in ("domain", "model"):
                raise ParameterError(
                    f"{owner}: difficulty must be 'domain', 'model' or a score per item, "
                    f"got {source!r}"
                )
            if source == "domain" and domain is None:
                raise ParameterError(f"{owner}: difficulty 'domain' needs a domain")
            self.source: str = source
            return
        pairs = source.items() if isinstance(source, Mapping) else source
        table: dict[Any, float] = {}
        try:
            for item, score in pairs:
                value = float(score)
                if not math.isfinite(value):
                    raise ValueError
                table[plain(item)] = value
        except (TypeError, ValueError):
            raise ParameterError(
                f"{owner}: difficulty must be 'domain', 'model', or finite scores per item"
            ) from None
        self.source = "table"
        self.table = table

    @property
    def needs_model(self) -> bool:
        """Whether scores come from the student model."""
        return self.source == "model"

    def spec(self) -> Any:
        """The source as JSON-able data (what the teacher's constructor takes back)."""
        if self.table is None:
            return self.source
        return [[item, score] for item, score in self.table.items()]

    def known(self) -> np.ndarray:
        """Every score known without a model: the domain's difficulties or the table's."""
        if self.table is not None:
            return np.array(list(self.table.values()), dtype=float)
        if self.source == "domain" and self.domain is not None:
            values = [i.difficulty for i in self.domain.items.values() if i.difficulty is not None]
            return np.array(values, dtype=float)
        return np.array([], dtype=float)

    def __call__(
        self,
        learner: Any,
        candidates: Sequence[Any] | np.ndarray,
        t: float | None,
        model: StudentModel | None,
    ) -> np.ndarray:
        """Scores of ``candidates``, NaN where an item has none."""
        if self.source == "model":
            if model is None:
                raise MentorError(f"teacher {self.owner!r} needs a student model to score items")
            return 1.0 - np.asarray(model.predict(learner, candidates, t), dtype=float)
        if self.table is not None:
            table = self.table
            return np.array([table.get(plain(c), np.nan) for c in candidates], dtype=float)
        items = self.domain.items if self.domain is not None else {}
        out = np.full(len(candidates), np.nan)
        for i, c in enumerate(candidates):
            item = items.get(plain(c))
            if item is not None and item.difficulty is not None:
                out[i] = item.difficulty
        return out


class StepClock:
    """The step a paced teacher is at for a learner.

    ``clock="events"``: the number of the learner's events observed so far
    (kept per learner, saved with the teacher). ``clock="time"``: the ``t``
    given to ``select`` (which then must not be None).
    """

    def __init__(self, clock: str, owner: str) -> None:
        self.clock = check_choice("clock", clock, CLOCKS)
        self.owner = owner
        self.count: dict[Any, int] = {}

    def step(self, learner: Any, t: float | None) -> float:
        """The learner's current step."""
        if self.clock == "events":
            return float(self.count.get(learner, 0))
        if t is None:
            raise MentorError(f"teacher {self.owner!r} counts steps by time: pass t to select")
        return float(t)

    def observe(self, events: EventLog) -> None:
        """Advance the observed learners' event counts."""
        learners, counts = np.unique(events.learner, return_counts=True)
        for learner, n in zip(learners.tolist(), counts.tolist(), strict=True):
            self.count[learner] = self.count.get(learner, 0) + n

    def state_dict(self) -> list[list[Any]]:
        return [[learner, n] for learner, n in self.count.items()]

    def load_state_dict(self, state: Any) -> None:
        self.count = {learner: int(n) for learner, n in state}


def random_keys(seed: int, candidates: Sequence[Any] | np.ndarray) -> np.ndarray:
    """A fixed pseudo-random key in [0, 1) per item, from a hash of ``seed`` and the id.

    The same item always gets the same key, whatever the other candidates and
    whenever it is asked: a fixed random ordering that needs no saved state.
    """
    keys = np.empty(len(candidates))
    for i, c in enumerate(candidates):
        c = plain(c)
        digest = hashlib.blake2b(
            f"{seed}\x1f{type(c).__name__}\x1f{c!r}".encode(), digest_size=8
        ).digest()
        keys[i] = int.from_bytes(digest, "big") / 2.0**64
    return keys


def rank(scores: np.ndarray, descending: bool = False) -> np.ndarray:
    """Candidate indices from lowest to highest score (highest first if ``descending``);
    items without a score (NaN) last; ties keep the candidates' order."""
    scores = np.asarray(scores, dtype=float)
    missing = np.isnan(scores)
    keys = np.where(missing, 0.0, -scores if descending else scores)
    return np.lexsort((np.arange(scores.size), keys, missing))


def open_size(fraction: float, n: int, k: int) -> int:
    """How many of ``n`` sorted items are open: ``floor(fraction * n)``, at least 1
    and at least ``k`` (a batch is never smaller than asked for, as in Hacohen and
    Weinshall's code), at most ``n``."""
    size = math.floor(fraction * n + 1e-9)
    return min(n, max(size, 1, min(k, n)))


class Curriculum(Teacher):
    """Easy to hard: uniform draws from the easiest ``pacing(step)`` fraction of the pool.

    Bengio et al. 2009; pacing functions of Hacohen and Weinshall 2019 and Wu et
    al. 2021 (see :mod:`mentor.teachers.pacing`).

    Parameters
    ----------
    domain
        Gives :attr:`Item.difficulty` when ``difficulty="domain"``.
    difficulty
        ``"domain"`` (default), ``"model"`` (one minus predicted success) or a
        score per item (mapping or ``[item, score]`` pairs); see
        :class:`DifficultyScores`. Items without a score come last in the order.
    pacing
        A :class:`~mentor.teachers.pacing.Pacing`, its ``spec()`` form or a
        name. Default ``Linear(start=0.2, ramp=1000)`` (ours).
    clock
        ``"events"`` (default: the learner's observed events) or ``"time"``
        (the ``t`` given to :meth:`select`).
    order
        ``"easy_first"`` (default), ``"hard_first"`` or ``"random"``.
    order_seed
        Seed of the fixed random order (``order="random"``); drawn from ``seed`` if None.
    seed
        Seed of the teacher's draws.

    The pool is the candidates of each call: the open part is the first
    ``max(1, k, floor(pacing(step) * len(candidates)))`` of them in the order;
    ties keep the candidates' order.
    """

    name = "curriculum"

    def __init__(
        self,
        domain: Domain | None = None,
        difficulty: Any = "domain",
        pacing: Pacing | Mapping[str, Any] | str | None = None,
        clock: str = "events",
        order: str = "easy_first",
        order_seed: int | None = None,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(seed)
        self.domain = domain
        self.order = check_choice("order", order, ORDERS)
        self.difficulty = (
            None if order == "random" else DifficultyScores(difficulty, domain, self.name)
        )
        self.pacing = Linear() if pacing is None else as_pacing(pacing)
        self.steps_ = StepClock(clock, self.name)
        if order_seed is None and order == "random":
            order_seed = int(self.rng.integers(2**62))
        if order_seed is not None:
            order_seed = check_count("order_seed", order_seed, None)
        self.order_seed = order_seed

    def get_params(self) -> dict[str, Any]:
        return {
            "difficulty": None if self.difficulty is None else self.difficulty.spec(),
            "pacing": self.pacing.spec(),
            "clock": self.steps_.clock,
            "order": self.order,
            "order_seed": self.order_seed,
        }

    def fraction(self, learner: Any, t: float | None = None) -> float:
        """The fraction of the sorted pool open to ``learner`` now."""
        return self.pacing(self.steps_.step(learner, t))

    def ranking(
        self,
        learner: Any,
        candidates: Sequence[Any],
        t: float | None = None,
        model: StudentModel | None = None,
    ) -> list[Any]:
        """The candidates in teaching order (first = opened first)."""
        return [candidates[i] for i in self._rank(learner, candidates, t, model).tolist()]

    def _rank(
        self,
        learner: Any,
        candidates: Sequence[Any] | np.ndarray,
        t: float | None,
        model: StudentModel | None,
    ) -> np.ndarray:
        """Positions of ``candidates`` from first opened to last. The candidates may be
        a 1-D array: :class:`mentor.torch.sampler.CurriculumSampler` ranks a dataset's
        indices this way without building a list of them."""
        if self.order == "random" or self.difficulty is None:  # no difficulty when random
            return rank(random_keys(self.order_seed or 0, candidates))
        scores = self.difficulty(learner, candidates, t, model)
        return rank(scores, descending=self.order == "hard_first")

    def select(
        self,
        learner: Any,
        candidates: Sequence[Any],
        k: int = 1,
        t: float | None = None,
        model: StudentModel | None = None,
    ) -> list[Any]:
        self._check(candidates, k, model)
        n = len(candidates)
        if not n:
            return []
        fraction = self.fraction(learner, t)
        order = self._rank(learner, candidates, t, model)
        size = open_size(fraction, n, k)
        picks = self.rng.choice(size, size=min(k, size), replace=False)
        return [candidates[order[i]] for i in picks.tolist()]

    def observe(self, events: EventLog) -> None:
        """Advance the observed learners' steps (clock ``"events"``)."""
        self.steps_.observe(events)

    def _get_state(self) -> dict[str, Any]:
        return {"steps": self.steps_.state_dict()}

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self.steps_.load_state_dict(state["steps"])


class AntiCurriculum(Curriculum):
    """Hard to easy: uniform draws from the hardest ``pacing(step)`` fraction.

    The anti-curriculum of Hacohen and Weinshall 2019 and Wu et al. 2021.
    Parameters as :class:`Curriculum` (``domain``, ``difficulty``, ``pacing``
    default ``Linear(0.2, 1000)``, ``clock``, ``seed``), without ``order``.
    """

    name = "anti_curriculum"

    def __init__(
        self,
        domain: Domain | None = None,
        difficulty: Any = "domain",
        pacing: Pacing | Mapping[str, Any] | str | None = None,
        clock: str = "events",
        seed: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(domain, difficulty, pacing, clock, order="hard_first", seed=seed)

    def get_params(self) -> dict[str, Any]:
        params = super().get_params()
        del params["order"], params["order_seed"]
        return params


class RandomCurriculum(Curriculum):
    """A fixed random order, paced: the random-curriculum control of Wu et al. 2021.

    Every item gets a pseudo-random rank from a hash of ``order_seed`` and its
    id, so the order is the same at every call and after a restore.

    Parameters
    ----------
    pacing
        Default ``Linear(0.2, 1000)`` (ours).
    clock
        ``"events"`` (default) or ``"time"``.
    order_seed
        Seed of the order; drawn from ``seed`` when None.
    seed
        Seed of the teacher's draws.
    """

    name = "random_curriculum"

    def __init__(
        self,
        pacing: Pacing | Mapping[str, Any] | str | None = None,
        clock: str = "events",
        order_seed: int | None = None,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(None, "model", pacing, clock, "random", order_seed, seed)

    def get_params(self) -> dict[str, Any]:
        params = super().get_params()
        del params["order"], params["difficulty"]
        return params


class CyclicalCurriculum(Curriculum):
    """Cyclical curriculum learning: the open part of the sorted pool grows from
    ``start`` to ``end`` and shrinks back, in cycles.

    Kesgin and Amasyali, "Cyclical Curriculum Learning", IEEE Transactions on
    Neural Networks and Learning Systems, 2023 (arXiv 2202.05531): sizes follow
    :class:`~mentor.teachers.pacing.Cyclical`. The paper draws each epoch's
    subset with probability proportional to a per-example score; here, as for
    every curriculum of this module, the open part is the easiest fraction of
    the sorted pool and draws are uniform within it.

    Parameters
    ----------
    domain, difficulty, clock, order, order_seed, seed
        As :class:`Curriculum`.
    start, end, multiplier, phase_length
        The cycle (sp, ep, alpha of the paper; steps per phase). Defaults 0.25,
        1.0, 0.5, 100 (ours).
    """

    name = "cyclical"

    def __init__(
        self,
        domain: Domain | None = None,
        difficulty: Any = "domain",
        start: float = 0.25,
        end: float = 1.0,
        multiplier: float = 0.5,
        phase_length: float = 100.0,
        clock: str = "events",
        order: str = "easy_first",
        order_seed: int | None = None,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        pacing = Cyclical(start, end, multiplier, phase_length)
        super().__init__(domain, difficulty, pacing, clock, order, order_seed, seed)

    def get_params(self) -> dict[str, Any]:
        params = super().get_params()
        params.update(params.pop("pacing"))
        del params["kind"]
        return params
