"""Item response theory: the Rasch (1PL) and two-parameter logistic models.

Rasch, "Probabilistic models for some intelligence and attainment tests"
(1960), and the two-parameter logistic model of Birnbaum, in Lord and Novick,
"Statistical theories of mental test scores" (1968)::

    logit P(l succeeds on i) = a_i (theta_l - b_i)      (a_i = 1 for Rasch)

Fitted by L2-regularised maximum likelihood, that is maximum a posteriori under
a Gaussian prior N(0, 1 / l2) on every coefficient (``l2`` is the prior's
precision, so the default ``l2 = 1`` is a standard normal prior), with SciPy's
L-BFGS-B and an analytic gradient. Outcomes o in [0, 1] are soft labels: an
answer adds ``o log p + (1 - o) log(1 - p)`` to the log-likelihood. A learner's
ability then moves online by Newton steps on that learner's penalised
log-likelihood, the items staying fixed (maximum a posteriori ability
estimation, as in computerised adaptive testing: Baker and Kim, "Item Response
Theory: Parameter Estimation Techniques", 2nd ed., 2004).

The model has no clock: ``t`` in ``predict`` is accepted for the common
contract and ignored.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, Self

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy.optimize import minimize
from scipy.special import expit, logsumexp

from mentor._checks import check_count, check_number, json_id
from mentor.domain import Domain
from mentor.errors import DataError, ParameterError
from mentor.events import EventLog
from mentor.students._sequences import pack, time_rank
from mentor.students.base import EpochCallback, StudentModel, solver_progress

#: Floor of the Newton curvature, so that a step is defined even with ``l2 = 0``.
MIN_CURVATURE = 1e-12
#: Gauss-Hermite nodes over the ability distribution in the 2PL marginal likelihood.
QUADRATURE_NODES = 21
#: Most Newton rounds when solving for the abilities of a fitted 2PL log.
MAX_ABILITY_ROUNDS = 100


def rasch_objective(
    w: np.ndarray,
    learner: np.ndarray,
    item: np.ndarray,
    n: np.ndarray,
    s: np.ndarray,
    n_learners: int,
    l2: float,
) -> tuple[float, np.ndarray]:
    """Joint penalised negative log-likelihood of the Rasch model and its gradient.

    Parameters
    ----------
    w
        ``[theta (n_learners), b (n_items)]``.
    learner, item
        Learner and item index of each (learner, item) pair.
    n, s
        Number of answers and sum of outcomes of each pair (the log-likelihood
        of a pair depends on its answers only through these two numbers).
    n_learners, l2
        Number of learners and the prior precision.

    Returns
    -------
    f, grad
        ``sum_pairs [n softplus(z) - s z] + l2/2 ||w||^2`` with
        ``z = theta_l - b_i``, and its gradient ``X^T r + l2 w``. The design
        ``X`` is sparse (each pair touches one ability and one item), so the
        product is computed with :func:`numpy.bincount`, without building ``X``.
    """
    theta, b = w[:n_learners], w[n_learners:]
    z = theta[learner] - b[item]
    f = float(np.sum(n * np.logaddexp(0.0, z) - s * z) + 0.5 * l2 * np.dot(w, w))
    r = n * expit(z) - s  # d f / d z of each pair
    grad = l2 * w
    grad[:n_learners] += np.bincount(learner, weights=r, minlength=n_learners)
    grad[n_learners:] -= np.bincount(item, weights=r, minlength=b.size)
    return f, grad


def quadrature(l2: float) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and log-weights of Gauss-Hermite quadrature over N(0, 1 / l2)."""
    x, weight = hermegauss(QUADRATURE_NODES)
    return x / math.sqrt(l2), np.log(weight / weight.sum())


