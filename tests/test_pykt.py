"""pyKT's processed files (``--format pykt``) and pyKT's "window" scoring, on
small files written by hand in pyKT's layout (no pyKT data in the repository)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from mentor.errors import DataError
from mentor.evaluation import evaluate, first_answers, fixed_split
from mentor.events import EventLog, detect_format, pykt_domain, read_events, read_pykt
from mentor.metrics import auc

# u1 answers question 0 (concept 0), question 1 (concepts 1 and 2: two rows, the
# second marked is_repeat), question 2 (concept 3); u2 answers questions 2 and 0.
TRAIN_VALID = """fold,uid,questions,concepts,responses,timestamps,is_repeat
0,u1,"0,1,1,2","0,1,2,3","1,0,0,1","100,200,200,300","0,0,1,0"
1,u2,"2,0","3,0","0,1","50,60","0,0"
"""
# The same u1 cut into rows of 3 and padded with -1, as train_valid_sequences.csv.
SEQUENCES = """fold,uid,questions,concepts,responses,selectmasks,is_repeat
0,u1,"0,1,1","0,1,2","1,0,0","1,1,1","0,0,1"
0,u1,"2,-1,-1","3,-1,-1","1,-1,-1","1,-1,-1","0,-1,-1"
"""
KEYID2IDX = {
    "questions": {"q10": 0, "q11": 1, "q12": 2},
    "concepts": {"7": 0, "8": 1, "9": 2, "10": 3},
    "max_concepts": 2,
}


def test_one_event_per_attempt_with_its_concepts(tmp_path):
    path = tmp_path / "train_valid.csv"
    path.write_text(TRAIN_VALID)
    assert detect_format(path) == "pykt"
    log = read_events(path)
    assert log.learner.tolist() == ["u1", "u1", "u1", "u2", "u2"]
    assert log.item.tolist() == [0, 1, 2, 2, 0]
    assert log.outcome.tolist() == [1, 0, 1, 0, 1]
    assert log.time.tolist() == [0, 1, 2, 0, 1]  # positions; pyKT's stamps kept aside
    assert log.extra["timestamp"].tolist() == [100, 200, 300, 50, 60]
    assert log.extra["concepts"].tolist() == [("0",), ("1", "2"), ("3",), ("3",), ("0",)]
    assert log.extra["fold"].tolist() == [0, 0, 0, 1, 1]
    domain = pykt_domain(log)
    assert domain.items[1].skills == ("1", "2") and domain.items[2].skills == ("3",)


def test_padded_sequence_rows_join_into_the_same_events(tmp_path):
    (tmp_path / "train_valid_sequences.csv").write_text(SEQUENCES)
    (tmp_path / "train_valid.csv").write_text(TRAIN_VALID)
    rows = read_pykt(tmp_path / "train_valid_sequences.csv")
    whole = read_pykt(tmp_path / "train_valid.csv")[:3]
    for column in ("learner", "item", "time", "outcome"):
        assert getattr(rows, column).tolist() == getattr(whole, column).tolist()
    assert rows.extra["concepts"].tolist() == [("0",), ("1", "2"), ("3",)]


def test_keyid2idx_names_items_and_concepts(tmp_path):
    (tmp_path / "train_valid.csv").write_text(TRAIN_VALID)
    (tmp_path / "keyid2idx.json").write_text(json.dumps(KEYID2IDX))
    log = read_pykt(tmp_path / "train_valid.csv")
    assert log.item.tolist() == ["q10", "q11", "q12", "q12", "q10"]
    assert log.extra["concepts"].tolist() == [("7",), ("8", "9"), ("10",), ("10",), ("7",)]
    (tmp_path / "keyid2idx.json").write_text(json.dumps({"questions": {"q10": 0}}))
    with pytest.raises(DataError, match="field 'questions', value 1: index not in keyid2idx"):
        read_pykt(tmp_path / "train_valid.csv")


def test_raw_concept_ids_with_underscores_stay_whole(tmp_path):
    # pyKT's key map may name concepts "skill_0"; question q11 has two of them
    (tmp_path / "train_valid.csv").write_text(TRAIN_VALID)
    names = {"skill_7": 0, "skill_8": 1, "skill_9": 2, "skill_10": 3}
    (tmp_path / "keyid2idx.json").write_text(json.dumps({**KEYID2IDX, "concepts": names}))
    log = read_pykt(tmp_path / "train_valid.csv")
    assert log.extra["concepts"].tolist()[:3] == [("skill_7",), ("skill_8", "skill_9"),
                                                  ("skill_10",)]  # fmt: skip
    domain = pykt_domain(log)
    assert domain.items["q10"].skills == ("skill_7",)  # single concept
    assert domain.items["q11"].skills == ("skill_8", "skill_9")  # two concepts
    assert domain.items["q12"].skills == ("skill_10",)
    del names["skill_10"]  # concept 3 unnamed: the line and value are named
    (tmp_path / "keyid2idx.json").write_text(json.dumps({**KEYID2IDX, "concepts": names}))
    with pytest.raises(DataError, match=r"train_valid.csv:2, field 'concepts', value 3: index"):
        read_pykt(tmp_path / "train_valid.csv")


def test_concept_only_files_use_concepts_as_items(tmp_path):
    path = tmp_path / "test.csv"
    path.write_text('fold,uid,concepts,responses\n-1,7,"4,5,4","1,1,0"\n')
    log = read_pykt(path)
    assert log.item.tolist() == [4, 5, 4] and pykt_domain(log) is None


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("test_window_sequences.csv", SEQUENCES, "overlapping rows"),
        ("s.csv", SEQUENCES.replace('"1,-1,-1","0,-1,-1"', '"-1,1,-1","0,-1,-1"'), "window row"),
        ("r.csv", TRAIN_VALID.replace('"0,1","50,60"', '"0,2","50,60"'), "value 2"),
        ("l.csv", TRAIN_VALID.replace('"2,0","3,0"', '"2,0,1","3,0"'), "questions 3, concepts 2"),
        ("c.csv", TRAIN_VALID.replace(',"0,0,1,0"', ',"1,0,1,0"'), "first interaction"),
    ],
    ids=["window-file", "window-row", "response", "lengths", "repeat-first"],
)
def test_bad_pykt_files_are_named(tmp_path, name, content, fragment):
    (tmp_path / name).write_text(content)
    with pytest.raises(DataError, match=fragment) as caught:
        read_events(tmp_path / name, format="pykt")
    assert name in str(caught.value)


def test_first_answers_are_those_of_learners_new_to_the_model():
    train = EventLog(["a"], ["x"], [0.0], [1.0])
    test = EventLog(["b", "a", "b", "c"], ["x", "y", "y", "x"], [3.0, 1.0, 5.0, 0.0], np.ones(4))
    assert first_answers(train, test).tolist() == [True, False, False, True]


def test_window_scoring_leaves_out_first_answers_and_says_so():
    rng = np.random.default_rng(0)
    learners = np.repeat([f"s{k}" for k in range(40)], 6)
    log = EventLog(learners, rng.integers(0, 3, 240), np.tile(np.arange(6.0), 40),
                   (rng.random(240) < 0.6).astype(float))  # fmt: skip
    train, test = log[:120], log[120:]
    plain = evaluate(["elo"], fixed_split(train, test))
    window = evaluate(["elo"], fixed_split(train, test), scoring="window")
    kept = np.tile(np.arange(6) > 0, 20)
    outcomes, predictions = plain.pooled("elo")
    assert window.rows[0]["scoring"] == "window" and plain.rows[0]["scoring"] == "all"
    assert window.rows[0]["scored_events"] == 100 and window.rows[0]["test_events"] == 120
    assert window.rows[0]["auc"] == pytest.approx(auc(outcomes[kept], predictions[kept]))
    with pytest.raises(DataError, match="scoring"):
        evaluate(["elo"], fixed_split(train, test), scoring="windows")


def test_cli_evaluates_pykt_files_with_window_scoring(tmp_path):
    rng = np.random.default_rng(1)
    for name, n in (("train_valid.csv", 30), ("test.csv", 10)):
        rows = ["fold,uid,concepts,responses"]
        for k in range(n):
            length = int(rng.integers(3, 9))
            skills = ",".join(map(str, rng.integers(0, 4, length)))
            answers = ",".join(map(str, (rng.random(length) < 0.6).astype(int)))
            rows.append(f'{k % 5 if n == 30 else -1},{name[:2]}{k},"{skills}","{answers}"')
        (tmp_path / name).write_text("\n".join(rows) + "\n")
    result = subprocess.run(  # the folder: its train_valid.csv and test.csv
        [sys.executable, "-m", "mentor", "evaluate", "elo", "--data", tmp_path,
         "--scoring", "window", "--out", tmp_path, "--json", tmp_path / "r.json"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    title = " ".join(result.stdout.split())
    assert "train_valid.csv -> test.csv; scoring window" in title
    assert json.loads((tmp_path / "r.json").read_text())[0]["scoring"] == "window"


def test_cli_fit_builds_the_domain_from_pykt_concepts(tmp_path):
    (tmp_path / "train_valid.csv").write_text(TRAIN_VALID)
    state = tmp_path / "bkt.json"
    result = subprocess.run(
        [sys.executable, "-m", "mentor", "fit", "bkt", tmp_path / "train_valid.csv",
         "--out", state],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    saved = json.loads(state.read_text())["domain"]
    skills = {item["id"]: item["skills"] for item in saved["items"]}
    assert skills == {0: ["0"], 1: ["1", "2"], 2: ["3"]}


def test_cli_refuses_split_options_with_a_pykt_folder(tmp_path):
    (tmp_path / "train_valid.csv").write_text(TRAIN_VALID)
    (tmp_path / "test.csv").write_text(TRAIN_VALID.replace("u1", "u3").replace("u2", "u4"))
    for options, field in (
        (["--test", tmp_path / "test.csv"], "--test"),
        (["--protocol", "time"], "--protocol"),
        (["--folds", "3"], "--folds"),
    ):
        result = subprocess.run(
            [sys.executable, "-m", "mentor", "evaluate", "elo", "--data", tmp_path, *options,
             "--out", tmp_path / "out"],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 1 and len(lines) == 1, result.stderr
        assert f"{tmp_path}, field '{field}'" in lines[0]
        assert "carries its own train/test split" in lines[0]


def test_cli_names_the_files_a_pykt_folder_must_hold(tmp_path):
    (tmp_path / "train_valid_sequences.csv").write_text(SEQUENCES)
    (tmp_path / "test_sequences.csv").write_text(SEQUENCES)
    result = subprocess.run(
        [sys.executable, "-m", "mentor", "evaluate", "elo", "--data", tmp_path],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    assert "must hold pyKT's train_valid.csv and test.csv" in lines[0]
    assert "(train_valid.csv, test.csv not found)" in lines[0]
    assert "it has test_sequences.csv, train_valid_sequences.csv" in lines[0]
