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
* steps back when the learner keeps failing: after ``step_back`` wrong answers in a row at
  an item (3, as :class:`mentor.teachers.ExpectedGain` counts wheel-spinning, after Beck
  and Gong 2013), the teacher asks the least-mastered item before it (an easier level of
  its skill, or an item of a prerequisite; the nearest first among equals), and the item
  itself goes behind every other item of the pool; a right answer clears the item's count
  and the counts of the items after it;
* when nothing is open, practises the least-mastered candidate the learner is not stuck
  at (those it is stuck at last).

Why the step back: without it, on a course where a skill's hardest item is beyond some
learners (``benchmarks/model_teaching.py``'s ``assist2009_dkt``: one item per skill, no
prerequisites, students drawn from a DKT), the teacher spends the end of the run on the
few skills not yet known, asking the same item again after a failure; the model's
learning drift, which the answers never confirm, keeps their mastery near the edge (the
item's pooled difficulty rises with the failures and cancels it), so the skill never
counts as known and is never left (``benchmarks/RESULTS.md``, "skill_frontier on
DKT-drawn students: diagnosis").

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
issue's Junyi target (33.5 %). Those figures are the teacher's before its step back; with
it, on development seeds, the four hand-written courses moved by at most a standard error
and the DKT-drawn students by +2.3 points, still behind ZPDES (``benchmarks/RESULTS.md``).

Each choice is recorded in :attr:`SkillFrontier.last_choices_`
(:class:`mentor.teachers.expected_gain.Choice`, kinds ``"learn"``, ``"step_back"``, with
the item the learner kept failing and how often, and ``"fallback"``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import networkx as nx
import numpy as np

from mentor._checks import check_count, check_unit, json_id
from mentor.domain import Domain
from mentor.errors import ParameterError
from mentor.events import EventLog
from mentor.students.base import StudentModel
from mentor.teachers.base import Teacher
from mentor.teachers.expected_gain import Choice
from mentor.teachers.streaks import record_answer, streaks_state
from mentor.teachers.zpdes import activity_graph


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
    step_back
        Wrong answers in a row at an item after which the teacher steps back to an
        item before it (3; 0: never).
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
        step_back: int = 3,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(seed)
        if domain is None:
            raise ParameterError("skill_frontier needs the course's domain")
        self.domain = domain
        self.level = check_unit("level", level, strict=True, strict_maximum=True)
        self.step_back = int(check_count("step_back", step_back, 0))
        self._prerequisites = {s: list(domain.prerequisites_of(s)) for s in domain.skills}
        #: Per skill: its hardest items (those of the largest difficulty; all of them
        #: when none has a difficulty).
        self._hardest: dict[Any, list[Any]] = {}
        for skill in domain.skills:
            items = list(domain.items_of(skill))
            top = max((self._difficulty(i) for i in items), default=0.0)
            self._hardest[skill] = [i for i in items if self._difficulty(i) == top]
        # the items before each item: the easier levels of its skill and, through the
        # prerequisites, every item of the skills it builds on (ZPDES's activity graph)
        graph = activity_graph(domain)
        self._before = {item: set(graph.predecessors(item)) for item in graph.nodes}
        self._ancestors = {item: nx.ancestors(graph, item) for item in graph.nodes}
        #: Per learner and item: wrong answers in a row at it.
        self.failures_: dict[Any, dict[Any, int]] = {}
        #: The choices of the latest :meth:`select` (not saved: a decision record).
        self.last_choices_: list[Choice] = []

    def get_params(self) -> dict[str, Any]:
        return {"level": self.level, "step_back": self.step_back}

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
        failures = self.failures_.get(learner, {})
        stuck = {i: n for i, n in failures.items() if self.step_back and n >= self.step_back}
        chosen: list[int] = []
        kinds: list[str] = []
        steps: list[tuple[Any, int]] = []
        if stuck:
            # a step back: the least-mastered candidate before an item the learner is
            # stuck at (and not stuck at itself), the nearest first among equals
            earlier = [
                n
                for n, c in enumerate(candidates)
                if c not in stuck and any(c in self._ancestors.get(s, ()) for s in stuck)
            ]
            earlier.sort(
                key=lambda n: (
                    mastery[n],
                    not any(candidates[n] in self._before.get(s, ()) for s in stuck),
                    noise[n],
                )
            )
            for n in earlier[:k]:
                after = max(
                    (s for s in stuck if candidates[n] in self._ancestors.get(s, ())),
                    key=lambda s: stuck[s],
                )
                chosen.append(n)
                kinds.append("step_back")
                steps.append((after, stuck[after]))
        taken = set(chosen)
        pool = [
            n
            for n, s in enumerate(skill_of)
            if is_open(s) and n not in taken and candidates[n] not in stuck
        ]
        pool.sort(key=lambda n: (-score[n], noise[n]))
        learn = pool[: k - len(chosen)]
        chosen += learn
        kinds += ["learn"] * len(learn)
        if len(chosen) < k:
            taken = set(chosen)
            rest = [n for n in range(n_c) if n not in taken]
            rest.sort(key=lambda n: (candidates[n] in stuck, mastery[n], noise[n]))
            extra = rest[: k - len(chosen)]
            chosen += extra
            kinds += ["fallback"] * len(extra)
        gain = ahead.expected_gain
        self.last_choices_ = []
        for j, (n, kind) in enumerate(zip(chosen, kinds, strict=True)):
            after, count = steps[j] if j < len(steps) else (None, 0)
            self.last_choices_.append(
                Choice(
                    candidates[n],
                    kind,
                    float(mastery[n]),
                    float(ahead.p_success[n]),
                    float(gain[n]),
                    after=after,
                    failures=count,
                )
            )
        return [candidates[n] for n in chosen]

    def observe(self, events: EventLog) -> None:
        """Count each learner's wrong answers in a row at each item; a right answer
        (outcome at least 0.5) clears the item's count and the counts of the items after
        it, so that after a step back the learner tries the item again."""
        if not self.step_back:
            return
        for learner, item, outcome in zip(
            events.learner.tolist(), events.item.tolist(), events.outcome.tolist(), strict=True
        ):
            record_answer(self.failures_, self._ancestors, learner, item, outcome)

    def _get_state(self) -> dict[str, Any]:
        return {"failures": streaks_state(self.failures_)}

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self.failures_ = {
            json_id(learner): {json_id(item): int(n) for item, n in items}
            for learner, items in state.get("failures", [])
        }

    def _skill(self, item: Any) -> Any:
        """The item's first skill (the item itself when the course does not know it)."""
        found = self.domain.items.get(item)
        return found.skills[0] if found is not None and found.skills else item

    def _difficulty(self, item: Any) -> float:
        found = self.domain.items.get(item)
        if found is None or found.difficulty is None:
            return 0.0
        return float(found.difficulty)
