"""BKT's EM on its two engines: NumPy (default) and PyTorch (``device=``), side by side.

Usage:
    python benchmarks/bkt_backends.py ../shared/data
    python benchmarks/bkt_backends.py ../shared/data --devices numpy cuda --simulated 2 20

Fits the standard BKT with forgetting for exactly ``--iterations`` EM
iterations (``tol=-1``) on the train files of the DKVMN splits of DATA/kt and on
simulated logs of ``--simulated`` million answers, once per engine: ``numpy``
(the prefix-tree passes of :class:`mentor.students.bkt_em.TreeEM`) and each torch
device (``cpu``, ``cuda``; the pointer-jumping passes of
:mod:`mentor.students.bkt_torch`). Reports the wall time of the whole fit
(best of ``--repeats``), of the packing alone (a fit with 0 iterations), the
time per EM iteration (the difference over the iterations), and the
agreement of each torch fit with the NumPy one: the difference in training
log-likelihood and the largest difference of any fitted parameter.

Simulated logs follow the BKT generative model: 200 skills with parameters
drawn per skill, each (learner, skill) sequence a geometric number of
attempts long (mean 15, at most 400), so the prefix tree has a wide head and
long, thin chains, like real logs.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
from kt_splits import SPLITS
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from mentor._io import write_json
from mentor.events import EventLog, read_kt
from mentor.students import BKT

PARAMS = ("prior", "learn", "forget", "guess", "slip")


def simulate(n_answers: int, seed: int = 0, n_skills: int = 200) -> EventLog:
    """A log of about ``n_answers`` answers drawn from BKT with forgetting."""
    rng = np.random.default_rng(seed)
    truth = {
        "prior": rng.uniform(0.1, 0.6, n_skills),
        "learn": rng.uniform(0.05, 0.3, n_skills),
        "forget": rng.uniform(0.0, 0.05, n_skills),
        "guess": rng.uniform(0.1, 0.3, n_skills),
        "slip": rng.uniform(0.05, 0.2, n_skills),
    }
    n_seq = max(1, n_answers // 15)
    skill = rng.integers(0, n_skills, n_seq)
    length = np.minimum(rng.geometric(1 / 15, n_seq), 400)
    seq = np.repeat(np.arange(n_seq), length)
    step = np.arange(seq.size) - np.repeat(np.cumsum(length) - length, length)
    s = skill[seq]
    known = np.zeros(seq.size, dtype=bool)
    state = rng.random(n_seq) < truth["prior"][skill]
    by_step = np.argsort(step, kind="stable")  # the answers of step t, in log order
    bounds = np.r_[0, np.cumsum(np.bincount(step))]
    for t in range(int(length.max())):
        at = by_step[bounds[t] : bounds[t + 1]]
        known[at] = state[seq[at]]
        u = rng.random(at.size)
        k = s[at]
        state[seq[at]] = np.where(known[at], u >= truth["forget"][k], u < truth["learn"][k])
    correct = rng.random(seq.size) < np.where(known, 1 - truth["slip"][s], truth["guess"][s])
    return EventLog(seq, s, step.astype(float), correct.astype(float))


def fit(log: EventLog, device: str | None, iterations: int) -> tuple[BKT, float]:
    model = BKT(max_iter=iterations, tol=-1.0, device=device)
    start = time.perf_counter()
    model.fit(log)
    return model, time.perf_counter() - start


def measure(log: EventLog, engines: list[str], iterations: int, repeats: int) -> list[dict]:
    rows, reference = [], None
    for engine in engines:
        device = None if engine == "numpy" else engine
        fit(log, device, 1)  # warm-up: imports, CUDA context, kernels
        prep = min(fit(log, device, 0)[1] for _ in range(repeats))
        best, model = float("inf"), None
        for _ in range(repeats):
            model, seconds = fit(log, device, iterations)
            best = min(best, seconds)
        row: dict[str, Any] = {
            "engine": engine,
            "fit_seconds": best,
            "prep_seconds": prep,
            "em_ms_per_iteration": 1000 * (best - prep) / iterations,
            "log_likelihood": model.log_likelihood_,
        }
        if reference is None:
            reference = model
        else:
            row["ll_diff"] = abs(model.log_likelihood_ - reference.log_likelihood_)
            row["max_param_diff"] = max(
                float(np.abs(getattr(model, f"{n}_") - getattr(reference, f"{n}_")).max())
                for n in PARAMS
            )
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the shared data folder (holds kt/)")
    parser.add_argument(
        "--devices",
        nargs="+",
        default=None,
        help="engines (default: numpy cpu, and cuda if present)",
    )
    parser.add_argument("--iterations", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--simulated", nargs="*", type=float, default=[2.0], help="millions of answers"
    )
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    engines = args.devices or ["numpy", "cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    datasets: list[tuple[str, Any]] = [
        (name, lambda name=name: read_kt(args.data / "kt" / name / SPLITS[name][0]))
        for name in SPLITS
    ]
    datasets += [(f"simulated {m:g}M", lambda m=m: simulate(int(m * 1e6))) for m in args.simulated]
    console = Console(width=150)
    results = []
    with Progress(console=console) as progress:
        task = progress.add_task("BKT engines", total=len(datasets))
        for name, load in datasets:
            progress.update(task, description=name)
            log = load()
            for row in measure(log, engines, args.iterations, args.repeats):
                results.append({"dataset": name, "answers": len(log), **row})
            progress.advance(task)

    table = Table(title=f"BKT EM, {args.iterations} iterations")
    for column in (
        "dataset",
        "answers",
        "engine",
        "fit s",
        "prep s",
        "EM ms/iter",
        "LL",
        "|dLL|",
        "max |dparam|",
    ):
        table.add_column(column, justify="left" if column in ("dataset", "engine") else "right")
    for r in results:
        table.add_row(
            r["dataset"],
            f"{r['answers']:,}",
            r["engine"],
            f"{r['fit_seconds']:.2f}",
            f"{r['prep_seconds']:.2f}",
            f"{r['em_ms_per_iteration']:.1f}",
            f"{r['log_likelihood']:,.2f}",
            f"{r.get('ll_diff', 0):.1e}" if "ll_diff" in r else "-",
            f"{r['max_param_diff']:.1e}" if "max_param_diff" in r else "-",
        )
    console.print(table)
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else None
    out = args.out or Path(__file__).parent / "results" / (
        "bkt_backends_gpu.json" if "cuda" in engines else "bkt_backends_cpu.json"
    )
    write_json(
        out,
        {
            "command": "python benchmarks/bkt_backends.py DATA "
            + " ".join(
                f"--{k} {v}"
                for k, v in (("iterations", args.iterations), ("repeats", args.repeats))
            ),
            "machine": {
                "cpu": platform.processor() or platform.machine(),
                "gpu": gpu,
                "torch_threads": torch.get_num_threads(),
                "torch": torch.__version__,
                "numpy": np.__version__,
            },
            "rows": results,
        },
    )
    console.print(f"wrote {out}")


if __name__ == "__main__":
    main()
