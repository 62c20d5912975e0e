"""mentor's deep knowledge-tracing models against pyKT, side by side on the same split.

Usage:
    python benchmarks/pykt_side_by_side.py ../shared/data
    python benchmarks/pykt_side_by_side.py ../shared/data --datasets synthetic \\
        --models mentor-dkt pykt-dkt --epochs pykt-dkt=20
    python benchmarks/pykt_side_by_side.py ../shared/data --score-on validation
    python benchmarks/pykt_side_by_side.py ../shared/data --datasets synthetic \\
        --models mentor-dkt pykt-dkt --seeds 0 1 2 --out benchmarks/results/seeds.json
    nice -n 19 python benchmarks/pykt_side_by_side.py ../shared/data \\
        --datasets assist2009_updated --models pykt-akt --pykt-train-seconds 5400

Models: ``mentor-dkt``, ``mentor-simplekt`` and ``mentor-akt`` (mentor.students.deep,
trained in this process), ``mentor-psikt`` (mentor.students.prereq, the prerequisite-aware
Bayesian model: one maximum a posteriori fit, no epochs), and ``pykt-dkt``,
``pykt-simplekt`` and ``pykt-akt`` (pyKT, Liu et al., NeurIPS 2022 Datasets and
Benchmarks), each with its own library's default hyper-parameters (pyKT's: the
argument defaults of its ``examples/wandb_<model>_train.py`` and the batch size
of ``wandb_train.py``, see ``PYKT_DEFAULTS``; for AKT 4 blocks, d_model 256,
d_ff 512, 8 heads, dropout 0.2, learning rate 1e-4, batch 64, seed 3407).
pyKT runs in its own virtual environment outside the repository (``--pykt-python``,
default ``../refs/pykt-venv/bin/python``, made with
``python -m venv``, ``pip install torch pykt-toolkit tqdm einops entmax
matplotlib``) from a copy of its GitHub sources (``--pykt-src``, default
``../refs/pykt-src``: ``pykt/`` of pykt-team/pykt-toolkit at commit f766468,
which calls itself 0.0.38). The PyPI wheel 0.0.38 is not used: it has no
simpleKT, and its ``KTDataset`` builds ``torch.cuda`` tensors, which fails on a
machine without CUDA. pyKT's AKT (concepts only, so no Rasch embeddings, as for
the others) is slow on a CPU: one training step of 64 windows of 200 takes about
a minute on one thread (simpleKT: 4.5 s), 41 steps an epoch on assist2009_updated,
and scoring its 37,404 test windows would take hours; ``--pykt-train-seconds N``
stops a pyKT run after N seconds (SIGTERM to the driver does the same), records
it as ``stopped`` with the epochs reached, and scores its best epoch so far only
with ``--score-stopped``. Every pyKT run appends its progress to
``<out>_<dataset>_<model>_seed<seed>_progress.jsonl`` beside the results as it
goes (one JSON object a line: a ``step`` line for the first 5 steps and every 10th,
an ``epoch`` line with the training loss and validation AUC after each epoch,
``trained`` and ``scored`` at the end; ``seeddefault``: pyKT's default seed), so a
run that is killed still leaves its epochs and validation AUCs on disk.
This script writes a small driver into a temporary folder and runs it with
that interpreter; the driver calls pyKT's own sequence generation
(``generate_sequences``, ``generate_window_sequences``), data loaders,
``init_model`` and ``train_model``.

Same data for both. The fixed DKVMN split of ``DATA/kt/<dataset>``, items as
skills (pyKT: concepts, no question ids, so no Rasch embeddings). Learners with
fewer than 3 answers are dropped from the train and the test file (pyKT's
``min_seq_len``). The learners held out for early stopping are mentor's (one
fifth of the train learners, :meth:`DeepKTModel.validation_learners`, seed 0, or
with ``--seeds`` the run's seed, which mentor's own fit also draws them with);
pyKT gets them as fold 0 and trains with ``fold=0``, the others spread over
folds 1-4. Training windows on both sides are consecutive chunks of 200 answers
of each learner; pyKT also drops a last chunk shorter than 3 answers.

Same scoring for both. Every answer of the test learners except each learner's
first one (pyKT cannot predict a first answer), predicted from the learner's
earlier test answers (test learners are new). Each library predicts as it
does by default: mentor's DKT carries its recurrent state over the learner's
whole history, mentor's simpleKT attends to the last 100 to 199 answers, and
pyKT predicts each answer from at most the 199 before it (its "window"
protocol, ``window_testauc``). AUC and log loss of those predictions are
computed here, the same way for every model; for mentor's models the AUC with
first answers included is also given. ``--score-on validation`` scores the
held-out train learners instead of the test file (for choosing defaults; they
were used for early stopping only).

Fit seconds: the library's whole training call (epochs, validation after each
epoch, restoring the best epoch). Training throughput: answers in the training
windows times epochs, divided by the seconds spent in training passes (the
validation passes left out). One torch thread per process by default, one
process at a time. Results are merged by (split, dataset, model) into
``benchmarks/results/pykt_side_by_side[_validation].json`` and ``.csv``, so
models can be run one at a time. ``--seeds S ...`` makes one run per seed
(the training seed of every deep model, mentor's and pyKT's, and the seed of
the held-out learners); rows are keyed by (dataset, model, seed), so a run
without ``--seeds`` (mentor's seed 0, pyKT's 42 or 3407, both with the held-out
learners of seed 0) and runs with other seeds sit side by side in one file.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from kt_splits import SPLITS, parse_value
from rich.console import Console
from rich.table import Table

from mentor._io import atomic_open, write_json
from mentor.events import EventLog, read_kt
from mentor.metrics import auc, log_loss

MODELS = (
    "mentor-dkt",
    "mentor-simplekt",
    "mentor-akt",
    "mentor-psikt",
    "pykt-dkt",
    "pykt-simplekt",
    "pykt-akt",
)

#: pyKT's defaults: the argument defaults of examples/wandb_<model>_train.py and
#: the batch size examples/wandb_train.py uses (configs/kt_config.json: 256,
#: 64 for simpleKT and AKT), at most 200 epochs, stopping 10 epochs after the last
#: validation AUC gain of more than 1e-3 (pyKT's train_model). For AKT that is
#: wandb_akt_train.py's 4 blocks of d_model 256, d_ff 512, 8 heads, dropout 0.2,
#: learning rate 1e-4, seed 3407 (the "akt" entry of configs/kt_config.json,
#: 1 block and learning rate 1e-5, is not read by wandb_train.py).
PYKT_DEFAULTS: dict[str, dict[str, Any]] = {
    "dkt": {
        "seed": 42,
        "batch_size": 256,
        "learning_rate": 1e-3,
        "num_epochs": 200,
        "model_config": {"emb_size": 200, "dropout": 0.2},
    },
    "simplekt": {
        "seed": 42,
        "batch_size": 64,
        "learning_rate": 1e-4,
        "num_epochs": 200,
        "model_config": {
            "dropout": 0.1,
            "final_fc_dim": 256,
            "final_fc_dim2": 256,
            "num_layers": 2,
            "nheads": 4,
            "loss1": 0.5,
            "loss2": 0.5,
            "loss3": 0.5,
            "start": 50,
            "d_model": 256,
            "d_ff": 256,
            "num_attn_heads": 4,
            "n_blocks": 2,
            "seq_len": 200,
        },
    },
    "akt": {
        "seed": 3407,
        "batch_size": 64,
        "learning_rate": 1e-4,
        "num_epochs": 200,
        "model_config": {
            "dropout": 0.2,
            "d_model": 256,
            "d_ff": 512,
            "num_attn_heads": 8,
            "n_blocks": 4,
        },
    },
}
MIN_SEQ_LEN = 3
MAX_LEN = 200

DRIVER = r'''
"""pyKT side of benchmarks/pykt_side_by_side.py; run with pyKT's interpreter."""
import importlib, io, json, os, re, signal, sys, time

