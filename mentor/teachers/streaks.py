"""Wrong answers in a row per learner and item: the wheel-spinning count of the teachers
that step back (:class:`mentor.teachers.ExpectedGain`, :class:`mentor.teachers.SkillFrontier`).

Beck and Gong ("Wheel-spinning: students who fail to master a skill", AIED 2013) call a
learner who keeps failing at a skill wheel-spinning; the teachers step back to easier work
after ``step_back`` wrong answers in a row at an item. The counts are kept as
``{learner: {item: wrong answers in a row}}``; a right answer at an item clears its count and
the counts of every item that builds on it (whose ancestors, in the course's activity graph,
include it), so that after a step back the learner tries those items again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def record_answer(
    failures: dict[Any, dict[Any, int]],
    ancestors: Mapping[Any, Iterable[Any]],
    learner: Any,
    item: Any,
    outcome: float,
) -> None:
    """Count one answer (right when ``outcome`` is at least 0.5) into ``failures``."""
    streaks = failures.setdefault(learner, {})
    if outcome >= 0.5:
        streaks.pop(item, None)
        for later in [f for f in streaks if item in ancestors.get(f, ())]:
            del streaks[later]
    else:
        streaks[item] = streaks.get(item, 0) + 1


def streaks_state(failures: Mapping[Any, Mapping[Any, int]]) -> list[list[Any]]:
    """The counts as JSON-able ``[[learner, [[item, n], ...]], ...]``."""
    return [
        [learner, [[item, n] for item, n in items.items()]] for learner, items in failures.items()
    ]
