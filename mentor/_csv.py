"""The preamble every CSV reader of mentor shares: open the file as text, read and
check the header, then walk the data rows with their line numbers.

Errors name the file and line (1-based, as an editor shows them) and the column,
as :class:`~mentor.errors.DataError` promises.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from mentor.errors import DataError


def open_text(path: str | os.PathLike[str], encoding: str) -> IO[str]:
    """``path`` opened as text for :mod:`csv` (no newline translation); a
    :class:`DataError` when there is no such file."""
    file = Path(path)
    if not file.is_file():
        raise DataError("file not found", file=str(path))
    return open(file, newline="", encoding=encoding)


def read_header(reader: Iterator[list[str]], source: str, required: Iterable[str]) -> list[str]:
    """The header row of a ``csv.reader``, its names stripped; a :class:`DataError`
    when the file is empty or a ``required`` column is missing."""
    header = next(reader, None)
    if header is None:
        raise DataError("file is empty, expected a header row", file=source, line=1)
    header = [name.strip() for name in header]
    for name in required:
        if name not in header:
            raise DataError(
                f"missing column (header has: {', '.join(header)})",
                file=source,
                line=1,
                field=name,
            )
    return header


def data_rows(reader: Any, header: Sequence[str], source: str) -> Iterator[tuple[int, list[str]]]:
    """``(line, row)`` for every row of a ``csv.reader`` after its header: blank rows
    skipped, a row with another number of fields than the header refused."""
    for row in reader:
        line = reader.line_num
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise DataError(
                f"row has {len(row)} fields but the header has {len(header)}",
                file=source,
                line=line,
            )
        yield line, row
