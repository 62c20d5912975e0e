"""Student models: what a learner knows and is about to forget.

Every model follows :class:`StudentModel`. :data:`MODELS` maps each model's
short, stable name (used by the command line) to its class. Every model, and
every name exported here, is imported on first use, so that the command line
can list models without loading SciPy, scikit-learn or PyTorch.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mentor._checks import check_spec
from mentor.errors import MentorError, ParameterError, StateError, UnknownIdError

if TYPE_CHECKING:  # pragma: no cover - for type checkers only
    from mentor.domain import Domain
    from mentor.students.base import StudentModel

#: Short name -> (module, class) of every student model.
_MODEL_CLASSES: dict[str, tuple[str, str]] = {
    "bkt": ("mentor.students.bkt", "BKT"),
    "level-bkt": ("mentor.students.level_bkt", "LevelBKT"),
    "elo": ("mentor.students.elo", "Elo"),
    "skill-ability": ("mentor.students.skill_ability", "SkillAbility"),
    "irt": ("mentor.students.irt", "IRT"),
    "pfa": ("mentor.students.pfa", "PFA"),
    "fsrs": ("mentor.students.memory.fsrs_model", "FSRS"),
    "fsrs-lr": ("mentor.students.memory.fsrs_lr", "FSRSLogistic"),
    "hlr": ("mentor.students.memory.hlr", "HLR"),
    "dash": ("mentor.students.memory.dash", "DASH"),
    "sm2": ("mentor.students.memory.sm2", "SM2"),
    "memory-rnn": ("mentor.students.memory.rnn", "MemoryRNN"),
    "memory-rnn-fsrs": ("mentor.students.memory.rnn_fsrs", "MemoryRNNFSRS"),
    "psikt": ("mentor.students.prereq.model", "PSIKT"),
    "dkt": ("mentor.students.deep.dkt", "DKT"),
    "simplekt": ("mentor.students.deep.simplekt", "SimpleKT"),
    "akt": ("mentor.students.deep.akt", "AKT"),
}

#: Models that need the optional extra ``mentor[torch]``.
_NEEDS_TORCH = {"dkt", "simplekt", "akt"}

#: Names this package exports -> the module that defines them.
_EXPORTS = {
    "StudentModel": "mentor.students.base",
    **{cls: module for name, (module, cls) in _MODEL_CLASSES.items() if name not in _NEEDS_TORCH},
}


class _Registry(Mapping[str, "type[StudentModel]"]):
    """Model classes by short name, each imported when first asked for."""

    def __init__(self, classes: Mapping[str, tuple[str, str]]) -> None:
        self._where = dict(classes)

    def __getitem__(self, name: str) -> type[StudentModel]:
        module_name, class_name = self._where[name]  # KeyError for an unknown name
        if name in _NEEDS_TORCH:
            try:
                importlib.import_module("mentor.students.deep")
            except ImportError:
                raise MentorError(
                    f"student model {name!r} needs PyTorch: pip install 'mentor[torch]'"
                ) from None
        cls: type[StudentModel] = getattr(importlib.import_module(module_name), class_name)
        return cls

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, name: object) -> bool:
        return name in self._where

    def summary(self, name: str) -> str:
        """The first paragraph of the model class's docstring, on one line, read
        from the source without importing the model (or its dependencies)."""
        module_name, class_name = self._where[name]
        # The file is found from this package's folder: importlib's find_spec
        # would import the parent packages (mentor.students.deep imports torch).
        parts = module_name.split(".")[2:]
        source = Path(__file__).parent.joinpath(*parts).with_suffix(".py")
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and node.name == class_name:
                paragraph = (ast.get_docstring(node) or "").split("\n\n")[0]
                return " ".join(paragraph.split())
        return ""


#: Every student model by its short, stable name.
MODELS: _Registry = _Registry(_MODEL_CLASSES)


def create_model(
    name: str | Mapping[str, Any], domain: Domain | None = None, **params: Any
) -> StudentModel:
    """A new model by its short name (see :data:`MODELS`), or from a JSON spec
    ``{"name": ..., "params": {...}}`` as :func:`mentor.teachers.create_teacher` reads.

    Raises :class:`UnknownIdError` for an unknown name (a
    :class:`ParameterError` naming the field when it came in a spec) and
    :class:`ParameterError` for a parameter the model does not have or a value it
    cannot take.
    """
    if isinstance(name, Mapping):
        name, params = _read_spec(name, params)
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
                f"{name} has no parameter {key!r}; its parameters: {', '.join(accepted)}",
                field=key,
            )
    try:
        return cls(domain=domain, **params)
    except MentorError:
        raise
    except (TypeError, ValueError) as error:
        raise ParameterError(f"{name}: {error}") from None


def _read_spec(spec: Mapping[str, Any], extra: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The name and parameters of a model spec, checked."""
    if extra:
        raise ParameterError("give a model's parameters inside its spec or as keywords, not both")
    return check_spec(spec, "student model", MODELS)


def model_from_state(state: Mapping[str, Any], domain: Domain | None = None) -> StudentModel:
    """Rebuild any model from its :meth:`StudentModel.state_dict`."""
    kind = state.get("kind") if isinstance(state, Mapping) else None
    if not isinstance(kind, str) or kind not in MODELS:
        raise StateError(f"not a saved student model (kind {kind!r})")
    return MODELS[kind].from_state_dict(state, domain=domain)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'mentor.students' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


__all__ = [
    "BKT",
    "DASH",
    "FSRS",
    "HLR",
    "IRT",
    "MODELS",
    "LevelBKT",
    "PFA",
    "PSIKT",
    "SM2",
    "Elo",
    "StudentModel",
    "create_model",
    "model_from_state",
]
