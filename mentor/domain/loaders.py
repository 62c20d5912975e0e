"""Loaders for domain models: JSON, CSV tables, and the Junyi Academy exercise table."""

from __future__ import annotations

import csv
import json
import os
import warnings
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import networkx as nx

from mentor._csv import data_rows, open_text, read_header
from mentor._io import write_json
from mentor.domain.model import Domain, Item
from mentor.errors import CycleError, DataError, DomainError


def _rows(
    path: str | os.PathLike[str], required: tuple[str, ...]
) -> list[tuple[int, dict[str, str]]]:
    """Every data row of a UTF-8 CSV table as ``(line, {column: stripped value})``."""
    source = str(path)
    with open_text(path, "utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = read_header(reader, source, required)
        return [
            (line, {name: value.strip() for name, value in zip(header, row, strict=True)})
            for line, row in data_rows(reader, header, source)
        ]


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


def load_domain_csv(
    items_path: str | os.PathLike[str],
    prerequisites_path: str | os.PathLike[str] | None = None,
) -> Domain:
    """Load a domain from CSV tables.

    ``items_path`` has columns ``item`` and ``skills`` (skill ids separated by
    ``;`` or ``,`` inside the field; empty means the item is its own skill) and
    optionally ``difficulty``; any other column becomes an item attribute.
    ``prerequisites_path`` has columns ``prerequisite`` and ``skill``.
    """
    source = str(items_path)
    items = []
    seen: dict[str, int] = {}
    for line, row in _rows(items_path, ("item", "skills")):
        item_id = row["item"]
        if not item_id:
            raise DataError("missing value", file=source, line=line, field="item", value="")
        if item_id in seen:
            raise DataError(
                f"duplicate item (first on line {seen[item_id]})",
                file=source,
                line=line,
                field="item",
                value=item_id,
            )
        seen[item_id] = line
        difficulty = None
        if row.get("difficulty"):
            try:
                difficulty = float(row["difficulty"])
            except ValueError:
                raise DataError(
                    "difficulty is not a number",
                    file=source,
                    line=line,
                    field="difficulty",
                    value=row["difficulty"],
                ) from None
        attributes = {
            k: v for k, v in row.items() if k not in ("item", "skills", "difficulty") and v
        }
        items.append(
            Item(item_id, tuple(_split(row["skills"]) or [item_id]), difficulty, attributes)
        )
    prerequisites = []
    if prerequisites_path is not None:
        skills = {s for item in items for s in item.skills}
        psource = str(prerequisites_path)
        for line, row in _rows(prerequisites_path, ("prerequisite", "skill")):
            for name in ("prerequisite", "skill"):
                if row[name] not in skills:
                    raise DataError(
                        "unknown skill (no item exercises it)",
                        file=psource,
                        line=line,
                        field=name,
                        value=row[name],
                    )
            prerequisites.append((row["prerequisite"], row["skill"]))
    return Domain(items, prerequisites=prerequisites, source=source)


def load_domain(path: str | os.PathLike[str]) -> Domain:
    """Load a domain from a ``.json`` file (see :meth:`Domain.state_dict`) or an
    items ``.csv`` file (see :func:`load_domain_csv`)."""
    source = str(path)
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return load_domain_csv(path)
    if suffix != ".json":
        raise DataError("unsupported domain file type, expected .json or .csv", file=source)
    if not Path(path).is_file():
        raise DataError("file not found", file=source)
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except json.JSONDecodeError as error:
        raise DataError(f"invalid JSON: {error.msg}", file=source, line=error.lineno) from None
    return Domain.from_state_dict(data, source=source)


def save_domain(domain: Domain, path: str | os.PathLike[str]) -> None:
    """Write a domain as JSON, atomically."""
    write_json(path, domain.state_dict())


def load_junyi(path: str | os.PathLike[str], on_cycle: str = "drop") -> Domain:
    """Load the Junyi Academy exercise table as a domain: one skill and one item per
    exercise, prerequisites from the ``prerequisites`` field.

    The real table has flaws that a loader must deal with explicitly: exercises
    listed twice (the first row is kept), prerequisites repeated within a field,
    two exercises that list themselves as a prerequisite, and one three-exercise
    cycle. With ``on_cycle="drop"`` (default) self-loops are removed and each
    remaining cycle is broken by dropping its edge whose prerequisite was
    created last (the most recent edit is the likeliest mistake); every dropped
    edge is reported in a warning and kept in ``domain.dropped_prerequisites``.
    With ``on_cycle="error"`` the first cycle raises :class:`CycleError`.

    Skill attributes: ``topic``, ``area``, ``name`` (display name), ``live``,
    ``position`` (h, v on the Junyi knowledge map).
    """
    if on_cycle not in ("drop", "error"):
        raise DomainError(f"on_cycle must be 'drop' or 'error', got {on_cycle!r}")
    source = str(path)
    rows = _rows(path, ("name", "prerequisites"))
    skills: dict[str, dict[str, Any]] = {}
    created: dict[str, str] = {}
    edges: list[tuple[str, str]] = []
    edge_lines: dict[tuple[str, str], int] = {}
    for line, row in rows:
        name = row["name"]
        if not name:
            raise DataError("missing value", file=source, line=line, field="name", value="")
        if name in skills:
            continue
        attributes: dict[str, Any] = {
            "topic": row.get("topic", ""),
            "area": row.get("area", ""),
            "name": row.get("pretty_display_name", name),
            "live": row.get("live", "TRUE").upper() == "TRUE",
        }
        position = _position(row, source, line)
        if position is not None:
            attributes["position"] = position
        skills[name] = attributes
        created[name] = row.get("creation_date", "")
        for parent in dict.fromkeys(_split(row["prerequisites"])):
            edges.append((parent, name))
            edge_lines.setdefault((parent, name), line)
    for edge in edges:
        parent = edge[0]
        if parent not in skills:
            raise DataError(
                "prerequisite names an exercise that is not in the table",
                file=source,
                line=edge_lines[edge],
                field="prerequisites",
                value=parent,
            )
    dropped: list[tuple[str, str]] = []
    if on_cycle == "drop":
        graph = nx.DiGraph(edges)
        for node in list(nx.nodes_with_selfloops(graph)):
            graph.remove_edge(node, node)
            dropped.append((node, node))
        while True:
            try:
                cycle = nx.find_cycle(graph)
            except nx.NetworkXNoCycle:
                break
            edge = max(cycle, key=lambda e: (_created(created[e[0]]), e[0]))[:2]
            graph.remove_edge(*edge)
            dropped.append(edge)
        edges = [e for e in edges if e not in set(dropped)]
        if dropped:
            warnings.warn(
                f"{source}: dropped {len(dropped)} prerequisite edges that formed cycles: "
                + ", ".join(f"{p} -> {c}" for p, c in dropped),
                stacklevel=2,
            )
    else:
        for parent, child in edges:
            if parent == child:
                raise CycleError([parent], source)
    items = [Item(name, (name,), attributes={"area": a["area"]}) for name, a in skills.items()]
    domain = Domain(items, skills, edges, source=source)
    domain.dropped_prerequisites = dropped
    return domain


def _created(text: str) -> datetime:
    # Always timezone-aware: max() cannot compare naive and aware datetimes.
    try:
        stamp = datetime.fromisoformat(text.replace(" UTC", "+00:00"))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)


def _position(row: Mapping[str, str], source: str, line: int) -> list[int] | None:
    """``[h, v]`` from the ``h_position`` and ``v_position`` columns; None when the
    table has no such columns or both cells are blank; a :class:`DataError` naming
    the cell when one is blank alone or is not an integer."""
    cells = {field: (row.get(field) or "").strip() for field in ("h_position", "v_position")}
    if not any(cells.values()):
        return None
    position = []
    for field, text in cells.items():
        try:
            position.append(int(text))
        except ValueError:
            raise DataError(
                "a map position must be an integer", file=source, line=line, field=field, value=text
            ) from None
    return position
