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

What differs is the arithmetic's layout and the imports. scikit-learn loops over components
with SciPy's Cholesky and triangular solves, plus input checks, at every EM iteration of
every mixture, and importing ``sklearn.mixture`` costs about 1 s of CPU at a teacher's first
refit. Here the k-means and EM iterations of all the candidate mixtures of a refit run
together, as one stack of components (each mixture leaving the stack at its own
convergence, so each is its lone fit), in a handful of NumPy calls per iteration, and
scikit-learn is not imported. The fitted parameters agree with scikit-learn's to rounding
(about 1e-15; tested). A refit round (k = 2..10, 250 points) takes 22-31 ms of CPU
against scikit-learn's 99-123 ms; ``benchmarks/RESULTS.md``, "ALP-GMM's refits without
scikit-learn".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

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
        return float(mean_log_likelihoods(x, [self])[0])

    def aic(self, x: np.ndarray) -> float:
        """Akaike's criterion, ``-2 log L + 2 p``."""
        return information_criterion(self, x, self.mean_log_likelihood(x), "aic")

    def bic(self, x: np.ndarray) -> float:
        """Schwarz's criterion, ``-2 log L + p log n``."""
        return information_criterion(self, x, self.mean_log_likelihood(x), "bic")


def information_criterion(
    mixture: Mixture, x: np.ndarray, mean_log_likelihood: float, criterion: str
) -> float:
    """AIC (``-2 log L + 2 p``) or BIC (``-2 log L + p log n``) of ``mixture`` on ``x``,
    given its mean log-likelihood there."""
    n = x.shape[0]
    penalty = 2.0 if criterion == "aic" else math.log(n)
    return -2.0 * mean_log_likelihood * n + penalty * mixture.n_parameters()


def fit_mixture(x: np.ndarray, k: int, seed: int, n_init: int = 1) -> Mixture:
    """The mixture of ``k`` full-covariance components that scikit-learn's
    ``GaussianMixture(k, covariance_type="full", n_init=n_init, random_state=seed).fit(x)``
    fits. Raises ``numpy.linalg.LinAlgError`` where a component's covariance is not
    positive definite (scikit-learn raises ``ValueError`` there)."""
    return fit_mixtures(x, [k], seed, n_init)[0]


def fit_mixtures(x: np.ndarray, ks: list[int], seed: int, n_init: int = 1) -> list[Mixture]:
    """:func:`fit_mixture` for each number of components in ``ks``, each from its own
    ``RandomState(seed)`` as scikit-learn would, computed together: the EM iterations of
    all the mixtures run as one set of stacked components (each numpy call serves them all),
    and a mixture stops, keeping its parameters, at its own convergence, so each is what
    it would be fitted alone."""
    states = [np.random.RandomState(seed) for _ in ks]
    best: list[Mixture | None] = [None] * len(ks)
    best_bound = [-np.inf] * len(ks)
    for _ in range(n_init):
        starts = [
            _one_hot(labels, k)
            for labels, k in zip(kmeans_labels_many(x, ks, states), ks, strict=True)
        ]
        for m, (mixture, bound) in enumerate(_em(x, starts)):
            if bound > best_bound[m] or best[m] is None:
                best[m], best_bound[m] = mixture, bound
    return [mixture for mixture in best if mixture is not None]


def _one_hot(labels: np.ndarray, k: int) -> np.ndarray:
    """One-hot responsibilities (n, k) on k-means labels: scikit-learn's start."""
    resp = np.zeros((labels.size, k))
    resp[np.arange(labels.size), labels] = 1.0
    return resp


def mean_log_likelihoods(x: np.ndarray, mixtures: list[Mixture]) -> np.ndarray:
    """Each mixture's mean log density over the rows of ``x``, in one stacked E-step."""
    weights = np.concatenate([m.weights for m in mixtures])
    means = np.concatenate([m.means for m in mixtures])
    factors = _precision_factors(np.concatenate([m.covariances for m in mixtures]))
    log_norm, _ = _e_step(x, weights, means, factors, _segments([m.n_components for m in mixtures]))
    result: np.ndarray = log_norm.mean(axis=0)
    return result


