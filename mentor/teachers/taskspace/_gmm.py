"""Fitting the Gaussian mixtures of ALP-GMM and Covar-GMM, and drawing from them.

Both teachers of Portelas et al. (2019) fit mixtures with ``k_min .. k_max`` full-covariance
components (scikit-learn's :class:`~sklearn.mixture.GaussianMixture`, computed by
:mod:`mentor.teachers.taskspace._mixture`) to their recent episodes and keep the
one with the smallest AIC (or BIC); a fitted mixture is kept as plain lists so that it saves
to JSON and restores exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from mentor._checks import check_choice, check_count
from mentor.errors import ParameterError
from mentor.teachers.taskspace._mixture import (
    fit_mixtures,
    information_criterion,
    mean_log_likelihoods,
)

CRITERIA = ("aic", "bic")


def check_fit_settings(
    who: str,
    fit_every: Any,
    k_min: Any,
    k_max: Any,
    n_init: Any,
    bootstrap: Any,
    criterion: Any,
) -> tuple[int, int, int, int, int, str]:
    """The mixture settings both teachers share, checked: ``(fit_every, k_min, k_max,
    n_init, bootstrap, criterion)``; ``bootstrap`` defaults to ``fit_every``. A
    :class:`ParameterError` names the bad one (a mixture needs at least as many points
    as components, so ``fit_every >= k_max >= k_min``)."""
    fit_every = check_count("fit_every", fit_every, 1)
    k_min = check_count("k_min", k_min, 1)
    k_max = check_count("k_max", k_max, 1)
    n_init = check_count("n_init", n_init, 1)
    if k_max < k_min:
        raise ParameterError(f"{who} needs k_min <= k_max ({k_min})", field="k_max", value=k_max)
    if fit_every < k_max:
        raise ParameterError(
            f"{who} fit_every must be at least k_max ({k_max}): "
            "a mixture needs at least as many points as components",
            field="fit_every",
            value=fit_every,
        )
    bootstrap = check_count("bootstrap", fit_every if bootstrap is None else bootstrap, fit_every)
    return (
        fit_every,
        k_min,
        k_max,
        n_init,
        bootstrap,
        check_choice("criterion", criterion, CRITERIA),
    )


def fit_best(
    data: np.ndarray, k_min: int, k_max: int, criterion: str, n_init: int, seed: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The best mixture by ``criterion`` among ``k_min .. k_max`` components, as
    ``({"weights", "means", "covariances"}, {"seed", "scores", "k"})``. Each candidate is
    what ``GaussianMixture(k, covariance_type="full", n_init=n_init, random_state=seed)``
    fits, computed together by :func:`~mentor.teachers.taskspace._mixture.fit_mixtures`
    (the first of equal scores is kept, as ``min`` would)."""
    ks = list(range(k_min, k_max + 1))
    # Tiny problems: BLAS and OpenMP threads only add overhead (and stall on a busy machine).
    with threadpool_limits(limits=1):
        mixtures = fit_mixtures(data, ks, seed, n_init)
        likelihoods = mean_log_likelihoods(data, mixtures)
    scores = [
        information_criterion(m, data, float(ll), criterion)
        for m, ll in zip(mixtures, likelihoods, strict=True)
    ]
    best = mixtures[int(np.argmin(scores))]
    chosen = {
        "weights": best.weights.tolist(),
        "means": best.means.tolist(),
        "covariances": best.covariances.tolist(),
    }
    return chosen, {"seed": seed, "scores": scores, "k": best.n_components}


def proportional(scores: np.ndarray, rng: np.random.Generator) -> int:
    """An index drawn with probability proportional to ``scores`` (>= 0), uniformly when
    they are all 0: ``rng.choice(scores.size, p=scores / scores.sum())``."""
    return pick(choice_cdf(scores), scores.size, rng)


def choice_cdf(scores: np.ndarray) -> np.ndarray | None:
    """The cumulative distribution ``rng.choice(n, p=scores / scores.sum())`` computes at
    every call (``p.cumsum()``, divided by its last value), or ``None`` when every score
    is 0; computed once per fitted mixture for :func:`pick`."""
    total = float(scores.sum())
    if total <= 0:
        return None
    cdf: np.ndarray = (scores / total).cumsum()
    cdf /= cdf[-1]
    return cdf


def pick(cdf: np.ndarray | None, n: int, rng: np.random.Generator) -> int:
    """One index of ``range(n)``: from :func:`choice_cdf`'s ``cdf``, the draw
    ``rng.choice(n, p=...)`` makes (one ``rng.random()`` located in the cumulative
    distribution; bit for bit, tested) without re-checking ``p`` at every call; uniform
    (``rng.integers(n)``) when ``cdf`` is ``None``."""
    if cdf is None:
        return int(rng.integers(n))
    return int(cdf.searchsorted(rng.random(), side="right"))


def normal_factors(covariances: np.ndarray) -> np.ndarray:
    """Per covariance matrix ``C``, the factor ``F = u * sqrt(s)`` of its SVD
    ``u, s, vh = svd(C)``, which NumPy's ``rng.multivariate_normal(mean, C)`` (default
    ``method="svd"``) computes at every call before returning ``mean + z @ F.T``. Computed
    once per fitted mixture, :func:`draw_normal` makes the same draws bit for bit (tested)
    in 3-4 us instead of about 65 (2 x 2 covariance, this machine). NumPy's check that ``C``
    is positive semi-definite is not repeated: a fitted mixture's covariances are
    (the fit adds ``reg_covar`` to their diagonals)."""
    factors = np.empty_like(covariances)
    for j, covariance in enumerate(covariances):
        u, s, _ = np.linalg.svd(covariance)
        factors[j] = u * np.sqrt(s)
    return factors


def draw_normal(mean: np.ndarray, factor: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw of ``rng.multivariate_normal(mean, C)``, ``factor`` being
    :func:`normal_factors` of ``C``: the same standard normals, combined in the same
    order (a 1 x d row times ``factor.T``, as NumPy does), so the same point."""
    z = rng.standard_normal(mean.size).reshape(1, -1)
    point: np.ndarray = (mean + z @ factor.T).reshape(-1)
    return point


def load_mixture(gmm: Any) -> dict[str, Any] | None:
    """A saved mixture checked and converted back to lists of floats."""
    if gmm is None:
        return None
    return {
        "weights": [float(w) for w in gmm["weights"]],
        "means": np.asarray(gmm["means"], dtype=float).tolist(),
        "covariances": np.asarray(gmm["covariances"], dtype=float).tolist(),
    }
