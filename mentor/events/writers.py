"""Writers for event logs. Both write to a temporary file and rename it, so a
crash never leaves half a file."""

from __future__ import annotations

import csv
import os

from mentor._io import atomic_open, atomic_path
from mentor.events.log import EventLog


def write_csv(log: EventLog, path: str | os.PathLike[str]) -> None:
    """Write the log as CSV with a header row: the four core columns, then the extras."""
    columns = log.columns()
    values = [column.tolist() for column in columns.values()]
    with atomic_open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(zip(*values, strict=True))


def write_parquet(log: EventLog, path: str | os.PathLike[str]) -> None:
    """Write the log as a Parquet file (one column per field)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(log.columns())
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
