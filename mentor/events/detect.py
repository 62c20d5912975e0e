"""Pick the right reader for an event file from its extension and first line."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from mentor.errors import DataError
from mentor.events.log import EventLog
from mentor.events.readers import read_csv, read_kt, read_parquet, read_review_log

FORMATS = ("auto", "kt", "csv", "review", "parquet")


def detect_format(path: str | os.PathLike[str]) -> str:
    """``parquet`` by extension; for text files, ``kt`` when the first line is a
    bare count, ``review`` when the header has ``card_id`` and ``review_rating``,
    else ``csv``."""
    file = Path(path)
    if not file.is_file():
        raise DataError("file not found", file=str(path))
    if file.suffix.lower() in (".parquet", ".pq"):
        return "parquet"
    with open(file, encoding="utf-8-sig", errors="replace") as handle:
        first = handle.readline().strip()
    if first.rstrip(",").isdigit():
        return "kt"
    header = {name.strip() for name in first.split(",")}
    if {"card_id", "review_rating"} <= header:
        return "review"
    return "csv"


def read_events(
    path: str | os.PathLike[str],
    format: str = "auto",
    columns: Mapping[str, str] | None = None,
) -> EventLog:
    """Read an event file in any supported format (``auto`` detects it)."""
    if format not in FORMATS:
        raise DataError(f"unknown format, expected one of {', '.join(FORMATS)}", value=format)
    kind = detect_format(path) if format == "auto" else format
    if kind == "kt":
        return read_kt(path)
    if kind == "review":
        return read_review_log(path)
    if kind == "parquet":
        return read_parquet(path)
    return read_csv(path, columns)