job = json.load(open(sys.argv[1]))
sys.path.insert(0, job["pykt_src"])
import numpy as np
import pandas as pd
import torch

torch.set_num_threads(job["threads"])
from torch.nn.functional import one_hot
from torch.utils.data import DataLoader

from pykt.datasets import init_dataset4train
from pykt.datasets.data_loader import KTDataset
from pykt.models import init_model
from pykt.preprocess.split_datasets import generate_sequences, generate_window_sequences
from pykt.utils import set_seed

pykt_train = importlib.import_module("pykt.models.train_model")  # the package hides it

work, name, maxlen = job["workdir"], job["model"], job["maxlen"]
keys = {"fold", "uid", "concepts", "responses"}
started = time.perf_counter()
train = generate_sequences(pd.DataFrame(job["train"]), keys, job["min_seq_len"], maxlen)
train.to_csv(os.path.join(work, "train_valid_sequences.csv"), index=None)
generate_window_sequences(pd.DataFrame(job["test"]), keys, maxlen).to_csv(
    os.path.join(work, "test_window_sequences.csv"), index=None)
fit_rows = train[train["fold"] != 0]
interactions = int(sum(s.split(",").count("1") for s in fit_rows["selectmasks"]))
config = {"dpath": work, "num_q": 0, "num_c": job["num_c"], "input_type": ["concepts"],
          "max_concepts": 1, "min_seq_len": job["min_seq_len"], "maxlen": maxlen, "emb_path": "",
          "train_valid_file": "train_valid_sequences.csv", "folds": [0, 1, 2, 3, 4],
          "test_file": "test_window_sequences.csv", "test_window_file": "test_window_sequences.csv"}
