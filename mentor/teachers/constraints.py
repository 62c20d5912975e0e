"""Constraints on what a teacher may pick, for :class:`mentor.teachers.Filter`.

Each constraint allows or forbids each candidate: :class:`NotRecent`
(``"not_recent"``: not among the learner's last ``n`` items), :class:`OpenSkills`
(``"open_skills"``: only items whose skills' prerequisites are mastered) and
:class:`Among` (``"among"``: only, or all but, the listed items). They are small
saved objects, built from a spec ``{"kind": ..., **params}`` by
:func:`create_constraint`; :class:`Predicate` wraps any function for use in a
session, but cannot be saved.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from mentor._checks import check_count, check_flag, check_unit, plain
from mentor.domain import Domain
from mentor.errors import MentorError, ParameterError, StateError
from mentor.events import EventLog
from mentor.students.base import StudentModel
from mentor.teachers.mastery import MASTERY_THRESHOLD, item_open, open_skills


class Constraint(abc.ABC):
    """A rule that allows or forbids each candidate, for a :class:`Filter`."""

    name: ClassVar[str]

    @abc.abstractmethod
    def allows(
        self,
        learner: Any,
        candidates: Sequence[Any],
        t: float | None,
        model: StudentModel | None,
    ) -> np.ndarray:
        """A boolean per candidate: may the inner teacher pick it?"""

    def observe(self, events: EventLog) -> None:  # noqa: B027 - most constraints keep no state
        """Learn from practised items (default: nothing)."""

    def get_params(self) -> dict[str, Any]:
        """Constructor arguments other than the domain (JSON-able)."""
        return {}

    def state_dict(self) -> Any:
        """Learned state (JSON-able); None when there is none."""
        return None

    def load_state_dict(self, state: Any) -> None:  # noqa: B027 - stateless default
        """Restore :meth:`state_dict`."""

    def spec(self) -> dict[str, Any]:
        """``{"kind": ..., **params}``: what :func:`create_constraint` builds it from."""
        return {"kind": self.name, **self.get_params()}


class NotRecent(Constraint):
    """Forbid the items among the learner's last ``n`` observed events.

    Parameters
    ----------
    n
        How many of the learner's latest events to look back over. Default 1
        (never the same item twice in a row).
    """

    name = "not_recent"

    def __init__(self, n: int = 1) -> None:
        self.n = check_count("n", n, 1)
        self.recent_: dict[Any, list[Any]] = {}

    def get_params(self) -> dict[str, Any]:
        return {"n": self.n}

    def allows(
        self,
        learner: Any,
        candidates: Sequence[Any],
        t: float | None,
        model: StudentModel | None,
    ) -> np.ndarray:
        recent = set(self.recent_.get(learner, ()))
        return np.array([c not in recent for c in candidates], dtype=bool)

    def observe(self, events: EventLog) -> None:
        for learner, item in zip(events.learner.tolist(), events.item.tolist(), strict=True):
            recent = self.recent_.setdefault(learner, [])
            recent.append(item)
            del recent[: -self.n]

    def state_dict(self) -> Any:
        return [[learner, items] for learner, items in self.recent_.items()]

    def load_state_dict(self, state: Any) -> None:
        self.recent_ = {learner: list(items)[-self.n :] for learner, items in state}


class OpenSkills(Constraint):
    """Allow only items whose every skill is open: all its prerequisites have
    mastery of at least ``threshold`` in ``model.state(learner)["mastery"]``
    (see :mod:`mentor.teachers.mastery`). Needs a student model.

    Parameters
    ----------
    domain
        Skills, items and the prerequisite graph.
    threshold
        Mastery at which a prerequisite counts as mastered. Default 0.85, as for
        :class:`~mentor.teachers.mastery.MasteryGate` (its docstring says why: with
        Elo's predicted success as mastery, 0.95 is out of reach under a 0.1 slip).
    """

    name = "open_skills"

    def __init__(self, domain: Domain, threshold: float = MASTERY_THRESHOLD) -> None:
        if domain is None:
            raise ParameterError("open_skills needs a domain with a prerequisite graph")
        self.domain = domain
        self.threshold = check_unit("threshold", threshold, strict=True)

    def get_params(self) -> dict[str, Any]:
        return {"threshold": self.threshold}

    def allows(
        self,
        learner: Any,
        candidates: Sequence[Any],
        t: float | None,
        model: StudentModel | None,
    ) -> np.ndarray:
        if model is None:
            raise MentorError("constraint 'open_skills' needs a student model")
        mastery = model.state(learner).get("mastery", {})
        opened = open_skills(self.domain, mastery, self.threshold)
        return np.array([item_open(self.domain, c, opened) for c in candidates], dtype=bool)


class Among(Constraint):
    """Allow only the listed items (or, with ``exclude=True``, all but them)."""

    name = "among"

    def __init__(self, items: Sequence[Any], exclude: bool = False) -> None:
        if isinstance(items, (str, bytes)) or not isinstance(items, Sequence | set | frozenset):
            raise ParameterError(f"among needs a list of items, got {items!r}")
        self.items = [plain(i) for i in items]
        self.exclude = check_flag("exclude", exclude)
        self._set = set(self.items)

    def get_params(self) -> dict[str, Any]:
        return {"items": self.items, "exclude": self.exclude}

    def allows(
        self,
        learner: Any,
        candidates: Sequence[Any],
        t: float | None,
        model: StudentModel | None,
    ) -> np.ndarray:
        inside = np.array([plain(c) in self._set for c in candidates], dtype=bool)
        return ~inside if self.exclude else inside


class Predicate(Constraint):
    """Any function ``fn(learner, item, t, model) -> bool`` as a constraint.

    For use within a session: a function cannot be saved, so a :class:`Filter`
    holding one raises :class:`~mentor.errors.StateError` on ``state_dict`` or ``spec``.
    """

    name = "predicate"

    def __init__(self, fn: Callable[[Any, Any, float | None, Any], bool]) -> None:
        if not callable(fn):
            raise ParameterError(f"predicate needs a function, got {fn!r}")
        self.fn = fn

    def allows(
        self,
        learner: Any,
        candidates: Sequence[Any],
        t: float | None,
        model: StudentModel | None,
    ) -> np.ndarray:
        return np.array([bool(self.fn(learner, c, t, model)) for c in candidates], dtype=bool)

    def spec(self) -> dict[str, Any]:
        raise StateError(
            f"a filter on the function {getattr(self.fn, '__name__', self.fn)!r} cannot be "
            "saved; use a saved constraint (not_recent, open_skills, among)"
        )


CONSTRAINTS: dict[str, type[Constraint]] = {cls.name: cls for cls in (NotRecent, OpenSkills, Among)}


def create_constraint(data: Mapping[str, Any], domain: Domain | None = None) -> Constraint:
    """A constraint from its spec, ``{"kind": ..., **params}`` (see :meth:`Constraint.spec`)."""
    kind = data.get("kind") if isinstance(data, Mapping) else None
    if kind not in CONSTRAINTS:
        raise ParameterError(
            f"unknown constraint {kind!r}; choose one of {', '.join(sorted(CONSTRAINTS))}"
        )
    params = {k: v for k, v in data.items() if k != "kind"}
    cls = CONSTRAINTS[kind]
    if "domain" in cls.__init__.__code__.co_varnames:
        params["domain"] = domain
    try:
        return cls(**params)
    except TypeError as error:
        raise ParameterError(f"constraint {kind!r}: {error}") from None


def as_constraint(spec: Any, domain: Domain | None = None) -> Constraint:
    """A constraint from a :class:`Constraint`, a spec or a function (a :class:`Predicate`)."""
    if isinstance(spec, Constraint):
        return spec
    if isinstance(spec, Mapping):
        return create_constraint(spec, domain)
    if callable(spec):
        return Predicate(spec)
    raise ParameterError(f"not a constraint: {spec!r}")
