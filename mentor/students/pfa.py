"""Performance Factors Analysis.

Pavlik, Cen and Koedinger, "Performance Factors Analysis - A New Alternative to
Knowledge Tracing", AIED 2009::

    logit P(l succeeds on i) = sum_{s in skills(i)} beta_s + gamma_s S_{l,s} + rho_s F_{l,s}

where S and F count the learner's earlier successes and failures on skill s (a
fractional outcome o adds o to S and 1 - o to F). Fitted by L2-regularised
maximum likelihood (MAP under a Gaussian prior N(0, 1 / l2) on every
coefficient; outcomes are soft labels) with scikit-learn's
``LogisticRegression`` on a sparse design matrix whose counts come from
cumulative sums per (learner, skill) in time order.

The model has no clock: ``t`` in ``predict`` is accepted for the common
contract and ignored.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, Self

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.linear_model import LogisticRegression

from mentor._checks import check_count, check_number, json_id
from mentor.domain import Domain
from mentor.errors import DataError
from mentor.events import EventLog
from mentor.students._sequences import time_rank
from mentor.students.base import EpochCallback, LookAhead, StudentModel


def pfa_counts(
    learner: np.ndarray, skill: np.ndarray, order: np.ndarray, outcome: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Successes and failures of the same learner on the same skill strictly
    before each observation.

    Parameters
    ----------
    learner, skill
        Integer codes of each (event, skill) observation.
    order
        Rank of each observation in time (distinct within a learner and skill).
    outcome
        Outcome of each observation, in [0, 1].

    Returns
    -------
    successes, failures
        Sums of ``o`` and of ``1 - o`` over the earlier observations of the same
        (learner, skill): exclusive cumulative sums, never including the
        observation's own outcome.
    """
    size = outcome.size
    if size == 0:
        return np.zeros(0), np.zeros(0)
    key = learner.astype(np.int64) * (int(skill.max()) + 1) + skill
    sort = np.lexsort((order, key))
    sorted_key = key[sort]
    o = outcome[sort]
    start = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    group = np.repeat(np.arange(start.size), np.diff(np.r_[start, size]))
    before_s = np.cumsum(o) - o
    before_f = np.cumsum(1.0 - o) - (1.0 - o)
    successes = np.empty(size)
    failures = np.empty(size)
    successes[sort] = before_s - before_s[start][group]
    failures[sort] = before_f - before_f[start][group]
    return successes, failures


