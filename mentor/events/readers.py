"""Readers for event logs: generic CSV, the three-line knowledge-tracing format,
review logs of spaced-repetition apps, and Parquet.

Every reader checks the whole file and raises :class:`~mentor.errors.DataError`
naming the file, line, field and value of the first problem.
"""

from __future__ import annotations

import codecs
import csv
import math
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from mentor._csv import data_rows, open_text, read_header
from mentor.errors import DataError
from mentor.events.log import CORE_COLUMNS, EventLog

#: Largest integer time kept exactly: times are float64, whose integers are exact
#: up to 2**53 (a nanosecond Unix timestamp, about 1.7e18, is not).
MAX_EXACT_TIME = 2**53


class InexactTimeError(ValueError):
    """An integer time too large to keep exactly as a float64."""


def _inexact_time() -> InexactTimeError:
    return InexactTimeError(
        f"integer time beyond 2**53 ({MAX_EXACT_TIME}) cannot be kept exactly, so order "
        "checks and messages would use a rounded value; give times in seconds or "
        "milliseconds"
    )


def parse_time(text: str) -> float:
    """A time as a float: a plain number as it is, ISO 8601 as seconds since the epoch.

    ISO times without a zone are taken as UTC. Raises ``ValueError`` otherwise,
    and :class:`InexactTimeError` for an integer beyond 2**53 in absolute value
    (nanosecond timestamps), which a float cannot hold exactly.
    """
    text = text.strip()
    digits = text.lstrip("+-")
    if digits.isdigit() and digits.isascii() and abs(int(text)) > MAX_EXACT_TIME:
        raise _inexact_time()
    try:
        value = float(text)
    except ValueError:
        stamp = datetime.fromisoformat(text)
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=UTC)
        return stamp.timestamp()
    if not math.isfinite(value):
        raise ValueError(f"not a finite time: {text}")
    return value


#: Text files are read as UTF-8, a byte-order mark allowed, unless told otherwise.
DEFAULT_ENCODING = "utf-8-sig"


def check_encoding(encoding: str) -> str:
    """``encoding`` if Python knows it (UTF-8 read as ``utf-8-sig``, so a byte-order
    mark is dropped), else a :class:`DataError`."""
    try:
        name = codecs.lookup(encoding).name
    except (LookupError, TypeError):
        raise DataError("unknown text encoding", field="--encoding", value=encoding) from None
    return DEFAULT_ENCODING if name == "utf-8" else encoding


def decode_error(
    path: str | os.PathLike[str], encoding: str, error: UnicodeDecodeError
) -> DataError:
    """A :class:`DataError` naming the line and byte where ``path`` stops being
    text in ``encoding`` (found again from the raw bytes: the decoder's own
    offset is relative to the chunk it was reading)."""
    data = Path(path).read_bytes()
    try:
        data.decode(encoding)
    except UnicodeDecodeError as first:
        error = first
    offset = error.start
    line = data.count(b"\n", 0, offset) + 1
    column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    shown = "UTF-8" if codecs.lookup(encoding).name.startswith("utf-8") else encoding
    return DataError(
        f"byte 0x{data[offset]:02x} at offset {offset} (column {column}) is not {shown} text; "
        "give the file's encoding, e.g. --encoding latin-1 or --encoding cp1252",
        file=str(path),
        line=line,
    )


def _as_written(text: str) -> int | float | str:
    """A number for an error's ``value`` as the file writes it: ``33022688``, not
    ``33022688.0``."""
    try:
        return int(text)
    except ValueError:
        number = float(text)
        return number if repr(number) == text else text


def _number_or_text(values: list[str]) -> np.ndarray:
    try:
        return np.array([float(v) for v in values], dtype=np.float64)
    except ValueError:
        return np.array(values, dtype=str)


