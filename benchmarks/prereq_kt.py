"""Multi-step-ahead prediction: psikt (prerequisite-aware, PSI-KT-like) against
BKT, Elo and IRT, on simulated students on the real Junyi map and on
assist2009_updated.

Usage:
    python benchmarks/prereq_kt.py ../shared/data
    python benchmarks/prereq_kt.py ../shared/data --part sim --seeds 3
    python benchmarks/prereq_kt.py ../shared/data --quick      # a small smoke run

Protocol (both parts). Models are fitted on the training learners. Each test
learner's events, in time order, are cut every ``--stride`` events starting
after ``--min-history`` events; at each cut the model has been updated online
with every earlier event of the learner, and it predicts the learner's next
h = 1..``--horizon`` answers, each at that answer's own item and time, without
being updated on any of them. AUC and log loss are computed per horizon over
all cuts of all test learners. BKT, Elo and IRT have no clock (their
prediction is the same at every horizon); psikt propagates its belief to each
answer's time, so knowledge decays (or rises toward its level) with the time
elapsed since the cut.

(a) Simulated students (mentor.sim.StudentPopulation) on the Junyi Academy
prerequisite map (mentor.sim.make_junyi_course: 835 skills, 978
prerequisites, 3 items of difficulty 0.25 / 0.5 / 0.75 per skill). The
simulator's forgetting rate is raised to 0.01 (default 0.002) so that forgetting
is visible over the time scale of the run; every other simulator parameter is
its default. Each student follows a curriculum: practise a skill's items from
easy to hard (up a level after a correct answer; the skill ends after a correct
answer at the hardest level or 8 attempts), then go on to a skill whose
prerequisites are all practised, preferring the children of the skill just
practised, except that with probability ``--skip`` the student jumps to a skill
with an unpractised prerequisite (where the simulator's prerequisite gate
makes learning slow); with probability 0.15 a step is a review of an earlier
skill. Time runs in rounds: in each round each student is active with their own
probability (uniform in [0.3, 1]), and every 40 rounds a break of 30 time units
passes. Train and test students are drawn from the same population; each seed
draws a new population and curricula. The true graph is known: psikt is run
with the given graph (the Junyi map), with a learned graph (candidate pairs with
support >= 3, L1 penalty) and with no graph (ablation). BKT is run as default
(one guess/slip per skill) and as KT-IDEM (``multigs``: guess and slip per item),
since item difficulty matters here.

(b) assist2009_updated, the fixed DKVMN train/test split (test learners new).
The kt files hold no timestamps: the time of an answer is its index in the
learner's sequence (so "forgetting" is per answer given, not per day). psikt
learns a prerequisite graph over the 110 skills (``graph="learn"``); the
spread is the standard deviation of 200 bootstrap resamples of test learners
(one fixed split, one fit per model).

Writes benchmarks/results/prereq_kt.json (every figure and the run's settings),
prereq_kt.csv (one row per part, model and horizon), prereq_kt.md (the tables)
and prereq_kt.png (AUC against horizon); ``--render saved.json`` rewrites the
last three from a saved run.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from mentor._io import atomic_open, write_json
from mentor.domain import Domain
from mentor.events import EventLog, read_kt
from mentor.metrics import auc, log_loss
from mentor.sim import StudentParams, StudentPopulation, make_junyi_course
from mentor.students import BKT, IRT, Elo, StudentModel
from mentor.students.prereq import PSIKT

RESULTS = Path(__file__).parent / "results"
Factory = Callable[[Domain], StudentModel]


# --------------------------------------------------------------------------- simulation
def simulate(
    course: Domain,
    n_students: int,
    rounds: int,
    seed: int,
    skip: float,
    params: StudentParams,
    streak: int = 2,
    max_attempts: int = 12,
) -> EventLog:
    """One cohort of simulated students following the curriculum of the module docstring."""
    rng = np.random.default_rng(seed)
    population = StudentPopulation(course, n_students, seed=seed, params=params)
    skills = course.skills
    parents = {s: set(course.prerequisites_of(s)) for s in skills}
    children = {s: course.dependents_of(s) for s in skills}
    roots = [s for s in skills if not parents[s]]
    item_index = {item: j for j, item in enumerate(population.item_ids)}
    levels = {
        s: sorted(course.items_of(s), key=lambda i: course.item(i).difficulty) for s in skills
    }
    activity = rng.uniform(0.3, 1.0, n_students)
    done: list[list[Any]] = [[] for _ in range(n_students)]
    done_set: list[set] = [set() for _ in range(n_students)]

    def next_skill(n: int) -> tuple[Any, bool]:
        if done[n] and rng.random() < 0.15:
            return done[n][rng.integers(len(done[n]))], True
        seen = done_set[n]
        frontier = {c for s in done[n] for c in children[s]} | set(roots)
        frontier -= seen
        ready = [s for s in frontier if parents[s] <= seen]
        jump = [s for s in frontier if not parents[s] <= seen]
        pool = jump if (jump and rng.random() < skip) or not ready else ready
        if done[n] and rng.random() < 0.7:
            near = [c for c in children[done[n][-1]] if c in set(pool)]
            if near:
                pool = near
        pool = sorted(pool, key=str)
        return pool[rng.integers(len(pool))], False

    # per student: [skill, level, attempts at the skill, correct answers in a row, is a review]
    current = [[next_skill(n)[0], 0, 0, 0, False] for n in range(n_students)]
    learners, items, times, outcomes = [], [], [], []
    for r in range(rounds):
        active = np.flatnonzero(rng.random(n_students) < activity)
        chosen = [item_index[levels[current[n][0]][current[n][1]]] for n in active.tolist()]
        if active.size:
            result = population.attempt(np.array(chosen, dtype=np.int64), active)
            for n, j, o in zip(active.tolist(), chosen, result.tolist(), strict=True):
                learners.append(n)
                items.append(population.item_ids[j])
                times.append(population.time)
                outcomes.append(o)
                state = current[n]
                state[2] += 1
                state[3] = state[3] + 1 if o == 1.0 else 0
                top = len(levels[state[0]]) - 1
                if state[3] >= streak and state[1] < top:
                    state[1], state[3] = state[1] + 1, 0
                if state[4]:
                    finished = state[2] >= 2
                else:
                    finished = (state[3] >= streak and state[1] == top) or state[2] >= max_attempts
                if finished:
                    if state[0] not in done_set[n]:
                        done[n].append(state[0])
                        done_set[n].add(state[0])
                    skill, review = next_skill(n)
                    state[:] = [skill, 1 if review else 0, 0, 0, review]
        population.advance(1.0)
        if (r + 1) % 40 == 0:
            population.advance(30.0)
    return EventLog(learners, items, times, outcomes)


# --------------------------------------------------------------------------- protocol
def multistep(
    model: StudentModel, log: EventLog, horizon: int, min_history: int, stride: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(horizon, outcome, prediction, learner code) of every multi-step prediction;
    the model is updated online on each test learner's history (it changes)."""
    order = np.lexsort((np.arange(len(log)), log.time, log.learner))
    log = log[order]
    heads = np.flatnonzero(np.r_[True, log.learner[1:] != log.learner[:-1], True])
    hs, ys, ps, who = [], [], [], []
    for code, (a, b) in enumerate(zip(heads[:-1], heads[1:], strict=True)):
        learner = log.learner[a].item()
        done = a
        for cut in range(a + min_history, b, stride):
            model.update(log[done:cut])
            done = cut
            for h in range(1, horizon + 1):
                j = cut + h - 1
                if j >= b:
                    break
                p = model.predict(learner, [log.item[j].item()], float(log.time[j]))[0]
                hs.append(h)
                ys.append(log.outcome[j])
                ps.append(p)
                who.append(code)
    return np.array(hs), np.array(ys), np.array(ps), np.array(who)