class PFA(StudentModel):
    """Performance Factors Analysis (Pavlik, Cen and Koedinger 2009).

    ``logit P = sum over the item's skills of beta_s + gamma_s S + rho_s F``,
    S and F being the learner's earlier successes and failures on the skill.
    An item with several skills (from the domain) uses all of them; without a
    domain each item is its own skill. There is no global intercept, as in the
    paper: each skill's ``beta_s`` is its own easiness.

    Fitting builds the sparse design matrix (three columns per skill) with
    vectorised exclusive cumulative counts per (learner, skill) in time order,
    so no event is described with its own outcome, and fits scikit-learn's
    ``LogisticRegression`` (``C = 1/l2``, no intercept) with the
    ``"newton-cholesky"`` solver: the counts make the problem badly conditioned
    for first-order solvers, while its Hessian is only 3 x skills square. With
    ``l2 = 0`` the Hessian may be singular (a skill no learner repeats), so
    ``"lbfgs"`` is used instead. Outcomes that are not all 0 or 1 (or all of
    one class) are fitted as weighted successes and failures.

    Online, an answer adds to its learner's counts: O(1) per (event, skill).
    Skills never fitted have all three coefficients 0.

    Parameters
    ----------
    domain
        Gives each item's skills; without it every item is its own skill.
    l2
        Precision of the Gaussian prior on every coefficient, >= 0 (default 1.0,
        scikit-learn's C = 1). 0 is unregularised.
    max_iter
        Most solver iterations (default 100; Newton needs 5 or 6 on ASSISTments).
    tol
        Solver tolerance (default 1e-6).

    Attributes
    ----------
    skills_ : list
        Fitted skills, in the order of the coefficient arrays.
    beta_, gamma_, rho_ : numpy.ndarray
        Easiness, success and failure coefficients per skill.
    counts_ : dict
        Per learner, ``{skill: [successes, failures]}``.
    log_likelihood_ : float
        Training log-likelihood after fitting.
    n_iter_ : int
        Solver iterations run.
    """

    name = "pfa"
    supports_lookahead = True

    def __init__(
        self,
        domain: Domain | None = None,
        l2: float = 1.0,
        max_iter: int = 100,
        tol: float = 1e-6,
    ) -> None:
        super().__init__(domain)
        self.l2 = check_number("l2", l2, 0.0)
        self.max_iter = check_count("max_iter", max_iter, 1)
        self.tol = check_number("tol", tol, 0.0, strict=True)
        self._reset()

    def _reset(self) -> None:
        self.skills_: list[Any] = []
        self._skill_index: dict[Any, int] = {}
        self.beta_ = np.zeros(0)
        self.gamma_ = np.zeros(0)
        self.rho_ = np.zeros(0)
        self.counts_: dict[Any, dict[Any, list[float]]] = {}
        self.log_likelihood_ = math.nan
        self.n_iter_ = 0

    def get_params(self) -> dict[str, Any]:
        return {"l2": self.l2, "max_iter": self.max_iter, "tol": self.tol}

    def _coefficients(self) -> np.ndarray:
        """``(skills + 1, 3)`` array of beta, gamma, rho; the last row (index -1)
        is all zeros, for skills the model has not fitted."""
        table: np.ndarray = np.c_[
            np.r_[self.beta_, 0.0], np.r_[self.gamma_, 0.0], np.r_[self.rho_, 0.0]
        ]
        return table

    def _observations(
        self, log: EventLog
    ) -> tuple[np.ndarray, np.ndarray, list[Any], np.ndarray, list[Any]]:
        """One observation per (event, skill): event index, local skill code, the
        local skills, local learner code of each observation and the learners."""
        items, item_code = np.unique(log.item, return_inverse=True)
        local: dict[Any, int] = {}
        skill_lists = [
            [local.setdefault(s, len(local)) for s in self.skills_of(i)] for i in items.tolist()
        ]
        counts = np.array([len(lst) for lst in skill_lists], dtype=np.int64)
        flat = np.array([s for lst in skill_lists for s in lst], dtype=np.int64)
        starts = np.r_[0, np.cumsum(counts)[:-1]]
        per_event = counts[item_code]
        event = np.repeat(np.arange(len(log)), per_event)
        within = np.arange(event.size) - np.repeat(np.cumsum(per_event) - per_event, per_event)
        skill = flat[starts[item_code[event]] + within]
        learners, learner_code = np.unique(log.learner, return_inverse=True)
        return event, skill, list(local), learner_code[event], learners.tolist()

    # ------------------------------------------------------------- contract
    def fit(self, log: EventLog, on_epoch: EpochCallback | None = None) -> Self:
        """Fit beta, gamma and rho of every skill in the log by L2-regularised
        logistic regression; learners keep their counts at the end of the log."""
        if len(log) == 0:
            raise DataError("cannot fit PFA on an empty log")
        self._reset()
        event, skill, skills, obs_learner, learners = self._observations(log)
        outcome = log.outcome
        successes, failures = pfa_counts(obs_learner, skill, time_rank(log)[event], outcome[event])
        n_skills = len(skills)
        design = sp.csr_matrix(
            (
                np.r_[np.ones(event.size), successes, failures],
                (np.tile(event, 3), np.r_[3 * skill, 3 * skill + 1, 3 * skill + 2]),
            ),
            shape=(len(log), 3 * n_skills),
        )
        binary = np.all((outcome == 0.0) | (outcome == 1.0))
        if binary and 0.0 < outcome.mean() < 1.0:
            x, y, weight = design, outcome.astype(np.int64), None
        else:  # soft labels (or a single class): each event as a success and a failure
            x = sp.vstack([design, design], format="csr")
            y = np.r_[np.ones(len(log), dtype=np.int64), np.zeros(len(log), dtype=np.int64)]
            weight = np.r_[outcome, 1.0 - outcome]
        regression = LogisticRegression(
            C=math.inf if self.l2 == 0 else 1.0 / self.l2,
            fit_intercept=False,
            # without a penalty the Hessian can be singular (a skill never repeated)
            solver="newton-cholesky" if self.l2 > 0 else "lbfgs",
            max_iter=self.max_iter,
            tol=self.tol,
        )
        regression.fit(x, y, sample_weight=weight)
        coef = regression.coef_.reshape(n_skills, 3)
        self.skills_ = skills
        self._skill_index = {s: k for k, s in enumerate(skills)}
        self.beta_, self.gamma_, self.rho_ = (coef[:, j].copy() for j in range(3))
        self.n_iter_ = int(np.max(regression.n_iter_))
        p = np.clip(expit(design @ coef.ravel()), 1e-15, 1.0 - 1e-15)
        self.log_likelihood_ = float(np.sum(outcome * np.log(p) + (1 - outcome) * np.log1p(-p)))
        total_s = np.bincount(obs_learner * n_skills + skill, outcome[event])
        total_n = np.bincount(obs_learner * n_skills + skill)
        for key in np.flatnonzero(total_n).tolist():
            learner, k = divmod(key, n_skills)
            self.counts_.setdefault(learners[learner], {})[skills[k]] = [
                float(total_s[key]),
                float(total_n[key] - total_s[key]),
            ]
        if on_epoch is not None:
            on_epoch({"epoch": 1})
        return self

    def update(self, events: EventLog) -> None:
        """Add each answer to its learner's counts on the item's skills; O(1) per skill."""
        for learner, item, outcome in zip(
            events.learner.tolist(), events.item.tolist(), events.outcome.tolist(), strict=True
        ):
            counts = self.counts_.setdefault(learner, {})
            for skill in self.skills_of(item):
                pair = counts.get(skill)
                if pair is None:
                    counts[skill] = [outcome, 1.0 - outcome]
                else:
                    pair[0] += outcome
                    pair[1] += 1.0 - outcome

    def _skill_logit(self, learner: Any, skill: Any) -> float:
        k = self._skill_index.get(skill)
        if k is None:
            return 0.0
        successes, failures = self.counts_.get(learner, {}).get(skill, (0.0, 0.0))
        return float(self.beta_[k] + self.gamma_[k] * successes + self.rho_[k] * failures)

    def predict(self, learner: Any, items: Iterable[Any], t: float | None = None) -> np.ndarray:
        """sigma(sum over the item's skills of beta + gamma S + rho F); ``t`` is ignored."""
        logits = [sum(self._skill_logit(learner, s) for s in self.skills_of(i)) for i in items]
        result: np.ndarray = expit(np.asarray(logits, dtype=float))
        return result

    def lookahead(self, learner: Any, items: Iterable[Any], t: float | None = None) -> LookAhead:
        """One more answer at each item, counted as PFA counts it
        (:func:`mentor.students.lookahead.pfa_lookahead`)."""
        from mentor.students.lookahead import pfa_lookahead

        return pfa_lookahead(self, learner, items)

    def predict_log(self, log: EventLog) -> np.ndarray:
        """Online prediction of every event from the model's counts plus the earlier
        events of the log (time order, ties in log order), in one vectorised pass,
        without changing the model."""
        if len(log) == 0:
            return np.zeros(0)
        event, skill, skills, obs_learner, learners = self._observations(log)
        outcome = log.outcome
        successes, failures = pfa_counts(obs_learner, skill, time_rank(log)[event], outcome[event])
        if self.counts_:  # add what the model already counted for these learners
            n_skills = len(skills)
            keys, inverse = np.unique(obs_learner * n_skills + skill, return_inverse=True)
            base = np.zeros((keys.size, 2))
            for j, key in enumerate(keys.tolist()):
                learner, k = divmod(key, n_skills)
                known = self.counts_.get(learners[learner])
                if known is not None and skills[k] in known:
                    base[j] = known[skills[k]]
            successes += base[inverse, 0]
            failures += base[inverse, 1]
        index = np.array([self._skill_index.get(s, -1) for s in skills], dtype=np.int64)[skill]
        coef = self._coefficients()[index]
        logit = coef[:, 0] + coef[:, 1] * successes + coef[:, 2] * failures
        result: np.ndarray = expit(np.bincount(event, weights=logit, minlength=len(log)))
        return result

    def state(self, learner: Any) -> dict[str, Any]:
        """Mastery per skill: P(success) on an item of that skill alone, given the
        learner's counts; and the counts themselves."""
        counts = self.counts_.get(learner, {})
        skills = dict.fromkeys(self.skills_)
        if self.domain is not None:
            skills.update(dict.fromkeys(self.domain.skills))
        skills.update(dict.fromkeys(counts))
        return {
            "mastery": {s: float(expit(self._skill_logit(learner, s))) for s in skills},
            "successes": {s: c[0] for s, c in counts.items()},
            "failures": {s: c[1] for s, c in counts.items()},
        }

    def _get_state(self) -> dict[str, Any]:
        return {
            "skills": list(self.skills_),
            "beta": self.beta_.tolist(),
            "gamma": self.gamma_.tolist(),
            "rho": self.rho_.tolist(),
            "counts": [
                [learner, skill, successes, failures]
                for learner, counts in self.counts_.items()
                for skill, (successes, failures) in counts.items()
            ],
            "log_likelihood": None if math.isnan(self.log_likelihood_) else self.log_likelihood_,
            "n_iter": self.n_iter_,
        }

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self._reset()
        skills = [json_id(x) for x in state["skills"]]
        if len(set(skills)) != len(skills):
            raise ValueError("duplicate skill in state")
        for name in ("beta", "gamma", "rho"):
            values = np.asarray(state[name], dtype=float)
            if values.shape != (len(skills),) or not np.all(np.isfinite(values)):
                raise ValueError(f"{name} must hold one finite number per skill")
            setattr(self, f"{name}_", values)
        self.skills_ = skills
        self._skill_index = {s: k for k, s in enumerate(skills)}
        for learner, skill, successes, failures in state["counts"]:
            if successes < 0 or failures < 0:
                raise ValueError("counts must not be negative")
            self.counts_.setdefault(json_id(learner), {})[json_id(skill)] = [
                float(successes),
                float(failures),
            ]
        ll = state.get("log_likelihood")
        self.log_likelihood_ = math.nan if ll is None else float(ll)
        self.n_iter_ = int(state.get("n_iter", 0))
