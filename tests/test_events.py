"""mentor.events and mentor._io: the columnar EventLog, its readers and writers,
format detection and crash-safe writing.

Expected values are worked out by hand in the comments, or counted independently
with plain Python from the same file the reader reads.
"""

from __future__ import annotations

import csv
import json
import math
import os
import stat
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mentor import _io
from mentor.errors import DataError, MentorError
from mentor.events import (
    Event,
    EventLog,
    detect_format,
    read_csv,
    read_events,
    read_kt,
    read_parquet,
    read_review_log,
    write_csv,
    write_parquet,
)
from mentor.events import writers as writers_module

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
ASSIST_TRAIN = SHARED / "data/kt/assist2009_updated/assist2009_updated_train.csv"
ASSIST_TEST = SHARED / "data/kt/assist2009_updated/assist2009_updated_test.csv"
JOSH = SHARED / "data/srs/review_logs_josh.csv"

# 2024-01-01T00:00:00Z: 54 years after 1970 with 13 leap days (1972 ... 2020),
# (54 * 365 + 13) * 86400 = 19723 * 86400.
JAN_1_2024 = 1_704_067_200.0
assert JAN_1_2024 == 19723 * 86400


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def raises_data_error(*parts: str):
    """Context manager: a DataError whose message contains every one of ``parts``."""

    class _Check:
        def __enter__(self):
            self._ctx = pytest.raises(DataError)
            self.info = self._ctx.__enter__()
            return self.info

        def __exit__(self, *exc):
            suppressed = self._ctx.__exit__(*exc)
            message = str(self.info.value)
            for part in parts:
                assert part in message, f"{part!r} not in {message!r}"
            return suppressed

    return _Check()


def small_log() -> EventLog:
    # ann: t=0, 2, 5; bob: t=1, 1 (equal times are allowed)
    return EventLog(
        ["ann", "bob", "ann", "bob", "ann"],
        [10, 11, 10, 12, 13],
        [0.0, 1.0, 2.0, 1.0, 5.0],
        [1.0, 0.0, 0.5, 1.0, 0.0],
        {"rt": [1.5, 2.5, 3.5, 4.5, 5.5]},
    )


# ====================================================================== EventLog


def test_construction_keeps_columns_and_types():
    log = small_log()
    assert len(log) == 5
    assert log.learner.dtype.kind == "U" and log.learner.tolist() == [
        "ann",
        "bob",
        "ann",
        "bob",
        "ann",
    ]
    assert log.item.dtype == np.int64 and log.item.tolist() == [10, 11, 10, 12, 13]
    assert log.time.dtype == np.float64 and log.time.tolist() == [0.0, 1.0, 2.0, 1.0, 5.0]
    assert log.outcome.tolist() == [1.0, 0.0, 0.5, 1.0, 0.0]
    assert list(log.extra) == ["rt"] and log.extra["rt"].tolist() == [1.5, 2.5, 3.5, 4.5, 5.5]
    assert log.learners().tolist() == ["ann", "bob"]
    assert log.items().tolist() == [10, 11, 12, 13]
    assert list(log.columns()) == ["learner", "item", "time", "outcome", "rt"]
    assert repr(log) == "EventLog(5 events, 2 learners, 4 items, extra=['rt'])"


def test_id_arrays_integer_floats_and_bools_become_int64():
    log = EventLog([1.0, 2.0], [True, False], [0, 1], [1, 0])
    assert log.learner.dtype == np.int64 and log.learner.tolist() == [1, 2]
    assert log.item.dtype == np.int64 and log.item.tolist() == [1, 0]


def test_non_integer_float_ids_are_rejected():
    with raises_data_error("ids must be integers or strings", "float64"):
        EventLog([1.5, 2.0], [1, 2], [0, 1], [1, 0])
    with raises_data_error("ids must be integers or strings"):
        EventLog([1, 2], [np.nan, 2.0], [0, 1], [1, 0])


def test_empty_log():
    log = EventLog.empty()
    assert len(log) == 0 and list(log) == []
    assert log.learners().size == 0
    assert len(EventLog.from_events([])) == 0


@pytest.mark.parametrize("short", ["learner", "item", "time", "rt"])
def test_lengths_mismatch_names_the_short_column(short):
    columns = {"learner": [1, 2, 3], "item": [1, 2, 3], "time": [0, 1, 2]}
    extra = {"rt": [1.0, 2.0, 3.0]}
    if short == "rt":
        extra["rt"] = [1.0, 2.0]
    else:
        columns[short] = columns[short][:2]
    with raises_data_error(f"field '{short}'", "column has 2 values but 'outcome' has 3"):
        EventLog(columns["learner"], columns["item"], columns["time"], [1, 0, 1], extra)


