"""Task files (JSON lines) and the arithmetic task set built from the demo course.

A task file has one JSON object per line: ``{"id": ..., "family": ..., "text": ...,
"answer": ...}``; ``family`` defaults to ``"all"`` and ``answer`` is optional (without
it, tasks need an LLM judge).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

import numpy as np

from mentor._io import atomic_open
from mentor.agents.items import Task
from mentor.demo.questions import TEMPLATES, generate
from mentor.errors import DataError


def read_tasks(path: str | os.PathLike[str]) -> list[Task]:
    """The tasks of a JSON-lines file.

    Raises
    ------
    DataError
        For a line that is not a JSON object, a missing or non-text ``id`` or ``text``,
        a repeated id, or a file without tasks (naming file, line, field and value).
    """
    tasks, seen = [], set()
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise DataError(f"not JSON ({error.msg})", file=str(path), line=number) from None
            if not isinstance(row, dict):
                raise DataError("not a JSON object", file=str(path), line=number)
            for name in ("id", "text"):
                if not isinstance(row.get(name), str) or not row[name].strip():
                    raise DataError(
                        "must be non-empty text",
                        file=str(path),
                        line=number,
                        field=name,
                        value=row.get(name),
                    )
            for name in ("family", "answer"):
                if name in row and not isinstance(row[name], str):
                    raise DataError(
                        "must be text", file=str(path), line=number, field=name, value=row[name]
                    )
            if row["id"] in seen:
                raise DataError(
                    "repeated task id", file=str(path), line=number, field="id", value=row["id"]
                )
            seen.add(row["id"])
            tasks.append(Task(row["id"], row.get("family", "all"), row["text"], row.get("answer")))
    if not tasks:
        raise DataError("no tasks in the file", file=str(path))
    return tasks


def write_tasks(tasks: Sequence[Task], path: str | os.PathLike[str]) -> None:
    """Write tasks as JSON lines, atomically."""
    with atomic_open(path, "w", encoding="utf-8") as handle:
        for task in tasks:
            row = {"id": task.id, "family": task.family, "text": task.text}
            if task.answer is not None:
                row["answer"] = task.answer
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def arithmetic_tasks(
    per_family: int = 10, levels: Sequence[int] = (1, 2, 3), seed: int = 0
) -> list[Task]:
    """Arithmetic and fraction problems from the demo course's question generators, one
    family per template and level (``add_carry-l2``), each with its checkable answer.
    The ``compare`` template (answers ``<``, ``>``, ``=``) is left out."""
    rng = np.random.default_rng(seed)
    tasks = []
    for name in TEMPLATES:
        if name == "compare":
            continue
        for level in levels:
            for i in range(per_family):
                question = generate(name, level, rng)
                text = f"{question.text} {question.hint}".strip()
                tasks.append(
                    Task(f"{name}-l{level}-{i}", f"{name}-l{level}", text, question.answer)
                )
    return tasks
