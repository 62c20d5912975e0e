"""Curriculum sampling for any training loop: a mentor teacher picks every batch.

The learner is the network (one learner id); the items are the examples of a
dataset of ``n``, named by their index. :class:`CurriculumSampler` is a torch
batch sampler (``DataLoader(dataset, batch_sampler=sampler)``) or a plain
iterator (:meth:`CurriculumSampler.next_batch`); :meth:`CurriculumSampler.examples`
gives the same draws one index at a time. After each step, one call,
:meth:`CurriculumSampler.feedback`, hands the batch's per-example losses and
correctness to the teacher (as an :class:`~mentor.events.EventLog`) and to the
difficulty scorer.

Two ways of choosing
--------------------
Over examples (default): the teacher selects ``batch_size`` examples from all
``n``. Teachers of the curriculum family (:class:`~mentor.teachers.Curriculum`,
anti-, random and cyclical curricula, any pacing of
:mod:`mentor.teachers.pacing`) are served by a vectorised path that draws
exactly what ``teacher.select`` would, without sorting ``n`` examples at every
step: the teacher's ranking is computed once and again only when the scores
have changed and ``rescore_every`` steps have passed; each step then costs the
teacher's pacing and one draw of ``batch_size`` positions. Other teachers get
one ``select`` call per batch over the candidates (a list of the indices, in
the seeded order). Teachers that read a
student model (``difficulty="model"``, self-paced ``signal="model"``) read the
scorer through :class:`~mentor.torch.scoring.ScoreModel`, which predicts and does
no more: a teacher that reads per-skill mastery or looks ahead (the mastery gate,
expected gain) cannot be served by difficulty scores.

Over arms (``arms=``, one arm id per example: a class, a data source, a task):
the teacher selects ``arms_per_batch`` distinct arms, the batch is split
evenly between them, and each part is drawn uniformly without replacement
from its arm's examples (with replacement only when the arm is smaller than
its part). The teacher observes each example's outcome under its arm's id.

Outcomes
--------
An event's outcome in [0, 1] is, in order of preference, the ``outcome``
given, the 0/1 ``correct`` flag, or ``exp(-loss)``: for a cross-entropy loss,
the probability the network gives to the example's label. The raw loss is
kept in the events' ``loss`` column (which self-paced learning with
``signal="observed"`` reads). Event times are the step at which the batch was
drawn. With a DataLoader that prefetches, the teacher decides a few batches
ahead of the feedback it has received.

The step a teacher's pacing counts is either its observed examples (a
curriculum's ``clock="events"``) or this sampler's batches drawn so far,
passed as ``t`` (``clock="time"``).
"""

from __future__ import annotations

import math
import secrets
from collections import deque
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import torch
from torch.utils.data import Sampler

from mentor._checks import check_count
from mentor.errors import DataError, ParameterError, StateError
from mentor.events import EventLog
from mentor.teachers.base import Teacher
from mentor.teachers.curriculum import Curriculum, open_size
from mentor.teachers.self_paced import SelfPaced
from mentor.torch.scoring import ScoreModel, Scorer, decode_array, encode_array

STATE_KIND = "curriculum_sampler"
STATE_VERSION = 1