@pytest.mark.parametrize("bad", [1.5, -0.25, math.inf, -math.inf])
def test_outcome_outside_unit_interval(bad):
    with raises_data_error(
        "field 'outcome'", f"value {bad!r}", "outcome must lie in [0, 1]"
    ) as info:
        EventLog([1, 1, 1], [1, 2, 3], [0, 1, 2], [1.0, bad, 0.0])
    assert info.value.field == "outcome" and info.value.value == bad
    assert isinstance(info.value, MentorError) and isinstance(info.value, ValueError)


def test_outcome_nan_and_bounds_are_inclusive():
    with raises_data_error("field 'outcome'", "value 'nan'", "outcome is NaN"):
        EventLog([1, 1], [1, 2], [0, 1], [0.0, math.nan])
    EventLog([1, 1], [1, 2], [0, 1], [0.0, 1.0])  # 0 and 1 themselves are fine


def test_outcome_error_names_file_and_line_when_given():
    with raises_data_error("log.csv:7, field 'outcome', value 2.0") as info:
        EventLog([1, 1], [1, 2], [0, 1], [0.0, 2.0], source="log.csv", lines=np.array([6, 7]))
    assert info.value.line == 7 and info.value.file == "log.csv"
    # with a source but no lines: the file, no line
    with raises_data_error("log.csv, field 'outcome'") as info:
        EventLog([1], [1], [0], [2.0], source="log.csv")
    assert info.value.line is None
    # with lines but no source: "line N"
    with raises_data_error("line 3, field 'outcome'"):
        EventLog([1], [1], [0], [-1.0], lines=np.array([3]))


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_non_finite_time(bad):
    with raises_data_error(
        "field 'time'", f"value '{bad}'", "time must be a finite number"
    ) as info:
        EventLog([1, 2], [1, 1], [0.0, bad], [1, 1])
    assert info.value.field == "time"


def test_time_going_backwards_for_one_learner():
    # bob's t=1 after ann's t=5 is fine (different learners); ann goes 5 -> 3.
    with raises_data_error(
        "time goes backwards for learner 'ann' (previous event at 5)", "field 'time'", "value 3:"
    ) as info:
        EventLog(["ann", "bob", "ann"], [1, 1, 1], [5.0, 1.0, 3.0], [1, 1, 1])
    assert info.value.line is None and info.value.value == 3.0
    with raises_data_error("events.csv:12", "learner 'ann'"):
        EventLog(
            ["ann", "bob", "ann"],
            [1, 1, 1],
            [5.0, 1.0, 3.0],
            [1, 1, 1],
            source="events.csv",
            lines=np.array([10, 11, 12]),
        )
    with raises_data_error("learner 7"):  # integer learner ids are named as integers
        EventLog([7, 7], [1, 1], [2.0, 1.0], [1, 1])


def test_a_block_of_rows_appended_twice_is_named_as_a_likely_duplicate():
    rows = (["ann", "ann", "ann"], ["a", "b", "c"], [1.0, 2.0, 3.0], [1, 0, 1])
    twice = [column * 2 for column in rows]
    with raises_data_error(
        "log.csv:5", "time goes backwards for learner 'ann' (previous event at 3)",
        "it repeats line 2 exactly: a duplicated block of rows?",
    ):  # fmt: skip
        EventLog(*twice, source="log.csv", lines=np.arange(2, 8))
    with pytest.raises(DataError) as plain:  # a row that goes back without repeating one
        EventLog(["ann", "ann"], ["a", "b"], [2.0, 1.0], [1, 1])
    assert "repeats" not in str(plain.value)


def test_equal_times_and_interleaved_learners_are_valid():
    log = EventLog(["a", "b", "a", "b"], [1, 1, 1, 1], [3.0, 0.0, 3.0, 1.0], [1, 1, 1, 1])
    log.validate()


def test_validate_false_skips_the_check_and_validate_finds_it_later():
    log = EventLog([1], [1], [0.0], [5.0], validate=False)
    with raises_data_error("outcome must lie in [0, 1]"):
        log.validate()


def test_concat_joins_end_to_end_and_checks_extras():
    log = small_log()
    joined = EventLog.concat([log[:2], EventLog.empty(), log[2:]])
    for name, column in log.columns().items():
        assert joined.columns()[name].tolist() == column.tolist()
    assert len(EventLog.concat([])) == 0
    other = EventLog(["cy"], [1], [0.0], [1.0], {"hint": [1]})
    with raises_data_error("cannot join logs with different extra columns", "['hint', 'rt']"):
        EventLog.concat([log, other])
    # concatenation is validated: ann at t=5 then t=0 again
    with raises_data_error("time goes backwards for learner 'ann'"):
        EventLog.concat([log, log])


