"""ALP-GMM: absolute learning progress over a continuous task space, modelled by a
Gaussian mixture.

Portelas, Colas, Hofmann and Oudeyer, "Teacher algorithms for curriculum learning of Deep
RL in continuously parameterized environments", CoRL 2019 (arXiv:1910.07224; code:
github.com/flowersteam/teachDeepRL, ``teachDRL/teachers/algos/alp_gmm.py``).

Tasks are points of a :class:`~mentor.domain.Box` of task parameters (for example the
height and spacing of obstacles). For each episode the teacher records the task ``x`` and
the learner's reward ``r`` and computes its absolute
learning progress,

    ALP(x) = |r - r(x_nn)|,

where ``x_nn`` is the nearest earlier task (Euclidean distance in
parameter space, via :class:`scipy.spatial.cKDTree`); the first 6 episodes get
ALP 0, as in the authors' code (their database needs more than 5 points). Every
``fit_every`` episodes, once ``bootstrap`` episodes have passed, Gaussian mixtures with
``k_min .. k_max`` full-covariance components are fitted (the fits of scikit-learn's
``GaussianMixture``, one EM run each, computed by :mod:`mentor.teachers.taskspace._mixture`)
to the last ``fit_every`` points ``(x, ALP(x))`` and the one with the smallest AIC (or BIC) is
kept. A new task is then drawn by picking a component
with probability proportional to its mean ALP (uniformly if all are 0), sampling a point
from it, dropping the ALP coordinate and clipping to the box. With probability
``random_fraction``, and always before the first fit, the task is uniform in the box
instead.

Defaults are the authors': ``fit_every`` 250 (their ``fit_rate``), ``bootstrap`` =
``fit_every``, ``k_min`` 2, ``k_max`` 10 (``potential_ks = 2..10``), AIC, one EM
initialisation, ``random_fraction`` 0.2, every earlier task kept for nearest neighbours
(``history=None``).

The task-space contract (:mod:`mentor.teachers.taskspace.base`)
----------------------------------------------------------------
``sample(n)`` returns ``n`` tasks (an ``(n, dim)`` array inside the box); ``observe(tasks,
rewards)`` adds each episode, in order, to the history. A benchmark loop reads::

    tasks = teacher.sample(8)
    rewards = run_episodes(tasks)                      # one reward per task
    teacher.observe(tasks, rewards)

Restoring a saved teacher rebuilds the nearest-neighbour tree from the saved tasks and the
mixture from its saved weights, means and covariances, so it draws the same tasks as a
teacher that never stopped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from mentor._checks import check_count, check_unit
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

#: Episodes before ALP is computed (the authors' ``len(database) > 5``).
ALP_WARMUP = 6
#: New tasks searched by brute force before they are merged into the k-d tree.
TREE_BUFFER = 500


class ALPGMM(TaskTeacher):
    """ALP-GMM (Portelas et al. 2019): sample tasks of a box from a Gaussian mixture fitted
    to (task parameters, absolute learning progress).

    Parameters
    ----------
    space
        The task space, a :class:`~mentor.domain.Box` or its ``state_dict()``.
    fit_every
        Episodes between two fits of the mixture; each fit uses the last ``fit_every``
        episodes. At least ``k_max``; default 250.
    bootstrap
        Episodes of uniform random tasks before the first fit, at least ``fit_every``;
        default ``fit_every``.
    k_min, k_max
        Range of the number of Gaussians tried at each fit. Defaults 2 and 10.
    criterion
        ``"aic"`` (default) or ``"bic"``: which fit to keep.
    random_fraction
        Probability of a uniform random task once the mixture is fitted, in [0, 1].
        Default 0.2.
    history
        Earlier tasks kept for nearest neighbours (``None``: all, the default).
    n_init
        EM initialisations per fit. Default 1.
    seed
        Seed of the teacher's random choices (tasks and the mixtures' initialisations).
    """

    name = "alp_gmm"

    def __init__(
        self,
        space: Box | Mapping[str, Any],
        fit_every: int = 250,
        bootstrap: int | None = None,
        k_min: int = 2,
        k_max: int = 10,
        criterion: str = "aic",
        random_fraction: float = 0.2,
        history: int | None = None,
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
        ) = check_fit_settings("ALP-GMM", fit_every, k_min, k_max, n_init, bootstrap, criterion)
        self.criterion = criterion
        self.random_fraction = check_unit("random_fraction", random_fraction)
        self.history = None if history is None else check_count("history", history, 1)
        self.tasks_ = _History(self.dim)

    def get_params(self) -> dict[str, Any]:
        return {
            **super().get_params(),
            "fit_every": self.fit_every,
            "bootstrap": self.bootstrap,
            "k_min": self.k_min,
            "k_max": self.k_max,
            "criterion": self.criterion,
            "random_fraction": self.random_fraction,
            "history": self.history,
            "n_init": self.n_init,
        }

    # ------------------------------------------------------------------ choosing
    def sample(self, n: int = 1) -> np.ndarray:
        """``n`` tasks: uniform in the box before the first fit and with probability
        ``random_fraction`` after it, else drawn from the mixture and clipped to the box."""
        n = self._check_n(n)
        state = self.tasks_
        gmm = None if state.episodes < self.bootstrap else state.gmm
        tasks = np.empty((n, self.dim))
        for i in range(n):
            if gmm is None or self.rng.random() < self.random_fraction:
                tasks[i] = self.space.sample(self.rng)[0]
            else:
                tasks[i] = self.space.clip(_sample_gmm(state.mixture_arrays(), self.rng))
        return tasks

    # ------------------------------------------------------------------ learning
    def observe(self, tasks: Any, outcomes: Any) -> None:
        """Add each episode, in order, to the history: its ALP against the nearest earlier
        task, and a refit of the mixture every ``fit_every`` episodes."""
        x, rewards = self._check_batch(tasks, outcomes)
        state = self.tasks_
        for task, reward in zip(x, rewards.tolist(), strict=True):
            alp = state.alp(task, reward)
            state.add(task, reward, alp, self.fit_every, self.history)
            if state.episodes >= self.bootstrap and state.episodes % self.fit_every == 0:
                self._fit(state)

    def absolute_learning_progress(self) -> np.ndarray:
        """The ``(task..., ALP)`` rows of the last ``fit_every`` episodes."""
        return np.array(self.tasks_.recent).reshape(-1, self.dim + 1)

    def _fit(self, state: _History) -> None:
        seed = int(self.rng.integers(2**31 - 1))
        state.gmm, state.fit = fit_best(
            np.array(state.recent), self.k_min, self.k_max, self.criterion, self.n_init, seed
        )

    # ------------------------------------------------------------------ state
    def _get_state(self) -> dict[str, Any]:
        return self.tasks_.state_dict()

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self.tasks_ = _History.from_state_dict(state, self.dim)


def _sample_gmm(
    arrays: tuple[np.ndarray, np.ndarray, np.ndarray | None], rng: np.random.Generator
) -> np.ndarray:
    """A point of a (task..., ALP) mixture without its ALP coordinate: the component is
    drawn proportionally to its mean ALP (uniformly when they are all 0), then the point as
    ``rng.multivariate_normal`` of the component would draw it. ``arrays`` is
    :meth:`_History.mixture_arrays`: means, draw factors and the components' cumulative
    probabilities."""
    means, factors, cdf = arrays
    component = pick(cdf, means.shape[0], rng)
    return draw_normal(means[component], factors[component], rng)[:-1]


def component_probabilities(gmm: Mapping[str, Any]) -> np.ndarray:
    """Probability of drawing each component of a fitted mixture (proportional to its mean
    ALP, uniform when all are 0)."""
    alp = np.clip(np.asarray(gmm["means"], dtype=float)[:, -1], 0.0, None)
    return alp / alp.sum() if alp.sum() > 0 else np.full(alp.size, 1.0 / alp.size)


class _History:
    """ALP-GMM's state: earlier tasks and rewards (nearest-neighbour database,
    the first ``tree_size`` of them in a k-d tree, the rest searched by brute force), the
    last ``fit_every`` ``(task, ALP)`` rows, the episode count and the fitted mixture."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._tasks = np.empty((64, dim))
        self._rewards = np.empty(64)
        self.size = 0
        self.tree_size = 0
        self.tree: Any = None  # a scipy.spatial.cKDTree
        self.recent: list[list[float]] = []
        self.episodes = 0
        self.gmm: dict[str, Any] | None = None
        self.fit: dict[str, Any] | None = None
        self._arrays: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = None
        self._arrays_of: dict[str, Any] | None = None

    def mixture_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The fitted mixture's means, draw factors (:func:`normal_factors` of the
        covariances) and the cumulative probabilities of the components (:func:`choice_cdf`
        of the mean ALPs clipped at 0), as arrays computed once per fit (the mixture is kept
        as lists for JSON) rather than at every draw."""
        if self.gmm is None:
            raise ValueError("no mixture fitted yet")
        if self._arrays is None or self._arrays_of is not self.gmm:
            means = np.asarray(self.gmm["means"], dtype=float)
            covariances = np.asarray(self.gmm["covariances"], dtype=float)
            alp = np.clip(means[:, -1], 0.0, None)
            self._arrays = (means, normal_factors(covariances), choice_cdf(alp))
            self._arrays_of = self.gmm
        return self._arrays

    @property
    def tasks(self) -> np.ndarray:
        """The stored tasks, oldest first, shape ``(size, dim)``."""
        return self._tasks[: self.size]

    @property
    def rewards(self) -> np.ndarray:
        """The stored rewards, oldest first."""
        return self._rewards[: self.size]

    def nearest(self, task: np.ndarray) -> int:
        """Index of the nearest stored task (the tree's answer on an exact tie)."""
        best, best_d2 = -1, np.inf
        if self.tree is not None:
            distance, index = self.tree.query(task)
            best, best_d2 = int(index), float(distance) ** 2
        buffer = self._tasks[self.tree_size : self.size]
        if buffer.size:
            d2 = ((buffer - task) ** 2).sum(axis=1)
            j = int(np.argmin(d2))
            if d2[j] < best_d2:
                best = self.tree_size + j
        return best

    def alp(self, task: np.ndarray, reward: float) -> float:
        """``|reward - reward of the nearest earlier task|``, 0 during the warm-up."""
        if self.size < ALP_WARMUP:
            return 0.0
        return abs(reward - float(self._rewards[self.nearest(task)]))

    def add(
        self, task: np.ndarray, reward: float, alp: float, keep: int, history: int | None
    ) -> None:
        if self.size == len(self._rewards):
            self._tasks = np.concatenate([self._tasks, np.empty_like(self._tasks)])
            self._rewards = np.concatenate([self._rewards, np.empty_like(self._rewards)])
        self._tasks[self.size] = task
        self._rewards[self.size] = reward
        self.size += 1
        self.recent.append([*map(float, task), float(alp)])
        del self.recent[:-keep]
        self.episodes += 1
        if self.size - self.tree_size >= TREE_BUFFER:
            if history is not None and self.size > history:
                self._set_data(self.tasks[-history:].copy(), self.rewards[-history:].copy())
            self.tree_size = self.size
            self._build_tree()

    def _set_data(self, tasks: np.ndarray, rewards: np.ndarray) -> None:
        capacity = max(64, len(rewards))
        self._tasks = np.empty((capacity, self.dim))
        self._rewards = np.empty(capacity)
        self.size = len(rewards)
        self._tasks[: self.size] = tasks
        self._rewards[: self.size] = rewards

    def _build_tree(self) -> None:
        from scipy.spatial import cKDTree

        self.tree = cKDTree(self._tasks[: self.tree_size].copy()) if self.tree_size else None

    def state_dict(self) -> dict[str, Any]:
        return {
            "tasks": self.tasks.tolist(),
            "rewards": self.rewards.tolist(),
            "tree_size": self.tree_size,
            "recent": self.recent,
            "episodes": self.episodes,
            "gmm": self.gmm,
            "fit": self.fit,
        }

    @classmethod
    def from_state_dict(cls, data: Mapping[str, Any], dim: int) -> _History:
        state = cls(dim)
        tasks = np.asarray(data["tasks"], dtype=float).reshape(-1, dim)
        rewards = np.asarray(data["rewards"], dtype=float).reshape(-1)
        if len(rewards) != len(tasks):
            raise ValueError("tasks and rewards differ in length")
        state._set_data(tasks, rewards)
        state.tree_size = int(data["tree_size"])
        if not 0 <= state.tree_size <= state.size:
            raise ValueError(f"tree_size {state.tree_size} outside 0..{state.size}")
        state.recent = [[float(v) for v in row] for row in data["recent"]]
        state.episodes = int(data["episodes"])
        state.gmm = load_mixture(data["gmm"])
        state.fit = None if data.get("fit") is None else dict(data["fit"])
        state._build_tree()
        return state
