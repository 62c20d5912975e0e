"""Time of one ``Engine.next`` with the service's default model and teacher on a 200-item course.

Usage:
    python benchmarks/next_latency.py [--steps 300] [--seed 0] [--horizon 1]
        [--teacher expected_gain|skill_frontier] [--name FILE]

A course of 67 skills x 3 levels (201 items, :func:`mentor.sim.make_course` with 8
layers) and ``BKT(grain="item", forgets=False)`` with ``ExpectedGain`` (its defaults,
reviews on, times in seconds a minute apart); one simulated student
(:class:`mentor.sim.StudentPopulation`) answers what the engine chooses. Prints the
mean, median, 99th percentile and maximum time of ``next`` over the run, the mean and
99th percentile of the CPU time the process spent in it (which other processes on a
shared machine hardly change), and the load average. Writes ``results/next_latency.json``.
``--teacher skill_frontier`` times :class:`mentor.teachers.SkillFrontier` over
:class:`mentor.students.SkillAbility` (both at their defaults) instead, into
``results/next_latency_skill_frontier.json``. ``--name`` writes ``results/FILE.json``
instead.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from mentor import Engine, Event
from mentor._io import write_json
from mentor.sim import StudentPopulation, make_course
from mentor.students import BKT, SkillAbility
from mentor.teachers import ExpectedGain, SkillFrontier


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--horizon", type=int, default=1, choices=(1, 2), help="ExpectedGain's look-ahead"
    )
    parser.add_argument(
        "--teacher", default="expected_gain", choices=("expected_gain", "skill_frontier")
    )
    parser.add_argument("--name", help="write results/NAME.json instead")
    args = parser.parse_args()
    course = make_course(n_skills=67, levels=3, layers=8, seed=args.seed)
    if args.teacher == "skill_frontier":
        engine = Engine(course, SkillAbility(course), SkillFrontier(course))
    else:
        teacher = ExpectedGain(course, horizon=args.horizon)
        engine = Engine(course, BKT(course, grain="item", forgets=False), teacher)
    student = StudentPopulation(course, 1, seed=args.seed)
    index = {item: n for n, item in enumerate(course.item_ids)}
    seconds, cpu = [], []
    for step in range(args.steps):
        t = 60.0 * step
        start, cpu_start = time.perf_counter(), time.process_time()
        item = engine.next("ada", t=t)[0]
        seconds.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
        outcome = float(student.attempt(np.array([index[item]]))[0])
        student.advance(1.0)
        engine.record([Event("ada", item, time=t, outcome=outcome)])
    ms = 1000 * np.array(seconds)
    figures = {
        "items": len(course.item_ids),
        "steps": args.steps,
        "horizon": args.horizon,
        "teacher": args.teacher,
        "mean_ms": float(ms.mean()),
        "median_ms": float(np.median(ms)),
        "p99_ms": float(np.quantile(ms, 0.99)),
        "max_ms": float(ms.max()),
        "cpu_mean_ms": float(1000 * np.mean(cpu)),
        "cpu_p99_ms": float(1000 * np.quantile(cpu, 0.99)),
        "load_average": os.getloadavg()[0],
    }
    print(
        f"{figures['items']} items, {args.teacher}, horizon {args.horizon}, {args.steps} calls: "
        f"mean {figures['mean_ms']:.2f} ms, "
        f"median {figures['median_ms']:.2f}, p99 {figures['p99_ms']:.2f}, "
        f"max {figures['max_ms']:.2f}; CPU time mean {figures['cpu_mean_ms']:.2f} ms, "
        f"p99 {figures['cpu_p99_ms']:.2f} (load average {figures['load_average']:.1f})"
    )
    suffix = "" if args.horizon == 1 else f"_horizon{args.horizon}"
    if args.teacher == "skill_frontier":
        suffix = "_skill_frontier"
    name = args.name or f"next_latency{suffix}"
    write_json(Path(__file__).parent / "results" / f"{name}.json", figures)


if __name__ == "__main__":
    main()
