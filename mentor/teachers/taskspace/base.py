"""The task-space teacher contract: a policy that samples points of a continuous box.

Item teachers (:class:`mentor.teachers.Teacher`) choose among candidate item ids. A
task-space teacher instead draws task *parameters* from a :class:`~mentor.domain.Box`
(the height and spacing of obstacles, the length of a problem) and learns from the
outcome of each task it was shown. It serves one learner (one agent, one training run);
:class:`~mentor.teachers.taskspace.TaskItems` keeps one per learner when a population of
learners meets a discretised space through an :class:`~mentor.Engine`.

The contract::

    tasks = teacher.sample(n)              # (n, dim) float array, every row inside the box
    teacher.observe(tasks, outcomes)       # one outcome (a reward, any finite float) per row
    teacher.state_dict() / teacher.load_state_dict(state)   # JSON-able, restores the rng

``observe`` takes tasks in the order they were run; it may be called with tasks that this
teacher did not sample (a replay, another sampler's tasks), as long as they lie in the box.
A restored teacher makes exactly the draws the original would have made.
"""

from __future__ import annotations

import abc
import inspect
import math
from collections.abc import Mapping
from typing import Any, ClassVar, Self

import numpy as np

from mentor._checks import check_count
from mentor.domain import Box
from mentor.errors import DataError, MentorError, ParameterError, StateError
from mentor.students.base import STATE_VERSION, check_state


def as_box(space: Box | Mapping[str, Any], who: str) -> Box:
    """``space`` as a :class:`Box` (a box or its ``state_dict()``), else :class:`ParameterError`."""
    if isinstance(space, Mapping):
        space = Box.from_state_dict(dict(space))
    if not isinstance(space, Box):
        raise ParameterError(
            f"{who} needs a Box task space", field="space", value=type(space).__name__
        )
    return space


class TaskTeacher(abc.ABC):
    """Base class of teachers over a continuous task space.

    Parameters
    ----------
    space
        The task space, a :class:`~mentor.domain.Box` or its ``state_dict()``.
    seed
        Seed or generator of the teacher's random draws.
    """

    name: ClassVar[str]

    def __init__(
        self, space: Box | Mapping[str, Any], seed: int | np.random.Generator | None = None
    ) -> None:
        self.space = as_box(space, type(self).__name__)
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

    @property
    def dim(self) -> int:
        """Number of task parameters."""
        return self.space.dim

    # ------------------------------------------------------------------ contract
    @abc.abstractmethod
    def sample(self, n: int = 1) -> np.ndarray:
        """``n`` tasks, shape ``(n, dim)``, each inside :attr:`space`."""

    @abc.abstractmethod
    def observe(self, tasks: Any, outcomes: Any) -> None:
        """Learn from the outcome of each task (rows in the order they were run)."""

    def get_params(self) -> dict[str, Any]:
        """Constructor arguments other than the seed (JSON-able)."""
        return {"space": self.space.state_dict()}

    def _get_state(self) -> dict[str, Any]:
        return {}

    def _set_state(self, state: Mapping[str, Any]) -> None:
        if state:  # a stateless teacher saves {}
            raise ValueError(f"unexpected state {sorted(state)}")

    # ------------------------------------------------------------------ helpers
    def _check_n(self, n: int) -> int:
        return check_count("n", n, 1)

    def _check_batch(self, tasks: Any, outcomes: Any) -> tuple[np.ndarray, np.ndarray]:
        """Tasks ``(n, dim)`` inside the box and ``n`` finite outcomes, or :class:`DataError`."""
        x = self.space.check(tasks)
        try:
            r = np.asarray(outcomes, dtype=float).reshape(-1)
        except (TypeError, ValueError):
            raise DataError("outcomes must be numbers", field="outcomes") from None
        if r.size != x.shape[0]:
            raise DataError(
                f"{x.shape[0]} tasks but {r.size} outcomes", field="outcomes", value=r.size
            )
        if r.size <= 16 and all(map(math.isfinite, r.tolist())):  # a few: no array calls
            return x, r
        finite = np.isfinite(r)
        if not finite.all():
            bad = np.flatnonzero(~finite)
            raise DataError(
                f"outcome {int(bad[0])} must be finite", field="outcomes", value=float(r[bad[0]])
            )
        return x, r

    # ------------------------------------------------------------------ state
    def spec(self) -> dict[str, Any]:
        """``{"name": ..., "params": {...}}``, what
        :func:`~mentor.teachers.taskspace.create_task_teacher` builds this teacher from."""
        return {"name": self.name, "params": self.get_params()}

    @classmethod
    def from_spec(cls, params: Mapping[str, Any]) -> Self:
        """A new teacher from the ``params`` of its spec; :class:`ParameterError` names a
        parameter it does not have."""
        accepted = inspect.signature(cls).parameters
        for key in params:
            if key not in accepted:
                raise ParameterError(
                    f"{cls.name} has no parameter {key!r}; its parameters: " + ", ".join(accepted),
                    field=key,
                )
        if "space" not in params:
            raise ParameterError(f"{cls.name} needs a task space", field="space")
        try:
            return cls(**params)
        except MentorError:
            raise
        except (TypeError, ValueError, KeyError) as error:
            raise ParameterError(f"{cls.name}: {error}") from None

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
            self._set_state(state["state"])
            self.rng = rng
        except (KeyError, TypeError, ValueError, IndexError) as error:
            raise StateError(f"corrupt {self.name} teacher state: {error!r}") from None

    @classmethod
    def from_state_dict(cls, state: Mapping[str, Any]) -> Self:
        """A new teacher rebuilt from :meth:`state_dict` output."""
        check_state(state, cls.name)
        try:
            teacher = cls.from_spec(dict(state.get("params", {})))
        except (TypeError, ValueError, MentorError) as error:
            raise StateError(f"corrupt {cls.name} teacher parameters: {error}") from None
        teacher.load_state_dict(state)
        return teacher
