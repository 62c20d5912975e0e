"""Bayesian Knowledge Tracing with forgetting.

Corbett and Anderson, "Knowledge tracing: Modeling the acquisition of
procedural knowledge", User Modeling and User-Adapted Interaction 4 (1995),
with the forgetting extension of Khajah, Lindsey and Mozer, "How deep is
knowledge tracing?", EDM 2016, as in pyBKT's ``forgets`` option.

Each skill is a two-state hidden Markov model (unknown, known) with five
parameters: ``prior`` P(L0), ``learn`` P(T), ``forget`` P(F), ``guess`` P(G)
and ``slip`` P(S). Before an attempt with knowledge probability p::

    P(correct) = p (1 - S) + (1 - p) G

after observing outcome o (o may be fractional, read as soft evidence)::

    posterior = p (1-S)^o S^(1-o) / [p (1-S)^o S^(1-o) + (1-p) G^o (1-G)^(1-o)]
    p_next    = posterior (1 - F) + (1 - posterior) T

Parameters are fitted by expectation-maximisation (Baum-Welch) over all
sequences of all skills at once: every (learner, skill) sequence is packed
time-major (see :mod:`mentor.students._sequences`), so one EM iteration costs
one vectorised forward and one backward pass, not a Python loop per event.
An item with several skills updates each of them and is predicted as the
product of its skills' success probabilities (all skills are needed); fitting
uses every (item, skill) pair as one observation of that skill.

Time: BKT counts opportunities, not clock time; ``t`` in :meth:`BKT.predict`
is accepted for the common contract and ignored.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, Self

import numpy as np

from mentor.domain import Domain
from mentor.errors import DataError
from mentor.events import EventLog
from mentor.students._sequences import PackedSequences, pack
from mentor.students.base import StudentModel

PARAMS = ("prior", "learn", "forget", "guess", "slip")
EPS = 1e-6


class BKT(StudentModel):
    """Bayesian Knowledge Tracing with forgetting, one HMM per skill.

    Parameters
    ----------
    domain
        Gives each item's skills; without it every item is its own skill.
    forgets
        Learn a forgetting probability per skill (default True); if False it is 0.
    max_iter
        Most EM iterations (default 200).
    tol
        EM stops when the log-likelihood improves by less than ``tol`` times
        its absolute value (default 1e-7).
    init
        Starting values of the parameters, also used for skills never seen in
        fitting. Defaults: prior 0.4, learn 0.1, forget 0.05 (0 without
        ``forgets``), guess 0.2, slip 0.1.

    Attributes
    ----------
    skills_ : list
        Skills with parameters, in the order of the parameter arrays.
    prior_, learn_, forget_, guess_, slip_ : numpy.ndarray
        Parameters per skill.
    log_likelihood_ : float
        Training log-likelihood after fitting.
    n_iter_ : int
        EM iterations run.
    """

    name = "bkt"

    def __init__(
        self,
        domain: Domain | None = None,
        forgets: bool = True,
        max_iter: int = 200,
        tol: float = 1e-7,
        init: Mapping[str, float] | None = None,
    ) -> None:
        super().__init__(domain)
        self.forgets = bool(forgets)
        self.max_iter = int(max_iter)
        self.tol = float(tol)
        defaults = {"prior": 0.4, "learn": 0.1, "forget": 0.05, "guess": 0.2, "slip": 0.1}
        unknown = set(init or {}) - set(PARAMS)
        if unknown:
            raise ValueError(f"unknown BKT parameter {sorted(unknown)[0]!r}; expected {PARAMS}")
        defaults.update(init or {})
        if not self.forgets:
            defaults["forget"] = 0.0
        for key, value in defaults.items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"BKT init {key} must be a probability, got {value}")
        self.init = defaults
        self.skills_: list[Any] = []
        self._skill_index: dict[Any, int] = {}
        for name in PARAMS:
            setattr(self, f"{name}_", np.zeros(0))
        self.knowledge_: dict[Any, dict[int, float]] = {}
        self.log_likelihood_ = math.nan
        self.n_iter_ = 0

    def get_params(self) -> dict[str, Any]:
        return {
            "forgets": self.forgets,
            "max_iter": self.max_iter,
            "tol": self.tol,
            "init": self.init,
        }

    # ------------------------------------------------------------- skills
    def params(self, skill: Any) -> dict[str, float]:
        """The five parameters of one skill."""
        index = self._index(skill, create=False)
        if index is None:
            return dict(self.init)
        return {name: float(getattr(self, f"{name}_")[index]) for name in PARAMS}

    def _index(self, skill: Any, create: bool = True) -> int | None:
        index = self._skill_index.get(skill)
        if index is None and create:
            index = len(self.skills_)
            self.skills_.append(skill)
            self._skill_index[skill] = index
            for name in PARAMS:
                setattr(self, f"{name}_", np.append(getattr(self, f"{name}_"), self.init[name]))
        return index

    def _expand(self, log: EventLog) -> tuple[np.ndarray, np.ndarray]:
        """(event index, skill index) for every (event, skill) pair of the log."""
        items, inverse = np.unique(log.item, return_inverse=True)
        skill_lists = [[self._index(s) for s in self.skills_of(i)] for i in items.tolist()]
        counts = np.array([len(s) for s in skill_lists], dtype=np.int64)
        if np.all(counts == 1):
            flat = np.array([s[0] for s in skill_lists], dtype=np.int64)
            return np.arange(len(log)), flat[inverse]
        flat = np.array([s for lst in skill_lists for s in lst], dtype=np.int64)
        starts = np.r_[0, np.cumsum(counts)[:-1]]
        per_event = counts[inverse]
        event = np.repeat(np.arange(len(log)), per_event)
        within = np.arange(event.size) - np.repeat(np.cumsum(per_event) - per_event, per_event)
        return event, flat[starts[inverse[event]] + within]

    def _pack(
        self, log: EventLog
    ) -> tuple[PackedSequences, np.ndarray, np.ndarray, np.ndarray, list]:
        """Pack the (learner, skill) sequences of a log.

        Returns the packing, the skill, outcome and event index of each slot, and
        the learner ids (sequence keys are ``learner position * n_skills + skill``).
        """
        event, skill = self._expand(log)
        learners, learner_code = np.unique(log.learner, return_inverse=True)
        time_rank = np.empty(len(log), dtype=np.int64)
        time_rank[np.argsort(log.time, kind="stable")] = np.arange(len(log))
        n_skills = max(len(self.skills_), 1)
        keys = learner_code[event].astype(np.int64) * n_skills + skill
        packed = pack(keys, time_rank[event])
        slot_skill = np.empty(packed.n_slots, dtype=np.int64)
        slot_skill[packed.slot_of] = skill
        slot_outcome = np.empty(packed.n_slots)
        slot_outcome[packed.slot_of] = log.outcome[event]
        slot_event = np.empty(packed.n_slots, dtype=np.int64)
        slot_event[packed.slot_of] = event
        return packed, slot_skill, slot_outcome, slot_event, learners.tolist()

    # ------------------------------------------------------------- HMM passes
    def _emissions(
        self, slot_skill: np.ndarray, outcome: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        guess = self.guess_[slot_skill]
        slip = self.slip_[slot_skill]
        e_known = (1.0 - slip) ** outcome * slip ** (1.0 - outcome)
        e_unknown = guess**outcome * (1.0 - guess) ** (1.0 - outcome)
        return e_known, e_unknown

    def _forward(
        self,
        packed: PackedSequences,
        seq_skill: np.ndarray,
        e_known: np.ndarray,
        e_unknown: np.ndarray,
        start: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Filtering pass. Returns per slot the prior P(known) before the attempt,
        the posterior after it, the normaliser P(o_t | o_<t), and per sequence the
        P(known) before a next attempt."""
        learn = self.learn_[seq_skill]
        forget = self.forget_[seq_skill]
        prior = np.empty(packed.n_slots)
        posterior = np.empty(packed.n_slots)
        norm = np.empty(packed.n_slots)
        final = np.empty(seq_skill.size)
        p = start.copy()
        active = packed.active
        for t, begin, n in packed.steps():
            end = begin + n
            pt = p[:n]
            known = pt * e_known[begin:end]
            c = known + (1.0 - pt) * e_unknown[begin:end]
            f = known / c
            prior[begin:end] = pt
            posterior[begin:end] = f
            norm[begin:end] = c
            p = f * (1.0 - forget[:n]) + (1.0 - f) * learn[:n]
            following = int(active[t + 1]) if t + 1 < active.size else 0
            final[following:n] = p[following:n]
        return prior, posterior, norm, final

    def _em_step(
        self,
        packed: PackedSequences,
        slot_skill: np.ndarray,
        outcome: np.ndarray,
        seq_skill: np.ndarray,
        first_slots: np.ndarray,
    ) -> float:
        """One Baum-Welch iteration; updates the parameters and returns the
        log-likelihood under the parameters it started from."""
        e_known, e_unknown = self._emissions(slot_skill, outcome)
        _, posterior, norm, _ = self._forward(
            packed, seq_skill, e_known, e_unknown, self.prior_[seq_skill]
        )
        learn = self.learn_[seq_skill]
        forget = self.forget_[seq_skill]
        n_slots = packed.n_slots
        gamma_known = np.empty(n_slots)
        xi_learn = np.zeros(n_slots)  # unknown at t -> known at t+1
        xi_forget = np.zeros(n_slots)  # known at t -> unknown at t+1
        has_next = np.zeros(n_slots, dtype=bool)
        b_known = np.ones(0)
        b_unknown = np.ones(0)
        active = packed.active
        for t in range(active.size - 1, -1, -1):
            begin = int(packed.offsets[t])
            n = int(active[t])
            m = b_known.size  # sequences that go on to t+1 are ranks 0..m-1
            new_known = np.ones(n)
            new_unknown = np.ones(n)
            f = posterior[begin : begin + n]
            if m:
                nxt = int(packed.offsets[t + 1])
                ek = e_known[nxt : nxt + m] * b_known / norm[nxt : nxt + m]
                eu = e_unknown[nxt : nxt + m] * b_unknown / norm[nxt : nxt + m]
                new_known[:m] = (1.0 - forget[:m]) * ek + forget[:m] * eu
                new_unknown[:m] = learn[:m] * ek + (1.0 - learn[:m]) * eu
                xi_learn[begin : begin + m] = (1.0 - f[:m]) * learn[:m] * ek
                xi_forget[begin : begin + m] = f[:m] * forget[:m] * eu
                has_next[begin : begin + m] = True
            gamma_known[begin : begin + n] = f * new_known
            b_known, b_unknown = new_known, new_unknown
        gamma_unknown = 1.0 - gamma_known
        k = len(self.skills_)

        def total(weights: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
            if mask is None:
                return np.bincount(slot_skill, weights=weights, minlength=k)
            return np.bincount(slot_skill[mask], weights=weights[mask], minlength=k)

        seqs = np.bincount(seq_skill, minlength=k)
        first_known = np.bincount(seq_skill, weights=gamma_known[first_slots], minlength=k)
        from_unknown = total(gamma_unknown, has_next)
        from_known = total(gamma_known, has_next)
        all_known = total(gamma_known)
        all_unknown = total(gamma_unknown)
        updates = {
            "prior": (first_known, seqs),
            "learn": (total(xi_learn), from_unknown),
            "guess": (total(gamma_unknown * outcome), all_unknown),
            "slip": (total(gamma_known * (1.0 - outcome)), all_known),
        }
        if self.forgets:
            updates["forget"] = (total(xi_forget), from_known)
        for name, (num, den) in updates.items():
            current = getattr(self, f"{name}_")
            ok = den > 1e-12
            current[ok] = np.clip(num[ok] / den[ok], EPS, 1.0 - EPS)
        return float(np.log(norm).sum())

    # ------------------------------------------------------------- contract
    def fit(self, log: EventLog) -> Self:
        """Fit the parameters of every skill in the log by EM, then set each
        learner's knowledge to where their last attempt left it."""
        if len(log) == 0:
            raise DataError("cannot fit BKT on an empty log")
        self.skills_, self._skill_index = [], {}
        for name in PARAMS:
            setattr(self, f"{name}_", np.zeros(0))
        self.knowledge_ = {}
        packed, slot_skill, outcome, _, learners = self._pack(log)
        first_slots = np.arange(int(packed.active[0]))
        seq_skill = slot_skill[first_slots]
        previous = -math.inf
        self.n_iter_ = 0
        for _ in range(self.max_iter):
            likelihood = self._em_step(packed, slot_skill, outcome, seq_skill, first_slots)
            self.n_iter_ += 1
            if likelihood - previous < self.tol * abs(likelihood):
                break
            previous = likelihood
        e_known, e_unknown = self._emissions(slot_skill, outcome)
        *_, norm, final = self._forward(
            packed, seq_skill, e_known, e_unknown, self.prior_[seq_skill]
        )
        self.log_likelihood_ = float(np.log(norm).sum())
        n_skills = max(len(self.skills_), 1)
        for key, p in zip(packed.rank_key.tolist(), final.tolist(), strict=True):
            learner, skill = divmod(key, n_skills)
            self.knowledge_.setdefault(learners[learner], {})[skill] = p
        return self

    def update(self, events: EventLog) -> None:
        """Bayesian update of each learner's knowledge, O(1) per (event, skill)."""
        for learner, item, o in zip(
            events.learner.tolist(), events.item.tolist(), events.outcome.tolist(), strict=True
        ):
            knowledge = self.knowledge_.setdefault(learner, {})
            for skill in self.skills_of(item):
                s = self._index(skill)
                p = knowledge.get(s, self.prior_[s])
                slip, guess = self.slip_[s], self.guess_[s]
                known = p * (1.0 - slip) ** o * slip ** (1.0 - o)
                f = known / (known + (1.0 - p) * guess**o * (1.0 - guess) ** (1.0 - o))
                knowledge[s] = float(f * (1.0 - self.forget_[s]) + (1.0 - f) * self.learn_[s])

    def knowledge(self, learner: Any, skill: Any) -> float:
        """P(known) of one skill for one learner, before their next attempt."""
        s = self._index(skill, create=False)
        if s is None:
            return self.init["prior"]
        return float(self.knowledge_.get(learner, {}).get(s, self.prior_[s]))

    def predict(self, learner: Any, items: Iterable[Any], t: float | None = None) -> np.ndarray:
        """P(success) of each item: the product over the item's skills of
        p (1 - slip) + (1 - p) guess."""
        out = []
        for item in items:
            prob = 1.0
            for skill in self.skills_of(item):
                p = self.knowledge(learner, skill)
                params = self.params(skill)
                prob *= p * (1.0 - params["slip"]) + (1.0 - p) * params["guess"]
            out.append(prob)
        return np.asarray(out, dtype=float)

    def predict_log(self, log: EventLog) -> np.ndarray:
        """Vectorised online prediction of every event from its predecessors
        (one forward pass), without changing the model."""
        if len(log) == 0:
            return np.zeros(0)
        shadow = BKT.from_state_dict(self.state_dict(), domain=self.domain)
        packed, slot_skill, outcome, slot_event, learners = shadow._pack(log)
        first_slots = np.arange(int(packed.active[0]))
        seq_skill = slot_skill[first_slots]
        n_skills = max(len(shadow.skills_), 1)
        start = shadow.prior_[seq_skill].copy()
        for rank, key in enumerate(packed.rank_key.tolist()):
            learner, skill = divmod(key, n_skills)
            known = self.knowledge_.get(learners[learner])
            if known is not None and skill in known:
                start[rank] = known[skill]
        e_known, e_unknown = shadow._emissions(slot_skill, outcome)
        prior, *_ = shadow._forward(packed, seq_skill, e_known, e_unknown, start)
        slot_prediction = (
            prior * (1.0 - shadow.slip_[slot_skill]) + (1.0 - prior) * shadow.guess_[slot_skill]
        )
        prediction = np.ones(len(log))
        np.multiply.at(prediction, slot_event, slot_prediction)
        return prediction

    def state(self, learner: Any) -> dict[str, Any]:
        """Mastery per skill: P(known) before the learner's next attempt."""
        skills = list(self.skills_)
        if self.domain is not None:
            skills += [s for s in self.domain.skills if s not in self._skill_index]
        known = self.knowledge_.get(learner, {})
        return {
            "mastery": {s: self.knowledge(learner, s) for s in skills},
            "practised_skills": len(known),
        }

    def _get_state(self) -> dict[str, Any]:
        return {
            "skills": list(self.skills_),
            **{name: getattr(self, f"{name}_").tolist() for name in PARAMS},
            "knowledge": [
                [learner, self.skills_[s], p]
                for learner, known in self.knowledge_.items()
                for s, p in known.items()
            ],
            "log_likelihood": None if math.isnan(self.log_likelihood_) else self.log_likelihood_,
            "n_iter": self.n_iter_,
        }

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self.skills_ = list(state["skills"])
        self._skill_index = {s: i for i, s in enumerate(self.skills_)}
        if len(self._skill_index) != len(self.skills_):
            raise ValueError("duplicate skill in state")
        for name in PARAMS:
            values = np.asarray(state[name], dtype=float)
            if values.shape != (len(self.skills_),) or np.any((values < 0) | (values > 1)):
                raise ValueError(f"{name} must hold one probability per skill")
            setattr(self, f"{name}_", values)
        self.knowledge_ = {}
        for learner, skill, p in state["knowledge"]:
            self.knowledge_.setdefault(learner, {})[self._skill_index[skill]] = float(p)
        ll = state.get("log_likelihood")
        self.log_likelihood_ = math.nan if ll is None else float(ll)
        self.n_iter_ = int(state.get("n_iter", 0))
