"""Reading uploaded course files with mentor's own loaders.

An upload is written, under its own file name, into a fresh temporary folder
and read by :func:`mentor.domain.load_domain` (JSON), :func:`mentor.domain.load_domain_csv`
(items and prerequisites tables) or :func:`mentor.domain.load_junyi` (the
Junyi Academy exercise table), and an optional event log by
:func:`mentor.events.read_events`. Their errors name the file, line, field and
value; the temporary folder is cut out of the message so that it names the
file as the client sent it.

In the service every item and skill id is a string: ids that a JSON domain
gives as numbers are turned into strings (``1`` and ``"1"`` would then clash,
and are refused).
"""

from __future__ import annotations

import csv
import json
import math
import re
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from mentor.domain import Domain, Item, load_domain, load_domain_csv, load_junyi
from mentor.errors import DataError, DomainError, MentorError
from mentor.events import EventLog, read_events
from mentor.service.api.schemas import addressable

FORMATS = ("auto", "json", "csv", "junyi")
#: Longest item, skill or learner id (the columns are this wide).
MAX_ID = 200
T = TypeVar("T")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class UploadError(MentorError):
    """A problem in an uploaded file; ``kind`` is the class name of mentor's
    original error (``DataError``, ``CycleError``, ...)."""

    def __init__(self, message: str, kind: str = "DataError") -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class Upload:
    """A file as the client sent it."""

    filename: str
    data: bytes


@dataclass
class ParsedCourse:
    """What an import read: the domain, the edges the Junyi loader dropped, and the
    events of an optional history file."""

    domain: Domain
    format: str
    dropped_prerequisites: list[tuple[str, str]] = field(default_factory=list)
    events: EventLog | None = None


def _safe_name(name: str, default: str) -> str:
    base = Path(name.replace("\\", "/")).name if name else ""
    base = re.sub(r"[^A-Za-z0-9._-]", "_", base).lstrip(".")[:100]
    return base or default


def _read(folder: Path, reader: Callable[[], T]) -> T:
    """Run a loader, turning every error it raises about the file into an
    :class:`UploadError` whose message names the file as uploaded."""
    prefix = str(folder) + "/"
    try:
        return reader()
    except MentorError as error:
        raise UploadError(str(error).replace(prefix, ""), type(error).__name__) from None
    except UnicodeDecodeError as error:
        raise UploadError(
            f"the file is not UTF-8 text (byte {error.start}: {error.reason})"
        ) from None
    except csv.Error as error:
        raise UploadError(f"not a readable CSV file: {error}".replace(prefix, "")) from None
    except RecursionError:
        raise UploadError("the file nests too deeply to read") from None


def detect(upload: Upload) -> str:
    """``json`` for a ``.json`` file, ``junyi`` for a CSV whose header has ``name`` and
    ``prerequisites`` (the Junyi exercise table), else ``csv``."""
    name = upload.filename.lower()
    if name.endswith(".json"):
        return "json"
    first = upload.data[:4096].decode("utf-8-sig", errors="replace").splitlines()
    header = {h.strip() for h in first[0].split(",")} if first else set()
    if {"name", "prerequisites"} <= header and "item" not in header:
        return "junyi"
    if not name.endswith(".csv") and upload.data.lstrip()[:1] in (b"{", b"["):
        return "json"
    return "csv"