def _segments(sizes: list[int]) -> np.ndarray:
    """Index of the first component of each mixture in the stacked arrays."""
    return np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int)


def _em(x: np.ndarray, starts: list[np.ndarray]) -> list[tuple[Mixture, float]]:
    """EM from each mixture's starting responsibilities (n, k_m) until its mean
    log-likelihood changes by less than ``TOL`` (at most ``MAX_ITER`` iterations): per
    mixture, the fitted mixture and its last lower bound. Mixtures that have converged
    leave the stack; the others go on exactly as they would alone."""
    n = x.shape[0]
    sizes = [resp.shape[1] for resp in starts]
    nk, means, covariances = _m_step(x, np.concatenate(starts, axis=1))
    weights = nk / n
    active = list(range(len(starts)))
    bounds = np.full(len(starts), -np.inf)
    done: dict[int, tuple[Mixture, float]] = {}
    for _ in range(MAX_ITER):
        segments = _segments([sizes[m] for m in active])
        factors = _precision_factors(covariances)
        log_norm, log_resp = _e_step(x, weights, means, factors, segments)
        nk, means, covariances = _m_step(x, np.exp(log_resp))
        mass = np.add.reduceat(nk, segments)
        weights = nk / np.repeat(mass, [sizes[m] for m in active])
        previous, bounds = bounds, log_norm.mean(axis=0)
        converged = np.abs(bounds - previous) < TOL
        keep = []
        for j, m in enumerate(active):
            if converged[j]:
                part = slice(segments[j], segments[j] + sizes[m])
                done[m] = (
                    Mixture(weights[part], means[part], covariances[part]),
                    float(bounds[j]),
                )
            else:
                keep.append(j)
        if len(keep) < len(active):
            rows = np.concatenate(
                [np.arange(segments[j], segments[j] + sizes[active[j]]) for j in keep] or [[]]
            ).astype(int)
            weights, means, covariances = weights[rows], means[rows], covariances[rows]
            bounds = bounds[keep]
            active = [active[j] for j in keep]
        if not active:
            break
    segments = _segments([sizes[m] for m in active])
    for j, m in enumerate(active):  # MAX_ITER reached
        part = slice(segments[j], segments[j] + sizes[m])
        done[m] = (Mixture(weights[part], means[part], covariances[part]), float(bounds[j]))
    return [done[m] for m in range(len(starts))]


def kmeans_labels(x: np.ndarray, k: int, random_state: np.random.RandomState) -> np.ndarray:
    """The labels ``KMeans(n_clusters=k, n_init=1, random_state=random_state).fit(x)``
    gives: k-means++ seeding, then Lloyd's algorithm (scikit-learn's ``max_iter`` 300 and
    ``tol`` 1e-4)."""
    return kmeans_labels_many(x, [k], [random_state])[0]


def kmeans_labels_many(
    x: np.ndarray, ks: list[int], random_states: list[np.random.RandomState]
) -> list[np.ndarray]:
    """:func:`kmeans_labels` for each ``k`` of ``ks`` with its own random state, the Lloyd
    iterations of all of them computed together (centres padded to the largest ``k``; a
    clustering that has converged keeps its labels and centres while the others go on)."""
    x = x - x.mean(axis=0)  # scikit-learn centres the data before computing distances
    norms = (x * x).sum(axis=1)
    n, models, widest = x.shape[0], len(ks), max(ks)
    centres = np.zeros((models, widest, x.shape[1]))
    for m, (k, state) in enumerate(zip(ks, random_states, strict=True)):
        centres[m, :k] = _kmeans_plusplus(x, k, norms, state)
    padding = np.arange(widest)[None, :] >= np.asarray(ks)[:, None]  # (models, widest)
    tol = float(np.var(x, axis=0).mean()) * 1e-4
    labels_old = np.full((models, n), -1)
    result: dict[int, np.ndarray] = {}
    active = np.arange(models)
    for _ in range(300):
        labels, new = _lloyd_steps(x, centres[active], padding[active])
        shift = ((new - centres[active]) ** 2).sum(axis=(1, 2))
        centres[active] = new
        strict = (labels == labels_old[active]).all(axis=1)
        stop = strict | (shift <= tol)
        for j in np.flatnonzero(stop).tolist():
            m = int(active[j])
            result[m] = (
                labels[j] if strict[j] else _nearest_centres(x, centres[[m]], padding[[m]])[0]
            )
        labels_old[active] = labels
        active = active[~stop]
        if not active.size:
            break
    if active.size:  # 300 iterations without converging
        final = _nearest_centres(x, centres[active], padding[active])
        for j, m in enumerate(active.tolist()):
            result[m] = final[j]
    return [result[m] for m in range(models)]


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