def per_horizon(
    h: np.ndarray, y: np.ndarray, p: np.ndarray, horizon: int
) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"auc": [], "log_loss": [], "n": []}
    for k in range(1, horizon + 1):
        mask = h == k
        out["auc"].append(auc(y[mask], p[mask]))
        out["log_loss"].append(log_loss(y[mask], p[mask]))
        out["n"].append(int(mask.sum()))
    return out


def bootstrap(
    h: np.ndarray,
    y: np.ndarray,
    p: np.ndarray,
    who: np.ndarray,
    horizon: int,
    seed: int,
    n: int = 200,
) -> dict[str, list[float]]:
    """Standard deviation per horizon of AUC and log loss over learner resamples."""
    rng = np.random.default_rng(seed)
    learners = np.unique(who)
    groups = np.split(np.argsort(who, kind="stable"), np.cumsum(np.bincount(who))[:-1])
    aucs, losses = [], []
    for _ in range(n):
        pick = np.concatenate([groups[k] for k in rng.choice(learners, learners.size)])
        result = per_horizon(h[pick], y[pick], p[pick], horizon)
        aucs.append(result["auc"])
        losses.append(result["log_loss"])
    return {
        "auc_std": np.std(aucs, axis=0, ddof=1).tolist(),
        "log_loss_std": np.std(losses, axis=0, ddof=1).tolist(),
    }