set_seed(job["seed"])
loaders = init_dataset4train("data", name, {"data": config}, 0, job["batch_size"])
train_loader, valid_loader = loaders[:2]
prepare_seconds = time.perf_counter() - started

model = init_model(name, dict(job["model_config"]), config, "qid")
opt = torch.optim.Adam(model.parameters(), job["learning_rate"])
evaluations = []
evaluate = pykt_train.evaluate
steps_per_epoch = len(train_loader)
state = {"steps": 0, "last": None}
stop_at = job["stop_at"]  # time.time() after which training stops (None: never)


class StopTraining(Exception):
    """Raised to end pyKT's train_model early (time budget, SIGTERM)."""


def note(record):
    """Append one progress record to the progress file (one JSON object a line)."""
    if job["progress"]:
        record = {"time": time.strftime("%Y-%m-%d %H:%M:%S"), **record,
                  "elapsed": round(time.perf_counter() - run_begin, 3)}
        with open(job["progress"], "a") as handle:
            handle.write(json.dumps(record) + "\n")


def check_time():
    if stop_at is not None and time.time() >= stop_at:
        raise StopTraining("time budget spent")


def on_term(signum, frame):
    raise StopTraining("SIGTERM")


step = opt.step


def counted_step(*args, **kwargs):
    result = step(*args, **kwargs)
    now = time.perf_counter()
    state["steps"] += 1
    done = state["steps"] - len(evaluations) * steps_per_epoch
    if state["steps"] <= 5 or done % 10 == 0 or done == steps_per_epoch:
        note({"kind": "step", "epoch": len(evaluations) + 1, "step": done,
              "steps_per_epoch": steps_per_epoch,
              "step_seconds": round(now - (state["last"] or begin), 3)})
    state["last"] = now
    check_time()
    return result


def timed_evaluate(*args, **kwargs):
    started = time.perf_counter()
    result = evaluate(*args, **kwargs)
    evaluations.append((started, time.perf_counter(), float(result[0])))
    state["last"] = time.perf_counter()
    return result


class Tee(io.StringIO):
    def write(self, text):
        sys.__stdout__.write(text)
        sys.__stdout__.flush()
        found = re.search(r"Epoch: (\d+),.*train loss: ([^,]+),", text)
        if found:  # train_model's line after each epoch's validation
            epoch = int(found.group(1))
            start, stop, val_auc = evaluations[epoch - 1]
            note({"kind": "epoch", "epoch": epoch, "train_loss": float(found.group(2)),
                  "val_auc": val_auc, "validation_seconds": round(stop - start, 3),
                  "best_epoch": best(evaluations)[0]})
            check_time()
        return super().write(text)


def best(evaluations):
    """(epoch, validation AUC) of the checkpoint train_model keeps: the last
    epoch whose AUC beat the best so far by more than 1e-3."""
    top, epoch = 0.0, -1
    for i, (_, _, val_auc) in enumerate(evaluations, 1):
        if val_auc > top + 1e-3:
            top, epoch = val_auc, i
    return epoch, top


