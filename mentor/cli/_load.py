"""Reading an event log for a command, with every leak guard's warning.

``mentor fit`` and ``mentor evaluate`` read their logs through
:func:`load_log`, so a warning that one command gives, the other gives too.
"""

from __future__ import annotations

import csv
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from mentor.errors import DataError


def _header(path: Path, encoding: str) -> list[str]:
    with open(path, encoding=encoding, errors="replace", newline="") as handle:
        return [name.strip() for name in next(csv.reader(handle), [])]


def _unused(header: list[str], mapping: Mapping[str, str] | None) -> list[str]:
    """The header's columns that the reader did not take as a core field."""
    fields = {"learner": "learner", "item": "item", "time": "time", "outcome": "outcome"}
    used = set({**fields, **(mapping or {})}.values())
    return [name for name in header if name and name not in used]


#: Unused columns that may hold an attempt's time or order id, by name: the
#: word ``order``, ``time``, ``stamp`` or ``date`` in it (``order_id``,
#: ``timestamp``, ``start_time``, ``date_created``).
TIME_LIKE = re.compile(r"order|time|stamp|date", re.IGNORECASE)


def _time_column_warning(
    path: Path,
    log: Any,
    header: list[str],
    unused: list[str],
    mapping: Mapping[str, str] | None,
    encoding: str,
) -> str | None:
    """When a CSV's times are its row positions (no time column), every row has
    its own time and the one-row-per-skill check cannot fire. For each unused
    column named like a time or order id (:data:`TIME_LIKE`) whose values all
    parse as times, the check is run with that column as the time; if it then
    finds an attempt written once per skill (the same rule as with a time
    column: at least 3 groups of rows of one learner at one value with
    different items, 95% of them with one outcome), a warning suggests
    ``--columns time=COLUMN``. An ordinary file, whose rows at one time differ
    in outcome or are too few, gets nothing."""
    from mentor.evaluation.leaks import expansion_warning
    from mentor.events import EventLog
    from mentor.events.readers import parse_time, read_csv

    if "time" in (mapping or {}) or "time" in header:
        return None
    for column in [name for name in unused if TIME_LIKE.search(name)]:
        try:
            values = read_csv(path, mapping, extra=[column], encoding=encoding).extra[column]
        except DataError:
            continue
        if values.dtype.kind != "f":
            try:  # ISO 8601 times
                values = np.asarray([parse_time(str(v)) for v in values.tolist()])
            except ValueError:
                continue  # neither numbers nor times: not an order id
        as_time = EventLog(log.learner, log.item, values, log.outcome, lines=log.lines,
                           validate=False)  # fmt: skip
        if expansion_warning(as_time, str(path)) is not None:
            return (
                f"{path}: no time column is read (each row's position is its time), so rows "
                f"of one attempt written once per skill cannot be detected, and read with "
                f"column {column!r} as the time they look like it; if {column!r} orders the "
                f"attempts, give --columns time={column}"
            )
    return None


def warn(message: str) -> None:
    print(f"mentor: warning: {message}", file=sys.stderr)


def load_log(
    path: Path,
    format: str,
    mapping: Mapping[str, str] | None,
    encoding: str,
    *,
    dedupe: bool,
    domain: Any = None,
) -> Any:
    """Read ``path`` (see :func:`mentor.events.read_events`), check it against
    ``domain``, and print a warning for each leak guard that fires: duplicated
    (learner, item, time) rows (dropped when ``dedupe``), one attempt written
    once per skill (CSV and Parquet; for a CSV without a time column, a column
    named like an order id that would reveal it, see
    :func:`_time_column_warning`), every sequence sorted by item id
    (three-line KT)."""
    from mentor.evaluation import check_domain, drop_duplicates, duplicate_warning
    from mentor.evaluation.leaks import expansion_warning, sorted_items_warning
    from mentor.events import detect_format, read_events
    from mentor.events.readers import check_encoding

    kind = detect_format(path, check_encoding(encoding)) if format == "auto" else format
    log = read_events(path, format, mapping, encoding)
    if len(log) == 0:
        raise DataError("log has no events", file=str(path))
    if domain is not None:
        check_domain(log, domain, str(path))
    if kind in ("csv", "parquet"):
        if kind == "csv":
            header = _header(path, check_encoding(encoding))
            columns = _unused(header, mapping)
        else:  # Parquet's columns other than the mapped ones are the log's extras
            columns = list(log.extra)
        message = expansion_warning(log, str(path), columns)
        if message:
            warn(message)
        elif kind == "csv":
            message = _time_column_warning(
                path, log, header, columns, mapping, check_encoding(encoding)
            )
            if message:
                warn(message)
    if kind == "kt":
        message = sorted_items_warning(log, str(path))
        if message:
            warn(message)
    message = duplicate_warning(log, str(path))
    if message:
        action = "dropped" if dedupe else "kept (use --drop-duplicates to drop them)"
        warn(f"{message}; {action}")
        if dedupe:
            log = drop_duplicates(log)
    return log