def evaluate(
    factories: dict[str, Factory],
    domain: Domain,
    train: EventLog,
    test: EventLog,
    args: argparse.Namespace,
    console: Console,
) -> dict[str, dict[str, Any]]:
    """Fit each model on ``train`` and score multi-step prediction on ``test``."""
    out = {}
    for name, factory in factories.items():
        model = factory(domain)
        start = time.perf_counter()
        model.fit(train)
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        h, y, p, who = multistep(model, test, args.horizon, args.min_history, args.stride)
        seconds = time.perf_counter() - start
        result = per_horizon(h, y, p, args.horizon)
        result.update(fit_seconds=fit_seconds, predict_seconds=seconds)
        result["raw"] = (h, y, p, who)
        if isinstance(model, PSIKT):
            result["edges"] = len(model.prerequisites())
            result["candidate_edges"] = model.graph_.n_edges
            result["n_iter"] = model.n_iter_
        console.print(
            f"  {name:14s} fit {fit_seconds:7.1f} s  AUC h=1 {result['auc'][0]:.4f}  "
            f"h={args.horizon} {result['auc'][-1]:.4f}"
        )
        out[name] = result
    return out


def psikt(graph: str, **params: Any) -> Factory:
    return lambda domain: PSIKT(domain=domain, graph=graph, **params)