opt.step = counted_step
pykt_train.evaluate = timed_evaluate
signal.signal(signal.SIGTERM, on_term)
tee = sys.stdout = Tee()
begin = run_begin = time.perf_counter()
note({"kind": "start", "model": name, "seed": job["seed"], "steps_per_epoch": steps_per_epoch,
      "train_interactions": interactions})
stopped = None
try:
    pykt_train.train_model(model, train_loader, valid_loader, job["num_epochs"], opt, work,
                           None, None, True)
except StopTraining as reason:
    stopped = str(reason)
signal.signal(signal.SIGTERM, signal.SIG_DFL)
fit_seconds = time.perf_counter() - begin
sys.stdout = sys.__stdout__
losses = [float(x) for x in re.findall(r"train loss: ([^,]+),", tee.getvalue())]
history, last = [], begin
for epoch, (start, stop, val_auc) in enumerate(evaluations[:len(losses)], 1):
    history.append({"epoch": epoch, "train_loss": losses[epoch - 1], "val_auc": val_auc,
                    "seconds": start - last, "train_interactions": interactions})
    last = stop
best_epoch, best_val_auc = best(evaluations[:len(losses)])
out = {
    "history": history,
    "best_epoch": best_epoch if history else None,
    "best_val_auc": best_val_auc if history else None,
    "fit_seconds": fit_seconds,
    "prepare_seconds": prepare_seconds,
    "stopped": stopped,
    "steps": state["steps"],
    "steps_per_epoch": steps_per_epoch,
    "parameters": int(sum(p.numel() for p in model.parameters())),
    "torch": torch.__version__,
    "predictions": None,
    "score_seconds": None,
}
note({"kind": "trained", "stopped": stopped, "epochs": len(history), "steps": state["steps"],
      "best_epoch": out["best_epoch"], "best_val_auc": out["best_val_auc"]})
checkpoint = os.path.join(work, "qid_model.ckpt")
if os.path.exists(checkpoint) and history and (stopped is None or job["score_stopped"]):
    model.load_state_dict(torch.load(checkpoint, map_location="cpu"))
    model.eval()
    begin = time.perf_counter()
    windows = KTDataset(os.path.join(work, "test_window_sequences.csv"), ["concepts"], {-1})
    predictions = []
    with torch.no_grad():
        for dcur in DataLoader(windows, batch_size=job["batch_size"], shuffle=False):
            c, r, cshft, sm = dcur["cseqs"], dcur["rseqs"], dcur["shft_cseqs"], dcur["smasks"]
            if name == "dkt":
                y = (model(c.long(), r.long()) * one_hot(cshft.long(), model.num_c)).sum(-1)
            elif name == "akt":  # as pyKT's evaluate: the whole window in, the first answer out
                cc = torch.cat((c[:, 0:1], cshft), dim=1)
                cr = torch.cat((r[:, 0:1], dcur["shft_rseqs"]), dim=1)
                cq = torch.cat((dcur["qseqs"][:, 0:1], dcur["shft_qseqs"]), dim=1)
                y = model(cc.long(), cr.long(), cq.long())[0][:, 1:]
            else:
                y = model(dcur)[:, 1:]
            predictions.append(torch.masked_select(y, sm).double().numpy())
    out["score_seconds"] = time.perf_counter() - begin
    out["predictions"] = np.concatenate(predictions).tolist()
    note({"kind": "scored", "seconds": round(out["score_seconds"], 3)})
