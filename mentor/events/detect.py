"""Pick the right reader for an event file from its extension and first line."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from mentor.errors import DataError
from mentor.events.log import EventLog
from mentor.events.pykt import is_pykt_header, read_pykt
from mentor.events.readers import (
    DEFAULT_ENCODING,
    check_encoding,
    decode_error,
    read_csv,
    read_kt,
    read_parquet,
    read_review_log,
)

FORMATS = ("auto", "kt", "csv", "review", "parquet", "pykt")


def detect_format(path: str | os.PathLike[str], encoding: str = DEFAULT_ENCODING) -> str:
    """``parquet`` by extension; for text files, ``kt`` when the first line is a
    bare count, ``review`` when the header has ``card_id`` and ``review_rating``,
    ``pykt`` when it has ``uid``, ``responses`` and ``questions`` or ``concepts``
    (pyKT's processed files), else ``csv``."""
    file = Path(path)
    if not file.is_file():
        raise DataError("file not found", file=str(path))
    if file.suffix.lower() in (".parquet", ".pq"):
        return "parquet"
    with open(file, encoding=encoding, errors="replace") as handle:
        first = handle.readline().strip()
    if first.rstrip(",").isdigit():
        return "kt"
    header = {name.strip() for name in first.split(",")}
    if {"card_id", "review_rating"} <= header:
        return "review"
    if is_pykt_header(list(header)):
        return "pykt"
    return "csv"


def read_events(
    path: str | os.PathLike[str],
    format: str = "auto",
    columns: Mapping[str, str] | None = None,
    encoding: str = "utf-8",
) -> EventLog:
    """Read an event file in any supported format (``auto`` detects it).

    ``columns`` (mentor's field -> the file's column) applies to generic CSV
    and Parquet only; given for another format it is an error rather than
    silently ignored. ``encoding`` is the text encoding (UTF-8 by default); a file that
    is not valid in it raises a :class:`DataError` naming the line and byte.
    """
    if format not in FORMATS:
        raise DataError(f"unknown format, expected one of {', '.join(FORMATS)}", value=format)
    encoding = check_encoding(encoding)
    kind = detect_format(path, encoding) if format == "auto" else format
    if columns and kind not in ("csv", "parquet"):
        raise DataError(
            "a column mapping applies to generic CSV and Parquet only, and this file is "
            f"read as {kind!r}"
            + (" (detected; --format csv reads it as generic CSV)" if format == "auto" else ""),
            file=str(path),
            field="--columns",
            value=",".join(f"{k}={v}" for k, v in columns.items()),
        )
    try:
        if kind == "kt":
            return read_kt(path, encoding=encoding)
        if kind == "review":
            return read_review_log(path, encoding=encoding)
        if kind == "parquet":
            return read_parquet(path, columns)
        if kind == "pykt":
            return read_pykt(path, encoding=encoding)
        return read_csv(path, columns, encoding=encoding)
    except UnicodeDecodeError as error:
        raise decode_error(path, encoding, error) from None
