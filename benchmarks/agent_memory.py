"""Experience memories and task curricula for a simulated agent (no LLM).

Usage:
    python benchmarks/agent_memory.py [--seeds 20] [--steps 240] [--quick]

The agent and its world are :mod:`mentor.agents.sim`: 4 groups of 3 task families
(easy, medium, hard), each group with a latent strategy out of 6; the agent follows
the first retrieved item that recommends a strategy (probability 0.9, 0.7 for a raw
trajectory), avoids strategies that retrieved items warn against, and otherwise picks
at random. Outcomes are judged by ground truth (:class:`~mentor.agents.CheckerJudge`).
Items are extracted by :class:`~mentor.agents.sim.SimulatedExtractor` (paper-format
markdown, parsed by the real parser), stored in SQLite (in memory) by
:class:`~mentor.agents.MemoryStore`, retrieved with the hashing embedder.

Runs, each over the same seeds (world, tasks, agent and teacher seeded by the seed):

* memory policies, families drawn uniformly, retrieval top-1 (the paper's default) and
  top-3: ``none``; ``raw`` (successful trajectories kept whole, Synapse-style);
  ``success_only`` (distilled items from successes only, AWM-style); ``reasoningbank``
  (from successes and failures); ``reasoningbank+consolidation`` (merge near-identical
  items, retire items that hurt; :class:`~mentor.agents.Consolidation` defaults);
* curricula for ReasoningBank+consolidation (top-3): ``uniform``
  (:class:`~mentor.teachers.RandomTeacher`), ``tscl``, ``zpdes`` (families as items,
  one skill per group, levels as difficulty), all through ``select``/``observe``;
* MaTTS for ReasoningBank+consolidation (top-3, uniform): 1 attempt, parallel 3,
  sequential 3 attempts per task.

Reported per run, mean and 95 % Student-t interval over seeds: success over the
training tasks, success over the last quarter of them, and success on a post-test
(10 fresh tasks per family, memory frozen: retrieval without learning); items in memory
at the end, retired and merged items. Paired differences (same seeds) for the main
comparisons. Results go to ``benchmarks/results/agent_memory.{json,csv,png}``.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

import numpy as np

from mentor.agents import (
    CheckerJudge,
    Consolidation,
    ExperienceMemory,
    HashingEmbedder,
    MemoryStore,
    NoMemory,
    RawTrajectories,
    TaskPool,
    evaluate,
    run,
)
from mentor.agents.sim import SimulatedAgent, SimulatedExtractor, World, sim_check
from mentor.agents.student import MemoryStudent
from mentor.metrics.teaching import mean_ci
from mentor.teachers import TSCL, ZPDES, Learnability, RandomTeacher, TargetSuccess

RESULTS = Path(__file__).parent / "results"
POLICIES = ("none", "raw", "success_only", "reasoningbank", "reasoningbank+consolidation")


def make_memory(policy: str, world: World, k: int):
    if policy == "none":
        return NoMemory()
    store, embedder = MemoryStore().create(), HashingEmbedder()
    if policy == "raw":
        return ExperienceMemory(store, embedder, RawTrajectories(), k=k, failures=False)
    extractor = SimulatedExtractor(world)
    return ExperienceMemory(
        store,
        embedder,
        extractor,
        k=k,
        failures=policy != "success_only",
        consolidation=Consolidation() if policy.endswith("consolidation") else None,
    )


def make_teacher(name: str, world: World, seed: int):
    if name == "tscl":
        return TSCL(seed=seed)
    if name == "zpdes":
        return ZPDES(world.domain(), seed=seed)
    if name == "learnability":
        return Learnability(seed=seed)
    if name == "learnability+memory":
        return Learnability(estimate="model", seed=seed)
    if name == "target+memory":
        return TargetSuccess(seed=seed)
    return RandomTeacher(seed=seed)


def make_model(name: str, world: World, memory):
    """The memory read as a student model, for the curricula that select with it."""
    if not name.endswith("+memory"):
        return None
    return MemoryStudent(world.domain(), memory.store, memory.workspace, memory.agent)


def one_run(
    seed: int, steps: int, policy: str, k: int, curriculum: str, scaling: str, attempts: int
) -> dict:
    world = World(seed=seed)
    rng = np.random.default_rng(seed + 1000)
    pool = TaskPool(world.tasks(max(1, steps // len(world.families)), rng), rng)
    post = world.tasks(10, np.random.default_rng(seed + 3000))
    agent = SimulatedAgent(world, seed=seed + 2000)
    memory = make_memory(policy, world, k)
    judge = CheckerJudge(sim_check)
    curve = run(
        pool,
        agent,
        memory,
        judge,
        make_teacher(curriculum, world, seed),
        steps,
        scaling,
        attempts,
        model=make_model(curriculum, world, memory),
    )
    success = np.array([s.success for s in curve], dtype=float)
    return {
        "train": float(success.mean()),
        "last_quarter": float(success[-(steps // 4) :].mean()),
        "post": evaluate(post, agent, memory, judge),
        "items": len(memory.items()) if hasattr(memory, "items") else 0,
        "retired": sum(s.retired for s in curve),
        "merged": sum(s.merged for s in curve),
        "curve": success.tolist(),
    }


CURRICULA = ("uniform", "tscl", "zpdes", "learnability", "learnability+memory", "target+memory")


def configs(only: str = "all") -> list[dict]:
    best = "reasoningbank+consolidation"
    curricula = [
        dict(policy=best, k=3, curriculum=c, scaling="none", attempts=1) for c in CURRICULA
    ]
    if only == "curricula":
        return curricula
    rows = [
        dict(policy=p, k=k, curriculum="uniform", scaling="none", attempts=1)
        for k in (1, 3)
        for p in POLICIES
    ]
    rows += curricula[1:]
    rows += [
        dict(policy=best, k=3, curriculum="uniform", scaling=s, attempts=3)
        for s in ("parallel", "sequential")
    ]
    return rows


def label(c: dict) -> str:
    scaling = "" if c["scaling"] == "none" else f", {c['scaling']} x{c['attempts']}"
    return f"{c['policy']} (top-{c['k']}, {c['curriculum']}{scaling})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--steps", type=int, default=240)
    parser.add_argument("--quick", action="store_true", help="3 seeds, 120 steps")
    parser.add_argument(
        "--only",
        choices=("all", "curricula"),
        default="all",
        help="curricula: only the curriculum rows (ReasoningBank+consolidation, top-3)",
    )
    args = parser.parse_args()
    seeds, steps = (3, 120) if args.quick else (args.seeds, args.steps)
    start = time.perf_counter()
    table = []
    runs: dict[str, list[dict]] = {}
    for c in configs(args.only):
        name = label(c)
        runs[name] = [one_run(s, steps, **c) for s in range(seeds)]
        row = {"run": name, **c}
        for metric in ("train", "last_quarter", "post", "items", "retired", "merged"):
            mean, low, high = mean_ci(np.array([r[metric] for r in runs[name]]))
            row[metric] = {"mean": mean, "low": low, "high": high}
        table.append(row)
        print(
            f"{name:62s} train {row['train']['mean']:.3f} "
            f"[{row['train']['low']:.3f}, {row['train']['high']:.3f}]  post "
            f"{row['post']['mean']:.3f} [{row['post']['low']:.3f}, {row['post']['high']:.3f}]"
            f"  items {row['items']['mean']:.0f}",
            flush=True,
        )

    def paired(a: str, b: str, metric: str = "post") -> dict:
        diff = np.array([x[metric] - y[metric] for x, y in zip(runs[a], runs[b], strict=True)])
        mean, low, high = mean_ci(diff)
        return {"a": a, "b": b, "metric": metric, "mean": mean, "low": low, "high": high}

    cons = "reasoningbank+consolidation"
    comparisons = []
    if args.only == "all":
        for k in (1, 3):
            base = dict(k=k, curriculum="uniform", scaling="none", attempts=1)
            for a, b in (
                (cons, "reasoningbank"),
                ("reasoningbank", "success_only"),
                ("success_only", "raw"),
                ("reasoningbank", "none"),
            ):
                comparisons.append(
                    paired(label(dict(policy=a, **base)), label(dict(policy=b, **base)))
                )
    uniform = label(dict(policy=cons, k=3, curriculum="uniform", scaling="none", attempts=1))
    for other in CURRICULA[1:]:
        for metric in ("post", "train"):
            comparisons.append(
                paired(
                    label(dict(policy=cons, k=3, curriculum=other, scaling="none", attempts=1)),
                    uniform,
                    metric,
                )
            )
    # what the memory model adds over the same teacher on its own outcome counts
    comparisons.append(
        paired(
            label(
                dict(policy=cons, k=3, curriculum="learnability+memory", scaling="none", attempts=1)
            ),
            label(dict(policy=cons, k=3, curriculum="learnability", scaling="none", attempts=1)),
        )
    )
    if args.only == "all":
        for s in ("parallel", "sequential"):
            comparisons.append(
                paired(
                    label(dict(policy=cons, k=3, curriculum="uniform", scaling=s, attempts=3)),
                    uniform,
                )
            )
    print("\npaired differences (a - b), mean [95 % CI]:")
    for c in comparisons:
        print(
            f"  {c['metric']:5s} {c['a']}\n      - {c['b']}: "
            f"{c['mean']:+.3f} [{c['low']:+.3f}, {c['high']:+.3f}]"
        )
    seconds = time.perf_counter() - start
    print(f"\n{seeds} seeds, {steps} steps, {seconds:.0f} s")

    RESULTS.mkdir(exist_ok=True)
    stem = (
        "agent_memory"
        + ("_curricula" if args.only == "curricula" else "")
        + ("_quick" if args.quick else "")
    )
    payload = {
        "seeds": seeds,
        "steps": steps,
        "seconds": seconds,
        "table": table,
        "paired": comparisons,
    }
    tmp = RESULTS / f"{stem}.json.tmp"
    tmp.write_text(json.dumps(payload, indent=1))
    tmp.replace(RESULTS / f"{stem}.json")
    tmp = RESULTS / f"{stem}.csv.tmp"
    with open(tmp, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["run", "metric", "mean", "low", "high"])
        for row in table:
            for metric in ("train", "last_quarter", "post", "items", "retired", "merged"):
                v = row[metric]
                writer.writerow(
                    [row["run"], metric, f"{v['mean']:.4f}", f"{v['low']:.4f}", f"{v['high']:.4f}"]
                )
    tmp.replace(RESULTS / f"{stem}.csv")
    if args.only == "curricula":
        plot_curricula(runs, steps, RESULTS / f"{stem}.png")
    else:
        plot(runs, steps, RESULTS / f"{stem}.png")


def plot(runs: dict[str, list[dict]], steps: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    window = 20
    kernel = np.ones(window) / window
    for ax, k in zip(axes, (1, 3), strict=True):
        for policy in POLICIES:
            name = label(dict(policy=policy, k=k, curriculum="uniform", scaling="none", attempts=1))
            mean = np.mean([r["curve"] for r in runs[name]], axis=0)
            ax.plot(np.arange(window - 1, steps), np.convolve(mean, kernel, "valid"), label=policy)
        ax.set_title(f"retrieval top-{k}, uniform families")
        ax.set_xlabel("task")
    axes[0].set_ylabel(f"success (moving mean over {window} tasks, mean over seeds)")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path.with_suffix(".png.tmp.png"), dpi=110)
    Path(path.with_suffix(".png.tmp.png")).replace(path)


def plot_curricula(runs: dict[str, list[dict]], steps: int, path: Path) -> None:
    """Training success over tasks for each curriculum (ReasoningBank+consolidation,
    top-3), and the post-test with its 95 % interval."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    window = 20
    kernel = np.ones(window) / window
    names, posts = [], []
    for curriculum in CURRICULA:
        name = label(
            dict(
                policy="reasoningbank+consolidation",
                k=3,
                curriculum=curriculum,
                scaling="none",
                attempts=1,
            )
        )
        mean = np.mean([r["curve"] for r in runs[name]], axis=0)
        left.plot(
            np.arange(window - 1, steps), np.convolve(mean, kernel, "valid"), label=curriculum
        )
        names.append(curriculum)
        posts.append(mean_ci(np.array([r["post"] for r in runs[name]])))
    left.set_xlabel("task")
    left.set_ylabel(f"training success (moving mean over {window} tasks)")
    left.legend(fontsize=8)
    y = np.arange(len(names))
    means = np.array([p[0] for p in posts])
    errors = np.array([[p[0] - p[1] for p in posts], [p[2] - p[0] for p in posts]])
    right.errorbar(means, y, xerr=errors, fmt="o", capsize=3)
    right.set_yticks(y, names)
    right.set_xlabel("post-test success, all families (mean, 95 % CI)")
    fig.tight_layout()
    fig.savefig(path.with_suffix(".png.tmp.png"), dpi=110)
    Path(path.with_suffix(".png.tmp.png")).replace(path)


if __name__ == "__main__":
    main()