def test_slicing_masks_and_index_arrays():
    log = small_log()
    part = log[1:3]
    assert isinstance(part, EventLog)
    assert part.learner.tolist() == ["bob", "ann"] and part.extra["rt"].tolist() == [2.5, 3.5]
    mask = log.outcome >= 0.5
    assert log[mask].item.tolist() == [10, 10, 12]
    assert log[mask].extra["rt"].tolist() == [1.5, 3.5, 4.5]
    assert log[np.array([4, 0])].time.tolist() == [5.0, 0.0]
    one = log[0]
    assert len(one) == 1 and one.item.tolist() == [10]
    last = log[-1]
    assert len(last) == 1 and last.item.tolist() == [13] and last.extra["rt"].tolist() == [5.5]
    assert log[np.int64(-2)].item.tolist() == [12]
    assert len(log[log.outcome > 2]) == 0


def test_iteration_yields_events_with_python_values():
    events = list(small_log())
    assert len(events) == 5
    assert events[2] == Event("ann", 10, 2.0, 0.5, {"rt": 3.5})
    first = events[0]
    assert type(first.learner) is str and type(first.item) is int
    assert type(first.time) is float and type(first.extra["rt"]) is float


def test_from_events_round_trip_and_missing_extras():
    events = [
        Event("a", "x", 0.0, 1.0, {"rt": 2.0}),
        Event("b", "y", 1.0, 0.0),
        Event("a", "y", 3.0, 0.5, {"rt": 4.0, "hint": 1}),
    ]
    log = EventLog.from_events(events)
    assert log.learner.tolist() == ["a", "b", "a"]
    assert log.item.tolist() == ["x", "y", "y"]
    assert sorted(log.extra) == ["hint", "rt"]
    assert log.extra["rt"].tolist() == [2.0, None, 4.0]
    assert log.extra["hint"].tolist() == [None, None, 1]
    plain = [Event(1, 2, 0.0, 1.0), Event(1, 3, 1.0, 0.0)]
    assert list(EventLog.from_events(plain)) == plain
    with raises_data_error("outcome must lie in [0, 1]"):
        EventLog.from_events([Event(1, 2, 0.0, 3.0)])


def test_sorted_orders_by_time_and_keeps_ties_in_order():
    log = EventLog(["a", "b", "c", "d"], [1, 2, 3, 4], [3.0, 1.0, 3.0, 2.0], [1, 1, 1, 1])
    # times 3, 1, 3, 2 -> order b(1), d(2), a(3), c(3): a before c as in the log
    assert log.sorted().learner.tolist() == ["b", "d", "a", "c"]
    assert log.sorted().time.tolist() == [1.0, 2.0, 3.0, 3.0]


def test_sorted_is_stable_on_many_ties():
    # numpy's default quicksort is only stable below 16 elements; 60 rows with 3 times
    times = [float((7 * k) % 3) for k in range(60)]
    log = EventLog(list(range(60)), [0] * 60, times, [1.0] * 60)
    expected = sorted(range(60), key=lambda k: times[k])  # Python's sort is stable
    assert log.sorted().learner.tolist() == expected


def test_for_learners():
    log = small_log()
    assert log.for_learners(["bob"]).item.tolist() == [11, 12]
    assert log.for_learners({"ann"}).time.tolist() == [0.0, 2.0, 5.0]
    assert len(log.for_learners(["nobody"])) == 0
    assert len(log.for_learners([])) == 0
    ints = EventLog([1, 2, 1], [5, 6, 7], [0, 0, 1], [1, 1, 1])
    assert ints.for_learners([1]).item.tolist() == [5, 7]
    assert ints.for_learners(iter([2])).item.tolist() == [6]


# ====================================================================== properties

ID_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=6,
).filter(lambda s: s == s.strip())
EXTRA_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=6
).map(lambda s: "x" + s)  # never parses as a number, so the column comes back as text


@st.composite
def valid_logs(draw, min_size: int = 0):
    n = draw(st.integers(min_size, 25))
    ids = st.integers(-(2**40), 2**40) if draw(st.booleans()) else ID_TEXT
    learner_pool = draw(st.lists(ids, min_size=1, max_size=4, unique=True))
    item_ids = st.integers(0, 10**6) if draw(st.booleans()) else ID_TEXT
    learners = draw(st.lists(st.sampled_from(learner_pool), min_size=n, max_size=n))
    items = draw(st.lists(item_ids, min_size=n, max_size=n))
    raw_times = draw(
        st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=n, max_size=n)
    )
    # give every learner its own times in increasing order, keeping the interleaving
    times = [0.0] * n
    for learner in learner_pool:
        positions = [i for i in range(n) if learners[i] == learner]
        for position, value in zip(positions, sorted(raw_times[i] for i in positions), strict=True):
            times[position] = value
    outcomes = draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n))
    extra = {
        "score": draw(st.lists(st.floats(allow_nan=True), min_size=n, max_size=n)),
        "note": draw(st.lists(EXTRA_TEXT, min_size=n, max_size=n)),
    }
    return EventLog(learners, items, times, outcomes, extra)


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype == np.float64 and a.tobytes() == b.tobytes()