json.dump(out, open(os.path.join(work, "out.json"), "w"))
'''


def model_settings(pairs: list[str], parser: argparse.ArgumentParser) -> dict[str, dict[str, Any]]:
    """``MODEL.NAME=VALUE`` pairs as {model: {name: value}}."""
    out: dict[str, dict[str, Any]] = {m: {} for m in MODELS}
    for pair in pairs:
        key, _, value = pair.partition("=")
        model, _, name = key.partition(".")
        if model not in out or not name or not value:
            parser.error(f"--set expects MODEL.NAME=VALUE with MODEL in {MODELS}, got {pair!r}")
        out[model][name] = parse_value(value)
    return out


def drop_short(log: EventLog, min_len: int = MIN_SEQ_LEN) -> EventLog:
    """The log without the learners with fewer than ``min_len`` answers."""
    ids, counts = np.unique(log.learner, return_counts=True)
    return log.for_learners(ids[counts >= min_len])


def first_answers(log: EventLog) -> np.ndarray:
    """Mask of each learner's first answer (time order, ties in log order)."""
    order = np.lexsort((np.arange(len(log)), log.time, log.learner))
    first = np.zeros(len(log), dtype=bool)
    learners = log.learner[order]
    first[order[np.r_[True, learners[1:] != learners[:-1]]]] = True
    return first


def learner_order(log: EventLog) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``log`` learner by learner (in order of first appearance),
    each learner's answers in time order (ties in log order); and the number
    of answers of each learner, in that order."""
    _, first, code, counts = np.unique(
        log.learner, return_index=True, return_inverse=True, return_counts=True
    )
    rank = np.argsort(np.argsort(first))  # learner code -> rank of first appearance
    order = np.lexsort((np.arange(len(log)), log.time, rank[code]))
    return order, counts[np.argsort(first)]


def sequences(log: EventLog, skill: dict[int, int], fold: dict[Any, int]) -> dict[str, list]:
    """pyKT's columns (uid, fold, concepts, responses), one row per learner in
    the order of :func:`learner_order`; learners not in ``fold`` get fold -1."""
    order, counts = learner_order(log)
    cuts = np.cumsum(counts)[:-1]
    codes = np.array([skill[int(i)] for i in log.item[order].tolist()], dtype=np.int64)
    rows: dict[str, list] = {"uid": [], "fold": [], "concepts": [], "responses": []}
    for index, items, outcomes in zip(
        np.split(order, cuts),
        np.split(codes, cuts),
        np.split(log.outcome[order], cuts),
        strict=True,
    ):
        learner = log.learner[index[0]].item()
        rows["uid"].append(str(learner))
        rows["fold"].append(fold.get(learner, -1))
        rows["concepts"].append(",".join(map(str, items.tolist())))
        rows["responses"].append(",".join(str(int(o)) for o in outcomes.tolist()))
    return rows


def scored_answers(log: EventLog) -> np.ndarray:
    """Positions in ``log`` of the answers that are scored, in the order
    pyKT's window file predicts them: every answer but each learner's first,
    in the order of :func:`learner_order`."""
    order, counts = learner_order(log)
    starts = np.zeros(order.size, dtype=bool)
    starts[np.r_[0, np.cumsum(counts)[:-1]]] = True
    return order[~starts]


def run_mentor(
    name: str, params: dict[str, Any], train: EventLog, test: EventLog, threads: int
) -> dict[str, Any]:
    """Fit mentor's model on ``train``, predict every answer of ``test``."""
    import torch

    from mentor.students import create_model
    from mentor.students.deep import DEEP_MODELS

    torch.set_num_threads(threads)
    if name not in DEEP_MODELS:  # a model without epochs (psikt: one L-BFGS fit)
        model = create_model(name, **params)
        start = time.perf_counter()
        model.fit(train)
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        predictions = model.predict_log(test)
        return {
            "params": model.get_params(),
            "history": [],
            "best_epoch": None,
            "best_val_auc": None,
            "fit_seconds": fit_seconds,
            "score_seconds": time.perf_counter() - start,
            "parameters": None,
            "torch": torch.__version__,
            "predictions": predictions,
        }
    model = DEEP_MODELS[name](device="cpu", **params)

    def on_epoch(record: dict[str, Any]) -> None:
        val = record.get("val_auc")
        print(
            f"epoch {record['epoch']}: train loss {record['train_loss']:.4f}, "
            f"validation AUC {'-' if val is None else f'{val:.4f}'}"
            f"{' *' if record.get('best') else ''}, {record['seconds']:.1f} s",
            flush=True,
        )

    start = time.perf_counter()
    model.fit(train, on_epoch=on_epoch)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    predictions = model.predict_log(test)
    score_seconds = time.perf_counter() - start
    best = max(model.history_, key=lambda r: r.get("val_auc") or -1.0)
    return {
        "params": model.get_params(),
        "history": model.history_,
        "best_epoch": best["epoch"],
        "best_val_auc": best.get("val_auc"),
        "fit_seconds": fit_seconds,
        "score_seconds": score_seconds,
        "parameters": int(sum(p.numel() for p in model.network_.parameters())),
        "torch": torch.__version__,
        "predictions": predictions,
    }


def run_pykt(
    name: str,
    overrides: dict[str, Any],
    train: EventLog,
    test: EventLog,
    held_out: set,
    python: Path,
    source: Path,
    threads: int,
    progress: Path | None = None,
    stop_at: float | None = None,
    score_stopped: bool = False,
) -> dict[str, Any]:
    """Train pyKT's model in its own interpreter; predictions in the order of
    :func:`scored_answers`. Each step and epoch is appended to ``progress`` as
    it happens; training stops at ``stop_at`` (a :func:`time.time`) or on
    SIGTERM to the driver, and the best epoch so far is then scored if
    ``score_stopped`` (no predictions if not, or if no epoch ended)."""
    job = json.loads(json.dumps(PYKT_DEFAULTS[name]))
    for key, value in overrides.items():
        (job if key in job else job["model_config"])[key] = value
    skills = sorted(set(np.unique(train.item).tolist()) | set(np.unique(test.item).tolist()))
    skill = {s: i for i, s in enumerate(skills)}
    others = [x for x in np.unique(train.learner).tolist() if x not in held_out]
    fold = {x: 0 for x in held_out} | {x: 1 + i % 4 for i, x in enumerate(others)}
    with tempfile.TemporaryDirectory(prefix="pykt-") as folder:
        job.update(
            model=name,
            workdir=folder,
            pykt_src=str(source.resolve()),
            threads=threads,
            maxlen=MAX_LEN,
            min_seq_len=MIN_SEQ_LEN,
            num_c=len(skills),
            train=sequences(train, skill, fold),
            test=sequences(test, skill, {}),
            progress=str(progress.resolve()) if progress else None,
            stop_at=stop_at,
            score_stopped=score_stopped,
        )
        (Path(folder) / "job.json").write_text(json.dumps(job))
        (Path(folder) / "driver.py").write_text(DRIVER)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env.update(
            WANDB_MODE="disabled",
            OMP_NUM_THREADS=str(threads),
            MKL_NUM_THREADS=str(threads),
            CUDA_VISIBLE_DEVICES="",
        )
        subprocess.run(
            [str(python), str(Path(folder) / "driver.py"), str(Path(folder) / "job.json")],
            check=True,
            env=env,
            cwd=folder,
        )
        out = json.loads((Path(folder) / "out.json").read_text())
    if out["predictions"] is not None:
        out["predictions"] = np.asarray(out["predictions"], dtype=np.float64)
    out["params"] = {k: v for k, v in job.items() if k in PYKT_DEFAULTS[name]}
    return out


def score(predictions: np.ndarray | None, test: EventLog, scored: np.ndarray) -> dict[str, Any]:
    """AUC and log loss of the scored answers; ``predictions`` either cover
    every answer of ``test`` in its order (mentor's, which then also get the AUC
    with first answers) or only the scored ones, in the order of ``scored`` (pyKT's);
    None (a run stopped before its first epoch ended): no figures."""
    if predictions is None:
        return {"auc": None, "log_loss": None, "scored_answers": int(scored.size)}
    every = predictions.size == len(test)
    p = predictions[scored] if every else predictions
    if p.size != scored.size:
        raise RuntimeError(f"{p.size} predictions for {scored.size} scored answers")
    y = test.outcome[scored]
    out: dict[str, Any] = {"auc": auc(y, p), "log_loss": log_loss(y, p)}
    out["scored_answers"] = int(scored.size)
    if every:
        out["auc_with_first_answers"] = auc(test.outcome, predictions)
    return out


def summary(run: dict[str, Any]) -> dict[str, Any]:
    """Timing and epoch figures of a run."""
    history = run["history"]
    trained = sum(r["train_interactions"] for r in history)
    seconds = sum(r["seconds"] for r in history)
    return {
        "fit_seconds": run["fit_seconds"],
        "score_seconds": run["score_seconds"],
        "interactions_per_second": trained / seconds if history else None,
        "train_interactions_per_epoch": history[0]["train_interactions"] if history else None,
        "epochs": len(history) if history else None,
        "best_epoch": run["best_epoch"],
        "best_val_auc": run["best_val_auc"],
        "parameters": run["parameters"],
    }


def results_table(rows: list[dict[str, Any]], title: str) -> Table:
    """One line per (dataset, model)."""
    table = Table(title=title)
    columns = (
        "dataset",
        "model",
        "seed",
        "AUC",
        "log loss",
        "AUC incl. 1st",
        "fit s",
        "inter/s",
        "epochs (best)",
        "cap",
        "params",
    )
    for column in columns:
        table.add_column(column, justify="left" if column in ("dataset", "model") else "right")
    for row in rows:
        table.add_row(
            row["dataset"],
            row["model"],
            str(row.get("seed", "")),
            "-" if row["auc"] is None else f"{row['auc']:.4f}",
            "-" if row["log_loss"] is None else f"{row['log_loss']:.4f}",
            f"{row['auc_with_first_answers']:.4f}" if "auc_with_first_answers" in row else "",
            f"{row['fit_seconds']:.0f}",
            f"{row['interactions_per_second']:,.0f}" if row["interactions_per_second"] else "",
            f"{row['epochs']} ({row['best_epoch']})" if row["epochs"] else "",
            "stopped" if row.get("stopped") else "capped" if row["capped"] else "",
            f"{row['parameters']:,}" if row["parameters"] else "",
        )
    return table


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    """The flat figures of every row (no histories, no parameters)."""
    fields = [k for k in rows[0] if not isinstance(rows[0][k], (dict, list))]
    for row in rows[1:]:
        fields += [k for k in row if k not in fields and not isinstance(row[k], (dict, list))]
    with atomic_open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def row_key(row: dict[str, Any]) -> tuple[str, str, Any]:
    """(dataset, model, training seed) of a result row (rows written before
    seeds were recorded: the seed of their parameters)."""
    return row["dataset"], row["model"], row.get("seed", row["params"].get("seed"))


def sort_key(row: dict[str, Any]) -> tuple[int, str, str]:
    return list(SPLITS).index(row["dataset"]), row["model"], str(row_key(row)[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the shared data folder (holds kt/)")
    parser.add_argument("--datasets", nargs="+", default=list(SPLITS), choices=sorted(SPLITS))
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument(
        "--epochs",
        nargs="*",
        default=[],
        metavar="MODEL=N",
        help="cap the epochs of a model (default: its library's own most epochs)",
    )
    parser.add_argument(
        "--set", nargs="*", default=[], metavar="MODEL.NAME=VALUE", help="other hyper-parameters"
    )
    parser.add_argument(
        "--seeds",
        nargs="+",
        type=int,
        default=None,
        help="one run per seed: the model's training seed and the seed of the held-out "
        "learners (default: one run, each library's default seed, held-out learners of seed 0)",
    )
    parser.add_argument(
        "--pykt-train-seconds",
        type=float,
        default=None,
        help="stop a pyKT model's training after this many seconds (the row says "
        "'stopped'); SIGTERM to the driver does the same",
    )
    parser.add_argument(
        "--score-stopped",
        action="store_true",
        help="score the best epoch of a stopped pyKT run on the test windows (default: "
        "no test figures for a stopped run; AKT needs hours for assist2009's 37,404 windows)",
    )
    parser.add_argument("--score-on", choices=("test", "validation"), default="test")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process")
    parser.add_argument(
        "--pykt-python", type=Path, default=Path("../refs/pykt-venv/bin/python").absolute()
    )
    parser.add_argument("--pykt-src", type=Path, default=Path("../refs/pykt-src"))
    parser.add_argument("--out", type=Path, default=None, help="JSON file (CSV beside it)")
    args = parser.parse_args()

    settings = model_settings(args.set, parser)
    for pair in args.epochs:
        model, _, count = pair.partition("=")
        if model not in MODELS or not count.isdigit():
            parser.error(f"--epochs expects MODEL=N with MODEL in {MODELS}, got {pair!r}")
        settings[model]["num_epochs" if model.startswith("pykt") else "epochs"] = int(count)
    suffix = "" if args.score_on == "test" else "_validation"
    out = args.out or Path(__file__).parent / "results" / f"pykt_side_by_side{suffix}.json"
    previous = json.loads(out.read_text()) if out.exists() else {"runs": []}
    runs = {row_key(r): r for r in previous["runs"]}
    command = shlex.join([Path(sys.executable).name, *sys.argv])
    console = Console(width=None if sys.stdout.isatty() else 140)

    from mentor.students.deep import DEEP_MODELS, DKT

    for dataset, seed in [(d, s) for d in args.datasets for s in (args.seeds or [None])]:
        train_file, test_file = SPLITS[dataset]
        train = drop_short(read_kt(args.data / "kt" / dataset / train_file))
        split_seed = DKT(**settings["mentor-dkt"]).seed if seed is None else seed
        held_out = DKT(seed=split_seed).validation_learners(train)
        if args.score_on == "test":
            test = drop_short(read_kt(args.data / "kt" / dataset / test_file))
        else:
            test = train.for_learners(held_out)
        scored = scored_answers(test)
        console.print(
            f"[bold]{dataset}[/] (held-out learners of seed {split_seed}): {len(train):,} train "
            f"answers ({len(held_out):,} of {len(train.learners()):,} learners held out), "
            f"{len(test):,} scored-on answers of {len(test.learners()):,} learners "
            f"({scored.size:,} scored)"
        )
        for name in args.models:
            console.print(
                f"[bold]{dataset} / {name} / seed {'default' if seed is None else seed}[/] ..."
            )
            started, load_before = time.perf_counter(), os.getloadavg()[0]
            library, model = name.split("-", 1)
            params = dict(settings[name])
            if seed is not None and (library == "pykt" or model in DEEP_MODELS):
                params["seed"] = seed
            progress = None
            if library == "mentor":
                run = run_mentor(model, params, train, test, args.threads)
                metrics = score(run["predictions"], test, scored)
                cap = run["params"].get("epochs")
            else:
                progress = out.with_name(
                    f"{out.stem}_{dataset}_{name}_seed{params.get('seed', 'default')}"
                    "_progress.jsonl"
                )
                progress.parent.mkdir(parents=True, exist_ok=True)
                progress.unlink(missing_ok=True)  # the row of this key is replaced too
                run = run_pykt(
                    model,
                    params,
                    train,
                    test,
                    set(held_out),
                    args.pykt_python,
                    args.pykt_src,
                    args.threads,
                    progress,
                    None
                    if args.pykt_train_seconds is None
                    else time.time() + args.pykt_train_seconds,
                    args.score_stopped,
                )
                metrics = score(run["predictions"], test, scored)
                cap = run["params"]["num_epochs"]
            figures = summary(run)
            capped = cap is not None and (figures["epochs"] or 0) >= cap
            row = {
                "dataset": dataset,
                "model": name,
                "seed": run["params"].get("seed"),
                "held_out_seed": split_seed,
                **metrics,
                **figures,
                "epoch_cap": cap,
                "capped": capped,
                "stopped": run.get("stopped"),
                "steps": run.get("steps"),
                "steps_per_epoch": run.get("steps_per_epoch"),
                "progress_file": progress.name if progress else None,
                "wall_seconds": time.perf_counter() - started,
                "load_average_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
                "command": command,
                "machine": platform.processor() or platform.machine(),
                "threads": args.threads,
                "torch": run["torch"],
                "date": time.strftime("%Y-%m-%d %H:%M"),
                "params": run["params"],
                "history": run["history"],
            }
            runs[row_key(row)] = row
            console.print(results_table([row], f"{dataset} / {name}"))
            rows = sorted(runs.values(), key=sort_key)
            write_json(out, {"score_on": args.score_on, "runs": rows})
            write_csv(out.with_suffix(".csv"), rows)

    rows = sorted(runs.values(), key=sort_key)
    console.print(
        results_table(
            rows,
            f"AUC on the {args.score_on} learners' answers after their first "
            f"(mentor vs pyKT, CPU, {args.threads} thread)",
        )
    )
    console.print(f"written to {out} and {out.with_suffix('.csv')}")


if __name__ == "__main__":
    main()
