"""PPO (Stable-Baselines3) on an environment with a continuous task parameter: mentor's
task-space teachers against uniform tasks.

Usage:
    python benchmarks/gym_curriculum.py [--seeds 5] [--timesteps 20000] [--length 16]
        [--teachers uniform,region_lp,alp_gmm,covar_gmm] [--workers 1] [--quick]
        [--env goalline|cartpole] [--pole 0.02,0.5] [--batch 1]

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

``--env cartpole``: :class:`mentor.rl.gym_envs.TaskCartPole` instead, Gymnasium's
CartPole-v1 whose task is the pole's half-length in the box ``--pole LOW,HIGH`` (default
[0.02, 0.5] m: CartPole-v1's 0.5 down to poles too short to balance); the teachers see that
box and each episode's success (return >= 475, CartPole-v1's registered reward threshold, of
the 500-step cap). PPO at Stable-Baselines3's defaults (``n_steps`` 2048, ``batch_size`` 64),
4 environments as above. Score: the deterministic policy's success over 12 half-lengths
evenly spaced over the box (one episode each from a fixed seed). Runs go to
``results/gym_curriculum_cartpole[_quick].jsonl``, summaries to ``gym_curriculum_cartpole``.

``--batch B``: the curriculum is ``TaskCurriculum(..., batch=B)`` (each environment scheduled
``B`` episodes ahead, outcomes handed to the teacher in batches, at the latest at each
rollout's end); runs with ``B`` > 1 go to ``results/gym_curriculum[_cartpole]_batchB.jsonl``.
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


POLE_POINTS = 12  # half-lengths of the CartPole score


def pole_box(args: argparse.Namespace) -> tuple[float, float]:
    """The CartPole task box from ``--pole LOW,HIGH``."""
    low, high = (float(v) for v in args.pole.split(","))
    if not 0.0 < low < high:
        raise SystemExit(f"--pole must be LOW,HIGH with 0 < LOW < HIGH, not {args.pole}")
    return low, high


def evaluate_cartpole(model: Any, low: float, high: float, points: int = POLE_POINTS) -> float:
    """Share of ``points`` half-lengths evenly spaced over [low, high] at which the
    deterministic policy's episode succeeds (return >= 475); episode ``i`` starts from
    ``reset(seed=10_000 + i)``, so the score is deterministic."""
    from mentor.rl.gym_envs import TaskCartPole

    env = TaskCartPole()
    wins = 0
    for i, length in enumerate(np.linspace(low, high, points)):
        env.set_task(length)
        obs, _ = env.reset(seed=10_000 + i)
        done, info = False, {}
        while not done:
            action, _ = model.predict(obs, deterministic=True)
            obs, _, terminated, truncated, info = env.step(int(action))
            done = terminated or truncated
        wins += bool(info["is_success"])
    return wins / points


def task_box(args: argparse.Namespace) -> Box:
    """The teachers' task box: [0, 1] for GoalLine, ``--pole`` for CartPole."""
    if args.env == "cartpole":
        low, high = pole_box(args)
        return Box([low], [high])
    return Box([0.0], [1.0])


def make_model(args: argparse.Namespace, seed: int) -> tuple[Any, Any]:
    """The vector env and the PPO model of ``args.env``, torch on 1 thread."""
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    from mentor.rl.gym_envs import GoalLine, TaskCartPole
    from mentor.rl.gym_wrapper import TaskWrapper

    torch.set_num_threads(1)
    if args.env == "cartpole":
        venv = make_vec_env(TaskCartPole, n_envs=args.envs, seed=seed, wrapper_class=TaskWrapper)
        model = PPO("MlpPolicy", venv, seed=seed, device="cpu")  # Stable-Baselines3's defaults
        return venv, model
    venv = make_vec_env(
        GoalLine,
        n_envs=args.envs,
        seed=seed,
        env_kwargs={"length": args.length},
        wrapper_class=TaskWrapper,
    )
    model = PPO("MlpPolicy", venv, n_steps=128, batch_size=64, seed=seed, device="cpu")
    return venv, model