# --------------------------------------------------------------------------- parts
def part_sim(args: argparse.Namespace, console: Console) -> dict[str, Any]:
    course = make_junyi_course(Path(args.data) / "graphs" / "junyi_exercise_table.csv")
    sim_params = StudentParams(forget_rate=0.01)
    factories: dict[str, Factory] = {
        "psikt-given": psikt("given", max_iter=args.max_iter),
        "psikt-learn": psikt("learn", min_support=3, max_iter=args.max_iter),
        "psikt-none": psikt("none", max_iter=args.max_iter),
        "bkt": lambda domain: BKT(domain=domain),
        "bkt-idem": lambda domain: BKT(domain=domain, multigs=True),
        "elo": lambda domain: Elo(domain=domain),
        "irt": lambda domain: IRT(domain=domain),
    }
    runs = []
    for seed in range(args.seeds):
        n = args.students
        log = simulate(course, n, args.rounds, seed, args.skip, sim_params)
        test_ids = np.random.default_rng(1000 + seed).permutation(n)[: n // 3]
        is_test = np.isin(log.learner, test_ids)
        console.print(
            f"[bold]sim seed {seed}[/]: {len(log)} events, {n} students "
            f"({test_ids.size} test), {len(np.unique(log.item))} items, "
            f"{len({course.item(i).skills[0] for i in np.unique(log.item).tolist()})} skills, "
            f"success rate {log.outcome.mean():.3f}"
        )
        runs.append(evaluate(factories, course, log[~is_test], log[is_test], args, console))
    summary = {}
    for name in factories:
        entry: dict[str, Any] = {}
        for key in ("auc", "log_loss"):
            values = np.array([run[name][key] for run in runs])
            entry[key] = values.mean(axis=0).tolist()
            entry[f"{key}_std"] = (
                values.std(axis=0, ddof=1) if len(runs) > 1 else 0 * values[0]
            ).tolist()
            entry[f"{key}_per_seed"] = values.tolist()
        entry["n"] = np.sum([run[name]["n"] for run in runs], axis=0).tolist()
        fits = np.array([run[name]["fit_seconds"] for run in runs])
        entry["fit_seconds"], entry["fit_seconds_std"] = float(fits.mean()), float(fits.std())
        for key in ("edges", "candidate_edges", "n_iter"):
            if key in runs[0][name]:
                entry[key] = [run[name][key] for run in runs]
        summary[name] = entry
    return {"spread": f"std over {args.seeds} seeds", "models": summary}


def part_assist(args: argparse.Namespace, console: Console) -> dict[str, Any]:
    folder = Path(args.data) / "kt" / "assist2009_updated"
    train = read_kt(folder / "assist2009_updated_train.csv")
    test = read_kt(folder / "assist2009_updated_test.csv")
    if args.quick:
        train = train.for_learners(np.unique(train.learner)[:600])
        test = test.for_learners(np.unique(test.learner)[:200])
    domain = Domain.identity(np.unique(np.r_[train.item, test.item]).tolist())
    console.print(f"[bold]assist2009_updated[/]: train {len(train)}, test {len(test)} answers")
    factories: dict[str, Factory] = {
        "psikt-learn": psikt("learn", max_iter=args.max_iter),
        "psikt-none": psikt("none", max_iter=args.max_iter),
        "bkt": lambda domain: BKT(domain=domain),
        "elo": lambda domain: Elo(domain=domain),
        "irt": lambda domain: IRT(domain=domain),
    }
    run = evaluate(factories, domain, train, test, args, console)
    summary = {}
    for name, result in run.items():
        h, y, p, who = result["raw"]
        spread = bootstrap(h, y, p, who, args.horizon, seed=0)
        entry = {key: result[key] for key in ("auc", "log_loss", "n", "fit_seconds")}
        entry.update(spread)
        for key in ("edges", "candidate_edges", "n_iter"):
            if key in result:
                entry[key] = result[key]
        summary[name] = entry
    return {"spread": "std of 200 bootstrap resamples of test learners", "models": summary}


# --------------------------------------------------------------------------- output
def table(console: Console, title: str, part: dict[str, Any], horizon: int) -> None:
    shown = [h for h in (1, 2, 3, 5, 10) if h <= horizon]
    t = Table(title=f"{title} ({part['spread']})")
    t.add_column("model")
    for h in shown:
        t.add_column(f"AUC h={h}", justify="right")
    for h in (1, horizon):
        t.add_column(f"log loss h={h}", justify="right")
    t.add_column("fit s", justify="right")
    models = part["models"]
    best = {h: max(m["auc"][h - 1] for m in models.values()) for h in shown}
    for name, m in models.items():
        cells = []
        for h in shown:
            text = f"{m['auc'][h - 1]:.4f} ± {m['auc_std'][h - 1]:.4f}"
            cells.append(f"[bold]{text}[/]" if m["auc"][h - 1] == best[h] else text)
        for h in (1, horizon):
            cells.append(f"{m['log_loss'][h - 1]:.4f} ± {m['log_loss_std'][h - 1]:.4f}")
        t.add_row(name, *cells, f"{m['fit_seconds']:.1f}")
    console.print(t)


def plot(results: dict[str, Any], horizon: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parts = [(key, value) for key, value in results["parts"].items()]
    fig, axes = plt.subplots(1, len(parts), figsize=(6.5 * len(parts), 4.5), squeeze=False)
    x = np.arange(1, horizon + 1)
    for ax, (key, part) in zip(axes[0], parts, strict=True):
        for name, m in part["models"].items():
            style = "-" if name.startswith("psikt") else "--"
            ax.errorbar(
                x,
                m["auc"],
                yerr=m["auc_std"],
                label=name,
                linestyle=style,
                marker="o",
                ms=3,
                capsize=2,
            )
        ax.set_title(
            {
                "sim": "Simulated students, Junyi map",
                "assist": "assist2009_updated (time = answer index)",
            }[key]
        )
        ax.set_xlabel("horizon h (answers after the cut)")
        ax.set_ylabel("AUC")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_open(path, "wb") as handle:
        fig.savefig(handle, format="png", dpi=120)
    plt.close(fig)


def write_csv(results: dict[str, Any], path: Path) -> None:
    with atomic_open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "part",
                "model",
                "horizon",
                "auc",
                "auc_std",
                "log_loss",
                "log_loss_std",
                "n",
                "fit_seconds",
            ]
        )
        for key, part in results["parts"].items():
            for name, m in part["models"].items():
                for h in range(len(m["auc"])):
                    writer.writerow(
                        [
                            key,
                            name,
                            h + 1,
                            f"{m['auc'][h]:.6f}",
                            f"{m['auc_std'][h]:.6f}",
                            f"{m['log_loss'][h]:.6f}",
                            f"{m['log_loss_std'][h]:.6f}",
                            m["n"][h],
                            f"{m['fit_seconds']:.3f}",
                        ]
                    )


