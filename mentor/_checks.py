"""One place for the checks of hyper-parameters and other values a user passes in.

Each check returns the value in its plain Python type or raises
:class:`~mentor.errors.ParameterError` naming the parameter (``field``) and the
value given. The same rules hold everywhere:

- a number is any real number, Python's or NumPy's (``np.int64``, ``np.float32``);
  a boolean is never a number (``True`` is not ``1``) and neither is a string
  (``"0.5"`` is refused, not parsed);
- a number must be finite (NaN and infinities are refused) unless the check
  says it may be ``+inf``;
- a count is an integer (Python's or NumPy's), never a float, however whole;
- a flag is a boolean (Python's or NumPy's), never ``"false"`` or ``0``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from mentor.errors import ParameterError

__all__ = [
    "check_choice",
    "check_count",
    "check_flag",
    "check_number",
    "check_unit",
    "is_count",
    "is_number",
    "json_id",
    "plain",
]


def is_number(value: Any) -> bool:
    """Whether ``value`` is a real number (Python's or NumPy's) and not a boolean."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def is_count(value: Any) -> bool:
    """Whether ``value`` is an integer (Python's or NumPy's) and not a boolean."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_)


def _interval(minimum: float, strict: bool, maximum: float, strict_maximum: bool) -> str:
    """The condition a value failed, in words: ``>= 0``, ``> 0``, ``in (0, 1]``."""
    if maximum == math.inf:
        return f"{'>' if strict else '>='} {minimum:g}"
    if minimum == -math.inf:
        return f"{'<' if strict_maximum else '<='} {maximum:g}"
    left = "(" if strict else "["
    right = ")" if strict_maximum else "]"
    return f"in {left}{minimum:g}, {maximum:g}{right}"


def check_number(
    name: str,
    value: Any,
    minimum: float = -math.inf,
    strict: bool = False,
    *,
    maximum: float = math.inf,
    strict_maximum: bool = False,
    allow_inf: bool = False,
) -> float:
    """``value`` as a float in the interval from ``minimum`` to ``maximum``, else a
    :class:`ParameterError`.

    ``strict`` excludes ``minimum`` itself, ``strict_maximum`` excludes ``maximum``;
    ``allow_inf`` lets ``+inf`` through (when ``maximum`` is infinite), for parameters
    where infinity means "no limit".
    """
    if not is_number(value):
        raise ParameterError("must be a number", field=name, value=value)
    result = float(value)
    if math.isnan(result) or (math.isinf(result) and not (allow_inf and result > 0)):
        raise ParameterError("must be a finite number", field=name, value=value)
    below = result < minimum or (strict and result == minimum)
    above = result > maximum or (strict_maximum and result == maximum)
    if below or above:
        condition = _interval(minimum, strict, maximum, strict_maximum)
        raise ParameterError(f"must be {condition}", field=name, value=value)
    return result


def check_unit(
    name: str, value: Any, *, strict: bool = False, strict_maximum: bool = False
) -> float:
    """``value`` as a float in [0, 1] (a probability, a rate, a fraction); ``strict``
    and ``strict_maximum`` exclude 0 and 1."""
    return check_number(name, value, 0.0, strict, maximum=1.0, strict_maximum=strict_maximum)


def check_count(name: str, value: Any, minimum: int | None = 0, maximum: int | None = None) -> int:
    """``value`` as an integer >= ``minimum`` (any integer when ``minimum`` is None) and
    <= ``maximum`` when given, else a :class:`ParameterError`."""
    low = -math.inf if minimum is None else minimum
    high = math.inf if maximum is None else maximum
    if not is_count(value) or not low <= value <= high:
        if maximum is not None:
            wanted = f"an integer in [{low:g}, {maximum}]"
        else:
            wanted = "an integer" if minimum is None else f"an integer >= {minimum}"
        raise ParameterError(f"must be {wanted}", field=name, value=value)
    return int(value)


def check_flag(name: str, value: Any) -> bool:
    """``value`` if it is a boolean (Python's or NumPy's), else a :class:`ParameterError`
    (``bool("False")`` is True, so a flag read as text must not be coerced)."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    raise ParameterError("must be true or false", field=name, value=value)


def check_choice(name: str, value: Any, options: Iterable[str]) -> str:
    """``value`` if it is one of ``options``, else a :class:`ParameterError` listing them."""
    options = tuple(options)
    if not isinstance(value, str) or value not in options:
        raise ParameterError(f"must be one of {', '.join(options)}", field=name, value=value)
    return value


def plain(value: Any) -> Any:
    """A NumPy scalar as the Python value it holds (ids read from logs are NumPy);
    anything else unchanged."""
    return value.item() if isinstance(value, np.generic) else value


def json_id(value: Any) -> Any:
    """An id read back from saved JSON: a scalar (string or integer), else a ValueError
    (which ``load_state_dict`` reports as a corrupt state)."""
    if isinstance(value, list | dict):
        raise ValueError(f"an id must be a string or an integer, got {value!r}")
    return value


def check_spec(spec: Any, what: str, names: Iterable[str]) -> tuple[str, dict[str, Any]]:
    """The name and parameters of a JSON spec ``{"name": ..., "params": {...}}`` of a
    ``what`` (a student model, a teacher) whose name is one of ``names``, else a
    :class:`ParameterError` naming the field."""
    if not isinstance(spec, Mapping) or not isinstance(spec.get("name"), str):
        raise ParameterError(f"a {what} is given as {{'name': ..., 'params': {{...}}}}", value=spec)
    unknown = sorted(set(spec) - {"name", "params"})
    if unknown:
        raise ParameterError(f"unknown {what} field", field=unknown[0])
    params = spec.get("params") or {}
    if not isinstance(params, Mapping):
        raise ParameterError(f"{what} params must be an object", field="params", value=params)
    name = spec["name"]
    choices = sorted(names)
    if name not in choices:
        raise ParameterError(
            f"unknown {what}; choose one of {', '.join(choices)}", field="name", value=name
        )
    return name, dict(params)
