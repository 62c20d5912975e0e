"""ALP-GMM: absolute learning progress over a continuous task space, modelled by a
Gaussian mixture.

Portelas, Colas, Hofmann and Oudeyer, "Teacher algorithms for curriculum learning of Deep
RL in continuously parameterized environments", CoRL 2019 (arXiv:1910.07224; code:
github.com/flowersteam/teachDeepRL, ``teachDRL/teachers/algos/alp_gmm.py``).

Tasks are points of a :class:`~mentor.domain.Box` of task parameters (for example the
height and spacing of obstacles). For each episode the teacher records the task ``x`` and
the learner's reward ``r`` (the event's outcome, in [0, 1]) and computes its absolute
learning progress,

    ALP(x) = |r - r(x_nn)|,

where ``x_nn`` is the nearest earlier task of the same learner (Euclidean distance in
parameter space, via :class:`scipy.spatial.cKDTree`); the first 6 episodes of a learner get
ALP 0, as in the authors' code (their database needs more than 5 points). Every
``fit_every`` episodes, once ``bootstrap`` episodes have passed, Gaussian mixtures with
``k_min .. k_max`` full-covariance components are fitted (:class:`sklearn.mixture.
GaussianMixture`, one EM run each) to the last ``fit_every`` points ``(x, ALP(x))`` and the
one with the smallest AIC (or BIC) is kept. A new task is then drawn by picking a component
with probability proportional to its mean ALP (uniformly if all are 0), sampling a point
from it, dropping the ALP coordinate and clipping to the box. With probability
``random_fraction``, and always before the first fit, the task is uniform in the box
instead.

Defaults are the authors': ``fit_every`` 250 (their ``fit_rate``), ``bootstrap`` =
``fit_every``, ``k_min`` 2, ``k_max`` 10 (``potential_ks = 2..10``), AIC, one EM
initialisation, ``random_fraction`` 0.2, every earlier task kept for nearest neighbours
(``history=None``).

The continuous-task contract
----------------------------
``select(learner, candidates=box, k)`` returns ``k`` tasks, each a list of floats (one per
dimension of the box); ``candidates`` is the teacher's box, or ``None`` for it, or another
box of the same dimension to draw and clip within. ``observe(events)`` reads each event's
task parameters from one extra column per dimension, named :attr:`ALPGMM.columns` (by
default the box's dimension names, or ``"task_0"``, ``"task_1"``, ... when it has none);
the event's ``item`` is not used. :meth:`ALPGMM.events` builds such a log from the tasks
``select`` returned and their rewards, so a benchmark loop reads::

    tasks = teacher.select("agent", box, k=8)
    rewards = run_episodes(tasks)                      # one reward in [0, 1] per task
    teacher.observe(teacher.events("agent", tasks, rewards, time=step))

Each learner has its own history and mixture. Restoring a saved teacher rebuilds the nearest-
neighbour tree from the saved tasks and the mixture from its saved weights, means and
covariances, so it draws the same tasks as a teacher that never stopped.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from scipy.spatial import cKDTree
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

from mentor.domain import Box
from mentor.errors import DataError, DomainError, ParameterError
from mentor.events import EventLog
from mentor.students.base import StudentModel
from mentor.teachers.base import Teacher

#: Episodes of a learner before its ALP is computed (the authors' ``len(database) > 5``).
ALP_WARMUP = 6
#: New tasks searched by brute force before they are merged into the k-d tree.
TREE_BUFFER = 500


class ALPGMM(Teacher):
    """ALP-GMM (Portelas et al. 2019): sample tasks of a box from a Gaussian mixture fitted
    to (task parameters, absolute learning progress).

    Parameters
    ----------
    box
        The task space, a :class:`~mentor.domain.Box` or its ``to_dict()``.
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
        Earlier tasks kept per learner for nearest neighbours (``None``: all, the default).
    columns
        Names of the extra columns that carry the task parameters, one per dimension.
        Default: the box's names, else ``task_0``, ``task_1``, ...
    n_init
        EM initialisations per fit. Default 1.
    seed
        Seed of the teacher's random choices (tasks and the mixtures' initialisations).
    """

    name = "alp_gmm"
    CRITERIA: ClassVar[tuple[str, ...]] = ("aic", "bic")

    def __init__(
        self,
        box: Box | Mapping[str, Any],
        fit_every: int = 250,
        bootstrap: int | None = None,
        k_min: int = 2,
        k_max: int = 10,
        criterion: str = "aic",
        random_fraction: float = 0.2,
        history: int | None = None,
        columns: Sequence[str] | None = None,
        n_init: int = 1,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(seed)
        if isinstance(box, Mapping):
            box = Box.from_dict(dict(box))
        if not isinstance(box, Box):
            raise ParameterError(f"ALP-GMM needs a Box task space, got {type(box).__name__}")
        for label, value, least in [
            ("fit_every", fit_every, 1),
            ("k_min", k_min, 1),
            ("k_max", k_max, 1),
            ("n_init", n_init, 1),
        ]:
            if int(value) != value or value < least:
                raise ParameterError(f"ALP-GMM {label} must be an integer >= {least}, got {value}")
        if k_max < k_min:
            raise ParameterError(f"ALP-GMM needs k_min <= k_max, got {k_min} and {k_max}")
        if fit_every < k_max:
            raise ParameterError(
                f"ALP-GMM fit_every ({fit_every}) must be at least k_max ({k_max}): "
                "a mixture needs at least as many points as components"
            )
        bootstrap = fit_every if bootstrap is None else bootstrap
        if int(bootstrap) != bootstrap or bootstrap < fit_every:
            raise ParameterError(
                f"ALP-GMM bootstrap must be an integer >= fit_every ({fit_every}), got {bootstrap}"
            )
        if criterion not in self.CRITERIA:
            raise ParameterError(
                f"ALP-GMM criterion must be one of {', '.join(self.CRITERIA)}, got {criterion!r}"
            )
        if not 0.0 <= random_fraction <= 1.0:
            raise ParameterError(
                f"ALP-GMM random_fraction must lie in [0, 1], got {random_fraction}"
            )
        if history is not None and (int(history) != history or history < 1):
            raise ParameterError(f"ALP-GMM history must be None or an integer >= 1, got {history}")
        if columns is None:
            columns = box.names or tuple(f"task_{d}" for d in range(box.dim))
        columns = tuple(str(c) for c in columns)
        if len(columns) != box.dim or len(set(columns)) != len(columns):
            raise ParameterError(
                f"ALP-GMM needs {box.dim} distinct column names, one per dimension, got {columns}"
            )
        self.box = box
        self.fit_every = int(fit_every)
        self.bootstrap = int(bootstrap)
        self.k_min = int(k_min)
        self.k_max = int(k_max)
        self.criterion = criterion
        self.random_fraction = float(random_fraction)
        self.history = None if history is None else int(history)
        self.columns = columns
        self.n_init = int(n_init)
        self.learners_: dict[Any, _LearnerTasks] = {}

    def get_params(self) -> dict[str, Any]:
        return {
            "box": self.box.to_dict(),
            "fit_every": self.fit_every,
            "bootstrap": self.bootstrap,
            "k_min": self.k_min,
            "k_max": self.k_max,
            "criterion": self.criterion,
            "random_fraction": self.random_fraction,
            "history": self.history,
            "columns": list(self.columns),
            "n_init": self.n_init,
        }

    def _state(self, learner: Any) -> _LearnerTasks:
        state = self.learners_.get(learner)
        if state is None:
            state = self.learners_[learner] = _LearnerTasks(self.box.dim)
        return state

    # ------------------------------------------------------------------ choosing
    def select(
        self,
        learner: Any,
        candidates: Box | None = None,
        k: int = 1,
        t: float | None = None,
        model: StudentModel | None = None,
    ) -> list[list[float]]:
        """``k`` tasks for ``learner``, each a list of floats, drawn within ``candidates``
        (the teacher's box when ``None``)."""
        self._check(candidates, k, model)
        box = self.box if candidates is None else candidates
        if not isinstance(box, Box):
            raise DomainError(
                f"ALP-GMM selects from a Box task space, got {type(candidates).__name__}"
            )
        if box.dim != self.box.dim:
            raise DomainError(
                f"task space has {box.dim} dimensions but the teacher's has {self.box.dim}"
            )
        state = self.learners_.get(learner)
        gmm = None if state is None or state.episodes < self.bootstrap else state.gmm
        tasks = []
        for _ in range(k):
            if gmm is None or self.rng.random() < self.random_fraction:
                task = box.sample(self.rng)[0]
            else:
                task = box.clip(_sample_gmm(gmm, self.rng))
            tasks.append([float(v) for v in task])
        return tasks

    # ------------------------------------------------------------------ learning
    def events(
        self,
        learner: Any,
        tasks: Sequence[Sequence[float]],
        rewards: Sequence[float],
        time: float | Sequence[float] = 0.0,
        item: Any = "task",
    ) -> EventLog:
        """An :class:`EventLog` of episodes on ``tasks`` with ``rewards`` (outcomes in
        [0, 1]), the task parameters in :attr:`columns`, ready for :meth:`observe`."""
        x = np.asarray(tasks, dtype=float).reshape(-1, self.box.dim)
        n = x.shape[0]
        return EventLog(
            [learner] * n,
            [item] * n,
            np.broadcast_to(np.asarray(time, dtype=float), (n,)).copy(),
            rewards,
            {name: x[:, d] for d, name in enumerate(self.columns)},
        )

    def task_parameters(self, events: EventLog) -> np.ndarray:
        """The ``(n, dim)`` task parameters of ``events``, from :attr:`columns`."""
        missing = [c for c in self.columns if c not in events.extra]
        if missing:
            raise DataError(
                "ALP-GMM needs one extra column per task dimension; missing "
                + ", ".join(repr(c) for c in missing),
                field=missing[0],
            )
        try:
            x = np.column_stack([np.asarray(events.extra[c], dtype=float) for c in self.columns])
        except (TypeError, ValueError):
            raise DataError("task parameters must be numbers", field=self.columns[0]) from None
        bad = np.argwhere(~np.isfinite(x))
        if bad.size:
            i, d = bad[0]
            raise DataError(
                "task parameter must be finite", field=self.columns[d], value=str(x[i, d])
            )
        return x.reshape(len(events), self.box.dim)

    def observe(self, events: EventLog) -> None:
        """Add each episode, in log order, to its learner's history: its ALP against the
        nearest earlier task, and a refit of the mixture every ``fit_every`` episodes."""
        if not len(events):
            return
        x = self.task_parameters(events)
        for learner, task, reward in zip(
            events.learner.tolist(), x, events.outcome.tolist(), strict=True
        ):
            state = self._state(learner)
            alp = state.alp(task, reward)
            state.add(task, reward, alp, self.fit_every, self.history)
            if state.episodes >= self.bootstrap and state.episodes % self.fit_every == 0:
                self._fit(state)

    def absolute_learning_progress(self, learner: Any) -> np.ndarray:
        """The ``(task..., ALP)`` rows of ``learner``'s last ``fit_every`` episodes."""
        state = self.learners_.get(learner)
        if state is None:
            return np.empty((0, self.box.dim + 1))
        return np.array(state.recent).reshape(-1, self.box.dim + 1)

    def _fit(self, state: _LearnerTasks) -> None:
        data = np.array(state.recent)
        seed = int(self.rng.integers(2**31 - 1))
        best, scores = None, []
        # Tiny problems: BLAS and OpenMP threads only add overhead (and stall on a busy machine).
        with threadpool_limits(limits=1), warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for k in range(self.k_min, self.k_max + 1):
                gmm = GaussianMixture(
                    n_components=k, covariance_type="full", n_init=self.n_init, random_state=seed
                )
                gmm.fit(data)
                score = float(gmm.aic(data) if self.criterion == "aic" else gmm.bic(data))
                scores.append(score)
                if best is None or score < min(scores[:-1]):
                    best = gmm
        state.gmm = {
            "weights": best.weights_.tolist(),
            "means": best.means_.tolist(),
            "covariances": best.covariances_.tolist(),
        }
        state.fit = {"seed": seed, "scores": scores, "k": int(best.n_components)}

    # ------------------------------------------------------------------ state
    def _get_state(self) -> dict[str, Any]:
        return {
            "learners": [
                {"learner": learner, **state.to_dict()} for learner, state in self.learners_.items()
            ]
        }

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self.learners_ = {}
        for entry in state["learners"]:
            self.learners_[entry["learner"]] = _LearnerTasks.from_dict(entry, self.box.dim)


def _sample_gmm(gmm: Mapping[str, Any], rng: np.random.Generator) -> np.ndarray:
    """A point of a (task..., ALP) mixture without its ALP coordinate: the component is
    drawn proportionally to its mean ALP (uniformly when they are all 0)."""
    means = np.asarray(gmm["means"], dtype=float)
    alp = np.clip(means[:, -1], 0.0, None)
    if alp.sum() > 0:
        component = int(rng.choice(alp.size, p=alp / alp.sum()))
    else:
        component = int(rng.integers(alp.size))
    covariance = np.asarray(gmm["covariances"], dtype=float)[component]
    return rng.multivariate_normal(means[component], covariance)[:-1]


def component_probabilities(gmm: Mapping[str, Any]) -> np.ndarray:
    """Probability of drawing each component of a fitted mixture (proportional to its mean
    ALP, uniform when all are 0)."""
    alp = np.clip(np.asarray(gmm["means"], dtype=float)[:, -1], 0.0, None)
    return alp / alp.sum() if alp.sum() > 0 else np.full(alp.size, 1.0 / alp.size)


class _LearnerTasks:
    """One learner's ALP-GMM state: earlier tasks and rewards (nearest-neighbour database,
    the first ``tree_size`` of them in a k-d tree, the rest searched by brute force), the
    last ``fit_every`` ``(task, ALP)`` rows, the episode count and the fitted mixture."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._tasks = np.empty((64, dim))
        self._rewards = np.empty(64)
        self.size = 0
        self.tree_size = 0
        self.tree: cKDTree | None = None
        self.recent: list[list[float]] = []
        self.episodes = 0
        self.gmm: dict[str, Any] | None = None
        self.fit: dict[str, Any] | None = None

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
        self.tree = cKDTree(self._tasks[: self.tree_size].copy()) if self.tree_size else None

    def to_dict(self) -> dict[str, Any]:
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
    def from_dict(cls, data: Mapping[str, Any], dim: int) -> _LearnerTasks:
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
        gmm = data["gmm"]
        state.gmm = (
            None
            if gmm is None
            else {
                "weights": [float(w) for w in gmm["weights"]],
                "means": np.asarray(gmm["means"], dtype=float).tolist(),
                "covariances": np.asarray(gmm["covariances"], dtype=float).tolist(),
            }
        )
        state.fit = None if data.get("fit") is None else dict(data["fit"])
        state._build_tree()
        return state