def score(model: Any, args: argparse.Namespace) -> float:
    """The environment's score of the deterministic policy."""
    if args.env == "cartpole":
        return evaluate_cartpole(model, *pole_box(args))
    return evaluate(model, args.length)


def run(teacher: str, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    from stable_baselines3.common.callbacks import BaseCallback, CallbackList

    from mentor.rl.gym_curriculum import TaskCurriculum
    from mentor.rl.gym_tasks import TaskSource
    from mentor.rl.sb3 import TaskCallback
    from mentor.teachers.taskspace import create_task_teacher

    tasks = create_task_teacher(
        {"name": teacher, "params": {"space": task_box(args).state_dict(), "seed": seed}}
    )
    venv, model = make_model(args, seed)
    curriculum = TaskCurriculum(
        TaskSource(tasks), model.get_env(), outcome="success", batch=args.batch
    )
    curve: list[float] = [score(model, args)]
    evaluating = [0.0]

    class Checkpoints(BaseCallback):
        def _on_step(self) -> bool:
            if self.num_timesteps % args.eval_every < args.envs:
                start = time.perf_counter()
                curve.append(score(self.model, args))
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


def settings(args: argparse.Namespace) -> list[Any]:
    """What a checkpointed run must share with this one to be reused."""
    if args.env == "cartpole":
        return [args.timesteps, args.eval_every, "cartpole", *pole_box(args), args.envs]
    return [args.timesteps, args.eval_every, args.length, args.envs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--timesteps", type=int, default=20_000)
    parser.add_argument("--eval-every", type=int, default=4_000)
    parser.add_argument("--length", type=int, default=16)
    parser.add_argument("--envs", type=int, default=4)
    parser.add_argument("--env", choices=("goalline", "cartpole"), default="goalline")
    parser.add_argument("--pole", default="0.02,0.5", help="CartPole half-length box LOW,HIGH")
    parser.add_argument(
        "--batch", type=int, default=1, help="TaskCurriculum's batch: episodes scheduled ahead"
    )
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
    suffix = (
        ("_cartpole" if args.env == "cartpole" else "")
        + ("_quick" if args.quick else "")
        + (f"_batch{args.batch}" if args.batch > 1 else "")
    )
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
                f"{name} seed {seed}: {100 * r['final']:.1f} % of {what(args)}, "
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
            "parameters": TEACHERS[name].replace("[0, 1]", box_text(args)),
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
        title=f"PPO on {env_text(args)}, {args.timesteps:,} timesteps, {args.seeds} seeds"
    )
    for column in (
        "teacher",
        f"success over all {what(args)} %",
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
            "env": args.env,
            "pole": pole_box(args) if args.env == "cartpole" else None,
            "envs": args.envs,
            "batch": args.batch,
            "elapsed_s": time.perf_counter() - start,
            "load_average": os.getloadavg(),
            "machine": platform.platform(),
            "rows": rows,
            "paired": paired,
        },
    )
    plot(rows, args, args.out / f"{out_name}.png")


def what(args: argparse.Namespace) -> str:
    """What the score counts."""
    return "pole lengths" if args.env == "cartpole" else "goals"


def box_text(args: argparse.Namespace) -> str:
    """The teachers' task box, as text."""
    if args.env == "cartpole":
        low, high = pole_box(args)
        return f"[{low:g}, {high:g}]"
    return "[0, 1]"


def env_text(args: argparse.Namespace) -> str:
    """The environment, as text."""
    if args.env == "cartpole":
        return f"CartPole-v1, half-length in {box_text(args)}"
    return f"GoalLine({args.length})"


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
    ax.set_ylabel(f"% of {what(args)} solved (deterministic policy)")
    ax.set_title(f"PPO on {env_text(args)}: {args.seeds} seeds, mean and 95 % CI")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
