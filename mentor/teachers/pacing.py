"""Pacing functions: the fraction of a difficulty-sorted pool available at step ``s``.

A curriculum sorts its items by difficulty and lets the learner practise only
the first part of that order; a pacing function says how large that part is
as training goes on (Hacohen and Weinshall, "On the power of curriculum
learning in training deep networks", ICML 2019; Wu, Dyer and Neyshabur, "When
do curricula work?", ICLR 2021). A step is whatever clock the teacher counts
in: events observed, optimiser steps, seconds. Nothing here assumes a unit.

With ``start`` = b (the fraction available at step 0), ``ramp`` = the step at
which the whole pool is available (a*T in Wu et al.'s notation) and
``x = min(s / ramp, 1)``, the families of Wu et al. (their Appendix, code at
google-research/understanding-curricula) are, before clipping to [b, 1]:

=============== ==============================================
``linear``      b + (1 - b) x
``quadratic``   b + (1 - b) x^2
``root``        b + (1 - b) sqrt(x)
``step``        b + (1 - b) floor(x)   (b until ``ramp``, then 1)
``exponential`` b + (1 - b) (e^(c x) - 1) / (e^c - 1),  c = 10
``logarithmic`` b + (1 - b) (1 + log(x + e^(-c)) / c),  c = 10
=============== ==============================================

``fixed_exp`` is Hacohen and Weinshall's fixed exponential pacing,
``min(1, start * increase ** floor(s / step_length))``; ``constant`` is no
curriculum at all; ``cyclical`` is the oscillating size of Kesgin and
Amasyali's cyclical curriculum (see :class:`Cyclical`).

Every pacing function is plain data: :meth:`Pacing.spec` and
:func:`create_pacing` round-trip it through JSON.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Mapping
from typing import Any, ClassVar

from mentor._checks import check_number, check_unit
from mentor.errors import ParameterError

#: Longest cycle :class:`Cyclical` accepts (a multiplier very close to 1 would
#: otherwise make the cycle enormous).
MAX_CYCLE = 10_000


class Pacing(abc.ABC):
    """Base class of pacing functions: ``pacing(step)`` is a fraction in (0, 1]."""

    name: ClassVar[str]

    @abc.abstractmethod
    def __call__(self, step: float) -> float:
        """The fraction of the sorted pool available at ``step`` (negative steps count as 0)."""

    @abc.abstractmethod
    def get_params(self) -> dict[str, Any]:
        """Constructor arguments (JSON-able)."""

    def spec(self) -> dict[str, Any]:
        """``{"kind": name, **params}``, the form :func:`create_pacing` reads."""
        return {"kind": self.name, **self.get_params()}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pacing) and self.spec() == other.spec()

    def __hash__(self) -> int:
        return hash(repr(self))


class _Ramp(Pacing):
    """A pacing that grows from ``start`` at step 0 to 1 at step ``ramp``."""

    def __init__(self, start: float = 0.2, ramp: float = 1000.0) -> None:
        self.start = check_unit("start", start, strict=True)
        self.ramp = check_number("ramp", ramp, 0.0, strict=True)

    def get_params(self) -> dict[str, Any]:
        return {"start": self.start, "ramp": self.ramp}

    @abc.abstractmethod
    def _shape(self, x: float) -> float:
        """Growth from 0 at x = 0 to 1 at x = 1."""

    def __call__(self, step: float) -> float:
        x = min(max(float(step), 0.0) / self.ramp, 1.0)
        b = self.start
        return min(1.0, max(b, b + (1.0 - b) * self._shape(x)))


class Linear(_Ramp):
    """``b + (1 - b) x``: the linear pacing of Wu et al. 2021. Defaults start 0.2, ramp 1000."""

    name = "linear"

    def _shape(self, x: float) -> float:
        return x


class Quadratic(_Ramp):
    """``b + (1 - b) x^2`` (Wu et al. 2021). Defaults start 0.2, ramp 1000."""

    name = "quadratic"

    def _shape(self, x: float) -> float:
        return x * x


class Root(_Ramp):
    """``b + (1 - b) sqrt(x)`` (Wu et al. 2021). Defaults start 0.2, ramp 1000."""

    name = "root"

    def _shape(self, x: float) -> float:
        return math.sqrt(x)


class Step(_Ramp):
    """``b`` until step ``ramp``, then the whole pool: Wu et al.'s step pacing and
    Hacohen and Weinshall's single-step pacing. Defaults start 0.2, ramp 1000."""

    name = "step"

    def _shape(self, x: float) -> float:
        return math.floor(x)


class Exponential(_Ramp):
    """``b + (1 - b) (e^(c x) - 1) / (e^c - 1)`` (Wu et al. 2021, c = 10): slow, then fast.

    Defaults start 0.2, ramp 1000, c 10.
    """

    name = "exponential"

    def __init__(self, start: float = 0.2, ramp: float = 1000.0, c: float = 10.0) -> None:
        super().__init__(start, ramp)
        self.c = check_number("c", c, 0.0, strict=True)

    def get_params(self) -> dict[str, Any]:
        return {**super().get_params(), "c": self.c}

    def _shape(self, x: float) -> float:
        return math.expm1(self.c * x) / math.expm1(self.c)


class Logarithmic(_Ramp):
    """``b + (1 - b) (1 + log(x + e^(-c)) / c)`` (Wu et al. 2021, c = 10): fast, then slow.

    Defaults start 0.2, ramp 1000, c 10.
    """

    name = "logarithmic"

    def __init__(self, start: float = 0.2, ramp: float = 1000.0, c: float = 10.0) -> None:
        super().__init__(start, ramp)
        self.c = check_number("c", c, 0.0, strict=True)

    def get_params(self) -> dict[str, Any]:
        return {**super().get_params(), "c": self.c}

    def _shape(self, x: float) -> float:
        return 1.0 + math.log(x + math.exp(-self.c)) / self.c


