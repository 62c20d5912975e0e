"""How the oracle's practice differs from the expected-gain teacher's on the Junyi sub-map.

Usage:
    python benchmarks/oracle_shape.py ../shared/data [--seeds 5]

A diagnosis for issue 13 (Junyi target: 1.5x ZPDES). Teaches the Junyi sub-map of
``benchmarks/model_teaching.py`` (10 :class:`mentor.sim.StudentPopulation` students, 300
steps, seeds 0..N-1, the same cohorts) twice: with the one-step greedy oracle of
``benchmarks/oracle_headroom.py``, which reads each student's true knowledge, and with
``ExpectedGain`` at its defaults without reviews over ``BKT(domain, grain="item",
forgets=False)``, as in the benchmark's ``expected_gain`` row. For each it reports the
post-test, how many skills a student practised at all, the attempts per practised skill, the
share of attempts at each difficulty level, and the share of (student, skill) cells whose
final knowledge is above 0.7 (the simulator's prerequisite gate is half open at 0.6).
The knowledge is read from the simulator for the diagnosis only: no teacher but the oracle
sees it. Writes ``benchmarks/results/oracle_shape.json``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from oracle_headroom import oracle_teach  # benchmarks/oracle_headroom.py
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from teachers import junyi_submap  # benchmarks/teachers.py: the same sub-map

from mentor._io import write_json
from mentor.metrics.teaching import mean_ci
from mentor.sim import StudentPopulation, run_cohort
from mentor.students import BKT
from mentor.teachers import ExpectedGain

RESULTS = Path(__file__).parent / "results"
STUDENTS, STEPS = 10, 300


def teacher_run(population: StudentPopulation, steps: int, domain: Any, seed: int) -> np.ndarray:
    """``ExpectedGain`` (defaults, no reviews) teaches ``population``; the items chosen."""
    index = {item: i for i, item in enumerate(population.item_ids)}
    _, log = run_cohort(
        population,
        ExpectedGain(domain, reviews=False, seed=seed),
        BKT(domain, grain="item", forgets=False),
        steps,
    )
    return np.array([index[i] for i in log.item.tolist()]).reshape(steps, population.n_students)


def shape(population: StudentPopulation, chosen: np.ndarray) -> dict[str, Any]:
    """What a run's practice looked like, per student then averaged."""
    skills = population.item_skill[chosen]  # (steps, students)
    n_skills = population.knowledge.shape[1]
    counts = np.stack(
        [np.bincount(skills[:, n], minlength=n_skills) for n in range(population.n_students)]
    )
    levels = population.item_difficulty[chosen]
    return {
        "post_test": float(population.post_test().mean()),
        "skills_practised": float((counts > 0).sum(axis=1).mean()),
        "attempts_per_practised_skill": float(counts.sum() / (counts > 0).sum()),
        "level_shares": {f"{d:g}": float((levels == d).mean()) for d in np.unique(levels)},
        "cells_above_0.7": float((population.knowledge > 0.7).mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the shared data folder (../shared/data)")
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    domain = junyi_submap(args.data, "multiplication-division")
    runs: dict[str, Callable[[StudentPopulation, int], np.ndarray]] = {
        "oracle": lambda pop, seed: oracle_teach(pop, STEPS)[1],
        "expected_gain": lambda pop, seed: teacher_run(pop, STEPS, domain, seed),
    }
    per_seed: dict[str, list[dict[str, Any]]] = {name: [] for name in runs}
    with Progress(console=Console()) as progress:
        task = progress.add_task("teaching", total=args.seeds * len(runs))
        for seed in range(args.seeds):
            for name, run in runs.items():
                population = StudentPopulation(domain, STUDENTS, seed=seed)
                per_seed[name].append(shape(population, run(population, seed)))
                progress.advance(task)
    keys = ("post_test", "skills_practised", "attempts_per_practised_skill", "cells_above_0.7")
    summary = {
        name: {key: mean_ci(np.array([r[key] for r in rows])) for key in keys}
        | {
            "level_shares": {
                level: float(np.mean([r["level_shares"][level] for r in rows]))
                for level in rows[0]["level_shares"]
            }
        }
        for name, rows in per_seed.items()
    }
    table = Table(title=f"Junyi sub-map, {STUDENTS} students x {STEPS} steps, {args.seeds} seeds")
    table.add_column("teacher")
    for key in keys:
        table.add_column(key, justify="right")
    table.add_column("attempts by level (.25 / .5 / .75)", justify="right")
    for name, row in summary.items():
        table.add_row(
            name,
            *(f"{row[k][0]:.3f} [{row[k][1]:.3f}, {row[k][2]:.3f}]" for k in keys),
            " / ".join(f"{share:.2f}" for share in row["level_shares"].values()),
        )
    Console().print(table)
    write_json(
        RESULTS / "oracle_shape.json",
        {
            "seeds": args.seeds,
            "students": STUDENTS,
            "steps": STEPS,
            "summary": summary,
            "runs": per_seed,
        },
    )


if __name__ == "__main__":
    main()
