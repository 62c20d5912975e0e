"""Reader for the processed files of pyKT (Liu et al., "pyKT: A Python Library to
Benchmark Deep Learning based Knowledge Tracing Models", NeurIPS 2022 Datasets
and Benchmarks), so that a pyKT user can point mentor at ``data/<name>/``.

pyKT's preprocessing writes, per dataset, ``train_valid.csv`` and ``test.csv``
(one row per learner) and ``train_valid_sequences.csv`` / ``test_sequences.csv``
(each learner cut into rows of at most ``maxlen`` interactions, padded with
``-1``). Every row has the columns ``uid`` and ``responses`` and whichever of
``fold, questions, concepts, timestamps, usetimes, selectmasks, is_repeat``
the dataset has; the sequence columns hold comma-separated values. A question
with several concepts is written once per concept, every copy after the first
marked ``is_repeat = 1``.

mentor reads one event per attempt: the first copy of each question, whose
skills are the concepts of all its copies (kept in the extra column
``concepts``, one tuple of concept names per event; :func:`pykt_domain` turns
them into a :class:`~mentor.domain.Domain`). The concepts are gathered from
the file's own rows (comma-separated indices, one concept per row), never by
splitting a name: pyKT joins a question's raw concept ids with ``_`` only in
its unprocessed ``data.txt``, and a raw id such as ``skill_0`` in
``keyid2idx.json`` is one concept, kept whole. The item is the question when the
file has questions, else the concept. Times are positions in the learner's
sequence (pyKT's models use only the order); pyKT's ``timestamps``, when
present, are kept in the extra column ``timestamp``, and ``fold`` in ``fold``.

A ``keyid2idx.json`` next to the file (pyKT's map from the raw ids to its
indices) names items and concepts by their raw ids; without it they are pyKT's
indices. ``test_window_sequences.csv`` and the ``test_question_*`` files repeat
each interaction in many overlapping rows and are refused: read ``test.csv``
and score with ``--scoring window``, which is what those files encode.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from mentor._csv import data_rows, read_header
from mentor.errors import DataError
from mentor.events.log import EventLog

#: Columns of pyKT's files that hold one value per interaction.
SEQUENCE_COLUMNS = ("questions", "concepts", "responses", "timestamps", "selectmasks", "is_repeat")


def is_pykt_header(header: list[str]) -> bool:
    """True for the header of a pyKT processed file."""
    names = {name.strip() for name in header}
    return {"uid", "responses"} <= names and bool(names & {"questions", "concepts"})


def _names(path: Path) -> dict[str, list[str]] | None:
    """pyKT index -> raw id, per key, from ``keyid2idx.json`` next to ``path``."""
    file = path.parent / "keyid2idx.json"
    if not file.is_file():
        return None
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        names: dict[str, list[str]] = {}
        for key in ("questions", "concepts"):
            if key in data:
                table = [""] * len(data[key])
                for raw, index in data[key].items():
                    table[int(index)] = str(raw)
                names[key] = table
    except (ValueError, TypeError, IndexError, AttributeError) as error:
        raise DataError(f"not pyKT's keyid2idx.json ({error})", file=str(file)) from None
    return names


def _values(text: str, source: str, line: int, column: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",")]
    except ValueError:
        bad = next(v for v in text.split(",") if not v.strip().lstrip("-").isdigit())
        raise DataError(
            "expected comma-separated integers", file=source, line=line, field=column, value=bad
        ) from None


def read_pykt(path: str | os.PathLike[str], encoding: str = "utf-8-sig") -> EventLog:
    """Read a processed pyKT file (see the module docstring).

    Raises :class:`DataError` naming the file, line and column for rows whose
    columns differ in length, responses other than 0/1, an unknown index in
    ``keyid2idx.json``, and for pyKT's overlapping window files.
    """
    source = str(path)
    file = Path(path)
    if not file.is_file():
        raise DataError("file not found", file=source)
    if "window" in file.name or file.name.startswith("test_question"):
        raise DataError(
            "pyKT's window and question files repeat each interaction in overlapping rows; "
            "read test.csv (or test_sequences.csv) and use --scoring window",
            file=source,
        )
    names = _names(file)
    learners: list[Any] = []
    questions: list[int] = []
    concepts: list[list[int]] = []
    responses: list[int] = []
    stamps: list[int] = []
    folds: list[int] = []
    lines: list[int] = []
    last_uid: Any = None
    position = 0
    with open(file, newline="", encoding=encoding) as handle:
        reader = csv.reader(handle)
        header = read_header(reader, source, ())
        if not is_pykt_header(header):
            raise DataError(
                "not a pyKT file: expected columns uid, responses and questions or concepts "
                f"(header has: {', '.join(header)})",
                file=source,
                line=1,
            )
        col = {name: header.index(name) for name in header}
        has_q, has_c = "questions" in col, "concepts" in col
        kinds = [c for c in SEQUENCE_COLUMNS if c in col]
        seen: set[Any] = set()
        for line, row in data_rows(reader, header, source):
            uid = row[col["uid"]].strip()
            if uid != last_uid:  # a learner's rows are consecutive in pyKT's files
                if uid in seen:
                    raise DataError(
                        "learner's rows are not consecutive", file=source, line=line,
                        field="uid", value=uid,
                    )  # fmt: skip
                seen.add(uid)
                last_uid, position = uid, 0
            values = {c: _values(row[col[c]], source, line, c) for c in kinds}
            lengths = {len(v) for v in values.values()}
            if len(lengths) > 1:
                raise DataError(
                    "sequence columns differ in length "
                    f"({', '.join(f'{c} {len(v)}' for c, v in values.items())})",
                    file=source,
                    line=line,
                )
            r = np.asarray(values["responses"])
            keep = r != -1  # pyKT's padding
            if "selectmasks" in values:
                mask = np.asarray(values["selectmasks"])
                if mask.size and mask[0] == -1 and keep.any():
                    raise DataError(
                        "row starts with selectmask -1 but has interactions: an overlapping "
                        "window row; read test.csv and use --scoring window",
                        file=source,
                        line=line,
                        field="selectmasks",
                    )
            bad = np.flatnonzero(keep & (r != 0) & (r != 1))
            if bad.size:
                raise DataError(
                    f"response must be 0 or 1 (interaction {bad[0] + 1})",
                    file=source,
                    line=line,
                    field="responses",
                    value=int(r[bad[0]]),
                )
            q = values.get("questions", [])
            c = values.get("concepts", [])
            repeat = values.get("is_repeat", [0] * len(r))
            stamp = values.get("timestamps")
            fold = int(row[col["fold"]]) if "fold" in col else -1
            for j in np.flatnonzero(keep).tolist():
                concept = c[j] if has_c else -1
                if repeat[j] == 1:
                    if not questions or learners[-1] != uid:
                        raise DataError(
                            "is_repeat = 1 on a learner's first interaction",
                            file=source, line=line, field="is_repeat",
                        )  # fmt: skip
                    concepts[-1].append(concept)
                    continue
                learners.append(uid)
                questions.append(q[j] if has_q else c[j])
                concepts.append([concept])
                responses.append(int(r[j]))
                stamps.append(stamp[j] if stamp is not None else position)
                folds.append(fold)
                lines.append(line)
                position += 1
    n = len(questions)
    times = np.zeros(n)
    if n:  # position within each learner's sequence, in file order
        learner_array = np.asarray(learners)
        starts = np.flatnonzero(np.r_[True, learner_array[1:] != learner_array[:-1]])
        times = (np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))).astype(float)
    items: np.ndarray = np.asarray(questions, dtype=np.int64)
    table: list[str] | None = None
    if names is not None:
        key = "questions" if has_q else "concepts"
        items = _rename(items, names.get(key), source, key)
        table = names.get("concepts") if has_c else None
    if table is not None:
        for i, indices in enumerate(concepts):
            for k in indices:
                if not 0 <= k < len(table):
                    raise DataError(
                        "index not in keyid2idx.json",
                        file=source, line=lines[i], field="concepts", value=k,
                    )  # fmt: skip
    skills = np.empty(n, dtype=object)  # one tuple of concept names per event
    for i, indices in enumerate(concepts):
        skills[i] = tuple(table[k] if table is not None else str(k) for k in indices)
    extra: dict[str, np.ndarray] = {"fold": np.asarray(folds, dtype=np.int64)}
    if has_c:
        extra["concepts"] = skills
    if "timestamps" in col:
        extra["timestamp"] = np.asarray(stamps, dtype=np.int64)
    return EventLog(
        np.asarray(learners, dtype=str),
        items,
        times,
        np.asarray(responses, dtype=np.float64),
        extra,
        source=source,
        lines=np.asarray(lines, dtype=np.int64),
    )


def _rename(ids: np.ndarray, table: list[str] | None, source: str, key: str) -> np.ndarray:
    if table is None:
        return ids
    if ids.size and (ids.min() < 0 or ids.max() >= len(table)):
        bad = int(ids[(ids < 0) | (ids >= len(table))][0])
        raise DataError("index not in keyid2idx.json", file=source, field=key, value=bad)
    result: np.ndarray = np.asarray(table, dtype=str)[ids]
    return result


def pykt_domain(*logs: EventLog) -> Any:
    """The :class:`~mentor.domain.Domain` of logs read by :func:`read_pykt` with
    questions and concepts: each question's skills are its concepts, names kept
    whole (``skill_0`` is one skill, never split at ``_``). None when
    no log has a ``concepts`` column or the items are the concepts."""
    from mentor.domain import Domain, Item

    skills: dict[Any, tuple[str, ...]] = {}
    for log in logs:
        if "concepts" not in log.extra:
            continue
        for item, names in zip(log.item.tolist(), log.extra["concepts"].tolist(), strict=True):
            # a tuple from read_pykt; a lone string (another reader) is one name
            skills.setdefault(item, (names,) if isinstance(names, str) else tuple(names))
    if not skills:
        return None
    if all(len(s) == 1 and s[0] == str(i) for i, s in skills.items()):
        return None
    return Domain([Item(item, s) for item, s in skills.items()])
