"""Teachers: policies that pick what a learner practises next.

:data:`TEACHERS` maps each teacher's short, stable name to its class;
:func:`create_teacher` builds any teacher, composed ones included, from a JSON
spec such as ``{"name": "zpdes", "params": {"threshold": 0.7}}``.
"""

from collections.abc import Mapping
from typing import Any

import numpy as np

from mentor._checks import check_spec
from mentor.domain import Domain
from mentor.errors import ParameterError, StateError, UnknownIdError
from mentor.teachers.adarft import AdaRFT
from mentor.teachers.base import Teacher
from mentor.teachers.compose import Filter, Mixture
from mentor.teachers.curriculum import (
    AntiCurriculum,
    Curriculum,
    CyclicalCurriculum,
    RandomCurriculum,
)
from mentor.teachers.dump import DUMP
from mentor.teachers.expected_gain import ExpectedGain
from mentor.teachers.filtering import OnlineDifficultyFilter
from mentor.teachers.frontier import SkillFrontier
from mentor.teachers.learnability import Learnability
from mentor.teachers.mastering_rate import MasteringRate
from mentor.teachers.mastery import MasteryGate
from mentor.teachers.review import DueReview, PowerLawReplay
from mentor.teachers.sec import SEC
from mentor.teachers.self_paced import SelfPaced
from mentor.teachers.simple import FixedSequence, RandomTeacher
from mentor.teachers.target import TargetSuccess
from mentor.teachers.taskspace import ALPGMM, TaskItems
from mentor.teachers.tscl import TSCL
from mentor.teachers.zpdes import ZPDES, activity_graph

TEACHERS: dict[str, type[Teacher]] = {
    cls.name: cls
    for cls in (
        RandomTeacher,
        FixedSequence,
        TargetSuccess,
        ZPDES,
        ExpectedGain,
        SkillFrontier,
        TSCL,
        SEC,
        DUMP,
        MasteringRate,
        Curriculum,
        AntiCurriculum,
        RandomCurriculum,
        CyclicalCurriculum,
        SelfPaced,
        OnlineDifficultyFilter,
        AdaRFT,
        Learnability,
        MasteryGate,
        DueReview,
        PowerLawReplay,
        Mixture,
        Filter,
        TaskItems,
    )
}


#: How deep composed teachers may nest in a spec.
MAX_DEPTH = 4


def create_teacher(
    spec: str | Mapping[str, Any],
    domain: Domain | None = None,
    seed: int | np.random.Generator | None = None,
    *,
    depth: int = 0,
) -> Teacher:
    """A new teacher from its spec: a registered name, or ``{"name": ..., "params": {...}}``.

    This is to teachers what :func:`mentor.students.create_model` is to student
    models, and the one builder the service and the command line use. Each teacher
    reads its own ``params`` (:meth:`Teacher.from_spec`); composed teachers nest
    specs::

        {"name": "mixture", "params": {"parts": [[{"name": "zpdes"}, 0.8],
                                                  [{"name": "due_review"}, 0.2]]}}
        {"name": "filter", "params": {"teacher": {"name": "target"},
                                      "constraints": [{"kind": "not_recent", "n": 2}]}}

    ``domain`` goes to the teachers that take one; ``seed`` is the default seed
    (part ``k`` of a mixture gets ``seed + k + 1``). :meth:`Teacher.spec` gives a
    built teacher's spec back. Raises :class:`~mentor.errors.ParameterError` for a
    malformed spec, an unknown name or parameter, or a value a teacher cannot take.
    """
    if depth > MAX_DEPTH:
        raise ParameterError(f"teachers nest at most {MAX_DEPTH} deep")
    if isinstance(spec, str):
        spec = {"name": spec}
    name, params = check_spec(spec, "teacher", TEACHERS)
    return TEACHERS[name].from_spec(params, domain, seed, depth)


def teacher_from_state(state: Mapping[str, Any], domain: Domain | None = None) -> Teacher:
    """Rebuild any teacher from its :meth:`Teacher.state_dict`."""
    kind = state.get("kind") if isinstance(state, Mapping) else None
    if kind not in TEACHERS:
        raise StateError(f"not a saved teacher (kind {kind!r})")
    return TEACHERS[kind].from_state_dict(state, domain=domain)


def teacher_class(name: str) -> type[Teacher]:
    """The teacher class with this short name."""
    try:
        return TEACHERS[name]
    except KeyError:
        raise UnknownIdError(
            f"unknown teacher {name!r}; choose one of {', '.join(sorted(TEACHERS))}"
        ) from None


__all__ = [
    "ALPGMM",
    "AdaRFT",
    "AntiCurriculum",
    "Curriculum",
    "CyclicalCurriculum",
    "DueReview",
    "ExpectedGain",
    "SkillFrontier",
    "Filter",
    "Learnability",
    "MasteryGate",
    "Mixture",
    "OnlineDifficultyFilter",
    "PowerLawReplay",
    "RandomCurriculum",
    "SelfPaced",
    "DUMP",
    "SEC",
    "TEACHERS",
    "TSCL",
    "TaskItems",
    "MasteringRate",
    "ZPDES",
    "FixedSequence",
    "RandomTeacher",
    "TargetSuccess",
    "Teacher",
    "activity_graph",
    "create_teacher",
    "teacher_class",
    "teacher_from_state",
]
