"""Composition: mixtures of teachers, and teachers held to constraints.

A teacher is often several policies at once: 80 % new material at the edge of
ability and 20 % reviews that are due; never the item just practised; only
items of skills whose prerequisites are mastered. Two combinators build such
teachers from the others in a few lines::

    teacher = Filter(
        Mixture([(TargetSuccess(0.7), 0.8), (DueReview(0.9), 0.2)], seed=0),
        [NotRecent(3), OpenSkills(domain)],
    )

- :class:`Mixture` (``"mixture"``): each of the ``k`` slots goes to a part
  drawn by weight; slots a part cannot fill go to the others, by weight.
- :class:`Filter` (``"filter"``): the inner teacher chooses only among the
  candidates every constraint allows.

The constraints live in :mod:`mentor.teachers.constraints`.

A composed teacher's spec nests the spec of each part (its parameters in
:meth:`~Teacher.state_dict` are that spec's), so :func:`mentor.teachers.create_teacher`
builds it from JSON and :meth:`~Teacher.from_state_dict` rebuilds it the same
way before restoring each part's learned state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Self

import numpy as np

from mentor._checks import check_count, check_number
from mentor.domain import Domain
from mentor.errors import ParameterError, StateError
from mentor.events import EventLog
from mentor.students.base import StudentModel
from mentor.teachers.base import Teacher
from mentor.teachers.constraints import Constraint, as_constraint


def _create(spec: Any, domain: Domain | None, seed: Any, depth: int, where: str) -> Teacher:
    """A part built from its spec through the registry (``where`` names it in errors)."""
    from mentor.teachers import create_teacher  # lazy: the registry imports this module

    try:
        return create_teacher(spec, domain, seed, depth=depth)
    except ParameterError as error:
        field = where if error.field is None else f"{where}.{error.field}"
        raise ParameterError(error.problem, field=field, value=error.value) from None


def _child_seed(seed: int | np.random.Generator | None, k: int) -> int | None:
    """Part ``k``'s seed: a different stream per part, derived from the parent's."""
    if seed is None or isinstance(seed, np.random.Generator):
        return None
    return int(seed) + k + 1


class _Composite(Teacher):
    """Shared plumbing: each part's learned state saved inside the composite's."""

    def _parts(self) -> list[Teacher]:
        raise NotImplementedError

    def _parts_state(self) -> list[dict[str, Any]]:
        return [part.state_dict() for part in self._parts()]

    def _load_parts(self, states: Any) -> None:
        parts = self._parts()
        if not isinstance(states, list) or len(states) != len(parts):
            raise StateError(f"corrupt {self.name} teacher state: expected {len(parts)} parts")
        for part, state in zip(parts, states, strict=True):
            part.load_state_dict(state)

    @staticmethod
    def _saved_part_specs(state: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The parts' specs read from their saved states: the layout of states saved
        before the spec was nested in the parameters (mentor 0.1), which kept only
        the parts' states."""
        from mentor.teachers import teacher_class  # lazy: the registry imports this module

        return [
            {"name": s["kind"], "params": dict(teacher_class(s["kind"])._saved_params(s))}
            for s in state["state"]["parts"]
        ]


