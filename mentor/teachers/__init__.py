"""Teachers: policies that pick what a learner practises next.

:data:`TEACHERS` maps each teacher's short, stable name to its class.
"""

from collections.abc import Mapping
from typing import Any

from mentor.domain import Domain
from mentor.errors import StateError, UnknownIdError
from mentor.teachers.adarft import AdaRFT
from mentor.teachers.alp_gmm import ALPGMM
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
from mentor.teachers.learnability import Learnability
from mentor.teachers.mastering_rate import MasteringRate
from mentor.teachers.mastery import MasteryGate
from mentor.teachers.review import DueReview, PowerLawReplay
from mentor.teachers.sec import SEC
from mentor.teachers.self_paced import SelfPaced
from mentor.teachers.simple import FixedSequence, RandomTeacher
from mentor.teachers.target import TargetSuccess
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
        TSCL,
        SEC,
        DUMP,
        MasteringRate,
        ALPGMM,
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
    )
}


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
    "MasteringRate",
    "ZPDES",
    "FixedSequence",
    "RandomTeacher",
    "TargetSuccess",
    "Teacher",
    "activity_graph",
    "teacher_class",
    "teacher_from_state",
]
