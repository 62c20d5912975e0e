"""Deep knowledge tracing (DKT, simpleKT, AKT) on a fixed DKVMN split, on CPU or GPU.

Usage:
    python benchmarks/deep_kt.py ../shared/data --model dkt --device cuda
    python benchmarks/deep_kt.py ../shared/data --model simplekt --epochs 30 --device cpu
    python benchmarks/deep_kt.py ../shared/data --model akt --seeds 3 --device cuda

With ``--seeds N`` the model is trained N times (seeds 0..N-1) and the result
file holds every run and the mean and sample standard deviation of each
figure; it is rewritten after every run, so a run cut short keeps the seeds
that finished (``seeds_done``).

Trains on DATA/kt/<dataset>/<dataset>_train.csv (early stopping on one fifth of
the train learners), scores the test file with full-history prediction (each
answer predicted from all the learner's earlier answers in the test file; test
learners are new), and writes benchmarks/results/deep_<model>_<dataset>_<device>.json
with test AUC, log loss, fit time and training throughput. Elo is fitted and
scored in the same run as a reference point. The AUC without each learner's
first answer (which pyKT does not score) is reported beside the full one.
Published reference (data README): pyKT DKT 0.8201 on assist2009_updated.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
from kt_splits import SPLITS, parse_value
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mentor._io import write_json
from mentor.events import EventLog, read_kt
from mentor.metrics import auc, log_loss
from mentor.students import Elo


def first_answers(log: EventLog) -> np.ndarray:
    """Mask of each learner's first answer."""
    order = np.lexsort((np.arange(len(log)), log.time, log.learner))
    first = np.zeros(len(log), dtype=bool)
    learners = log.learner[order]
    first[order[np.r_[True, learners[1:] != learners[:-1]]]] = True
    return first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the shared data folder (holds kt/)")
    parser.add_argument("--dataset", default="assist2009_updated", choices=sorted(SPLITS))
    parser.add_argument("--model", default="dkt", choices=["dkt", "simplekt", "akt"])
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    parser.add_argument("--epochs", type=int, default=100, help="most epochs (early stopping)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    parser.add_argument(
        "--set", nargs="*", default=[], metavar="NAME=VALUE", help="other hyper-parameters"
    )
    parser.add_argument("--out", type=Path, default=None, help="result file (default: see above)")
    parser.add_argument("--save", type=Path, default=None, help="also save the fitted model (JSON)")
    parser.add_argument(
        "--sliding",
        action="store_true",
        help="simplekt, akt: also score with a sliding context of max_len - 1 (stride 1, "
        "pyKT's window)",
    )
    parser.add_argument("--seeds", type=int, default=1, help="train with seeds 0..N-1")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="keep the runs already in --out (same dataset, model and epoch cap) and "
        "train only the seeds it lacks",
    )
    args = parser.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)

    console = Console()
    train_file, test_file = SPLITS[args.dataset]
    train = read_kt(args.data / "kt" / args.dataset / train_file)
    test = read_kt(args.data / "kt" / args.dataset / test_file)
    params = dict(kv.split("=", 1) for kv in args.set)
    params = {k: parse_value(v) for k, v in params.items()}
    elo = Elo().fit(train)
    elo_predictions = elo.predict_log(test)
    runs: list[dict[str, Any]] = resumed_runs(args, console) if args.resume else []
    if len(runs) >= args.seeds:
        console.print(f"{args.out} already holds {len(runs)} seed(s): nothing to train")
        return
    for seed in range(len(runs), args.seeds):
        runs.append(run_once(args, train, test, {**params, "seed": seed}, console))
        result = {
            key: runs[0][key]
            for key in ("dataset", "model", "device", "device_name", "machine", "torch")
        }
        result.update(
            {
                "train_events": len(train),
                "test_events": len(test),
                "seeds_done": len(runs),
                "seeds_asked": args.seeds,
                "epochs_cap": args.epochs,
                "reference_elo": {
                    "auc": auc(test.outcome, elo_predictions),
                    "log_loss": log_loss(test.outcome, elo_predictions),
                },
                "runs": runs,
            }
        )
        for key in FIGURES:
            values = [run[key] for run in runs]
            result[key] = float(np.mean(values))
            result[f"{key}_std"] = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
        if args.seeds == 1:  # the single-run layout of earlier result files
            result.update(runs[0])
        out = args.out or (
            Path(__file__).parent
            / "results"
            / f"deep_{args.model}_{args.dataset}_{runs[0]['device'].split(':')[0]}"
            f"{f'_{args.seeds}seeds' if args.seeds > 1 else ''}.json"
        )
        write_json(out, result)
        console.print(f"written to {out} ({len(runs)} of {args.seeds} seeds)")
    table = Table(title=f"{args.model} on {args.dataset} ({runs[0]['device_name']})")
    for column in ("seed", "test AUC", "AUC w/o 1st", "log loss", "fit s", "epochs", "inter/s"):
        table.add_column(column, justify="right")
    for run in runs:
        table.add_row(
            str(run["params"]["seed"]),
            f"{run['auc']:.4f}",
            f"{run['auc_without_first_answers']:.4f}",
            f"{run['log_loss']:.4f}",
            f"{run['fit_seconds']:.1f}",
            f"{run['epochs']} (best {run['best_epoch']})",
            f"{run['interactions_per_second']:,.0f}",
        )
    if len(runs) > 1:
        table.add_row(
            "mean ± sd",
            *(f"{result[k]:.4f} ± {result[k + '_std']:.4f}" for k in FIGURES[:3]),
            "",
            "",
            "",
        )
    table.add_row("elo (same data)", f"{result['reference_elo']['auc']:.4f}", "",
                  f"{result['reference_elo']['log_loss']:.4f}", "", "", "")  # fmt: skip
    console.print(table)