@settings(max_examples=50, deadline=None)
@given(valid_logs())
def test_property_valid_logs_validate_and_round_trip_csv(log):
    log.validate()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "log.csv"
        write_csv(log, path)
        back = read_csv(path, extra=["score", "note"])
        assert os.listdir(folder) == ["log.csv"]
    assert len(back) == len(log)
    # ids come back from CSV as strings
    assert back.learner.tolist() == [str(v) for v in log.learner.tolist()]
    assert back.item.tolist() == [str(v) for v in log.item.tolist()]
    assert same_bits(back.time, log.time)  # exact, -0.0 included
    assert same_bits(back.outcome, log.outcome)
    if len(log):
        assert back.extra["score"].dtype == np.float64
        np.testing.assert_array_equal(back.extra["score"], log.extra["score"])
        assert back.extra["note"].tolist() == log.extra["note"].tolist()


@settings(max_examples=50, deadline=None)
@given(valid_logs())
def test_property_valid_logs_round_trip_parquet(log):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "log.parquet"
        write_parquet(log, path)
        back = read_parquet(path)
        assert os.listdir(folder) == ["log.parquet"]
    # Parquet keeps the id types
    assert back.learner.tolist() == log.learner.tolist()
    assert back.item.tolist() == log.item.tolist()
    assert same_bits(back.time, log.time)
    assert same_bits(back.outcome, log.outcome)
    assert sorted(back.extra) == ["note", "score"]
    np.testing.assert_array_equal(back.extra["score"], log.extra["score"])
    assert back.extra["note"].tolist() == log.extra["note"].tolist()


BAD_OUTCOMES = st.floats(allow_nan=True).filter(lambda x: not 0.0 <= x <= 1.0)


def value_text(bad: float) -> str:
    return "value 'nan'" if math.isnan(bad) else f"value {bad!r}"


@settings(max_examples=50, deadline=None)
@given(valid_logs(min_size=1), st.data())
def test_property_invalid_outcome_always_raises_naming_field_and_value(log, data):
    index = data.draw(st.integers(0, len(log) - 1))
    bad = data.draw(BAD_OUTCOMES)
    outcomes = log.outcome.copy()
    outcomes[index] = bad
    lines = np.arange(len(log)) + 2
    with pytest.raises(DataError) as info:
        EventLog(log.learner, log.item, log.time, outcomes, log.extra, source="f.csv", lines=lines)
    message = str(info.value)
    assert info.value.field == "outcome"
    assert "field 'outcome'" in message and value_text(bad) in message
    assert f"f.csv:{index + 2}," in message


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 6), st.data())
def test_property_invalid_outcome_in_csv_names_file_line_column_and_value(n, data):
    index = data.draw(st.integers(0, n - 1))
    bad = data.draw(BAD_OUTCOMES)
    rows = [f"u{i},q,{i},1" for i in range(n)]
    rows[index] = f"u{index},q,{index},{bad!r}"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "answers.csv"
        write(path, "user,item,time,correct\n" + "\n".join(rows) + "\n")
        with pytest.raises(DataError) as info:
            read_csv(path, {"learner": "user", "outcome": "correct"})
    message = str(info.value)
    assert f"{path}:{index + 2}," in message
    assert "field 'correct'" in message and value_text(bad) in message


# ====================================================================== read_csv


def test_read_csv_with_column_mapping_iso_times_and_extras(tmp_path):
    path = write(
        tmp_path / "answers.csv",
        "user,question,ts,correct,hint,comment\n"
        "u1,q1,2024-01-01T00:00:00Z,1,0,first\n"
        "u2,q1,2024-01-01T00:00:30+00:00,0,1,\n"
        "u1,q2,2024-01-01T00:01:00,0.5,0,no zone means UTC\n"
        "u2,q3,2024-01-01T02:00:00+01:00,1,1,x\n",
    )
    log = read_csv(
        path,
        {"learner": "user", "item": "question", "time": "ts", "outcome": "correct"},
        extra=["hint", "comment"],
    )
    assert log.learner.tolist() == ["u1", "u2", "u1", "u2"]
    assert log.item.tolist() == ["q1", "q1", "q2", "q3"]
    # 02:00 at +01:00 is 01:00 UTC
    assert log.time.tolist() == [JAN_1_2024, JAN_1_2024 + 30, JAN_1_2024 + 60, JAN_1_2024 + 3600]
    assert log.outcome.tolist() == [1.0, 0.0, 0.5, 1.0]
    assert log.extra["hint"].dtype == np.float64 and log.extra["hint"].tolist() == [0, 1, 0, 1]
    assert log.extra["comment"].tolist() == ["first", "", "no zone means UTC", "x"]


def test_read_csv_iso_times_without_zone_are_utc_whatever_the_local_zone(tmp_path, monkeypatch):
    path = write(tmp_path / "a.csv", "learner,item,time,outcome\na,x,2024-01-01T00:00:00,1\n")
    monkeypatch.setenv("TZ", "EST+5")  # POSIX zone string, five hours behind UTC
    time.tzset()
    try:
        assert read_csv(path).time.tolist() == [JAN_1_2024]
    finally:
        monkeypatch.undo()
        time.tzset()


