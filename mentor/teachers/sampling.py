"""Sampling rules shared by teachers: the last of a teacher's three parts
(signal -> statistic per arm -> sampling rule).

Each rule takes one score per arm and returns the indices of ``k`` distinct arms:

- :func:`proportional`: weights plus uniform exploration (ZPDES / EXP4 style);
- :func:`closest`: the scores nearest a target (target success);
- :func:`greedy`: the highest scores;
- :func:`epsilon_greedy`: the best arm, or with probability epsilon a uniform one (TSCL);
- :func:`boltzmann`: softmax with a temperature (TSCL, SEC, DUMP);
- :func:`ucb`: the highest upper confidence bounds (UCB1); :func:`ucb_scores` gives the
  bounds themselves for rules that sample from them (DUMP).

The randomised rules other than :func:`proportional` pick arms one at a time, applying the
rule again to the arms not yet picked; ``*_probabilities`` give the exact probabilities of
a single draw (what :meth:`mentor.teachers.base.Teacher.slot_distribution` returns).
"""

from __future__ import annotations

import numpy as np

from mentor._checks import check_number, check_unit
from mentor.errors import ParameterError


def proportional(
    weights: np.ndarray, epsilon: float, rng: np.random.Generator, k: int = 1
) -> np.ndarray:
    """Indices of ``k`` distinct arms drawn with probability
    ``(1 - epsilon) * w / sum(w) + epsilon / n`` (uniform when all weights are 0).

    This is the exploration rule of EXP4-style bandits used by ZPDES
    (Clement et al. 2015). Negative weights count as 0.
    """
    p = proportional_probabilities(weights, epsilon)
    result: np.ndarray = rng.choice(p.size, size=min(k, p.size), replace=False, p=p)
    return result


def proportional_probabilities(weights: np.ndarray, epsilon: float) -> np.ndarray:
    """Single-draw probabilities of :func:`proportional`:
    ``(1 - epsilon) * w / sum(w) + epsilon / n``, uniform when all weights are 0."""
    w = np.clip(np.asarray(weights, dtype=float), 0.0, None)
    n = w.size
    total = w.sum()
    probs = np.full(n, 1.0 / n) if total <= 0 else (1.0 - epsilon) * w / total + epsilon / n
    result: np.ndarray = probs / probs.sum()
    return result


def closest(scores: np.ndarray, target: float, rng: np.random.Generator, k: int = 1) -> np.ndarray:
    """Indices of the ``k`` scores closest to ``target``; exact ties broken at random."""
    distance = np.abs(np.asarray(scores, dtype=float) - target)
    order = np.lexsort((rng.random(distance.size), distance))
    return order[:k]


# ---------------------------------------------------------------------------------------------
# Rules that pick ``k`` distinct arms one at a time: draw one arm with the rule, remove it, and
# apply the same rule to the arms that remain. For k = 1 the draw probabilities are exactly the
# ``*_probabilities`` functions below.


def _check_finite_or_inf(scores: np.ndarray) -> np.ndarray:
    s = np.asarray(scores, dtype=float).ravel()
    if np.isnan(s).any():
        raise ParameterError("sampling scores must not be NaN")
    return s


def greedy(scores: np.ndarray, rng: np.random.Generator, k: int = 1) -> np.ndarray:
    """Indices of the ``k`` highest scores, best first; exact ties broken at random."""
    s = _check_finite_or_inf(scores)
    order = np.lexsort((rng.random(s.size), -s))
    return order[:k]


def greedy_probabilities(scores: np.ndarray) -> np.ndarray:
    """Single-draw probabilities of :func:`greedy`: uniform over the arms tied at the
    highest score, 0 elsewhere."""
    s = _check_finite_or_inf(scores)
    if s.size == 0:
        return s
    best = s == s.max()
    result: np.ndarray = best / best.sum()
    return result


def epsilon_greedy_probabilities(scores: np.ndarray, epsilon: float) -> np.ndarray:
    """Single-draw probabilities of epsilon-greedy: ``epsilon / n`` for every arm plus
    ``(1 - epsilon) / m`` for each of the ``m`` arms tied at the highest score.

    This is the exploration rule of the TSCL teachers (Matiisen et al. 2017): the best arm,
    with random tie-breaking, mixed with a uniform distribution.
    """
    s = _check_finite_or_inf(scores)
    check_unit("epsilon", epsilon)
    if s.size == 0:
        return s
    best = s == s.max()
    result: np.ndarray = epsilon / s.size + (1.0 - epsilon) * best / best.sum()
    return result