def marginal_objective(
    v: np.ndarray,
    learner: np.ndarray,
    item: np.ndarray,
    n: np.ndarray,
    s: np.ndarray,
    l2: float,
) -> tuple[float, np.ndarray]:
    """Penalised negative marginal log-likelihood of the 2PL model and its gradient.

    Abilities are integrated out over their prior N(0, 1/l2) by Gauss-Hermite
    quadrature (Bock and Aitkin, "Marginal maximum likelihood estimation of
    item parameters", Psychometrika 46, 1981), and the item parameters have
    the Gaussian prior of Mislevy, "Bayes modal estimation in item response
    models", Psychometrika 51, 1986.

    Parameters
    ----------
    v
        ``[b (n_items), log a (n_items)]``.
    learner, item
        Learner and item index of each (learner, item) pair; pairs are sorted
        by learner and every learner ``0 .. max(learner)`` has a pair.
    n, s
        Number of answers and sum of outcomes of each pair.
    l2
        Precision of the prior on abilities and on ``b`` and ``log a`` (> 0).

    Returns
    -------
    f, grad
        ``- sum_l log sum_k w_k prod_pairs P(answers | theta_k) + l2/2 ||v||^2``
        and its gradient.
    """
    n_items = v.size // 2
    b, a = v[:n_items], np.exp(v[n_items:])
    nodes, log_weights = quadrature(l2)
    a_pair = a[item][:, None]
    z = a_pair * (nodes[None, :] - b[item][:, None])  # pairs x nodes
    log_lik = s[:, None] * z - n[:, None] * np.logaddexp(0.0, z)
    starts = np.flatnonzero(np.r_[True, learner[1:] != learner[:-1]])
    joint = np.add.reduceat(log_lik, starts, axis=0) + log_weights  # learners x nodes
    marginal = logsumexp(joint, axis=1)
    posterior = np.exp(joint - marginal[:, None])[learner]  # P(theta_k | learner's answers)
    r = posterior * (n[:, None] * expit(z) - s[:, None])  # d f / d z
    f = float(-marginal.sum() + 0.5 * l2 * np.dot(v, v))
    grad = l2 * v
    grad[:n_items] -= np.bincount(item, weights=(r * a_pair).sum(axis=1), minlength=n_items)
    grad[n_items:] += np.bincount(item, weights=(r * z).sum(axis=1), minlength=n_items)
    return f, grad


def ability_steps(
    theta: np.ndarray,
    learner: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    n: np.ndarray,
    s: np.ndarray,
    l2: float,
    steps: int,
) -> np.ndarray:
    """Safeguarded Newton steps on each learner's penalised log-likelihood.

    ``f(theta) = sum_items [s z - n softplus(z)] - l2/2 theta^2`` with
    ``z = a (theta - b)``, for several learners at once (``learner`` gives the
    learner of each (learner, item) row). Each step is ``theta + f' / -f''``;
    where that would lower ``f`` (Newton can overshoot when a steep item
    saturates), the step divides by the bound ``sum a^2 n / 4 + l2 >= -f''``
    instead, which never lowers ``f`` (Bohning and Lindsay, "Monotonicity of
    quadratic-approximation algorithms", Ann. Inst. Stat. Math. 40, 1988).
    Returns the new abilities.
    """
    size = theta.size
    bound = np.bincount(learner, weights=0.25 * a * a * n, minlength=size) + l2
    bound = np.maximum(bound, MIN_CURVATURE)

    def value(point: np.ndarray) -> np.ndarray:
        z = a * (point[learner] - b)
        terms = s * z - n * np.logaddexp(0.0, z)
        total: np.ndarray = (
            np.bincount(learner, weights=terms, minlength=size) - 0.5 * l2 * point * point
        )
        return total

    theta = np.array(theta, dtype=float)
    for _ in range(steps):
        p = expit(a * (theta[learner] - b))
        gradient = np.bincount(learner, weights=a * (s - n * p), minlength=size) - l2 * theta
        curvature = np.bincount(learner, weights=a * a * n * p * (1.0 - p), minlength=size) + l2
        newton = theta + gradient / np.maximum(curvature, MIN_CURVATURE)
        old = value(theta)
        worse = value(newton) < old - 1e-9 * (1.0 + np.abs(old))
        theta = np.where(worse, theta + gradient / bound, newton)
    return theta


