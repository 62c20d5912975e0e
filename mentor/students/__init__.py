"""Student models: what a learner knows and is about to forget.

Every model follows :class:`StudentModel`. :data:`MODELS` maps each model's
short, stable name (used by the command line) to its class.
"""

import importlib
import inspect
from collections.abc import Iterator, Mapping
from typing import Any

from mentor.domain import Domain
from mentor.errors import MentorError, ParameterError, StateError, UnknownIdError
from mentor.students.base import StudentModel
from mentor.students.bkt import BKT
from mentor.students.elo import Elo
from mentor.students.logistic import IRT, PFA
from mentor.students.memory import DASH, FSRS, HLR, SM2
from mentor.students.prereq import PSIKT


class _Registry(Mapping[str, type[StudentModel]]):
    """Model classes by short name; deep models are imported only when asked for,
    so that the core never imports PyTorch."""

    def __init__(self, classes: list[type[StudentModel]], lazy: dict[str, str]) -> None:
        self._classes = {cls.name: cls for cls in classes}
        self._lazy = dict(lazy)

    def __getitem__(self, name: str) -> type[StudentModel]:
        if name in self._classes:
            return self._classes[name]
        if name not in self._lazy:
            raise KeyError(name)
        try:
            module = importlib.import_module(self._lazy[name])
        except ImportError:
            raise MentorError(
                f"student model {name!r} needs PyTorch: pip install 'mentor[torch]'"
            ) from None
        return module.DEEP_MODELS[name]

    def __iter__(self) -> Iterator[str]:
        return iter([*self._classes, *self._lazy])

    def __len__(self) -> int:
        return len(self._classes) + len(self._lazy)

    def __contains__(self, name: object) -> bool:
        return name in self._classes or name in self._lazy


#: Every student model by its short, stable name.
MODELS: Mapping[str, type[StudentModel]] = _Registry(
    [BKT, Elo, IRT, PFA, FSRS, HLR, DASH, SM2, PSIKT],
    {"dkt": "mentor.students.deep", "simplekt": "mentor.students.deep"},
)


def create_model(name: str, domain: Domain | None = None, **params: Any) -> StudentModel:
    """A new model by its short name (see :data:`MODELS`).

    Raises :class:`UnknownIdError` for an unknown name and :class:`ParameterError`
    for a parameter the model does not have or a value it cannot take.
    """
    try:
        cls = MODELS[name]
    except KeyError:
        raise UnknownIdError(
            f"unknown student model {name!r}; choose one of {', '.join(sorted(MODELS))}"
        ) from None
    signature = inspect.signature(cls).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.values())
    accepted = [p for p in signature if p != "domain"]
    for key in params:
        if key not in accepted and not takes_any:
            raise ParameterError(
                f"{name} has no parameter {key!r}; its parameters: {', '.join(accepted)}"
            )
    try:
        return cls(domain=domain, **params)
    except MentorError:
        raise
    except (TypeError, ValueError) as error:
        raise ParameterError(f"{name}: {error}") from None


def model_from_state(state: Mapping[str, Any], domain: Domain | None = None) -> StudentModel:
    """Rebuild any model from its :meth:`StudentModel.state_dict`."""
    kind = state.get("kind") if isinstance(state, Mapping) else None
    if kind not in MODELS:
        raise StateError(f"not a saved student model (kind {kind!r})")
    return MODELS[kind].from_state_dict(state, domain=domain)


__all__ = [
    "BKT",
    "IRT",
    "MODELS",
    "PFA",
    "PSIKT",
    "Elo",
    "StudentModel",
    "create_model",
    "model_from_state",
]
