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


# ---------------------------------------------------------------- Parquet and unread order ids


def expanded_parquet(csv_path, parquet_path) -> None:
    """The rows of :func:`expanded_csv` as a Parquet file with the same columns."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    lines = csv_path.read_text().splitlines()
    names, rows = lines[0].split(","), [line.split(",") for line in lines[1:]]
    columns = {name: [row[k] for row in rows] for k, name in enumerate(names)}
    columns["order_id"] = [int(v) for v in columns["order_id"]]
    columns["correct"] = [int(v) for v in columns["correct"]]
    pq.write_table(pa.table(columns), parquet_path)


def test_parquet_columns_map_and_one_row_per_skill_is_named(tmp_path):
    expanded_csv(tmp_path / "a.csv")
    expanded_parquet(tmp_path / "a.csv", tmp_path / "a.parquet")
    mapping = {"learner": "user_id", "item": "skill_id", "time": "order_id", "outcome": "correct"}
    log = read_events(tmp_path / "a.parquet", columns=mapping)
    assert log.learner.tolist()[:2] == ["u0", "u0"] and log.time[0] == 33022688
    assert sorted(log.extra) == ["problem_id"]
    with pytest.raises(DataError, match=r"a.parquet, field 'user': missing column \(the file"):
        read_events(tmp_path / "a.parquet", columns={**mapping, "learner": "user"})
    columns = ",".join(f"{k}={v}" for k, v in mapping.items())
    result = mentor("fit", "elo", tmp_path / "a.parquet", "--columns", columns)
    assert result.returncode == 0, result.stderr
    assert "16 rows look like one attempt written once per skill" in result.stderr
    assert "(unused columns: problem_id)" in result.stderr


def test_unread_order_id_that_would_reveal_one_row_per_skill_is_suggested(tmp_path):
    expanded_csv(tmp_path / "a.csv")
    columns = "learner=user_id,item=skill_id,outcome=correct"  # no time: positions
    result = mentor("fit", "elo", tmp_path / "a.csv", "--columns", columns)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "no time column is read" in warnings[0]
    assert "give --columns time=order_id" in warnings[0]
    # an ordinary file: each attempt its own order id, or several answers in one
    # session (one date) that do not agree: no warning
    rows = ["user_id,order_id,session_date,skill_id,correct"]
    for u in range(4):
        for k in range(6):
            rows.append(f"u{u},{1000 + 10 * k + u},2024-01-0{1 + k // 3},s{k % 3},{(u + k) % 2}")
    (tmp_path / "n.csv").write_text("\n".join(rows) + "\n")
    quiet = mentor("fit", "elo", tmp_path / "n.csv", "--columns", columns)
    assert quiet.returncode == 0, quiet.stderr
    assert "warning" not in quiet.stderr, quiet.stderr


# ---------------------------------------------------------------- large integers


def test_integer_times_past_2_53_are_refused_and_outcomes_printed_as_written(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    stamps = [1700000000123456789, 1700000000123456788]  # a step back of 1 ns
    (tmp_path / "ns.csv").write_text(f"learner,item,time,outcome\na,x,{stamps[0]},1\n"
                                     f"a,y,{stamps[1]},0\n")  # fmt: skip
    with pytest.raises(DataError) as caught:
        read_events(tmp_path / "ns.csv")
    text = str(caught.value)
    assert text.startswith(f"{tmp_path / 'ns.csv'}:2, field 'time', value '{stamps[0]}': ")
    assert "beyond 2**53" in text and "seconds or milliseconds" in text
    table = pa.table({"learner": ["a", "a"], "item": ["x", "y"], "time": stamps,
                      "outcome": [1.0, 0.0]})  # fmt: skip
    pq.write_table(table, tmp_path / "ns.parquet")
    with pytest.raises(DataError, match=rf"field 'time', value {stamps[0]}: row 1: integer time"):
        read_events(tmp_path / "ns.parquet")
    # 2**53 itself is exact and read; the command gives one line, no traceback
    (tmp_path / "ok.csv").write_text(f"learner,item,time,outcome\na,x,{2**53},1\n")
    assert read_events(tmp_path / "ok.csv").time[0] == 2**53
    result = mentor("fit", "elo", tmp_path / "ns.csv")
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1 and "Traceback" not in result.stderr
    # an order id read as the outcome by mistake is printed as the file writes it
    (tmp_path / "o.csv").write_text("learner,item,outcome\na,x,33022688\n")
    with pytest.raises(DataError, match=r"o.csv:2, field 'outcome', value 33022688: outcome"):
        read_events(tmp_path / "o.csv")
