"""A prerequisite-aware Bayesian knowledge-tracing model in the spirit of PSI-KT.

Zhou, Bamler, Wu and Tejero-Cantero, "Predictive, Scalable and Interpretable
Knowledge Tracing on Structured Domains", ICLR 2024. As in PSI-KT, each
learner's knowledge of each skill is a continuous latent process, an
Ornstein-Uhlenbeck (OU) process that relaxes towards a long-term level which the
knowledge of the skill's prerequisites raises; learners differ by cognitive
traits; answers are Bernoulli with a logistic link; the prerequisite graph is
given (e.g. the Junyi map) or learned. Unlike PSI-KT, inference is not
amortised variational inference with neural networks: each learner's belief is
a Gaussian, kept current by an assumed-density (Laplace-style) filter in closed
form, O(prerequisites of the skill) per answer, and the shared parameters are
the maximum a posteriori estimate under that filter's one-step predictive
likelihood (the "prediction error decomposition" of a state-space model),
found with L-BFGS-B and an exact, hand-written reverse-mode gradient
(:mod:`mentor.students.prereq._filter`). NumPy and SciPy only.

Generative model
----------------
Learner n has two traits: an ability theta_n ~ N(0, tau_theta^2) and a
learning rate rho_n ~ N(0, tau_rho^2) (extra knowledge gained per attempt, on
the logit scale). Their knowledge of skill k is theta_n + z_nk(t), where the
skill-specific part z follows, between the learner's attempts at k, the OU
process

    dz = alpha_k (mu_nk - z) dt + sqrt(2 alpha_k q) dW,

so over an interval dt, with e = exp(-alpha_k dt),

    z(t + dt) | z(t) ~ N(mu + (z(t) - mu) e,  q (1 - e^2)).

``alpha_k`` is the skill's forgetting (mean-reversion) rate and ``q`` the
stationary variance. The long-term level is pulled up by the learner's current
knowledge of the skill's prerequisites::

    mu_nk(t) = b_k + sum_{j -> k} w_jk sigmoid(b_j + (M_nj - b_j) exp(-alpha_j (t - T_nj))),

with ``w_jk >= 0``, ``M_nj`` the learner's knowledge of prerequisite j as last
assessed (the filter's mean after their last attempt at j, at time T_nj) and
decayed toward j's base since then; for a prerequisite never attempted, its base
b_j. The level is evaluated when the skill is next met or predicted, and held
over the interval. A skill is first met at its level: z ~ N(mu_nk, q). Each attempt
adds the practice gain: z += eta_k + rho_n (the rho_n part is tracked as rho_n
times a practice count G_nk that decays with the same factor e). An answer to
item i of skill k at time t is correct with probability::

    P(y = 1) = sigmoid(theta_n + rho_n G_nk(t) + z_nk(t) - d_i).

Filter
------
The belief is Gaussian: (theta_n, rho_n) ~ N(x_n, P_n) jointly, and each skill
part z_nk ~ N(M_nk, V_nk) independently (mean field between the learner block
and the skills). Before an answer, the skill belief is propagated to time t as
above (m, v, g = M e, decayed count); the answer's logit has mean
s = x1 + g x2 + m - d_i and variance S = P11 + 2 g P12 + g^2 P22 + v, and the
prediction is the probit-moderated ``p = sigmoid(s / sqrt(1 + pi S / 8))``.
The update on outcome y (fractional outcomes are soft labels) is one Newton
step of the logistic likelihood at the prior mean, i.e. a Kalman update with
the pseudo-observation precision h = p (1 - p)::

    x += P (1, g)^T (y - p) / (1 + S h)         P -= P (1,g)^T (1,g) P h / (1 + S h)
    M  = m + v (y - p) / (1 + S h) + eta_k       V  = v - v^2 h / (1 + S h)
    G  = g + 1

Prediction at any later time t propagates the belief to t: knowledge decays
towards its level (forgetting) with the elapsed time; this is what makes
multi-step-ahead prediction meaningful.

Fitting
-------
``fit`` maximises sum_events log P(y | earlier events) (the filter's
predictive likelihood) plus a log prior: Gaussian with precision ``l2`` on
the item difficulties d_i and on the deviations of each skill's log alpha_k and
eta_k from shared centres (also fitted), and, for the graph, an L1 penalty
``l1 * sum w`` on the non-negative edge weights (sparse prerequisite weights).
``graph`` chooses the candidate edges:

``"given"`` (default)
    the domain's prerequisite edges (e.g. the Junyi map); none without a
    domain or without prerequisites;
``"learn"``
    every ordered pair (j, k) of skills such that at least ``min_support``
    learners of the fitted log attempted j before their first attempt at k;
    the L1 penalty sets most weights to exactly zero (``prerequisites``
    lists the learned edges). No acyclicity constraint: the pull uses the
    prerequisites' last assessed knowledge, so a cycle is well defined.
``"none"``
    no prerequisite pull.

Time is in the log's own units (seconds, days or answer indices); the initial
forgetting rate is set so that knowledge keeps 90 % of its deviation over the
median gap between attempts at a skill.

Each item must exercise exactly one skill (a domain with multi-skill items is
refused with :class:`~mentor.errors.DomainError`).
"""