def test_read_csv_numeric_times_default_names_delimiter_and_bom(tmp_path):
    path = write(
        tmp_path / "semi.csv", "learner;item;time;outcome\na;x;10;1\na;y;12.5;0\n", "utf-8-sig"
    )
    log = read_csv(path, delimiter=";")
    assert log.time.tolist() == [10.0, 12.5]
    assert log.learner.tolist() == ["a", "a"] and log.item.tolist() == ["x", "y"]


def test_read_csv_without_time_column_uses_file_order(tmp_path):
    path = write(tmp_path / "a.csv", "learner,item,outcome\nb,x,1\na,x,0\n\nb,y,1\n")
    log = read_csv(path)
    assert log.time.tolist() == [0.0, 1.0, 2.0]
    assert log.learner.tolist() == ["b", "a", "b"]


def test_read_csv_time_column_named_in_mapping_must_exist(tmp_path):
    path = write(tmp_path / "a.csv", "learner,item,outcome\nb,x,1\n")
    with raises_data_error(f"{path}:1, field 'timestamp'", "missing column"):
        read_csv(path, {"time": "timestamp"})


def test_read_csv_missing_column_names_file_line_1_and_column(tmp_path):
    path = write(tmp_path / "a.csv", "user,item,time,outcome\nu,x,1,1\n")
    with raises_data_error(
        f"{path}:1, field 'learner'", "missing column", "user, item, time, outcome"
    ):
        read_csv(path)
    with raises_data_error(f"{path}:1, field 'question'"):
        read_csv(path, {"learner": "user", "item": "question"})
    with raises_data_error(f"{path}:1, field 'hint'"):
        read_csv(path, {"learner": "user"}, extra=["hint"])


def test_read_csv_unparseable_time(tmp_path):
    path = write(tmp_path / "a.csv", "learner,item,time,outcome\na,x,10,1\na,y,yesterday,0\n")
    with raises_data_error(
        f"{path}:3, field 'time', value 'yesterday'", "unparseable time"
    ) as info:
        read_csv(path)
    assert info.value.line == 3
    renamed = write(tmp_path / "b.csv", "learner,item,ts,outcome\na,x,nan,1\n")
    with raises_data_error(f"{renamed}:2, field 'ts', value 'nan'"):
        read_csv(renamed, {"time": "ts"})


def test_read_csv_missing_value(tmp_path):
    path = write(tmp_path / "a.csv", "user,item,time,outcome\na,x,1,1\na, ,2,1\n")
    with raises_data_error(f"{path}:3, field 'item', value ''", "missing value"):
        read_csv(path, {"learner": "user"})
    path = write(tmp_path / "b.csv", "user,item,time,outcome\n,x,1,1\n")
    with raises_data_error(f"{path}:2, field 'user'"):
        read_csv(path, {"learner": "user"})


def test_read_csv_wrong_field_count(tmp_path):
    path = write(tmp_path / "a.csv", "learner,item,time,outcome\na,x,1,1\na,x,2\n")
    with raises_data_error(f"{path}:3:", "row has 3 fields but the header has 4"):
        read_csv(path)


def test_read_csv_outcome_not_a_number(tmp_path):
    path = write(tmp_path / "a.csv", "learner,item,time,correct\na,x,1,yes\n")
    with raises_data_error(f"{path}:2, field 'correct', value 'yes'", "outcome is not a number"):
        read_csv(path, {"outcome": "correct"})


def test_read_csv_validation_errors_name_the_files_own_column(tmp_path):
    path = write(tmp_path / "a.csv", "user,item,ts,correct\nu,x,1,1\nu,x,2,1.5\n")
    mapping = {"learner": "user", "time": "ts", "outcome": "correct"}
    with raises_data_error(f"{path}:3, field 'correct', value 1.5") as info:
        read_csv(path, mapping)
    assert info.value.field == "correct"
    # blank line 3 is skipped but counted: the backwards time is on line 5
    path = write(tmp_path / "b.csv", "user,item,ts,correct\nu,x,5,1\n\nv,x,1,1\nu,x,4,1\n")
    with raises_data_error(f"{path}:5, field 'ts', value 4:", "learner 'u'"):
        read_csv(path, mapping)
    # without a renaming mapping the field keeps mentor's name
    path = write(tmp_path / "c.csv", "learner,item,time,outcome\nu,x,1,-1\n")
    with raises_data_error(f"{path}:2, field 'outcome', value -1: outcome must lie"):
        read_csv(path)


