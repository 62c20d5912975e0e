"""Curricula for image classification: vanilla training against easy-to-hard,
anti-, random and cyclical curricula driven by mentor's teachers through
:class:`mentor.torch.sampler.CurriculumSampler`, on clean labels and with 40 %
symmetric label noise.

Usage:
    python benchmarks/curriculum.py ../shared/data [--size cpu|gpu] [--device cpu|cuda]
        [--seeds 3] [--steps N] [--quick]

Data: CIFAR-10 (JPEG), ``DATA/images/cifar10_jpeg.tar.gz``, read with
:func:`mentor.torch.data.load_cifar10`. For every seed the 50,000 training
images are split at random into a held-out part (for the transfer model) and a
training pool; the test set is the full 10,000-image test split.

Sizes:

* ``cpu`` (runs on a 2-core machine in about half an hour): a 20,000-image
  training pool and a 10,000-image held-out part, a small CNN (three 3x3
  convolutions of 8, 16 and 32 channels, each followed by ReLU and 2x2 max
  pooling, then a linear layer), random horizontal flips, 600 steps of batch
  128 (3.8 passes over the pool), test accuracy every 50 steps; targets
  40 %, 50 % and 55 %.
* ``gpu`` (for ``--device cuda``): a 45,000-image pool, 5,000 held out, our
  CIFAR ResNet-20 with widths 32-64-128 (He et al. 2016's 6n+2 design, n = 3,
  twice as wide), random crops (4-pixel padding) and flips, 8,000 steps of batch
  128 (about 23 passes), bfloat16 autocast, test accuracy every 400 steps;
  targets 80 %, 85 % and 90 %.

Both: SGD with Nesterov momentum 0.9, weight decay 5e-4, learning rate 0.05
(cpu) or 0.1 (gpu) decayed to 0 by a cosine over the run; the same seed gives
every order the same split, noise, initial weights and transfer scores.

Label noise: for 40 % noise, exactly 40 % of the labels of the pool and of the
held-out part (chosen with the seed) are replaced by one of the nine other
classes, uniformly (the test set stays clean).

Difficulty: transfer scores. A network of the same architecture is trained on
the held-out part (with its noisy labels in the noisy setting), for 400 (cpu)
or 2,000 (gpu) steps with the same optimiser; an example's difficulty is that
network's cross-entropy on the example's (possibly noisy) label
(:func:`mentor.torch.scoring.transfer_scores`), as Hacohen and Weinshall 2019
score examples with a network trained on other data.

Orders (Wu, Dyer and Neyshabur, "When do curricula work?", ICLR 2021):

* ``vanilla``: the reference, no mentor: a fresh random permutation of the pool
  every pass, cut into batches.
* ``easy_to_hard``: :class:`~mentor.teachers.Curriculum` on the transfer
  scores, linear pacing from 20 % of the pool to all of it at half the run
  (``Linear(0.2, steps / 2)``, ours), uniform draws from the open part.
* ``anti``: :class:`~mentor.teachers.AntiCurriculum`, the same pacing from the hardest.
* ``random``: :class:`~mentor.teachers.RandomCurriculum`, a fixed random order, same pacing.
* ``cyclical``: :class:`~mentor.teachers.CyclicalCurriculum` (Kesgin and Amasyali
  2023) on the transfer scores, sizes 25 %, 50 %, 100 %, 50 %, ... of the pool,
  one phase per pass over the pool (``ceil(pool / batch)`` steps).

Reported per order and noise level, mean ± standard deviation over seeds: the
final test accuracy (after the last step, never the best over the run) and,
for each target, the steps to first reach it on the test set (mean over the
seeds that reached it, and how many did). Sampler overhead: the time spent in
the sampler's ``next_batch`` and ``feedback`` (feedback gets the per-example
losses and correctness of every step) as a percentage of the whole training
step (drawing, gathering the batch, forward, backward, optimiser step,
feedback; evaluation excluded), in wall-clock time and in the thread's CPU
time (``time.thread_time``: on a busy shared machine it leaves out the time
spent waiting for a core); on CUDA the device is synchronised before feedback
so that waiting for the GPU counts as training, not as sampler time. A
separate micro-benchmark times the sampler alone with 50,000 examples (the
size of CIFAR-10's training set) for each teacher.

Writes ``benchmarks/results/curriculum_<size>.json``, ``.csv`` (one row per
run) and ``_curves.png`` (mean test accuracy against steps), with a
``_quick`` suffix for ``--quick`` (1 seed, 60 steps: a smoke run).
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import platform
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from rich.console import Console
from rich.table import Table
from sklearn.metrics import roc_auc_score
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mentor._io import atomic_open, atomic_path, write_json  # noqa: E402
from mentor.teachers import (  # noqa: E402
    AntiCurriculum,
    Curriculum,
    CyclicalCurriculum,
    RandomCurriculum,
    RandomTeacher,
    SelfPaced,
    Teacher,
)
from mentor.teachers.pacing import Linear  # noqa: E402
from mentor.torch.continual.models import BasicBlock  # noqa: E402
from mentor.torch.data import load_cifar10  # noqa: E402
from mentor.torch.hooks import CurriculumHook  # noqa: E402
from mentor.torch.sampler import CurriculumSampler  # noqa: E402
from mentor.torch.scoring import MovingLoss, StaticScores, transfer_scores  # noqa: E402

ORDERS = ("vanilla", "easy_to_hard", "anti", "random", "cyclical")
RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Config:
    size: str
    pool: int
    held_out: int
    steps: int
    eval_every: int
    transfer_steps: int
    batch: int
    lr: float
    targets: tuple[float, ...]
    crop: bool


SIZES = {
    "cpu": Config("cpu", 20_000, 10_000, 600, 50, 400, 128, 0.05, (0.40, 0.50, 0.55), False),
    "gpu": Config("gpu", 45_000, 5_000, 8_000, 400, 2_000, 128, 0.1, (0.80, 0.85, 0.90), True),
}


# ---------------------------------------------------------------- networks


class SmallCNN(nn.Module):
    """Three 3x3 convolutions (``width``, 2 ``width``, 4 ``width`` channels), each
    followed by ReLU and 2x2 max pooling, then a linear classifier."""

    def __init__(self, width: int = 8, classes: int = 10) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for out in (width, 2 * width, 4 * width):
            layers += [nn.Conv2d(channels, out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            channels = out
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(channels * 16, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).flatten(1))


class ResNet(nn.Module):
    """The CIFAR ResNet of He et al. 2016 (depth 6n + 2: three stages of n blocks,
    widths ``width``, 2 ``width``, 4 ``width``, global average pooling)."""

    def __init__(self, depth: int = 20, width: int = 32, classes: int = 10) -> None:
        super().__init__()
        n = (depth - 2) // 6
        self.stem = nn.Sequential(
            nn.Conv2d(3, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU()
        )
        blocks: list[nn.Module] = []
        cin = width
        for stage, cout in enumerate((width, 2 * width, 4 * width)):
            for b in range(n):
                blocks.append(BasicBlock(cin, cout, 2 if stage and not b else 1))
                cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(cin, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.stem(x)).mean(dim=(2, 3)))


def network(cfg: Config) -> nn.Module:
    return SmallCNN(8) if cfg.size == "cpu" else ResNet(20, 32)


# ---------------------------------------------------------------- data


@dataclass
class Split:
    """One seed's data, on the training device."""

    x_pool: torch.Tensor
    y_pool: torch.Tensor
    clean_pool: np.ndarray
    x_held: torch.Tensor
    y_held: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


