"""The teacher contract: a policy that picks a learner's next items.

``select`` picks ``k`` items from the candidates, possibly asking the student
model for predicted success; ``observe`` takes the outcomes of what was
practised, updating only the arms that were actually observed. A teacher's
whole state, its random generator included, is JSON-able data, so a restored
teacher makes exactly the decisions the original would have made.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Self

import numpy as np

from mentor.domain import Domain
from mentor.errors import MentorError, ParameterError, StateError
from mentor.events import EventLog
from mentor.students.base import STATE_VERSION, StudentModel, check_state


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

    def observe(self, events: EventLog) -> None:  # noqa: B027 - teachers that learn nothing
        """Learn from the outcomes of practised items (default: nothing to learn)."""

    def get_params(self) -> dict[str, Any]:
        """Constructor arguments other than the seed and the domain (JSON-able)."""
        return {}

    def _get_state(self) -> dict[str, Any]:
        return {}

    def _set_state(self, state: Mapping[str, Any]) -> None:  # noqa: B027 - stateless default
        pass

    def _check(self, candidates: Sequence[Any], k: int, model: StudentModel | None) -> None:
        if k < 1:
            raise ParameterError(f"k must be at least 1, got {k}")
        if self.needs_model and model is None:
            raise MentorError(f"teacher {self.name!r} needs a student model to select items")

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

    @classmethod
    def from_state_dict(cls, state: Mapping[str, Any], domain: Domain | None = None) -> Self:
        """A new teacher rebuilt from :meth:`state_dict` output."""
        check_state(state, cls.name)
        try:
            params = dict(state.get("params", {}))
            if "domain" in cls.__init__.__code__.co_varnames:
                params["domain"] = domain
            teacher = cls(**params)
        except (TypeError, ValueError, MentorError) as error:
            raise StateError(f"corrupt {cls.name} teacher parameters: {error}") from None
        teacher.load_state_dict(state)
        return teacher
