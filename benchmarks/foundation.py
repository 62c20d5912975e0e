"""Foundation figures: student models on the DKVMN splits, and simulator speed.

Usage:
    python benchmarks/foundation.py ../shared/data

Fits every student model of mentor.students on the train file of each
knowledge-tracing split in DATA/kt, scores the test file online (each answer
predicted from the learner's earlier answers only), and times a vectorised
run of 1,000 simulated students x 200 steps. Prints a table and writes
benchmarks/results/foundation.json. Reference tools are compared side by side
in the student-model benchmarks, not here.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
from kt_splits import SPLITS
from rich.console import Console
from rich.progress import track
from rich.table import Table

from mentor._io import write_json
from mentor.events import read_kt
from mentor.metrics import auc, log_loss
from mentor.sim import StudentPopulation, make_course
from mentor.students import create_model


def student_models(data: Path) -> list[dict]:
    rows = []
    jobs = [(d, m) for d in SPLITS for m in ("bkt", "elo")]
    for dataset, name in track(jobs, description="fitting"):
        train_file, test_file = SPLITS[dataset]
        train = read_kt(data / "kt" / dataset / train_file)
        test = read_kt(data / "kt" / dataset / test_file)
        model = create_model(name)
        start = time.perf_counter()
        model.fit(train)
        fit_seconds = time.perf_counter() - start
        predictions = model.predict_log(test)
        rows.append(
            {
                "dataset": dataset,
                "model": name,
                "train_events": len(train),
                "test_events": len(test),
                "fit_seconds": fit_seconds,
                "test_auc": auc(test.outcome, predictions),
                "test_log_loss": log_loss(test.outcome, predictions),
            }
        )
    return rows


def simulator_speed(n_students: int = 1000, steps: int = 200) -> dict:
    domain = make_course()
    population = StudentPopulation(domain, n_students, seed=0)
    rng = np.random.default_rng(0)
    items = rng.integers(0, len(domain.items), size=(steps, n_students))
    start = time.perf_counter()
    for step in range(steps):
        population.attempt(items[step])
        population.advance(1.0)
    return {"students": n_students, "steps": steps, "seconds": time.perf_counter() - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the shared data folder (holds kt/)")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "foundation.json"
    )
    args = parser.parse_args()
    rows = student_models(args.data)
    sim = simulator_speed()
    console = Console()
    table = Table(
        title=f"Student models, fixed DKVMN splits ({platform.processor() or platform.machine()})"
    )
    for column in ("dataset", "model", "train events", "fit s", "test AUC", "test log loss"):
        table.add_column(column, justify="right" if column != "dataset" else "left")
    for r in rows:
        table.add_row(
            r["dataset"],
            r["model"],
            f"{r['train_events']:,}",
            f"{r['fit_seconds']:.2f}",
            f"{r['test_auc']:.4f}",
            f"{r['test_log_loss']:.4f}",
        )
    console.print(table)
    console.print(
        f"simulator: {sim['students']} students x {sim['steps']} steps in {sim['seconds']:.3f} s"
    )
    write_json(args.out, {"student_models": rows, "simulator": sim})
    console.print(f"written to {args.out}")


if __name__ == "__main__":
    main()
