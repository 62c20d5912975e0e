"""Covar-GMM: learning progress as the covariance of time and reward inside the components
of a Gaussian mixture.

Moulin-Frier, Nguyen and Oudeyer, "Self-organization of early vocal development in infants
and machines: the role of intrinsic motivation", Frontiers in Psychology 2014 (the IGMM
idea), as adapted by Portelas, Colas, Hofmann and Oudeyer, "Teacher algorithms for
curriculum learning of Deep RL in continuously parameterized environments", CoRL 2019
(arXiv:1910.07224; reference code: github.com/flowersteam/teachDeepRL,
``teachDRL/teachers/algos/covar_gmm.py``, read, not copied).

Each episode is stored as a point ``(x, tau, r)``: the task parameters ``x``, a time stamp
``tau`` relative to the current window (``tau = (i mod fit_every) / fit_every`` for the
``i``-th episode, 0-based, so it runs 0, 1/250, ..., 249/250 and starts again) and the
reward ``r``. Every ``fit_every`` episodes, once ``bootstrap`` have passed, Gaussian
mixtures with ``k_min .. k_max`` full-covariance components are fitted to the last
``fit_every`` points and the one with the smallest AIC is kept. The learning progress of a
component is the covariance of time and reward in it, ``LP_j = max(0, Sigma_j[tau, r])``
(``|Sigma_j[tau, r]|`` with ``absolute_lp=True``): a component where reward grows with time
is a region where the learner is improving. A task is drawn by picking a component with
probability proportional to its LP (uniformly when every LP is 0), sampling a point from it,
dropping the time and reward coordinates and clipping to the box; with probability
``random_fraction``, and always before the first fit, the task is uniform in the box.

Defaults are the reference's: ``fit_every`` 250 (``fit_rate``), ``bootstrap`` =
``fit_every``, ``k`` 2..10, AIC, one EM initialisation, ``random_fraction`` 0.2,
``absolute_lp=False``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from mentor._checks import check_flag, check_unit
from mentor.domain import Box
from mentor.teachers.taskspace._gmm import (
    check_fit_settings,
    choice_cdf,
    draw_normal,
    fit_best,
    load_mixture,
    normal_factors,
    pick,
)
from mentor.teachers.taskspace.base import TaskTeacher


class CovarGMM(TaskTeacher):
    """Covar-GMM (Portelas et al. 2019): sample tasks from the mixture components whose
    time-reward covariance is positive.

    Parameters
    ----------
    space
        The task space, a :class:`~mentor.domain.Box` or its ``state_dict()``.
    fit_every
        Episodes between two fits, and the number of episodes each fit uses (>= k_max);
        also the period of the time stamp. Default 250.
    bootstrap
        Episodes of uniform random tasks before the first fit (>= ``fit_every``); default
        ``fit_every``.
    k_min, k_max
        Range of the number of Gaussians tried at each fit. Defaults 2 and 10.
    criterion
        ``"aic"`` (default) or ``"bic"``.
    random_fraction
        Probability of a uniform random task once fitted. Default 0.2.
    absolute_lp
        Use ``|cov(tau, r)|`` instead of ``max(0, cov(tau, r))``. Default False.
    n_init
        EM initialisations per fit. Default 1.
    seed
        Seed of the teacher's random draws and of the mixtures' initialisations.
    """

    name = "covar_gmm"

    def __init__(
        self,
        space: Box | Mapping[str, Any],
        fit_every: int = 250,
        bootstrap: int | None = None,
        k_min: int = 2,
        k_max: int = 10,
        criterion: str = "aic",
        random_fraction: float = 0.2,
        absolute_lp: bool = False,
        n_init: int = 1,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(space, seed)
        (
            self.fit_every,
            self.k_min,
            self.k_max,
            self.n_init,
            self.bootstrap,
            criterion,
        ) = check_fit_settings("Covar-GMM", fit_every, k_min, k_max, n_init, bootstrap, criterion)
        absolute_lp = check_flag("absolute_lp", absolute_lp)
        self.criterion = criterion
        self.random_fraction = check_unit("random_fraction", random_fraction)
        self.absolute_lp = absolute_lp
        self.episodes_ = 0
        self.recent_: list[list[float]] = []
        self.gmm_: dict[str, Any] | None = None
        self.fit_: dict[str, Any] | None = None
        self._arrays: tuple[np.ndarray, np.ndarray] = (np.empty(0), np.empty(0))
        self._arrays_of: dict[str, Any] | None = None

    def get_params(self) -> dict[str, Any]:
        return {
            **super().get_params(),
            "fit_every": self.fit_every,
            "bootstrap": self.bootstrap,
            "k_min": self.k_min,
            "k_max": self.k_max,
            "criterion": self.criterion,
            "random_fraction": self.random_fraction,
            "absolute_lp": self.absolute_lp,
            "n_init": self.n_init,
        }

    def learning_progress(self) -> np.ndarray:
        """LP of each component of the current mixture (empty before the first fit):
        ``max(0, cov(tau, r))``, or ``|cov(tau, r)|`` with ``absolute_lp``."""
        if self.gmm_ is None:
            return np.empty(0)
        covariance = np.asarray(self.gmm_["covariances"], dtype=float)[:, -2, -1]
        return np.abs(covariance) if self.absolute_lp else np.maximum(covariance, 0.0)

    def sample(self, n: int = 1) -> np.ndarray:
        """``n`` tasks (uniform before the first fit or with probability
        ``random_fraction``, else from a component drawn in proportion to its LP)."""
        n = self._check_n(n)
        fitted = self.gmm_ is not None and self.episodes_ >= self.bootstrap
        lp = self.learning_progress() if fitted else None
        cdf = None if lp is None else choice_cdf(lp)
        tasks = np.empty((n, self.dim))
        for i in range(n):
            if lp is None or self.rng.random() < self.random_fraction:
                tasks[i] = self.space.sample(self.rng)[0]
            else:
                j = pick(cdf, lp.size, self.rng)
                means, factors = self._draw_arrays()
                tasks[i] = self.space.clip(draw_normal(means[j], factors[j], self.rng)[:-2])
        return tasks

    def _draw_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The fitted mixture's means and draw factors (:func:`normal_factors`), computed
        once per fit: each draw is the one ``rng.multivariate_normal`` makes, without
        decomposing the covariance again."""
        gmm = self.gmm_
        if gmm is None:
            raise ValueError("no mixture fitted yet")
        if self._arrays_of is not gmm:
            means = np.asarray(gmm["means"], dtype=float)
            covariances = np.asarray(gmm["covariances"], dtype=float)
            self._arrays = (means, normal_factors(covariances))
            self._arrays_of = gmm
        return self._arrays

    def observe(self, tasks: Any, outcomes: Any) -> None:
        """Store each ``(x, tau, r)``; refit every ``fit_every`` episodes."""
        x, rewards = self._check_batch(tasks, outcomes)
        for task, reward in zip(x.tolist(), rewards.tolist(), strict=True):
            tau = (self.episodes_ % self.fit_every) / self.fit_every
            self.recent_.append([*task, tau, reward])
            del self.recent_[: -self.fit_every]
            self.episodes_ += 1
            if self.episodes_ >= self.bootstrap and self.episodes_ % self.fit_every == 0:
                seed = int(self.rng.integers(2**31 - 1))
                self.gmm_, self.fit_ = fit_best(
                    np.array(self.recent_),
                    self.k_min,
                    self.k_max,
                    self.criterion,
                    self.n_init,
                    seed,
                )

    def _get_state(self) -> dict[str, Any]:
        return {
            "episodes": self.episodes_,
            "recent": self.recent_,
            "gmm": self.gmm_,
            "fit": self.fit_,
        }

    def _set_state(self, state: Mapping[str, Any]) -> None:
        recent = [[float(v) for v in row] for row in state["recent"]]
        if any(len(row) != self.dim + 2 for row in recent):
            raise ValueError(f"recent rows must have {self.dim + 2} values")
        self.recent_ = recent
        self.episodes_ = int(state["episodes"])
        self.gmm_ = load_mixture(state["gmm"])
        self.fit_ = None if state.get("fit") is None else dict(state["fit"])
