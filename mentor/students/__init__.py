"""Student models: what a learner knows and is about to forget.

Every model follows :class:`StudentModel`. :data:`MODELS` maps each model's
short, stable name (used by the command line) to its class.
"""

import inspect
from collections.abc import Mapping
from typing import Any

from mentor.domain import Domain
from mentor.errors import MentorError, ParameterError, StateError, UnknownIdError
from mentor.students.base import StudentModel
from mentor.students.bkt import BKT
from mentor.students.elo import Elo
from mentor.students.logistic import IRT, PFA
from mentor.students.memory import DASH, FSRS, HLR, SM2

MODELS: dict[str, type[StudentModel]] = {
    cls.name: cls for cls in (BKT, Elo, IRT, PFA, FSRS, HLR, DASH, SM2)
}


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
    accepted = [p for p in inspect.signature(cls).parameters if p != "domain"]
    for key in params:
        if key not in accepted:
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


__all__ = ["BKT", "IRT", "MODELS", "PFA", "Elo", "StudentModel", "create_model", "model_from_state"]
