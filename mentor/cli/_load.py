"""Reading an event log for a command, with every leak guard's warning.

``mentor fit`` and ``mentor evaluate`` read their logs through
:func:`load_log`, so a warning that one command gives, the other gives too.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mentor.errors import DataError


def _unused_columns(path: Path, mapping: Mapping[str, str] | None, encoding: str) -> list[str]:
    """The header's columns that the reader did not take as a core field."""
    with open(path, encoding=encoding, errors="replace") as handle:
        header = [name.strip() for name in handle.readline().split(",")]
    used = {"learner", "item", "time", "outcome", *(mapping or {}).values()}
    return [name for name in header if name and name not in used]


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
    once per skill (CSV), every sequence sorted by item id (three-line KT)."""
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
    if kind == "csv":
        columns = _unused_columns(path, mapping, check_encoding(encoding))
        message = expansion_warning(log, str(path), columns)
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