class Mixture(_Composite):
    """Several teachers sharing each batch by weight.

    Parameters
    ----------
    parts
        ``[(teacher, weight), ...]``; weights are non-negative, not all zero,
        and need not sum to 1.
    domain
        Only used to rebuild saved parts that need one.
    seed
        Seed of the slot draws (each part keeps its own generator).

    Each of the ``k`` slots goes to a part drawn with probability
    ``weight / sum(weights)`` (one multinomial draw of the ``k`` slots). A part
    that returns fewer items than its slots (for example a
    :class:`~mentor.teachers.review.DueReview` when nothing is due) hands the
    rest back; they are drawn again among the other parts, by weight, until
    the batch is full or every part is spent.
    Items are distinct: a later part chooses among the candidates not yet
    picked. Every part observes every event.
    """

    name = "mixture"

    def __init__(
        self,
        parts: Sequence[tuple[Teacher, float]],
        domain: Domain | None = None,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(seed)
        try:
            pairs = [(teacher, weight) for teacher, weight in parts]
        except (TypeError, ValueError):
            raise ParameterError("mixture parts must be (teacher, weight) pairs") from None
        if not pairs:
            raise ParameterError("a mixture needs at least one part")
        for teacher, _ in pairs:
            if not isinstance(teacher, Teacher):
                raise ParameterError(f"mixture part is not a teacher: {teacher!r}")
        weights = [check_number("weight", w, 0.0) for _, w in pairs]
        if sum(weights) <= 0:
            raise ParameterError("must not be all 0", field="weights", value=weights)
        self.domain = domain
        self.teachers = [teacher for teacher, _ in pairs]
        self.weights = np.array(weights, dtype=float)
        #: Index of the part that supplied each item of the last :meth:`select`.
        self.last_sources_: list[int] = []

    def _parts(self) -> list[Teacher]:
        return self.teachers

    @classmethod
    def from_spec(
        cls,
        params: Mapping[str, Any],
        domain: Domain | None = None,
        seed: int | np.random.Generator | None = None,
        depth: int = 0,
    ) -> Self:
        """``{"parts": [[teacher spec, weight], ...]}``; part ``k`` gets seed ``seed + k + 1``."""
        unknown = sorted(set(params) - {"parts", "seed"})
        if unknown:
            raise ParameterError(
                f"mixture has no parameter {unknown[0]!r}; its parameters: parts, seed",
                field=unknown[0],
            )
        parts = params.get("parts")
        if not isinstance(parts, list | tuple) or not parts:
            raise ParameterError(
                "mixture needs parts: [[teacher spec, weight], ...]", field="parts", value=parts
            )
        built = []
        for k, part in enumerate(parts):
            if not isinstance(part, list | tuple) or len(part) != 2:
                raise ParameterError(
                    "a mixture part is [teacher spec, weight]", field=f"parts[{k}]", value=part
                )
            teacher = _create(part[0], domain, _child_seed(seed, k), depth + 1, f"parts[{k}]")
            built.append((teacher, part[1]))
        return cls(built, domain=domain, seed=params.get("seed", seed))

    @classmethod
    def _saved_params(cls, state: Mapping[str, Any]) -> Mapping[str, Any]:
        params = super()._saved_params(state)
        if "parts" not in params and "weights" in params:
            weights = params["weights"]
            specs = cls._saved_part_specs(state)
            return {"parts": [list(pair) for pair in zip(specs, weights, strict=True)]}
        return params

    @classmethod
    def _unit_test_params(cls, domain: Domain) -> dict[str, Any]:
        return {"parts": [[{"name": "target"}, 0.7], [{"name": "due_review"}, 0.3]]}

    def get_params(self) -> dict[str, Any]:
        return {
            "parts": [
                [teacher.spec(), float(weight)]
                for teacher, weight in zip(self.teachers, self.weights.tolist(), strict=True)
            ]
        }

    def select(
        self,
        learner: Any,
        candidates: Sequence[Any],
        k: int = 1,
        t: float | None = None,
        model: StudentModel | None = None,
    ) -> list[Any]:
        check_count("k", k, 1)
        picks: list[Any] = []
        sources: list[int] = []
        taken: set[Any] = set()
        active = [j for j, w in enumerate(self.weights) if w > 0]
        while len(picks) < k and active:
            left = [c for c in candidates if c not in taken]
            if not left:
                break
            w = self.weights[active]
            slots = self.rng.multinomial(k - len(picks), w / w.sum())
            spent = set()
            for j, n in zip(active, slots.tolist(), strict=True):
                if n == 0:
                    continue
                left = [c for c in candidates if c not in taken]
                got = self.teachers[j].select(learner, left, n, t, model) if left else []
                got = list(dict.fromkeys(g for g in got if g not in taken))[:n]
                if len(got) < n:
                    spent.add(j)
                picks += got
                sources += [j] * len(got)
                taken.update(got)
            active = [j for j in active if j not in spent]
        self.last_sources_ = sources
        return picks

    def observe(self, events: EventLog) -> None:
        """Every part observes every event."""
        for part in self.teachers:
            part.observe(events)

    def _get_state(self) -> dict[str, Any]:
        return {"parts": self._parts_state()}

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self._load_parts(state["parts"])


class Filter(_Composite):
    """A teacher that may choose only among the candidates every constraint allows.

    Parameters
    ----------
    teacher
        The inner teacher.
    constraints
        A :class:`Constraint`, a function ``fn(learner, item, t, model) -> bool``
        (wrapped in :class:`Predicate`; not savable), a saved constraint
        (``{"kind": ..., **params}``), or a list of these.
    domain
        Passed to saved constraints and parts that need one.
    seed
        Unused (the inner teacher draws); kept for the common signature.

    When no candidate passes, the filter returns no item (a constraint is a
    hard rule; inside a :class:`Mixture` the slot goes to another part).
    Events reach both the inner teacher and the constraints.
    """

    name = "filter"

    def __init__(
        self,
        teacher: Teacher,
        constraints: Any,
        domain: Domain | None = None,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(seed)
        if not isinstance(teacher, Teacher):
            raise ParameterError(f"filter needs a teacher, got {teacher!r}")
        if isinstance(constraints, (Constraint, Mapping)) or callable(constraints):
            constraints = [constraints]
        if not isinstance(constraints, Sequence) or not constraints:
            raise ParameterError("filter needs at least one constraint")
        self.teacher = teacher
        self.domain = domain
        self.constraints = [as_constraint(c, domain) for c in constraints]

    def _parts(self) -> list[Teacher]:
        return [self.teacher]

    @classmethod
    def from_spec(
        cls,
        params: Mapping[str, Any],
        domain: Domain | None = None,
        seed: int | np.random.Generator | None = None,
        depth: int = 0,
    ) -> Self:
        """``{"teacher": teacher spec, "constraints": [{"kind": ..., ...}, ...]}``;
        the inner teacher gets seed ``seed + 1``."""
        unknown = sorted(set(params) - {"teacher", "constraints", "seed"})
        if unknown:
            raise ParameterError(
                f"filter has no parameter {unknown[0]!r}; its parameters: teacher, constraints, "
                "seed",
                field=unknown[0],
            )
        inner = _create(params.get("teacher"), domain, _child_seed(seed, 0), depth + 1, "teacher")
        return cls(inner, params.get("constraints"), domain=domain, seed=params.get("seed", seed))

    @classmethod
    def _saved_params(cls, state: Mapping[str, Any]) -> Mapping[str, Any]:
        params = super()._saved_params(state)
        if "teacher" not in params:
            (inner,) = cls._saved_part_specs(state)
            return {"teacher": inner, **params}
        return params

    @classmethod
    def _unit_test_params(cls, domain: Domain) -> dict[str, Any]:
        return {"teacher": {"name": "random"}, "constraints": [{"kind": "not_recent", "n": 2}]}

    def get_params(self) -> dict[str, Any]:
        return {
            "teacher": self.teacher.spec(),
            "constraints": [c.spec() for c in self.constraints],
        }

    def allowed(
        self,
        learner: Any,
        candidates: Sequence[Any],
        t: float | None = None,
        model: StudentModel | None = None,
    ) -> list[Any]:
        """The candidates every constraint allows."""
        mask = np.ones(len(candidates), dtype=bool)
        for constraint in self.constraints:
            if mask.any():
                mask &= np.asarray(constraint.allows(learner, candidates, t, model), dtype=bool)
        return [c for c, ok in zip(candidates, mask.tolist(), strict=True) if ok]

    def select(
        self,
        learner: Any,
        candidates: Sequence[Any],
        k: int = 1,
        t: float | None = None,
        model: StudentModel | None = None,
    ) -> list[Any]:
        check_count("k", k, 1)
        allowed = self.allowed(learner, candidates, t, model)
        return self.teacher.select(learner, allowed, k, t, model) if allowed else []

    def observe(self, events: EventLog) -> None:
        self.teacher.observe(events)
        for constraint in self.constraints:
            constraint.observe(events)

    def _get_state(self) -> dict[str, Any]:
        return {
            "parts": self._parts_state(),
            "constraints": [c.state_dict() for c in self.constraints],
        }

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self._load_parts(state["parts"])
        saved = state["constraints"]
        if not isinstance(saved, list) or len(saved) != len(self.constraints):
            raise StateError(
                f"corrupt filter teacher state: expected {len(self.constraints)} constraint states"
            )
        for constraint, s in zip(self.constraints, saved, strict=True):
            constraint.load_state_dict(s)
