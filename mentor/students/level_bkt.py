"""Knowledge tracing over a skill's chain of levels: one latent state per skill, not per item.

:class:`mentor.students.BKT` with ``grain="item"`` traces each level of a skill (its
items at increasing difficulty) as an independent knowledge component, so a right
answer at level 2 says nothing about level 1. Here the levels of a skill are rungs
of one ladder: the learner's latent state on skill ``s`` is the highest level
``k`` in ``0..L`` they know, and knowing a level means knowing every level below
it. This is the linear case of a knowledge structure (Doignon and Falmagne,
"Spaces for the assessment of knowledge", International Journal of Man-Machine
Studies 23, 1985; "Learning Spaces", Springer 2011): the feasible knowledge states
of a chain of items are its prefixes, and learning adds an item of the *outer
fringe*, the next level up. Each skill is then a hidden Markov model over ``L + 1``
states, with Corbett and Anderson's (1995) guess, slip and learn:

* Answers. At an item of level ``j`` (1-based), ``P(right | k) = 1 - slip`` if
  ``k >= j`` and ``guess`` otherwise; an outcome ``o`` in [0, 1] is soft evidence,
  ``(1 - slip)^o slip^(1 - o)`` and ``guess^o (1 - guess)^(1 - o)``, as in BKT.
* Learning at the fringe. After an attempt at level ``j``, a learner in state
  ``j - 1`` moves to ``j`` with probability ``learn``; no other state moves (a
  level already known teaches nothing new, and one far above what is known is not
  yet learnable). There is no forgetting.
* Prior. Each level is known, given the level below it is, with probability
  ``prior``: ``P(k >= j) = prior^j`` before any answer.

So a right answer at level 2 raises the probability that level 1 is known, a
wrong answer at level 1 lowers that of level 2, and ``P(k >= j)`` never rises with
``j``. With one level per skill (or no domain: every item its own skill) the model
is BKT without forgetting, update for update.

The mastery of an item is ``P(k >= level)``; the mastery of a skill
(:meth:`LevelBKT.state`) is ``P(k = L)``, every level known, as ``BKT(grain="item")``
reports it. Levels are the distinct difficulties of the skill's items, easiest
first (items without a difficulty share the lowest level), as
:func:`mentor.teachers.activity_graph` orders them, so a teacher's order of levels
and the model's agree. An item of several skills needs all of them: its success is
the product over its skills, and an answer updates each skill.

:meth:`LevelBKT.lookahead` simulates one more attempt (the hook model-based teachers
plan with, :class:`mentor.teachers.ExpectedGain`). The expected gain of an item at
level ``j`` is ``P(k = j - 1) learn`` (the posterior is a martingale, so only the
learning transition moves the expected mastery): the teacher is drawn to the level
the learner most probably stands just below, the fringe.

Fitting is expectation-maximisation (Baum-Welch) over every (learner, skill)
sequence, with a prior, learn, guess and slip per skill (skills not in the log keep
the defaults): the forward-backward pass is exact over ``L + 1`` states, run
sequence by sequence, O(events x levels^2) per iteration. Time is counted in
attempts: ``t`` in :meth:`LevelBKT.predict` is accepted for the common contract and
ignored.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, Self

import numpy as np

from mentor._checks import check_count, check_number, check_unit
from mentor.domain import Domain
from mentor.events import EventLog
from mentor.students.base import EpochCallback, LookAhead, StudentModel

PARAMS = ("prior", "learn", "guess", "slip")
#: Fitted probabilities are kept in [EPS, 1 - EPS], as BKT's are.
EPS = 1e-6


def skill_levels(domain: Domain | None, skill: Any) -> dict[Any, int]:
    """The level (1-based) of each item of ``skill``: the rank of its difficulty among
    the skill's distinct difficulties, items without one on the lowest level. Without a
    domain, or for a skill the domain does not know, the skill is an item of one level."""
    if domain is None or skill not in domain.skill_attributes:
        return {skill: 1}
    items = domain.items_of(skill)
    if not items:
        return {}

    def difficulty(item: Any) -> float:
        d = domain.item(item).difficulty
        return -math.inf if d is None else float(d)

    ranks = {d: n + 1 for n, d in enumerate(sorted({difficulty(i) for i in items}))}
    return {item: ranks[difficulty(item)] for item in items}


class LevelBKT(StudentModel):
    """Knowledge tracing over each skill's chain of levels (see the module docstring).

    Parameters
    ----------
    domain
        Gives each skill's items and their difficulties (the levels); without it
        every item is its own skill of one level (BKT without forgetting).
    prior
        P(a level is known before any answer | the level below is known) (0.4).
    learn
        P(an attempt at the level just above the highest known teaches it) (0.1).
    guess, slip
        P(right | level not known) and P(wrong | level known) (0.2, 0.1).
    max_iter
        Most EM iterations of :meth:`fit` (100).
    tol
        EM stops when the log-likelihood improves by less than ``tol`` times its
        absolute value (1e-6).

    The defaults are BKT's (:class:`mentor.students.BKT`), read per level.

    Attributes
    ----------
    skills_ : list
        Skills with fitted parameters, in the order of the arrays below.
    prior_, learn_, guess_, slip_ : numpy.ndarray
        Parameters per skill.
    knowledge_ : dict
        Per learner and skill, the distribution of the highest known level
        (``L + 1`` probabilities, level 0 first), before the next attempt.
    log_likelihood_ : float
        Training log-likelihood after fitting.
    n_iter_ : int
        EM iterations run.
    """

    name = "level-bkt"
    supports_lookahead = True

    def __init__(
        self,
        domain: Domain | None = None,
        prior: float = 0.4,
        learn: float = 0.1,
        guess: float = 0.2,
        slip: float = 0.1,
        max_iter: int = 100,
        tol: float = 1e-6,
    ) -> None:
        super().__init__(domain)
        self.prior = check_unit("prior", prior)
        self.learn = check_unit("learn", learn)
        self.guess = check_unit("guess", guess)
        self.slip = check_unit("slip", slip)
        self.max_iter = check_count("max_iter", max_iter, 0)
        self.tol = check_number("tol", tol)
        self._levels: dict[Any, dict[Any, int]] = {}
        self._reset()

    def _reset(self) -> None:
        self.skills_: list[Any] = []
        self._skill_index: dict[Any, int] = {}
        self.prior_ = np.zeros(0)
        self.learn_ = np.zeros(0)
        self.guess_ = np.zeros(0)
        self.slip_ = np.zeros(0)
        self.knowledge_: dict[Any, dict[Any, np.ndarray]] = {}
        self.log_likelihood_ = math.nan
        self.n_iter_ = 0

    def get_params(self) -> dict[str, Any]:
        return {
            "prior": self.prior,
            "learn": self.learn,
            "guess": self.guess,
            "slip": self.slip,
            "max_iter": self.max_iter,
            "tol": self.tol,
        }

    # ------------------------------------------------------------- structure
    def levels(self, skill: Any) -> dict[Any, int]:
        """Each item of ``skill`` and its level (see :func:`skill_levels`)."""
        found = self._levels.get(skill)
        if found is None:
            found = self._levels[skill] = skill_levels(self.domain, skill)
        return found

    def level(self, skill: Any, item: Any) -> tuple[int, int]:
        """``(level of item in skill, number of levels of skill)``."""
        levels = self.levels(skill)
        top = max(levels.values(), default=1)
        return levels.get(item, 1), top

    def params(self, skill: Any) -> dict[str, float]:
        """Prior, learn, guess and slip of a skill (the defaults if not fitted)."""
        s = self._skill_index.get(skill)
        if s is None:
            return {
                "prior": self.prior,
                "learn": self.learn,
                "guess": self.guess,
                "slip": self.slip,
            }
        return {name: float(getattr(self, f"{name}_")[s]) for name in PARAMS}

    def start(self, skill: Any) -> np.ndarray:
        """The prior distribution of the highest known level: ``P(k >= j) = prior^j``."""
        _, top = self.level(skill, None)
        prior = self.params(skill)["prior"]
        at_least = prior ** np.arange(top + 2, dtype=float)
        at_least[-1] = 0.0
        return at_least[:-1] - at_least[1:]

    def belief(self, learner: Any, skill: Any) -> np.ndarray:
        """The distribution of the highest level of ``skill`` that ``learner`` knows
        (level 0 first), before their next attempt (a copy)."""
        known = self.knowledge_.get(learner, {}).get(skill)
        return self.start(skill) if known is None else known.copy()

    # ------------------------------------------------------------- one step
    @staticmethod
    def _answer(belief: np.ndarray, j: int, o: float, guess: float, slip: float) -> np.ndarray:
        """The likelihood of outcome ``o`` at level ``j`` in each state."""
        known = (1.0 - slip) ** o * slip ** (1.0 - o)
        unknown = guess**o * (1.0 - guess) ** (1.0 - o)
        likelihood: np.ndarray = np.where(np.arange(belief.size) >= j, known, unknown)
        return likelihood

    @staticmethod
    def _learn(belief: np.ndarray, j: int, learn: float) -> np.ndarray:
        """After an attempt at level ``j``: state ``j - 1`` moves to ``j`` w.p. ``learn``."""
        after = belief.copy()
        moved = belief[j - 1] * learn
        after[j - 1] -= moved
        after[j] += moved
        return after

    def step(self, belief: np.ndarray, skill: Any, j: int, o: float) -> np.ndarray:
        """``belief`` after outcome ``o`` at level ``j`` of ``skill``: filtered, then learning."""
        p = self.params(skill)
        posterior = belief * self._answer(belief, j, o, p["guess"], p["slip"])
        posterior /= posterior.sum()
        return self._learn(posterior, j, p["learn"])

    # ------------------------------------------------------------- contract
    def update(self, events: EventLog) -> None:
        """Bayesian update of each learner's belief, O(levels) per (event, skill)."""
        for learner, item, o in zip(
            events.learner.tolist(), events.item.tolist(), events.outcome.tolist(), strict=True
        ):
            known = self.knowledge_.setdefault(learner, {})
            for skill in self.skills_of(item):
                j, _ = self.level(skill, item)
                known[skill] = self.step(self.belief(learner, skill), skill, j, float(o))

    def success(self, learner: Any, skill: Any, item: Any) -> tuple[float, float]:
        """``(P(the item's level known), P(right))`` of ``item`` in ``skill``."""
        j, _ = self.level(skill, item)
        p = self.params(skill)
        m = float(self.belief(learner, skill)[j:].sum())
        return m, m * (1.0 - p["slip"]) + (1.0 - m) * p["guess"]

    def predict(self, learner: Any, items: Iterable[Any], t: float | None = None) -> np.ndarray:
        """P(success) of each item: the product over its skills of
        ``P(k >= level) (1 - slip) + P(k < level) guess``."""
        return np.array(
            [
                math.prod(self.success(learner, s, item)[1] for s in self.skills_of(item))
                for item in items
            ],
            dtype=float,
        )

    def lookahead(self, learner: Any, items: Iterable[Any], t: float | None = None) -> LookAhead:
        """One more attempt at each item, by the update above, without changing the model
        (:func:`mentor.students.lookahead.level_bkt_lookahead`)."""
        from mentor.students.lookahead import level_bkt_lookahead

        return level_bkt_lookahead(self, learner, items)

    def state(self, learner: Any) -> dict[str, Any]:
        """Mastery per skill, ``P(every level known)``; ``"items"``: each item's
        ``P(its level known)`` (product over its skills); ``"levels"``: per skill, the
        distribution of the highest known level."""
        skills = list(self.domain.skills) if self.domain is not None else []
        known = set(skills)
        skills += [s for s in self.knowledge_.get(learner, {}) if s not in known]
        beliefs = {s: self.belief(learner, s) for s in skills if self.levels(s)}
        items = {}
        if self.domain is not None:
            for item in self.domain.item_ids:
                items[item] = math.prod(
                    float(beliefs[s][self.level(s, item)[0] :].sum()) for s in self.skills_of(item)
                )
        return {
            "mastery": {s: float(b[-1]) for s, b in beliefs.items()},
            "items": items,
            "levels": {s: b.tolist() for s, b in beliefs.items()},
        }

    # ------------------------------------------------------------- fitting
    def _sequences(self, log: EventLog) -> dict[Any, list[tuple[list[int], list[float], Any]]]:
        """Per skill, each learner's (levels, outcomes, learner) in time order."""
        order = np.argsort(log.time, kind="stable")
        runs: dict[tuple[Any, Any], tuple[list[int], list[float]]] = {}
        learners, items, outcomes = log.learner.tolist(), log.item.tolist(), log.outcome.tolist()
        for i in order.tolist():
            for skill in self.skills_of(items[i]):
                levels, answers = runs.setdefault((learners[i], skill), ([], []))
                levels.append(self.level(skill, items[i])[0])
                answers.append(float(outcomes[i]))
        out: dict[Any, list[tuple[list[int], list[float], Any]]] = {}
        for (learner, skill), (levels, answers) in runs.items():
            out.setdefault(skill, []).append((levels, answers, learner))
        return out

    def fit(self, log: EventLog, on_epoch: EpochCallback | None = None) -> Self:
        """Fit prior, learn, guess and slip per skill by EM (Baum-Welch) on ``log``,
        from the current values; then every learner's belief is where their answers
        in the log leave it."""
        self._reset()
        sequences = self._sequences(log)
        self.skills_ = list(sequences)
        self._skill_index = {s: n for n, s in enumerate(self.skills_)}
        size = len(self.skills_)
        for name in PARAMS:
            setattr(self, f"{name}_", np.full(size, float(getattr(self, name))))
        previous = -math.inf
        for iteration in range(1, self.max_iter + 1):
            total = 0.0
            for s, skill in enumerate(self.skills_):
                counts = np.zeros(8)
                for levels, answers, _ in sequences[skill]:
                    total += self._expect(skill, levels, answers, counts)
                self._maximise(s, counts)
            self.n_iter_ = iteration
            self.log_likelihood_ = total
            if on_epoch is not None:
                on_epoch({"epoch": iteration, "log_likelihood": total})
            if total - previous < self.tol * abs(total):
                break
            previous = total
        if self.max_iter == 0 and on_epoch is not None:
            on_epoch({"epoch": 1})
        for skill, runs in sequences.items():
            for levels, answers, learner in runs:
                belief = self.belief(learner, skill)
                for j, o in zip(levels, answers, strict=True):
                    belief = self.step(belief, skill, j, o)
                self.knowledge_.setdefault(learner, {})[skill] = belief
        return self

    def _expect(
        self, skill: Any, levels: list[int], answers: list[float], counts: np.ndarray
    ) -> float:
        """Forward-backward over one sequence; adds its expected counts to ``counts``
        (prior: levels known, levels that could have been; learn: moves, chances;
        guess: right while unknown, unknown; slip: wrong while known, known) and
        returns its log-likelihood."""
        p = self.params(skill)
        states = self.start(skill).size
        n = len(levels)
        forward = np.empty((n, states))  # filtered, after the answer, before learning
        emissions = np.empty((n, states))
        belief = self.start(skill)
        loglik = 0.0
        for t, (j, o) in enumerate(zip(levels, answers, strict=True)):
            emissions[t] = self._answer(belief, j, o, p["guess"], p["slip"])
            joint = belief * emissions[t]
            norm = joint.sum()
            loglik += math.log(norm)
            forward[t] = joint / norm
            belief = self._learn(forward[t], j, p["learn"])
        # backward: smoothed state after each answer, and expected learning moves
        smoothed = np.empty((n, states))
        smoothed[-1] = forward[-1]
        for t in range(n - 2, -1, -1):
            j = levels[t]
            predicted = self._learn(forward[t], j, p["learn"])
            ratio = np.divide(smoothed[t + 1], predicted, out=np.zeros(states), where=predicted > 0)
            back = ratio.copy()
            back[j - 1] = (1.0 - p["learn"]) * ratio[j - 1] + p["learn"] * ratio[j]
            smoothed[t] = forward[t] * back
            moved = forward[t][j - 1] * p["learn"] * ratio[j]
            counts[2] += moved
            counts[3] += smoothed[t][j - 1]
        first = smoothed[0]  # state at the first answer (no learning before it)
        k = np.arange(states)
        counts[0] += float(first @ k)
        counts[1] += float(first @ (k + (k < states - 1)))
        for t, (j, o) in enumerate(zip(levels, answers, strict=True)):
            unknown = float(smoothed[t][:j].sum())
            counts[4] += unknown * o
            counts[5] += unknown
            counts[6] += (1.0 - unknown) * (1.0 - o)
            counts[7] += 1.0 - unknown
        return loglik

    def _maximise(self, s: int, counts: np.ndarray) -> None:
        for name, top, bottom in zip(PARAMS, counts[0::2], counts[1::2], strict=True):
            if bottom > 0:
                getattr(self, f"{name}_")[s] = min(max(top / bottom, EPS), 1.0 - EPS)

    # ------------------------------------------------------------- state
    def _get_state(self) -> dict[str, Any]:
        return {
            "skills": list(self.skills_),
            **{name: getattr(self, f"{name}_").tolist() for name in PARAMS},
            "knowledge": [
                [learner, skill, belief.tolist()]
                for learner, known in self.knowledge_.items()
                for skill, belief in known.items()
            ],
            "log_likelihood": None if math.isnan(self.log_likelihood_) else self.log_likelihood_,
            "n_iter": self.n_iter_,
        }

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self._reset()
        self.skills_ = list(state["skills"])
        self._skill_index = {s: n for n, s in enumerate(self.skills_)}
        if len(self._skill_index) != len(self.skills_):
            raise ValueError("duplicate skill in state")
        for name in PARAMS:
            values = np.asarray(state[name], dtype=float)
            if values.shape != (len(self.skills_),) or np.any((values < 0) | (values > 1)):
                raise ValueError(f"{name} must hold one probability per skill")
            setattr(self, f"{name}_", values)
        for learner, skill, belief in state["knowledge"]:
            values = np.asarray(belief, dtype=float)
            if values.shape != self.start(skill).shape or np.any(values < 0):
                raise ValueError(f"belief of {learner!r} on {skill!r} has the wrong shape")
            self.knowledge_.setdefault(learner, {})[skill] = values
        ll = state.get("log_likelihood")
        self.log_likelihood_ = math.nan if ll is None else float(ll)
        self.n_iter_ = int(state.get("n_iter", 0))
