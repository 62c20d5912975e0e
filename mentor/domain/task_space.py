"""Continuous task spaces: boxes of task parameters, for teachers such as ALP-GMM
(Portelas et al., 2019) that choose a task by its parameters rather than by id."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mentor.errors import DataError, DomainError

#: Up to this many coordinates :meth:`Box.check` compares as Python floats (a few points: no
#: array calls); beyond, as arrays.
SMALL = 16


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
    _lo: np.ndarray = field(init=False, repr=False, compare=False)
    _hi: np.ndarray = field(init=False, repr=False, compare=False)
    _width: np.ndarray = field(init=False, repr=False, compare=False)

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
        # the bounds as read-only arrays (not fields: equality, repr and state use the
        # tuples), so that the per-episode calls convert nothing
        for attr, values in (("_lo", lo), ("_hi", hi), ("_width", np.subtract(hi, lo))):
            array = np.array(values, dtype=float)
            array.setflags(write=False)
            object.__setattr__(self, attr, array)

    @property
    def dim(self) -> int:
        """Number of dimensions."""
        return len(self.low)

    def sample(self, rng: np.random.Generator, n: int = 1) -> np.ndarray:
        """``n`` points drawn uniformly from the box, shape ``(n, dim)``.

        ``low + width * rng.random(...)``: the very numbers ``rng.uniform(low, high, ...)``
        returns (NumPy computes ``low + (high - low) * u`` from the same uniform draws),
        without its per-call broadcasting cost."""
        result: np.ndarray = self._lo + self._width * rng.random((n, self.dim))
        return result

    def contains(self, points: Any) -> np.ndarray:
        """Whether each point (row) lies in the box."""
        x = np.atleast_2d(np.asarray(points, dtype=float))
        result: np.ndarray = np.all((x >= self._lo) & (x <= self._hi), axis=1)
        return result

    def clip(self, points: Any) -> np.ndarray:
        """Points moved to the nearest point of the box."""
        result: np.ndarray = np.clip(np.asarray(points, dtype=float), self._lo, self._hi)
        return result

    @property
    def width(self) -> np.ndarray:
        """``high - low`` per dimension."""
        return self._width.copy()

    def normalise(self, points: Any) -> np.ndarray:
        """Points mapped affinely to the unit box ``[0, 1]^dim``."""
        result: np.ndarray = (np.asarray(points, dtype=float) - self._lo) / self._width
        return result

    def grid(self, bins: int | Sequence[int]) -> np.ndarray:
        """Centres of a regular grid of ``bins`` cells per dimension (an integer or one per
        dimension), shape ``(prod(bins), dim)``, the last dimension varying fastest."""
        values = np.atleast_1d(np.asarray(bins))
        counts = [int(b) for b in values] if np.ndim(bins) else [int(values[0])] * self.dim
        if len(counts) != self.dim or min(counts) < 1:
            raise DomainError(
                f"a grid of a {self.dim}-D box needs bins >= 1 per dimension, got {bins}"
            )
        axes = [
            lo + (np.arange(b) + 0.5) * (hi - lo) / b
            for lo, hi, b in zip(self.low, self.high, counts, strict=True)
        ]
        return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, self.dim)

    def check(self, points: Any, field: str = "task") -> np.ndarray:
        """``points`` as a float array of shape ``(n, dim)``, or :class:`DataError` naming the
        first row and dimension that is not a finite number inside the box."""
        try:
            x = np.asarray(points, dtype=float)
        except (TypeError, ValueError):
            raise DataError("task parameters must be numbers", field=field) from None
        if x.ndim == 1 and x.size == self.dim:
            x = x[None]
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise DataError(
                f"tasks must have {self.dim} parameters each (the box's dimension)",
                field=field,
                value=list(x.shape),
            )
        # the bounds are finite, so NaN (every comparison false) and +-inf fail these too;
        # a few points (an episode's tasks) are compared as Python floats, the same double
        # comparisons without the array calls
        if x.size <= SMALL and all(
            a <= v <= b
            for row in x.tolist()
            for v, a, b in zip(row, self.low, self.high, strict=True)
        ):
            return x
        ok = (x >= self._lo) & (x <= self._hi)
        if not ok.all():
            bad = np.argwhere(~ok)
            row, d = (int(v) for v in bad[0])
            label = self.names[d] if self.names else d
            raise DataError(
                f"task {row}, dimension {label!r}: must be a number in "
                f"[{self.low[d]}, {self.high[d]}]",
                field=field,
                value=float(x[row, d]),
            )
        return x

    def state_dict(self) -> dict[str, Any]:
        return {"low": list(self.low), "high": list(self.high), "names": list(self.names)}

    @classmethod
    def from_state_dict(cls, data: dict[str, Any]) -> Box:
        try:
            return cls(data["low"], data["high"], data.get("names", ()))
        except (KeyError, TypeError) as error:
            raise DomainError(f"a box needs 'low' and 'high' lists: {error}") from None