def test_read_csv_bad_arguments_and_files(tmp_path):
    with raises_data_error("unknown field in column mapping", "value 'user'"):
        read_csv(tmp_path / "x.csv", {"user": "learner"})
    with raises_data_error(f"{tmp_path / 'missing.csv'}: file not found"):
        read_csv(tmp_path / "missing.csv")
    empty = write(tmp_path / "empty.csv", "")
    with raises_data_error(f"{empty}:1:", "file is empty"):
        read_csv(empty)
    header_only = write(tmp_path / "header.csv", "learner,item,time,outcome\n")
    assert len(read_csv(header_only)) == 0


# ====================================================================== read_kt

KT_TEXT = "3\n5,7,5\n1,0,1\n2,\n7,9,\n0,1,\n\n"


def test_read_kt_small_file(tmp_path):
    path = write(tmp_path / "small.csv", KT_TEXT)  # trailing commas and blank line are fine
    log = read_kt(path)
    assert log.learner.tolist() == ["small:0"] * 3 + ["small:1"] * 2
    assert log.item.dtype == np.int64 and log.item.tolist() == [5, 7, 5, 7, 9]
    assert log.time.tolist() == [0.0, 1.0, 2.0, 0.0, 1.0]
    assert log.outcome.tolist() == [1.0, 0.0, 1.0, 0.0, 1.0]
    assert read_kt(path, learner_prefix="s").learners().tolist() == ["s0", "s1"]


@pytest.mark.parametrize(
    ("text", "line", "parts"),
    [
        ("3\n5,7,5\n1,0,1\ntwo\n7,9\n0,1\n", 4, ["field 'count', value 'two'", "not an integer"]),
        ("3\n5,7,5\n1,0,1\n2\n7,9,4\n0,1\n", 5, ["field 'item'", "has 3 values but the count"]),
        ("3\n5,7,5\n1,0,1\n2\n7,9\n0\n", 6, ["field 'outcome'", "has 1 values but the count"]),
        ("3\n5,7,5\n1,0,1\n2\n7,x9\n0,1\n", 5, ["field 'item', value 'x9'", "not an integer"]),
        ("3\n5,7.5,5\n1,0,1\n", 2, ["value '7.5'", "item id is not an integer"]),
        ("2\n1,--3\n0,1\n", 2, ["value '--3'"]),  # used to escape as StopIteration
        ("2\n1,99999999999999999999\n0,1\n", 2, ["value '99999999999999999999'"]),
        ("3\n5,7,5\n1,0,1\n2\n7,9\n0,2\n", 6, ["field 'outcome', value '2'", "(answer 2 of 2)"]),
        ("3\n5,7,5\n1,-1,1\n", 3, ["value '-1'", "answer must lie in [0, 1]"]),
        ("2\n7,9\n0,nan\n", 3, ["value 'nan'", "answer must lie"]),
        ("2\n7,9\n0,yes\n", 3, ["field 'outcome', value 'yes'", "answer is not a number"]),
        (
            "3\n5,7,5\n1,0,1\n2\n7,9\n0,1\n1\n",
            7,
            ["expected three lines per learner", "has 7 lines"],
        ),
        ("3\n5,7,5\n1,0,1\n2\n7,9\n", 5, ["has 5 lines"]),
        ("\n\n", 1, ["file is empty"]),
    ],
)
def test_read_kt_errors_name_file_and_line(tmp_path, text, line, parts):
    path = write(tmp_path / "kt.csv", text)
    with raises_data_error(f"{path}:{line}", *parts) as info:
        read_kt(path)
    assert info.value.line == line and info.value.file == str(path)


def test_read_kt_missing_file(tmp_path):
    with raises_data_error("file not found"):
        read_kt(tmp_path / "nope.csv")


@pytest.mark.skipif(not ASSIST_TRAIN.is_file(), reason=f"{ASSIST_TRAIN} not present")
def test_read_kt_real_assist2009_train():
    lines = ASSIST_TRAIN.read_text().splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    assert len(lines) % 3 == 0
    students = len(lines) // 3
    answers = correct = 0
    skills = set()
    for k in range(students):
        count = int(lines[3 * k].strip().rstrip(","))
        cells = [c for c in lines[3 * k + 1].split(",") if c.strip()]
        marks = [c for c in lines[3 * k + 2].split(",") if c.strip()]
        assert len(cells) == len(marks) == count
        answers += count
        correct += sum(1 for c in marks if c.strip() == "1")
        skills.update(int(c) for c in cells)
    assert answers == 224_218  # counted above; the README's 325,637 is train + test

    log = read_kt(ASSIST_TRAIN)
    assert len(log) == answers
    assert len(log.learners()) == students
    assert set(log.items().tolist()) == skills and len(skills) == 110
    assert log.outcome.sum() == correct
    first = int(lines[0].strip().rstrip(","))
    assert log.for_learners(["assist2009_updated_train:0"]).time.tolist() == list(range(first))


