"""The NumPy Gaussian-mixture EM of ALP-GMM and Covar-GMM against scikit-learn, the
reference it reproduces (``KMeans`` labels, ``GaussianMixture`` fits, AIC and BIC)."""

import warnings

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

from mentor.teachers.taskspace._mixture import (
    fit_mixture,
    fit_mixtures,
    kmeans_labels,
    kmeans_labels_many,
    mean_log_likelihoods,
)


def alp_like(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    """Tasks uniform in the unit cube and an ALP column that is 0 outside a band, as
    ALP-GMM's fitted rows are."""
    tasks = rng.uniform(0, 1, (n, dim))
    alp = np.abs(rng.normal(0, 0.2, n)) * (tasks[:, 0] < rng.uniform(0.2, 0.8))
    return np.c_[tasks, alp]


def sklearn_kmeans(x: np.ndarray, k: int, seed: int) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # duplicate points
        return KMeans(k, n_init=1, random_state=np.random.RandomState(seed)).fit(x).labels_


def sklearn_mixture(x: np.ndarray, k: int, seed: int, n_init: int = 1) -> GaussianMixture:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return GaussianMixture(k, covariance_type="full", random_state=seed, n_init=n_init).fit(x)


@pytest.mark.parametrize("seed", range(8))
def test_kmeans_labels_are_sklearns(seed):
    rng = np.random.default_rng(seed)
    x = alp_like(rng, int(rng.integers(30, 260)), 1 + seed % 3)
    for k in (2, 3, 6, 10):
        assert np.array_equal(
            kmeans_labels(x, k, np.random.RandomState(seed)), sklearn_kmeans(x, k, seed)
        )


def test_kmeans_empty_clusters_are_relocated_as_sklearn_does():
    # 3 distinct points and 5 clusters: k-means++ must seed duplicates, so Lloyd's first
    # step leaves clusters empty and moves the farthest points into them
    x = np.repeat(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), [10, 5, 3], axis=0)
    for seed in range(5):
        labels = kmeans_labels(x, 5, np.random.RandomState(seed))
        assert np.array_equal(labels, sklearn_kmeans(x, 5, seed))
        # the same clusterings computed together, each with its own random state
        ks = [2, 3, 4, 5]
        together = kmeans_labels_many(x, ks, [np.random.RandomState(seed) for _ in ks])
        for k, labels in zip(ks, together, strict=True):
            assert np.array_equal(labels, sklearn_kmeans(x, k, seed))


def test_kmeans_two_far_groups_by_hand():
    # two tight groups far apart: whatever the seeds, k = 2 separates them
    x = np.array([[0.0, 0.0], [0.1, 0.0], [0.0, 0.1], [5.0, 5.0], [5.1, 5.0]])
    labels = kmeans_labels(x, 2, np.random.RandomState(0))
    assert len(set(labels[:3])) == 1 and len(set(labels[3:])) == 1
    assert labels[0] != labels[3]


@pytest.mark.parametrize("seed", range(6))
def test_fit_mixture_is_sklearns_fit(seed):
    rng = np.random.default_rng(100 + seed)
    x = alp_like(rng, 250, 1 + seed % 3)
    for k in (2, 5, 10):
        ours, theirs = fit_mixture(x, k, seed), sklearn_mixture(x, k, seed)
        assert ours.weights == pytest.approx(theirs.weights_, abs=1e-9)
        assert ours.means == pytest.approx(theirs.means_, abs=1e-9)
        assert ours.covariances == pytest.approx(theirs.covariances_, abs=1e-9)
        assert ours.aic(x) == pytest.approx(theirs.aic(x), rel=1e-10)
        assert ours.bic(x) == pytest.approx(theirs.bic(x), rel=1e-10)


@pytest.mark.parametrize("seed", range(3))
def test_mixtures_fitted_together_are_each_sklearns_fit(seed):
    # k = 2..10 stacked in one EM: each stops at its own convergence, so each is the fit
    # scikit-learn makes of it alone
    rng = np.random.default_rng(200 + seed)
    x = alp_like(rng, 250, 1 + seed)
    ks = list(range(2, 11))
    together = fit_mixtures(x, ks, seed)
    likelihoods = mean_log_likelihoods(x, together)
    for k, ours, likelihood in zip(ks, together, likelihoods, strict=True):
        theirs = sklearn_mixture(x, k, seed)
        assert ours.n_components == k
        assert ours.means == pytest.approx(theirs.means_, abs=1e-9)
        assert ours.covariances == pytest.approx(theirs.covariances_, abs=1e-9)
        assert ours.weights == pytest.approx(theirs.weights_, abs=1e-9)
        assert likelihood == pytest.approx(theirs.score(x), rel=1e-10)


def test_fit_mixture_keeps_the_best_of_several_starts():
    # n_init runs from successive k-means seeds of one RandomState; the kept fit is the one
    # of highest likelihood (when two starts tie, either order of the same components)
    rng = np.random.default_rng(7)
    x = alp_like(rng, 250, 2)
    ours, theirs = fit_mixture(x, 4, 3, n_init=3), sklearn_mixture(x, 4, 3, n_init=3)
    order = np.lexsort(ours.means.T)
    theirs_order = np.lexsort(theirs.means_.T)
    assert ours.means[order] == pytest.approx(theirs.means_[theirs_order], abs=1e-9)
    assert ours.mean_log_likelihood(x) == pytest.approx(theirs.score(x), rel=1e-10)


def test_parameter_count_and_criteria_by_hand():
    # one component over two points in 1-D: the mean is their average, the variance their
    # spread plus reg_covar, and p = 1 variance + 1 mean + 0 weights = 2
    x = np.array([[0.0], [2.0]])
    mixture = fit_mixture(x, 1, 0)
    variance = 1.0 + 1e-6
    assert mixture.means[0, 0] == pytest.approx(1.0)
    assert mixture.covariances[0, 0, 0] == pytest.approx(variance)
    assert mixture.n_parameters() == 2
    log_density = -0.5 * np.log(2 * np.pi * variance) - 0.5 / variance  # at 0 and at 2
    assert mixture.mean_log_likelihood(x) == pytest.approx(log_density)
    assert mixture.aic(x) == pytest.approx(-2 * 2 * log_density + 2 * 2)
    assert mixture.bic(x) == pytest.approx(-2 * 2 * log_density + 2 * np.log(2))
