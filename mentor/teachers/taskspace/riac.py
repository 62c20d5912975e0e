"""RIAC: Robust Intelligent Adaptive Curiosity, a tree of regions split where learning
progress differs most.

Baranes and Oudeyer, "R-IAC: Robust Intrinsically Motivated Exploration and Active
Learning", IEEE Transactions on Autonomous Mental Development 2009, with the changes of
Portelas, Colas, Hofmann and Oudeyer, "Teacher algorithms for curriculum learning of Deep RL
in continuously parameterized environments", CoRL 2019 (arXiv:1910.07224; reference code:
github.com/flowersteam/teachDeepRL, ``teachDRL/teachers/algos/riac.py``, read, not copied).

The task space starts as one region, the root of a binary tree. Every episode ``(x, r)`` is
stored in each region on the path from the root to the leaf containing ``x`` (at most
``max_region_size + 1`` per region, oldest dropped). A region's absolute learning progress
is the difference between the mean reward of the older and the newer half of its last
``alp_window`` episodes,

    ALP = | mean(r[-w : -h]) - mean(r[-h:]) |,   w = min(n, alp_window), h = floor(w / 2),

and 0 while it holds 2 episodes or fewer. When a leaf holds more than ``max_region_size``
episodes it is split: ``split_attempts`` random cuts (a dimension and a threshold drawn
uniformly in the region), each redrawn until both halves hold at least ``min_region_size``
episodes; a cut is valid when both halves are at least ``min_width`` of the box's width in
every dimension. The valid cut with the largest

    score = n_1 * n_2 * | ALP_1 - ALP_2 |

(Baranes and Oudeyer's criterion: the sizes of the two halves times the difference of their
progress) is kept; if no cut is valid the region forgets its oldest ``discard_fraction`` of
episodes instead. Tasks are drawn by three modes: 70 % pick a region (every region of the
tree, or only the leaves with ``leaves_only``) with probability proportional to its ALP
(uniformly when all are 0) and draw uniformly in it; 20 % draw uniformly in the box; 10 %
pick a region the same way and perturb its lowest-reward task with Gaussian noise of
``mutation`` times the box's width, clipped to the region.

Defaults are the reference's: ``max_region_size`` 200, ``alp_window`` = max_region_size,
``split_attempts`` 50, ``min_region_size`` max_region_size / 20, ``min_width`` 1/15,
``discard_fraction`` 1/4, sampling over every region, mutation 0.1.

Two differences from the reference, both deliberate: its split score is written
``len(sub_reg1) * len(sub_reg2) * |alp_1 - alp_2|`` where each ``sub_reg`` is a pair of
lists, so the sizes are the constant 2 and the score is ``4 |ALP_1 - ALP_2|``; we use the
sizes of the halves, as the criterion in Baranes and Oudeyer (2009). And a region's episodes
are assigned to the half by ``x[dim] < threshold`` (lower) or ``>=`` (upper), so a point on
the cut lies in exactly one half.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from mentor._checks import check_count, check_flag, check_number, check_unit
from mentor.domain import Box
from mentor.teachers.taskspace._gmm import proportional
from mentor.teachers.taskspace.base import TaskTeacher


def region_alp(rewards: np.ndarray, window: int) -> float:
    """``|mean(older half) - mean(newer half)|`` of the last ``window`` rewards (0 for 2 or
    fewer): with ``w = min(n, window)`` and ``h = floor(w / 2)`` the older half is
    ``rewards[-w:-h]`` and the newer ``rewards[-h:]``."""
    n = len(rewards)
    if n <= 2:
        return 0.0
    w = min(n, window)
    h = w // 2
    recent = np.asarray(rewards[-w:], dtype=float)
    return abs(float(recent[: w - h].mean()) - float(recent[w - h :].mean()))


class RIAC(TaskTeacher):
    """RIAC (Baranes and Oudeyer 2009, as in Portelas et al. 2019): split the task space
    where absolute learning progress differs, sample regions by their progress.

    Parameters
    ----------
    space
        The task space, a :class:`~mentor.domain.Box` or its ``state_dict()``.
    max_region_size
        Episodes a leaf holds before it is split. Default 200.
    alp_window
        Episodes over which a region's ALP is computed. Default ``max_region_size``.
    split_attempts
        Random cuts tried per split. Default 50.
    min_region_size
        Episodes each half of a cut must hold. Default ``max_region_size / 20``.
    min_width
        Smallest width of a half, as a fraction of the box's width in each dimension.
        Default 1/15.
    discard_fraction
        Share of its oldest episodes a region forgets when no cut is valid. Default 1/4.
    leaves_only
        Sample among the leaves only (default: every region of the tree).
    mutation
        Standard deviation of the perturbation of mode 3, as a fraction of the box's width.
        Default 0.1.
    seed
        Seed of the teacher's random draws.
    """

    name = "riac"

    def __init__(
        self,
        space: Box | Mapping[str, Any],
        max_region_size: int = 200,
        alp_window: int | None = None,
        split_attempts: int = 50,
        min_region_size: float | None = None,
        min_width: float = 1 / 15,
        discard_fraction: float = 0.25,
        leaves_only: bool = False,
        mutation: float = 0.1,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(space, seed)
        self.max_region_size = check_count("max_region_size", max_region_size, 2)
        window = self.max_region_size if alp_window is None else alp_window
        self.alp_window = check_count("alp_window", window, 3)
        self.split_attempts = check_count("split_attempts", split_attempts, 1)
        least = self.max_region_size / 20 if min_region_size is None else min_region_size
        self.min_region_size = check_number(
            "min_region_size", least, 0.0, maximum=self.max_region_size / 2
        )
        self.min_width = check_number("min_width", min_width, 0.0, maximum=0.5)
        self.discard_fraction = check_unit("discard_fraction", discard_fraction)
        self.leaves_only = check_flag("leaves_only", leaves_only)
        mutation = check_number("mutation", mutation, 0.0)
        self.mutation = float(mutation)
        self.regions_: list[_Region] = [
            _Region(np.array(self.space.low), np.array(self.space.high), None)
        ]

    def get_params(self) -> dict[str, Any]:
        return {
            **super().get_params(),
            "max_region_size": self.max_region_size,
            "alp_window": self.alp_window,
            "split_attempts": self.split_attempts,
            "min_region_size": self.min_region_size,
            "min_width": self.min_width,
            "discard_fraction": self.discard_fraction,
            "leaves_only": self.leaves_only,
            "mutation": self.mutation,
        }

    # ------------------------------------------------------------------ regions
    def _sampled_regions(self) -> list[_Region]:
        if self.leaves_only:
            return [r for r in self.regions_ if r.children is None]
        return self.regions_

    def regions(self) -> list[dict[str, Any]]:
        """Every region: ``low``, ``high``, ALP, episodes held, whether it is a leaf."""
        return [
            {
                "low": r.low.tolist(),
                "high": r.high.tolist(),
                "alp": r.alp,
                "episodes": len(r.rewards),
                "leaf": r.children is None,
            }
            for r in self.regions_
        ]

    # ------------------------------------------------------------------ choosing
    def sample(self, n: int = 1) -> np.ndarray:
        """``n`` tasks by the three modes (70 % region by ALP, 20 % uniform, 10 % mutation
        of a region's worst task)."""
        n = self._check_n(n)
        regions = self._sampled_regions()
        alp = np.array([r.alp for r in regions])
        width = self.space.width
        tasks = np.empty((n, self.dim))
        for i in range(n):
            mode = self.rng.random()
            if 0.1 <= mode < 0.3:
                tasks[i] = self.space.sample(self.rng)[0]
                continue
            region = regions[proportional(alp, self.rng)]
            if mode >= 0.3 or not region.rewards:
                tasks[i] = self.rng.uniform(region.low, region.high)
                continue
            worst = np.asarray(region.tasks[int(np.argmin(region.rewards))])
            margin = 1e-5 * width
            low, high = region.low + margin, np.maximum(region.high - margin, region.low + margin)
            tasks[i] = np.clip(self.rng.normal(worst, self.mutation * width), low, high)
        return tasks

    # ------------------------------------------------------------------ learning
    def observe(self, tasks: Any, outcomes: Any) -> None:
        """Add each episode to every region on its path; split a full leaf."""
        x, rewards = self._check_batch(tasks, outcomes)
        keep = self.max_region_size + 1
        for task, reward in zip(x, rewards.tolist(), strict=True):
            node = 0
            while True:
                region = self.regions_[node]
                region.tasks.append(task.tolist())
                region.rewards.append(reward)
                del region.tasks[:-keep], region.rewards[:-keep]
                region.alp = region_alp(region.rewards, self.alp_window)
                if region.children is None:
                    break
                dim, threshold = region.cut
                node = region.children[0 if task[dim] < threshold else 1]
            if len(region.rewards) > self.max_region_size:
                self._split(node)

    def best_cut(
        self,
        region_tasks: np.ndarray,
        region_rewards: np.ndarray,
        low: np.ndarray,
        high: np.ndarray,
    ) -> tuple[int, float, float] | None:
        """The valid cut ``(dim, threshold, score)`` with the largest score among
        ``split_attempts`` random ones, or ``None`` when none is valid."""
        min_width = self.min_width * self.space.width
        best = None
        for _ in range(self.split_attempts):
            for _tries in range(1000):
                dim = int(self.rng.integers(self.dim))
                threshold = float(self.rng.uniform(low[dim], high[dim]))
                lower = region_tasks[:, dim] < threshold
                if min(lower.sum(), (~lower).sum()) >= self.min_region_size:
                    break
            else:  # no cut leaves enough episodes on both sides
                return None
            valid = (
                threshold - low[dim] >= min_width[dim] and high[dim] - threshold >= min_width[dim]
            )
            if not valid:
                continue
            a, b = region_rewards[lower], region_rewards[~lower]
            score = (
                a.size
                * b.size
                * abs(region_alp(a, self.alp_window) - region_alp(b, self.alp_window))
            )
            if best is None or score >= best[2]:
                best = (dim, threshold, score)
        return best

    def _split(self, node: int) -> None:
        region = self.regions_[node]
        x, r = np.array(region.tasks), np.array(region.rewards)
        cut = self.best_cut(x, r, region.low, region.high)
        if cut is None:
            drop = int(self.max_region_size * self.discard_fraction)
            del region.tasks[:drop], region.rewards[:drop]
            region.alp = region_alp(region.rewards, self.alp_window)
            return
        dim, threshold, _ = cut
        lower = x[:, dim] < threshold
        children = []
        for side in (lower, ~lower):
            low, high = region.low.copy(), region.high.copy()
            if side is lower:
                high[dim] = threshold
            else:
                low[dim] = threshold
            child = _Region(low, high, None)
            child.tasks = x[side].tolist()
            child.rewards = r[side].tolist()
            child.alp = region_alp(child.rewards, self.alp_window)
            children.append(len(self.regions_))
            self.regions_.append(child)
        region.cut = (dim, threshold)
        region.children = (children[0], children[1])

    # ------------------------------------------------------------------ state
    def _get_state(self) -> dict[str, Any]:
        return {"regions": [r.state_dict() for r in self.regions_]}

    def _set_state(self, state: Mapping[str, Any]) -> None:
        regions = [_Region.from_state_dict(entry, self.dim) for entry in state["regions"]]
        if not regions:
            raise ValueError("RIAC needs at least the root region")
        for region in regions:
            if region.children is not None and max(region.children) >= len(regions):
                raise ValueError(f"region child {max(region.children)} out of range")
        self.regions_ = regions


class _Region:
    """A box of the task space with its recent episodes, its ALP and, once split, its cut
    ``(dim, threshold)`` and two children (indices into the teacher's region list)."""

    def __init__(self, low: np.ndarray, high: np.ndarray, cut: tuple[int, float] | None) -> None:
        self.low = low
        self.high = high
        self.cut = cut
        self.children: tuple[int, int] | None = None
        self.tasks: list[list[float]] = []
        self.rewards: list[float] = []
        self.alp = 0.0

    def state_dict(self) -> dict[str, Any]:
        return {
            "low": self.low.tolist(),
            "high": self.high.tolist(),
            "cut": None if self.cut is None else list(self.cut),
            "children": None if self.children is None else list(self.children),
            "tasks": self.tasks,
            "rewards": self.rewards,
            "alp": self.alp,
        }

    @classmethod
    def from_state_dict(cls, data: Mapping[str, Any], dim: int) -> _Region:
        low = np.asarray(data["low"], dtype=float).reshape(dim)
        high = np.asarray(data["high"], dtype=float).reshape(dim)
        cut = None if data["cut"] is None else (int(data["cut"][0]), float(data["cut"][1]))
        region = cls(low, high, cut)
        children = data["children"]
        region.children = None if children is None else (int(children[0]), int(children[1]))
        if (region.children is None) != (cut is None):
            raise ValueError("a region has both a cut and children, or neither")
        region.tasks = [[float(v) for v in t] for t in data["tasks"]]
        region.rewards = [float(v) for v in data["rewards"]]
        if len(region.tasks) != len(region.rewards) or any(len(t) != dim for t in region.tasks):
            raise ValueError("region tasks and rewards do not match")
        region.alp = float(data["alp"])
        return region
