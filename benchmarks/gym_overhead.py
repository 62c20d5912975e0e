"""The teacher's cost per episode against PPO's, measured in the same Stable-Baselines3 run.

Usage:
    python benchmarks/gym_overhead.py [--teachers uniform,region_lp,alp_gmm] [--seeds 3]
        [--timesteps 20000] [--length 16] [--slack 4] [--name gym_overhead] [--profile]
        [--env goalline|cartpole] [--pole 0.02,0.5] [--batch 1]

Each run is :mod:`benchmarks.gym_curriculum`'s (PPO with Stable-Baselines3's defaults except
``n_steps`` 128 and ``batch_size`` 64, 4 :class:`~mentor.rl.gym_envs.GoalLine` environments
in a ``DummyVecEnv``, each in :class:`~mentor.rl.gym_wrapper.TaskWrapper`, the teacher in a
:class:`~mentor.rl.gym_curriculum.TaskCurriculum` driven by
:class:`~mentor.rl.sb3.TaskCallback`; torch on 1 thread; no evaluations during training).
Per run it records:

* ``curriculum_s``: :attr:`TaskCurriculum.seconds_`, everything the curriculum does in the
  main process (the teacher's ``sample`` and ``observe``, reading the infos, handing the
  next tasks to the environments; a step in which no episode ended is recognised before the
  clocks start and is not counted: well under a microsecond, less than a CPU-clock read);
* ``teacher_s``: the part of it spent in the teacher (:attr:`TaskSource.timing_`, draw plus
  observe);
* ``learn_s``: the wall time of ``model.learn`` (which includes ``curriculum_s``), and
  ``ppo_s = learn_s - curriculum_s``;
* per episode: ``curriculum_us``, ``teacher_us`` and ``ppo_us`` (seconds over finished
  episodes, in microseconds), the mean episode length in steps, and the overhead
  ``curriculum_s / learn_s`` (the share of training time, as ``gym_curriculum.py`` reports
  it);
* the same in CPU time: ``curriculum_cpu_s`` (:attr:`TaskCurriculum.cpu_seconds_`, the
  calling thread's CPU time, :func:`time.thread_time`, over the same spans), ``teacher_cpu_s``
  (``timing_``'s ``draw_cpu`` + ``observe_cpu``), ``learn_cpu_s`` (the process's CPU time,
  :func:`time.process_time`, over ``model.learn``; torch on 1 thread), ``ppo_cpu_s``, the
  per-episode ``curriculum_cpu_us``, ``teacher_cpu_us``, ``ppo_cpu_us`` and
  ``overhead_cpu = curriculum_cpu_s / learn_cpu_s``. Wall intervals of a few microseconds on
  a loaded machine include the time the process was descheduled; CPU time does not, so the
  CPU share is the curriculum's own cost against PPO's;
* ``final``: the deterministic policy's success over every goal at the end (so that a
  change that should not alter the teacher's draws can be checked for identical results);

``--batch B`` builds the curriculum with ``TaskCurriculum(..., batch=B)``: each environment
scheduled ``B`` episodes ahead, outcomes handed to the teacher in batches (at the latest at
each rollout's end), one draw and one hand-over per refill instead of per episode.

And, outside PPO, the teacher alone: ``--alone`` episodes (2,000) in rounds of ``sample(B)``
then ``observe`` of ``B`` Bernoulli outcomes (success probability ``1 - task``; ``B`` is
``--batch``, 1 by default), timed as one loop (wall ``alone_us`` and CPU ``alone_cpu_us``).
``--profile`` adds the top functions of a :mod:`cProfile` of the curriculum's calls (one run
per teacher, not timed). Writes ``benchmarks/results/<name>.json``.

``--env cartpole`` runs :mod:`benchmarks.gym_curriculum`'s CartPole instead
(:class:`~mentor.rl.gym_envs.TaskCartPole`, CartPole-v1 with the pole's half-length as the
task, in the box ``--pole``; PPO at Stable-Baselines3's defaults, ``n_steps`` 2048 and
``batch_size`` 64; 4 environments in a ``DummyVecEnv``; success = return >= 475). The teachers
then see that box; the teacher alone observes success with probability ``1 - u``, ``u`` the
task's position in the box (0 at its low end); ``final`` is the CartPole score of
``gym_curriculum.py`` (success over 12 half-lengths); ``--length`` and ``--slack`` are unused.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import platform
import pstats
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table
from teachers import fmt, summary  # benchmarks/teachers.py

from mentor._io import write_json
from mentor.domain import Box

RESULTS = Path(__file__).resolve().parent / "results"


def make_teacher(name: str, seed: int, box: Box | None = None) -> Any:
    from mentor.teachers.taskspace import create_task_teacher

    space = (Box([0.0], [1.0]) if box is None else box).state_dict()
    return create_task_teacher({"name": name, "params": {"space": space, "seed": seed}})


def alone(
    name: str, seed: int, episodes: int, box: Box | None = None, batch: int = 1
) -> tuple[float, float]:
    """Microseconds per episode (wall, CPU) of ``sample(batch)`` + ``observe`` of those
    ``batch`` tasks by the teacher alone (on ``box``, default [0, 1]; success with
    probability 1 - the task's position in it)."""
    teacher = make_teacher(name, seed, box)
    rng = np.random.default_rng(seed + 1000)
    low, high = (0.0, 1.0) if box is None else (float(box.low[0]), float(box.high[0]))
    width = high - low
    rounds = max(1, episodes // batch)
    start, cpu = time.perf_counter(), time.thread_time()
    for _ in range(rounds):
        tasks = teacher.sample(batch)
        wins = rng.random(batch) < 1.0 - (tasks[:, 0] - low) / width
        teacher.observe(tasks, wins.astype(float).tolist())
    wall, cpu = time.perf_counter() - start, time.thread_time() - cpu
    return 1e6 * wall / (rounds * batch), 1e6 * cpu / (rounds * batch)


def run(
    name: str, seed: int, args: argparse.Namespace, profile: cProfile.Profile | None = None
) -> dict[str, Any]:
    """One PPO run with the curriculum timed (and profiled when ``profile`` is given)."""
    import torch
    from gym_curriculum import evaluate  # benchmarks/gym_curriculum.py
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    from mentor.rl.gym_curriculum import TaskCurriculum
    from mentor.rl.gym_envs import GoalLine
    from mentor.rl.gym_tasks import TaskSource
    from mentor.rl.gym_wrapper import TaskWrapper
    from mentor.rl.sb3 import TaskCallback

    torch.set_num_threads(1)
    if args.env == "cartpole":
        from gym_curriculum import evaluate_cartpole, make_model, pole_box, task_box

        venv, model = make_model(args, seed)  # PPO at Stable-Baselines3's defaults
        source = TaskSource(make_teacher(name, seed, task_box(args)))
    else:
        venv = make_vec_env(
            GoalLine,
            n_envs=args.envs,
            seed=seed,
            env_kwargs={"length": args.length, "slack": args.slack},
            wrapper_class=TaskWrapper,
        )
        model = PPO("MlpPolicy", venv, n_steps=128, batch_size=64, seed=seed, device="cpu")
        source = TaskSource(make_teacher(name, seed))
    curriculum = TaskCurriculum(source, model.get_env(), outcome="success", batch=args.batch)
    if profile is not None:
        update = curriculum.update
        curriculum.update = lambda infos: profile.runcall(update, infos)  # type: ignore[method-assign]
    start, cpu = time.perf_counter(), time.process_time()
    model.learn(args.timesteps, callback=TaskCallback(curriculum))
    learn, learn_cpu = time.perf_counter() - start, time.process_time() - cpu
    venv.close()
    episodes = curriculum.episodes_
    teacher = source.timing_["draw"] + source.timing_["observe"]
    teacher_cpu = source.timing_["draw_cpu"] + source.timing_["observe_cpu"]
    ppo = learn - curriculum.seconds_
    ppo_cpu = learn_cpu - curriculum.cpu_seconds_
    return {
        "seed": seed,
        "episodes": episodes,
        "steps_per_episode": args.timesteps / max(episodes, 1),
        "curriculum_s": curriculum.seconds_,
        "teacher_s": teacher,
        "learn_s": learn,
        "ppo_s": ppo,
        "curriculum_us": 1e6 * curriculum.seconds_ / episodes,
        "teacher_us": 1e6 * teacher / episodes,
        "ppo_us": 1e6 * ppo / episodes,
        "overhead": curriculum.seconds_ / learn,
        "curriculum_cpu_s": curriculum.cpu_seconds_,
        "teacher_cpu_s": teacher_cpu,
        "learn_cpu_s": learn_cpu,
        "ppo_cpu_s": ppo_cpu,
        "curriculum_cpu_us": 1e6 * curriculum.cpu_seconds_ / episodes,
        "teacher_cpu_us": 1e6 * teacher_cpu / episodes,
        "ppo_cpu_us": 1e6 * ppo_cpu / episodes,
        "overhead_cpu": curriculum.cpu_seconds_ / learn_cpu,
        "final": (
            evaluate_cartpole(model, *pole_box(args))
            if args.env == "cartpole"
            else evaluate(model, args.length)
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--teachers", default="uniform,region_lp,alp_gmm")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--timesteps", type=int, default=20_000)
    parser.add_argument("--length", type=int, default=16)
    parser.add_argument("--slack", type=int, default=4)
    parser.add_argument("--envs", type=int, default=4)
    parser.add_argument("--env", choices=("goalline", "cartpole"), default="goalline")
    parser.add_argument("--pole", default="0.02,0.5", help="CartPole half-length box LOW,HIGH")
    parser.add_argument("--alone", type=int, default=2_000, help="episodes of the teacher alone")
    parser.add_argument(
        "--batch", type=int, default=1, help="TaskCurriculum's batch: episodes scheduled ahead"
    )
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--name", default="gym_overhead")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    console = Console(width=160)
    rows: dict[str, Any] = {}
    started = time.perf_counter()
    for name in args.teachers.split(","):
        runs = []
        for seed in range(args.seeds):
            runs.append(run(name, seed, args))
            r = runs[-1]
            console.print(
                f"{name} seed {seed}: {r['episodes']} episodes, curriculum "
                f"{r['curriculum_us']:.0f} us/episode (teacher {r['teacher_us']:.0f}), PPO "
                f"{r['ppo_us']:.0f} us/episode, overhead {100 * r['overhead']:.2f} %; CPU: "
                f"curriculum {r['curriculum_cpu_us']:.0f} us/episode (teacher "
                f"{r['teacher_cpu_us']:.0f}), PPO {r['ppo_cpu_us']:.0f}, overhead "
                f"{100 * r['overhead_cpu']:.2f} %",
                highlight=False,
            )
        box = None
        if args.env == "cartpole":
            from gym_curriculum import task_box

            box = task_box(args)
        timed = [alone(name, seed, args.alone, box, args.batch) for seed in range(args.seeds)]
        alone_us = [wall for wall, _ in timed]
        alone_cpu_us = [cpu for _, cpu in timed]
        rows[name] = {
            "runs": runs,
            **{
                key: summary([r[key] for r in runs])
                for key in (
                    "curriculum_us",
                    "teacher_us",
                    "ppo_us",
                    "overhead",
                    "curriculum_cpu_us",
                    "teacher_cpu_us",
                    "ppo_cpu_us",
                    "overhead_cpu",
                )
            },
            "steps_per_episode": float(np.mean([r["steps_per_episode"] for r in runs])),
            "alone_us": summary(alone_us),
            "alone_us_runs": alone_us,
            "alone_cpu_us": summary(alone_cpu_us),
            "alone_cpu_us_runs": alone_cpu_us,
        }
        if args.profile:
            profile = cProfile.Profile()
            run(name, 0, args, profile)
            text = io.StringIO()
            pstats.Stats(profile, stream=text).sort_stats("tottime").print_stats(12)
            rows[name]["profile"] = text.getvalue()
            console.print(text.getvalue(), highlight=False)
    if args.env == "cartpole":
        from gym_curriculum import env_text

        env = env_text(args)
    else:
        env = f"GoalLine({args.length}, slack {args.slack})"
    table = Table(
        title=f"Teacher vs PPO per episode, {env}, {args.timesteps:,} timesteps, {args.seeds} seeds"
    )
    for column in (
        "teacher",
        "steps / episode",
        "curriculum us / episode",
        "of which teacher",
        "PPO us / episode",
        "overhead %",
        "CPU: curriculum us / episode",
        "of which teacher",
        "PPO us / episode",
        "overhead %",
        "teacher alone us / episode",
        "CPU",
    ):
        table.add_column(column, justify="left" if column == "teacher" else "right")
    for name, row in rows.items():
        table.add_row(
            name,
            f"{row['steps_per_episode']:.1f}",
            fmt(row["curriculum_us"], 1, 0),
            fmt(row["teacher_us"], 1, 0),
            fmt(row["ppo_us"], 1, 0),
            fmt(row["overhead"], 100, 2),
            fmt(row["curriculum_cpu_us"], 1, 0),
            fmt(row["teacher_cpu_us"], 1, 0),
            fmt(row["ppo_cpu_us"], 1, 0),
            fmt(row["overhead_cpu"], 100, 2),
            fmt(row["alone_us"], 1, 0),
            fmt(row["alone_cpu_us"], 1, 0),
        )
    console.print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(
        args.out / f"{args.name}.json",
        {
            "command": " ".join(["python", *sys.argv]),
            "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "elapsed_s": time.perf_counter() - started,
            "load_average": os.getloadavg(),
            "machine": platform.platform(),
            "rows": rows,
        },
    )


if __name__ == "__main__":
    main()