def epsilon_greedy(
    scores: np.ndarray, epsilon: float, rng: np.random.Generator, k: int = 1
) -> np.ndarray:
    """Indices of ``k`` distinct arms: each pick is, with probability ``epsilon``, uniform among
    the arms not yet picked, else the best of them (exact ties broken at random).

    With ``k = 1`` the probabilities are :func:`epsilon_greedy_probabilities`.
    """
    s = _check_finite_or_inf(scores)
    check_unit("epsilon", epsilon)
    remaining = np.arange(s.size)
    picks: list[int] = []
    for _ in range(min(k, s.size)):
        if rng.random() < epsilon:
            j = int(rng.integers(remaining.size))
        else:
            best = np.flatnonzero(s[remaining] == s[remaining].max())
            j = int(best[rng.integers(best.size)])
        picks.append(int(remaining[j]))
        remaining = np.delete(remaining, j)
    return np.array(picks, dtype=np.int64)


def boltzmann_probabilities(scores: np.ndarray, temperature: float) -> np.ndarray:
    """Softmax probabilities ``exp(s_i / T) / sum_j exp(s_j / T)`` (computed as
    ``exp((s_i - max s) / T)`` so that it never overflows).

    Arms with a score of ``+inf`` share all the probability. ``temperature`` must be positive;
    small temperatures approach greedy choice, large ones uniform choice.
    """
    s = _check_finite_or_inf(scores)
    check_number("temperature", temperature, 0.0, strict=True)
    if s.size == 0:
        return s
    top = np.isposinf(s)
    if top.any():
        result: np.ndarray = top / top.sum()
        return result
    if np.isneginf(s).all():
        return np.full(s.size, 1.0 / s.size)
    e = np.exp((s - s.max()) / temperature)
    softmax: np.ndarray = e / e.sum()
    return softmax


def boltzmann(
    scores: np.ndarray, temperature: float, rng: np.random.Generator, k: int = 1
) -> np.ndarray:
    """Indices of ``k`` distinct arms, each drawn from the softmax
    (:func:`boltzmann_probabilities`) of the arms not yet picked."""
    s = _check_finite_or_inf(scores)
    remaining = np.arange(s.size)
    picks: list[int] = []
    for _ in range(min(k, s.size)):
        p = boltzmann_probabilities(s[remaining], temperature)
        j = int(rng.choice(remaining.size, p=p))
        picks.append(int(remaining[j]))
        remaining = np.delete(remaining, j)
    return np.array(picks, dtype=np.int64)


def ucb_scores(
    means: np.ndarray,
    counts: np.ndarray,
    c: float = 1.0,
    total: float | None = None,
    offset: float = 0.0,
) -> np.ndarray:
    """Upper confidence bounds ``mean_i + c * sqrt(2 ln(N + offset) / (n_i + offset))``.

    UCB1 (Auer, Cesa-Bianchi and Fischer, "Finite-time analysis of the multiarmed bandit
    problem", Machine Learning 47, 2002) has ``c = 1`` and ``offset = 0``: an arm never
    tried scores ``+inf``. DUMP (Wang et al. 2025) uses ``offset = 1`` so that every score is
    finite. ``N`` is ``total`` or, by default, the sum of ``counts``; a negative logarithm
    (``N + offset < 1``) counts as 0.
    """
    m = np.asarray(means, dtype=float).ravel()
    n = np.asarray(counts, dtype=float).ravel()
    if m.shape != n.shape:
        raise ParameterError(f"means and counts differ in length: {m.size} and {n.size}")
    check_number("c", c, 0.0)
    check_number("offset", offset, 0.0)
    if (n < 0).any():
        raise ParameterError("UCB counts must be >= 0")
    big_n = float(n.sum()) if total is None else float(total)
    log_n = np.log(big_n + offset) if big_n + offset > 0 else 0.0
    log_n = max(log_n, 0.0)
    seen = (n + offset) > 0
    bonus = np.full(m.size, np.inf)
    bonus[seen] = c * np.sqrt(2.0 * log_n / (n[seen] + offset))
    result: np.ndarray = m + bonus
    return result


def ucb(
    means: np.ndarray,
    counts: np.ndarray,
    c: float,
    rng: np.random.Generator,
    k: int = 1,
    total: float | None = None,
) -> np.ndarray:
    """Indices of the ``k`` arms with the highest UCB1 scores (:func:`ucb_scores` with
    ``offset = 0``): untried arms first, exact ties broken at random."""
    return greedy(ucb_scores(means, counts, c, total), rng, k)