from __future__ import annotations

import math
import time as _time
from collections.abc import Iterable, Mapping
from typing import Any, Self

import numpy as np
from scipy.optimize import minimize
from scipy.special import logit

from mentor._checks import check_choice, check_count, check_number
from mentor.domain import Domain
from mentor.errors import DataError, DomainError, UnknownIdError
from mentor.events import EventLog
from mentor.students.base import EpochCallback, LookAhead, StudentModel, solver_progress
from mentor.students.prereq._filter import (
    FilterState,
    Graph,
    Params,
    _Record,
    gradient,
    group_steps,
    log_likelihood,
    prior,
    run,
)

GRAPHS = ("given", "learn", "none")
#: Defaults of the parameters before fitting (and of skills or items without data).
DEFAULT_RATE, DEFAULT_GAIN, DEFAULT_VAR = 0.01, 0.1, 1.0
DEFAULT_ABILITY_VAR, DEFAULT_TRAIT_VAR = 0.5, 0.01
#: Bounds of the log variances during fitting (keeps the line search finite).
LOG_VAR_BOUNDS = {
    "log_var": (-8.0, 4.0),
    "log_ability_var": (-8.0, 3.0),
    "log_trait_var": (-12.0, 0.0),
}
#: A log rate may move this far (in log units) from its starting value.
LOG_RATE_RANGE = 12.0
MAX_WEIGHT = 20.0