class IRT(StudentModel):
    """Item response theory, Rasch (1PL) or 2PL, with abilities followed online.

    ``P(success of l on i) = sigma(a_i (theta_l - b_i))``, with ``a_i = 1`` for
    the Rasch model (``parameters=1``, the default) and ``a_i = exp(alpha_i) > 0``
    for 2PL (``parameters=2``). Every parameter (ability, difficulty,
    log-discrimination) has the prior N(0, 1/l2).

    Fitting
        Rasch: joint maximum a posteriori of every ability and difficulty
        (:func:`rasch_objective`). 2PL: the joint estimate is biased beyond
        use (the likelihood only sees ``a (theta - b)``, so the joint posterior
        gains by shrinking every ``theta`` and ``b`` toward 0 and inflating the
        ``a``, more so the more learners there are), so the item parameters
        maximise the marginal posterior, abilities integrated out over their
        prior (:func:`marginal_objective`), and each learner's ability is then
        its maximum a posteriori given the items. Both use L-BFGS-B with an
        analytic gradient, diagonally preconditioned.

    Online
        Only abilities move: after each answer the learner's ability takes
        ``newton_steps`` Newton steps (:func:`ability_steps`) on that learner's
        penalised log-likelihood
        ``sum_i [s_i log p_i + (n_i - s_i) log(1 - p_i)] - l2/2 theta^2``, started
        from its current value, with the items fixed. The model keeps, per
        learner, the number of answers ``n_i`` and sum of outcomes ``s_i`` on each
        item answered (sufficient statistics), so an update costs O(number of
        distinct items the learner has answered), at most O(answers of that
        learner). :meth:`predict_log` runs the same updates for all learners at
        once. Unseen learners start at the prior mean, ability 0; items not in
        the fitted log have difficulty 0 and discrimination 1 (the prior means).

    Parameters
    ----------
    domain
        Gives each item's skills, used only for :meth:`state`'s mastery; without
        it every item is its own skill.
    parameters
        1 for Rasch (default), 2 for 2PL.
    l2
        Precision of the Gaussian prior on every parameter (default 1.0: standard
        normal). >= 0 for Rasch, where 0 is unregularised maximum likelihood
        (learners or items with only successes, or only failures, then run off
        to large values); > 0 for 2PL, where it is also the ability
        distribution that defines the scale.
    newton_steps
        Newton steps on the learner's ability after each answer (default 2).
    max_iter
        Most L-BFGS-B iterations when fitting (default 1000).
    tol
        L-BFGS-B stops when every (preconditioned) gradient component is below
        ``tol`` (default 1e-6).

    Attributes
    ----------
    items_ : list
        Fitted items, in the order of the parameter arrays.
    difficulty_, discrimination_ : numpy.ndarray
        ``b`` and ``a`` per item (``a`` is all ones for Rasch).
    ability_ : dict
        ``theta`` per learner.
    answers_ : dict
        Per learner, ``{item: [n, s]}``: answers and sum of outcomes on the item.
    log_likelihood_ : float
        Training log-likelihood (without the prior) at the fitted abilities.
    n_iter_ : int
        L-BFGS-B iterations run.
    """

    name = "irt"

    def __init__(
        self,
        domain: Domain | None = None,
        parameters: int = 1,
        l2: float = 1.0,
        newton_steps: int = 2,
        max_iter: int = 1000,
        tol: float = 1e-6,
    ) -> None:
        super().__init__(domain)
        if isinstance(parameters, bool) or parameters not in (1, 2):
            raise ParameterError(
                "IRT has 1 (Rasch) or 2 (2PL) item parameters", field="parameters", value=parameters
            )
        self.parameters = int(parameters)
        self.l2 = check_number("l2", l2, 0.0, strict=self.parameters == 2)
        self.newton_steps = check_count("newton_steps", newton_steps, 1)
        self.max_iter = check_count("max_iter", max_iter, 0)
        self.tol = check_number("tol", tol, 0.0, strict=True)
        self._reset()

    def _reset(self) -> None:
        self.items_: list[Any] = []
        self._item_index: dict[Any, int] = {}
        self.difficulty_ = np.zeros(0)
        self.discrimination_ = np.zeros(0)
        self.ability_: dict[Any, float] = {}
        self.answers_: dict[Any, dict[Any, list[float]]] = {}
        self.log_likelihood_ = math.nan
        self.n_iter_ = 0

    def get_params(self) -> dict[str, Any]:
        return {
            "parameters": self.parameters,
            "l2": self.l2,
            "newton_steps": self.newton_steps,
            "max_iter": self.max_iter,
            "tol": self.tol,
        }

    def _item_params(self, items: list[Any]) -> tuple[np.ndarray, np.ndarray]:
        """Discrimination and difficulty of each item (the prior means for unseen items)."""
        index = np.fromiter(
            (self._item_index.get(i, -1) for i in items), dtype=np.int64, count=len(items)
        )
        a = np.r_[self.discrimination_, 1.0][index]
        b = np.r_[self.difficulty_, 0.0][index]
        return a, b

    def _minimize(
        self,
        objective: Any,
        curvature: np.ndarray,
        args: tuple[Any, ...],
        on_epoch: EpochCallback | None = None,
    ) -> np.ndarray:
        """L-BFGS-B from 0 in the variables ``u = w sqrt(h)``, ``h`` the curvature of
        each parameter at the start, so that parameters with ten or a thousand
        answers move on the same scale (same optimum, far fewer iterations)."""
        scale = 1.0 / np.sqrt(curvature)

        def scaled(u: np.ndarray) -> tuple[float, np.ndarray]:
            f, grad = objective(u * scale, *args)
            return f, grad * scale

        result = minimize(
            scaled,
            np.zeros(scale.size),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": self.max_iter, "gtol": self.tol, "ftol": 1e-12},
            callback=solver_progress(on_epoch),
        )
        self.n_iter_ = int(result.nit)
        solution: np.ndarray = result.x * scale
        return solution

    # ------------------------------------------------------------- contract
    def fit(self, log: EventLog, on_epoch: EpochCallback | None = None) -> Self:
        """Fit the items (and the abilities of the log's learners) by penalised
        maximum likelihood; learners keep their fitted abilities and answers."""
        if len(log) == 0:
            raise DataError("cannot fit IRT on an empty log")
        self._reset()
        learners, learner_code = np.unique(log.learner, return_inverse=True)
        items, item_code = np.unique(log.item, return_inverse=True)
        n_learners, n_items = len(learners), len(items)
        keys, pair_code = np.unique(
            learner_code.astype(np.int64) * n_items + item_code, return_inverse=True
        )
        n = np.bincount(pair_code, minlength=keys.size).astype(float)
        s = np.bincount(pair_code, weights=log.outcome, minlength=keys.size)
        pair_learner, pair_item = np.divmod(keys, n_items)  # sorted by learner
        item_curvature = 0.25 * np.bincount(pair_item, weights=n, minlength=n_items) + self.l2
        if self.parameters == 1:
            learner_curvature = 0.25 * np.bincount(pair_learner, weights=n) + self.l2
            w = self._minimize(
                rasch_objective,
                np.maximum(np.r_[learner_curvature, item_curvature], MIN_CURVATURE),
                (pair_learner, pair_item, n, s, n_learners, self.l2),
                on_epoch,
            )
            theta, self.difficulty_ = w[:n_learners], w[n_learners:]
            self.discrimination_ = np.ones(n_items)
        else:
            v = self._minimize(
                marginal_objective,
                np.r_[item_curvature, item_curvature],
                (pair_learner, pair_item, n, s, self.l2),
                on_epoch,
            )
            self.difficulty_, self.discrimination_ = v[:n_items], np.exp(v[n_items:])
            a, b = self.discrimination_[pair_item], self.difficulty_[pair_item]
            theta = np.zeros(n_learners)
            for _ in range(MAX_ABILITY_ROUNDS):
                previous = theta
                theta = ability_steps(theta, pair_learner, a, b, n, s, self.l2, 1)
                if np.max(np.abs(theta - previous)) < 1e-10:
                    break
        self.items_ = items.tolist()
        self._item_index = {item: k for k, item in enumerate(self.items_)}
        z = self.discrimination_[pair_item] * (theta[pair_learner] - self.difficulty_[pair_item])
        self.log_likelihood_ = float(np.sum(s * z - n * np.logaddexp(0.0, z)))
        learner_ids = learners.tolist()
        self.ability_ = dict(zip(learner_ids, theta.tolist(), strict=True))
        self.answers_ = {learner: {} for learner in learner_ids}
        for k, i, count, total in zip(
            pair_learner.tolist(), pair_item.tolist(), n.tolist(), s.tolist(), strict=True
        ):
            self.answers_[learner_ids[k]][self.items_[i]] = [int(count), total]
        return self

    def _newton(self, theta: float, answers: Mapping[Any, list[float]]) -> float:
        """The ability after :func:`ability_steps` on one learner's answers."""
        a, b = self._item_params(list(answers))
        counts = np.array(list(answers.values()), dtype=float).reshape(-1, 2)
        rows = np.zeros(len(a), dtype=np.int64)
        start = np.array([theta])
        steps = ability_steps(
            start, rows, a, b, counts[:, 0], counts[:, 1], self.l2, self.newton_steps
        )
        return float(steps[0])

    def update(self, events: EventLog) -> None:
        """Add each answer to its learner's counts, then move the learner's ability
        by Newton steps; O(distinct items of the learner) per event."""
        for learner, item, outcome in zip(
            events.learner.tolist(), events.item.tolist(), events.outcome.tolist(), strict=True
        ):
            answers = self.answers_.setdefault(learner, {})
            counts = answers.get(item)
            if counts is None:
                answers[item] = [1, outcome]
            else:
                counts[0] += 1
                counts[1] += outcome
            self.ability_[learner] = self._newton(self.ability_.get(learner, 0.0), answers)

    def predict(self, learner: Any, items: Iterable[Any], t: float | None = None) -> np.ndarray:
        """sigma(a (theta - b)) for each item; ``t`` is ignored."""
        a, b = self._item_params(list(items))
        result: np.ndarray = expit(a * (self.ability_.get(learner, 0.0) - b))
        return result

    def predict_log(self, log: EventLog) -> np.ndarray:
        """Online prediction of every event from the model and the earlier events,
        vectorised over learners, without changing the model.

        Learners advance together, one answer per step (time order, ties in log
        order); each step predicts, adds the answer to the counts, and takes the
        Newton steps of :meth:`update` for every active learner at once.
        """
        size = len(log)
        if size == 0:
            return np.zeros(0)
        learners, learner_code = np.unique(log.learner, return_inverse=True)
        packed = pack(learner_code.astype(np.int64), time_rank(log))
        slot_event = np.empty(size, dtype=np.int64)
        slot_event[packed.slot_of] = np.arange(size)
        n_learners = len(learners)
        rank = np.empty(n_learners, dtype=np.int64)  # learners ranked by number of events
        rank[packed.rank_key] = np.arange(n_learners)
        learner_ids = learners.tolist()

        items, item_code = np.unique(log.item, return_inverse=True)
        item_ids = items.tolist()
        n_items = len(item_ids)
        a_item, b_item = self._item_params(item_ids)
        keys, event_pair = np.unique(rank[learner_code] * n_items + item_code, return_inverse=True)
        pair_rank, pair_item = np.divmod(keys, n_items)
        pair_a, pair_b = a_item[pair_item], b_item[pair_item]
        pair_n = np.zeros(keys.size)
        pair_s = np.zeros(keys.size)
        # answers the model already holds for these learners
        code_of_item = {item: k for k, item in enumerate(item_ids)}
        extra: list[tuple[int, Any, float, float]] = []
        theta = np.zeros(n_learners)
        for code, learner in enumerate(learner_ids):
            theta[rank[code]] = self.ability_.get(learner, 0.0)
            for item, (count, total) in self.answers_.get(learner, {}).items():
                k = code_of_item.get(item)
                if k is not None:
                    j = int(np.searchsorted(keys, rank[code] * n_items + k))
                    if j < keys.size and keys[j] == rank[code] * n_items + k:
                        pair_n[j], pair_s[j] = count, total
                        continue
                extra.append((int(rank[code]), item, count, total))
        if extra:
            extra_a, extra_b = self._item_params([e[1] for e in extra])
            pair_rank = np.r_[pair_rank, [e[0] for e in extra]].astype(np.int64)
            pair_a, pair_b = np.r_[pair_a, extra_a], np.r_[pair_b, extra_b]
            pair_n = np.r_[pair_n, [e[2] for e in extra]]
            pair_s = np.r_[pair_s, [e[3] for e in extra]]
        by_rank = np.argsort(pair_rank, kind="stable")  # pairs of ranks < m: a prefix
        position = np.empty_like(by_rank)
        position[by_rank] = np.arange(by_rank.size)
        event_pair = position[event_pair]
        pair_rank, pair_a, pair_b = pair_rank[by_rank], pair_a[by_rank], pair_b[by_rank]
        pair_n, pair_s = pair_n[by_rank], pair_s[by_rank]
        pairs_below = np.searchsorted(pair_rank, np.arange(n_learners + 1))

        outcome = log.outcome
        prediction = np.empty(size)
        for _, begin, active in packed.steps():
            events = slot_event[begin : begin + active]
            pairs = event_pair[events]
            prediction[events] = expit(pair_a[pairs] * (theta[:active] - pair_b[pairs]))
            pair_n[pairs] += 1.0  # one event per learner and step: pairs are distinct
            pair_s[pairs] += outcome[events]
            m = pairs_below[active]
            theta[:active] = ability_steps(
                theta[:active],
                pair_rank[:m],
                pair_a[:m],
                pair_b[:m],
                pair_n[:m],
                pair_s[:m],
                self.l2,
                self.newton_steps,
            )
        return prediction

    def state(self, learner: Any) -> dict[str, Any]:
        """Ability, number of answers, and mastery per skill: P(success) on an item
        of the skill's mean difficulty and mean discrimination."""
        answers = self.answers_.get(learner, {})
        if self.domain is not None:
            groups = {s: self.domain.items_of(s) for s in self.domain.skills}
        else:
            groups = {i: [i] for i in [*self.items_, *answers]}
        theta = self.ability_.get(learner, 0.0)
        mastery = {}
        for skill, items in groups.items():
            a, b = self._item_params(items)
            a_mean = float(a.mean()) if items else 1.0
            b_mean = float(b.mean()) if items else 0.0
            mastery[skill] = float(expit(a_mean * (theta - b_mean)))
        return {
            "ability": theta,
            "answers": int(sum(count for count, _ in answers.values())),
            "mastery": mastery,
        }

    def _get_state(self) -> dict[str, Any]:
        return {
            "items": list(self.items_),
            "difficulty": self.difficulty_.tolist(),
            "discrimination": self.discrimination_.tolist(),
            "learners": list(self.ability_),
            "ability": list(self.ability_.values()),
            "answers": [
                [learner, item, count, total]
                for learner, answers in self.answers_.items()
                for item, (count, total) in answers.items()
            ],
            "log_likelihood": None if math.isnan(self.log_likelihood_) else self.log_likelihood_,
            "n_iter": self.n_iter_,
        }

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self._reset()
        items = [json_id(x) for x in state["items"]]
        difficulty = np.asarray(state["difficulty"], dtype=float)
        discrimination = np.asarray(state["discrimination"], dtype=float)
        if len(set(items)) != len(items):
            raise ValueError("duplicate item in state")
        for name, values in (("difficulty", difficulty), ("discrimination", discrimination)):
            if values.shape != (len(items),) or not np.all(np.isfinite(values)):
                raise ValueError(f"{name} must hold one finite number per item")
        if np.any(discrimination <= 0):
            raise ValueError("discrimination must be positive")
        if self.parameters == 1 and np.any(discrimination != 1.0):
            raise ValueError("a Rasch model has discrimination 1 for every item")
        self.items_ = items
        self._item_index = {item: k for k, item in enumerate(items)}
        self.difficulty_, self.discrimination_ = difficulty, discrimination
        learners = [json_id(x) for x in state["learners"]]
        self.ability_ = dict(zip(learners, map(float, state["ability"]), strict=True))
        for learner, item, count, total in state["answers"]:
            self.answers_.setdefault(json_id(learner), {})[json_id(item)] = [
                int(count),
                float(total),
            ]
        ll = state.get("log_likelihood")
        self.log_likelihood_ = math.nan if ll is None else float(ll)
        self.n_iter_ = int(state.get("n_iter", 0))


# --------------------------------------------------------------------- PFA
