"""Leak guards and bad input wherever a log comes in (issue 17): an attempt
written once per skill, a KT file sorted by skill, duplicated rows in ``mentor
fit``, a file that is not UTF-8, numbers printed exactly, and ``--columns``
given for a format that ignores it."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from mentor.errors import DataError
from mentor.evaluation import duplicate_warning
from mentor.evaluation.leaks import check_no_future, expansion_warning, sorted_items_warning
from mentor.events import EventLog, read_csv, read_events
from mentor.events.log import exact


def mentor(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mentor", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def expanded_csv(path, attempts: int = 4) -> None:
    """ASSISTments-style rows: attempt k of learner u is written once per skill,
    with the same order id and outcome; plus one single-skill attempt each."""
    rows = ["user_id,order_id,problem_id,skill_id,correct"]
    for u in range(2):
        for k in range(attempts):
            order = 33022688 + 10 * k + u
            rows += [f"u{u},{order},p{k},s{k},{k % 2}", f"u{u},{order},p{k},s{k + 1},{k % 2}"]
        rows.append(f"u{u},{33022688 + 100 + u},p9,s0,1")
    path.write_text("\n".join(rows) + "\n")


# ---------------------------------------------------------------- exact numbers


def test_numbers_in_messages_are_exact():
    assert exact(33022688.0) == "33022688"
    assert exact(np.float64(1796600001.0)) == "1796600001"
    assert exact(0.1) == "0.1" and exact(2.5e-300) == "2.5e-300"
    log = EventLog(["a", "a"], ["x", "x"], [33022688.0, 33022688.0], [1.0, 1.0])
    assert "time 33022688" in duplicate_warning(log, "f.csv")
    train = EventLog(["a"], ["x"], [1796600001.0], [1.0])
    test = EventLog(["a"], ["y"], [1796600000.0], [1.0])
    with pytest.raises(DataError, match="at time 1796600001 after a test event at 1796600000"):
        check_no_future(train, test)
    with pytest.raises(DataError, match=r"value 33022688: .*\(previous event at 33022689\)"):
        EventLog(["a", "a"], ["x", "y"], [33022689.0, 33022688.0], [1.0, 1.0])


# ---------------------------------------------------------------- one row per skill


def test_one_row_per_skill_is_named_with_lines_and_the_fix(tmp_path):
    expanded_csv(tmp_path / "a.csv")
    log = read_csv(tmp_path / "a.csv", {"learner": "user_id", "item": "skill_id",
                                        "time": "order_id", "outcome": "correct"})  # fmt: skip
    message = expansion_warning(log, "a.csv", ["problem_id"])
    # 2 learners x 4 attempts x 2 rows; the first pair is on lines 2 and 3
    assert message.startswith("a.csv: 16 rows look like one attempt written once per skill")
    assert "lines 2 and 3" in message and "time 33022688" in message
    assert "--columns item=COLUMN (unused columns: problem_id)" in message
    # read at the attempt's own id, nothing is tied on different items
    mapping = {"learner": "user_id", "item": "problem_id", "time": "order_id", "outcome": "correct"}
    by_problem = read_csv(tmp_path / "a.csv", mapping)
    assert duplicate_warning(by_problem, "a.csv") is not None  # the copies now repeat exactly
    assert expansion_warning(by_problem, "a.csv") is None


def test_ties_with_different_outcomes_are_not_an_expansion():
    # four learners each answer two items in the same second, one right, one wrong
    learners = np.repeat([f"u{k}" for k in range(4)], 2)
    log = EventLog(learners, ["x", "y"] * 4, np.zeros(8), [1.0, 0.0] * 4)
    assert expansion_warning(log, "t.csv") is None
    same = EventLog(learners, ["x", "y"] * 4, np.zeros(8), np.ones(8))
    assert "8 rows" in expansion_warning(same, "t.csv")
    few = same[:4]  # two tied groups: too few to tell
    assert expansion_warning(few, "t.csv") is None


# ---------------------------------------------------------------- KT sorted by skill


def kt_file(path, sequences) -> None:
    lines = []
    for items in sequences:
        lines += [str(len(items)), ",".join(map(str, items)), ",".join("1" * len(items))]
    path.write_text("\n".join(lines) + "\n")


def test_kt_file_sorted_by_skill_gets_a_warning(tmp_path):
    kt_file(tmp_path / "s.csv", [[1, 1, 2, 5], [3, 4], [2, 2, 2], [1, 9], [4, 7], [5, 6]])
    log = read_events(tmp_path / "s.csv")
    message = sorted_items_warning(log, "s.csv")
    assert message.startswith("s.csv: every learner's sequence runs in increasing item id (5 ")
    kt_file(tmp_path / "u.csv", [[1, 1, 2, 5], [3, 4], [2, 2, 2], [1, 9], [4, 7], [6, 5]])
    assert sorted_items_warning(read_events(tmp_path / "u.csv"), "u.csv") is None
    kt_file(tmp_path / "f.csv", [[1, 2], [3, 4], [1, 9], [4, 7]])  # 4 learners: could be chance
    assert sorted_items_warning(read_events(tmp_path / "f.csv"), "f.csv") is None


# ---------------------------------------------------------------- encodings and --columns


def test_not_utf8_names_file_line_and_byte(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("learner,item,outcome\nann,x,1\njos\xe9,y,0\n".encode("latin-1"))
    with pytest.raises(DataError) as caught:
        read_events(path)
    text = str(caught.value)
    assert text.startswith(f"{path}:3: byte 0xe9 at offset 32 (column 4) is not UTF-8 text")
    assert "--encoding latin-1" in text
    log = read_events(path, encoding="latin-1")
    assert log.learner.tolist() == ["ann", "josé"]
    with pytest.raises(DataError, match="unknown text encoding"):
        read_events(path, encoding="klingon")


def test_columns_for_a_format_that_ignores_them_is_an_error(tmp_path):
    kt_file(tmp_path / "k.csv", [[1, 2]])
    with pytest.raises(DataError, match="applies to generic CSV and Parquet only.*read as 'kt'"):
        read_events(tmp_path / "k.csv", columns={"item": "skill"})


# ---------------------------------------------------------------- the commands


def test_cli_fit_warns_like_evaluate_and_names_a_bad_byte(tmp_path):
    expanded_csv(tmp_path / "a.csv")
    lines = (tmp_path / "a.csv").read_text().splitlines()
    lines.insert(2, lines[1])  # line 2 twice
    (tmp_path / "a.csv").write_text("\n".join(lines) + "\n")
    columns = "learner=user_id,item=skill_id,time=order_id,outcome=correct"
    result = mentor("fit", "elo", tmp_path / "a.csv", "--columns", columns, "--drop-duplicates")
    assert result.returncode == 0, result.stderr
    assert "17 rows look like one attempt written once per skill" in result.stderr
    duplicate = "1 duplicated rows (same learner, item and time), first: learner 'u0', item 's0'"
    assert f"{duplicate}, time 33022688; dropped" in result.stderr
    latin = tmp_path / "latin.csv"
    latin.write_bytes("learner,item,outcome\nann,x,1\njos\xe9,y,0\n".encode("latin-1"))
    bad = mentor("fit", "elo", latin)
    lines = bad.stderr.strip().splitlines()
    assert bad.returncode == 1 and len(lines) == 1, bad.stderr
    assert f"{latin}:3: byte 0xe9" in lines[0] and "--encoding" in lines[0]
