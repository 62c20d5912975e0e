"""Expectation-maximisation for small full-covariance Gaussian mixtures, in whole-array NumPy.

ALP-GMM and Covar-GMM (Portelas et al., 2019) refit mixtures with 2..10 components to a
few hundred low-dimensional points every few hundred episodes. The algorithm is
scikit-learn's :class:`~sklearn.mixture.GaussianMixture` (``covariance_type="full"``,
``init_params="kmeans"``, the defaults ``tol=1e-3``, ``reg_covar=1e-6``, ``max_iter=100``)
step for step (Bishop, *Pattern Recognition and Machine Learning*, 2006, section 9.2.2):

- initial responsibilities are one-hot on the labels of k-means as
  :class:`sklearn.cluster.KMeans` runs it (``n_init=1``): greedy k-means++ seeding (Arthur
  and Vassilvitskii, 2007, with ``2 + int(log k)`` candidates per centre) drawn from the
  same ``numpy.random.RandomState`` calls, then Lloyd's iterations until the labels stop
  changing or the centres move less than ``1e-4`` times the data's mean variance, empty
  clusters taking the points farthest from their centres; so the starting point is
  scikit-learn's (tested);
- an M-step estimates weights, means and covariances (``reg_covar`` added to each
  diagonal), an E-step the log responsibilities; EM stops when the mean log-likelihood
  changes by less than ``tol``, and of ``n_init`` runs the one with the highest final
  lower bound is kept;
- AIC and BIC as scikit-learn computes them.

What differs is the arithmetic's layout and the imports: scikit-learn loops over
components with SciPy's Cholesky and triangular solves, plus input checks, at every EM
iteration (about 2.5 ms an iteration at 250 points and 2-10 components on this project's
2-core machine), and importing ``sklearn.cluster`` costs about 0.9 s of CPU the first time
a teacher fits; here each step is a handful of batched NumPy calls over all components at
once, and scikit-learn is not imported. The fitted
parameters agree with scikit-learn's to rounding (tested); the time is in
``benchmarks/RESULTS.md`` ("ALP-GMM's mixture fits without scikit-learn's EM loop").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

TOL = 1e-3
REG_COVAR = 1e-6
MAX_ITER = 100


@dataclass(frozen=True)
class Mixture:
    """A fitted mixture: ``weights`` (k,), ``means`` (k, d), ``covariances`` (k, d, d)."""

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray

    @property
    def n_components(self) -> int:
        return int(self.weights.size)

    def n_parameters(self) -> int:
        """Free parameters: k full covariances, k means and k - 1 weights."""
        k, d = self.means.shape
        return k * d * (d + 1) // 2 + k * d + k - 1

    def mean_log_likelihood(self, x: np.ndarray) -> float:
        """Mean over the rows of ``x`` of the log density of the mixture."""
        log_norm, _ = _e_step(x, self.weights, self.means, _precision_factors(self.covariances))
        return float(log_norm.mean())

    def aic(self, x: np.ndarray) -> float:
        """Akaike's criterion, ``-2 log L + 2 p``."""
        return -2.0 * self.mean_log_likelihood(x) * x.shape[0] + 2.0 * self.n_parameters()

    def bic(self, x: np.ndarray) -> float:
        """Schwarz's criterion, ``-2 log L + p log n``."""
        n = x.shape[0]
        return -2.0 * self.mean_log_likelihood(x) * n + self.n_parameters() * math.log(n)


def fit_mixture(x: np.ndarray, k: int, seed: int, n_init: int = 1) -> Mixture:
    """The mixture of ``k`` full-covariance components that scikit-learn's
    ``GaussianMixture(k, covariance_type="full", n_init=n_init, random_state=seed).fit(x)``
    fits. Raises ``numpy.linalg.LinAlgError`` where a component's covariance is not
    positive definite (scikit-learn raises ``ValueError`` there)."""
    random_state = np.random.RandomState(seed)
    best: Mixture | None = None
    best_bound = -np.inf
    for _ in range(n_init):
        labels = kmeans_labels(x, k, random_state)
        resp = np.zeros((x.shape[0], k))
        resp[np.arange(x.shape[0]), labels] = 1.0
        nk, means, covariances = _m_step(x, resp)
        weights = nk / x.shape[0]
        factors = _precision_factors(covariances)
        bound = -np.inf
        for _ in range(MAX_ITER):
            previous = bound
            log_norm, log_resp = _e_step(x, weights, means, factors)
            nk, means, covariances = _m_step(x, np.exp(log_resp))
            weights = nk / nk.sum()
            factors = _precision_factors(covariances)
            bound = float(log_norm.mean())
            if abs(bound - previous) < TOL:
                break
        if bound > best_bound or best is None:
            best, best_bound = Mixture(weights, means, covariances), bound
    assert best is not None  # n_init >= 1
    return best


def kmeans_labels(x: np.ndarray, k: int, random_state: np.random.RandomState) -> np.ndarray:
    """The labels ``KMeans(n_clusters=k, n_init=1, random_state=random_state).fit(x)``
    gives: k-means++ seeding, then Lloyd's algorithm (scikit-learn's ``max_iter`` 300 and
    ``tol`` 1e-4)."""
    x = x - x.mean(axis=0)  # scikit-learn centres the data before computing distances
    norms = (x * x).sum(axis=1)
    centres = _kmeans_plusplus(x, k, norms, random_state)
    tol = float(np.var(x, axis=0).mean()) * 1e-4
    labels_old = np.full(x.shape[0], -1)
    strict = False
    for _ in range(300):
        labels, new = _lloyd_step(x, centres)
        shift = float(((new - centres) ** 2).sum())
        centres = new
        if np.array_equal(labels, labels_old):
            strict = True
            break
        if shift <= tol:
            break
        labels_old = labels
    if not strict:
        labels = _nearest_centre(x, centres)
    return labels


