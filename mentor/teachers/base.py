"""The teacher contract: a policy that picks a learner's next items.

``select`` picks ``k`` items from the candidates, possibly asking the student
model for predicted success; ``observe`` takes the outcomes of what was
practised, updating only the arms that were actually observed.
``select_slots`` fills ``k`` slots of a batch with repetition (each slot one draw, as SEC and
DUMP fill a batch from their distribution over categories): by default ``k`` calls of
``select(..., 1, ...)``; a teacher whose single pick is a draw from a distribution over the
candidates gives that distribution by :meth:`Teacher.slot_distribution`, and the ``k`` slots
are then drawn from it at once, with the teacher's own generator. A teacher's
whole state, its random generator included, is JSON-able data, so a restored
teacher makes exactly the decisions the original would have made.
"""

from __future__ import annotations

import abc
import functools
import inspect
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Self

import numpy as np

from mentor._checks import check_count
from mentor.domain import Domain
from mentor.errors import MentorError, ParameterError, StateError
from mentor.events import EventLog
from mentor.students.base import STATE_VERSION, StudentModel, check_state


@functools.cache
def _slots_follow_select(cls: type[Teacher]) -> bool:
    """Whether ``cls.slot_distribution`` was written for ``cls.select``: defined by the
    class that defines ``select``, or by a subclass of it."""

    def owner(name: str) -> type:
        return next(c for c in cls.__mro__ if name in c.__dict__)

    return issubclass(owner("slot_distribution"), owner("select"))


