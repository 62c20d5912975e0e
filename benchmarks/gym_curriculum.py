"""PPO (Stable-Baselines3) on an environment with a continuous task parameter: mentor's
task-space teachers against uniform tasks.

Usage:
    python benchmarks/gym_curriculum.py [--seeds 5] [--timesteps 20000] [--length 16]
        [--teachers uniform,region_lp,alp_gmm,covar_gmm] [--workers 1] [--quick]

Defaults: 5 seeds x 20,000 timesteps (sized for a shared 2-core machine; the script scales).
Each run is appended to ``results/gym_curriculum<suffix>.jsonl`` and reused by a later run
with the same settings; ``--report`` only tabulates what it holds. The table of a given set of
seeds and teachers is rebuilt from that checkpoint alone, e.g. the 5-seed table with ALP-GMM::

    python gym_curriculum.py --seeds 5 --teachers uniform,region_lp,alp_gmm --report \
        --name gym_curriculum_5seeds

(``--name`` names the summary JSON and plot, default ``gym_curriculum<suffix>``, so that a
report does not overwrite another run's summary.)

Environment: :class:`mentor.rl.gym_envs.GoalLine` (walk right to the goal set by the task
``x`` in [0, 1], ``goal = 1 + round(x (length - 1))``, and claim it; reward 1 on success).
Every teacher sees only the box [0, 1] and the success of each episode (outcome
``"success"``). Training: PPO with Stable-Baselines3's defaults except ``n_steps`` 128 and
``batch_size`` 64, 4 environments in a ``DummyVecEnv``, each wrapped in
:class:`~mentor.rl.gym_wrapper.TaskWrapper`; :class:`~mentor.rl.gym_curriculum.TaskCurriculum`
and :class:`~mentor.rl.sb3.TaskCallback` carry the tasks and outcomes; torch on 1 CPU thread.

Measure: the deterministic policy's success rate over every goal (``length`` goals, one
episode each, an episode being deterministic) every ``eval_every`` timesteps and at the
end; mean and Student-t 95 % CI over seeds; the teacher's overhead (seconds in the
curriculum over the training's wall time, evaluations excluded; GoalLine's episodes are a
few steps long, so this is a worst case per step). Writes ``benchmarks/results/gym_curriculum.json``
and ``gym_curriculum.png`` (success over every goal against timesteps).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table
from teachers import curve_summary, fmt, summary  # benchmarks/teachers.py

from mentor._io import atomic_path, write_json
from mentor.domain import Box

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
TEACHERS = {
    "uniform": "uniform tasks in [0, 1]",
    "region_lp": "RegionLP defaults (128 regions, window 10, 10 % random, 20 % neighbour)",
    "alp_gmm": "ALP-GMM defaults (fit every 250, k 2-10, 20 % random)",
    "covar_gmm": "Covar-GMM defaults (fit every 250, k 2-10, 20 % random)",
}


def evaluate(model: Any, length: int) -> float:
    """Success rate of the deterministic policy over the goals 1 .. length."""
    from mentor.rl.gym_envs import GoalLine

    env = GoalLine(length=length)
    wins = 0
    for goal in range(1, length + 1):
        env.set_task((goal - 1) / (length - 1) if length > 1 else 0.0)
        obs, _ = env.reset()
        done = False
        while not done:
            action, _ = model.predict(obs, deterministic=True)
            obs, reward, terminated, truncated, _ = env.step(int(action))
            done = terminated or truncated
        wins += reward > 0
    return wins / length


def run(teacher: str, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback, CallbackList
    from stable_baselines3.common.env_util import make_vec_env

    from mentor.rl.gym_curriculum import TaskCurriculum
    from mentor.rl.gym_envs import GoalLine
    from mentor.rl.gym_tasks import TaskSource
    from mentor.rl.gym_wrapper import TaskWrapper
    from mentor.rl.sb3 import TaskCallback
    from mentor.teachers.taskspace import create_task_teacher

    torch.set_num_threads(1)
    box = Box([0.0], [1.0])
    tasks = create_task_teacher(
        {"name": teacher, "params": {"space": box.state_dict(), "seed": seed}}
    )
    venv = make_vec_env(
        GoalLine,
        n_envs=args.envs,
        seed=seed,
        env_kwargs={"length": args.length},
        wrapper_class=TaskWrapper,
    )
    model = PPO("MlpPolicy", venv, n_steps=128, batch_size=64, seed=seed, device="cpu")
    curriculum = TaskCurriculum(TaskSource(tasks), model.get_env(), outcome="success")
    curve: list[float] = [evaluate(model, args.length)]
    evaluating = [0.0]

    class Checkpoints(BaseCallback):
        def _on_step(self) -> bool:
            if self.num_timesteps % args.eval_every < args.envs:
                start = time.perf_counter()
                curve.append(evaluate(self.model, args.length))
                evaluating[0] += time.perf_counter() - start
            return True

    start = time.perf_counter()
    model.learn(args.timesteps, callback=CallbackList([TaskCallback(curriculum), Checkpoints()]))
    wall = time.perf_counter() - start - evaluating[0]  # training only
    venv.close()
    return {
        "final": curve[-1],
        "curve": curve,
        "episodes": curriculum.episodes_,
        "teacher_seconds": curriculum.seconds_,
        "wall": wall,
        "overhead": curriculum.seconds_ / wall,
    }


def settings(args: argparse.Namespace) -> list[int]:
    """What a checkpointed run must share with this one to be reused."""
    return [args.timesteps, args.eval_every, args.length, args.envs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--timesteps", type=int, default=20_000)
    parser.add_argument("--eval-every", type=int, default=4_000)
    parser.add_argument("--length", type=int, default=16)
    parser.add_argument("--envs", type=int, default=4)
    parser.add_argument("--teachers", default=",".join(TEACHERS))
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="2 seeds, 8,000 timesteps")
    parser.add_argument("--report", action="store_true", help="only tabulate checkpointed runs")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--name", default=None, help="summary JSON and plot name (default gym_curriculum[_quick])"
    )
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.timesteps, args.eval_every = 2, 8_000, 4_000
    names = args.teachers.split(",")
    console = Console()
    suffix = "_quick" if args.quick else ""
    args.out.mkdir(parents=True, exist_ok=True)
    checkpoint = args.out / f"gym_curriculum{suffix}.jsonl"
    out_name = args.name or f"gym_curriculum{suffix}"
    results: dict[tuple[str, int], dict[str, Any]] = {}
    if checkpoint.exists():  # resume: runs of the same settings are kept
        for line in checkpoint.read_text().splitlines():
            entry = json.loads(line)
            if entry["settings"] == settings(args):
                results[entry["teacher"], entry["seed"]] = entry["run"]
    # uniform and the first mentor teacher for every seed first, then the others
    jobs = [(n, s) for group in (names[:2], names[2:]) for s in range(args.seeds) for n in group]
    jobs = [j for j in jobs if j not in results and not args.report]
    start = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        futures = {pool.submit(run, name, seed, args): (name, seed) for name, seed in jobs}
        for future in as_completed(futures):
            name, seed = futures[future]
            results[name, seed] = r = future.result()
            with checkpoint.open("a") as handle:
                entry = {"teacher": name, "seed": seed, "settings": settings(args), "run": r}
                handle.write(json.dumps(entry) + "\n")
            console.print(
                f"{name} seed {seed}: {100 * r['final']:.1f} % of goals, "
                f"{r['episodes']} episodes, {r['wall']:.0f} s, "
                f"overhead {100 * r['overhead']:.2f} %",
                highlight=False,
            )
    rows = {}
    for name in names:
        seeds = [s for s in range(args.seeds) if (name, s) in results]
        if not seeds:
            continue
        runs = [results[name, s] for s in seeds]
        rows[name] = {
            "seeds": seeds,
            "parameters": TEACHERS[name],
            "success": summary([r["final"] for r in runs]),
            "per_seed": [r["final"] for r in runs],
            "curve": curve_summary([r["curve"] for r in runs]),
            "episodes": float(np.mean([r["episodes"] for r in runs])),
            "overhead": summary([r["overhead"] for r in runs]),
            "wall": float(np.mean([r["wall"] for r in runs])),
        }
    paired = {
        f"{name} - uniform": summary(
            [
                results[name, s]["final"] - results["uniform", s]["final"]
                for s in rows[name]["seeds"]
                if ("uniform", s) in results
            ]
        )
        for name in rows
        if name != "uniform" and "uniform" in rows
    }
    table = Table(
        title=f"PPO on GoalLine({args.length}), {args.timesteps:,} timesteps, {args.seeds} seeds"
    )
    for column in (
        "teacher",
        "success over all goals %",
        "seeds",
        "episodes",
        "teacher overhead %",
        "s / run",
    ):
        table.add_column(column, justify="left" if column == "teacher" else "right")
    for name, row in rows.items():
        table.add_row(
            name,
            fmt(row["success"], 100),
            str(len(row["seeds"])),
            f"{row['episodes']:.0f}",
            fmt(row["overhead"], 100, 3),
            f"{row['wall']:.0f}",
        )
    console.print(table)
    for label, s in paired.items():
        console.print(f"{label} (paired by seed, points): {fmt(s, 100)}")
    write_json(
        args.out / f"{out_name}.json",
        {
            "command": " ".join(["python", *sys.argv]),
            "checkpoint": checkpoint.name,
            "report_only": args.report,  # then elapsed_s and load_average are the report's
            "seeds": args.seeds,
            "timesteps": args.timesteps,
            "eval_every": args.eval_every,
            "length": args.length,
            "envs": args.envs,
            "elapsed_s": time.perf_counter() - start,
            "load_average": os.getloadavg(),
            "machine": platform.platform(),
            "rows": rows,
            "paired": paired,
        },
    )
    plot(rows, args, args.out / f"{out_name}.png")


def plot(rows: dict[str, Any], args: argparse.Namespace, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, row in rows.items():
        c = row["curve"]
        x = np.linspace(0, args.timesteps, len(c["mean"]))
        ax.plot(x, 100 * np.array(c["mean"]), label=name)
        ax.fill_between(x, 100 * np.array(c["low"]), 100 * np.array(c["high"]), alpha=0.15)
    ax.set_xlabel("timesteps")
    ax.set_ylabel("% of goals solved (deterministic policy)")
    ax.set_title(f"PPO on GoalLine({args.length}): {args.seeds} seeds, mean and 95 % CI")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
