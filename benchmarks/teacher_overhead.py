"""The teacher's time per GRPO step over arms: one ``select`` per slot against one
``select_slots`` per chunk.

The setting of ``benchmarks/rl_addition.py``: 3 difficulty levels of 300 prompts each, a chunk
of ``--prompts`` prompt slots per optimiser step (each slot's level chosen by the teacher) and
``--prompts`` x ``--generations`` binary rewards observed per step. Rewards are drawn here with
a fixed pass rate per level (``--rates``), so no model runs: what is timed is the teacher alone,
through :class:`mentor.rl._draws.TeacherDraws` as the TRL and verl adapters call it.

Two ways of filling a chunk, run on copies of the same teacher, interleaved repetition by
repetition (so that both see the same machine load):

- ``per_slot``: ``k`` calls of ``teacher.select(learner, levels, 1, t)``, the way
  ``TeacherDraws.draw`` filled a chunk before ``Teacher.select_slots`` (commit 331b29a);
- ``select_slots``: ``TeacherDraws.draw`` as it is now (one ``select_slots`` call).

Each repetition times ``--steps`` steps (draw, then observe the step's rewards); reported per
step: mean and 95 % t-interval over the repetitions, in milliseconds, and, given
``--step-ms`` (a GRPO step time measured elsewhere, e.g. by ``rl_addition.py``), as a
percentage of it.

    nice -n 10 .venv/bin/python benchmarks/teacher_overhead.py --step-ms 60

``--compare BEFORE AFTER`` instead summarises real runs: two comma-separated lists of
``rl_addition.py`` results files (runs of the code before and after a change), giving per
method the teacher's time per step, the GRPO step time and their ratio, each with a 95 %
t-interval over the runs.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np

from mentor.rl._draws import TeacherDraws
from mentor.teachers import DUMP, SEC, TSCL, Learnability

RESULTS = Path(__file__).resolve().parent / "results"
TEACHERS = {
    "dump": lambda: DUMP(seed=0),
    "sec": lambda: SEC(seed=0),
    "tscl": lambda: TSCL(seed=0),
    "learnability": lambda: Learnability(window=64, seed=0),
}


def per_slot_draw(draws: TeacherDraws, k: int, t: float) -> list[int]:
    """A chunk filled with one ``select`` per slot (the code before ``select_slots``)."""
    start = time.perf_counter()
    rows = []
    for _ in range(k):
        arm = draws.teacher.select(draws.learner, draws.arm_ids, 1, t)
        if arm:
            rows.append(draws._next_of(arm[0]))
    draws.timing_["select"] += time.perf_counter() - start
    return rows


def run(name: str, way: str, args, rates: np.ndarray, seed: int) -> float:
    """Seconds of teacher time per step over ``args.steps`` steps."""
    levels = len(rates)
    arms = [level for level in range(levels) for _ in range(args.pool)]
    draws = TeacherDraws(TEACHERS[name](), arms=arms, n=len(arms), seed=seed)
    rng = np.random.default_rng(seed)
    for step in range(args.steps):
        if way == "per_slot":
            rows = per_slot_draw(draws, args.prompts, float(step))
        else:
            rows = draws.draw(args.prompts, float(step))
        prompts = np.repeat(rows, args.generations)
        rewards = (rng.random(prompts.size) < rates[np.asarray(arms)[prompts]]).astype(float)
        draws.observe(prompts.tolist(), rewards, float(step))
    return (draws.timing_["select"] + draws.timing_["observe"]) / args.steps


def ci95(values: list[float]) -> tuple[float, float]:
    from scipy import stats

    v = np.asarray(values, dtype=float)
    half = stats.t.ppf(0.975, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size)
    return float(v.mean()), float(half)


def compare(before: str, after: str, name: str) -> None:
    """Teacher time per step, step time and their ratio in ``rl_addition.py`` results."""
    from mentor._io import write_json

    table: dict[str, dict] = {}
    for label, files in (("before", before), ("after", after)):
        for path in files.split(","):
            data = json.loads(Path(path).read_text())
            steps = data["caps"]["steps"]
            for run in data["runs"]:
                if run["teacher_seconds"] is None:
                    continue
                row = table.setdefault(run["method"], {}).setdefault(
                    label, {"teacher_ms": [], "step_ms": [], "percent": []}
                )
                per_step = run["teacher_seconds"] / steps
                row["teacher_ms"].append(1000 * per_step)
                row["step_ms"].append(1000 * run["step_time"])
                row["percent"].append(100 * per_step / run["step_time"])
    for method, row in table.items():
        parts = []
        for label in ("before", "after"):
            values = row.get(label)
            if values is None:
                continue
            values["summary"] = {key: ci95(v) for key, v in values.items()}
            s = values["summary"]
            parts.append(
                f"{label} {s['teacher_ms'][0]:.2f} ± {s['teacher_ms'][1]:.2f} ms of "
                f"{s['step_ms'][0]:.0f} ± {s['step_ms'][1]:.0f} ms = "
                f"{s['percent'][0]:.2f} ± {s['percent'][1]:.2f} % ({len(values['percent'])} runs)"
            )
        print(f"{method:>13}: " + "; ".join(parts))
    RESULTS.mkdir(exist_ok=True)
    write_json(RESULTS / f"{name}.json", {"before": before, "after": after, "methods": table})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--pool", type=int, default=300, help="prompts per level")
    parser.add_argument("--prompts", type=int, default=8, help="prompt slots per step")
    parser.add_argument("--generations", type=int, default=8)
    parser.add_argument("--rates", default="0.6,0.1,0.0", help="pass rate per level")
    parser.add_argument("--step-ms", type=float, default=None, help="GRPO step time to compare")
    parser.add_argument("--name", default="teacher_overhead")
    parser.add_argument("--teachers", default=",".join(TEACHERS), help="comma-separated")
    parser.add_argument(
        "--compare", nargs=2, metavar=("BEFORE", "AFTER"), help="rl_addition results files"
    )
    args = parser.parse_args(argv)
    if args.compare:
        compare(*args.compare, args.name)
        return
    rates = np.array([float(x) for x in args.rates.split(",")])
    from mentor._io import write_json

    table: dict[str, dict] = {}
    for name in args.teachers.split(","):
        if name not in TEACHERS:
            parser.error(f"unknown teacher {name!r}; choose from {', '.join(TEACHERS)}")
        seconds: dict[str, list[float]] = {"per_slot": [], "select_slots": []}
        for repeat in range(args.repeats):
            order = ("per_slot", "select_slots") if repeat % 2 else ("select_slots", "per_slot")
            for way in order:
                seconds[way].append(run(name, way, args, rates, seed=repeat))
        row = {}
        for way, values in seconds.items():
            ms = [1000 * v for v in values]
            mean, half = ci95(ms)
            row[way] = {
                "ms_per_step": [mean, half],
                "median_ms": float(np.median(ms)),
                "percent_of_step": None
                if args.step_ms is None
                else [100 * mean / args.step_ms, 100 * half / args.step_ms],
                "runs_ms": ms,
            }
        ratio = np.array(seconds["select_slots"]) / np.array(seconds["per_slot"])
        row["ratio"] = list(ci95(ratio.tolist()))
        table[name] = row
        line = (
            f"{name:>13}: per slot {row['per_slot']['ms_per_step'][0]:.3f} "
            f"± {row['per_slot']['ms_per_step'][1]:.3f} ms/step, select_slots "
            f"{row['select_slots']['ms_per_step'][0]:.3f} "
            f"± {row['select_slots']['ms_per_step'][1]:.3f} ms/step "
            f"(x{row['ratio'][0]:.2f} ± {row['ratio'][1]:.2f})"
        )
        if args.step_ms is not None:
            line += (
                f"; {row['per_slot']['percent_of_step'][0]:.2f} % -> "
                f"{row['select_slots']['percent_of_step'][0]:.2f} % of a "
                f"{args.step_ms:.0f} ms step"
            )
        print(line)
    RESULTS.mkdir(exist_ok=True)
    write_json(RESULTS / f"{args.name}.json", {"caps": vars(args), "summary": table})


if __name__ == "__main__":
    main()
