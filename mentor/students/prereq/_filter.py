"""The Gaussian filter of :class:`~mentor.students.prereq.PSIKT`, vectorised over
learners, and the exact gradient of its one-step predictive log-likelihood.

Every learner's belief lives in one row of dense (learners x skills) arrays
(:class:`FilterState`). The events of a log are processed in *steps*: step j
holds the j-th event of every learner that has one, so that one step touches
each learner at most once and runs as a handful of NumPy operations
(:func:`group_steps`). :func:`run` is the forward pass (predict, then update on
the outcome); it is both the online update of the model and, with a tape, the
forward half of fitting. :func:`gradient` runs the same steps backwards, undoing
each update on the state and carrying the adjoint of every state cell (reverse
mode differentiation written out by hand, checked against finite differences in
the tests), so the gradient of the log-likelihood with respect to every shared
parameter costs about two forward passes.

The equations are in the docstring of :mod:`mentor.students.prereq.model`;
variable names follow them: ``level`` is mu, ``decay`` is e, ``m, v, g`` the
predicted knowledge mean, variance and decayed practice count, ``s, S`` the
mean and variance of the answer's logit, ``c`` the probit moderation factor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

import numpy as np
from scipy.special import expit, log_expit

#: pi / 8, of the probit approximation E[sigmoid(x)] ~ sigmoid(mean / sqrt(1 + pi var / 8)).
PI8 = math.pi / 8.0


@dataclass
class Params:
    """Shared parameters of the model (see the model's docstring for the symbols).

    Attributes
    ----------
    base
        b_k, the level of skill k's knowledge before any prerequisite pull (logit scale).
    log_rate
        log alpha_k, the log mean-reversion (forgetting) rate of skill k per time unit.
    gain
        eta_k, the population's gain in knowledge per attempt at skill k.
    difficulty
        d_i, the difficulty of item i.
    weight
        w_e >= 0, the weight of prerequisite edge e (see :class:`Graph`).
    log_var
        log q, the stationary variance of a skill's knowledge around its level.
    log_ability_var, log_trait_var
        log of the prior variances of the learner traits: ability theta and
        learning-rate rho.
    """

    base: np.ndarray
    log_rate: np.ndarray
    gain: np.ndarray
    difficulty: np.ndarray
    weight: np.ndarray
    log_var: float
    log_ability_var: float
    log_trait_var: float

    def zeros_like(self) -> Params:
        """A parameter set of the same shapes, all zero (used for gradients)."""
        return Params(
            np.zeros_like(self.base),
            np.zeros_like(self.log_rate),
            np.zeros_like(self.gain),
            np.zeros_like(self.difficulty),
            np.zeros_like(self.weight),
            0.0,
            0.0,
            0.0,
        )


@dataclass
class Graph:
    """Prerequisite edges ``src[e] -> dst[e]`` between skill indices, indexed by
    destination: the edges into skill k are ``by_dst[indptr[k]:indptr[k + 1]]``."""

    src: np.ndarray
    dst: np.ndarray
    n_skills: int
    indptr: np.ndarray = field(init=False)
    by_dst: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.src = np.asarray(self.src, dtype=np.int64)
        self.dst = np.asarray(self.dst, dtype=np.int64)
        self.by_dst = np.argsort(self.dst, kind="stable")
        counts = np.bincount(self.dst, minlength=self.n_skills)
        self.indptr = np.r_[0, np.cumsum(counts)].astype(np.int64)

    @property
    def n_edges(self) -> int:
        return int(self.src.size)

    def incoming(self, skills: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each position in ``skills``, the edges into that skill:
        ``(owner, edge)`` pairs, ``owner`` the position."""
        start = self.indptr[skills]
        counts = self.indptr[skills + 1] - start
        total = int(counts.sum())
        if total == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        owner = np.repeat(np.arange(skills.size), counts)
        offset = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
        return owner, self.by_dst[start[owner] + offset]


@dataclass
class FilterState:
    """The belief about many learners, one row each.

    ``mean, var`` (M, V): the Gaussian belief about each skill's knowledge
    deviation (logit scale) at the time of the learner's last attempt at it;
    ``practice`` (G): the decayed number of attempts then; ``last`` (T): that
    time, ``-inf`` for a skill never attempted (whose ``mean`` is then the
    skill's ``base``); ``trait`` and ``cov``: mean (theta, rho) and covariance
    (P11, P12, P22) of the learner traits; ``clock``: time of the learner's last
    event (``-inf`` before any).
    """

    mean: np.ndarray
    var: np.ndarray
    practice: np.ndarray
    last: np.ndarray
    trait: np.ndarray
    cov: np.ndarray
    clock: np.ndarray

    @classmethod
    def fresh(cls, n: int, params: Params) -> FilterState:
        """``n`` learners with no events: every skill at its base, traits at the prior."""
        k = params.base.size
        cov = np.zeros((n, 3))
        cov[:, 0] = math.exp(params.log_ability_var)
        cov[:, 2] = math.exp(params.log_trait_var)
        return cls(
            mean=np.tile(params.base, (n, 1)),
            var=np.full((n, k), math.exp(params.log_var)),
            practice=np.zeros((n, k)),
            last=np.full((n, k), -np.inf),
            trait=np.zeros((n, 2)),
            cov=cov,
            clock=np.full(n, -np.inf),
        )

    @property
    def n_rows(self) -> int:
        return int(self.clock.size)

    def append(self, other: FilterState) -> None:
        """Add the rows of ``other`` after these."""
        for f in fields(self):
            setattr(self, f.name, np.concatenate([getattr(self, f.name), getattr(other, f.name)]))

    def copy(self) -> FilterState:
        return FilterState(*(getattr(self, f.name).copy() for f in fields(self)))


def group_steps(learner_code: np.ndarray, time: np.ndarray) -> list[np.ndarray]:
    """Event indices grouped into steps: step j holds each learner's j-th event
    (events of a learner in time order, ties in log order)."""
    n = learner_code.size
    if n == 0:
        return []
    order = np.lexsort((np.arange(n), time, learner_code))
    code = learner_code[order]
    starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
    lengths = np.diff(np.r_[starts, n])
    position = np.arange(n) - np.repeat(starts, lengths)
    by_position = order[np.argsort(position, kind="stable")]
    counts = np.bincount(position)
    return np.split(by_position, np.cumsum(counts)[:-1])


@dataclass
class Prior:
    """The predictive quantities of a batch of (learner row, skill, item, time)."""

    time: np.ndarray
    cell: np.ndarray
    T0: np.ndarray
    dt: np.ndarray
    decay: np.ndarray
    alpha: np.ndarray
    level: np.ndarray
    M0: np.ndarray
    V0: np.ndarray
    G0: np.ndarray
    x1: np.ndarray
    x2: np.ndarray
    P11: np.ndarray
    P12: np.ndarray
    P22: np.ndarray
    m: np.ndarray
    v: np.ndarray
    g: np.ndarray
    s: np.ndarray
    S: np.ndarray
    c: np.ndarray
    z: np.ndarray

    @property
    def p(self) -> np.ndarray:
        result: np.ndarray = expit(self.z)
        return result


def prior(
    params: Params,
    graph: Graph,
    state: FilterState,
    rows: np.ndarray,
    skill: np.ndarray,
    difficulty: np.ndarray,
    time: np.ndarray,
) -> Prior:
    """Propagate each (row, skill) belief to ``time`` and predict the answer on
    an item of the given ``difficulty``.

    Rows may repeat here (predicting several items for one learner); the update
    in :func:`run` needs them distinct.
    """
    cell = rows * state.mean.shape[1] + skill
    T0 = np.take(state.last, cell)
    first = ~np.isfinite(T0)
    dt = np.where(first, 0.0, time - np.where(first, 0.0, T0))
    alpha = np.exp(params.log_rate[skill])
    decay = np.where(first, 0.0, np.exp(-alpha * dt))
    level = params.base[skill]
    if graph.n_edges:
        pull = _pull(params, graph, state, rows, skill, time)
        level = level + np.bincount(
            pull.owner, weights=params.weight[pull.edges] * pull.known, minlength=skill.size
        )
    M0, V0, G0 = np.take(state.mean, cell), np.take(state.var, cell), np.take(state.practice, cell)
    q = math.exp(params.log_var)
    m = level + (M0 - level) * decay
    e2 = decay * decay
    v = V0 * e2 + q * (1.0 - e2)
    g = G0 * decay
    x, P = state.trait[rows], state.cov[rows]
    x1, x2, P11, P12, P22 = x[:, 0], x[:, 1], P[:, 0], P[:, 1], P[:, 2]
    s = x1 + g * x2 + m - difficulty
    S = P11 + g * (2.0 * P12 + g * P22) + v
    c = 1.0 / np.sqrt(1.0 + PI8 * S)
    return Prior(
        time,
        cell,
        T0,
        dt,
        decay,
        alpha,
        level,
        M0,
        V0,
        G0,
        x1,
        x2,
        P11,
        P12,
        P22,
        m,
        v,
        g,
        s,
        S,
        c,
        s * c,
    )


@dataclass
class _Pull:
    """The prerequisites' knowledge behind the level of a batch of (row, skill):
    ``owner`` (position in the batch) and ``edges`` of each (event, edge) pair,
    the prerequisite's cell, last belief ``M`` (``base`` if never attempted), its
    decay ``e`` since then (0 if never attempted) and the elapsed time ``dt``, and
    ``known = sigmoid(base + (M - base) e)``."""

    owner: np.ndarray
    edges: np.ndarray
    cell: np.ndarray
    M: np.ndarray
    e: np.ndarray
    dt: np.ndarray
    alpha: np.ndarray
    known: np.ndarray


def _pull(
    params: Params,
    graph: Graph,
    state: FilterState,
    rows: np.ndarray,
    skill: np.ndarray,
    time: np.ndarray,
) -> _Pull:
    owner, edges = graph.incoming(skill)
    src = graph.src[edges]
    cell = rows[owner] * state.mean.shape[1] + src
    M, T = np.take(state.mean, cell), np.take(state.last, cell)
    seen = np.isfinite(T)
    dt = np.where(seen, time[owner] - np.where(seen, T, 0.0), 0.0)
    alpha = np.exp(params.log_rate[src])
    e = np.where(seen, np.exp(-alpha * dt), 0.0)
    base = params.base[src]
    known = expit(base + (M - base) * e)
    return _Pull(owner, edges, cell, M, e, dt, alpha, known)


@dataclass
class _Record:
    """What the backward pass needs from one forward step."""

    index: np.ndarray
    prior: Prior
    clock: np.ndarray


def run(
    params: Params,
    graph: Graph,
    state: FilterState,
    rows: np.ndarray,
    skill: np.ndarray,
    item: np.ndarray,
    time: np.ndarray,
    outcome: np.ndarray,
    steps: list[np.ndarray],
    tape: list[_Record] | None = None,
) -> np.ndarray:
    """Filter the events (arrays indexed by event) step by step, updating
    ``state`` in place; returns each event's predicted P(success) before its
    update. With ``tape``, records what :func:`gradient` needs."""
    predictions = np.empty(outcome.size)
    for index in steps:
        r, k, y = rows[index], skill[index], outcome[index]
        t = time[index]
        pr = prior(params, graph, state, r, k, params.difficulty[item[index]], t)
        p = pr.p
        predictions[index] = p
        if tape is not None:
            tape.append(_Record(index, pr, state.clock[r]))
        h = p * (1.0 - p)
        den = 1.0 + pr.S * h
        omega = (y - p) / den
        phi = h / den
        ph1 = pr.P11 + pr.g * pr.P12
        ph2 = pr.P12 + pr.g * pr.P22
        state.trait[r, 0] = pr.x1 + ph1 * omega
        state.trait[r, 1] = pr.x2 + ph2 * omega
        state.cov[r, 0] = pr.P11 - ph1 * ph1 * phi
        state.cov[r, 1] = pr.P12 - ph1 * ph2 * phi
        state.cov[r, 2] = pr.P22 - ph2 * ph2 * phi
        np.put(state.mean, pr.cell, pr.m + pr.v * omega + params.gain[k])
        np.put(state.var, pr.cell, pr.v - pr.v * pr.v * phi)
        np.put(state.practice, pr.cell, pr.g + 1.0)
        np.put(state.last, pr.cell, t)
        state.clock[r] = t
    return predictions


def log_likelihood(outcome: np.ndarray, tape: list[_Record]) -> float:
    """Sum over the taped events of o log p + (1 - o) log(1 - p)."""
    total = 0.0
    for record in tape:
        y, z = outcome[record.index], record.prior.z
        total += float(np.sum(y * log_expit(z) + (1.0 - y) * log_expit(-z)))
    return total


def gradient(
    params: Params,
    graph: Graph,
    state: FilterState,
    rows: np.ndarray,
    skill: np.ndarray,
    item: np.ndarray,
    outcome: np.ndarray,
    tape: list[_Record],
) -> Params:
    """Gradient of the taped log-likelihood (:func:`log_likelihood`) with respect
    to every parameter, by reverse mode through the steps of :func:`run`.

    ``state`` must be the state that run left; it is restored, step by step, to
    the state run started from (the belief before the first taped event).
    """
    grad = params.zeros_like()
    dM, dV, dG = np.zeros_like(state.mean), np.zeros_like(state.var), np.zeros_like(state.practice)
    dX, dP = np.zeros_like(state.trait), np.zeros_like(state.cov)
    q = math.exp(params.log_var)
    for record in reversed(tape):
        index, pr = record.index, record.prior
        r, k, i, y = rows[index], skill[index], item[index], outcome[index]
        cell = pr.cell
        # undo the update: the state as the step found it
        np.put(state.mean, cell, pr.M0)
        np.put(state.var, cell, pr.V0)
        np.put(state.practice, cell, pr.G0)
        np.put(state.last, cell, pr.T0)
        state.clock[r] = record.clock
        state.trait[r, 0], state.trait[r, 1] = pr.x1, pr.x2
        state.cov[r, 0], state.cov[r, 1], state.cov[r, 2] = pr.P11, pr.P12, pr.P22
        # recompute the update's intermediate values
        p = pr.p
        h = p * (1.0 - p)
        den = 1.0 + pr.S * h
        omega = (y - p) / den
        phi = h / den
        ph1 = pr.P11 + pr.g * pr.P12
        ph2 = pr.P12 + pr.g * pr.P22
        g, v, e = pr.g, pr.v, pr.decay
        # adjoints of the step's outputs
        Mb, Vb, Gb = np.take(dM, cell), np.take(dV, cell), np.take(dG, cell)
        xb, Pb = dX[r], dP[r]
        x1b, x2b, P11b, P12b, P22b = xb[:, 0], xb[:, 1], Pb[:, 0], Pb[:, 1], Pb[:, 2]
        # M' = m + v omega + gain, V' = v - v^2 phi, G' = g + 1
        mb = Mb.copy()
        vb = Mb * omega + Vb * (1.0 - 2.0 * v * phi)
        omegab = Mb * v + x1b * ph1 + x2b * ph2
        phib = -Vb * v * v - P11b * ph1 * ph1 - P12b * ph1 * ph2 - P22b * ph2 * ph2
        grad.gain += np.bincount(k, weights=Mb, minlength=grad.gain.size)
        gb = Gb.copy()
        # x' = x + ph omega, P' = P - ph ph^T phi, ph = P (1, g)
        ph1b = x1b * omega - 2.0 * P11b * ph1 * phi - P12b * ph2 * phi
        ph2b = x2b * omega - 2.0 * P22b * ph2 * phi - P12b * ph1 * phi
        x1b_pre, x2b_pre = x1b.copy(), x2b.copy()
        P11b_pre = P11b + ph1b
        P12b_pre = P12b + ph1b * g + ph2b
        P22b_pre = P22b + ph2b * g
        gb += ph1b * pr.P12 + ph2b * pr.P22
        # omega = (y - p) / den, phi = h / den, den = 1 + S h, h = p (1 - p)
        denb = -(omegab * omega + phib * phi) / den
        hb = phib / den + denb * pr.S
        Sb = denb * h
        pb = -omegab / den + hb * (1.0 - 2.0 * p)
        # p = sigmoid(z), and the log-likelihood's own term
        zb = pb * h + (y - p)
        # z = s c, c = (1 + pi S / 8)^(-1/2)
        sb = zb * pr.c
        Sb += -zb * pr.s * 0.5 * PI8 * pr.c**3
        # s = x1 + g x2 + m - d
        x1b_pre += sb
        x2b_pre += sb * g
        gb += sb * pr.x2
        mb += sb
        grad.difficulty -= np.bincount(i, weights=sb, minlength=grad.difficulty.size)
        # S = P11 + 2 g P12 + g^2 P22 + v
        P11b_pre += Sb
        P12b_pre += 2.0 * g * Sb
        P22b_pre += g * g * Sb
        gb += Sb * (2.0 * pr.P12 + 2.0 * g * pr.P22)
        vb += Sb
        # g = G0 e, v = V0 e^2 + q (1 - e^2), m = level + (M0 - level) e
        G0b = gb * e
        eb = gb * pr.G0 + vb * 2.0 * e * (pr.V0 - q) + mb * (pr.M0 - pr.level)
        V0b = vb * e * e
        grad.log_var += float(np.sum(vb * (1.0 - e * e))) * q
        M0b = mb * e
        levelb = mb * (1.0 - e)
        # e = exp(-alpha dt) (0 and constant for a first attempt, where dt = 0)
        alphab = -eb * pr.dt * e
        grad.log_rate += np.bincount(k, weights=alphab * pr.alpha, minlength=grad.log_rate.size)
        grad.base += np.bincount(k, weights=levelb, minlength=grad.base.size)
        # the pre-step adjoints replace the post-step ones
        np.put(dM, cell, M0b)
        np.put(dV, cell, V0b)
        np.put(dG, cell, G0b)
        dX[r, 0], dX[r, 1] = x1b_pre, x2b_pre
        dP[r, 0], dP[r, 1], dP[r, 2] = P11b_pre, P12b_pre, P22b_pre
        # level = base + sum_e w_e sigmoid(b_j + (M_j - b_j) e_j) over the prerequisites j
        # (their cells differ from the cell updated here, and from each other)
        if graph.n_edges:
            pull = _pull(params, graph, state, r, k, pr.time)
            src = graph.src[pull.edges]
            pullb = levelb[pull.owner]
            grad.weight += np.bincount(
                pull.edges, weights=pullb * pull.known, minlength=graph.n_edges
            )
            knownb = pullb * params.weight[pull.edges] * pull.known * (1.0 - pull.known)
            np.put(dM, pull.cell, np.take(dM, pull.cell) + knownb * pull.e)
            n_skills = grad.base.size
            grad.base += np.bincount(src, weights=knownb * (1.0 - pull.e), minlength=n_skills)
            rateb = -knownb * (pull.M - params.base[src]) * pull.dt * pull.e * pull.alpha
            grad.log_rate += np.bincount(src, weights=rateb, minlength=n_skills)
    # the state run started from: fresh rows are functions of the parameters
    fresh = ~np.isfinite(state.last)
    grad.base += np.sum(np.where(fresh, dM, 0.0), axis=0)
    grad.log_var += float(np.sum(np.where(fresh, dV, 0.0))) * q
    untouched = ~np.isfinite(state.clock)
    grad.log_ability_var += float(np.sum(dP[untouched, 0])) * math.exp(params.log_ability_var)
    grad.log_trait_var += float(np.sum(dP[untouched, 2])) * math.exp(params.log_trait_var)
    return grad
