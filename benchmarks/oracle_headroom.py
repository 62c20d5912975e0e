"""How much room the teaching benchmark leaves: a teacher that sees the simulated students.

Usage:
    python benchmarks/oracle_headroom.py ../shared/data [--seeds 20] [--only course15|junyi]

The oracle is not a teacher mentor could have: at every step it reads each
:class:`mentor.sim.StudentPopulation` student's true knowledge, learning rate and
prerequisite gates, and gives each student the item whose attempt raises that student's
post-test score the most (the simulator's own learning law, one step ahead, greedy). It
runs on the same courses, cohorts (seeds 0..19, the same students as every teacher of
``benchmarks/model_teaching.py``) and 300 steps as that benchmark's ``course15`` and
``junyi`` tables, so its post-test is an upper reference for them: a one-step greedy
bound, not the optimum, but a teacher that does not see the students should not be
expected near it. Writes ``benchmarks/results/oracle_headroom.json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import Progress
from scipy.special import expit, log_expit
from teachers import junyi_submap  # benchmarks/teachers.py: the same sub-map

from mentor._io import write_json
from mentor.metrics.teaching import mean_ci
from mentor.sim import StudentPopulation, make_course

RESULTS = Path(__file__).parent / "results"


def oracle_choice(pop: StudentPopulation, items_of: list[np.ndarray]) -> np.ndarray:
    """Per student, the item whose attempt raises their post-test the most."""
    p = pop.params
    knowledge = pop.knowledge
    parents = pop.parents.astype(float)
    gate = np.exp((parents @ log_expit((knowledge - p.prerequisite_level) / 0.05).T).T)
    k = knowledge[:, pop.item_skill]
    fit = np.exp(-((pop.item_difficulty - k - p.stretch) ** 2) / (2.0 * p.width**2))
    after = k + pop.rate[:, None] * fit * gate[:, pop.item_skill] * (1.0 - k)
    gains = np.zeros_like(k)
    for skill, cols in enumerate(items_of):
        if cols.size == 0:
            continue
        level = pop.item_difficulty[cols]
        now = expit((knowledge[:, [skill]] - level) / p.sharpness).sum(axis=1)
        for c in cols.tolist():
            gains[:, c] = expit((after[:, [c]] - level) / p.sharpness).sum(axis=1) - now
    return gains.argmax(axis=1)


def oracle_teach(pop: StudentPopulation, steps: int) -> tuple[list[float], np.ndarray]:
    """The oracle teaches ``pop`` for ``steps`` steps (one time unit each): the mean
    post-test before the first step and after each, and the items chosen, (steps, students)."""
    items_of = [np.flatnonzero(pop.item_skill == s) for s in range(pop.parents.shape[0])]
    curve = [float(pop.post_test().mean())]
    chosen = []
    for _ in range(steps):
        items = oracle_choice(pop, items_of)
        pop.attempt(items)
        pop.advance(1.0)
        curve.append(float(pop.post_test().mean()))
        chosen.append(items)
    return curve, np.array(chosen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the shared data folder (../shared/data)")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--only", action="append", choices=("course15", "junyi"))
    args = parser.parse_args()
    sims = args.only or ["course15", "junyi"]
    console = Console()
    results = {}
    with Progress(console=console) as progress:
        task = progress.add_task("oracle", total=len(sims) * args.seeds)
        for sim in sims:
            domain = (
                make_course()
                if sim == "course15"
                else junyi_submap(args.data, "multiplication-division")
            )
            students = 15 if sim == "course15" else 10
            finals, reach = [], []
            for seed in range(args.seeds):
                curve, _ = oracle_teach(StudentPopulation(domain, students, seed=seed), 300)
                finals.append(curve[-1])
                hit = np.flatnonzero(np.array(curve) >= 0.8)
                reach.append(int(hit[0]) if hit.size else None)
                progress.advance(task)
            reached = [r for r in reach if r is not None]
            results[sim] = {
                "seeds": args.seeds,
                "post_mastery": mean_ci(np.array(finals)),
                "reach80": mean_ci(np.array(reached, dtype=float)) if len(reached) > 1 else None,
                "reached": len(reached),
            }
            m, lo, hi = (100 * x for x in results[sim]["post_mastery"])
            console.print(
                f"{sim}: oracle post-test {m:.1f} % [{lo:.1f}, {hi:.1f}], {args.seeds} seeds"
            )
    path = RESULTS / "oracle_headroom.json"
    kept = json.loads(path.read_text()) if path.exists() else {}  # other courses' figures
    write_json(path, {**kept, **results})


if __name__ == "__main__":
    main()
