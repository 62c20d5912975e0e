"""Why the target-success teacher trails ZPDES on the default simulated course.

Usage:
    python benchmarks/target_diagnosis.py [--seeds 5]

Runs TargetSuccess at several targets on the default course of
``mentor simulate`` (100 students, 150 steps), once with the Elo model fitted
on a random-teacher pilot cohort (what ``mentor simulate`` does) and once with
an oracle that knows each simulated student's true success probability.
Prints the mean final post-test score over seeds and writes
benchmarks/results/target_diagnosis.json.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from mentor._io import write_json
from mentor.sim import StudentPopulation, make_course, run_cohort
from mentor.students import Elo
from mentor.teachers import RandomTeacher, TargetSuccess

TARGETS = (0.4, 0.55, 0.7, 0.85)


class TrueSuccess:
    """Predicts with the simulated students' real success probabilities."""

    def __init__(self, population: StudentPopulation) -> None:
        self.population = population
        self.index = {item: i for i, item in enumerate(population.item_ids)}

    def predict(self, learner, items, t=None):
        items = list(items)
        return self.population.success_probability(
            np.full(len(items), learner), np.array([self.index[i] for i in items])
        )

    def update(self, events) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "target_diagnosis.json"
    )
    args = parser.parse_args()
    domain = make_course()
    steps, students = 150, 100
    results: dict[str, dict[float, list[float]]] = {"elo": {}, "oracle": {}}
    for seed in range(args.seeds):
        pilot = StudentPopulation(domain, 200, seed=1_000_003 + seed)
        _, log = run_cohort(pilot, RandomTeacher(seed), None, steps, [f"p{n}" for n in range(200)])
        state = Elo(domain, skill_ability=True).fit(log).state_dict()
        for target in TARGETS:
            population = StudentPopulation(domain, students, seed=seed)
            curve, _ = run_cohort(
                population,
                TargetSuccess(target, seed=seed),
                Elo.from_state_dict(state, domain),
                steps,
            )
            results["elo"].setdefault(target, []).append(float(curve[-1]))
            population = StudentPopulation(domain, students, seed=seed)
            curve, _ = run_cohort(
                population, TargetSuccess(target, seed=seed), TrueSuccess(population), steps
            )
            results["oracle"].setdefault(target, []).append(float(curve[-1]))
        population = StudentPopulation(domain, students, seed=seed)
        curve, _ = run_cohort(population, RandomTeacher(seed), None, steps)
        results.setdefault("random", {}).setdefault(0.0, []).append(float(curve[-1]))
    table = Table(title=f"Final post-test score, mean over {args.seeds} seeds")
    table.add_column("predictor")
    for target in TARGETS:
        table.add_column(f"target {target}", justify="right")
    for name in ("elo", "oracle"):
        table.add_row(name, *(f"{np.mean(results[name][t]):.3f}" for t in TARGETS))
    console = Console()
    console.print(table)
    console.print(f"random teacher: {np.mean(results['random'][0.0]):.3f}")
    write_json(args.out, {k: {str(t): v for t, v in r.items()} for k, r in results.items()})


if __name__ == "__main__":
    main()
