"""The Gaussian-mixture teachers draw from precomputed factors: the same points as NumPy's
``multivariate_normal`` (issue 14: the teacher's time per episode)."""

from __future__ import annotations

import numpy as np

import mentor.teachers.taskspace.alp_gmm as alp_gmm_module
from mentor.domain import Box
from mentor.teachers.taskspace import ALPGMM, CovarGMM
from mentor.teachers.taskspace._gmm import choice_cdf, draw_normal, normal_factors, pick


def test_factor_draws_are_numpys_multivariate_normal_bit_for_bit():
    make = np.random.default_rng(7)
    for trial in range(1000):
        d = int(make.integers(1, 6))
        a = make.standard_normal((d, d))
        covariance = a @ a.T + 1e-6 * np.eye(d)
        mean = make.standard_normal(d)
        factor = normal_factors(covariance[None])[0]
        ours, numpys = np.random.default_rng(trial), np.random.default_rng(trial)
        for _ in range(4):
            assert np.array_equal(
                draw_normal(mean, factor, ours), numpys.multivariate_normal(mean, covariance)
            )


def _numpy_arrays(self):
    """The mixture as ALP-GMM read it before the factors: means, covariances, ALPs."""
    means = np.asarray(self.gmm["means"], dtype=float)
    covariances = np.asarray(self.gmm["covariances"], dtype=float)
    return means, covariances, np.clip(means[:, -1], 0.0, None)


def _numpy_sample_gmm(arrays, rng):
    """ALP-GMM's draw as it was written before the factors and the precomputed cumulative
    probabilities: ``rng.choice`` of a component, then ``rng.multivariate_normal``."""
    means, covariances, alp = arrays
    total = alp.sum()
    component = rng.choice(alp.size, p=alp / total) if total > 0 else rng.integers(alp.size)
    return rng.multivariate_normal(means[component], covariances[component])[:-1]


def _run(teacher, episodes):
    rng = np.random.default_rng(3)
    drawn = []
    for _ in range(episodes):
        task = teacher.sample(1)
        drawn.append(task[0].copy())
        teacher.observe(task, [float(rng.random() < task[0].mean())])
    return np.array(drawn)


def test_alp_gmm_draws_the_tasks_multivariate_normal_draws(monkeypatch):
    box = Box([0.0, 0.0], [1.0, 1.0])
    ours = _run(ALPGMM(box, fit_every=50, seed=0), 400)
    with monkeypatch.context() as patch:
        patch.setattr(alp_gmm_module._History, "mixture_arrays", _numpy_arrays)
        patch.setattr(alp_gmm_module, "_sample_gmm", _numpy_sample_gmm)
        numpys = _run(ALPGMM(box, fit_every=50, seed=0), 400)
    assert np.array_equal(ours, numpys)  # 7 refits, 400 tasks: every one the same


def test_covar_gmm_draws_follow_the_mixture_after_a_refit():
    box = Box([0.0], [1.0])
    teacher = CovarGMM(box, fit_every=40, random_fraction=0.0, seed=1)
    _run(teacher, 200)
    assert teacher.gmm_ is not None
    means, factors = teacher._draw_arrays()
    covariances = np.asarray(teacher.gmm_["covariances"])
    # F F^T = u s u^T = C (C symmetric)
    assert np.allclose(np.einsum("kij,klj->kil", factors, factors), covariances, atol=1e-12)
    first = teacher._draw_arrays()
    assert first[0] is means  # computed once per fit
    _run(teacher, 40)  # one more refit
    assert teacher._draw_arrays()[0] is not means


def test_pick_is_generator_choice_bit_for_bit():
    make = np.random.default_rng(11)
    for trial in range(2000):
        n = int(make.integers(1, 12))
        scores = np.clip(make.standard_normal(n), 0.0, None)
        if trial % 7 == 0:
            scores[:] = 0.0  # every score 0: uniform
        cdf = choice_cdf(scores)
        ours, numpys = np.random.default_rng(trial), np.random.default_rng(trial)
        for _ in range(5):
            expected = (
                numpys.choice(n, p=scores / scores.sum())
                if scores.sum() > 0
                else numpys.integers(n)
            )
            assert pick(cdf, n, ours) == expected
        assert ours.random() == numpys.random()  # the same numbers consumed
