"""GRPO in TRL on multi-digit addition: which prompts to train on, chosen by mentor's teachers.

A small causal transformer (GPT-2 architecture from a config, random weights, a character
tokenizer built here; nothing is downloaded) learns to add two numbers of ``d`` digits, ``d``
the difficulty level (1 to ``--levels``). The answer is written least significant digit first
and both operands are zero-padded to ``--levels`` digits (with 3 levels ``047+085=`` ->
``2310``): carries are computed in that order, and all prompts have one length, so none is
padded. Each seed:

1. supervised warm-up on level 1 only (``--warmup-steps`` steps of cross-entropy on the answer);
2. GRPO (``trl.GRPOTrainer``) on a pool with every level, each method from the same warm-up
   weights, for ``--steps`` optimiser steps of ``--prompts`` prompts x ``--generations``
   rollouts; the reward is exact match (1 or 0) or, with ``--reward partial``, the share of
   the answer's digit positions that are right (:func:`digit_credit`);
3. held-out problems (not in the pool) at every level, greedy decoding, exact match (whatever
   the reward), every ``--eval-every`` steps. With ``--all-facts`` all 100 single-digit facts
   are trained on (warm-up and pool) and only levels 2 and up are held out: the overall
   accuracy is then the mean of those levels, and level 1 is reported on its training facts.

Methods (``--methods``):

- ``uniform``: TRL's own ``RepeatSampler`` (shuffled pool);
- ``filter_before``: :class:`~mentor.teachers.OnlineDifficultyFilter` over prompts (pass rate
  estimated from the prompt's earlier rollouts, before generating; Bae et al. 2025);
- ``filter_after``: balanced filtering after rollouts: groups whose mean reward is outside
  [0.2, 0.8] or whose rewards all agree are dropped and refilled (Bae et al. 2025), at most 3
  extra generation batches;
- ``dapo``: DAPO dynamic sampling (drop groups whose rewards all agree, refill; at most 3 extra
  generation batches; Yu et al. 2025);
- ``dump``, ``sec``, ``tscl``, ``learnability``: teachers over the levels (each prompt's level
  drawn from the teacher, the prompt uniformly within it), mentor defaults except a window of
  64 outcomes for learnability;
- ``adarft``: AdaRFT over prompts, difficulty = level.

Reported: held-out accuracy per level and overall (mean of levels), the rollouts and optimiser
steps each method needs to reach the best overall accuracy of uniform on the same seed, and the
teacher's time per optimiser step next to the step time.

    nice -n 10 .venv/bin/python benchmarks/rl_addition.py --seeds 5 --steps 150 --jobs 2

``--device`` (``cpu``, the default, which every result so far used; ``cuda``; or ``auto``:
``cuda`` when torch sees one, else ``cpu``) places the warm-up, the GRPO runs (TRL's
``use_cpu`` is set only for ``cpu``; on ``cuda`` the trainer puts the model on the GPU) and
the held-out evaluation on that device. The warm-up weights are saved from and loaded onto
it; on ``cpu`` every computation is the one the script made before the flag existed, so the
same seed gives the same figures.

    .venv/bin/python benchmarks/rl_addition.py --device cuda --seeds 5 --steps 500 --jobs 4
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
METHODS = (
    "uniform",
    "filter_before",
    "filter_after",
    "dapo",
    "dump",
    "sec",
    "tscl",
    "learnability",
    "adarft",
)
ALPHABET = "0123456789+="


# ------------------------------------------------------------------ the task
def problems(level: int, count: int, rng: np.random.Generator, exclude: set[str]) -> list[tuple]:
    """``count`` distinct problems ``(a, b)`` with ``level``-digit operands, not in ``exclude``."""
    low = 0 if level == 1 else 10 ** (level - 1)
    high = 10**level
    possible = (high - low) ** 2
    out: list[tuple] = []
    seen = set(exclude)
    while len(out) < min(count, possible - len(exclude)):
        a, b = (int(x) for x in rng.integers(low, high, size=2))
        key = f"{a}+{b}="
        if key not in seen:
            seen.add(key)
            out.append((a, b))
    return out


def answer(a: int, b: int, levels: int) -> str:
    """The sum, ``levels + 1`` digits with leading zeros, least significant digit first."""
    return str(a + b).zfill(levels + 1)[::-1]


def prompt(a: int, b: int, levels: int) -> str:
    """``a+b=`` with both operands zero-padded to ``levels`` digits: every prompt has the same
    length, so no prompt is ever padded (GPT-2's absolute positions stay aligned)."""
    return f"{a:0{levels}d}+{b:0{levels}d}="


def make_data(
    seed: int, levels: int, pool: int, test: int, all_facts: bool = False
) -> tuple[list[dict], list[dict]]:
    """Training pool and held-out set, disjoint; level 1 has 100 problems in all, so its
    held-out problems are drawn first and the pool gets the rest.

    With ``all_facts``, all 100 single-digit facts are in the pool (and so in the warm-up)
    and only levels 2 and up have held-out problems; level 1 is then evaluated on those
    100 training facts, and is left out of the overall accuracy (:func:`held_out_overall`).
    """
    rng = np.random.default_rng([seed, 7])
    train, held = [], []
    for level in range(1, levels + 1):
        if all_facts and level == 1:
            facts = [(a, b) for a in range(10) for b in range(10)]
            held += [
                {"prompt": prompt(a, b, levels), "answer": answer(a, b, levels), "level": 1}
                for a, b in facts
            ]
            for a, b in facts:
                train.append(
                    {
                        "prompt": prompt(a, b, levels),
                        "answer": answer(a, b, levels),
                        "level": 1,
                        "prompt_id": len(train),
                    }
                )
            continue
        test_set = problems(level, test, rng, set())
        taken = {f"{a}+{b}=" for a, b in test_set}
        pool_set = problems(level, pool, rng, taken)
        held += [
            {"prompt": prompt(a, b, levels), "answer": answer(a, b, levels), "level": level}
            for a, b in test_set
        ]
        for a, b in pool_set:
            train.append(
                {
                    "prompt": prompt(a, b, levels),
                    "answer": answer(a, b, levels),
                    "level": level,
                    "prompt_id": len(train),
                }
            )
    return train, held


def correct(prompts, completions, answer, **kwargs):  # noqa: A002 - TRL passes columns by name
    """Reward 1 for the exact (reversed) sum, else 0."""
    return [float(c.strip() == a) for c, a in zip(completions, answer, strict=True)]


def digit_credit(completion: str, target: str) -> float:
    """The share of the answer's digit positions that the completion gets right.

    The answer is the sum written least significant digit first with a fixed number of
    digits (:func:`answer`), so position ``i`` of both strings is the digit of ``10**i``:
    they are compared position by position, and the count of equal positions is divided by
    the longer of the two lengths. A missing digit counts as wrong, and so does every
    character written past the answer's length (dividing by the longer length), so the
    reward is 1 exactly when the exact-match reward of :func:`correct` is 1, and a
    completion that stops early or runs on cannot score more than the digits it has right.
    Why per digit: with a binary reward, a model that cannot yet add two-digit numbers
    scores 0 on every rollout of a level-2 prompt, and GRPO's advantage, each reward minus
    its group's mean (scaled by the group's standard deviation; Shao et al. 2024,
    DeepSeekMath, section 4.1.2), is then 0 for the whole group; per digit, the rollouts
    that get the units digit or the carry right score more than those that do not.

    >>> digit_credit("2310", "2300"), digit_credit("23", "2300"), digit_credit("23000", "2300")
    (0.75, 0.5, 0.8)
    """
    completion = completion.strip()
    right = sum(c == t for c, t in zip(completion, target, strict=False))
    return right / max(len(completion), len(target), 1)


def digits_right(prompts, completions, answer, **kwargs):  # noqa: A002 - TRL passes columns by name
    """Partial credit: :func:`digit_credit` of each completion against its reversed sum."""
    return [digit_credit(c, a) for c, a in zip(completions, answer, strict=True)]


REWARDS = {"exact": correct, "partial": digits_right}


# ------------------------------------------------------------------ model
def resolve_device(device: str) -> str:
    """``"cpu"`` or ``"cuda"``: ``auto`` is ``cuda`` when torch sees a CUDA device."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def build(seed: int, args):
    from mentor.rl._toy import char_tokenizer, tiny_causal_lm

    tokenizer = char_tokenizer(ALPHABET)
    tokenizer.padding_side = "left"
    model = tiny_causal_lm(
        tokenizer, layers=args.layers, width=args.width, heads=args.heads, context=32, seed=seed
    )
    return tokenizer, model


def warm_up(seed: int, train: list[dict], args, path: Path) -> None:
    """Cross-entropy on the answers (and end token) of level-1 problems; saves the weights."""
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    tokenizer, model = build(seed, args)
    device = torch.device(args.device)
    model.to(device)
    rows = [r for r in train if r["level"] == 1]
    encoded = []
    for r in rows:
        p = tokenizer(r["prompt"])["input_ids"]
        a = tokenizer(r["answer"])["input_ids"] + [tokenizer.eos_token_id]
        encoded.append((p + a, [-100] * len(p) + a))
    opt = torch.optim.AdamW(model.parameters(), lr=args.warmup_lr)
    rng = np.random.default_rng([seed, 3])
    model.train()
    for _ in range(args.warmup_steps):
        pick = rng.integers(len(rows), size=64)
        ids = [encoded[i][0] for i in pick.tolist()]
        labels = [encoded[i][1] for i in pick.tolist()]
        width = max(map(len, ids))
        x = torch.tensor([s + [tokenizer.pad_token_id] * (width - len(s)) for s in ids])
        y = torch.tensor([s + [-100] * (width - len(s)) for s in labels])
        mask = torch.arange(width)[None, :] < torch.tensor([len(s) for s in ids])[:, None]
        x, y, mask = x.to(device), y.to(device), mask.to(device)
        loss = model(input_ids=x, attention_mask=mask.long(), labels=y).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    torch.save(model.state_dict(), path)


def warm_job(job: tuple) -> None:
    seed, args, path = job
    train, _ = make_data(seed, args.levels, args.pool, args.test, args.all_facts)
    warm_up(seed, train, args, path)


def evaluate(model, tokenizer, held: list[dict], levels: int) -> list[float]:
    """Greedy held-out accuracy per level."""
    import torch

    was = model.training
    model.eval()
    hits = np.zeros(levels)
    counts = np.zeros(levels)
    with torch.no_grad():
        for start in range(0, len(held), 256):
            batch = held[start : start + 256]
            enc = tokenizer([r["prompt"] for r in batch], return_tensors="pt", padding=True)
            enc = {key: value.to(model.device) for key, value in enc.items()}
            out = model.generate(
                **enc,
                max_new_tokens=args_global.max_len,
                do_sample=False,
                pad_token_id=tokenizer.pad_token_id,
                eos_token_id=tokenizer.eos_token_id,
            )
            texts = tokenizer.batch_decode(
                out[:, enc["input_ids"].shape[1] :], skip_special_tokens=True
            )
            for r, t in zip(batch, texts, strict=True):
                hits[r["level"] - 1] += t.strip() == r["answer"]
                counts[r["level"] - 1] += 1
    model.train(was)
    return (hits / np.maximum(counts, 1)).tolist()


args_global = None


# ------------------------------------------------------------------ one run
def teacher_for(method: str, seed: int, train: list[dict]):
    from mentor.teachers import (
        DUMP,
        SEC,
        TSCL,
        AdaRFT,
        Learnability,
        OnlineDifficultyFilter,
    )

    if method == "dump":
        return DUMP(seed=seed), "level"
    if method == "sec":
        return SEC(seed=seed), "level"
    if method == "tscl":
        return TSCL(seed=seed), "level"
    if method == "learnability":
        return Learnability(window=64, seed=seed), "level"
    if method == "filter_before":
        return OnlineDifficultyFilter(seed=seed), None
    if method == "adarft":
        table = {r["prompt_id"]: float(r["level"]) for r in train}
        return AdaRFT(difficulty=table, seed=seed), None
    return None, None


def run_one(job: tuple) -> dict:
    """One (method, seed) run; an exception is returned as the run's ``error``."""
    try:
        return _run_one(job)
    except Exception as error:  # noqa: BLE001 - reported in the table, the others go on
        import traceback

        return {
            "method": job[0],
            "seed": job[1],
            "error": traceback.format_exc(),
            "message": repr(error),
        }


def _run_one(job: tuple) -> dict:
    method, seed, args, weights = job
    global args_global
    args_global = args
    import logging
    import warnings

    import torch

    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    torch.set_num_threads(1)
    from datasets import Dataset
    from transformers import TrainerCallback
    from transformers.utils import logging as hf_logging
    from trl import GRPOConfig

    from mentor.rl.trl_trainer import DynamicSampling, MentorGRPOTrainer

    hf_logging.set_verbosity_error()
    train, held = make_data(seed, args.levels, args.pool, args.test, args.all_facts)
    tokenizer, model = build(seed, args)
    model.load_state_dict(torch.load(weights, map_location=args.device))
    teacher, arm_column = teacher_for(method, seed, train)
    dynamic = None
    if method == "dapo":
        dynamic = DynamicSampling(max_extra_batches=3)
    elif method == "filter_after":
        dynamic = DynamicSampling(max_extra_batches=3, low=0.2, high=0.8)
    config = GRPOConfig(
        output_dir=tempfile.mkdtemp(prefix="rl_addition_"),
        per_device_train_batch_size=args.prompts * args.generations,
        num_generations=args.generations,
        max_completion_length=args.max_len,
        max_steps=args.steps,
        learning_rate=args.lr,
        beta=0.0,
        temperature=1.0,
        report_to=[],
        use_cpu=args.device == "cpu",
        seed=seed,
        save_strategy="no",
        logging_steps=10**9,
        disable_tqdm=True,
    )
    curve: list[dict] = []

    def point(step: int, rollouts: int, model) -> dict:
        accuracy = evaluate(model, tokenizer, held, args.levels)
        return {
            "step": step,
            "rollouts": rollouts,
            "accuracy": accuracy,
            "overall": held_out_overall(accuracy, args.all_facts),
        }

    step_seconds = [0.0]
    clock = [0.0]

    class Eval(TrainerCallback):
        def on_step_begin(self, _args, state, control, **kw):
            clock[0] = time.perf_counter()

        def on_step_end(self, _args, state, control, model=None, **kw):
            step_seconds[0] += time.perf_counter() - clock[0]
            if state.global_step % args.eval_every == 0 or state.global_step == args.steps:
                curve.append(point(state.global_step, trainer.rollouts_, model))

    trainer = MentorGRPOTrainer(
        model=model,
        reward_funcs=REWARDS[args.reward],
        args=config,
        train_dataset=Dataset.from_list(train),
        processing_class=tokenizer,
        teacher=teacher,
        arm_column=arm_column,
        dynamic_sampling=dynamic,
        callbacks=[Eval()],
    )
    curve.append(point(0, 0, model))
    start = time.perf_counter()
    trainer.train()
    wall = time.perf_counter() - start
    timing = trainer.draws.timing_ if trainer.draws is not None else None
    return {
        "method": method,
        "seed": seed,
        "curve": curve,
        "train_seconds": wall,
        "step_time": step_seconds[0] / args.steps,
        "teacher_seconds": None if timing is None else timing["select"] + timing["observe"],
        "rollouts": trainer.rollouts_,
        "generation_batches": trainer.generation_batches_,
        # TRL's metrics over the whole run (one log, at its end): the mean reward of the
        # rollouts and the share of groups whose rewards all agree (no GRPO signal)
        "train_metrics": {
            key: trainer.state.log_history[-1].get(key)
            for key in ("reward", "frac_reward_zero_std")
            if trainer.state.log_history
        },
    }


# ------------------------------------------------------------------ summary
def overall(point: dict) -> float:
    """The mean accuracy over the held-out levels (stored with each point since
    ``--all-facts``; the mean of all levels in earlier results files)."""
    return float(point.get("overall", np.mean(point["accuracy"])))


def held_out_overall(accuracy: list[float], all_facts: bool) -> float:
    """Mean accuracy of the levels with held-out problems (all but level 1 with
    ``all_facts``, whose level-1 problems are training facts)."""
    return float(np.mean(accuracy[1:] if all_facts and len(accuracy) > 1 else accuracy))


def ci95(values: list[float]) -> tuple[float, float]:
    from scipy import stats

    v = np.asarray(values, dtype=float)
    if v.size < 2:
        return float(v.mean()), 0.0
    half = stats.t.ppf(0.975, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size)
    return float(v.mean()), float(half)


def median_interval(values: list[float], coverage: float = 0.95) -> dict:
    """The median of ``values`` and a distribution-free interval for it from order statistics.

    With ``n`` values sorted, ``[x_(j), x_(n+1-j)]`` contains the population median with
    probability ``1 - 2 P(B <= j - 1)``, ``B ~ Binomial(n, 1/2)`` (the sign-test interval, e.g.
    Conover, *Practical Nonparametric Statistics*, 3rd ed., section 3.2). The largest ``j``
    whose interval reaches ``coverage`` is used; with ``n <= 5`` none does, and the widest
    interval ``[x_(1), x_(n)]`` is given with its own coverage (``n = 5``: 1 - 2/32 = 0.9375).
    ``inf`` (a seed that never reached the target) is a value like any other; it is written
    as ``None`` (no finite bound)."""
    from scipy import stats

    x = np.sort(np.asarray(values, dtype=float))
    n = x.size
    j = 1
    while j + 1 <= n // 2 and 1 - 2 * stats.binom.cdf(j, n, 0.5) >= coverage:
        j += 1
    reached = 1 - 2 * stats.binom.cdf(j - 1, n, 0.5)

    def finite(v: float) -> float | None:
        return float(v) if np.isfinite(v) else None

    return {
        "median": finite(np.median(x)),
        "low": finite(x[j - 1]),
        "high": finite(x[n - j]),
        "coverage": float(reached),
        "n": int(n),
    }


def summarise(runs: list[dict], args) -> dict:
    by = {(r["method"], r["seed"]): r for r in runs}
    seeds = sorted({r["seed"] for r in runs})
    methods = [m for m in args.methods if any(r["method"] == m for r in runs)]
    table = {}
    for m in methods:
        reach_rollouts, reach_steps, reached = [], [], 0
        censored_rollouts: list[float] = []  # every seed, inf where it never reached
        finals, final_overall, deltas = [], [], []
        overheads = []
        for s in seeds:
            run, base = by.get((m, s)), by.get(("uniform", s))
            if run is None:
                continue
            finals.append(run["curve"][-1]["accuracy"])
            final_overall.append(overall(run["curve"][-1]))
            if run["teacher_seconds"] is not None and run["step_time"]:
                overheads.append(run["teacher_seconds"] / args.steps / run["step_time"])
            if base is None:
                continue
            deltas.append(overall(run["curve"][-1]) - overall(base["curve"][-1]))
            best = max((p for p in base["curve"] if p["step"] > 0), key=overall)
            target = overall(best)
            hit = next((p for p in run["curve"] if p["step"] > 0 and overall(p) >= target), None)
            if best["rollouts"] > 0:
                censored_rollouts.append(
                    math.inf if hit is None else hit["rollouts"] / best["rollouts"]
                )
            if hit is not None and best["rollouts"] > 0:
                reached += 1
                reach_rollouts.append(hit["rollouts"] / best["rollouts"])
                reach_steps.append(hit["step"] / best["step"])
        finals = np.asarray(finals)
        table[m] = {
            "seeds": len(finals),
            "final_overall": ci95(final_overall),
            "final_per_level": [ci95(finals[:, j].tolist()) for j in range(finals.shape[1])],
            "delta_vs_uniform": ci95(deltas) if deltas else None,
            "reached_uniform_best": reached,
            "rollouts_ratio_median": float(np.median(reach_rollouts)) if reach_rollouts else None,
            "steps_ratio_median": float(np.median(reach_steps)) if reach_steps else None,
            "rollouts_ratio_all_seeds": median_interval(censored_rollouts)
            if censored_rollouts
            else None,
            "teacher_overhead_fraction": float(np.mean(overheads)) if overheads else None,
            "step_time": float(
                np.mean(
                    [
                        by[(m, s)]["step_time"]
                        for s in seeds
                        if (m, s) in by and by[(m, s)]["step_time"]
                    ]
                )
            ),
            "rollouts_per_run": float(
                np.mean([by[(m, s)]["rollouts"] for s in seeds if (m, s) in by])
            ),
        }
    return table


def interval_text(interval: dict | None) -> str:
    """``median [low, high] (coverage)`` of :func:`median_interval`; a bound that is not
    finite (a seed never reached the target) is written as never."""
    if interval is None:
        return "-"

    def text(v: float | None) -> str:
        return "never" if v is None else f"{v:.2f}"

    return (
        f"{text(interval['median'])} [{text(interval['low'])}, {text(interval['high'])}] "
        f"({100 * interval['coverage']:.1f} %)"
    )


def report(table: dict, args) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(
        title=f"GRPO on addition, {args.steps} steps x {args.prompts} prompts x "
        f"{args.generations} rollouts, {getattr(args, 'reward', 'exact')} reward, "
        "held-out greedy exact-match accuracy, mean ± 95% CI"
    )
    t.add_column("method")
    t.add_column("seeds")
    t.add_column("overall")
    for j in range(args.levels):
        trained = j == 0 and getattr(args, "all_facts", False)
        t.add_column("L1 (training facts)" if trained else f"L{j + 1}")
    t.add_column("Δ overall vs uniform (paired)")
    t.add_column("reached uniform best")
    t.add_column("rollouts ×uniform")
    t.add_column("same, all seeds: median [interval, coverage]")
    t.add_column("steps ×uniform")
    t.add_column("rollouts/run")
    t.add_column("teacher % of step")
    for m, row in table.items():

        def fmt(pair):
            mean, half = pair
            return f"{mean:.3f} ± {half:.3f}"

        t.add_row(
            m,
            str(row["seeds"]),
            fmt(row["final_overall"]),
            *[fmt(p) for p in row["final_per_level"]],
            "-" if row.get("delta_vs_uniform") is None else fmt(row["delta_vs_uniform"]),
            f"{row['reached_uniform_best']}/{row['seeds']}",
            "-" if row["rollouts_ratio_median"] is None else f"{row['rollouts_ratio_median']:.2f}",
            interval_text(row.get("rollouts_ratio_all_seeds")),
            "-" if row["steps_ratio_median"] is None else f"{row['steps_ratio_median']:.2f}",
            f"{row['rollouts_per_run']:.0f}",
            "-"
            if row["teacher_overhead_fraction"] is None
            else f"{100 * row['teacher_overhead_fraction']:.2f}",
        )
    Console(width=220).print(t)


def plot(runs: list[dict], args, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for m in args.methods:
        mine = [r for r in runs if r["method"] == m]
        if not mine:
            continue
        steps = [p["step"] for p in mine[0]["curve"]]
        acc = np.array([[overall(p) for p in r["curve"]] for r in mine])
        roll = np.array([[p["rollouts"] for p in r["curve"]] for r in mine]).mean(axis=0)
        axes[0].plot(steps, acc.mean(axis=0), label=m)
        axes[1].plot(roll, acc.mean(axis=0), label=m)
    axes[0].set_xlabel("optimiser step")
    axes[1].set_xlabel("rollouts generated")
    for ax in axes:
        ax.set_ylabel("held-out accuracy (mean of levels)")
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=8)
    seeds = len({r["seed"] for r in runs})
    fig.suptitle(f"GRPO on {args.levels}-level addition, mean of {seeds} seeds")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def resummarise(path: Path) -> None:
    """Table and plot again from a results file (runs kept as they were)."""
    from mentor._io import write_json

    data = json.loads(path.read_text())
    args = argparse.Namespace(**data["caps"])
    data["summary"] = summarise(data["runs"], args)
    report(data["summary"], args)
    write_json(path, data)
    plot(data["runs"], args, path.with_suffix(".png"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--levels", type=int, default=3)
    parser.add_argument("--pool", type=int, default=300, help="training problems per level")
    parser.add_argument("--test", type=int, default=40, help="held-out problems per level")
    parser.add_argument("--prompts", type=int, default=8)
    parser.add_argument("--generations", type=int, default=8)
    parser.add_argument("--max-len", type=int, default=None, help="default: levels + 2")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument(
        "--all-facts",
        action="store_true",
        help="train on all 100 single-digit facts; hold out levels >= 2 only",
    )
    parser.add_argument(
        "--reward",
        choices=sorted(REWARDS),
        default="exact",
        help="GRPO reward: exact match (1 or 0) or the share of digits right; "
        "held-out accuracy is exact match either way",
    )
    parser.add_argument("--warmup-steps", type=int, default=500)
    parser.add_argument("--warmup-lr", type=float, default=3e-3)
    parser.add_argument("--eval-every", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="cpu",
        help="where warm-up, GRPO and evaluation run; auto: cuda if available (default cpu)",
    )
    parser.add_argument("--name", default="rl_addition")
    parser.add_argument(
        "--summarise",
        metavar="JSON",
        help="re-read a results file, print its table and redraw its plot",
    )
    args = parser.parse_args(argv)
    if args.summarise:
        resummarise(Path(args.summarise))
        return
    args.methods = [m for m in args.methods.split(",") if m]
    unknown = sorted(set(args.methods) - set(METHODS))
    if unknown:
        parser.error(f"unknown methods {unknown}; choose from {', '.join(METHODS)}")
    if args.max_len is None:
        args.max_len = args.levels + 2
    args.device = resolve_device(args.device)
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            parser.error("--device cuda: torch sees no CUDA device")
    global args_global
    args_global = args

    import multiprocessing as mp

    from rich.progress import Progress

    from mentor._io import write_json

    RESULTS.mkdir(exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="rl_addition_w_"))
    weights = {}
    started = time.perf_counter()
    ctx = mp.get_context("spawn")
    with Progress() as progress, ctx.Pool(args.jobs) as pool:
        task = progress.add_task("warm-up", total=args.seeds)
        for seed in range(args.seeds):
            weights[seed] = workdir / f"warm{seed}.pt"
        for _ in pool.imap_unordered(warm_job, [(s, args, weights[s]) for s in weights]):
            progress.advance(task)
        jobs = [(m, s, args, weights[s]) for s in range(args.seeds) for m in args.methods]
        task = progress.add_task("GRPO runs", total=len(jobs))
        runs, failed = [], []
        if True:
            for result in pool.imap_unordered(run_one, jobs):
                progress.advance(task)
                if "error" in result:
                    failed.append(result)
                    progress.console.print(
                        f"{result['method']} seed {result['seed']} failed: {result['message']}"
                    )
                    continue
                runs.append(result)
                write_json(RESULTS / f"{args.name}.partial.json", {"runs": runs})
                progress.console.print(
                    f"{result['method']:>13} seed {result['seed']}: final "
                    f"{overall(result['curve'][-1]):.3f} in {result['train_seconds']:.0f} s"
                )
    table = summarise(runs, args)
    report(table, args)
    out = {
        "command": "python " + " ".join([os.path.relpath(__file__, Path.cwd()), *sys.argv[1:]]),
        "caps": {k: v for k, v in vars(args).items()},
        "wall_seconds": time.perf_counter() - started,
        "summary": table,
        "failed": failed,
        "runs": runs,
    }
    write_json(RESULTS / f"{args.name}.json", out)
    plot(runs, args, RESULTS / f"{args.name}.png")
    print(f"wrote {RESULTS / (args.name + '.json')} and .png in {out['wall_seconds']:.0f} s")


if __name__ == "__main__":
    main()
