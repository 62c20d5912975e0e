"""ALP-GMM moved to :mod:`mentor.teachers.taskspace.alp_gmm` (a task-space teacher, with the
``sample`` / ``observe`` contract of :mod:`mentor.teachers.taskspace.base`); this module keeps
the old import path working."""

from mentor.teachers.taskspace.alp_gmm import (
    ALP_WARMUP,
    ALPGMM,
    TREE_BUFFER,
    component_probabilities,
)

__all__ = ["ALPGMM", "ALP_WARMUP", "TREE_BUFFER", "component_probabilities"]
