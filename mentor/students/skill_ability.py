"""Continuous knowledge per skill: a Gaussian belief about each learner's ability, with
learning, and item difficulties pooled across learners.

Each learner ``l`` has an ability ``theta[l, s]`` on every skill (a logit), believed
normal, ``N(mu, v)``, from the prior ``N(0, prior_var)``. Items are grouped by the
course's difficulty (items of equal ``Item.difficulty`` share one difficulty ``b``,
learned from every learner's answers; an item without one has its own), so that a
course's own log, pooled across learners, places its levels. An answer follows the
item response function with a guess floor and a slip ceiling (the 3PL/4PL form of
Barton and Lord 1981, at BKT's default guess and slip)::

    P(right) = guess + (1 - guess - slip) * sigma(mean_s mu[l, s] - b)

and the model's mastery of the item is the knowledge part, ``sigma(mu - b)``: the
chance that the learner can do it without guessing or slipping. A skill's mastery is
that mastery averaged over the skill's items, the learner's expected share of them on
a post-test.

After an answer ``o`` (in [0, 1]) at an item of skills ``S``, with ``x`` its logit,
``a = 1 - guess - slip``, ``P`` the prediction and ``dP = a sigma(x)(1 - sigma(x))``:

* the belief about each skill's ability is filtered by one Laplace (assumed-density)
  step, as Glicko and TrueSkill-style ratings do (Glickman 1999): the score
  ``g = o dP / P - (1 - o) dP / (1 - P)`` and Fisher information
  ``I = dP^2 / (P (1 - P))`` of the answer give ``v' = 1 / (1 / v + I / |S|^2)`` and
  ``mu' = mu + v' g / |S|``;
* then the practice itself teaches: ``mu' += learn`` and ``v' += drift_var``, a random
  walk with drift (the learner's ability changes between answers, so old evidence
  fades and new answers keep moving the belief, as in a Kalman filter);
* the group's difficulty moves against the score with Elo's uncertainty function
  (Pelanek 2016): ``b -= difficulty_rate / (1 + difficulty_decay n) g``, ``n`` its
  earlier updates.

Unlike BKT per item, whose levels are each learned or not, the belief is one
continuous ability per skill, so an answer at one level moves every level of the
skill, and a skill can be left once its hardest item is more likely known than not
(mastery 0.5) instead of after two right answers at every level: the rule
:class:`mentor.teachers.SkillFrontier` applies (``benchmarks/model_teaching.py``, row
``skill_frontier``).

The defaults (``learn=0.3``, ``drift_var=0.1``, ``difficulty_rate=1``,
``difficulty_decay=0.01``, ``prior_var=1``) were chosen on a 10-seed screen of the
teaching benchmark on held-out seeds (100-109) of both simulated courses
(``benchmarks/RESULTS.md``, "Issue 13: continuous-knowledge teacher").
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, Self

import numpy as np
from scipy.special import expit

from mentor._checks import check_number, check_unit, json_id
from mentor.domain import Domain
from mentor.errors import ParameterError
from mentor.events import EventLog
from mentor.students.base import EpochCallback, LookAhead, StudentModel


class SkillAbility(StudentModel):
    """A Gaussian belief about each learner's ability per skill, moved by every answer
    and by learning, with item difficulties pooled by the course's difficulty levels.

    Parameters
    ----------
    domain
        Gives each item's skills and difficulty (items of equal difficulty share one
        learned difficulty, started at the difficulty standardised over the course's
        distinct values); without it every item is its own skill and group.
    guess, slip
        Chance of a right answer without the knowledge, and of a wrong one with it
        (0.2 and 0.1, BKT's defaults).
    prior_var
        Variance of the prior belief about an unseen skill's ability, mean 0 (1.0).
    learn
        Ability gained per attempt at a skill, in logits (0.3).
    drift_var
        Variance added to the belief per attempt (0.1): how fast old answers fade.
    difficulty_rate, difficulty_decay
        Step ``difficulty_rate / (1 + difficulty_decay n)`` of a group's difficulty
        after its ``n``-th answer (1.0, 0.01).
    """

    name = "skill-ability"
    supports_lookahead = True

    def __init__(
        self,
        domain: Domain | None = None,
        guess: float = 0.2,
        slip: float = 0.1,
        prior_var: float = 1.0,
        learn: float = 0.3,
        drift_var: float = 0.1,
        difficulty_rate: float = 1.0,
        difficulty_decay: float = 0.01,
    ) -> None:
        super().__init__(domain)
        self.guess = check_unit("guess", guess)
        self.slip = check_unit("slip", slip)
        if self.guess + self.slip >= 1.0:
            raise ParameterError("guess + slip must be below 1", field="slip", value=slip)
        self.prior_var = check_number("prior_var", prior_var, 0.0, strict=True)
        self.learn = check_number("learn", learn, 0.0)
        self.drift_var = check_number("drift_var", drift_var, 0.0)
        self.difficulty_rate = check_number("difficulty_rate", difficulty_rate, 0.0)
        self.difficulty_decay = check_number("difficulty_decay", difficulty_decay, 0.0)
        self._start: dict[Any, float] = {}
        if domain is not None:
            levels = sorted(
                {float(i.difficulty) for i in domain.items.values() if i.difficulty is not None}
            )
            spread = float(np.std(levels)) if len(levels) > 1 else 0.0
            mean = float(np.mean(levels)) if levels else 0.0
            self._start = {d: (d - mean) / spread if spread > 0 else 0.0 for d in levels}
        self._reset()

    def _reset(self) -> None:
        #: Per learner and skill: [mean, variance] of the belief about the ability.
        self.belief_: dict[Any, dict[Any, list[float]]] = {}
        #: Per difficulty group: [difficulty, answers seen].
        self.difficulty_: dict[Any, list[float]] = {}

    def get_params(self) -> dict[str, Any]:
        return {
            "guess": self.guess,
            "slip": self.slip,
            "prior_var": self.prior_var,
            "learn": self.learn,
            "drift_var": self.drift_var,
            "difficulty_rate": self.difficulty_rate,
            "difficulty_decay": self.difficulty_decay,
        }

    # ------------------------------------------------------------- pieces
    def group(self, item: Any) -> Any:
        """The difficulty group of an item: its difficulty, or the item itself."""
        if self.domain is not None and item in self.domain.items:
            difficulty = self.domain.items[item].difficulty
            if difficulty is not None:
                return float(difficulty)
        return ("item", item)

    def difficulty(self, item: Any) -> float:
        """The item's learned difficulty (its group's), in logits."""
        key = self.group(item)
        found = self.difficulty_.get(key)
        if found is not None:
            return found[0]
        return self._start.get(key, 0.0) if isinstance(key, float) else 0.0

    def ability(self, learner: Any, skill: Any) -> tuple[float, float]:
        """Mean and variance of the belief about ``learner``'s ability at ``skill``."""
        found = self.belief_.get(learner, {}).get(skill)
        return (found[0], found[1]) if found is not None else (0.0, self.prior_var)

    def _step(
        self, beliefs: list[tuple[float, float]], b: float, n_b: float, outcome: float
    ) -> tuple[list[tuple[float, float]], float]:
        """One answer: the skills' new beliefs and the group's new difficulty."""
        x = math.fsum(m for m, _ in beliefs) / len(beliefs) - b
        s = 1.0 / (1.0 + math.exp(-x))
        a = 1.0 - self.guess - self.slip
        p = self.guess + a * s
        dp = a * s * (1.0 - s)
        score = outcome * dp / p - (1.0 - outcome) * dp / (1.0 - p)
        info = dp * dp / (p * (1.0 - p))
        n = len(beliefs)
        out = []
        for mean, var in beliefs:
            var = 1.0 / (1.0 / var + info / n**2)
            out.append((mean + var * score / n + self.learn, var + self.drift_var))
        return out, b - self.difficulty_rate / (1.0 + self.difficulty_decay * n_b) * score

    # ------------------------------------------------------------- contract
    def fit(self, log: EventLog, on_epoch: EpochCallback | None = None) -> Self:
        """Run the updates through the log in time order, from a fresh start."""
        self._reset()
        self.update(log.sorted())
        if on_epoch is not None:
            on_epoch({"epoch": 1})
        return self

    def update(self, events: EventLog) -> None:
        for learner, item, outcome in zip(
            events.learner.tolist(), events.item.tolist(), events.outcome.tolist(), strict=True
        ):
            skills = self.skills_of(item)
            key = self.group(item)
            found = self.difficulty_.get(key)
            b, n_b = (found[0], found[1]) if found is not None else (self.difficulty(item), 0.0)
            beliefs, b = self._step(
                [self.ability(learner, s) for s in skills], b, n_b, float(outcome)
            )
            mine = self.belief_.setdefault(learner, {})
            for skill, (mean, var) in zip(skills, beliefs, strict=True):
                mine[skill] = [mean, var]
            self.difficulty_[key] = [b, n_b + 1.0]

    def _logit(self, learner: Any, item: Any) -> float:
        skills = self.skills_of(item)
        return math.fsum(self.ability(learner, s)[0] for s in skills) / len(skills) - (
            self.difficulty(item)
        )

    def predict(self, learner: Any, items: Iterable[Any], t: float | None = None) -> np.ndarray:
        """``guess + (1 - guess - slip) sigma(mean ability - difficulty)``."""
        x = np.array([self._logit(learner, i) for i in items], dtype=float)
        result: np.ndarray = self.guess + (1.0 - self.guess - self.slip) * expit(x)
        return result

    def _skill_mastery(self, learner: Any, skill: Any) -> tuple[float, float]:
        """A skill's mastery (its items' mastery, averaged) and its derivative in the
        skill's ability."""
        items = self.domain.items_of(skill) if self.domain is not None else [skill]
        mean = self.ability(learner, skill)[0]
        if not items:
            s = float(expit(mean))
            return s, s * (1.0 - s)
        s = expit(mean - np.array([self.difficulty(i) for i in items]))
        return float(s.mean()), float((s * (1.0 - s)).mean())

    def lookahead(self, learner: Any, items: Iterable[Any], t: float | None = None) -> LookAhead:
        """One more answer at each item by the model's update of the learner's belief
        (the pooled difficulty is kept as it is: one answer is the course's, not the
        learner's, and moves it little). ``mastery`` is the item's knowledge part
        ``sigma(x)``; ``practice_gain`` is ``sigma(x + learn) - sigma(x)``, what the
        practice itself adds; ``skill_weight`` is the first-order ratio of the move of
        its skills' reported mastery to the move of the item's, for one change of
        ability: ``sum_s mean_j sigma'(mu_s - b_j) / sigma'(x)``."""
        items = list(items)
        out = np.empty((6, len(items)))
        slopes: dict[Any, float] = {}
        for n, item in enumerate(items):
            skills = self.skills_of(item)
            beliefs = [self.ability(learner, s) for s in skills]
            key = self.group(item)
            found = self.difficulty_.get(key)
            b, n_b = (found[0], found[1]) if found is not None else (self.difficulty(item), 0.0)
            x = math.fsum(m for m, _ in beliefs) / len(beliefs) - b
            s = 1.0 / (1.0 + math.exp(-x))
            after = []
            for outcome in (1.0, 0.0):
                moved, _ = self._step(beliefs, b, n_b, outcome)
                after.append(expit(math.fsum(m for m, _ in moved) / len(moved) - b))
            slope = 0.0
            for sk in skills:
                if sk not in slopes:
                    slopes[sk] = self._skill_mastery(learner, sk)[1]
                slope += slopes[sk]
            out[:, n] = (
                self.guess + (1.0 - self.guess - self.slip) * s,
                s,
                after[0],
                after[1],
                slope / max(s * (1.0 - s), 1e-12),
                1.0 / (1.0 + math.exp(-(x + self.learn))) - s,
            )
        return LookAhead(out[0], out[1], out[2], out[3], out[4], out[5])

    def state(self, learner: Any) -> dict[str, Any]:
        """Mastery per skill (its items' knowledge part, averaged) and the belief about
        each ability practised (mean and variance)."""
        if self.domain is not None:
            skills = list(self.domain.skills)
        else:
            skills = sorted({s for b in self.belief_.values() for s in b}, key=repr)
        return {
            "mastery": {s: self._skill_mastery(learner, s)[0] for s in skills},
            "ability": {s: list(v) for s, v in self.belief_.get(learner, {}).items()},
        }

    def _get_state(self) -> dict[str, Any]:
        return {
            "beliefs": [
                [learner, skill, mean, var]
                for learner, skills in self.belief_.items()
                for skill, (mean, var) in skills.items()
            ],
            "difficulty": [
                [list(key) if isinstance(key, tuple) else key, b, n]
                for key, (b, n) in self.difficulty_.items()
            ],
        }

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self._reset()
        for learner, skill, mean, var in state["beliefs"]:
            self.belief_.setdefault(json_id(learner), {})[json_id(skill)] = [
                float(mean),
                float(var),
            ]
        for key, b, n in state["difficulty"]:
            group = ("item", json_id(key[1])) if isinstance(key, list) else float(key)
            self.difficulty_[group] = [float(b), float(n)]
