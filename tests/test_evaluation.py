"""Evaluation protocols, leak guards, calibration metrics and ``mentor evaluate``."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mentor.domain import Domain, Item
from mentor.errors import DataError
from mentor.evaluation import (
    check_domain,
    check_split,
    drop_duplicates,
    duplicate_warning,
    evaluate,
    fixed_split,
    learner_kfold,
    time_folds,
)
from mentor.events import EventLog
from mentor.metrics import auc, calibration_error, log_loss, reliability, rmse_bins
from mentor.students import Elo

KT = Path(__file__).resolve().parents[2] / "shared" / "data" / "kt"


# ------------------------------------------------------------------ calibration
def test_calibration_by_hand():
    # Two bins. [0, .5): predictions .1, .15 with outcomes 0, 1 -> P = .125, O = .5.
    # [.5, 1]: predictions .8, .9 with outcomes 1, 0 -> P = .85, O = .5.
    y, p = np.array([0, 1, 1, 0.0]), np.array([0.1, 0.15, 0.8, 0.9])
    assert calibration_error(y, p, bins=2) == pytest.approx(0.5 * 0.375 + 0.5 * 0.35)
    assert rmse_bins(y, p, bins=2) == pytest.approx(math.sqrt(0.5 * 0.375**2 + 0.5 * 0.35**2))
    r = reliability(y, p, bins=2)
    np.testing.assert_allclose(r.mean_prediction, [0.125, 0.85])
    np.testing.assert_allclose(r.mean_outcome, [0.5, 0.5])
    np.testing.assert_array_equal(r.count, [2, 2])


def test_calibration_skips_empty_bins_and_puts_one_in_last_bin():
    # Prediction 1.0 belongs to bin [0.9, 1]; bins 0..8 are empty and do not count.
    r = reliability(np.array([1.0, 1.0]), np.array([1.0, 0.95]), bins=10)
    assert r.count.tolist() == [2]
    assert r.lower.tolist() == [pytest.approx(0.9)]
    assert calibration_error(np.array([1.0, 1.0]), np.array([1.0, 0.95])) == pytest.approx(0.025)


def test_perfectly_calibrated_predictions_have_zero_error():
    y = np.array([0, 0, 0, 1, 1, 0, 1, 1.0])  # 1 in 4 at .25, 3 in 4 at .75
    p = np.array([0.25, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75, 0.75])
    assert calibration_error(y, p) == pytest.approx(0.0)
    assert rmse_bins(y, p) == pytest.approx(0.0)


def test_calibration_rejects_zero_bins():
    with pytest.raises(DataError, match="bins"):
        reliability(np.array([1.0]), np.array([0.5]), bins=0)


# ------------------------------------------------------------------ protocols
def _log(learners, times=None, outcomes=None, items=None):
    n = len(learners)
    return EventLog(
        learners,
        items if items is not None else [f"i{k % 3}" for k in range(n)],
        times if times is not None else np.arange(n, dtype=float),
        outcomes if outcomes is not None else [k % 2 for k in range(n)],
    )


def test_learner_kfold_partitions_learners():
    learners = [f"l{k // 4}" for k in range(40)]  # ten learners, four events each
    log = _log(learners)
    folds = list(learner_kfold(log, k=3, seed=1))
    assert len(folds) == 3
    tested = []
    for fold in folds:
        assert len(fold.train) + len(fold.test) == len(log)
        assert not set(fold.train.learner.tolist()) & set(fold.test.learner.tolist())
        tested += fold.test.learners().tolist()
    assert sorted(tested) == sorted(set(learners))  # each learner tested exactly once
    sizes = sorted(len(f.test.learners()) for f in folds)
    assert sizes == [3, 3, 4]  # dealt round-robin after a shuffle


def test_learner_kfold_depends_on_seed_only():
    log = _log([f"l{k // 2}" for k in range(40)])
    a = [f.test.learners().tolist() for f in learner_kfold(log, 4, seed=3)]
    b = [f.test.learners().tolist() for f in learner_kfold(log, 4, seed=3)]
    c = [f.test.learners().tolist() for f in learner_kfold(log, 4, seed=4)]
    assert a == b
    assert a != c


@pytest.mark.parametrize("k", [1, 6])
def test_learner_kfold_bad_fold_counts(k):
    with pytest.raises(DataError, match="folds"):
        list(learner_kfold(_log(["a", "b", "c", "d", "e"]), k=k))


def test_time_folds_by_hand():
    # Learner a: 6 events; chunk of event j is floor(j * 3 / 6) = 0,0,1,1,2,2.
    # Learner b: 3 events; floor(j * 3 / 3) = 0,1,2. The log interleaves them,
    # and b's times are earlier than a's, to check that each learner has their own line.
    learners = ["a", "b", "a", "a", "b", "a", "a", "b", "a"]
    times = [10.0, 1.0, 20.0, 30.0, 2.0, 40.0, 50.0, 3.0, 60.0]
    log = _log(learners, times=times)
    folds = list(time_folds(log, n_splits=2))
    assert len(folds) == 2
    by_learner = lambda lg, who: sorted(lg.time[lg.learner == who].tolist())  # noqa: E731
    assert by_learner(folds[0].train, "a") == [10, 20]
    assert by_learner(folds[0].test, "a") == [30, 40]
    assert by_learner(folds[1].train, "a") == [10, 20, 30, 40]
    assert by_learner(folds[1].test, "a") == [50, 60]
    assert by_learner(folds[0].train, "b") == [1]
    assert by_learner(folds[0].test, "b") == [2]
    assert by_learner(folds[1].test, "b") == [3]
    for fold in folds:  # never a training event after a test event of the same learner
        assert check_split(fold.train, fold.test) is not None


def test_fixed_split_is_one_fold():
    train, test = _log(["a", "a"]), _log(["b"])
    (fold,) = fixed_split(train, test)
    assert fold.train is train and fold.test is test


# ------------------------------------------------------------------ leak guards
def test_duplicates_are_counted_and_dropped_keeping_the_first():
    log = EventLog(["a", "a", "a", "b"], ["x", "x", "y", "x"], [1, 1, 1, 1], [1, 0, 1, 1])
    warning = duplicate_warning(log, "f.csv")
    assert warning.startswith("f.csv: 1 duplicated rows")
    assert "learner 'a', item 'x', time 1" in warning
    kept = drop_duplicates(log)
    assert kept.outcome.tolist() == [1, 1, 1]  # the second (outcome 0) copy went
    assert duplicate_warning(kept, "f.csv") is None


def test_split_with_test_rows_in_training_is_an_error():
    train = EventLog(["a", "a"], ["x", "y"], [1, 2], [1, 0])
    test = EventLog(["a"], ["y"], [2], [0])
    with pytest.raises(DataError, match="1 test events are also in the training log"):
        check_split(train, test)


def test_split_with_training_from_the_future_is_an_error():
    train = EventLog(["a", "a"], ["x", "y"], [1, 5], [1, 0])
    test = EventLog(["a"], ["z"], [3], [0])
    with pytest.raises(DataError, match="learner 'a' has a training event at time 5 after"):
        check_split(train, test)


def test_split_continuing_learners_gives_a_note_and_unseen_gives_none():
    train = EventLog(["a", "b"], ["x", "y"], [1, 2], [1, 0])
    assert "1 test learners" in check_split(train, EventLog(["a"], ["y"], [3], [0]))
    assert check_split(train, EventLog(["c"], ["y"], [0], [0])) is None


def test_items_outside_the_domain_are_an_error():
    domain = Domain([Item("x", ("s",))])
    check_domain(EventLog(["a"], ["x"], [1], [1]), domain, "f.csv")
    with pytest.raises(
        DataError, match=r"f\.csv, field 'item', value 'q': 1 items are not in the domain"
    ):
        check_domain(EventLog(["a", "a"], ["x", "q"], [1, 2], [1, 0]), domain, "f.csv")


# ------------------------------------------------------------------ runner
def test_evaluate_matches_fitting_and_scoring_by_hand():
    rng = np.random.default_rng(0)
    n = 400
    learners = rng.integers(0, 20, n)
    items = rng.integers(0, 5, n)
    outcomes = (rng.random(n) < 0.3 + 0.1 * items).astype(float)
    log = EventLog(learners, items, np.arange(n, dtype=float), outcomes)
    folds = list(learner_kfold(log, 2, seed=0))
    result = evaluate(["elo"], folds, params={"elo": {"alpha": 0.5}})
    assert [row["fold"] for row in result.rows] == [0, 1]
    for fold, row in zip(folds, result.rows, strict=True):
        model = Elo(alpha=0.5).fit(fold.train)
        p = model.predict_log(fold.test)
        assert row["auc"] == pytest.approx(auc(fold.test.outcome, p))
        assert row["log_loss"] == pytest.approx(log_loss(fold.test.outcome, p))
        assert row["test_events"] == len(fold.test)
    (summary,) = result.summary()
    values = [row["auc"] for row in result.rows]
    assert summary["auc"] == pytest.approx(np.mean(values))
    assert summary["auc_std"] == pytest.approx(np.std(values, ddof=1))
    y, p = result.pooled("elo")
    assert len(y) == len(p) == n


# ------------------------------------------------------------------ command line
def _mentor(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "mentor", *args], capture_output=True, text=True, cwd=cwd
    )


@pytest.fixture()
def small_log(tmp_path):
    rng = np.random.default_rng(1)
    rows = ["learner,item,time,outcome"]
    for learner in range(12):
        for step in range(15):
            item = int(rng.integers(0, 4))
            rows.append(f"u{learner},q{item},{step},{int(rng.random() < 0.4 + 0.15 * item)}")
    path = tmp_path / "log.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_cli_evaluate_writes_table_csv_png_and_json(small_log, tmp_path):
    out, js = tmp_path / "out", tmp_path / "figures.json"
    run = _mentor(
        "evaluate", "elo", "bkt", "--data", str(small_log), "--folds", "3",
        "--set", "elo.alpha=0.5", "--out", str(out), "--json", str(js),
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "kfold protocol, 3 folds" in run.stdout
    rows = json.loads(js.read_text())
    assert [row["model"] for row in rows] == ["elo", "bkt"]
    for row in rows:
        assert {"model", "auc", "log_loss", "rmse", "fit_seconds"} <= set(row)
        assert 0.0 <= row["auc"] <= 1.0
    lines = (out / "evaluation.csv").read_text().splitlines()
    assert lines[0].startswith("model,fold,")
    assert len(lines) == 1 + 2 * 3
    assert (out / "evaluation.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_evaluate_list():
    run = _mentor("evaluate", "--list")
    assert run.returncode == 0
    names = [line.split()[0] for line in run.stdout.splitlines() if line.strip()]
    assert {"bkt", "elo"} <= set(names)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nosuch", "--data", "LOG"], "unknown student model 'nosuch'"),
        (["elo"], "give either --data LOG, or both --train TRAIN and --test TEST"),
        (["elo", "--data", "LOG", "--protocol", "random"], "field '--protocol', value 'random'"),
        (["elo", "--data", "LOG", "--set", "elo.alpha"], "expected MODEL.PARAM=VALUE"),
        (["elo", "--data", "LOG", "--set", "bkt.x=1"], "model 'bkt' is not being evaluated"),
        (
            ["elo", "--data", "LOG", "--folds", "1"],
            "field 'folds', value 1: must be an integer >= 2",
        ),
        (["elo", "--data", "LOG", "--set", "elo.gamma=2"], "elo has no parameter 'gamma'"),
        (["elo", "--data", "LOG", "--set", "elo.alpha=-1"], "alpha"),
        (
            ["elo", "--data", "LOG", "--set", "elo.skill_ability=maybe"],
            "field 'skill_ability', value 'maybe': must be true or false",
        ),
    ],
)
def test_cli_evaluate_bad_input_gives_one_line(small_log, tmp_path, args, message):
    args = [str(small_log) if a == "LOG" else a for a in args]
    run = _mentor("evaluate", *args, "--out", str(tmp_path / "out"))
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("mentor: error: ")
    assert message in lines[0]
    assert not (tmp_path / "out" / "evaluation.csv").exists()


def test_set_values_read_flags_in_any_case_and_models_refuse_text_flags():
    from mentor.cli.evaluate import _settings
    from mentor.errors import ParameterError
    from mentor.students import create_model

    settings = _settings(
        ["bkt.forgets=False", "bkt.multigs=TRUE", "bkt.max_iter=5", "bkt.multiprior=group"], ["bkt"]
    )
    assert settings == {
        "bkt": {"forgets": False, "multigs": True, "max_iter": 5, "multiprior": "group"}
    }
    assert create_model("bkt", **settings["bkt"]).forgets is False
    with pytest.raises(ParameterError, match="field 'forgets', value 'False'"):
        create_model("bkt", forgets="False")  # bool("False") would be True


def test_cli_evaluate_warns_about_duplicates_and_drops_them_on_request(tmp_path):
    rows = ["learner,item,time,outcome"] + [f"u{k},q{k % 2},1,{k % 2}" for k in range(6)]
    rows.append("u0,q0,1,0")  # a repeat of u0's first row
    path = tmp_path / "dup.csv"
    path.write_text("\n".join(rows) + "\n")
    kept = _mentor("evaluate", "elo", "--data", str(path), "--folds", "2", "--out", str(tmp_path))
    assert kept.returncode == 0, kept.stderr
    assert "1 duplicated rows" in kept.stderr and "kept" in kept.stderr
    dropped = _mentor(
        "evaluate", "elo", "--data", str(path), "--folds", "2", "--out", str(tmp_path),
        "--drop-duplicates", "--json", str(tmp_path / "d.json"),
    )  # fmt: skip
    assert dropped.returncode == 0
    assert "dropped" in dropped.stderr
    csv_rows = (tmp_path / "evaluation.csv").read_text().splitlines()[1:]
    assert sum(int(row.split(",")[3]) for row in csv_rows) == 6  # test events over both folds


@pytest.mark.skipif(not KT.exists(), reason="needs ../shared/data")
def test_cli_evaluate_fixed_split_on_assist2009(tmp_path):
    folder = KT / "assist2009_updated"
    js = tmp_path / "f.json"
    run = _mentor(
        "evaluate", "elo", "--train", str(folder / "assist2009_updated_train.csv"),
        "--test", str(folder / "assist2009_updated_test.csv"), "--out", str(tmp_path),
        "--json", str(js),
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    (row,) = json.loads(js.read_text())
    # benchmarks/RESULTS.md: Elo on this split, test AUC 0.7286 (deterministic online fit).
    assert row["auc"] == pytest.approx(0.7286, abs=0.0005)
    assert row["folds"] == 1


def torch_cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


@pytest.mark.skipif(torch_cuda(), reason="this machine has CUDA")
def test_cli_evaluate_reports_a_failing_model_and_keeps_the_others(small_log, tmp_path):
    """bkt asked to fit on a GPU this machine lacks fails in its first fit; elo's
    figures are still written, bkt's failure is one line, and the exit status is 1."""
    out, js = tmp_path / "out", tmp_path / "figures.json"
    run = _mentor(
        "evaluate", "bkt", "elo", "--data", str(small_log), "--folds", "2",
        "--set", "bkt.device=cuda", "--out", str(out), "--json", str(js),
    )  # fmt: skip
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    try:
        import torch  # noqa: F401

        reason = "field 'device', value 'cuda': CUDA is not available on this machine"
    except ImportError:  # the core alone (make test-core)
        reason = (
            "BKT device 'cuda' needs PyTorch: pip install 'mentor[torch]' (No module named 'torch')"
        )
    assert [line for line in lines if not line.startswith("mentor: fitting ")] == [
        f"mentor: error: bkt failed on fold 1: {reason}"
    ]
    # not a terminal: a plain progress line per model, fold and pass over the data (elo
    # fits in one pass; bkt is dropped in fold 1 before its first)
    assert [line for line in lines if line.startswith("mentor: fitting ")] == [
        "mentor: fitting bkt, fold 1/2",
        "mentor: fitting elo, fold 1/2",
        "mentor: fitting elo, fold 1/2, epoch 1",
        "mentor: fitting elo, fold 2/2",
        "mentor: fitting elo, fold 2/2, epoch 1",
    ]
    assert [row["model"] for row in json.loads(js.read_text())] == ["elo"]
    rows = (out / "evaluation.csv").read_text().splitlines()[1:]
    assert {row.split(",")[0] for row in rows} == {"elo"}


def test_cli_evaluate_refuses_a_model_that_cannot_use_the_domain_before_fitting(
    small_log, tmp_path
):
    domain = tmp_path / "items.csv"
    domain.write_text('item,skills\nq0,a\nq1,b\nq2,"a;b"\nq3,b\n')
    run = _mentor(
        "evaluate", "elo", "psikt", "--data", str(small_log), "--folds", "2",
        "--domain", str(domain), "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        "mentor: error: psikt needs exactly one skill per item; item 'q2' has 2"
    ]
    assert not (tmp_path / "out" / "evaluation.csv").exists()
