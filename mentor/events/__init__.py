"""Events and the columnar :class:`EventLog`, with readers and writers for common formats."""

from mentor.events.detect import detect_format, read_events
from mentor.events.log import Event, EventLog
from mentor.events.pykt import pykt_domain, read_pykt
from mentor.events.readers import read_csv, read_kt, read_parquet, read_review_log
from mentor.events.writers import write_csv, write_parquet

__all__ = [
    "Event",
    "EventLog",
    "detect_format",
    "read_events",
    "read_csv",
    "read_kt",
    "read_parquet",
    "read_pykt",
    "pykt_domain",
    "read_review_log",
    "write_csv",
    "write_parquet",
]