class Teacher(abc.ABC):
    """Base class of teachers.

    Parameters
    ----------
    seed
        Seed or generator for the teacher's random choices.
    """

    name: ClassVar[str]
    #: Whether :meth:`select` needs a student model.
    needs_model: ClassVar[bool] = False
    #: Whether that model must simulate a practice step
    #: (:attr:`~mentor.students.base.StudentModel.supports_lookahead`).
    needs_lookahead: ClassVar[bool] = False
    #: The models to suggest when the given one cannot look ahead (``needs_lookahead``).
    lookahead_models: ClassVar[str] = ""

    def __init__(self, seed: int | np.random.Generator | None = None) -> None:
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

    @abc.abstractmethod
    def select(
        self,
        learner: Any,
        candidates: Sequence[Any],
        k: int = 1,
        t: float | None = None,
        model: StudentModel | None = None,
    ) -> list[Any]:
        """Pick up to ``k`` distinct items from ``candidates`` for ``learner`` at time ``t``."""

    def select_slots(
        self,
        learner: Any,
        items: Sequence[Any],
        k: int,
        t: float | None = None,
        model: StudentModel | None = None,
    ) -> list[Any]:
        """Fill ``k`` slots, each one pick from ``items``: items may repeat across slots.

        When :meth:`slot_distribution` gives the distribution of a single pick, the ``k``
        picks are drawn from it in one ``rng.choice(..., size=k, p=...)`` call, so the
        state is read once per batch instead of once per slot. ``Generator.choice`` turns
        each slot's draw into one uniform number and looks it up in the cumulative
        distribution, with or without ``size``, so where a single ``select`` also draws
        with one ``rng.choice(n, p=...)`` over the same distribution (Boltzmann and
        proportional rules), the picks are exactly those of ``k`` ``select`` calls.
        Otherwise (the default) the slots are ``k`` calls of ``select(learner, items, 1, t,
        model)``; a call that returns nothing (a filter that lets nothing through) leaves
        its slot out, so fewer than ``k`` picks may come back.
        """
        self._check(items, k, model)
        if not len(items):
            return []
        distribution = (
            self.slot_distribution(learner, items, t, model)
            if _slots_follow_select(type(self))
            else None
        )
        if distribution is None:
            picks: list[Any] = []
            for _ in range(k):
                picks += self.select(learner, items, 1, t, model)
            return picks
        choices, probabilities = distribution
        if not len(choices):
            return []
        drawn = self.rng.choice(len(choices), size=k, p=probabilities)
        return [choices[i] for i in drawn.tolist()]

    def slot_distribution(
        self,
        learner: Any,
        items: Sequence[Any],
        t: float | None = None,
        model: StudentModel | None = None,
    ) -> tuple[Sequence[Any], np.ndarray] | None:
        """The distribution of ``select(learner, items, 1, t, model)``'s pick: the items it
        can pick and their probabilities (summing to 1), or None (the default) for a
        teacher whose pick is not a draw from a distribution it can state.

        :meth:`select_slots` uses it only where the class that defines it is the one that
        defines ``select`` or a subclass of it, so a subclass that changes ``select`` alone
        gets ``k`` calls of its own ``select``."""
        return None

    def observe(self, events: EventLog) -> None:  # noqa: B027 - teachers that learn nothing
        """Learn from the outcomes of practised items (default: nothing to learn)."""

    def get_params(self) -> dict[str, Any]:
        """Constructor arguments other than the seed and the domain (JSON-able)."""
        return {}

    @classmethod
    def _unit_test_params(cls, domain: Domain) -> dict[str, Any]:
        """Spec parameters that build the teacher over ``domain`` for the contract
        suite that checks every registered teacher (``tests/test_contract.py``), as
        river's ``check_estimator`` does: the defaults unless a parameter is required."""
        return {}

    def _get_state(self) -> dict[str, Any]:
        return {}

    def _set_state(self, state: Mapping[str, Any]) -> None:  # noqa: B027 - stateless default
        pass

    def _check(self, candidates: Sequence[Any], k: int, model: StudentModel | None) -> None:
        check_count("k", k, 1)
        if self.needs_model and model is None:
            raise MentorError(f"teacher {self.name!r} needs a student model to select items")

    def _model(self, model: StudentModel | None) -> StudentModel:
        """``model``, which a teacher that ``needs_model`` cannot do without, checked to
        look ahead when the teacher ``needs_lookahead``."""
        if model is None:
            raise MentorError(f"teacher {self.name!r} needs a student model to select items")
        if self.needs_lookahead and not model.supports_lookahead:
            raise MentorError(
                f"teacher {self.name!r} needs a student model that can look ahead; "
                f"{model.name!r} cannot (use {self.lookahead_models})"
            )
        return model

    def state_dict(self) -> dict[str, Any]:
        """Parameters, learned state and random-generator state as JSON-able data."""
        return {
            "kind": self.name,
            "version": STATE_VERSION,
            "params": self.get_params(),
            "rng": self.rng.bit_generator.state,
            "state": self._get_state(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` saved."""
        check_state(state, self.name)
        try:
            rng = np.random.default_rng()
            rng.bit_generator.state = state["rng"]
            self.rng = rng
            self._set_state(state["state"])
        except (KeyError, TypeError, ValueError, IndexError) as error:
            raise StateError(f"corrupt {self.name} teacher state: {error!r}") from None

    def spec(self) -> dict[str, Any]:
        """The JSON spec that :func:`mentor.teachers.create_teacher` builds this teacher
        from: ``{"name": ..., "params": {...}}`` (composed teachers nest their parts')."""
        return {"name": self.name, "params": self.get_params()}

    @classmethod
    def from_spec(
        cls,
        params: Mapping[str, Any],
        domain: Domain | None = None,
        seed: int | np.random.Generator | None = None,
        depth: int = 0,
    ) -> Self:
        """A new teacher from the ``params`` of its spec (see
        :func:`mentor.teachers.create_teacher`, which calls this).

        The domain is passed to teachers that take one and ``seed`` is the default
        of their ``seed``. Composed teachers override this to build their parts
        (``depth`` is how deep this teacher is nested). Raises
        :class:`~mentor.errors.ParameterError` for a parameter the teacher does not
        have or a value it cannot take.
        """
        params = dict(params)
        accepted = inspect.signature(cls).parameters
        for key in params:
            if key not in accepted or key == "domain":
                raise ParameterError(
                    f"{cls.name} has no parameter {key!r}; its parameters: "
                    + ", ".join(p for p in accepted if p != "domain"),
                    field=key,
                )
        if "domain" in accepted:
            params["domain"] = domain
        if "seed" in accepted:
            params.setdefault("seed", seed)
        try:
            return cls(**params)
        except MentorError:
            raise
        except (TypeError, ValueError, KeyError, AttributeError) as error:
            raise ParameterError(f"{cls.name}: {error}") from None

    @classmethod
    def from_state_dict(cls, state: Mapping[str, Any], domain: Domain | None = None) -> Self:
        """A new teacher rebuilt from :meth:`state_dict` output: built from its
        saved parameters by :meth:`from_spec`, then its learned state restored."""
        check_state(state, cls.name)
        try:
            teacher = cls.from_spec(cls._saved_params(state), domain)
        except (KeyError, TypeError, ValueError, MentorError) as error:
            raise StateError(f"corrupt {cls.name} teacher parameters: {error}") from None
        teacher.load_state_dict(state)
        return teacher

    @classmethod
    def _saved_params(cls, state: Mapping[str, Any]) -> Mapping[str, Any]:
        """The spec parameters inside a saved state (composed teachers also read
        the layout of earlier versions)."""
        params = state.get("params", {})
        if not isinstance(params, Mapping):
            raise StateError(f"corrupt {cls.name} teacher state: params is not an object")
        return params
