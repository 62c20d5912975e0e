"""The columnar event log that every student model and teacher learns from.

An event is ``(learner, item, time, outcome)`` plus optional fields such as a
response time, a hint flag or an RL advantage. ``outcome`` lies in [0, 1]: a
correct answer, a recall grade, a per-example accuracy or a normalised reward.
The log keeps one NumPy array per column, never a list of Python objects, so
that a network's batch of per-example results is one cheap append.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mentor.errors import DataError

CORE_COLUMNS = ("learner", "item", "time", "outcome")


def _exact_value(value: Any) -> int | float:
    """A time for an error's ``value``: an int when whole (printed 33022688, not
    33022688.0), else the float."""
    number = float(value)
    return int(number) if number.is_integer() and abs(number) < 2**63 else number


def exact(value: Any) -> str:
    """A number for a message, exactly: a whole number without a decimal point
    or exponent (an order id 33022688, not 3.3023e+07), any other float as its
    shortest round-trip repr."""
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if number.is_integer() and abs(number) < 2**63:
            return str(int(number))
        return repr(number)
    return str(value)


@dataclass(frozen=True)
class Event:
    """One attempt of one learner at one item."""

    learner: Any
    item: Any
    time: float
    outcome: float
    extra: Mapping[str, Any] = field(default_factory=dict)


def _id_array(values: Any) -> np.ndarray:
    """Ids as an integer array when they are all integers, else as a string array."""
    array = np.asarray(values)
    if array.dtype.kind in "iu":
        return array.astype(np.int64, copy=False)
    if array.dtype.kind == "b":
        return array.astype(np.int64)
    if array.dtype.kind == "f":
        if array.size and not np.all(np.isfinite(array) & (array == np.round(array))):
            raise DataError("ids must be integers or strings", value=array.dtype.name)
        return array.astype(np.int64)
    return array.astype(str)


class EventLog:
    """A columnar log of events.

    Parameters
    ----------
    learner, item
        Ids, integers or strings, one per event.
    time
        Times as floats (seconds since the epoch, or step indices).
    outcome
        Outcomes in [0, 1].
    extra
        Optional further columns, each an array of the same length.
    source
        Where the events came from (a file name), used in error messages.
    lines
        For events read from a file, the file line of each event, so that a
        validation error or a warning can point at it; kept as :attr:`lines`
        on the log as read (a slice or a concatenation has ``lines=None``).
    validate
        Check the log on construction (default). Readers validate once with
        line numbers and then skip the second check.

    Raises
    ------
    DataError
        If columns differ in length, an outcome is NaN or outside [0, 1], a time
        is not finite, or a learner's times go backwards.
    """

    __slots__ = ("learner", "item", "time", "outcome", "extra", "lines")

    def __init__(
        self,
        learner: Any,
        item: Any,
        time: Any,
        outcome: Any,
        extra: Mapping[str, Any] | None = None,
        *,
        source: str | None = None,
        lines: np.ndarray | None = None,
        validate: bool = True,
    ) -> None:
        self.learner = _id_array(learner)
        self.item = _id_array(item)
        self.time = np.asarray(time, dtype=np.float64)
        self.outcome = np.asarray(outcome, dtype=np.float64)
        self.extra = {name: np.asarray(col) for name, col in (extra or {}).items()}
        self.lines = None if lines is None else np.asarray(lines, dtype=np.int64)
        if validate:
            self.validate(source=source, lines=lines)

    # ------------------------------------------------------------------ building
    @classmethod
    def empty(cls) -> EventLog:
        """A log with no events."""
        return cls(np.array([], dtype=np.int64), np.array([], dtype=np.int64), [], [])

    @classmethod
    def from_events(cls, events: Iterable[Event]) -> EventLog:
        """Build a log from :class:`Event` objects (convenient, not for hot paths)."""
        events = list(events)
        names = sorted({name for event in events for name in event.extra})
        extra = {name: [event.extra.get(name) for event in events] for name in names}
        return cls(
            [e.learner for e in events] if events else np.array([], dtype=np.int64),
            [e.item for e in events] if events else np.array([], dtype=np.int64),
            [e.time for e in events],
            [e.outcome for e in events],
            extra,
        )

    @classmethod
    def concat(cls, logs: Iterable[EventLog]) -> EventLog:
        """Join logs end to end; every log must carry the same extra columns."""
        logs = [log for log in logs if len(log)]
        if not logs:
            return cls.empty()
        names = set(logs[0].extra)
        for log in logs[1:]:
            if set(log.extra) != names:
                raise DataError(
                    "cannot join logs with different extra columns",
                    value=sorted(names ^ set(log.extra)),
                )
        return cls(
            np.concatenate([log.learner for log in logs]),
            np.concatenate([log.item for log in logs]),
            np.concatenate([log.time for log in logs]),
            np.concatenate([log.outcome for log in logs]),
            {name: np.concatenate([log.extra[name] for log in logs]) for name in names},
        )

    # ------------------------------------------------------------------ checking
    def validate(self, source: str | None = None, lines: np.ndarray | None = None) -> None:
        """Raise :class:`DataError` naming the first bad event, if there is one."""
        n = len(self.outcome)

        def where(index: int) -> dict[str, Any]:
            if lines is not None:
                return {"file": source, "line": int(lines[index])}
            return {"file": source, "line": None} if source else {}

        for name, column in [
            ("learner", self.learner),
            ("item", self.item),
            ("time", self.time),
            *self.extra.items(),
        ]:
            if len(column) != n:
                raise DataError(
                    f"column has {len(column)} values but 'outcome' has {n}",
                    file=source,
                    field=name,
                )
        bad = np.flatnonzero(np.isnan(self.outcome))
        if bad.size:
            raise DataError("outcome is NaN", **where(bad[0]), field="outcome", value="nan")
        bad = np.flatnonzero((self.outcome < 0.0) | (self.outcome > 1.0))
        if bad.size:
            i = bad[0]
            raise DataError(
                "outcome must lie in [0, 1]",
                **where(i),
                field="outcome",
                value=float(self.outcome[i]),
            )
        bad = np.flatnonzero(~np.isfinite(self.time))
        if bad.size:
            i = bad[0]
            raise DataError(
                "time must be a finite number", **where(i), field="time", value=str(self.time[i])
            )
        if n > 1:
            order = np.argsort(self.learner, kind="stable")
            same = self.learner[order][1:] == self.learner[order][:-1]
            times = self.time[order]
            back = np.flatnonzero(same & (times[1:] < times[:-1]))  # np.diff could overflow
            if back.size:
                i = order[back[0] + 1]
                previous = order[back[0]]
                note = self._repeat_note(i, lines)
                raise DataError(
                    f"time goes backwards for learner {self.learner[i].item()!r} "
                    f"(previous event at {exact(self.time[previous])}){note}",
                    **where(i),
                    field="time",
                    value=_exact_value(self.time[i]),
                )

    def _repeat_note(self, i: int, lines: np.ndarray | None) -> str:
        """A note when event ``i`` repeats an earlier event exactly (a block of rows
        appended twice shows up as time going backwards)."""
        same = (
            (self.learner[:i] == self.learner[i])
            & (self.item[:i] == self.item[i])
            & (self.time[:i] == self.time[i])
            & (self.outcome[:i] == self.outcome[i])
        )
        earlier = np.flatnonzero(same)
        if not earlier.size:
            return ""
        where = f"line {int(lines[earlier[0]])}" if lines is not None else f"event {earlier[0]}"
        return f"; it repeats {where} exactly: a duplicated block of rows?"

    # ------------------------------------------------------------------ access
    def __len__(self) -> int:
        return len(self.outcome)

    def __getitem__(self, index: Any) -> EventLog:
        """Rows selected by a slice, a boolean mask or an index array, as a new log."""
        if isinstance(index, (int, np.integer)):
            index = slice(index, index + 1 if index != -1 else None)
        return EventLog(
            self.learner[index],
            self.item[index],
            self.time[index],
            self.outcome[index],
            {name: col[index] for name, col in self.extra.items()},
            validate=False,
        )

    def __iter__(self) -> Iterator[Event]:
        learners, items = self.learner.tolist(), self.item.tolist()
        times, outcomes = self.time.tolist(), self.outcome.tolist()
        extra = {name: col.tolist() for name, col in self.extra.items()}
        for i in range(len(self)):
            yield Event(
                learners[i],
                items[i],
                times[i],
                outcomes[i],
                {name: col[i] for name, col in extra.items()},
            )

    def __repr__(self) -> str:
        return (
            f"EventLog({len(self)} events, {len(self.learners())} learners, "
            f"{len(np.unique(self.item))} items, extra={sorted(self.extra)})"
        )

    def learners(self) -> np.ndarray:
        """The distinct learner ids, sorted."""
        return np.unique(self.learner)

    def items(self) -> np.ndarray:
        """The distinct item ids, sorted."""
        return np.unique(self.item)

    def sorted(self) -> EventLog:
        """The same events ordered by time; ties keep their original order."""
        return self[np.argsort(self.time, kind="stable")]

    def for_learners(self, learners: Iterable[Any]) -> EventLog:
        """Only the events of the given learners."""
        return self[np.isin(self.learner, np.asarray(list(learners)))]

    def columns(self) -> dict[str, np.ndarray]:
        """All columns by name, the four core ones first."""
        return {
            "learner": self.learner,
            "item": self.item,
            "time": self.time,
            "outcome": self.outcome,
            **self.extra,
        }
