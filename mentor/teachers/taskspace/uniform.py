"""Uniform tasks: every task drawn uniformly from the box (the "Random" baseline of
Portelas et al., CoRL 2019, and domain randomisation)."""

from __future__ import annotations

from typing import Any

import numpy as np

from mentor.teachers.taskspace.base import TaskTeacher


class UniformTasks(TaskTeacher):
    """Tasks uniform in the box; outcomes are checked and otherwise ignored.

    Parameters
    ----------
    space
        The task space, a :class:`~mentor.domain.Box` or its ``state_dict()``.
    seed
        Seed of the draws.
    """

    name = "uniform"

    def sample(self, n: int = 1) -> np.ndarray:
        """``n`` tasks uniform in the box."""
        return self.space.sample(self.rng, self._check_n(n))

    def observe(self, tasks: Any, outcomes: Any) -> None:
        """Nothing to learn; the batch is still checked."""
        self._check_batch(tasks, outcomes)
