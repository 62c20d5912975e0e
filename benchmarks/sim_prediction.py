"""Which teacher's model is closer to the simulated students: BKT per item or LevelBKT?

Usage:
    python benchmarks/sim_prediction.py [--seeds 5]

For each seed and each hand-written simulator of ``benchmarks/model_teaching.py`` on the
15-skill course (:class:`mentor.sim.StudentPopulation` and
:class:`mentor.sim.ActivationPopulation`), ZPDES (defaults) teaches a training cohort of
100 students and a test cohort of 50 for 150 steps each (ZPDES, so that practice follows
the prerequisites). Two models, each at its defaults and fitted by EM on the training
cohort's answers (at most 30 iterations), predict every answer of the test cohort from the
answers before it (:meth:`mentor.students.StudentModel.predict_log`):
``BKT(domain, grain="item", forgets=False)``, the model ``expected_gain`` plans with, and
:class:`mentor.students.LevelBKT`, which traces a skill's levels as one chain. Reports log
loss and AUC, mean and 95 % Student-t CI over seeds. Writes
``benchmarks/results/sim_prediction.json``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from mentor._io import write_json
from mentor.domain import Domain
from mentor.metrics.prediction import auc, log_loss
from mentor.metrics.teaching import mean_ci
from mentor.sim import ActivationPopulation, StudentPopulation, make_course, run_cohort
from mentor.students import BKT, LevelBKT, StudentModel
from mentor.teachers import ZPDES

RESULTS = Path(__file__).parent / "results"
SIMS: dict[str, Callable[..., Any]] = {
    "course15": StudentPopulation,
    "course15_actr": ActivationPopulation,
}
MODELS: dict[str, Callable[[Domain], StudentModel]] = {
    "bkt_item": lambda d: BKT(d, grain="item", forgets=False, max_iter=30),
    "level_bkt": lambda d: LevelBKT(d, max_iter=30),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    domain = make_course()
    scores: dict[str, dict[str, dict[str, list[float]]]] = {}
    for sim, population in SIMS.items():
        for seed in range(args.seeds):
            train_ids = [f"train-{n}" for n in range(100)]
            _, train = run_cohort(
                population(domain, 100, seed=1000 + seed),
                ZPDES(domain, seed=seed),
                None,
                150,
                train_ids,
            )
            _, test = run_cohort(
                population(domain, 50, seed=seed), ZPDES(domain, seed=seed), None, 150
            )
            for name, make in MODELS.items():
                for how in ("default", "fitted"):
                    model = make(domain)
                    if how == "fitted":
                        model.fit(train)
                    p = model.predict_log(test)
                    row = scores.setdefault(sim, {}).setdefault(f"{name} ({how})", {})
                    row.setdefault("log_loss", []).append(log_loss(test.outcome, p))
                    row.setdefault("auc", []).append(auc(test.outcome, p))
    console = Console()
    summary: dict[str, Any] = {}
    for sim, rows in scores.items():
        table = Table(title=f"{sim}: {args.seeds} seeds, ZPDES-taught cohorts, 150 steps")
        for col in ("model", "log loss", "AUC"):
            table.add_column(col)
        for name, values in rows.items():
            ll, a = mean_ci(np.array(values["log_loss"])), mean_ci(np.array(values["auc"]))
            summary.setdefault(sim, {})[name] = {"log_loss": ll, "auc": a}
            table.add_row(
                name, "{:.4f} [{:.4f}, {:.4f}]".format(*ll), "{:.4f} [{:.4f}, {:.4f}]".format(*a)
            )
        console.print(table)
    RESULTS.mkdir(exist_ok=True)
    write_json(RESULTS / "sim_prediction.json", {"seeds": args.seeds, "results": summary})


if __name__ == "__main__":
    main()