def resumed_runs(args: argparse.Namespace, console: Console) -> list[dict[str, Any]]:
    """The runs of an earlier result file (``--out``) to continue from, checked to be of the
    same dataset, model and epoch cap; seeds 0..len-1 in order."""
    if args.out is None:
        raise SystemExit("deep_kt.py: --resume needs --out, the result file to continue")
    if not args.out.exists():
        console.print(f"{args.out} does not exist yet: starting from seed 0")
        return []
    saved = json.loads(args.out.read_text())
    for key, value in (
        ("dataset", args.dataset),
        ("model", args.model),
        ("epochs_cap", args.epochs),
    ):
        if saved.get(key) != value:
            raise SystemExit(
                f"deep_kt.py: {args.out}: field {key} is {saved.get(key)!r}, not {value!r}"
            )
    runs: list[dict[str, Any]] = saved.get("runs", [])
    if [run["params"]["seed"] for run in runs] != list(range(len(runs))):
        raise SystemExit(f"deep_kt.py: {args.out}: field runs does not hold seeds 0..n-1")
    console.print(f"resuming {args.out}: {len(runs)} seed(s) done")
    return runs


#: Figures averaged over seeds.
FIGURES = ("auc", "auc_without_first_answers", "log_loss", "fit_seconds", "interactions_per_second")


def run_once(
    args: argparse.Namespace,
    train: EventLog,
    test: EventLog,
    params: dict[str, Any],
    console: Console,
) -> dict[str, Any]:
    """Fit one model and score the test file; the figures of one run."""
    import torch

    from mentor.students import MODELS

    model = MODELS[args.model](epochs=args.epochs, device=args.device, **params)
    device = model.torch_device
    device_name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    console.print(
        f"{args.model} on {args.dataset}, seed {model.seed}: {len(train):,} train / "
        f"{len(test):,} test answers, device {device} ({device_name}), torch "
        f"{torch.__version__}, {torch.get_num_threads()} CPU threads"
    )

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[status]}"),
        console=console,
    ) as progress:
        task = progress.add_task("epochs", total=args.epochs, status="")

        def on_epoch(record: dict[str, Any]) -> None:
            status = f"loss {record['train_loss']:.4f}"
            if record.get("val_auc") is not None:
                status += f"  val AUC {record['val_auc']:.4f}" + (" *" if record["best"] else "")
            progress.update(task, advance=1, status=status)
            if not console.is_terminal:  # a log file: one line per epoch
                console.print(f"epoch {record['epoch']}: {status}, {record['seconds']:.1f} s")

        start = time.perf_counter()
        model.fit(train, on_epoch=on_epoch)
        fit_seconds = time.perf_counter() - start

    start = time.perf_counter()
    predictions = model.predict_log(test)
    score_seconds = time.perf_counter() - start
    later = ~first_answers(test)
    sliding = None
    if args.sliding and "stride" in model.get_params():
        state = model.state_dict()
        state["params"] = {**state["params"], "stride": 1}
        start = time.perf_counter()
        slide = type(model).from_state_dict(state).predict_log(test)
        sliding = {
            "auc": auc(test.outcome, slide),
            "log_loss": log_loss(test.outcome, slide),
            "auc_without_first_answers": auc(test.outcome[later], slide[later]),
            "score_seconds": time.perf_counter() - start,
        }
    if args.save:
        write_json(args.save, model.state_dict())
    trained = sum(r["train_interactions"] for r in model.history_)
    train_seconds = sum(r["seconds"] for r in model.history_)
    best = max(model.history_, key=lambda r: r.get("val_auc") or -1.0)
    return {
        "dataset": args.dataset,
        "model": args.model,
        "device": str(device),
        "device_name": device_name,
        "machine": platform.processor() or platform.machine(),
        "torch": torch.__version__,
        "params": model.get_params(),
        "auc": auc(test.outcome, predictions),
        "log_loss": log_loss(test.outcome, predictions),
        "auc_without_first_answers": auc(test.outcome[later], predictions[later]),
        "fit_seconds": fit_seconds,
        "score_seconds": score_seconds,
        "interactions_per_second": trained / train_seconds,
        "epochs": len(model.history_),
        "best_epoch": best["epoch"],
        "best_val_auc": best.get("val_auc"),
        "history": model.history_,
        "sliding_context": sliding,
    }


if __name__ == "__main__":
    main()