def _nearest_centres(x: np.ndarray, centres: np.ndarray, padding: np.ndarray) -> np.ndarray:
    """Per clustering (centres padded to a common width, ``padding`` marking the unused
    slots), each row's nearest centre (the first on a tie), ranking ``||c||^2 - 2 x.c``."""
    distances = (centres * centres).sum(axis=2)[:, None, :] - 2.0 * (x @ centres.transpose(0, 2, 1))
    distances[np.broadcast_to(padding[:, None, :], distances.shape)] = np.inf
    labels: np.ndarray = distances.argmin(axis=2)
    return labels


def _lloyd_steps(
    x: np.ndarray, centres: np.ndarray, padding: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """One Lloyd iteration of each clustering: labels by the current centres and the new
    centres (cluster means). A cluster left empty takes the point farthest from its centre,
    which leaves its own cluster's sum (scikit-learn's ``_relocate_empty_clusters_dense``);
    the point's label is not changed."""
    models, widest, _ = centres.shape
    labels = _nearest_centres(x, centres, padding)
    slots = (labels + widest * np.arange(models)[:, None]).reshape(-1)
    size = models * widest
    # per-cluster sums in row order, as scikit-learn accumulates them
    sums = np.stack(
        [np.bincount(slots, weights=np.tile(column, models), minlength=size) for column in x.T],
        axis=1,
    ).reshape(models, widest, -1)
    counts = np.bincount(slots, minlength=size).astype(float).reshape(models, widest)
    for m in np.flatnonzero(((counts == 0) & ~padding).any(axis=1)).tolist():
        empty = np.flatnonzero((counts[m] == 0) & ~padding[m])
        own = labels[m]
        distances = ((x - centres[m, own]) ** 2).sum(axis=1)
        far = np.argpartition(distances, -empty.size)[: -empty.size - 1 : -1]
        for cluster, point in zip(empty.tolist(), far.tolist(), strict=True):
            sums[m, own[point]] -= x[point]
            sums[m, cluster] = x[point]
            counts[m, cluster] = 1.0
            counts[m, own[point]] -= 1.0
    counts[padding] = 1.0  # unused slots keep their (zero) centres
    return labels, np.where(padding[:, :, None], centres, sums / counts[:, :, None])


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
    x: np.ndarray, weights: np.ndarray, means: np.ndarray, factors: np.ndarray, segments: Any
) -> tuple[np.ndarray, np.ndarray]:
    """For stacked mixtures whose components start at ``segments``: per row and mixture
    the log density (n, mixtures), and per row the log responsibilities of every
    component within its mixture (n, components)."""
    d = x.shape[1]
    y = x @ factors - (means[:, None, :] @ factors)  # (k, n, d)
    log_det = np.log(np.diagonal(factors, axis1=1, axis2=2)).sum(axis=1)
    squares = np.einsum("kne,kne->kn", y, y)
    log_prob = -0.5 * (d * math.log(2 * math.pi) + squares) + log_det[:, None]
    weighted = log_prob.T + np.log(weights)  # (n, k)
    sizes = np.diff(np.append(segments, weights.size))
    top = np.maximum.reduceat(weighted, segments, axis=1)
    spread = np.repeat(top, sizes, axis=1)
    log_norm = top + np.log(np.add.reduceat(np.exp(weighted - spread), segments, axis=1))
    return log_norm, weighted - np.repeat(log_norm, sizes, axis=1)