@pytest.mark.skipif(not ASSIST_TEST.is_file(), reason=f"{ASSIST_TEST} not present")
def test_read_kt_assist2009_train_and_test_match_the_readme():
    # data/README.md: 4,151 students and 325,637 answers over train and test
    train, test = read_kt(ASSIST_TRAIN), read_kt(ASSIST_TEST)
    both = EventLog.concat([train, test])
    assert len(both) == 325_637
    assert len(both.learners()) == 4_151  # the file-stem prefixes keep the two apart


# ====================================================================== read_review_log

REVIEW_TEXT = (
    "card_id,review_rating,review_time,review_duration\n"
    "c1,3,2024-01-01T00:00:00+00:00,1500\n"
    "c2,1,2024-01-01T00:00:10Z,2000\n"
    "\n"
    "c1,4,2024-01-02T00:00:00.250000+00:00,\n"
    "c3,2,1704153700,700\n"
)


def test_read_review_log_small_file(tmp_path):
    path = write(tmp_path / "me.csv", REVIEW_TEXT)
    log = read_review_log(path)
    assert log.learner.tolist() == ["me"] * 4
    assert log.item.tolist() == ["c1", "c2", "c1", "c3"]
    # c3's time is a plain number of seconds since the epoch
    assert log.time.tolist() == [
        JAN_1_2024,
        JAN_1_2024 + 10,
        JAN_1_2024 + 86400.25,
        JAN_1_2024 + 86500,
    ]
    assert log.outcome.tolist() == [1.0, 0.0, 1.0, 1.0]  # rating 1 (Again) -> 0
    assert log.extra["rating"].tolist() == [3, 1, 4, 2]
    duration = log.extra["duration_ms"]
    assert duration[[0, 1, 3]].tolist() == [1500.0, 2000.0, 700.0] and math.isnan(duration[2])
    assert read_review_log(path, learner="josh").learners().tolist() == ["josh"]


def test_read_review_log_without_duration(tmp_path):
    path = write(tmp_path / "r.csv", "review_time,card_id,review_rating\n5,a,1\n")
    log = read_review_log(path)
    assert sorted(log.extra) == ["rating"] and log.time.tolist() == [5.0]
    assert log.outcome.tolist() == [0.0]


@pytest.mark.parametrize(
    ("row", "parts"),
    [
        ("c9,5,2024-01-03T00:00:00Z,10", ["field 'review_rating', value '5'", "rating must be"]),
        ("c9,again,2024-01-03T00:00:00Z,10", ["field 'review_rating', value 'again'"]),
        ("c9,3,tomorrow,10", ["field 'review_time', value 'tomorrow'", "unparseable time"]),
        ("c9,3,,10", ["field 'review_time', value ''"]),
        ("c9,3,2024-01-03T00:00:00Z,fast", ["field 'review_duration', value 'fast'"]),
        (" ,3,2024-01-03T00:00:00Z,10", ["field 'card_id', value ''", "missing value"]),
        ("c9,3,2024-01-03T00:00:00Z", ["row has 3 fields but the header has 4"]),
        ("c9,3,2023-01-01T00:00:00Z,10", ["field 'time'", "time goes backwards for learner 'r'"]),
    ],
)
def test_read_review_log_errors(tmp_path, row, parts):
    path = write(tmp_path / "r.csv", REVIEW_TEXT + row + "\n")
    with raises_data_error(f"{path}:7", *parts):  # 6 lines above, one of them blank
        read_review_log(path)


def test_read_review_log_missing_column(tmp_path):
    path = write(tmp_path / "r.csv", "card_id,rating,review_time\nc1,3,0\n")
    with raises_data_error(f"{path}:1, field 'review_rating'", "missing column"):
        read_review_log(path)


@pytest.mark.skipif(not JOSH.is_file(), reason=f"{JOSH} not present")
def test_read_review_log_real_file():
    with open(JOSH, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 12_580  # data/README.md: 12,580 reviews of 1,205 cards
    assert len({row["card_id"] for row in rows}) == 1_205
    lapses = sum(row["review_rating"] == "1" for row in rows)

    log = read_review_log(JOSH)
    assert len(log) == 12_580 and len(log.items()) == 1_205
    assert log.learners().tolist() == ["review_logs_josh"]
    assert int((log.outcome == 0).sum()) == lapses
    assert log.extra["rating"].tolist() == [int(row["review_rating"]) for row in rows]
    assert log.extra["duration_ms"].tolist() == [float(row["review_duration"]) for row in rows]
    # README: 2024-03-29 to 2024-10-06
    first, last = (datetime_utc(t) for t in (log.time.min(), log.time.max()))
    assert first.startswith("2024-03-29") and last.startswith("2024-10-06")


def datetime_utc(seconds: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(seconds, UTC).isoformat()


# ====================================================================== parquet, detection


def test_read_parquet_errors(tmp_path):
    with raises_data_error("file not found"):
        read_parquet(tmp_path / "none.parquet")
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"not parquet at all")
    with raises_data_error(f"{junk}:", "not a readable Parquet file"):
        read_parquet(junk)
    import pyarrow as pa
    import pyarrow.parquet as pq

    partial = tmp_path / "partial.parquet"
    pq.write_table(pa.table({"learner": [1], "item": [2], "time": [0.0]}), partial)
    with raises_data_error(f"{partial}, field 'outcome'", "missing column"):
        read_parquet(partial)
    bad = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"learner": [1], "item": [2], "time": [0.0], "outcome": [3.0]}), bad)
    with raises_data_error(f"{bad}, field 'outcome', value 3.0"):
        read_parquet(bad)