def write_markdown(results: dict[str, Any], path: Path) -> None:
    """Every figure as Markdown tables: AUC and log loss per horizon, per part."""
    titles = {
        "sim": "Simulated students on the Junyi map",
        "assist": "assist2009_updated (fixed split, time = answer index)",
    }
    lines = []
    for key, part in results["parts"].items():
        models = part["models"]
        horizon = len(next(iter(models.values()))["auc"])
        for metric, better in (("auc", max), ("log_loss", min)):
            lines += [f"### {titles[key]}: {metric} per horizon (± {part['spread']})", ""]
            head = ["model", *(f"h={h}" for h in range(1, horizon + 1)), "fit s"]
            lines += ["| " + " | ".join(head) + " |", "|---" + "|---:" * (len(head) - 1) + "|"]
            best = [better(m[metric][h] for m in models.values()) for h in range(horizon)]
            for name, m in models.items():
                cells = []
                for h in range(horizon):
                    text = f"{m[metric][h]:.4f} ± {m[f'{metric}_std'][h]:.4f}"
                    cells.append(f"**{text}**" if m[metric][h] == best[h] else text)
                lines.append(f"| {name} | " + " | ".join(cells) + f" | {m['fit_seconds']:.1f} |")
            lines.append("")
    with atomic_open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines))


def write_outputs(results: dict[str, Any], out: Path, console: Console) -> None:
    write_json(out.with_suffix(".json"), results)
    write_csv(results, out.with_suffix(".csv"))
    write_markdown(results, out.with_suffix(".md"))
    plot(results, results["settings"]["horizon"], out.with_suffix(".png"))
    console.print(f"wrote {out.with_suffix('.json')} and the .csv, .md and .png beside it")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="the shared data folder (../shared/data)")
    parser.add_argument("--part", choices=["sim", "assist", "both"], default="both")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--skip", type=float, default=0.25)
    parser.add_argument("--horizon", type=int, default=10)
    parser.add_argument("--min-history", type=int, default=5)
    parser.add_argument("--stride", type=int, default=10)
    parser.add_argument("--max-iter", type=int, default=150)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--out", default=str(RESULTS / "prereq_kt"))
    parser.add_argument(
        "--render", metavar="JSON", help="only rewrite the tables and figure from a saved run"
    )
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.students, args.rounds, args.max_iter = 2, 60, 80, 20
    console = Console(width=200)
    if args.render:
        saved = json.loads(Path(args.render).read_text(encoding="utf-8"))
        write_outputs(saved, Path(args.render).with_suffix(""), console)
        return
    results: dict[str, Any] = {
        "settings": {k: v for k, v in vars(args).items()},
        "machine": {"python": platform.python_version(), "processor": platform.processor()},
        "parts": {},
    }
    if args.part in ("sim", "both"):
        results["parts"]["sim"] = part_sim(args, console)
        table(
            console,
            "Simulated students on the Junyi map: multi-step-ahead",
            results["parts"]["sim"],
            args.horizon,
        )
    if args.part in ("assist", "both"):
        results["parts"]["assist"] = part_assist(args, console)
        table(
            console,
            "assist2009_updated: multi-step-ahead",
            results["parts"]["assist"],
            args.horizon,
        )
    write_outputs(results, Path(args.out), console)


if __name__ == "__main__":
    main()
