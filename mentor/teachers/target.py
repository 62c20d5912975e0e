"""Target-success teacher: practise where predicted success is near a target.

Items whose predicted success is close to a target such as 0.7 are hard
enough to teach and easy enough to succeed: the "desirable difficulty" band
of adaptive practice systems (Pelanek and Jarusek, "Student modeling based on
problem solving times", IJAIED 2015; the 85 % rule of Wilson et al., "The
eighty five percent rule for optimal learning", Nature Communications 2019,
argues for a similar target). The student model supplies the prediction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mentor._checks import check_unit
from mentor.students.base import StudentModel
from mentor.teachers.base import Teacher
from mentor.teachers.sampling import closest


class TargetSuccess(Teacher):
    """Pick the items whose predicted success is closest to ``target``.

    Parameters
    ----------
    target
        Desired probability of success, in (0, 1). Default 0.7.
    seed
        Breaks exact ties at random.
    """

    name = "target"
    needs_model = True

    def __init__(self, target: float = 0.7, seed: int | np.random.Generator | None = None) -> None:
        super().__init__(seed)
        self.target = check_unit("target", target, strict=True, strict_maximum=True)

    def get_params(self) -> dict[str, Any]:
        return {"target": self.target}

    def select(
        self,
        learner: Any,
        candidates: Sequence[Any],
        k: int = 1,
        t: float | None = None,
        model: StudentModel | None = None,
    ) -> list[Any]:
        self._check(candidates, k, model)
        if not len(candidates):
            return []
        predicted = self._model(model).predict(learner, candidates, t)
        return [candidates[i] for i in closest(predicted, self.target, self.rng, k).tolist()]