def as_numpy(name: str, value: Any) -> np.ndarray:
    """A tensor, array or sequence as a 1-D NumPy array (tensors detached, on the CPU)."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    array = np.asarray(value)
    if array.ndim != 1:
        raise DataError("must be one value per example (1-D)", field=name, value=array.shape)
    return array


def needs_scores(teacher: Teacher) -> bool:
    """Whether the teacher reads difficulties from a student model."""
    if isinstance(teacher, Curriculum):
        return teacher.difficulty is not None and teacher.difficulty.needs_model
    if isinstance(teacher, SelfPaced):
        return teacher.signal == "model"
    return bool(teacher.needs_model)


class CurriculumSampler(Sampler[list[int]]):
    """Batches of dataset indices chosen by a mentor teacher, fed back one call per step.

    Parameters
    ----------
    teacher
        Any :class:`~mentor.teachers.base.Teacher`.
    n
        Number of examples (``len(dataset)``).
    batch_size
        Examples per batch.
    scorer
        Difficulty scores of the examples (:mod:`mentor.torch.scoring`), needed
        by teachers that read a student model; updated by :meth:`feedback`.
    arms
        One arm id per example (ints or strings): the teacher then chooses
        arms, not examples (see the module docstring).
    arms_per_batch
        Distinct arms asked of the teacher per batch. Default 1.
    steps_per_epoch
        Batches per pass of ``iter(sampler)`` (its ``len``). Default
        ``ceil(n / batch_size)``.
    rescore_every
        Fewest steps between two rankings of the examples by a curriculum
        teacher when the scores keep changing. Default 100 (ours).
    learner
        The learner id of the events. Default 0.
    max_pending
        Batches drawn and not yet fed back that are remembered (older ones are
        forgotten). Default 64.
    seed
        Seed of the candidate order (which breaks ties between equal scores)
        and of the draws within arms; the teacher's own draws use its seed.
    """

    def __init__(
        self,
        teacher: Teacher,
        n: int,
        batch_size: int,
        *,
        scorer: Scorer | None = None,
        arms: Any = None,
        arms_per_batch: int = 1,
        steps_per_epoch: int | None = None,
        rescore_every: int = 100,
        learner: Any = 0,
        max_pending: int = 64,
        seed: int | None = None,
    ) -> None:
        if not isinstance(teacher, Teacher):
            raise ParameterError(
                "must be a mentor Teacher", field="teacher", value=type(teacher).__name__
            )
        self.teacher = teacher
        self.n = check_count("n", n, 1)
        self.batch_size = check_count("batch_size", batch_size, 1)
        self.arms_per_batch = check_count("arms_per_batch", arms_per_batch, 1)
        if self.arms_per_batch > self.batch_size:
            raise ParameterError(
                f"cannot exceed batch_size {self.batch_size}",
                field="arms_per_batch",
                value=arms_per_batch,
            )
        default_steps = math.ceil(self.n / self.batch_size)
        self.steps_per_epoch = check_count(
            "steps_per_epoch", default_steps if steps_per_epoch is None else steps_per_epoch, 1
        )
        self.rescore_every = check_count("rescore_every", rescore_every, 1)
        self.max_pending = check_count("max_pending", max_pending, 1)
        self.learner = learner
        if seed is None:
            seed = secrets.randbits(63)
        self.seed = check_count("seed", seed, None)
        if scorer is not None and scorer.n != self.n:
            raise ParameterError(f"scores {scorer.n} examples, not {self.n}", field="scorer")
        self.scorer = scorer
        self.arms: np.ndarray | None = None
        if arms is None:
            if teacher.needs_lookahead:
                raise ParameterError(
                    f"teacher {teacher.name!r} plans with a student model's look-ahead, "
                    "which difficulty scores cannot give",
                    field="teacher",
                )
            if needs_scores(teacher) and scorer is None:
                raise ParameterError(
                    f"teacher {teacher.name!r} reads difficulties from a model: give a scorer",
                    field="scorer",
                )
            self.candidates = np.random.default_rng([self.seed, 0]).permutation(self.n)
            # what teachers other than curricula select from (Teacher.select takes a sequence)
            self._candidate_list: list[int] = self.candidates.tolist()
        else:
            self._set_arms(as_numpy("arms", arms))
        self._model = None if scorer is None else ScoreModel(scorer)
        self.rng = np.random.default_rng([self.seed, 1])
        self.step_ = 0
        self._pending: deque[tuple[int, np.ndarray]] = deque()
        self._replay: deque[np.ndarray] = deque()
        self._order: np.ndarray | None = None
        self._ranked_version = 0
        self._ranked_step = 0

    def _set_arms(self, arms: np.ndarray) -> None:
        if arms.size != self.n:
            raise DataError(f"has {arms.size} arm ids for {self.n} examples", field="arms")
        if arms.dtype.kind not in "biuU":
            arms = arms.astype(str)
        values, code = np.unique(arms, return_inverse=True)
        self.arms = arms
        self.arm_ids = values.tolist()
        order = np.argsort(code, kind="stable")
        bounds = np.cumsum(np.bincount(code, minlength=values.size))[:-1]
        self.members = np.split(order, bounds)
        self._arm_index = {arm: i for i, arm in enumerate(self.arm_ids)}
        self.candidates = np.asarray(self.arm_ids)

    # ------------------------------------------------------------------ drawing
    def __len__(self) -> int:
        return self.steps_per_epoch

    def __iter__(self) -> Iterator[list[int]]:
        self.drop_unfed()
        for _ in range(self.steps_per_epoch):
            yield self.next_batch().tolist()

    def drop_unfed(self) -> None:
        """Forget the batches drawn and not fed back, except those a restored state
        draws again. Each pass of ``iter(sampler)`` starts with this: batches a
        DataLoader fetched ahead in a pass that ended early (a ``break``) never
        reach the loop, and would otherwise be taken for the next pass's batches."""
        replaying = {id(batch) for batch in self._replay}
        self._pending = deque(entry for entry in self._pending if id(entry[1]) in replaying)

    def examples(self) -> ExampleSampler:
        """The same draws as a sampler of single indices, for
        ``DataLoader(dataset, sampler=..., batch_size=batch_size)``."""
        return ExampleSampler(self)

    def next_batch(self) -> np.ndarray:
        """The next batch of example indices (int64); remembered until fed back."""
        if self._replay:
            return self._replay.popleft()
        t = float(self.step_)
        if self.arms is not None:
            batch = self._draw_arms(t)
        elif isinstance(self.teacher, Curriculum):
            batch = self._draw_ranked(self.teacher, t)
        else:
            picks = self.teacher.select(
                self.learner, self._candidate_list, self.batch_size, t, self._model
            )
            batch = np.asarray(picks, dtype=np.int64)
        self._pending.append((self.step_, batch))
        if len(self._pending) > self.max_pending:
            self._pending.popleft()
        self.step_ += 1
        return batch

    def _draw_ranked(self, teacher: Curriculum, t: float) -> np.ndarray:
        """What ``Curriculum.select`` draws, from the cached ranking."""
        order = self.ranking(t)
        size = open_size(teacher.fraction(self.learner, t), self.n, self.batch_size)
        picks = teacher.rng.choice(size, size=min(self.batch_size, size), replace=False)
        return order[picks]

    def ranking(self, t: float | None = None) -> np.ndarray:
        """A curriculum teacher's order of the examples (first = opened first), cached."""
        if not isinstance(self.teacher, Curriculum):
            raise ParameterError(
                "only curriculum teachers rank examples", field="teacher", value=self.teacher.name
            )
        stale = self._order is None
        if not stale and self.scorer is not None and needs_scores(self.teacher):
            changed = self.scorer.version != self._ranked_version
            stale = changed and self.step_ - self._ranked_step >= self.rescore_every
        if stale or self._order is None:
            # the teacher's own ranking, as positions: Curriculum.ranking would
            # build a Python list of n items
            positions = self.teacher._rank(self.learner, self.candidates, t, self._model)
            self._order = self.candidates[positions]
            self._ranked_version = 0 if self.scorer is None else self.scorer.version
            self._ranked_step = self.step_
        return self._order

    def _draw_arms(self, t: float) -> np.ndarray:
        chosen = self.teacher.select(
            self.learner, self.arm_ids, min(self.arms_per_batch, len(self.arm_ids)), t, None
        )
        if not chosen:
            raise DataError(f"teacher {self.teacher.name!r} chose no arm", field="arms")
        sizes = [part.size for part in np.array_split(np.arange(self.batch_size), len(chosen))]
        parts = []
        for arm, size in zip(chosen, sizes, strict=True):
            members = self.members[self._arm_index[arm]]
            parts.append(self.rng.choice(members, size=size, replace=size > members.size))
        return np.concatenate(parts).astype(np.int64)

    # ------------------------------------------------------------------ feedback
    def pending(self) -> np.ndarray | None:
        """The oldest batch drawn and not yet fed back (None if there is none)."""
        return self._pending[0][1] if self._pending else None

    def feedback(
        self,
        indices: Any,
        losses: Any = None,
        correct: Any = None,
        outcome: Any = None,
    ) -> EventLog:
        """Hand one step's per-example results to the teacher and the scorer.

        Parameters
        ----------
        indices
            Example indices of one batch drawn by this sampler (all of it or a
            part of it), as a tensor, array or list.
        losses
            Per-example losses (finite); stored in the events' ``loss`` column
            and given to the scorer.
        correct
            Per-example 0/1 (or boolean) correctness.
        outcome
            Per-example outcomes in [0, 1], overriding the two above.

        Returns
        -------
        EventLog
            The events the teacher observed: outcome ``outcome``, else
            ``correct``, else ``exp(-loss)``.

        Raises
        ------
        DataError
            On an index that is not in a batch awaiting feedback, columns of
            other lengths than ``indices``, a NaN or infinite loss, a
            ``correct`` other than 0/1, or an outcome outside [0, 1].
        """
        idx, position = self._locate(indices)
        m = idx.size
        loss = self._column("losses", losses, m, idx)
        corr = self._column("correct", correct, m, idx)
        given = self._column("outcome", outcome, m, idx)
        if corr is not None and not ((corr == 0) | (corr == 1)).all():
            bad = np.flatnonzero((corr != 0) & (corr != 1))
            if bad.size:
                raise DataError(
                    f"must be 0 or 1 (example {int(idx[bad[0]])})",
                    field="correct",
                    value=float(corr[bad[0]]),
                )
        if given is not None:
            bad = np.flatnonzero((given < 0) | (given > 1))
            if bad.size:
                raise DataError(
                    f"must lie in [0, 1] (example {int(idx[bad[0]])})",
                    field="outcome",
                    value=float(given[bad[0]]),
                )
            out = given
        elif corr is not None:
            out = corr
        elif loss is not None:
            bad = np.flatnonzero(loss < 0)
            if bad.size:
                raise DataError(
                    f"must be >= 0 to be read as outcome exp(-loss) (example "
                    f"{int(idx[bad[0]])}); pass correct or outcome",
                    field="losses",
                    value=float(loss[bad[0]]),
                )
            out = np.exp(-loss)
        else:
            raise DataError("give losses, correct or outcome", field="losses")
        step = self._retire(position)
        items = idx if self.arms is None else self.arms[idx]
        events = EventLog(
            np.full(m, self.learner),
            items,
            np.full(m, float(step)),
            out,
            None if loss is None else {"loss": loss},
            validate=False,
        )
        self.teacher.observe(events)
        if self.scorer is not None:
            self.scorer.update(idx, loss, corr)
        return events

    def discard(self, indices: Any) -> None:
        """Forget the pending batch holding ``indices`` without feedback (a step that
        failed); nothing happens if no pending batch holds them."""
        idx = as_numpy("indices", indices)
        for position, (_, batch) in enumerate(self._pending):
            if idx.size and np.isin(idx, batch).all():
                del self._pending[position]
                return

    def _locate(self, indices: Any) -> tuple[np.ndarray, int]:
        """``indices`` as int64 and the position of the pending batch holding them."""
        idx = as_numpy("indices", indices)
        if idx.dtype.kind not in "iu":
            raise DataError(
                "must be integer example indices", field="indices", value=str(idx.dtype)
            )
        idx = idx.astype(np.int64, copy=False)
        for position, (_, batch) in enumerate(self._pending):
            if np.array_equal(idx, batch):  # the usual case: the whole batch
                return idx, position
        if not idx.size:
            raise DataError("is empty", field="indices")
        if idx.min() < 0 or idx.max() >= self.n:
            bad = np.flatnonzero((idx < 0) | (idx >= self.n))
            raise DataError(
                f"is not an example index (0..{self.n - 1})",
                field="indices",
                value=int(idx[bad[0]]),
            )
        for position, (_, batch) in enumerate(self._pending):
            if np.isin(idx, batch).all():
                return idx, position
        drawn = np.concatenate([b for _, b in self._pending]) if self._pending else np.zeros(0)
        missing = idx[~np.isin(idx, drawn)]
        if missing.size:
            raise DataError(
                "was not drawn in a batch awaiting feedback (never drawn, or already fed back)",
                field="indices",
                value=int(missing[0]),
            )
        raise DataError(
            "mixes examples of several batches: give feedback per batch", field="indices"
        )

    @staticmethod
    def _column(name: str, value: Any, m: int, idx: np.ndarray) -> np.ndarray | None:
        if value is None:
            return None
        array = as_numpy(name, value)
        if array.dtype.kind not in "biuf":
            raise DataError("must be numbers", field=name, value=str(array.dtype))
        array = array.astype(np.float64)
        if array.size != m:
            raise DataError(
                f"has {array.size} values for {m} indices", field=name, value=array.size
            )
        if not np.isfinite(array).all():
            bad = np.flatnonzero(~np.isfinite(array))
            raise DataError(
                f"is not finite for example {int(idx[bad[0]])} (position {int(bad[0])})",
                field=name,
                value=str(array[bad[0]]),
            )
        return array

    def _retire(self, position: int) -> int:
        """Retire the pending batch at ``position`` and the older ones; its step."""
        for _ in range(position):
            self._pending.popleft()
        return self._pending.popleft()[0]

    # ------------------------------------------------------------------ state
    def get_params(self) -> dict[str, Any]:
        """The sampler's own arguments (JSON-able), checked when a state is restored."""
        return {
            "n": self.n,
            "batch_size": self.batch_size,
            "arms_per_batch": self.arms_per_batch,
            "steps_per_epoch": self.steps_per_epoch,
            "rescore_every": self.rescore_every,
            "learner": self.learner,
            "seed": self.seed,
            "arms": None if self.arms is None else len(self.arm_ids),
        }

    def state_dict(self) -> dict[str, Any]:
        """Sampler, teacher and scorer state as JSON-able data: a sampler built with the
        same arguments and restored from it draws the same batches as this one."""
        ranking = None
        if self._order is not None:
            ranking = {
                "order": encode_array(self._order, "<i8"),
                "version": self._ranked_version,
                "step": self._ranked_step,
            }
        return {
            "kind": STATE_KIND,
            "version": STATE_VERSION,
            "params": self.get_params(),
            "step": self.step_,
            "rng": self.rng.bit_generator.state,
            "teacher": self.teacher.state_dict(),
            "scorer": None if self.scorer is None else self.scorer.state_dict(),
            "ranking": ranking,
            "pending": [[step, batch.tolist()] for step, batch in self._pending],
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict` output. Batches that were drawn and not fed back
        when it was saved are drawn again first."""
        if not isinstance(state, Mapping) or state.get("kind") != STATE_KIND:
            kind = state.get("kind") if isinstance(state, Mapping) else type(state).__name__
            raise StateError(f"not a saved curriculum sampler (kind {kind!r})")
        if state.get("version") != STATE_VERSION:
            raise StateError(
                f"unsupported curriculum sampler state version {state.get('version')!r}"
            )
        params = state.get("params", {})
        for name, value in self.get_params().items():
            if params.get(name) != value:
                raise StateError(
                    f"saved sampler has {name}={params.get(name)!r}, this one {value!r}"
                )
        if (state.get("scorer") is None) != (self.scorer is None):
            raise StateError("saved sampler and this one differ in having a scorer")
        try:
            rng = np.random.default_rng()
            rng.bit_generator.state = state["rng"]
            pending = deque(
                (int(step), np.asarray(batch, dtype=np.int64)) for step, batch in state["pending"]
            )
            ranking = state["ranking"]
            order = None if ranking is None else decode_array(ranking["order"], "<i8")
            step = int(state["step"])
        except (KeyError, TypeError, ValueError) as error:
            raise StateError(f"corrupt curriculum sampler state: {error!r}") from None
        self.teacher.load_state_dict(state["teacher"])
        if self.scorer is not None:
            self.scorer.load_state_dict(state["scorer"])
        self.rng = rng
        self.step_ = step
        self._pending = pending
        self._replay = deque(batch for _, batch in pending)
        self._order = order
        if ranking is not None:
            self._ranked_version = int(ranking["version"])
            self._ranked_step = int(ranking["step"])


class ExampleSampler(Sampler[int]):
    """A :class:`CurriculumSampler`'s batches, one index at a time.

    Its length, ``steps_per_epoch * batch_size``, is exact when every batch is
    full (always for the curriculum family when ``n >= batch_size``).
    """

    def __init__(self, batches: CurriculumSampler) -> None:
        self.batches = batches

    def __len__(self) -> int:
        return len(self.batches) * self.batches.batch_size

    def __iter__(self) -> Iterator[int]:
        for batch in self.batches:
            yield from batch
