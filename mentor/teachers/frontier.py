"""Skill frontier: practise the open skills until each is known well enough to build on.

A teacher for a student model whose knowledge is continuous
(:class:`mentor.students.SkillAbility`): it reads, through the look-ahead contract
(:meth:`mentor.students.StudentModel.lookahead`), each item's mastery and the expected
gain of one attempt in the mastery of the item's skills, and

* counts a skill as **known** once the learner's mastery of its hardest items (those
  of the largest ``Item.difficulty`` in the course; the model is asked about them even
  when they are not candidates) reaches ``level`` (0.5: more likely than not to solve
  them); a skill of the course without items counts as known;
* **opens** a skill once every prerequisite is known (mastery learning, Bloom 1968,
  with "known enough to build on" instead of "mastered": a skill is left as soon as
  its hardest item is more likely right than wrong, where BKT per item waits for two
  right answers at every level);
* among the items of the open skills not yet known, chooses the one with the largest
  ``4 m (1 - m) x expected skill gain``: the skill whose next attempt the model expects
  to raise its mastery most, at the item whose mastery ``m`` is nearest one half, the
  item the learner is at the edge of (the most informative item of the skill, as in
  adaptive testing, and the zone of proximal development of Vygotsky, as ZPDES reads
  it);
* when nothing is open, practises the least-mastered candidate.

Why the practice gain (:attr:`mentor.students.LookAhead.practice_gain`) and not the
expected gain: for a model that filters a continuous ability, the expected change of the
estimate after an answer also holds the curvature of the filter's step, which measures
what the answer would reveal, not what the learner would learn; on
``benchmarks/model_teaching.py``'s courses it steered the teacher worse
(``benchmarks/RESULTS.md``, "Issue 13: continuous-knowledge teacher"). A model that gives
no practice gain (BKT, whose expected gain is its learning alone) is read by its
expected gain.

On that benchmark (20 seeds) this teacher over :class:`mentor.students.SkillAbility` at
their defaults taught more than ``ExpectedGain`` over BKT per item on both simulated
courses and both ACT-R courses (Junyi sub-map 31.6 % against 28.9 %), short of the
issue's Junyi target (33.5 %).

Each choice is recorded in :attr:`SkillFrontier.last_choices_`
(:class:`mentor.teachers.expected_gain.Choice`, kinds ``"learn"`` and ``"fallback"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mentor._checks import check_unit
from mentor.domain import Domain
from mentor.errors import ParameterError
from mentor.students.base import StudentModel
from mentor.teachers.base import Teacher
from mentor.teachers.expected_gain import Choice


class SkillFrontier(Teacher):
    """Open skills whose prerequisites are known; practise each at the edge of the
    learner's ability until its hardest item is known (see the module docstring).

    Parameters
    ----------
    domain
        The course: items, their skills and difficulties, prerequisites.
    level
        Mastery of a skill's hardest item at which the skill counts as known and
        opens what needs it (0.5).
    seed
        Breaks exact ties at random.
    """

    name = "skill_frontier"
    needs_model = True
    needs_lookahead = True
    lookahead_models = "'skill-ability'"

    def __init__(
        self,
        domain: Domain,
        level: float = 0.5,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(seed)
        if domain is None:
            raise ParameterError("skill_frontier needs the course's domain")
        self.domain = domain
        self.level = check_unit("level", level, strict=True, strict_maximum=True)
        self._prerequisites = {s: list(domain.prerequisites_of(s)) for s in domain.skills}
        #: Per skill: its hardest items (those of the largest difficulty; all of them
        #: when none has a difficulty).
        self._hardest: dict[Any, list[Any]] = {}
        for skill in domain.skills:
            items = list(domain.items_of(skill))
            top = max((self._difficulty(i) for i in items), default=0.0)
            self._hardest[skill] = [i for i in items if self._difficulty(i) == top]
        #: The choices of the latest :meth:`select` (not saved: a decision record).
        self.last_choices_: list[Choice] = []

    def get_params(self) -> dict[str, Any]:
        return {"level": self.level}

    def select(
        self,
        learner: Any,
        candidates: Sequence[Any],
        k: int = 1,
        t: float | None = None,
        model: StudentModel | None = None,
    ) -> list[Any]:
        self._check(candidates, k, model)
        model = self._model(model)
        candidates = list(dict.fromkeys(candidates))
        if not candidates:
            self.last_choices_ = []
            return []
        skill_of = [self._skill(item) for item in candidates]
        skills = set(skill_of)
        judged = skills | {p for s in skills for p in self._prerequisites.get(s, ())}
        # every candidate, and the hardest items of the candidates' skills and of their
        # prerequisites (asked about even when they are not candidates)
        needed = list(
            dict.fromkeys(candidates + [i for s in judged for i in self._hardest.get(s, ())])
        )
        ahead = model.lookahead(learner, needed, t)
        at = {item: n for n, item in enumerate(needed)}
        known = {
            s
            for s in judged
            if s in self._hardest  # a course skill: known when its hardest items are
            and all(float(ahead.mastery[at[i]]) >= self.level for i in self._hardest[s])
        }

        def is_open(skill: Any) -> bool:
            return skill not in known and all(
                p in known for p in self._prerequisites.get(skill, ())
            )

        n_c = len(candidates)
        mastery = ahead.mastery[:n_c]
        score = 4.0 * mastery * (1.0 - mastery) * ahead.expected_skill_practice_gain[:n_c]
        noise = self.rng.random(n_c)
        pool = [n for n, s in enumerate(skill_of) if is_open(s)]
        pool.sort(key=lambda n: (-score[n], noise[n]))
        chosen = list(pool[:k])
        kinds = ["learn"] * len(chosen)
        if len(chosen) < k:
            rest = [n for n in range(len(candidates)) if n not in set(chosen)]
            rest.sort(key=lambda n: (mastery[n], noise[n]))
            extra = rest[: k - len(chosen)]
            chosen += extra
            kinds += ["fallback"] * len(extra)
        gain = ahead.expected_gain
        self.last_choices_ = [
            Choice(
                candidates[n], kind, float(mastery[n]), float(ahead.p_success[n]), float(gain[n])
            )
            for n, kind in zip(chosen, kinds, strict=True)
        ]
        return [candidates[n] for n in chosen]

    def _skill(self, item: Any) -> Any:
        """The item's first skill (the item itself when the course does not know it)."""
        found = self.domain.items.get(item)
        return found.skills[0] if found is not None and found.skills else item

    def _difficulty(self, item: Any) -> float:
        found = self.domain.items.get(item)
        if found is None or found.difficulty is None:
            return 0.0
        return float(found.difficulty)
