"""Task-space teachers: policies that sample points of a continuous box of task parameters.

:data:`TASK_TEACHERS` maps each one's short, stable name to its class; the contract is in
:mod:`mentor.teachers.taskspace.base` (``sample(n)``, ``observe(tasks, outcomes)``,
``state_dict()`` / ``load_state_dict()``). :class:`TaskItems` puts any of them inside an
:class:`~mentor.Engine` by discretising the space into items.
"""

from collections.abc import Mapping
from typing import Any

from mentor.errors import ParameterError, StateError, UnknownIdError
from mentor.teachers.taskspace.alp_gmm import ALPGMM
from mentor.teachers.taskspace.base import TaskTeacher
from mentor.teachers.taskspace.covar_gmm import CovarGMM
from mentor.teachers.taskspace.items import TaskItems, grid_items
from mentor.teachers.taskspace.region_lp import RegionLP
from mentor.teachers.taskspace.riac import RIAC
from mentor.teachers.taskspace.uniform import UniformTasks

TASK_TEACHERS: dict[str, type[TaskTeacher]] = {
    cls.name: cls for cls in (UniformTasks, ALPGMM, CovarGMM, RIAC, RegionLP)
}


def task_teacher_class(name: str) -> type[TaskTeacher]:
    """The task-space teacher class with this short name."""
    try:
        return TASK_TEACHERS[name]
    except KeyError:
        raise UnknownIdError(
            f"unknown task-space teacher {name!r}; choose one of {', '.join(sorted(TASK_TEACHERS))}"
        ) from None


def create_task_teacher(spec: Mapping[str, Any]) -> TaskTeacher:
    """A task-space teacher from its spec ``{"name": ..., "params": {...}}`` (what
    :meth:`TaskTeacher.spec` returns); ``params`` must hold ``space``."""
    if not isinstance(spec, Mapping) or "name" not in spec:
        raise ParameterError("a task-space teacher spec needs a 'name'", field="name", value=spec)
    cls = task_teacher_class(spec["name"])
    params = spec.get("params", {})
    if not isinstance(params, Mapping):
        raise ParameterError("spec params must be an object", field="params", value=params)
    return cls.from_spec(params)


def task_teacher_from_state(state: Mapping[str, Any]) -> TaskTeacher:
    """Rebuild any task-space teacher from its :meth:`TaskTeacher.state_dict`."""
    kind = state.get("kind") if isinstance(state, Mapping) else None
    if kind not in TASK_TEACHERS:
        raise StateError(f"not a saved task-space teacher (kind {kind!r})")
    return TASK_TEACHERS[kind].from_state_dict(state)


__all__ = [
    "ALPGMM",
    "RIAC",
    "TASK_TEACHERS",
    "CovarGMM",
    "RegionLP",
    "TaskTeacher",
    "TaskItems",
    "UniformTasks",
    "create_task_teacher",
    "grid_items",
    "task_teacher_class",
    "task_teacher_from_state",
]
