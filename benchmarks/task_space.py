"""Task-space teachers on the hypercube, side by side with teachDeepRL's Covar-GMM and RIAC.

Usage:
    python benchmarks/task_space.py [--seeds 20] [--episodes 20000] [--workers 1] [--quick]
        [--variants] [--teachdrl-python /work/refs/teachdrl-venv/bin/python]
        [--teachdrl-source /work/refs/teachDeepRL]

Each finished (seed, teacher) run is appended to ``results/task_space_hypercube<suffix>.jsonl``;
a run with the same settings resumes from it (delete the file to start again), and
``--report`` only tabulates what it holds (each row says over how many seeds).

Environment: :class:`mentor.sim.Hypercube` (Portelas et al., CoRL 2019): 10 x 10 cells of
[0, 1]^2, each unlocked by a lower neighbour at competence 75, mastered above it; the
score is the % of cells mastered after ``episodes`` episodes, one task per episode. No
teacher is told the cells: each sees only the box [0, 1]^2 and the reward of each episode.

Teachers (``mentor.teachers.taskspace``, defaults unless the row says otherwise): uniform
tasks, Covar-GMM, RIAC, RegionLP (128 regions; ``--variants`` runs 32 and 512 regions
instead, with no reference, to show it does not depend on matching the grid, and TSCL over
7 x 7, 13 x 13 and 17 x 17 grids of arms not aligned with the cells), and
teachDeepRL's own ``CovarGMM`` and ``RIAC`` (flowersteam/teachDeepRL,
``teachDRL/teachers/algos``), run from a copy outside this repository by its own Python
through a JSON-lines pipe, on the same ``Hypercube`` code (loaded by file path, so that venv
needs none of mentor's dependencies)::

    git clone <teachDeepRL> /work/refs/teachDeepRL
    python3 -m venv /work/refs/teachdrl-venv
    /work/refs/teachdrl-venv/bin/pip install numpy scipy scikit-learn gym==0.26.2 treelib

The reference teachers are seeded through ``np.random.seed`` (their ``seed`` argument, 1000 +
seed since they treat 0 as "no seed") and their gym ``Box`` samplers; RIAC's child regions are
new gym Boxes whose generators gym seeds from the OS, so its runs are not reproducible
exactly. Tasks are passed to them as float32 (what their ``sample_task`` returns; gym 0.26's
``Box.contains`` refuses float64). One BLAS/OpenMP thread everywhere. Writes
``benchmarks/results/task_space_hypercube.json`` (per seed, curves) and
``task_space_hypercube.png`` (mean % mastered against episodes, 95 % CI bands).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from teachers import (  # benchmarks/teachers.py
    HYPERCUBE_PRELUDE,
    THREADS,
    Server,
    curve_summary,
    fmt,
    summary,
)
from threadpoolctl import threadpool_limits

from mentor._io import write_json
from mentor.sim import Hypercube
from mentor.teachers.taskspace import RIAC, CovarGMM, RegionLP, UniformTasks

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"

#: name -> (factory(space, seed), what the row is given)
MENTOR = {
    "uniform": (lambda box, s: UniformTasks(box, seed=s), "uniform tasks in [0, 1]^2"),
    "covar_gmm": (
        lambda box, s: CovarGMM(box, seed=s),
        "defaults (the reference's): fit every 250, k 2-10, AIC, 20 % random",
    ),
    "riac": (
        lambda box, s: RIAC(box, seed=s),
        "defaults (the reference's): regions of 200, 50 split tries, 70/20/10 % modes",
    ),
    "region_lp": (
        lambda box, s: RegionLP(box, seed=s),
        "defaults: 128 Sobol regions, window 10, 10 % random, 20 % to a neighbour",
    ),
}
VARIANTS = {
    "region_lp (32 regions)": (
        lambda box, s: RegionLP(box, regions=32, seed=s),
        "32 regions, other defaults",
    ),
    "region_lp (512 regions)": (
        lambda box, s: RegionLP(box, regions=512, seed=s),
        "512 regions, other defaults",
    ),
}
#: TSCL (defaults) over a k x k grid of arms laid on [0, 1]^2 without knowing the cells: each
#: step one arm, ``GROUP`` episodes at uniform points of it (as the oracle-arm rows of
#: benchmarks/teachers.py, whose arms are the 10 x 10 mastery cells themselves).
GRIDS = {f"tscl ({k} x {k} grid arms)": k for k in (7, 13, 17)}
GROUP = 8
REFERENCE = {
    "covar_gmm (teachDeepRL)": "CovarGMM defaults, seeded (np.random and gym Box)",
    "riac (teachDeepRL)": "RIAC defaults, seeded (np.random, root gym Box; child Boxes: OS)",
}

DRIVER = (
    r'''
"""teachDeepRL's CovarGMM and RIAC on mentor's Hypercube, behind a JSON-lines pipe."""
'''
    + HYPERCUBE_PRELUDE
    + r"""