class FixedExponential(Pacing):
    """``min(1, start * increase ** floor(step / step_length))``: the fixed exponential
    pacing of Hacohen and Weinshall 2019 (the pool grows by a constant factor every
    ``step_length`` steps). Defaults start 0.04, increase 2, step_length 100 (ours)."""

    name = "fixed_exp"

    def __init__(
        self, start: float = 0.04, increase: float = 2.0, step_length: float = 100.0
    ) -> None:
        self.start = check_unit("start", start, strict=True)
        self.increase = check_number("increase", increase, 1.0)
        self.step_length = check_number("step_length", step_length, 0.0, strict=True)

    def get_params(self) -> dict[str, Any]:
        return {"start": self.start, "increase": self.increase, "step_length": self.step_length}

    def __call__(self, step: float) -> float:
        level = math.floor(max(float(step), 0.0) / self.step_length)
        if self.increase == 1.0:
            return self.start
        # log-space comparison first: increase ** level can overflow for late steps
        if math.log(self.start) + level * math.log(self.increase) >= 0.0:
            return 1.0
        return min(1.0, self.start * self.increase**level)


class Constant(Pacing):
    """The same fraction at every step; ``Constant(1.0)`` is no curriculum at all."""

    name = "constant"

    def __init__(self, fraction: float = 1.0) -> None:
        self.fraction = check_unit("fraction", fraction, strict=True)

    def get_params(self) -> dict[str, Any]:
        return {"fraction": self.fraction}

    def __call__(self, step: float) -> float:
        return self.fraction


class Cyclical(Pacing):
    """The cyclical data size of Kesgin and Amasyali, "Cyclical Curriculum Learning",
    IEEE TNNLS 2023 (arXiv 2202.05531).

    The available fraction starts at ``start`` (the paper's sp), is divided by
    ``multiplier`` (alpha, in (0, 1)) each phase until it reaches ``end`` (ep,
    capped there), then multiplied by ``multiplier`` each phase until it is
    back at ``start`` (floored there), and so on: with sp = 0.25, ep = 1,
    alpha = 0.5 the sizes are 0.25, 0.5, 1, 0.5, 0.25, 0.5, 1, ... This follows
    ``get_cycle_sizes`` of the authors' code. A phase was one epoch in the
    paper; here it lasts ``phase_length`` steps of the teacher's clock.

    Defaults start 0.25, end 1.0, multiplier 0.5, phase_length 100 (ours).
    """

    name = "cyclical"

    def __init__(
        self,
        start: float = 0.25,
        end: float = 1.0,
        multiplier: float = 0.5,
        phase_length: float = 100.0,
    ) -> None:
        self.start = check_unit("start", start, strict=True)
        self.end = check_number("end", end, self.start, maximum=1.0)
        self.multiplier = check_unit("multiplier", multiplier, strict=True, strict_maximum=True)
        self.phase_length = check_number("phase_length", phase_length, 0.0, strict=True)
        self.cycle = self._cycle()

    def _cycle(self) -> list[float]:
        """One period of the sizes: start, growing to end, shrinking back (start excluded)."""
        if self.start == self.end:
            return [self.start]
        sizes = [self.start]
        size, rising = self.start, True
        while True:
            if rising:
                size = min(size / self.multiplier, self.end)
                rising = size != self.end
            else:
                size = max(size * self.multiplier, self.start)
                if size == self.start:
                    return sizes
            sizes.append(size)
            if len(sizes) > MAX_CYCLE:
                raise ParameterError(
                    f"cyclical pacing cycle longer than {MAX_CYCLE} phases; "
                    f"use a smaller multiplier than {self.multiplier!r}"
                )

    def get_params(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "multiplier": self.multiplier,
            "phase_length": self.phase_length,
        }

    def __call__(self, step: float) -> float:
        phase = math.floor(max(float(step), 0.0) / self.phase_length)
        return self.cycle[phase % len(self.cycle)]


PACINGS: dict[str, type[Pacing]] = {
    cls.name: cls
    for cls in (
        Linear,
        Quadratic,
        Root,
        Step,
        Exponential,
        Logarithmic,
        FixedExponential,
        Constant,
        Cyclical,
    )
}


def create_pacing(data: Mapping[str, Any]) -> Pacing:
    """Rebuild a pacing function from :meth:`Pacing.spec` output."""
    if not isinstance(data, Mapping) or data.get("kind") not in PACINGS:
        kind = data.get("kind") if isinstance(data, Mapping) else data
        raise ParameterError(f"unknown pacing {kind!r}; choose one of {', '.join(sorted(PACINGS))}")
    params = {k: v for k, v in data.items() if k != "kind"}
    try:
        return PACINGS[data["kind"]](**params)
    except TypeError as error:
        raise ParameterError(f"pacing {data['kind']!r}: {error}") from None


def as_pacing(spec: Pacing | Mapping[str, Any] | str) -> Pacing:
    """A pacing function from an instance, its :meth:`~Pacing.spec` form, or a
    name (with that family's defaults)."""
    if isinstance(spec, Pacing):
        return spec
    if isinstance(spec, str):
        return create_pacing({"kind": spec})
    return create_pacing(spec)


__all__ = [
    "PACINGS",
    "Constant",
    "Cyclical",
    "Exponential",
    "FixedExponential",
    "Linear",
    "Logarithmic",
    "Pacing",
    "Quadratic",
    "Root",
    "Step",
    "as_pacing",
    "create_pacing",
]
