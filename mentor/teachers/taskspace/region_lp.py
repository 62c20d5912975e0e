"""Region learning progress: a grid-free learning-progress teacher over a continuous box.

mentor's own design, built from two published ingredients:

* the *windowed* learning progress of TSCL (Matiisen, Oliver, Cohen and Schulman,
  "Teacher-Student Curriculum Learning", IEEE TNNLS 2019): the absolute slope of a linear
  regression of an arm's last ``window`` rewards on their order, with greedy choice;
* arms that are regions of the task space rather than given items, as in RIAC and
  ALP-GMM (Portelas et al., CoRL 2019), here the Voronoi cells of ``regions`` points of a
  scrambled Sobol sequence (:class:`scipy.stats.qmc.Sobol`) in the box scaled to the unit
  cube. No grid is laid over the space: the number of arms is a budget that does not grow
  with the dimension, and their cells are not aligned with any structure of the task.

Learning progress spreads through a task space: mastering easy tasks makes their
neighbours learnable, while a region nobody has tried since it became learnable still
shows no progress. So a share of the greedy picks goes to a neighbouring region: each
region's ``neighbours`` nearest other centres (default ``3 * dim``, the mean number of
Voronoi neighbours in the plane for ``dim = 2``).

Each task is drawn as follows. With probability ``random_fraction`` (0.1), or while no
region shows progress, it is uniform in the box. Otherwise the region with the largest
learning progress is picked (ties at random) and, with probability ``neighbour_fraction``
(0.2), replaced by one of its neighbours chosen uniformly; the task is then uniform within
the chosen region's Voronoi cell (rejection sampling in a box around its centre that holds
the cell's neighbours, the centre itself if 64 draws all fall outside). Each observed task
counts for the region whose centre is nearest, whoever sampled it; its learning progress is
``|slope|`` of its last ``window`` (10) rewards against 0, 1, ..., and 0 until it has two.

On the hypercube of Portelas et al. (10 x 10 cells, 20,000 episodes, one task per episode;
the cells are not given to the teacher) the defaults master 99.9 % of the cells over 20 seeds
(``benchmarks/task_space.py``; 98 % in the worst seed), where teachDeepRL's own Covar-GMM
masters about 67 % and RIAC about 48 % in the same run (benchmarks/RESULTS.md).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping
from typing import Any

import numpy as np

from mentor._checks import check_count, check_unit
from mentor.domain import Box
from mentor.errors import ParameterError
from mentor.teachers.taskspace.base import TaskTeacher

#: Candidate points drawn at once when sampling inside a Voronoi cell.
CELL_DRAWS = 64
#: Up to this many point-centre coordinate pairs (``points * regions * dim``) the nearest
#: centre of each point is found by comparing its squared distance to every centre (a few
#: NumPy operations: 3-30 us for one point or 64 draws among the default 128 regions);
#: beyond, by the k-d tree, whose query costs 20-40 us of call overhead but grows slowly.
#: Both give the nearest centre, with the distances summed in the same order; they could
#: differ only on an exact tie.
BRUTE_FORCE = 16384


def window_slope(rewards: np.ndarray) -> float:
    """Least-squares slope of ``rewards`` against ``0, 1, ..., m - 1`` (0 when m < 2)."""
    m = len(rewards)
    if m < 2:
        return 0.0
    i = np.arange(m) - (m - 1) / 2.0
    return float(i @ (np.asarray(rewards, dtype=float) - np.mean(rewards)) / (i @ i))


class RegionLP(TaskTeacher):
    """Greedy windowed learning progress over Voronoi regions of quasi-random centres, with
    moves to neighbouring regions (mentor's design; rules in the module docstring).

    Parameters
    ----------
    space
        The task space, a :class:`~mentor.domain.Box` or its ``state_dict()``.
    regions
        Number of regions (Sobol centres). Default 128.
    window
        Rewards per region in the learning-progress regression. Default 10 (TSCL's).
    random_fraction
        Probability of a uniform task. Default 0.1.
    neighbour_fraction
        Probability that a greedy pick moves to a neighbouring region. Default 0.2.
    neighbours
        Neighbours per region. Default ``3 * dim`` (at most ``regions - 1``).
    seed
        Seed of the centres (the Sobol scrambling) and of the teacher's draws.
    """

    name = "region_lp"

    def __init__(
        self,
        space: Box | Mapping[str, Any],
        regions: int = 128,
        window: int = 10,
        random_fraction: float = 0.1,
        neighbour_fraction: float = 0.2,
        neighbours: int | None = None,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(space, seed)
        who = "RegionLP"
        self.regions = check_count("regions", regions, 2)
        self.window = check_count("window", window, 2)
        self.random_fraction = check_unit("random_fraction", random_fraction)
        self.neighbour_fraction = check_unit("neighbour_fraction", neighbour_fraction)
        default = min(3 * self.dim, self.regions - 1)
        self.neighbours = check_count(
            "neighbours", default if neighbours is None else neighbours, 1
        )
        if self.neighbours >= self.regions:
            raise ParameterError(
                f"{who} neighbours must be below regions ({self.regions})",
                field="neighbours",
                value=neighbours,
            )
        self._centre_seed = int(self.rng.integers(2**31 - 1))
        #: Region centres in the unit cube, shape ``(regions, dim)``.
        self.centres = _sobol(self.dim, self.regions, self._centre_seed)
        self._index()
        self.rewards_ = np.zeros((self.regions, self.window))
        self.counts_ = np.zeros(self.regions, dtype=np.int64)
        self.progress_ = np.zeros(self.regions)
        # per-episode constants of observe: the regression abscissae of window_slope for
        # 2..window rewards with their sums of squares, and the index orders np.roll
        # would compute, so that each reward costs no array construction
        w = self.window
        self._abscissae = [np.arange(m) - (m - 1) / 2.0 for m in range(w + 1)]
        self._squares = [float(i @ i) for i in self._abscissae]
        self._orders = [(np.arange(w) + shift) % w for shift in range(w)]

    def _index(self) -> None:
        from scipy.spatial import cKDTree

        self._tree = cKDTree(self.centres)
        distance, index = self._tree.query(self.centres, k=self.neighbours + 1)
        #: The ``neighbours`` nearest other centres of each region.
        self.adjacent = index[:, 1:]
        self._reach = np.abs(self.centres[self.adjacent] - self.centres[:, None, :]).max(axis=1)
        self._reach = np.maximum(self._reach, 1e-9)
        # in 1-D the nearest centre of a point is one of the two centres around it in sorted
        # order: _nearest looks them up by bisection instead of comparing with every centre
        self._order = np.argsort(self.centres[:, 0], kind="stable")
        self._sorted = self.centres[self._order, 0]
        # the same as Python floats and ints, for one point at a time (no array calls)
        self._sorted_list: list[float] = self._sorted.tolist()
        self._order_list: list[int] = self._order.tolist()
        self._centre_list: list[float] = self.centres[:, 0].tolist()

    def get_params(self) -> dict[str, Any]:
        return {
            **super().get_params(),
            "regions": self.regions,
            "window": self.window,
            "random_fraction": self.random_fraction,
            "neighbour_fraction": self.neighbour_fraction,
            "neighbours": self.neighbours,
        }

    def region_of(self, tasks: Any) -> np.ndarray:
        """Index of the region (nearest centre) of each task."""
        x = self.space.check(tasks)
        return self._nearest(self.space.normalise(x))

    def _nearest(self, unit: np.ndarray) -> np.ndarray:
        """Index of the nearest centre of each point of the unit cube (``BRUTE_FORCE``)."""
        if self.dim == 1:
            if len(unit) == 1:
                return np.array([self._nearest_point(float(unit[0, 0]))], dtype=np.int64)
            return self._nearest_1d(unit[:, 0])
        if len(unit) * self.regions * self.dim > BRUTE_FORCE:
            return np.asarray(self._tree.query(unit)[1], dtype=np.int64)
        centres = self.centres
        d2 = (unit[:, :1] - centres[:, 0]) ** 2
        for k in range(1, self.dim):
            d2 += (unit[:, k : k + 1] - centres[:, k]) ** 2
        return np.asarray(d2.argmin(axis=1), dtype=np.int64)

    def _nearest_1d(self, u: np.ndarray) -> np.ndarray:
        """The comparison's answer in 1-D from the two centres around each point: the same
        squared distances, the smaller one, the lower index on a tie (as ``argmin``). The
        other centres are farther (``u - c`` rounds monotonically in ``c``), so the answer is
        the comparison's unless two centres lie within rounding error of each other."""
        last = self.regions - 1
        above = np.searchsorted(self._sorted, u)
        left = self._order[np.maximum(above - 1, 0)]
        right = self._order[np.minimum(above, last)]
        centres = self.centres[:, 0]
        d_left = (u - centres[left]) ** 2
        d_right = (u - centres[right]) ** 2
        take_right = (d_right < d_left) | ((d_right == d_left) & (right < left))
        return np.asarray(np.where(take_right, right, left), dtype=np.int64)

    def _nearest_point(self, u: float) -> int:
        """:meth:`_nearest_1d` for one point in Python floats: the same bisection
        (``bisect_left`` is ``searchsorted``'s default side) and the same IEEE products."""
        above = bisect_left(self._sorted_list, u)
        left = self._order_list[max(above - 1, 0)]
        right = self._order_list[min(above, self.regions - 1)]
        # d * d: NumPy's ``** 2`` is ``square``, one rounded product (Python's ``** 2`` is pow)
        a, b = u - self._centre_list[left], u - self._centre_list[right]
        d_left, d_right = a * a, b * b
        if d_right < d_left or (d_right == d_left and right < left):
            return right
        return left

    def learning_progress(self) -> np.ndarray:
        """``|slope|`` of each region's last ``window`` rewards."""
        return self.progress_.copy()

    # ------------------------------------------------------------------ choosing
    def choose_region(self) -> int | None:
        """The region of the next task, or ``None`` for a uniform task."""
        if self.rng.random() < self.random_fraction:
            return None
        top = self.progress_.max()
        if top <= 0:
            return None
        best = np.flatnonzero(self.progress_ == top)
        region = int(best[self.rng.integers(best.size)]) if best.size > 1 else int(best[0])
        if self.rng.random() < self.neighbour_fraction:
            region = int(self.adjacent[region, self.rng.integers(self.neighbours)])
        return region

    def sample(self, n: int = 1) -> np.ndarray:
        """``n`` tasks (rules in the module docstring)."""
        n = self._check_n(n)
        unit = np.empty((n, self.dim))
        for i in range(n):
            region = self.choose_region()
            unit[i] = self.rng.random(self.dim) if region is None else self._in_cell(region)
        # the box's own read-only bound arrays (the values of its low and width)
        return self.space.clip(self.space._lo + unit * self.space._width)

    def _in_cell(self, region: int) -> np.ndarray:
        centre, reach = self.centres[region], self._reach[region]
        low, high = np.maximum(centre - reach, 0.0), np.minimum(centre + reach, 1.0)
        # = rng.uniform(low, high, size=...): the same numbers, without its call overhead
        draws = low + (high - low) * self.rng.random((CELL_DRAWS, self.dim))
        if self.dim == 1:  # the first candidate in the cell, one at a time
            for k, u in enumerate(draws[:, 0].tolist()):
                if self._nearest_point(u) == region:
                    return draws[k]
            return centre.copy()
        inside = np.flatnonzero(self._nearest(draws) == region)
        return draws[inside[0]] if inside.size else centre.copy()

    # ------------------------------------------------------------------ learning
    def observe(self, tasks: Any, outcomes: Any) -> None:
        """Append each reward to its region's window and update that region's progress."""
        x, rewards = self._check_batch(tasks, outcomes)
        regions = self._nearest(self.space.normalise(x))
        w = self.window
        for region, reward in zip(regions.tolist(), rewards.tolist(), strict=True):
            count = int(self.counts_[region])
            self.rewards_[region, count % w] = reward
            self.counts_[region] = count + 1
            m = min(count + 1, w)
            ring = self.rewards_[region]
            # the last m rewards, oldest first (np.roll's order), and window_slope's value
            recent = ring[self._orders[(count + 1) % w]] if count + 1 > w else ring[:m]
            if m < 2:
                self.progress_[region] = 0.0
                continue
            i = self._abscissae[m]
            # recent.sum() / m is np.mean's value (the same reduction divided by the count)
            mean = recent.sum() / m
            self.progress_[region] = abs(float(i @ (recent - mean) / self._squares[m]))

    # ------------------------------------------------------------------ state
    def _get_state(self) -> dict[str, Any]:
        return {
            "centre_seed": self._centre_seed,
            "rewards": self.rewards_.tolist(),
            "counts": self.counts_.tolist(),
            "progress": self.progress_.tolist(),
        }

    def _set_state(self, state: Mapping[str, Any]) -> None:
        seed = int(state["centre_seed"])
        rewards = np.asarray(state["rewards"], dtype=float).reshape(self.regions, self.window)
        counts = np.asarray(state["counts"], dtype=np.int64).reshape(self.regions)
        progress = np.asarray(state["progress"], dtype=float).reshape(self.regions)
        if seed != self._centre_seed:
            self._centre_seed = seed
            self.centres = _sobol(self.dim, self.regions, seed)
            self._index()
        self.rewards_, self.counts_, self.progress_ = rewards, counts, progress


def _sobol(dim: int, n: int, seed: int) -> np.ndarray:
    """The first ``n`` points of a scrambled Sobol sequence in ``[0, 1)^dim``."""
    import warnings

    from scipy.stats import qmc

    with warnings.catch_warnings():  # n need not be a power of 2 here
        warnings.simplefilter("ignore", UserWarning)
        return qmc.Sobol(dim, scramble=True, seed=seed).random(n)