sys.path.insert(0, source)
from teachDRL.teachers.algos.covar_gmm import CovarGMM
from teachDRL.teachers.algos.riac import RIAC
import gym, sklearn, treelib

reply = lambda obj: (out.write(json.dumps(obj) + "\n"), out.flush())
reply({"ready": True, "numpy": np.__version__, "scikit-learn": sklearn.__version__,
       "gym": gym.__version__})
for line in sys.stdin:
    msg = json.loads(line)
    cube = Hypercube(2, 10)
    scores = [cube.score()]
    wall, cpu = time.perf_counter(), time.process_time()
    cls = {"covar_gmm": CovarGMM, "riac": RIAC}[msg["teacher"]]
    teacher = cls([0.0, 0.0], [1.0, 1.0], seed=msg["seed"])  # seeds np.random
    if msg["teacher"] == "covar_gmm":
        teacher.random_task_generator.seed(msg["seed"])
    else:
        teacher.regions_bounds[0].seed(msg["seed"])
    for episode in range(msg["episodes"]):
        task = np.asarray(teacher.sample_task(), dtype=np.float32)
        reward = cube.episode(np.clip(task.astype(float), 0.0, 1.0)[None])[0]
        teacher.update(task, reward)
        if (episode + 1) % msg["every"] == 0:
            scores.append(cube.score())
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    reply({"scores": scores, "wall": wall, "cpu": cpu})
"""
)

_DRIVER: dict[str, Server] = {}


def run_mentor(name: str, seed: int, episodes: int, every: int) -> dict[str, Any]:
    cube = Hypercube(seed=seed)
    scores = [cube.score()]
    wall, cpu = time.perf_counter(), time.process_time()
    teacher = {**MENTOR, **VARIANTS}[name][0](cube.task_space, seed)
    for episode in range(episodes):
        x = teacher.sample(1)
        teacher.observe(x, cube.episode(x))
        if (episode + 1) % every == 0:
            scores.append(cube.score())
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"scores": scores, "wall": wall, "cpu": cpu}


def run_grid(k: int, seed: int, episodes: int, every: int) -> dict[str, Any]:
    from mentor.events import EventLog
    from mentor.teachers import TSCL

    cube = Hypercube(seed=seed)
    rng = np.random.default_rng([seed, 7919])
    teacher = TSCL(seed=seed)
    arms = list(range(k * k))
    scores = [cube.score()]
    wall, cpu = time.perf_counter(), time.process_time()
    for step in range(episodes // GROUP):
        arm = int(teacher.select("agent", arms, 1)[0])
        corner = np.array(divmod(arm, k), dtype=float)
        rewards = cube.episode((corner + rng.random((GROUP, 2))) / k)
        teacher.observe(EventLog(["agent"] * GROUP, [arm] * GROUP, [float(step)] * GROUP, rewards))
        if ((step + 1) * GROUP) % every == 0:
            scores.append(cube.score())
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"scores": scores, "wall": wall, "cpu": cpu}


def job(name: str, seed: int, args: argparse.Namespace, driver: list[str] | None) -> dict:
    """One teacher on one seed."""
    with threadpool_limits(limits=1):
        if name == "uniform":  # outcomes are ignored: a batch per score is the same run
            cube = Hypercube(seed=seed)
            teacher = UniformTasks(cube.task_space, seed=seed)
            scores = [cube.score()]
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(args.episodes // args.every):
                cube.episode(teacher.sample(args.every))
                scores.append(cube.score())
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            return {"scores": scores, "wall": wall, "cpu": cpu}
        if name in GRIDS:
            return run_grid(GRIDS[name], seed, args.episodes, args.every)
        if name in MENTOR or name in VARIANTS:
            return run_mentor(name, seed, args.episodes, args.every)
    if "teachdrl" not in _DRIVER:
        _DRIVER["teachdrl"] = Server(driver, os.path.join(args.tmp, f"teachdrl-{os.getpid()}.log"))
    return _DRIVER["teachdrl"].call(
        teacher=name.split(" ")[0], seed=1000 + seed, episodes=args.episodes, every=args.every
    )


def probe(args: argparse.Namespace) -> tuple[list[str] | None, dict[str, Any]]:
    """The driver command, or None and why the references cannot run."""
    python, source = Path(args.teachdrl_python), Path(args.teachdrl_source)
    if not python.exists() or not (source / "teachDRL").is_dir():
        return None, {"ok": False, "reason": f"missing {python} or {source}/teachDRL"}
    path = Path(args.tmp) / "teachdrl_driver.py"
    path.write_text(DRIVER)
    command = [str(python), str(path), str(ROOT), str(source)]
    try:
        server = Server(command, os.path.join(args.tmp, "teachdrl.log"))
        info = server.info
        server.close()
    except Exception as error:  # noqa: BLE001 - any failure: run without the references
        return None, {"ok": False, "reason": repr(error)}
    commit = os.popen(f"git -C {source} rev-parse --short HEAD 2>/dev/null").read().strip()
    return command, {"ok": True, "versions": info, "commit": commit}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--episodes", type=int, default=20_000)
    parser.add_argument("--every", type=int, default=500, help="episodes between two scores")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="3 seeds, 5,000 episodes")
    parser.add_argument(
        "--report", action="store_true", help="only tabulate the runs in the checkpoint"
    )
    parser.add_argument("--only", default="", help="comma-separated rows to run (default: all)")
    parser.add_argument(
        "--variants", action="store_true", help="RegionLP with 32, 512 regions; TSCL on grids"
    )
    parser.add_argument("--teachdrl-python", default="/work/refs/teachdrl-venv/bin/python")
    parser.add_argument("--teachdrl-source", default="/work/refs/teachDeepRL")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.episodes = 3, 5_000
    os.environ.update(THREADS)
    console = Console()
    suffix = ("_quick" if args.quick else "") + ("_variants" if args.variants else "")
    args.out.mkdir(parents=True, exist_ok=True)
    checkpoint = args.out / f"task_space_hypercube{suffix}.jsonl"
    results: dict[int, dict[str, Any]] = {}
    if checkpoint.exists():
        for line in checkpoint.read_text().splitlines():
            entry = json.loads(line)
            if entry["episodes"] == args.episodes and entry["seed"] < args.seeds:
                results.setdefault(entry["seed"], {})[entry["name"]] = entry["run"]
        console.print(f"resuming: {sum(map(len, results.values()))} runs in {checkpoint}")
    if args.variants:
        tiers = [[*VARIANTS, *GRIDS]]
    else:  # what the target needs first, for every seed; then our Covar-GMM and RIAC
        tiers = [["region_lp", *REFERENCE, "uniform"], ["covar_gmm", "riac"]]

    def done(name: str, seed: int, run: dict[str, Any]) -> None:
        results.setdefault(seed, {})[name] = run
        with checkpoint.open("a") as handle:  # one line per run: a crash loses one run
            line = {"seed": seed, "name": name, "episodes": args.episodes, "run": run}
            handle.write(json.dumps(line) + "\n")

    with tempfile.TemporaryDirectory() as tmp:
        args.tmp = tmp
        driver, reference = probe(args)
        if driver is None:
            console.print(f"[yellow]teachDeepRL skipped: {reference['reason']}")
            tiers = [[n for n in tier if n not in REFERENCE] for tier in tiers]
        only = set(filter(None, args.only.split(",")))
        tiers = [[n for n in tier if not only or n in only] for tier in tiers]
        todo = [
            (name, seed)
            for tier in tiers
            for seed in range(args.seeds)
            for name in tier
            if name not in results.get(seed, {}) and not args.report
        ]
        start = time.perf_counter()
        columns = (TextColumn("hypercube"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("runs", total=len(todo))
            with ProcessPoolExecutor(args.workers) as pool:
                futures = {pool.submit(job, n, s, args, driver): (n, s) for n, s in todo}
                for future in as_completed(futures):
                    name, seed = futures[future]
                    done(name, seed, future.result())
                    progress.advance(task)
                    console.print(f"{name} seed {seed} done", highlight=False)
    elapsed = time.perf_counter() - start
    names = [
        n for n in [*MENTOR, *VARIANTS, *GRIDS, *REFERENCE] if any(n in r for r in results.values())
    ]
    given = {
        **{n: v[1] for n, v in {**MENTOR, **VARIANTS}.items()},
        **{
            n: f"defaults; {k} x {k} arms not aligned with the cells, {GROUP} episodes/step"
            for n, k in GRIDS.items()
        },
        **REFERENCE,
    }
    rows: dict[str, Any] = {}
    for name in names:
        seeds = sorted(s for s in results if name in results[s])
        runs = [results[s][name] for s in seeds]
        rows[name] = {
            "implementation": "teachDeepRL" if name in REFERENCE else "mentor",
            "parameters": given[name],
            "mastered": summary([r["scores"][-1] for r in runs]),
            "seeds": seeds,
            "per_seed": [r["scores"][-1] for r in runs],
            "wall": float(np.mean([r["wall"] for r in runs])),
            "cpu": float(np.mean([r["cpu"] for r in runs])),
            "curve": curve_summary([r["scores"] for r in runs]),
        }

    def pair(a: str, b: str) -> dict[str, Any]:
        """``a - b`` paired by seed, over the seeds both ran."""
        common = sorted(set(rows[a]["seeds"]) & set(rows[b]["seeds"]))
        return summary([results[s][a]["scores"][-1] - results[s][b]["scores"][-1] for s in common])

    paired = {}
    for a, b in [
        ("covar_gmm", "covar_gmm (teachDeepRL)"),
        ("riac", "riac (teachDeepRL)"),
        ("region_lp", "covar_gmm (teachDeepRL)"),
        ("region_lp", "riac (teachDeepRL)"),
        ("region_lp", "covar_gmm"),
    ]:
        if a in rows and b in rows:
            paired[f"{a} - {b}"] = pair(a, b)
    table = Table(title=f"hypercube 10 x 10, {args.episodes:,} episodes, up to {args.seeds} seeds")
    for column in (
        "teacher",
        "implementation",
        "% mastered",
        "seeds",
        "wall s / run",
        "CPU s / run",
    ):
        table.add_column(
            column, justify="left" if column in ("teacher", "implementation") else "right"
        )
    for name, row in rows.items():
        table.add_row(
            name,
            row["implementation"],
            fmt(row["mastered"]),
            str(len(row["seeds"])),
            f"{row['wall']:.2f}",
            f"{row['cpu']:.2f}",
        )
    console.print(table)
    for label, s in paired.items():
        console.print(f"{label} (paired by seed): {fmt(s)}")
    write_json(
        args.out / f"task_space_hypercube{suffix}.json",
        {
            "command": " ".join(["python", *sys.argv]),
            "seeds": args.seeds,
            "episodes": args.episodes,
            "every": args.every,
            "workers": args.workers,
            "elapsed_s": elapsed,
            "load_average": os.getloadavg(),
            "machine": platform.platform(),
            "reference": reference,
            "rows": rows,
            "paired": paired,
        },
    )
    plot(rows, args, args.out / f"task_space_hypercube{suffix}.png")


def plot(rows: dict[str, Any], args: argparse.Namespace, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mentor._io import atomic_path

    fig, ax = plt.subplots(figsize=(8, 5))
    for name, row in rows.items():
        c = row["curve"]
        x = np.linspace(0, args.episodes, len(c["mean"]))  # grid rows score every 1,000
        style = "--" if row["implementation"] == "teachDeepRL" else "-"
        ax.plot(x, c["mean"], style, label=name)
        ax.fill_between(x, c["low"], c["high"], alpha=0.15)
    ax.set_xlabel("episodes")
    ax.set_ylabel("% of cells mastered")
    ax.set_title("Hypercube 10 x 10: teachers see only the box [0, 1]^2 (mean, 95 % CI)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