class PSIKT(StudentModel):
    """Prerequisite-aware Bayesian knowledge tracing in the spirit of PSI-KT
    (Zhou et al., ICLR 2024); the equations are in the module docstring.

    Parameters
    ----------
    domain
        Items, their skill (one per item) and the prerequisite graph. Without a
        domain, every item of the fitted log is its own skill.
    graph
        ``"given"`` (default): weights on the domain's prerequisite edges;
        ``"learn"``: sparse weights learned over candidate pairs of skills;
        ``"none"``: no prerequisite pull.
    l1
        L1 penalty per unit of edge weight (default 2.0).
    l2
        Precision of the Gaussian prior on item difficulties and on each skill's
        deviation of log forgetting rate and practice gain from their shared
        centres (default 1.0).
    min_support
        With ``graph="learn"``, the fewest learners who must have attempted j
        before k for j -> k to be a candidate edge (default 5).
    max_iter
        Most L-BFGS-B iterations (default 100).
    tol
        Relative tolerance on the objective for L-BFGS-B to stop (default 1e-7).

    Attributes
    ----------
    skills_, items_ : list
        Skills and items with parameters, in the order of the parameter arrays.
    item_skill_ : numpy.ndarray
        Skill index of each item.
    params_ : Params
        The shared parameters.
    graph_ : Graph
        Candidate prerequisite edges (skill indices); ``params_.weight`` their weights.
    log_likelihood_ : float
        Training log-likelihood (sum of log one-step predictions) after fitting.
    n_iter_ : int
        L-BFGS-B iterations run.
    fit_seconds_ : float
        Wall-clock seconds of the last fit.
    """

    name = "psikt"
    supports_lookahead = True

    def __init__(
        self,
        domain: Domain | None = None,
        graph: str = "given",
        l1: float = 2.0,
        l2: float = 1.0,
        min_support: int = 5,
        max_iter: int = 100,
        tol: float = 1e-7,
    ) -> None:
        super().__init__(domain)
        self.graph = check_choice("graph", graph, GRAPHS)
        self.l1 = check_number("l1", l1, 0.0)
        self.l2 = check_number("l2", l2, 0.0)
        self.tol = check_number("tol", tol, 0.0)
        self.min_support = check_count("min_support", min_support, 0)
        self.max_iter = check_count("max_iter", max_iter, 0)
        if domain is not None:
            several = [i for i, item in domain.items.items() if len(item.skills) != 1]
            if several:
                raise DomainError(
                    f"psikt needs exactly one skill per item; item {several[0]!r} has "
                    f"{len(domain.items[several[0]].skills)}"
                )
        self._reset()

    def get_params(self) -> dict[str, Any]:
        return {
            "graph": self.graph,
            "l1": self.l1,
            "l2": self.l2,
            "min_support": self.min_support,
            "max_iter": self.max_iter,
            "tol": self.tol,
        }

    # ------------------------------------------------------------- indexing
    def _reset(self) -> None:
        if self.domain is not None:
            skills = self.domain.skills
            items = self.domain.item_ids
            item_skills = [self.domain.items[i].skills[0] for i in items]
        else:
            skills, items, item_skills = [], [], []
        self._set_index(skills, items, item_skills)
        self.params_ = _default_params(len(skills), len(items))
        self.graph_ = Graph(np.zeros(0), np.zeros(0), len(skills))
        if self.graph == "given" and self.domain is not None:
            self.graph_ = self._given_graph()
            self.params_.weight = np.zeros(self.graph_.n_edges)
        self._clear_learners()
        self.log_likelihood_ = math.nan
        self.n_iter_ = 0
        self.fit_seconds_ = 0.0

    def _set_index(self, skills: list[Any], items: list[Any], item_skills: list[Any]) -> None:
        self.skills_ = list(skills)
        self.items_ = list(items)
        self._skill_index = {s: k for k, s in enumerate(self.skills_)}
        self._item_index = {i: j for j, i in enumerate(self.items_)}
        if len(self._skill_index) != len(self.skills_) or len(self._item_index) != len(self.items_):
            raise ValueError("duplicate skill or item")
        self.item_skill_ = np.array([self._skill_index[s] for s in item_skills], dtype=np.int64)

    def _clear_learners(self) -> None:
        self.learners_: list[Any] = []
        self._row: dict[Any, int] = {}
        self._state = FilterState.fresh(0, self.params_)

    def _given_graph(self) -> Graph:
        assert self.domain is not None
        index = self._skill_index
        pairs = [(index[p], index[c]) for p, c in self.domain.graph.edges]
        edges = np.array(pairs, dtype=np.int64).reshape(-1, 2)
        return Graph(edges[:, 0], edges[:, 1], len(self.skills_))

    def _items(self, items: Iterable[Any]) -> np.ndarray:
        """Item indices. Without a domain, an item first seen after fitting becomes
        its own skill (:meth:`_add_items`); with one, an item outside it, or any
        item before fitting, raises :class:`UnknownIdError`."""
        items = list(items)
        index = self._item_index
        new = list(dict.fromkeys(item for item in items if item not in index))
        if new:
            if self.domain is not None or not self.skills_:
                where = "the domain" if self.domain is not None else "the fitted log"
                raise UnknownIdError(f"psikt: unknown item {new[0]!r} (not in {where})")
            self._add_items(new)
            index = self._item_index
        return np.array([index[item] for item in items], dtype=np.int64)

    def _add_items(self, new: list[Any]) -> None:
        """Items first seen after fitting a model without a domain: each becomes a
        skill of its own, with no prerequisites, at the fitted skills' mean base,
        forgetting rate and gain (the centres the L2 prior shrinks towards), and
        difficulty 0 (the prior's mean). Learners meet it at that base."""
        p, k, m = self.params_, len(self.skills_), len(new)
        self._set_index(
            self.skills_ + new,
            self.items_ + new,
            [self.skills_[j] for j in self.item_skill_.tolist()] + new,
        )
        p.base = np.r_[p.base, np.full(m, p.base.mean())]
        p.log_rate = np.r_[p.log_rate, np.full(m, p.log_rate.mean())]
        p.gain = np.r_[p.gain, np.full(m, p.gain.mean())]
        p.difficulty = np.r_[p.difficulty, np.zeros(m)]
        self.graph_ = Graph(self.graph_.src, self.graph_.dst, k + m)
        st, n = self._state, self._state.n_rows
        st.mean = np.c_[st.mean, np.tile(p.base[k:], (n, 1))]
        st.var = np.c_[st.var, np.full((n, m), math.exp(p.log_var))]
        st.practice = np.c_[st.practice, np.zeros((n, m))]
        st.last = np.c_[st.last, np.full((n, m), -np.inf)]

    def _rows(self, learners: np.ndarray) -> np.ndarray:
        """Row of each learner in the store, adding rows for new learners (the
        store grows by doubling, so adding learners one at a time stays linear)."""
        ids = learners.tolist()
        new = list(dict.fromkeys(x for x in ids if x not in self._row))
        if new:
            start = len(self.learners_)
            for offset, learner in enumerate(new):
                self._row[learner] = start + offset
            self.learners_.extend(new)
            capacity = self._state.n_rows
            if len(self.learners_) > capacity:
                grow = max(len(self.learners_) - capacity, capacity)
                self._state.append(FilterState.fresh(grow, self.params_))
        return np.array([self._row[x] for x in ids], dtype=np.int64)

    # ------------------------------------------------------------- fitting
    def fit(self, log: EventLog, on_epoch: EpochCallback | None = None) -> Self:
        """Fit the shared parameters (and the learned graph) by maximum a posteriori
        under the filter's predictive likelihood; afterwards the learners of the
        log are known, in the state their last event left them."""
        if len(log) == 0:
            raise DataError("cannot fit psikt on an empty log")
        start_clock = _time.perf_counter()
        self._reset()
        if self.domain is None:
            items = np.unique(log.item).tolist()
            self._set_index(items, items, items)
            self.params_ = _default_params(len(items), len(items))
        item = self._items(log.item.tolist())
        skill = self.item_skill_[item]
        learners, code = np.unique(log.learner, return_inverse=True)
        _check_order(log, code, np.full(len(learners), -np.inf), learners)
        steps = group_steps(code, log.time)
        if self.graph == "learn":
            self.graph_ = _candidate_graph(
                code, skill, log.time, len(self.skills_), self.min_support
            )
        start = _initial_params(self.params_, self.graph_, code, skill, item, log.time, log.outcome)
        layout = _Layout(start)
        outcome = log.outcome
        n_learners = len(learners)
        l1, l2 = self.l1, self.l2

        def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
            params, rate_centre, gain_centre = layout.unpack(x)
            state = FilterState.fresh(n_learners, params)
            tape: list[_Record] = []
            run(params, self.graph_, state, code, skill, item, log.time, outcome, steps, tape)
            ll = log_likelihood(outcome, tape)
            grad = gradient(params, self.graph_, state, code, skill, item, outcome, tape)
            rate_dev = params.log_rate - rate_centre
            gain_dev = params.gain - gain_centre
            value = -ll + 0.5 * l2 * (
                np.sum(params.difficulty**2) + np.sum(rate_dev**2) + np.sum(gain_dev**2)
            )
            value += l1 * np.sum(params.weight)
            grad.difficulty -= l2 * params.difficulty
            grad.log_rate -= l2 * rate_dev
            grad.gain -= l2 * gain_dev
            grad.weight -= l1
            centre_grad = (l2 * np.sum(rate_dev), l2 * np.sum(gain_dev))
            return float(value), -layout.pack(grad, *centre_grad)

        x0 = layout.pack(start, float(np.mean(start.log_rate)), float(np.mean(start.gain)))
        scale = layout.scale(code, skill, item, self.graph_)
        result = minimize(
            lambda u: _scaled(objective, u, scale),
            x0 * scale,
            jac=True,
            method="L-BFGS-B",
            bounds=_scaled_bounds(layout.bounds(start), scale),
            options={"maxiter": self.max_iter, "ftol": self.tol, "gtol": 1e-6},
            callback=solver_progress(on_epoch),
        )
        self.n_iter_ = int(result.nit)
        self.params_ = layout.unpack(result.x / scale)[0]
        self._clear_learners()
        rows = self._rows(learners)[code]
        tape: list[_Record] = []
        run(
            self.params_,
            self.graph_,
            self._state,
            rows,
            skill,
            item,
            log.time,
            outcome,
            steps,
            tape,
        )
        self.log_likelihood_ = log_likelihood(outcome, tape)
        self.fit_seconds_ = _time.perf_counter() - start_clock
        return self

    # ------------------------------------------------------------- online use
    def update(self, events: EventLog) -> None:
        """Filter the new events into each learner's belief: O(prerequisites of
        the skill) per event, never a replay of the learner's history."""
        if len(events) == 0:
            return
        item = self._items(events.item.tolist())
        learners, code = np.unique(events.learner, return_inverse=True)
        _check_order(events, code, self._clocks(learners), learners)
        rows = self._rows(events.learner)
        steps = group_steps(code, events.time)
        run(
            self.params_,
            self.graph_,
            self._state,
            rows,
            self.item_skill_[item],
            item,
            events.time,
            events.outcome,
            steps,
        )

    def _clocks(self, learners: np.ndarray) -> np.ndarray:
        """Time of each learner's last filtered event (``-inf`` for a new learner)."""
        rows = np.array([self._row.get(x, -1) for x in learners.tolist()], dtype=np.int64)
        clocks = np.full(rows.size, -np.inf)
        clocks[rows >= 0] = self._state.clock[rows[rows >= 0]]
        return clocks

    def _filter_of(self, learner: Any) -> tuple[FilterState, int]:
        row = self._row.get(learner)
        if row is None:
            return FilterState.fresh(1, self.params_), 0
        return self._state, row

    def predict(self, learner: Any, items: Iterable[Any], t: float | None = None) -> np.ndarray:
        """P(success) of each item at time ``t`` (default: the learner's last event):
        the belief is propagated to ``t``, so knowledge decays with the time elapsed.

        Raises :class:`DataError` if ``t`` is before the learner's last event.
        """
        index = self._items(items)
        state, row = self._filter_of(learner)
        clock = float(state.clock[row])
        if t is None:
            t = clock if math.isfinite(clock) else 0.0
        elif not math.isfinite(float(t)) or float(t) < clock:
            raise DataError(
                f"cannot predict for learner {learner!r} before their last event (at {clock:g})",
                field="t",
                value=t,
            )
        n = index.size
        pr = prior(
            self.params_,
            self.graph_,
            state,
            np.full(n, row),
            self.item_skill_[index],
            self.params_.difficulty[index],
            np.full(n, float(t)),
        )
        return pr.p

    def lookahead(self, learner: Any, items: Iterable[Any], t: float | None = None) -> LookAhead:
        """One more answer at each item at time ``t``, filtered into a copy of the
        learner's belief (:func:`mentor.students.lookahead.psikt_lookahead`)."""
        from mentor.students.lookahead import psikt_lookahead

        return psikt_lookahead(self, learner, items, t)

    def predict_log(self, log: EventLog) -> np.ndarray:
        """Predict every event from the model and the earlier events of its learner
        (one vectorised filter pass on a copy), without changing the model."""
        if len(log) == 0:
            return np.zeros(0)
        shadow = PSIKT.from_state_dict(self.state_dict(), domain=self.domain)
        item = shadow._items(log.item.tolist())
        learners, code = np.unique(log.learner, return_inverse=True)
        _check_order(log, code, shadow._clocks(learners), learners)
        rows = shadow._rows(learners)[code]
        return run(
            shadow.params_,
            shadow.graph_,
            shadow._state,
            rows,
            shadow.item_skill_[item],
            item,
            log.time,
            log.outcome,
            group_steps(code, log.time),
        )

    def state(self, learner: Any) -> dict[str, Any]:
        """Mastery per skill (P(success) on an item of difficulty 0 at the learner's
        last event), the belief about each practised skill, and the traits."""
        state, row = self._filter_of(learner)
        k = len(self.skills_)
        clock = float(state.clock[row])
        now = clock if math.isfinite(clock) else 0.0
        pr = prior(
            self.params_,
            self.graph_,
            state,
            np.full(k, row),
            np.arange(k),
            np.zeros(k),
            np.full(k, now),
        )
        mastery = pr.p
        practised = np.flatnonzero(np.isfinite(state.last[row]))
        x, cov = state.trait[row], state.cov[row]
        return {
            "mastery": {s: float(p) for s, p in zip(self.skills_, mastery.tolist(), strict=True)},
            "knowledge": {
                self.skills_[j]: {
                    "mean": float(pr.m[j]),
                    "sd": math.sqrt(float(pr.v[j])),
                    "level": float(pr.level[j]),
                    "last_practised": float(state.last[row, j]),
                }
                for j in practised.tolist()
            },
            "traits": {
                "ability": float(x[0]),
                "ability_sd": math.sqrt(float(cov[0])),
                "learning_rate": float(x[1]),
                "learning_rate_sd": math.sqrt(float(cov[2])),
            },
            "time": clock if math.isfinite(clock) else None,
            "practised_skills": int(practised.size),
        }

    def prerequisites(self, threshold: float = 1e-3) -> list[tuple[Any, Any, float]]:
        """Edges (prerequisite, skill, weight) with weight above ``threshold``,
        heaviest first: the given graph's useful edges, or the learned graph."""
        w = self.params_.weight
        keep = np.flatnonzero(w > threshold)
        keep = keep[np.argsort(-w[keep], kind="stable")]
        return [
            (self.skills_[self.graph_.src[e]], self.skills_[self.graph_.dst[e]], float(w[e]))
            for e in keep.tolist()
        ]

    # ------------------------------------------------------------- state
    def _get_state(self) -> dict[str, Any]:
        p, s = self.params_, self._state
        learners = []
        for learner, row in self._row.items():
            cells = np.flatnonzero(np.isfinite(s.last[row]))
            learners.append(
                [
                    learner,
                    s.trait[row].tolist(),
                    s.cov[row].tolist(),
                    float(s.clock[row]),
                    [
                        [
                            self.skills_[j],
                            *(float(a[row, j]) for a in (s.mean, s.var, s.practice, s.last)),
                        ]
                        for j in cells.tolist()
                    ],
                ]
            )
        return {
            "skills": list(self.skills_),
            "items": list(self.items_),
            "item_skill": [self.skills_[k] for k in self.item_skill_.tolist()],
            "base": p.base.tolist(),
            "log_rate": p.log_rate.tolist(),
            "gain": p.gain.tolist(),
            "difficulty": p.difficulty.tolist(),
            "log_var": p.log_var,
            "log_ability_var": p.log_ability_var,
            "log_trait_var": p.log_trait_var,
            "edges": [
                [self.skills_[a], self.skills_[b], w]
                for a, b, w in zip(
                    self.graph_.src.tolist(),
                    self.graph_.dst.tolist(),
                    p.weight.tolist(),
                    strict=True,
                )
            ],
            "learners": learners,
            "log_likelihood": None if math.isnan(self.log_likelihood_) else self.log_likelihood_,
            "n_iter": self.n_iter_,
        }

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self._set_index(state["skills"], state["items"], state["item_skill"])
        k, n_items = len(self.skills_), len(self.items_)
        edges = state["edges"]
        src = np.array([self._skill_index[a] for a, _, _ in edges], dtype=np.int64)
        dst = np.array([self._skill_index[b] for _, b, _ in edges], dtype=np.int64)
        self.graph_ = Graph(src, dst, k)
        self.params_ = Params(
            base=_vector(state["base"], k, "base"),
            log_rate=_vector(state["log_rate"], k, "log_rate"),
            gain=_vector(state["gain"], k, "gain"),
            difficulty=_vector(state["difficulty"], n_items, "difficulty"),
            weight=_vector([w for _, _, w in edges], len(edges), "edge weight"),
            log_var=float(state["log_var"]),
            log_ability_var=float(state["log_ability_var"]),
            log_trait_var=float(state["log_trait_var"]),
        )
        if np.any(self.params_.weight < 0):
            raise ValueError("edge weights must be non-negative")
        self._clear_learners()
        saved = state["learners"]
        self._rows(np.array([entry[0] for entry in saved], dtype=object))
        st = self._state
        for row, (_, trait, cov, clock, cells) in enumerate(saved):
            st.trait[row] = _vector(trait, 2, "trait")
            st.cov[row] = _vector(cov, 3, "cov")
            st.clock[row] = float(clock)
            for skill, mean, var, practice, last in cells:
                j = self._skill_index[skill]
                st.mean[row, j], st.var[row, j] = float(mean), float(var)
                st.practice[row, j], st.last[row, j] = float(practice), float(last)
        ll = state.get("log_likelihood")
        self.log_likelihood_ = math.nan if ll is None else float(ll)
        self.n_iter_ = int(state.get("n_iter", 0))


