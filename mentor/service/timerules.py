"""The times the service accepts for events, and exact text for numbers in errors.

A course's ``clock`` says what an event's time is:

``wall``
    Seconds since the epoch (UTC), or an ISO 8601 timestamp. A course whose
    ``time_unit`` is ``ms`` takes numeric times in milliseconds (stored as
    seconds), and refuses a number that is a time of the last year in seconds
    (it would be stored as a time in January 1970). A time may be at most
    ``tolerance`` seconds (default :data:`FUTURE_TOLERANCE_S`, 5 minutes: clock
    drift between a device and the server) after the server's clock, and not
    before the epoch. A time beyond it is refused with a 422 that names the
    value, the server's time and, when dividing by 1000, 10\\ :sup:`6` or
    10\\ :sup:`9` would make it a plausible time, the unit it was probably sent
    in (an app that sends ``Date.now()``, milliseconds, instead of seconds).

``steps``
    A step count of the app's own: the server's clock does not apply, but a
    time must be at most :data:`MAX_STEP` in size.

A time already refused never reaches the database, so one bad time can no
longer push a learner's "previous event" into the far future.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from mentor.events.readers import parse_time

#: How far (seconds) an event's time may be after the server's clock.
FUTURE_TOLERANCE_S = 300.0
#: The largest time in a course whose clock is ``steps``: the last second of the
#: year 9999 (9999-12-31T23:59:59Z), the largest time a calendar date holds, which
#: teachers that schedule reviews by date turn each time into.
MAX_STEP = 253402300799.0
#: Units a sender may have used by mistake instead of seconds, by divisor.
UNITS = ((1e3, "milliseconds"), (1e6, "microseconds"), (1e9, "nanoseconds"))


class TimeRefused(ValueError):
    """A time the course does not accept; the message says why, in one line."""


def exact(value: float) -> str:
    """A number written out exactly: an integer without a decimal point, any other
    number as the shortest text that reads back as the same double (never ``%g``
    rounding, which prints 1796600000 and 1796600001 both as ``1.7966e+09``)."""
    if math.isfinite(value) and value == int(value) and abs(value) < 2**63:
        return str(int(value))
    return repr(float(value))


def utc_text(seconds: float) -> str:
    """Seconds since the epoch as an ISO 8601 UTC time (or the number itself when it
    is out of the calendar's range)."""
    try:
        return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return exact(seconds)


#: How far back a time in seconds counts as recent (:func:`event_time`'s unit check).
RECENT_S = 366 * 86400


def _is_number(text: str) -> bool:
    """Whether ``text`` is a plain number (as :func:`float` reads it)."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def event_time(
    raw: float | str,
    *,
    clock: str,
    unit: str,
    now: float,
    tolerance: float = FUTURE_TOLERANCE_S,
) -> float:
    """The time to store for an event sent with time ``raw`` (a number or an ISO
    8601 text), in a course with this ``clock`` and ``unit`` when the server's
    clock says ``now``.

    Raises
    ------
    TimeRefused
        When the time is not accepted (see the module's docstring).
    """
    shown = repr(raw) if isinstance(raw, str) else exact(raw)
    # A number sent as text ("1796601600000") is a number: the course's unit and the
    # unit hint below apply to it as to a JSON number; other text is an ISO 8601 time.
    numeric = not isinstance(raw, str) or _is_number(raw)
    if isinstance(raw, str):
        try:
            value = parse_time(raw)
        except (ValueError, OverflowError):
            raise TimeRefused(f"{shown} is neither a number nor an ISO 8601 time") from None
    else:
        value = float(raw)
    if numeric and clock == "wall" and unit == "ms":
        # Seconds sent to a course in milliseconds would be stored as a time in
        # January 1970: a value that is a recent time in seconds is refused instead
        # (no time in milliseconds of the last 50 years is that small).
        if now - RECENT_S <= value <= now + tolerance:
            raise TimeRefused(
                f"{shown} looks like seconds ({utc_text(value)}), but this course's "
                f"time_unit is 'ms' (as milliseconds it is {utc_text(value / 1000.0)}): "
                "send milliseconds, or set the course's time_unit to 's'"
            )
        value /= 1000.0
    if clock != "wall":
        if abs(value) > MAX_STEP:
            raise TimeRefused(
                f"{shown} is not a step count the course can hold (at most "
                f"{exact(MAX_STEP)} in size)"
            )
        return value
    if value < 0:
        raise TimeRefused(
            f"{shown} is before 1970-01-01T00:00:00Z; a wall-clock course takes seconds "
            "since the epoch"
        )
    if value > now + tolerance:
        ahead = value - now
        message = (
            f"{shown} is {exact(ahead)} s after the server's time {exact(now)} "
            f"({utc_text(now)}); at most {exact(tolerance)} s ahead is accepted"
        )
        if numeric:
            for divisor, name in UNITS:
                scaled = value / divisor
                # Plausible: within a year before now (or within the tolerance after it).
                if now - RECENT_S <= scaled <= now + tolerance:
                    message += (
                        f"; it looks like {name}: in seconds it would be {exact(scaled)} "
                        f"({utc_text(scaled)})"
                    )
                    if divisor == 1e3 and unit == "s":
                        message += " (or set the course's time_unit to 'ms')"
                    break
        raise TimeRefused(message)
    return value