def _kmeans_plusplus(
    x: np.ndarray, k: int, norms: np.ndarray, random_state: np.random.RandomState
) -> np.ndarray:
    """Greedy k-means++ seeds (scikit-learn's ``_kmeans_plusplus``, unit sample weights):
    the first centre uniform, each next one the best of ``2 + int(log k)`` candidates
    drawn proportionally to the squared distance to the nearest centre so far."""
    n = x.shape[0]
    trials = 2 + int(np.log(k))
    centres = np.empty((k, x.shape[1]))
    first = random_state.choice(n, p=np.ones(n) / n)
    centres[0] = x[first]
    closest = _squared_distances(x[first][None, :], x, norms)[0]
    potential = float(closest.sum())
    for c in range(1, k):
        draws = random_state.uniform(size=trials) * potential
        candidates = np.minimum(np.searchsorted(np.cumsum(closest), draws), n - 1)
        distances = np.minimum(closest, _squared_distances(x[candidates], x, norms))
        potentials = distances.sum(axis=1)
        best = int(np.argmin(potentials))
        potential, closest = float(potentials[best]), distances[best]
        centres[c] = x[candidates[best]]
    return centres


def _squared_distances(a: np.ndarray, x: np.ndarray, norms: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances of the rows of ``a`` to the rows of ``x``, as
    ``||a||^2 - 2 a.x + ||x||^2`` clipped at 0 (scikit-learn's ``euclidean_distances``)."""
    distances = -2.0 * (a @ x.T)
    distances += (a * a).sum(axis=1)[:, None]
    distances += norms[None, :]
    return np.maximum(distances, 0.0)


def _nearest_centre(x: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Each row's nearest centre (the first on a tie), ranking ``||c||^2 - 2 x.c``."""
    labels: np.ndarray = ((centres * centres).sum(axis=1)[None, :] - 2.0 * (x @ centres.T)).argmin(
        axis=1
    )
    return labels


def _lloyd_step(x: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One Lloyd iteration: labels by the current centres and the new centres (cluster
    means). A cluster left empty takes the point farthest from its centre, which leaves
    its own cluster's sum (scikit-learn's ``_relocate_empty_clusters_dense``); the point's
    label is not changed."""
    k = centres.shape[0]
    labels = _nearest_centre(x, centres)
    # per-cluster sums in row order, as scikit-learn accumulates them
    sums = np.stack([np.bincount(labels, weights=column, minlength=k) for column in x.T], axis=1)
    counts = np.bincount(labels, minlength=k).astype(float)
    empty = np.flatnonzero(counts == 0)
    if empty.size:
        distances = ((x - centres[labels]) ** 2).sum(axis=1)
        far = np.argpartition(distances, -empty.size)[: -empty.size - 1 : -1]
        for cluster, point in zip(empty.tolist(), far.tolist(), strict=True):
            sums[labels[point]] -= x[point]
            sums[cluster] = x[point]
            counts[cluster] = 1.0
            counts[labels[point]] -= 1.0
    return labels, sums / counts[:, None]


def _m_step(x: np.ndarray, resp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Component masses (unnormalised weights), means and regularised covariances from
    responsibilities ``resp`` (n, k), as scikit-learn's ``_estimate_gaussian_parameters``."""
    nk = resp.sum(axis=0) + 10 * np.finfo(resp.dtype).eps
    means = resp.T @ x / nk[:, None]
    diff = x[None, :, :] - means[:, None, :]  # (k, n, d)
    covariances = (resp.T[:, :, None] * diff).transpose(0, 2, 1) @ diff / nk[:, None, None]
    d = x.shape[1]
    covariances[:, np.arange(d), np.arange(d)] += REG_COVAR
    return nk, means, covariances


def _precision_factors(covariances: np.ndarray) -> np.ndarray:
    """Per component the upper-triangular ``P`` with ``P P^T`` the precision matrix: the
    transposed inverse of the covariance's lower Cholesky factor."""
    lower = np.linalg.cholesky(covariances)
    factors: np.ndarray = np.linalg.inv(lower).transpose(0, 2, 1)
    return factors


def _e_step(
    x: np.ndarray, weights: np.ndarray, means: np.ndarray, factors: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per row the log density of the mixture (n,) and the log responsibilities (n, k)."""
    d = x.shape[1]
    y = x @ factors - (means[:, None, :] @ factors)  # (k, n, d)
    log_det = np.log(np.diagonal(factors, axis1=1, axis2=2)).sum(axis=1)
    squares = np.einsum("kne,kne->kn", y, y)
    log_prob = -0.5 * (d * math.log(2 * math.pi) + squares) + log_det[:, None]
    weighted = log_prob.T + np.log(weights)  # (n, k)
    top = weighted.max(axis=1, keepdims=True)
    log_norm = (top + np.log(np.exp(weighted - top).sum(axis=1, keepdims=True)))[:, 0]
    return log_norm, weighted - log_norm[:, None]
