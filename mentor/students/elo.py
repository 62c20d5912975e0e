"""Online Elo / Rasch student model.

P(success of learner l on item i) = sigma(theta_l + theta_{l,s} - b_i): a Rasch
(1PL) model whose abilities ``theta`` and difficulties ``b`` are estimated
online with the Elo rating update, as proposed for adaptive practice by
Pelanek, "Applications of the Elo rating system in adaptive educational
systems", Computers & Education 98 (2016). After each answer with outcome o,
predicted p and error e = o - p::

    theta_l += K(n_l) * e          b_i -= K(n_i) * e          theta_{l,s} += K(n_{l,s}) * e

with the uncertainty function K(n) = alpha / (1 + beta * n) of that paper
(defaults alpha = 1, beta = 0.05), n counting the earlier updates of the
parameter. The per-skill abilities theta_{l,s} (the "concept" extension of the
same paper) are on when ``skill_ability=True``; an item with several skills
uses the mean of their abilities and shares the update among them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, Self

import numpy as np
from scipy.special import expit

from mentor._checks import check_flag, check_number, json_id
from mentor.domain import Domain
from mentor.events import EventLog
from mentor.students.base import EpochCallback, LookAhead, StudentModel


class Elo(StudentModel):
    """Rasch model fitted online with Elo updates (Pelanek 2016).

    Parameters
    ----------
    domain
        Gives each item's skills (used for per-skill abilities and mastery);
        without it every item is its own skill.
    alpha, beta
        Uncertainty function K(n) = alpha / (1 + beta n). Defaults 1.0, 0.05.
    skill_ability
        Also learn an ability per learner and skill. Default False.
    """

    name = "elo"
    supports_lookahead = True

    def __init__(
        self,
        domain: Domain | None = None,
        alpha: float = 1.0,
        beta: float = 0.05,
        skill_ability: bool = False,
    ) -> None:
        super().__init__(domain)
        self.alpha = check_number("alpha", alpha, 0.0, strict=True)
        self.beta = check_number("beta", beta, 0.0)
        self.skill_ability = check_flag("skill_ability", skill_ability)
        self._reset()

    def _reset(self) -> None:
        self.ability_: dict[Any, float] = {}
        self.learner_count_: dict[Any, int] = {}
        self.difficulty_: dict[Any, float] = {}
        self.item_count_: dict[Any, int] = {}
        self.skill_ability_: dict[tuple[Any, Any], float] = {}
        self.skill_count_: dict[tuple[Any, Any], int] = {}

    def get_params(self) -> dict[str, Any]:
        return {"alpha": self.alpha, "beta": self.beta, "skill_ability": self.skill_ability}

    def _k(self, n: int) -> float:
        return self.alpha / (1.0 + self.beta * n)

    # ------------------------------------------------------------- contract
    def fit(self, log: EventLog, on_epoch: EpochCallback | None = None) -> Self:
        """Run the Elo updates through the log in time order, from a fresh start."""
        self._reset()
        self.update(log.sorted())
        if on_epoch is not None:
            on_epoch({"epoch": 1})
        return self

    def update(self, events: EventLog) -> None:
        ability, learner_count = self.ability_, self.learner_count_
        difficulty, item_count = self.difficulty_, self.item_count_
        for learner, item, outcome in zip(
            events.learner.tolist(), events.item.tolist(), events.outcome.tolist(), strict=True
        ):
            skills = self.skills_of(item) if self.skill_ability else ()
            theta = ability.get(learner, 0.0)
            logit = theta - difficulty.get(item, 0.0)
            if skills:
                logit += sum(self.skill_ability_.get((learner, s), 0.0) for s in skills) / len(
                    skills
                )
            error = outcome - 1.0 / (1.0 + math.exp(-logit))
            n = learner_count.get(learner, 0)
            ability[learner] = theta + self._k(n) * error
            learner_count[learner] = n + 1
            m = item_count.get(item, 0)
            difficulty[item] = difficulty.get(item, 0.0) - self._k(m) * error
            item_count[item] = m + 1
            for s in skills:
                key = (learner, s)
                c = self.skill_count_.get(key, 0)
                self.skill_ability_[key] = self.skill_ability_.get(key, 0.0) + self._k(
                    c
                ) * error / len(skills)
                self.skill_count_[key] = c + 1

    def _logits(self, learner: Any, items: list[Any]) -> np.ndarray:
        theta = self.ability_.get(learner, 0.0)
        logits = np.array([theta - self.difficulty_.get(i, 0.0) for i in items], dtype=float)
        if self.skill_ability:
            for k, item in enumerate(items):
                skills = self.skills_of(item)
                logits[k] += sum(self.skill_ability_.get((learner, s), 0.0) for s in skills) / len(
                    skills
                )
        return logits

    def predict(self, learner: Any, items: Iterable[Any], t: float | None = None) -> np.ndarray:
        """sigma(ability - difficulty); unseen learners and items start at 0."""
        result: np.ndarray = expit(self._logits(learner, list(items)))
        return result

    def lookahead(self, learner: Any, items: Iterable[Any], t: float | None = None) -> LookAhead:
        """One more answer at each item, by the Elo update
        (:func:`mentor.students.lookahead.elo_lookahead`)."""
        from mentor.students.lookahead import elo_lookahead

        return elo_lookahead(self, learner, items)

    def state(self, learner: Any) -> dict[str, Any]:
        """Ability, number of answers, and mastery per skill: the predicted success
        on an item of the skill's mean difficulty."""
        if self.domain is not None:
            groups = {s: self.domain.items_of(s) for s in self.domain.skills}
        else:
            groups = {i: [i] for i in self.difficulty_}
        theta = self.ability_.get(learner, 0.0)
        mastery = {}
        for skill, items in groups.items():
            b = float(np.mean([self.difficulty_.get(i, 0.0) for i in items])) if items else 0.0
            own = self.skill_ability_.get((learner, skill), 0.0) if self.skill_ability else 0.0
            mastery[skill] = float(expit(theta + own - b))
        return {
            "ability": theta,
            "answers": self.learner_count_.get(learner, 0),
            "mastery": mastery,
        }

    def _get_state(self) -> dict[str, Any]:
        return {
            "learners": list(self.ability_),
            "ability": list(self.ability_.values()),
            "learner_count": [self.learner_count_[k] for k in self.ability_],
            "items": list(self.difficulty_),
            "difficulty": list(self.difficulty_.values()),
            "item_count": [self.item_count_[k] for k in self.difficulty_],
            "skill_ability": [
                [learner, s, v, self.skill_count_[(learner, s)]]
                for (learner, s), v in self.skill_ability_.items()
            ],
        }

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self._reset()
        learners = [json_id(x) for x in state["learners"]]
        self.ability_ = dict(zip(learners, map(float, state["ability"]), strict=True))
        self.learner_count_ = dict(zip(learners, map(int, state["learner_count"]), strict=True))
        items = [json_id(x) for x in state["items"]]
        self.difficulty_ = dict(zip(items, map(float, state["difficulty"]), strict=True))
        self.item_count_ = dict(zip(items, map(int, state["item_count"]), strict=True))
        for learner, skill, value, count in state["skill_ability"]:
            key = (json_id(learner), json_id(skill))
            self.skill_ability_[key] = float(value)
            self.skill_count_[key] = int(count)