def read_csv(
    path: str | os.PathLike[str],
    columns: Mapping[str, str] | None = None,
    extra: Sequence[str] = (),
    delimiter: str = ",",
    encoding: str = DEFAULT_ENCODING,
) -> EventLog:
    """Read events from a CSV file with a header row.

    Parameters
    ----------
    path
        The CSV file.
    columns
        Maps mentor's fields (``learner``, ``item``, ``time``, ``outcome``) to the
        file's column names; fields not named map to columns of the same name.
        Without a time column, events are numbered in file order; a time
        column named here must exist.
    extra
        Further columns to keep, as numbers when every value parses as one.
    delimiter
        Field separator.
    encoding
        Text encoding (default UTF-8, with or without a byte-order mark).

    Examples
    --------
    >>> log = read_csv("answers.csv", {"learner": "user_id", "item": "skill_id",
    ...                                 "outcome": "correct"})  # doctest: +SKIP
    """
    source = str(path)
    mapping = {name: name for name in CORE_COLUMNS}
    unknown = set(columns or {}) - set(CORE_COLUMNS)
    if unknown:
        raise DataError(
            f"unknown field in column mapping (expected one of {', '.join(CORE_COLUMNS)})",
            value=sorted(unknown)[0],
        )
    mapping.update(columns or {})
    with open_text(path, encoding) as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        needed = [mapping[f] for f in ("learner", "item", "outcome")] + list(extra)
        if "time" in (columns or {}):  # a time column asked for by name must be there
            needed.append(mapping["time"])
        header = read_header(reader, source, needed)
        has_time = mapping["time"] in header
        position = {name: header.index(name) for name in header}
        wanted = {f: position[mapping[f]] for f in ("learner", "item", "outcome")}
        if has_time:
            wanted["time"] = position[mapping["time"]]
        extra_pos = {name: position[name] for name in extra}

        learners: list[str] = []
        items: list[str] = []
        times: list[float] = []
        outcomes: list[float] = []
        extras: dict[str, list[str]] = {name: [] for name in extra}
        lines: list[int] = []
        for line, row in data_rows(reader, header, source):
            for index in wanted.values():
                if not row[index].strip():
                    raise DataError(
                        "missing value", file=source, line=line, field=header[index], value=""
                    )
            learners.append(row[wanted["learner"]].strip())
            items.append(row[wanted["item"]].strip())
            text = row[wanted["outcome"]].strip()
            try:
                outcome = float(text)
            except ValueError:
                raise DataError(
                    "outcome is not a number",
                    file=source,
                    line=line,
                    field=header[wanted["outcome"]],
                    value=text,
                ) from None
            if not (math.isnan(outcome) or 0.0 <= outcome <= 1.0):  # NaN: the log's check
                raise DataError(
                    "outcome must lie in [0, 1]",
                    file=source,
                    line=line,
                    field=header[wanted["outcome"]],
                    value=_as_written(text),
                )
            outcomes.append(outcome)
            if has_time:
                text = row[wanted["time"]]
                try:
                    times.append(parse_time(text))
                except ValueError as error:
                    raise DataError(
                        str(error)
                        if isinstance(error, InexactTimeError)
                        else "unparseable time (expected a number or ISO 8601)",
                        file=source,
                        line=line,
                        field=header[wanted["time"]],
                        value=text,
                    ) from None
            else:
                times.append(float(len(times)))
            for name, index in extra_pos.items():
                extras[name].append(row[index])
            lines.append(line)

    line_array = np.asarray(lines, dtype=np.int64)
    # Name the file's own column in any validation error, not mentor's field name.
    try:
        return EventLog(
            learners,
            items,
            times,
            outcomes,
            {name: _number_or_text(values) for name, values in extras.items()},
            source=source,
            lines=line_array,
        )
    except DataError as error:
        if error.field in mapping and mapping[error.field] != error.field:
            raise DataError(
                error.problem,
                file=error.file,
                line=error.line,
                field=mapping[error.field],
                value=error.value,
            ) from None
        raise


