"""The ``mentor`` command run as a user runs it: in a subprocess, on real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mentor.events import read_kt

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ASSIST = SHARED / "kt" / "assist2009_updated"


def mentor(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mentor", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def write_kt(path: Path, n_learners: int, seed: int) -> None:
    """Three-line KT file with answers drawn from BKT (learn .2, guess .2, slip .1)."""
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(n_learners):
        length = int(rng.integers(5, 25))
        skills = rng.integers(1, 4, size=length)
        known = np.zeros(4, dtype=bool)
        answers = []
        for s in skills:
            answers.append(int(rng.random() < (0.9 if known[s] else 0.2)))
            known[s] |= rng.random() < 0.2
        lines += [str(length), ",".join(map(str, skills)), ",".join(map(str, answers))]
    path.write_text("\n".join(lines) + "\n")


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("mentor: error:")
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def test_fit_on_kt_files_reports_figures_and_writes_state(tmp_path):
    write_kt(tmp_path / "train.csv", 200, seed=0)
    write_kt(tmp_path / "test.csv", 60, seed=1)
    result = mentor(
        "fit",
        "bkt",
        tmp_path / "train.csv",
        "--test",
        tmp_path / "test.csv",
        "--out",
        tmp_path / "state.json",
        "--json",
        tmp_path / "figures.json",
    )
    assert result.returncode == 0, result.stderr
    assert "AUC" in result.stdout and "log-likelihood" in result.stdout
    figures = json.loads((tmp_path / "figures.json").read_text())
    test_events = len(read_kt(tmp_path / "test.csv"))
    assert figures["events"] == test_events
    assert figures["log_loss"] == pytest.approx(-figures["log_likelihood"] / test_events)
    # Answers depend on a learned state: BKT must rank them better than chance.
    assert 0.6 < figures["auc"] < 1.0
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["kind"] == "bkt" and set(state["state"]["skills"]) == {1, 2, 3}


def test_fit_without_test_scores_the_training_log(tmp_path):
    write_kt(tmp_path / "train.csv", 50, seed=2)
    result = mentor("fit", "elo", tmp_path / "train.csv", "--json", tmp_path / "f.json")
    assert result.returncode == 0, result.stderr
    figures = json.loads((tmp_path / "f.json").read_text())
    assert figures["scored_on"] == "train"
    assert set(figures) >= {"log_likelihood", "auc", "log_loss"}


def test_fit_generic_csv_with_column_mapping(tmp_path):
    rows = ["user,skill,when,correct"]
    rng = np.random.default_rng(0)
    for n in range(30):
        for t in range(10):
            rows.append(
                f"u{n},k{t % 3},2024-01-01T00:{t:02d}:00,{int(rng.random() < 0.3 + t / 20)}"
            )
    (tmp_path / "answers.csv").write_text("\n".join(rows) + "\n")
    result = mentor(
        "fit",
        "bkt",
        tmp_path / "answers.csv",
        "--columns",
        "learner=user,item=skill,time=when,outcome=correct",
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(not ASSIST.is_dir(), reason="../shared/data/kt/assist2009_updated not present")
def test_fit_bkt_on_assist2009_reports_likelihood_and_auc(tmp_path):
    result = mentor(
        "fit",
        "bkt",
        ASSIST / "assist2009_updated_train.csv",
        "--test",
        ASSIST / "assist2009_updated_test.csv",
        "--json",
        tmp_path / "f.json",
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads((tmp_path / "f.json").read_text())
    # pyBKT's standard BKT reaches test AUC 0.711 on this split (../shared/REFERENCES.md);
    # a BKT that works must land near it, far from chance.
    assert 0.68 < figures["auc"] < 0.75
    assert figures["log_likelihood"] < 0
    assert figures["events"] == len(read_kt(ASSIST / "assist2009_updated_test.csv"))


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        ("learner,item\na,x\n", ["bad.csv:1", "'outcome'", "missing column"]),
        ("learner,item,outcome\na,x,1\nb,y,1.5\n", ["bad.csv:3", "'outcome'", "1.5"]),
        ("learner,item,outcome\na,x,nan\n", ["bad.csv:2", "'outcome'", "NaN"]),
        ("learner,item,time,outcome\na,x,yesterday,1\n", ["bad.csv:2", "'time'", "yesterday"]),
        (
            "learner,item,time,outcome\na,x,5,1\na,y,3,0\n",
            ["bad.csv:3", "'time'", "backwards", "'a'"],
        ),
        ("learner,item,outcome\na,x,right\n", ["bad.csv:2", "'outcome'", "right"]),
        ("3\n1,2,3\n1,0\n", ["bad.csv:3", "says 3"]),
    ],
    ids=[
        "missing-column",
        "outcome-range",
        "nan",
        "bad-time",
        "time-backwards",
        "not-number",
        "kt-count",
    ],
)
def test_bad_input_gives_one_line_error(tmp_path, content, fragments):
    (tmp_path / "bad.csv").write_text(content)
    assert_one_line_error(mentor("fit", "bkt", tmp_path / "bad.csv"), *fragments)


def test_missing_file_and_unknown_model(tmp_path):
    assert_one_line_error(mentor("fit", "bkt", tmp_path / "nope.csv"), "nope.csv", "not found")
    write_kt(tmp_path / "t.csv", 3, seed=0)
    assert_one_line_error(
        mentor("fit", "nonsense", tmp_path / "t.csv"),
        "nonsense",
        "choose one of akt, bkt, dash, dkt, elo",
    )


def test_failed_run_leaves_no_partial_output(tmp_path):
    (tmp_path / "bad.csv").write_text("learner,item,outcome\na,x,7\n")
    out = tmp_path / "figures.json"
    out.write_text('{"kept": true}')
    assert mentor("fit", "bkt", tmp_path / "bad.csv", "--json", out).returncode != 0
    assert json.loads(out.read_text()) == {"kept": True}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "figures.json"]


def test_simulate_quick_ranks_teachers_and_writes_outputs(tmp_path):
    """The foundation's acceptance check: in the default scenario ZPDES and the
    target-success teacher beat random with non-overlapping 95% intervals."""
    result = mentor(
        "simulate", "--quick", "--json", tmp_path / "table.json", "--plot", tmp_path / "curves.png"
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads((tmp_path / "table.json").read_text())
    assert {r["metric"] for r in rows} == {"post_mastery", "gain_per_step", "aulc"}
    assert {r["teacher"] for r in rows} == {"random", "fixed", "target", "zpdes"}
    post = {r["teacher"]: r for r in rows if r["metric"] == "post_mastery"}
    for teacher in ("zpdes", "target"):
        assert post[teacher]["ci_low"] > post["random"]["ci_high"], (teacher, post)
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "post-test mastery" in result.stdout


def test_simulate_rejects_unknown_teacher(tmp_path):
    assert_one_line_error(mentor("simulate", "--teachers", "random,oracle"), "oracle")


def test_simulate_runs_any_registered_teacher(tmp_path):
    """Teachers beyond the named four are built by create_teacher at their defaults; one
    that needs parameters (a mixture) is refused in one line before anything runs."""
    table = tmp_path / "t.json"
    run = mentor(
        "simulate", "--students", "20", "--steps", "10", "--seeds", "2",
        "--teachers", "random,learnability", "--json", table, "--plot", tmp_path / "c.png",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert {row["teacher"] for row in json.loads(table.read_text())} == {"random", "learnability"}
    assert_one_line_error(mentor("simulate", "--teachers", "mixture"), "mixture needs parts")


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [("--students", "0", "field '--students', value 0"), ("--seeds", "1", "at least 2")],
)
def test_simulate_refuses_sizes_it_cannot_run(option, value, expected):
    """0 students is refused, not read as 'the default' (it was: 0 is falsy)."""
    assert_one_line_error(mentor("simulate", option, value), expected)


def test_simulate_offers_the_expected_gain_teacher(tmp_path):
    """expected_gain plans with its own BKT per item (the fitted Elo cannot plan) and,
    on the default course, teaches far more than random in 60 steps."""
    result = mentor(
        "simulate",
        "--teachers",
        "random,expected_gain",
        "--students",
        "10",
        "--steps",
        "60",
        "--seeds",
        "2",
        "--json",
        tmp_path / "table.json",
        "--plot",
        tmp_path / "curves.png",
    )
    assert result.returncode == 0, result.stderr
    post = {
        r["teacher"]: r
        for r in json.loads((tmp_path / "table.json").read_text())
        if r["metric"] == "post_mastery"
    }
    assert set(post) == {"random", "expected_gain"}
    assert post["expected_gain"]["ci_low"] > post["random"]["ci_high"], post


def test_fit_runs_the_leak_checks_of_evaluate_on_its_test_log(tmp_path):
    rows = ["learner,item,time,outcome"] + [f"a,x{t % 2},{t},{t % 2}" for t in range(4)]
    (tmp_path / "all.csv").write_text("\n".join(rows) + "\n")
    same = mentor("fit", "elo", tmp_path / "all.csv", "--test", tmp_path / "all.csv")
    assert_one_line_error(same, "training holds events from the future of the test")
    # the test log repeats the last training event: a leak, named
    (tmp_path / "train.csv").write_text("\n".join(rows[:3]) + "\n")
    (tmp_path / "test.csv").write_text("\n".join([rows[0], *rows[2:]]) + "\n")
    repeated = mentor("fit", "elo", tmp_path / "train.csv", "--test", tmp_path / "test.csv")
    assert_one_line_error(repeated, "1 test events are also in the training log", "time 1")
    # the test log continues the learner's history: fine, with evaluate's note
    (tmp_path / "later.csv").write_text("\n".join([rows[0], *rows[3:]]) + "\n")
    later = mentor("fit", "elo", tmp_path / "train.csv", "--test", tmp_path / "later.csv")
    assert later.returncode == 0, later.stderr
    assert "mentor: note: 1 test learners also have training events" in later.stderr


def _wide(*args: str) -> subprocess.CompletedProcess:
    """``mentor`` in a wide terminal, so that table rows are not wrapped."""
    return subprocess.run(
        [sys.executable, "-m", "mentor", *map(str, args)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip


def test_fit_labels_its_log_likelihoods(tmp_path):
    write_kt(tmp_path / "train.csv", 40, seed=3)
    write_kt(tmp_path / "test.csv", 20, seed=4)
    # IRT reports the log-likelihood it maximised: in-sample, beside the online one
    irt = _wide("fit", "irt", tmp_path / "train.csv", "--json", tmp_path / "irt.json")
    assert irt.returncode == 0, irt.stderr
    assert "log-likelihood (online)" in irt.stdout
    assert "fit log-likelihood (train, in-sample)" in irt.stdout
    caption = " ".join(irt.stdout.split())  # the caption wraps at the table's width
    assert "online: each event predicted from the learner's earlier events only" in caption
    assert "train log-likelihood  " not in irt.stdout  # the old, unexplained label
    figures = json.loads((tmp_path / "irt.json").read_text())
    assert figures["train_log_likelihood_kind"] == "fit (in-sample)"
    # Elo has no fit objective: on the training log alone, one log-likelihood
    elo = _wide("fit", "elo", tmp_path / "train.csv", "--json", tmp_path / "elo.json")
    assert elo.returncode == 0, elo.stderr
    assert elo.stdout.count("log-likelihood") == 1 and "log-likelihood (online)" in elo.stdout
    figures = json.loads((tmp_path / "elo.json").read_text())
    assert figures["train_log_likelihood"] == figures["log_likelihood"]
    assert figures["train_log_likelihood_kind"] == "online"
    # BKT's fit log-likelihood is its forward pass over each learner from the start;
    # the training log scored online, each learner as new, is the same pass
    bkt = _wide("fit", "bkt", tmp_path / "train.csv", "--json", tmp_path / "bkt.json")
    assert bkt.returncode == 0, bkt.stderr
    figures = json.loads((tmp_path / "bkt.json").read_text())
    assert figures["log_likelihood"] == pytest.approx(figures["train_log_likelihood"], rel=1e-9)
    # with --test, Elo's second row is the training log scored online, so labelled
    tested = _wide(
        "fit", "elo", tmp_path / "train.csv", "--test", tmp_path / "test.csv",
        "--json", tmp_path / "elo_tested.json",
    )  # fmt: skip
    assert tested.returncode == 0, tested.stderr
    assert "train log-likelihood (online)" in tested.stdout
    # ... each training learner from the start, as without --test (not replayed on top
    # of the state the fit left, which double-counts every answer)
    online = json.loads((tmp_path / "elo.json").read_text())["log_likelihood"]
    tested_figures = json.loads((tmp_path / "elo_tested.json").read_text())
    assert tested_figures["train_log_likelihood"] == pytest.approx(online, rel=1e-12)