def symmetric_noise(y: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Exactly ``round(rate * n)`` labels moved to one of the other nine classes, uniformly."""
    y = y.copy()
    flip = rng.choice(y.size, size=round(rate * y.size), replace=False)
    y[flip] = (y[flip] + rng.integers(1, 10, size=flip.size)) % 10
    return y


def make_split(images: Any, cfg: Config, seed: int, noise: float, device: torch.device) -> Split:
    rng = np.random.default_rng([seed, 1])
    order = rng.permutation(len(images.y_train))
    pool, held = order[: cfg.pool], order[cfg.pool : cfg.pool + cfg.held_out]
    noise_rng = np.random.default_rng([seed, 2])
    y_pool = images.y_train[pool]
    y_held = images.y_train[held]
    if noise:
        y_pool = symmetric_noise(y_pool, noise, noise_rng)
        y_held = symmetric_noise(y_held, noise, noise_rng)
    x_pool = images.x_train[pool].astype(np.float32) / 255.0
    mean = x_pool.mean(axis=(0, 1, 2))
    std = x_pool.std(axis=(0, 1, 2))

    def tensor(x: np.ndarray) -> torch.Tensor:
        x = (x.astype(np.float32) / 255.0 - mean) / std
        return torch.as_tensor(np.ascontiguousarray(x.transpose(0, 3, 1, 2)), device=device)

    def labels(y: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(y, dtype=torch.int64, device=device)

    return Split(
        tensor(images.x_train[pool]),
        labels(y_pool),
        y_pool == images.y_train[pool],
        tensor(images.x_train[held]),
        labels(y_held),
        tensor(images.x_test),
        labels(images.y_test),
    )


def augment(x: torch.Tensor, crop: bool, gen: torch.Generator) -> torch.Tensor:
    """Random horizontal flips, and random 32x32 crops of the 4-pixel zero-padded image."""
    b = x.shape[0]
    flip = torch.rand(b, generator=gen, device=x.device) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    if not crop:
        return x
    padded = F.pad(x, (4, 4, 4, 4))
    dy = torch.randint(0, 9, (b,), generator=gen, device=x.device)
    dx = torch.randint(0, 9, (b,), generator=gen, device=x.device)
    ar = torch.arange(32, device=x.device)
    rows = (dy[:, None] + ar)[:, None, :, None]
    cols = (dx[:, None] + ar)[:, None, None, :]
    batch = torch.arange(b, device=x.device)[:, None, None, None]
    chans = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
    return padded[batch, chans, rows, cols]


# ---------------------------------------------------------------- training


def accuracy(net: nn.Module, x: torch.Tensor, y: torch.Tensor, device: torch.device) -> float:
    net.eval()
    correct = 0
    with torch.no_grad(), autocast(device):
        for start in range(0, len(x), 1000):
            logits = net(x[start : start + 1000])
            correct += int((logits.argmax(1) == y[start : start + 1000]).sum())
    net.train()
    return correct / len(x)


def autocast(device: torch.device) -> Any:
    return torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda")


def optimiser_for(net: nn.Module, cfg: Config, steps: int) -> tuple[Any, Any]:
    opt = torch.optim.SGD(
        net.parameters(), lr=cfg.lr, momentum=0.9, nesterov=True, weight_decay=5e-4
    )
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    return opt, sched


def train_transfer(split: Split, cfg: Config, seed: int, device: torch.device) -> nn.Module:
    """The transfer network: same architecture, trained on the held-out part."""
    torch.manual_seed(seed + 10_000)
    net = network(cfg).to(device)
    opt, sched = optimiser_for(net, cfg, cfg.transfer_steps)
    gen = torch.Generator(device=device).manual_seed(seed + 10_000)
    n = len(split.y_held)
    perm = torch.randperm(n, generator=gen, device=device)
    at = 0
    for _ in range(cfg.transfer_steps):
        if at + cfg.batch > n:
            perm, at = torch.randperm(n, generator=gen, device=device), 0
        idx = perm[at : at + cfg.batch]
        at += cfg.batch
        with autocast(device):
            loss = F.cross_entropy(
                net(augment(split.x_held[idx], cfg.crop, gen)), split.y_held[idx]
            )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    return net


class Clock:
    """Wall-clock and thread CPU seconds, added up over the timed spans."""

    def __init__(self) -> None:
        self.wall = 0.0
        self.cpu = 0.0

    def start(self) -> tuple[float, float]:
        return time.perf_counter(), time.thread_time()

    def stop(self, started: tuple[float, float]) -> None:
        self.wall += time.perf_counter() - started[0]
        self.cpu += time.thread_time() - started[1]


class Timed:
    """The sampler, with the time spent in ``next_batch`` and ``feedback`` added up."""

    def __init__(self, sampler: CurriculumSampler, device: torch.device) -> None:
        self.sampler = sampler
        self.device = device
        self.clock = Clock()

    def next_batch(self) -> np.ndarray:
        started = self.clock.start()
        batch = self.sampler.next_batch()
        self.clock.stop(started)
        return batch

    def pending(self) -> np.ndarray | None:
        return self.sampler.pending()

    def feedback(self, indices: Any, losses: Any = None, correct: Any = None) -> Any:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        started = self.clock.start()
        events = self.sampler.feedback(indices, losses=losses, correct=correct)
        self.clock.stop(started)
        return events


def make_teacher(order: str, cfg: Config, seed: int) -> Teacher:
    pacing = Linear(0.2, cfg.steps / 2)
    if order == "easy_to_hard":
        return Curriculum(difficulty="model", pacing=pacing, clock="time", seed=seed)
    if order == "anti":
        return AntiCurriculum(difficulty="model", pacing=pacing, clock="time", seed=seed)
    if order == "random":
        return RandomCurriculum(pacing=pacing, clock="time", order_seed=seed, seed=seed)
    return CyclicalCurriculum(
        difficulty="model",
        start=0.25,
        end=1.0,
        multiplier=0.5,
        phase_length=math.ceil(cfg.pool / cfg.batch),
        clock="time",
        seed=seed,
    )


def train_run(
    order: str,
    split: Split,
    scores: np.ndarray,
    cfg: Config,
    seed: int,
    device: torch.device,
) -> dict[str, Any]:
    torch.manual_seed(seed)
    net = network(cfg).to(device)
    opt, sched = optimiser_for(net, cfg, cfg.steps)
    gen = torch.Generator(device=device).manual_seed(seed)
    n = len(split.y_pool)
    timed = None
    if order != "vanilla":
        sampler = CurriculumSampler(
            make_teacher(order, cfg, seed),
            n,
            cfg.batch,
            scorer=StaticScores(scores),
            seed=seed,
        )
        timed = Timed(sampler, device)
        hook = CurriculumHook(timed)
    perm_rng = np.random.default_rng([seed, 3])
    perm, at = perm_rng.permutation(n), 0
    curve: list[tuple[int, float]] = []
    clean_share: list[float] = []
    steps_clock = Clock()
    for step in range(1, cfg.steps + 1):
        started = steps_clock.start()
        if timed is None:
            if at + cfg.batch > n:
                perm, at = perm_rng.permutation(n), 0
            batch = perm[at : at + cfg.batch]
            at += cfg.batch
        else:
            batch = timed.next_batch()
        idx = torch.as_tensor(batch, device=device)
        x, y = augment(split.x_pool[idx], cfg.crop, gen), split.y_pool[idx]
        if timed is None:
            with autocast(device):
                loss = F.cross_entropy(net(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        else:
            with hook.step(batch) as fb:
                with autocast(device):
                    logits = net(x)
                    losses = F.cross_entropy(logits, y, reduction="none")
                loss = fb.report(losses.float(), logits, y)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
        sched.step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        steps_clock.stop(started)
        clean_share.append(float(split.clean_pool[batch].mean()))
        if step % cfg.eval_every == 0 or step == cfg.steps:
            curve.append((step, accuracy(net, split.x_test, split.y_test, device)))
    sampler = timed.clock if timed is not None else Clock()
    return {
        "order": order,
        "seed": seed,
        "final_accuracy": curve[-1][1],
        "steps_to_target": {
            f"{t:g}": next((s for s, a in curve if a >= t), None) for t in cfg.targets
        },
        "curve": curve,
        "clean_share_of_batches": float(np.mean(clean_share)),
        "step_ms": 1000 * steps_clock.wall / cfg.steps,
        "step_cpu_ms": 1000 * steps_clock.cpu / cfg.steps,
        "sampler_ms": 1000 * sampler.wall / cfg.steps,
        "sampler_cpu_ms": 1000 * sampler.cpu / cfg.steps,
        "overhead_pct": None if timed is None else 100 * sampler.wall / steps_clock.wall,
        "overhead_cpu_pct": None if timed is None else 100 * sampler.cpu / steps_clock.cpu,
    }


# ---------------------------------------------------------------- sampler alone


def sampler_micro(n: int = 50_000, batch: int = 128, steps: int = 500) -> dict[str, Any]:
    """Microseconds per step (next_batch + feedback) of the sampler alone, n examples."""
    rng = np.random.default_rng(0)
    scores = rng.random(n)
    labels = rng.integers(0, 10, n)
    pacing = Linear(0.2, 1000)
    cases = {
        "easy_to_hard": (
            Curriculum(difficulty="model", pacing=pacing, clock="time", seed=0),
            StaticScores(scores),
            None,
        ),
        "anti": (
            AntiCurriculum(difficulty="model", pacing=pacing, clock="time", seed=0),
            StaticScores(scores),
            None,
        ),
        "random": (RandomCurriculum(pacing=pacing, clock="time", seed=0), None, None),
        "cyclical": (
            CyclicalCurriculum(difficulty="model", phase_length=100, clock="time", seed=0),
            StaticScores(scores),
            None,
        ),
        "easy_to_hard, moving loss": (
            Curriculum(difficulty="model", pacing=pacing, clock="time", seed=0),
            MovingLoss(n, initial=scores),
            None,
        ),
        "self_paced (per item, O(n) a step)": (
            SelfPaced(threshold=0.5, signal="model", seed=0),
            StaticScores(scores),
            None,
        ),
        "random teacher over 10 class arms": (RandomTeacher(seed=0), None, labels),
    }
    out = {}
    for name, (teacher, scorer, arms) in cases.items():
        sampler = CurriculumSampler(teacher, n, batch, scorer=scorer, arms=arms, seed=0)
        losses = torch.rand(steps, batch)
        correct = torch.rand(steps, batch) < 0.5
        first = sampler.next_batch()  # the first draw ranks the examples once
        sampler.feedback(first, losses=losses[0], correct=correct[0])
        start = time.perf_counter()
        for i in range(steps):
            b = sampler.next_batch()
            sampler.feedback(b, losses=losses[i], correct=correct[i])
        out[name] = 1e6 * (time.perf_counter() - start) / steps
    return out


# ---------------------------------------------------------------- reporting


def mean_std(values: list[float]) -> tuple[float, float]:
    a = np.asarray(values, dtype=float)
    return float(a.mean()), float(a.std(ddof=1)) if a.size > 1 else 0.0


def average(group: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in group if r[key] is not None]
    return float(np.mean(values)) if values else None


def summarise(runs: list[dict[str, Any]], cfg: Config) -> list[dict[str, Any]]:
    rows = []
    for noise in sorted({r["noise"] for r in runs}):
        for order in ORDERS:
            group = [r for r in runs if r["noise"] == noise and r["order"] == order]
            if not group:
                continue
            acc = mean_std([r["final_accuracy"] for r in group])
            targets = {}
            for t in cfg.targets:
                reached = [r["steps_to_target"][f"{t:g}"] for r in group]
                reached = [s for s in reached if s is not None]
                targets[f"{t:g}"] = {
                    "mean": mean_std(reached)[0] if reached else None,
                    "std": mean_std(reached)[1] if reached else None,
                    "reached": len(reached),
                }

            rows.append(
                {
                    "noise": noise,
                    "order": order,
                    "seeds": len(group),
                    "final_accuracy_mean": acc[0],
                    "final_accuracy_std": acc[1],
                    "steps_to_target": targets,
                    "clean_share": average(group, "clean_share_of_batches"),
                    "step_ms": average(group, "step_ms"),
                    "step_cpu_ms": average(group, "step_cpu_ms"),
                    "sampler_ms": average(group, "sampler_ms"),
                    "sampler_cpu_ms": average(group, "sampler_cpu_ms"),
                    "overhead_pct": average(group, "overhead_pct"),
                    "overhead_cpu_pct": average(group, "overhead_cpu_pct"),
                }
            )
    return rows


def print_tables(
    console: Console, rows: list[dict[str, Any]], micro: dict[str, float], cfg: Config
) -> None:
    table = Table(
        title=f"CIFAR-10 (JPEG), size {cfg.size}: final test accuracy and steps to reach "
        "a test accuracy (mean ± std over seeds; reached/seeds)"
    )
    for name in ("noise", "order", "final acc %"):
        table.add_column(name, justify="left" if name == "order" else "right")
    for t in cfg.targets:
        table.add_column(f"steps to {t:.0%}", justify="right")
    for name in ("clean %", "step ms", "sampler ms", "sampler % wall", "sampler % CPU"):
        table.add_column(name, justify="right")

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    for r in rows:
        cells = [
            f"{r['noise']:.0%}",
            r["order"],
            f"{100 * r['final_accuracy_mean']:.2f} ± {100 * r['final_accuracy_std']:.2f}",
        ]
        for t in cfg.targets:
            entry = r["steps_to_target"][f"{t:g}"]
            reached = f"({entry['reached']}/{r['seeds']})"
            if entry["mean"] is None:
                cells.append(f"- {reached}")
            else:
                cells.append(f"{entry['mean']:.0f} ± {entry['std']:.0f} {reached}")
        cells += [
            f"{100 * r['clean_share']:.1f}",
            f"{r['step_ms']:.1f}",
            "-" if r["overhead_pct"] is None else f"{r['sampler_ms']:.3f}",
            pct(r["overhead_pct"]),
            pct(r["overhead_cpu_pct"]),
        ]
        table.add_row(*cells)
    console.print(table)
    micro_table = Table(title="Sampler alone, 50,000 examples, batch 128: next_batch + feedback")
    micro_table.add_column("teacher")
    micro_table.add_column("µs per step", justify="right")
    for name, us in micro.items():
        micro_table.add_row(name, f"{us:.0f}")
    console.print(micro_table)


def plot(runs: list[dict[str, Any]], cfg: Config, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    noises = sorted({r["noise"] for r in runs})
    fig, axes = plt.subplots(1, len(noises), figsize=(6 * len(noises), 4.2), squeeze=False)
    for ax, noise in zip(axes[0], noises, strict=True):
        for order in ORDERS:
            group = [r for r in runs if r["noise"] == noise and r["order"] == order]
            if not group:
                continue
            steps = [s for s, _ in group[0]["curve"]]
            acc = np.array([[a for _, a in r["curve"]] for r in group])
            mean = acc.mean(axis=0)
            ax.plot(steps, 100 * mean, label=order)
            if len(group) > 1:
                std = acc.std(axis=0, ddof=1)
                ax.fill_between(steps, 100 * (mean - std), 100 * (mean + std), alpha=0.15)
        for t in cfg.targets:
            ax.axhline(100 * t, color="grey", lw=0.8, ls=":")
        ax.set_title(f"{noise:.0%} label noise")
        ax.set_xlabel("step")
        ax.set_ylabel("test accuracy %")
        ax.legend()
    fig.suptitle(f"CIFAR-10 (JPEG), size {cfg.size}, mean ± std over seeds")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)


def write_csv(runs: list[dict[str, Any]], cfg: Config, path: Path) -> None:
    targets = [f"steps_to_{t:g}" for t in cfg.targets]
    fields = ["noise", "order", "seed", "final_accuracy", *targets, "clean_share_of_batches"]
    fields += ["step_ms", "step_cpu_ms", "sampler_ms", "sampler_cpu_ms"]
    fields += ["overhead_pct", "overhead_cpu_pct"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    for run in runs:
        steps = {f"steps_to_{t}": s for t, s in run["steps_to_target"].items()}
        writer.writerow({**run, **steps})
    with atomic_open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(buffer.getvalue())


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the shared data folder (../shared/data)")
    parser.add_argument("--size", choices=sorted(SIZES), default="cpu")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=None, help="override the size's steps")
    parser.add_argument("--noise", type=float, nargs="+", default=[0.0, 0.4])
    parser.add_argument("--orders", nargs="+", choices=ORDERS, default=list(ORDERS))
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--quick", action="store_true", help="1 seed, 60 steps: a smoke run")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    cfg = SIZES[args.size]
    if args.steps is not None:
        cfg = replace(cfg, steps=args.steps)
    seeds = args.seeds
    suffix = ""
    if args.quick:
        cfg = replace(cfg, steps=60, eval_every=20, transfer_steps=40)
        seeds, suffix = 1, "_quick"
    console = Console(width=150)
    started = time.perf_counter()
    images = load_cifar10(args.data / "images" / "cifar10_jpeg.tar.gz")
    console.print(f"CIFAR-10 loaded: {len(images.y_train)} train, {len(images.y_test)} test")
    runs: list[dict[str, Any]] = []
    transfer: list[dict[str, Any]] = []
    for seed in range(seeds):
        for noise in args.noise:
            split = make_split(images, cfg, seed, noise, device)
            t0 = time.perf_counter()
            teacher_net = train_transfer(split, cfg, seed, device)
            scores = transfer_scores(teacher_net, (split.x_pool, split.y_pool), batch_size=1000)
            clean = split.clean_pool
            info = {
                "seed": seed,
                "noise": noise,
                "test_accuracy": accuracy(teacher_net, split.x_test, split.y_test, device),
                "seconds": time.perf_counter() - t0,
                # how well the scores put wrong labels last: AUC of score against "label wrong"
                "noisy_rank_auc": float(roc_auc_score(~clean, scores)) if noise else None,
            }
            transfer.append(info)
            print(
                f"seed {seed} noise {noise:.0%}: transfer net {100 * info['test_accuracy']:.1f} % "
                f"test accuracy ({info['seconds']:.0f} s)",
                flush=True,
            )
            for order in args.orders:
                t0 = time.perf_counter()
                run = train_run(order, split, scores, cfg, seed, device)
                run["noise"] = noise
                runs.append(run)
                print(
                    f"  {order:13s} final {100 * run['final_accuracy']:.2f} %  "
                    f"to targets {run['steps_to_target']}  step {run['step_ms']:.1f} ms  "
                    f"sampler {run['sampler_ms']:.3f} ms  ({time.perf_counter() - t0:.0f} s)",
                    flush=True,
                )
    micro = sampler_micro()
    rows = summarise(runs, cfg)
    print_tables(console, rows, micro, cfg)
    name = f"curriculum_{cfg.size}{suffix}"
    write_json(
        RESULTS / f"{name}.json",
        {
            "config": cfg.__dict__,
            "device": str(device),
            "machine": platform.machine(),
            "torch": torch.__version__,
            "threads": args.threads,
            "seeds": seeds,
            "seconds": time.perf_counter() - started,
            "summary": rows,
            "transfer": transfer,
            "sampler_micro_us": micro,
            "runs": runs,
        },
    )
    write_csv(runs, cfg, RESULTS / f"{name}.csv")
    plot(runs, cfg, RESULTS / f"{name}_curves.png")
    console.print(f"wrote {RESULTS / name}.json, .csv, _curves.png")


if __name__ == "__main__":
    main()
