"""One place for the checks of hyper-parameters and other values a user passes in.

Each check returns the value in its plain Python type or raises
:class:`~mentor.errors.ParameterError` naming the parameter (``field``) and the
value given. Booleans are never numbers here (``True`` is not ``1``); NumPy
scalars are accepted wherever the Python type is.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mentor.errors import ParameterError


def check_number(name: str, value: Any, minimum: float, strict: bool = False) -> float:
    """``value`` as a finite float >= ``minimum`` (> when ``strict``), else a ParameterError."""
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise ParameterError("must be a number", field=name, value=value) from None
    if isinstance(value, bool | np.bool_) or not math.isfinite(result):
        raise ParameterError("must be a finite number", field=name, value=value)
    if result < minimum or (strict and result == minimum):
        relation = ">" if strict else ">="
        raise ParameterError(f"must be {relation} {minimum:g}", field=name, value=value)
    return result


def check_count(name: str, value: Any, minimum: int) -> int:
    """``value`` as an integer >= ``minimum``, else a ParameterError."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise ParameterError(f"must be an integer >= {minimum}", field=name, value=value)
    if value < minimum:
        raise ParameterError(f"must be an integer >= {minimum}", field=name, value=value)
    return int(value)


def json_id(value: Any) -> Any:
    """An id read back from saved JSON: a scalar (string or integer), else a ValueError
    (which ``load_state_dict`` reports as a corrupt state)."""
    if isinstance(value, list | dict):
        raise ValueError(f"an id must be a string or an integer, got {value!r}")
    return value
