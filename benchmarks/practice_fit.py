"""Where the expected-gain teacher's questions land against the simulated students' knowledge.

Usage:
    python benchmarks/practice_fit.py ../shared/data [--seeds 2] [--students 10] [--steps 300]

Teaches the Junyi sub-map of ``benchmarks/model_teaching.py`` (10 students, 300 steps, as
there) with ``ExpectedGain`` over ``BKT(domain, grain="item", forgets=False)`` at its
defaults, and records at every attempt the two factors of the simulator's learning law
(:mod:`mentor.sim.population`): the prerequisite ``gate`` and the ``fit`` term
``exp(-(d - K - stretch)^2 / (2 width^2))`` of item difficulty ``d`` against the student's
knowledge ``K``. It reports the share of attempts with a mostly closed gate (< 0.5), with a
poor fit (< 0.5), split into items too easy (``d < K + stretch``) and too hard, and per
difficulty level the share of attempts, the mean ``K`` at the attempt and the poor-fit share.
A diagnosis of the teacher, read from the simulator's hidden state: no teacher sees it.
Writes benchmarks/results/practice_fit.json.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table
from teachers import junyi_submap  # benchmarks/teachers.py: the same sub-map

from mentor._io import write_json
from mentor.sim import StudentPopulation, run_cohort
from mentor.students import BKT
from mentor.teachers import ExpectedGain

RESULTS = Path(__file__).parent / "results"


def record_attempts(population: StudentPopulation) -> list[dict[str, np.ndarray]]:
    """Wrap ``population.attempt`` so that each call first records gate, fit, K and d."""
    records: list[dict[str, np.ndarray]] = []
    attempt = population.attempt
    p = population.params

    def recorded(items: np.ndarray, students: np.ndarray | None = None) -> np.ndarray:
        who = np.arange(population.n_students) if students is None else np.asarray(students)
        skills = population.item_skill[items]
        k = population.knowledge[who, skills]
        d = population.item_difficulty[items]
        fit = np.exp(-((d - k - p.stretch) ** 2) / (2.0 * p.width**2))
        records.append({"gate": population._gate(who, skills), "fit": fit, "k": k, "d": d})
        return attempt(items, students)

    population.attempt = recorded  # type: ignore[method-assign]
    return records


def seed_figures(domain: Any, seed: int, students: int, steps: int) -> dict[str, Any]:
    population = StudentPopulation(domain, students, seed=seed)
    records = record_attempts(population)
    teacher = ExpectedGain(domain, reviews=False, seed=seed)
    curve, _ = run_cohort(population, teacher, BKT(domain, grain="item", forgets=False), steps)
    gate, fit, k, d = (
        np.concatenate([r[key] for r in records]) for key in ("gate", "fit", "k", "d")
    )
    poor = fit < 0.5
    easy = d < k + population.params.stretch
    levels = {
        f"{level:g}": {
            "share": float((d == level).mean()),
            "mean_k": float(k[d == level].mean()),
            "poor_fit": float(poor[d == level].mean()),
        }
        for level in np.unique(d)
    }
    return {
        "seed": seed,
        "post_test": float(curve[-1]),
        "gate_below_half": float((gate < 0.5).mean()),
        "poor_fit": float(poor.mean()),
        "poor_fit_too_easy": float((poor & easy).mean()),
        "poor_fit_too_hard": float((poor & ~easy).mean()),
        "levels": levels,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the shared data folder (../shared/data)")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--students", type=int, default=10)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    domain = junyi_submap(args.data, "multiplication-division")
    runs = [seed_figures(domain, s, args.students, args.steps) for s in range(args.seeds)]
    table = Table(title=f"expected_gain on the Junyi sub-map, {args.steps} steps")
    for col in ("seed", "post-test", "gate < .5", "fit < .5", "too easy", "too hard"):
        table.add_column(col, justify="right")
    for r in runs:
        table.add_row(
            str(r["seed"]),
            f"{r['post_test']:.3f}",
            *(
                f"{r[key]:.3f}"
                for key in ("gate_below_half", "poor_fit", "poor_fit_too_easy", "poor_fit_too_hard")
            ),
        )
    Console().print(table)
    write_json(
        RESULTS / "practice_fit.json",
        {"settings": vars(args) | {"data": str(args.data)}, "runs": runs},
    )


if __name__ == "__main__":
    main()