def read_kt(
    path: str | os.PathLike[str],
    learner_prefix: str | None = None,
    encoding: str = DEFAULT_ENCODING,
) -> EventLog:
    """Read the three-line knowledge-tracing format (DKT and DKVMN benchmark files).

    Each learner takes three lines: the number of answers, the comma-separated
    item (skill) ids, and the comma-separated 0/1 answers. Learners are named
    ``<prefix>0, <prefix>1, ...`` in file order, the prefix being the file's
    stem and a colon unless given, so that the learners of a train file and a
    test file never share an id. The time of an answer is its position in the
    learner's sequence. Items are integer ids. ``encoding`` is the file's text
    encoding (default UTF-8, a byte-order mark allowed).
    """
    source = str(path)
    with open_text(path, encoding) as handle:
        text_lines = [line.strip() for line in handle]
    while text_lines and not text_lines[-1]:
        text_lines.pop()
    if not text_lines:
        raise DataError("file is empty", file=source, line=1)
    if len(text_lines) % 3:
        raise DataError(
            f"expected three lines per learner, but the file has {len(text_lines)} lines",
            file=source,
            line=len(text_lines),
        )

    prefix = f"{Path(path).stem}:" if learner_prefix is None else learner_prefix
    learners, items, outcomes, times, lines = [], [], [], [], []
    for block in range(len(text_lines) // 3):
        first = 3 * block
        count_text, item_text, answer_text = text_lines[first : first + 3]
        try:
            count = int(count_text.rstrip(","))
        except ValueError:
            raise DataError(
                "number of answers is not an integer",
                file=source,
                line=first + 1,
                field="count",
                value=count_text,
            ) from None
        cells = [c for c in item_text.split(",") if c.strip()]
        answers = [c for c in answer_text.split(",") if c.strip()]
        for name, values, line in (("item", cells, first + 2), ("outcome", answers, first + 3)):
            if len(values) != count:
                raise DataError(
                    f"has {len(values)} values but the count line says {count}",
                    file=source,
                    line=line,
                    field=name,
                )
        try:
            item_ids = np.array([int(c) for c in cells], dtype=np.int64)
        except (ValueError, OverflowError):
            bad = next(c for c in cells if not _is_int64(c))
            raise DataError(
                "item id is not an integer (64-bit)",
                file=source,
                line=first + 2,
                field="item",
                value=bad,
            ) from None
        try:
            answer_values = np.array([float(c) for c in answers], dtype=np.float64)
        except ValueError:
            bad = next(c for c in answers if not _is_float(c))
            raise DataError(
                "answer is not a number", file=source, line=first + 3, field="outcome", value=bad
            ) from None
        outside = np.flatnonzero(~((answer_values >= 0) & (answer_values <= 1)))
        if outside.size:
            raise DataError(
                f"answer must lie in [0, 1] (answer {outside[0] + 1} of {count})",
                file=source,
                line=first + 3,
                field="outcome",
                value=answers[outside[0]].strip(),
            )
        learners.append(np.full(count, f"{prefix}{block}"))
        items.append(item_ids)
        outcomes.append(answer_values)
        times.append(np.arange(count, dtype=np.float64))
        lines.append(np.full(count, first + 3, dtype=np.int64))

    return EventLog(
        np.concatenate(learners),
        np.concatenate(items),
        np.concatenate(times),
        np.concatenate(outcomes),
        source=source,
        lines=np.concatenate(lines),
    )


def _is_int64(text: str) -> bool:
    try:
        return -(2**63) <= int(text) < 2**63
    except ValueError:
        return False


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


#: Ratings of a review log (Anki / FSRS convention).
REVIEW_RATINGS = {1: "again", 2: "hard", 3: "good", 4: "easy"}


def read_review_log(
    path: str | os.PathLike[str],
    learner: Any | None = None,
    encoding: str = DEFAULT_ENCODING,
) -> EventLog:
    """Read a spaced-repetition review log (Anki / FSRS export).

    Columns ``card_id, review_rating, review_time`` and optionally
    ``review_duration`` (ms). Each review becomes an event whose item is the
    card, whose time is seconds since the epoch, and whose outcome is 0 for
    "Again" (rating 1, a lapse) and 1 otherwise, the recall convention of FSRS.
    Extra columns ``rating`` (1-4) and, where present, ``duration_ms`` keep the
    rest. The log holds one person's reviews; ``learner`` names them (the file
    name by default). ``encoding`` is the file's text encoding (default UTF-8).
    """
    source = str(path)
    name = Path(path).stem if learner is None else learner
    with open_text(path, encoding) as handle:
        reader = csv.reader(handle)
        header = read_header(reader, source, ("card_id", "review_rating", "review_time"))
        card_i, rating_i, time_i = (
            header.index(c) for c in ("card_id", "review_rating", "review_time")
        )
        duration_i = header.index("review_duration") if "review_duration" in header else None
        cards, ratings, times, durations, lines = [], [], [], [], []
        for line, row in data_rows(reader, header, source):
            card = row[card_i].strip()
            if not card:
                raise DataError("missing value", file=source, line=line, field="card_id", value="")
            rating = row[rating_i].strip()
            if rating not in ("1", "2", "3", "4"):
                raise DataError(
                    "rating must be 1 (Again), 2 (Hard), 3 (Good) or 4 (Easy)",
                    file=source,
                    line=line,
                    field="review_rating",
                    value=rating,
                )
            try:
                times.append(parse_time(row[time_i]))
            except ValueError as error:
                raise DataError(
                    str(error)
                    if isinstance(error, InexactTimeError)
                    else "unparseable time (expected ISO 8601 or a number)",
                    file=source,
                    line=line,
                    field="review_time",
                    value=row[time_i],
                ) from None
            if duration_i is not None:
                text = row[duration_i].strip()
                try:
                    durations.append(float(text) if text else math.nan)
                except ValueError:
                    raise DataError(
                        "duration is not a number",
                        file=source,
                        line=line,
                        field="review_duration",
                        value=text,
                    ) from None
            cards.append(card)
            ratings.append(int(rating))
            lines.append(line)
    rating_array = np.asarray(ratings, dtype=np.int64)
    extra: dict[str, np.ndarray] = {"rating": rating_array}
    if duration_i is not None:
        extra["duration_ms"] = np.asarray(durations, dtype=np.float64)
    return EventLog(
        np.full(len(cards), name),
        np.asarray(cards, dtype=str),
        times,
        (rating_array > 1).astype(np.float64),
        extra,
        source=source,
        lines=np.asarray(lines, dtype=np.int64),
    )


def read_parquet(
    path: str | os.PathLike[str], columns: Mapping[str, str] | None = None
) -> EventLog:
    """Read a log written by :func:`~mentor.events.write_parquet` (or any Parquet
    file with columns ``learner, item, time, outcome``; other columns become extras).

    ``columns`` maps mentor's fields to the file's column names, as for
    :func:`read_csv` (``{"learner": "user_id", "time": "order_id"}``); the
    mapped columns must exist. Integer times beyond 2**53 are refused (a
    float64 time would round them).
    """
    import pyarrow.parquet as pq

    source = str(path)
    unknown = set(columns or {}) - set(CORE_COLUMNS)
    if unknown:
        raise DataError(
            f"unknown field in column mapping (expected one of {', '.join(CORE_COLUMNS)})",
            value=sorted(unknown)[0],
        )
    mapping = {name: name for name in CORE_COLUMNS}
    mapping.update(columns or {})
    if not Path(path).is_file():
        raise DataError("file not found", file=source)
    try:
        table = pq.read_table(path)
    except Exception as error:  # pyarrow raises several types for a corrupt file
        raise DataError(f"not a readable Parquet file ({error})", file=source) from None
    for field in CORE_COLUMNS:
        if mapping[field] not in table.column_names:
            raise DataError(
                f"missing column (the file has: {', '.join(table.column_names)})",
                file=source,
                field=mapping[field],
            )
    data = {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}
    core = {field: data[mapping[field]] for field in CORE_COLUMNS}
    time = np.asarray(core["time"])
    big = np.zeros(0, dtype=np.int64)
    if time.dtype.kind in "iu":  # checked before the float64 conversion rounds them
        big = np.flatnonzero((time > MAX_EXACT_TIME) | (time < -MAX_EXACT_TIME))
    if big.size:
        raise DataError(
            f"row {int(big[0]) + 1}: {_inexact_time()}",
            file=source,
            field=mapping["time"],
            value=int(time[big[0]]),
        )
    used = set(mapping.values())
    extra = {name: col for name, col in data.items() if name not in used}
    try:
        return EventLog(
            core["learner"], core["item"], core["time"], core["outcome"], extra, source=source
        )
    except DataError as error:  # name the file's own column
        if error.field in mapping and mapping[error.field] != error.field:
            raise DataError(
                error.problem, file=error.file, line=error.line,
                field=mapping[error.field], value=error.value,
            ) from None  # fmt: skip
        raise
