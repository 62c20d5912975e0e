"""Mastery learning on a prerequisite graph: a skill opens once all its
prerequisites are mastered, and practice goes to open skills not yet mastered.

Bloom, "Learning for Mastery", Evaluation Comment 1(2), 1968: a learner moves
on to a unit only after mastering the units it builds on. Corbett and
Anderson, "Knowledge tracing: Modeling the acquisition of procedural
knowledge", User Modeling and User-Adapted Interaction 4, 1995: the cognitive
tutors' mastery criterion, a skill counts as mastered once the student
model's probability that it is known reaches 0.95, and practice goes on
until every skill of the curriculum section is mastered.

Mastery per skill comes from the student model, ``model.state(learner)["mastery"]``
(a skill the model does not list counts as 0); the graph is the domain's
prerequisite graph.

The default threshold is 0.85, not Corbett and Anderson's 0.95, because of what
most models report as mastery. Their 0.95 is a probability that the skill is
known (BKT's P(L), :class:`mentor.students.BKT`). Elo, IRT, PFA and the deep
models report the predicted success on an item of the skill, P(correct), which
careless slips keep below 1: with guess g and slip s, P(correct) = P(L) (1 - s)
+ (1 - P(L)) g, at most 1 - s, and P(L) = 0.95 is P(correct) = 0.865 for g = 0.2
and s = 0.1. Simulated students with that guess and slip
(:class:`mentor.sim.StudentPopulation`) taught under Elo at 0.95 never get past
the root skills: the highest Elo mastery a practised root reaches has a median of
0.93, and a skill opens only when all its prerequisites are above the threshold
at once. Of the thresholds tried (0.6 to 0.95), 0.85 to 0.9 teach best on the 15-skill
course and on a 61-skill sub-map of the Junyi map (benchmarks/teachers.py and its
results). With BKT, pass ``threshold=0.95``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from mentor._checks import check_choice, check_unit, plain
from mentor.domain import Domain
from mentor.errors import ParameterError
from mentor.students.base import StudentModel
from mentor.teachers.base import Teacher

RULES = ("lowest", "uniform")
#: Default mastery at or above which a skill counts as mastered (see above).
MASTERY_THRESHOLD = 0.85


def open_skills(domain: Domain, mastery: Mapping[Any, float], threshold: float) -> set[Any]:
    """The skills whose every direct prerequisite has mastery of at least ``threshold``
    (skills without prerequisites are always open)."""
    return {
        skill
        for skill in domain.skills
        if all(float(mastery.get(p, 0.0)) >= threshold for p in domain.graph.predecessors(skill))
    }


def item_open(domain: Domain, item: Any, opened: set[Any]) -> bool:
    """Whether an item of the domain exercises only open skills."""
    found = domain.items.get(plain(item))
    return found is not None and all(s in opened for s in found.skills)


class MasteryGate(Teacher):
    """Practise open, unmastered skills; a skill opens when its prerequisites are
    mastered (Bloom 1968; Corbett and Anderson 1995).

    Parameters
    ----------
    domain
        The skills, their prerequisite graph and the items of each skill.
    threshold
        Mastery at or above which a skill counts as mastered (and its
        dependents may open). Default 0.85: Corbett and Anderson's P(known)
        0.95 expressed as predicted success, for models whose mastery is
        P(correct) (see the module docstring); 0.95 for BKT.
    rule
        ``"lowest"`` (default): items of the open, unmastered skill with the
        lowest mastery (ties: the domain's skill order; if it has fewer than
        ``k`` candidate items, the next skill's follow). ``"uniform"``: uniform
        over the items of all open, unmastered skills.
    seed
        Seed of the draws.

    An item is available when every skill it exercises is open; it is new
    material when at least one of them is unmastered. Slots that new material
    cannot fill (all of them when no candidate is new) go to review: the same
    rule over the other available items. When no candidate is available at
    all, the teacher draws uniformly from the candidates.
    """

    name = "mastery"
    needs_model = True

    def __init__(
        self,
        domain: Domain,
        threshold: float = MASTERY_THRESHOLD,
        rule: str = "lowest",
        seed: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(seed)
        if domain is None:
            raise ParameterError("mastery teacher needs a domain with a prerequisite graph")
        self.domain = domain
        self.threshold = check_unit("threshold", threshold, strict=True)
        self.rule = check_choice("rule", rule, RULES)

    def get_params(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "rule": self.rule}

    def mastery(self, learner: Any, model: StudentModel) -> dict[Any, float]:
        """Mastery per skill of the domain (0 for skills the model does not list)."""
        known = model.state(learner).get("mastery", {})
        return {s: float(known.get(s, 0.0)) for s in self.domain.skills}

    def frontier(self, learner: Any, model: StudentModel) -> list[Any]:
        """Open, unmastered skills, lowest mastery first (ties: the domain's order)."""
        mastery = self.mastery(learner, self._model(model))
        opened = open_skills(self.domain, mastery, self.threshold)
        return self._by_mastery((s for s in opened if mastery[s] < self.threshold), mastery)

    def _by_mastery(self, skills: Iterable[Any], mastery: Mapping[Any, float]) -> list[Any]:
        return sorted(skills, key=lambda s: (mastery[s], self.domain.skill_index(s)))

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
        mastery = self.mastery(learner, self._model(model))
        opened = open_skills(self.domain, mastery, self.threshold)
        available = [i for i, c in enumerate(candidates) if item_open(self.domain, c, opened)]
        if not available:
            drawn = self.rng.choice(len(candidates), size=min(k, len(candidates)), replace=False)
            return [candidates[i] for i in drawn.tolist()]
        skills_of = {i: self.domain.items[plain(candidates[i])].skills for i in available}
        new = [i for i in available if any(mastery[s] < self.threshold for s in skills_of[i])]
        picks = self._pick(new, skills_of, mastery, k, unmastered=True)
        if len(picks) < k:  # review: open items of mastered skills
            rest = [i for i in available if i not in picks]
            picks += self._pick(rest, skills_of, mastery, k - len(picks), unmastered=False)
        return [candidates[i] for i in picks]

    def _pick(
        self,
        pool: list[int],
        skills_of: Mapping[int, tuple[Any, ...]],
        mastery: Mapping[Any, float],
        need: int,
        unmastered: bool,
    ) -> list[int]:
        """Up to ``need`` of the candidate indices ``pool``, by the teacher's rule."""
        if not pool:
            return []
        if self.rule == "uniform":
            chosen = self.rng.choice(pool, size=min(need, len(pool)), replace=False)
            return [int(i) for i in chosen]
        targets = {s for i in pool for s in skills_of[i]}
        if unmastered:
            targets = {s for s in targets if mastery[s] < self.threshold}
        picks: list[int] = []
        for skill in self._by_mastery(targets, mastery):
            left = [i for i in pool if skill in skills_of[i] and i not in picks]
            if left:
                take = min(need - len(picks), len(left))
                picks += self.rng.choice(left, size=take, replace=False).tolist()
            if len(picks) == need:
                break
        return picks