def parse_course(
    items: Upload,
    prerequisites: Upload | None = None,
    events: Upload | None = None,
    format: str = "auto",
) -> ParsedCourse:
    """Read an uploaded course (and its history, if given) into a domain with string ids.

    Raises :class:`UploadError` with a message naming the file, line, field
    and value of the first problem.
    """
    if format not in FORMATS:
        raise UploadError(f"format must be one of {', '.join(FORMATS)}, got {format!r}")
    kind = detect(items) if format == "auto" else format
    if prerequisites is not None and kind != "csv":
        raise UploadError(
            f"a prerequisites file goes with the csv format only (this course is {kind}: "
            "its prerequisites are inside the items file)"
        )
    with tempfile.TemporaryDirectory(prefix="mentor-import-") as tmp:
        folder = Path(tmp)
        suffix = {"json": ".json", "csv": ".csv", "junyi": ".csv"}[kind]
        name = _safe_name(items.filename, "items" + suffix)
        if not name.lower().endswith(suffix):
            name += suffix
        items_path = folder / name
        items_path.write_bytes(items.data)
        prereq_path = None
        if prerequisites is not None:
            prereq_path = folder / _safe_name(prerequisites.filename, "prerequisites.csv")
            if prereq_path == items_path:
                prereq_path = folder / ("prerequisites-" + prereq_path.name)
            prereq_path.write_bytes(prerequisites.data)
        dropped: list[tuple[str, str]] = []
        if kind == "json":
            domain = _read(folder, lambda: load_domain(items_path))
        elif kind == "csv":
            domain = _read(folder, lambda: load_domain_csv(items_path, prereq_path))
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                domain = _read(folder, lambda: load_junyi(items_path))
            dropped = [(str(p), str(c)) for p, c in domain.dropped_prerequisites]
        domain = _read(folder, lambda: canonical(domain, items_path.name))
        log = None
        if events is not None:
            events_path = folder / _safe_name(events.filename, "events.csv")
            if events_path in (items_path, prereq_path):
                events_path = folder / ("events-" + events_path.name)
            events_path.write_bytes(events.data)
            log = _read(folder, lambda: _history(read_events(events_path), domain, events_path))
    return ParsedCourse(domain, kind, dropped, log)


def _check_id(value: str, what: str, source: str) -> str:
    if not value.strip():
        raise DataError(f"empty {what} id", file=source, field=what, value=value)
    if _CONTROL.search(value):
        raise DataError(f"{what} id has a control character", file=source, field=what, value=value)
    if len(value) > MAX_ID:
        raise DataError(
            f"{what} id is longer than {MAX_ID} characters", file=source, field=what, value=value
        )
    return value


def _json_safe(value: Any, source: str, where: str) -> Any:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise DataError(f"not plain JSON data: {error}", file=source, field=where) from None
    return value


def canonical(domain: Domain, source: str) -> Domain:
    """The domain with every item and skill id a string, checked for what the
    service's tables can hold (ids up to 200 characters, finite difficulties,
    plain JSON attributes, at least one item)."""
    if not domain.items:
        raise DataError("the course has no items", file=source)
    skills: dict[str, dict[str, Any]] = {}
    for skill, attributes in domain.skill_attributes.items():
        key = _check_id(str(skill), "skill", source)
        if key in skills:
            raise DomainError(f"{source}: skill ids {skill!r} and {key!r} clash as strings")
        skills[key] = _json_safe(dict(attributes), source, f"skill {key!r} attributes")
    items = []
    seen: set[str] = set()
    for item in domain.items.values():
        key = _check_id(str(item.id), "item", source)
        if key in seen:
            raise DomainError(f"{source}: item ids {item.id!r} and {key!r} clash as strings")
        seen.add(key)
        difficulty = item.difficulty
        if difficulty is not None and not math.isfinite(difficulty):
            raise DataError(
                "difficulty must be a finite number", file=source, field="difficulty", value=key
            )
        attributes = _json_safe(dict(item.attributes), source, f"item {key!r} attributes")
        items.append(Item(key, tuple(str(s) for s in item.skills), difficulty, attributes))
    edges = [(str(p), str(c)) for p, c in domain.graph.edges]
    return Domain(items, skills, edges, domain.task_spaces, source=source)


def _history(log: EventLog, domain: Domain, path: Path) -> EventLog:
    """An imported event log with string ids, every item in the domain."""
    learners = log.learner.astype(str)
    items = log.item.astype(str)
    known = domain.items
    for index, item in enumerate(items.tolist()):
        if item not in known:
            raise DataError(
                f"unknown item (event {index + 1} of the file; the course has no such item)",
                file=str(path),
                field="item",
                value=item,
            )
    for index, learner in enumerate(learners.tolist()):
        _check_id(learner, "learner", f"{path} (event {index + 1})")
        try:
            addressable(learner)
        except ValueError as error:
            raise DataError(
                f"{error} (event {index + 1} of the file)",
                file=str(path),
                field="learner",
                value=learner,
            ) from None
    extra = {}
    for name, column in log.extra.items():
        values = np.asarray(column)
        if values.dtype.kind not in "biuf":
            raise DataError(
                "extra columns of imported events must be numbers", file=str(path), field=name
            )
        values = values.astype(np.float64)
        if not np.all(np.isfinite(values)):
            raise DataError(
                "extra columns of imported events must be finite numbers",
                file=str(path),
                field=name,
            )
        extra[name] = values
    return EventLog(learners, items, log.time, log.outcome, extra, validate=False)