def test_detect_format_and_read_events(tmp_path):
    kt = write(tmp_path / "a.csv", KT_TEXT)
    review = write(tmp_path / "b.csv", REVIEW_TEXT)
    generic = write(tmp_path / "c.txt", "user,item,time,outcome\nu,x,1,1\n")
    parquet = tmp_path / "d.PARQUET"
    write_parquet(small_log(), parquet)
    assert [detect_format(p) for p in (kt, review, generic, parquet)] == [
        "kt",
        "review",
        "csv",
        "parquet",
    ]
    assert len(read_events(kt)) == 5 and len(read_events(review)) == 4
    assert read_events(generic, columns={"learner": "user"}).learner.tolist() == ["u"]
    assert read_events(parquet).item.tolist() == [10, 11, 10, 12, 13]
    assert read_events(kt, format="kt").learners().tolist() == ["a:0", "a:1"]
    with raises_data_error("unknown format", "value 'xml'"):
        read_events(kt, format="xml")
    with raises_data_error("file not found"):
        detect_format(tmp_path / "none.csv")


# ====================================================================== atomic writing


def only_file(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_write_csv_failing_midway_leaves_target_untouched(tmp_path, monkeypatch):
    target = write(tmp_path / "log.csv", "old contents\n")
    real_writer = csv.writer

    class Exploding:
        def __init__(self, handle):
            self.inner = real_writer(handle)

        def writerow(self, row):
            self.inner.writerow(row)

        def writerows(self, rows):
            rows = iter(rows)
            self.inner.writerow(next(rows))  # half the file is on disk...
            raise OSError("disk full")  # ...then the crash

    monkeypatch.setattr(writers_module.csv, "writer", Exploding)
    with pytest.raises(OSError, match="disk full"):
        write_csv(small_log(), target)
    assert target.read_text() == "old contents\n"
    assert only_file(tmp_path) == ["log.csv"]
    monkeypatch.undo()
    write_csv(small_log(), target)  # and a write that succeeds replaces it
    assert target.read_text().splitlines()[0] == "learner,item,time,outcome,rt"
    assert only_file(tmp_path) == ["log.csv"]


def test_write_parquet_failing_midway_leaves_target_untouched(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    target = tmp_path / "log.parquet"
    write_parquet(small_log()[:2], target)
    before = target.read_bytes()

    def exploding(table, where, **kwargs):
        Path(where).write_bytes(b"PAR1 half a file")
        raise RuntimeError("killed")

    monkeypatch.setattr(pq, "write_table", exploding)
    with pytest.raises(RuntimeError, match="killed"):
        write_parquet(small_log(), target)
    assert target.read_bytes() == before
    assert only_file(tmp_path) == ["log.parquet"]
    monkeypatch.undo()
    assert len(read_parquet(target)) == 2


def test_write_json_failing_midway_leaves_target_untouched(tmp_path):
    target = tmp_path / "state.json"
    _io.write_json(target, {"version": 1})
    with pytest.raises(ValueError):  # NaN is refused after '{"a": 1, "b": ' was written
        _io.write_json(target, {"a": 1, "b": float("nan")})
    assert json.loads(target.read_text()) == {"version": 1}
    assert only_file(tmp_path) == ["state.json"]


def test_atomic_path_creates_folders_and_cleans_up(tmp_path):
    target = tmp_path / "new" / "deeper" / "f.txt"
    with _io.atomic_open(target) as handle:
        handle.write("hello")
        assert not target.exists()  # nothing at the target until the body succeeds
    assert target.read_text() == "hello"
    with pytest.raises(KeyError), _io.atomic_path(target) as tmp:
        tmp.write_text("partial")
        raise KeyError("boom")
    assert target.read_text() == "hello"
    assert only_file(target.parent) == ["f.txt"]


def test_atomic_write_gives_the_mode_open_would(tmp_path):
    # tempfile.mkstemp makes 0600 files; the rename used to hand that mode to the target
    old = os.umask(0o022)
    try:
        fresh = tmp_path / "fresh.json"
        _io.write_json(fresh, [1])
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o644
        private = tmp_path / "private.json"
        private.write_text("{}")
        private.chmod(0o600)
        _io.write_json(private, [2])  # replacing a file keeps its mode
        assert stat.S_IMODE(private.stat().st_mode) == 0o600
        assert json.loads(private.read_text()) == [2]
    finally:
        os.umask(old)
