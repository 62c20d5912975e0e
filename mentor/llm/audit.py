"""The audit log of chat calls: one JSON object per line, appended atomically.

Every call a client makes, answered or failed, becomes one line: the request
(model, messages, options), the answer, the token counts, the latency, the number of
HTTP attempts and the error if any. The API key is never written. Each line is written
by a single ``write`` on a file opened with ``O_APPEND``, so concurrent writers never
interleave parts of lines, and a crash leaves at most one unterminated last line, which
:func:`read_audit` reports by file and line.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from mentor.errors import DataError


def request_key(model: str, messages: Sequence[Mapping[str, str]], options: Mapping) -> str:
    """A stable hash of a request: the same model, messages and options give the same key."""
    payload = json.dumps(
        {"model": model, "messages": list(messages), "options": dict(options)},
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class AuditLog:
    """Appends call records to a JSONL file.

    Parameters
    ----------
    path
        The log file; created (with its folder) if missing, appended to otherwise.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def write(self, record: Mapping[str, Any]) -> None:
        """Append ``record`` as one line."""
        line = (json.dumps(dict(record), ensure_ascii=False, sort_keys=True) + "\n").encode()
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                written = os.write(fd, line)
                while written < len(line):  # a regular file takes it whole; be safe anyway
                    written += os.write(fd, line[written:])
            finally:
                os.close(fd)


def read_audit(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """The records of an audit log, in order.

    Raises
    ------
    DataError
        For a line that is not a JSON object (naming the file and line).
    """
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise DataError(
                    f"not a JSON line ({error.msg}); was the run cut off while writing?",
                    file=str(path),
                    line=number,
                ) from None
            if not isinstance(record, dict):
                raise DataError("not a JSON object", file=str(path), line=number)
            yield record