# ------------------------------------------------------------------ helpers
def _default_params(n_skills: int, n_items: int) -> Params:
    return Params(
        base=np.zeros(n_skills),
        log_rate=np.full(n_skills, math.log(DEFAULT_RATE)),
        gain=np.full(n_skills, DEFAULT_GAIN),
        difficulty=np.zeros(n_items),
        weight=np.zeros(0),
        log_var=math.log(DEFAULT_VAR),
        log_ability_var=math.log(DEFAULT_ABILITY_VAR),
        log_trait_var=math.log(DEFAULT_TRAIT_VAR),
    )


def _vector(values: Any, n: int, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.shape != (n,) or not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must hold {n} finite numbers")
    return array


def _check_order(log: EventLog, code: np.ndarray, clock: np.ndarray, learners: np.ndarray) -> None:
    """Raise :class:`DataError` unless each learner's times never decrease, in log
    order and from ``clock`` (their last event already filtered)."""
    order = np.argsort(code, kind="stable")
    c, t = code[order], log.time[order]
    previous = np.r_[-np.inf, t[:-1]]
    head = np.r_[True, c[1:] != c[:-1]]
    previous[head] = clock[c[head]]
    bad = np.flatnonzero(t < previous)
    if bad.size:
        j = bad[0]
        raise DataError(
            f"time goes backwards for learner {learners[c[j]].item()!r} "
            f"(their previous event is at {previous[j]:g})",
            field="time",
            value=float(t[j]),
        )


def _candidate_graph(
    code: np.ndarray, skill: np.ndarray, time: np.ndarray, n_skills: int, min_support: int
) -> Graph:
    """Ordered pairs (j, k) that at least ``min_support`` learners attempted j
    before their first attempt at k."""
    order = np.lexsort((np.arange(code.size), time, skill, code))
    c, s = code[order], skill[order]
    first = np.r_[True, (c[1:] != c[:-1]) | (s[1:] != s[:-1])]
    c, s, position = c[first], s[first], order[first]
    counts = np.zeros((n_skills, n_skills), dtype=np.int64)
    bounds = np.flatnonzero(np.r_[True, c[1:] != c[:-1], True])
    rank = np.empty(code.size, dtype=np.int64)
    rank[np.lexsort((np.arange(code.size), time, code))] = np.arange(code.size)
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        skills = s[a:b][np.argsort(rank[position[a:b]])]
        i, j = np.triu_indices(skills.size, 1)
        counts[skills[i], skills[j]] += 1
    src, dst = np.nonzero(counts >= max(min_support, 1))
    return Graph(src, dst, n_skills)


def _initial_params(
    defaults: Params,
    graph: Graph,
    code: np.ndarray,
    skill: np.ndarray,
    item: np.ndarray,
    time: np.ndarray,
    outcome: np.ndarray,
) -> Params:
    """Starting values: each skill's base at the logit of its smoothed success
    rate, a forgetting rate keeping 90 % over the median gap between attempts."""
    k = defaults.base.size
    n = np.bincount(skill, minlength=k)
    rate = (np.bincount(skill, weights=outcome, minlength=k) + 1.0) / (n + 2.0)
    overall = float(logit((outcome.sum() + 1.0) / (outcome.size + 2.0)))
    base = np.where(n > 0, logit(rate), overall)
    order = np.lexsort((np.arange(code.size), time, skill, code))
    same = (code[order][1:] == code[order][:-1]) & (skill[order][1:] == skill[order][:-1])
    gaps = np.diff(time[order])[same]
    gaps = gaps[gaps > 0]
    median_gap = float(np.median(gaps)) if gaps.size else 1.0
    return Params(
        base=base,
        log_rate=np.full(k, math.log(-math.log(0.9) / median_gap)),
        gain=np.full(k, DEFAULT_GAIN),
        difficulty=np.zeros_like(defaults.difficulty),
        weight=np.zeros(graph.n_edges),
        log_var=defaults.log_var,
        log_ability_var=defaults.log_ability_var,
        log_trait_var=defaults.log_trait_var,
    )


class _Layout:
    """Flattening of the parameters (plus the two shrinkage centres) into one vector."""

    def __init__(self, like: Params) -> None:
        sizes = [like.base.size, like.log_rate.size, like.gain.size, like.difficulty.size]
        sizes.append(like.weight.size)
        self.cuts = np.cumsum(sizes)

    def pack(self, p: Params, rate_centre: float, gain_centre: float) -> np.ndarray:
        vector: np.ndarray = np.r_[
            p.base,
            p.log_rate,
            p.gain,
            p.difficulty,
            p.weight,
            p.log_var,
            p.log_ability_var,
            p.log_trait_var,
            rate_centre,
            gain_centre,
        ]
        return vector

    def unpack(self, x: np.ndarray) -> tuple[Params, float, float]:
        base, log_rate, gain, difficulty, weight, rest = np.split(x, self.cuts)
        params = Params(
            base.copy(),
            log_rate.copy(),
            gain.copy(),
            difficulty.copy(),
            weight.copy(),
            float(rest[0]),
            float(rest[1]),
            float(rest[2]),
        )
        return params, float(rest[3]), float(rest[4])

    def bounds(self, start: Params) -> list[tuple[float | None, float | None]]:
        rate_lo = float(np.min(start.log_rate)) - LOG_RATE_RANGE
        rate_hi = float(np.max(start.log_rate)) + LOG_RATE_RANGE
        out: list[tuple[float | None, float | None]] = []
        out += [(None, None)] * start.base.size
        out += [(rate_lo, rate_hi)] * start.log_rate.size
        out += [(None, None)] * (start.gain.size + start.difficulty.size)
        out += [(0.0, MAX_WEIGHT)] * start.weight.size
        out += [LOG_VAR_BOUNDS[name] for name in ("log_var", "log_ability_var", "log_trait_var")]
        out += [(rate_lo, rate_hi), (None, None)]
        return out

    def scale(
        self, code: np.ndarray, skill: np.ndarray, item: np.ndarray, graph: Graph
    ) -> np.ndarray:
        """Square root of a rough curvature of the objective in each parameter
        (a quarter of its number of observations), so that L-BFGS-B moves
        parameters with ten or ten thousand observations on the same scale."""
        k = self.cuts[0]
        per_skill = np.bincount(skill, minlength=k).astype(float)
        per_item = np.bincount(item, minlength=self.cuts[3] - self.cuts[2]).astype(float)
        n = float(code.size)
        curvature = np.r_[
            0.25 * per_skill,
            0.05 * per_skill,
            0.25 * per_skill,
            0.25 * per_item,
            0.05 * per_skill[graph.dst],
            0.05 * n,
            0.05 * n,
            0.05 * n,
            0.05 * n,
            0.05 * n,
        ]
        result: np.ndarray = np.sqrt(curvature + 1.0)
        return result


def _scaled_bounds(
    bounds: list[tuple[float | None, float | None]], scale: np.ndarray
) -> list[tuple[float | None, float | None]]:
    return [
        (None if lo is None else lo * s, None if hi is None else hi * s)
        for (lo, hi), s in zip(bounds, scale.tolist(), strict=True)
    ]


def _scaled(objective: Any, u: np.ndarray, scale: np.ndarray) -> tuple[float, np.ndarray]:
    value, grad = objective(u / scale)
    return value, grad / scale


__all__ = ["PSIKT"]
