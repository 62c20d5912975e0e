"""Answering a wrong answer: show the answer, give one hint, or tutor Socratically.

Usage:
    python benchmarks/tutoring.py [--seeds 20] [--learners 200] [--post 5] [--quick]

Simulated learners with explicit misconceptions (:mod:`mentor.sim.misconceptions`)
each answer a question of the demo course wrong (only learners who do are
counted), are remediated by every arm in turn (the same learner and question,
common random numbers), then answer ``--post`` new questions of the same type
without feedback. Arms:

* ``show answer``: the right answer at once;
* ``single hint``: the nudge of the step the wrong answer's misconception points
  at, one more try, then the answer;
* ``single hint + 4 practice items``: the single hint, then four new questions of
  the same type, each followed by its answer: about as many answers as a Socratic
  session, spent on practice with feedback (the control for the number of turns);
* ``socratic``: :class:`mentor.tutor.TutorSession` with :class:`mentor.tutor.StepPlanner`
  (every step's prior 0.5), the wrong answer diagnosed;
* ``socratic + student model``: the same with step priors from a student model
  that has seen two earlier answers per step skill (steps it is sure of are skipped);
* ``socratic, no diagnosis``: the session without reading the wrong answer.

Every arm ends with the right answer in view. Two learning laws (the simulator's
assumptions, :data:`mentor.sim.misconceptions.LAWS`): ``self_discovery`` (finding a
step oneself resolves a misconception more often than being told) and ``equal``
(every event the same chance). Reported per arm: success on the new questions,
the share who reached the right answer themselves during remediation, and the
learner's answers asked for (turns), mean and 95 % t-interval over seeds; and the
paired difference socratic - single hint per seed. Writes
``benchmarks/results/tutoring.json`` and ``tutoring.png``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from mentor.metrics.teaching import mean_ci
from mentor.sim.misconceptions import ARMS, LAWS, run_arms

OUT = Path(__file__).resolve().parent / "results"
METRICS = ("post", "solved", "turns")
#: Paired differences reported (same seeds, same learners).
PAIRS = (
    ("socratic", "single hint"),
    ("socratic", "single hint + 4 practice items"),
    ("socratic + student model", "single hint + 4 practice items"),
    ("socratic", "socratic, no diagnosis"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--learners", type=int, default=200)
    parser.add_argument("--post", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="3 seeds x 40 learners")
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.learners = 3, 40
    console = Console(width=150)
    runs: dict[str, dict[str, dict[str, list[float]]]] = {
        law: {arm: {m: [] for m in METRICS} for arm in ARMS} for law in LAWS
    }
    start = time.perf_counter()
    with Progress(console=console) as progress:
        task = progress.add_task("seeds", total=args.seeds * len(LAWS))
        for law_name, law in LAWS.items():
            for seed in range(args.seeds):
                result = run_arms(seed, args.learners, law, args.post)
                for arm, values in result.items():
                    for m in METRICS:
                        runs[law_name][arm][m].append(values[m])
                progress.advance(task)
    elapsed = time.perf_counter() - start
    summary: dict = {
        "seeds": args.seeds,
        "learners": args.learners,
        "post": args.post,
        "seconds": elapsed,
        "laws": {},
    }
    for law_name in LAWS:
        table = Table(
            title=f"law {law_name}: {args.seeds} seeds x {args.learners} learners "
            "who answered wrong (mean [95 % CI])"
        )
        table.add_column("arm")
        table.add_column("success on new items")
        table.add_column("typed the right answer during remediation")
        table.add_column("turns")
        rows = {}
        for arm in ARMS:
            row = {m: mean_ci(np.array(runs[law_name][arm][m])) for m in METRICS}
            rows[arm] = {m: list(v) for m, v in row.items()}
            table.add_row(
                arm, *(f"{row[m][0]:.3f} [{row[m][1]:.3f}, {row[m][2]:.3f}]" for m in METRICS)
            )
        console.print(table)
        paired = {}
        for a, b in PAIRS:
            diff = np.array(runs[law_name][a]["post"]) - np.array(runs[law_name][b]["post"])
            paired[f"{a} - {b}"] = list(mean_ci(diff))
            low, high = paired[f"{a} - {b}"][1:]
            console.print(
                f"  {a} - {b}, success on new items, paired by seed: "
                f"{diff.mean():+.3f} [{low:+.3f}, {high:+.3f}]"
            )
        summary["laws"][law_name] = {"arms": rows, "paired": paired, "per_seed": runs[law_name]}
    console.print(f"{elapsed:.0f} s")
    OUT.mkdir(exist_ok=True)
    (OUT / "tutoring.json").write_text(json.dumps(summary, indent=1))
    plot(summary, OUT / "tutoring.png")


def plot(summary: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    laws = list(summary["laws"])
    fig, axes = plt.subplots(1, len(laws), figsize=(6 * len(laws), 4.5), sharey=True)
    for ax, law in zip(np.atleast_1d(axes), laws, strict=True):
        for arm, row in summary["laws"][law]["arms"].items():
            x, (y, lo, hi) = row["turns"][0], row["post"]
            tx = row["turns"]
            ax.errorbar(
                x,
                y,
                yerr=[[y - lo], [hi - y]],
                xerr=[[x - tx[1]], [tx[2] - x]],
                fmt="o",
                capsize=4,
                label=arm,
            )
        ax.set_title(f"learning law: {law}")
        ax.set_xlabel("learner answers during remediation (turns)")
        ax.grid(alpha=0.3)
    np.atleast_1d(axes)[0].set_ylabel("success on new items of the same type")
    np.atleast_1d(axes)[-1].legend(loc="lower right", fontsize=8)
    fig.suptitle(
        f"After a wrong answer: {summary['seeds']} seeds x {summary['learners']} "
        "simulated learners with misconceptions, 95 % CIs"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
