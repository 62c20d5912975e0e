"""Continuous task spaces: boxes of task parameters, for teachers such as ALP-GMM
(Portelas et al., 2019) that choose a task by its parameters rather than by id."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mentor.errors import DomainError


@dataclass(frozen=True)
class Box:
    """An axis-aligned box ``[low, high]`` in d dimensions.

    Parameters
    ----------
    low, high
        Lower and upper bounds, one per dimension, with ``low < high``.
    names
        Optional names of the dimensions (for example ``("stump_height", "gap")``).
    """

    low: tuple[float, ...]
    high: tuple[float, ...]
    names: tuple[str, ...] = ()

    def __init__(
        self, low: Sequence[float], high: Sequence[float], names: Sequence[str] = ()
    ) -> None:
        lo = tuple(float(v) for v in low)
        hi = tuple(float(v) for v in high)
        if len(lo) != len(hi) or not lo:
            raise DomainError(f"box bounds must have the same, non-zero length: {lo} and {hi}")
        if names and len(names) != len(lo):
            raise DomainError(f"box has {len(lo)} dimensions but {len(names)} names")
        for d, (a, b) in enumerate(zip(lo, hi, strict=True)):
            if not (np.isfinite(a) and np.isfinite(b) and a < b):
                label = names[d] if names else d
                raise DomainError(f"box dimension {label!r} needs finite low < high, got {a}, {b}")
        object.__setattr__(self, "low", lo)
        object.__setattr__(self, "high", hi)
        object.__setattr__(self, "names", tuple(str(n) for n in names))

    @property
    def dim(self) -> int:
        """Number of dimensions."""
        return len(self.low)

    def sample(self, rng: np.random.Generator, n: int = 1) -> np.ndarray:
        """``n`` points drawn uniformly from the box, shape ``(n, dim)``."""
        return rng.uniform(self.low, self.high, size=(n, self.dim))

    def contains(self, points: Any) -> np.ndarray:
        """Whether each point (row) lies in the box."""
        x = np.atleast_2d(np.asarray(points, dtype=float))
        return np.all((x >= self.low) & (x <= self.high), axis=1)

    def clip(self, points: Any) -> np.ndarray:
        """Points moved to the nearest point of the box."""
        return np.clip(np.asarray(points, dtype=float), self.low, self.high)

    def to_dict(self) -> dict[str, Any]:
        return {"low": list(self.low), "high": list(self.high), "names": list(self.names)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Box:
        try:
            return cls(data["low"], data["high"], data.get("names", ()))
        except (KeyError, TypeError) as error:
            raise DomainError(f"a box needs 'low' and 'high' lists: {error}") from None
