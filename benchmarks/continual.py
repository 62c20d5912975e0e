"""Continual-learning strategies on Split Fashion-MNIST (CPU) and Seq-CIFAR-10 (GPU).

Usage:
    python benchmarks/continual.py ../shared/data --dataset fashion_mnist [--seeds 0 1 2]
    python benchmarks/continual.py ../shared/data --dataset cifar10 --device cuda [--amp]
    python benchmarks/continual.py ../shared/data --dataset cifar10 --limit 64 --epochs 1

Both are class-incremental streams of 5 tasks of 2 classes (classes in label order),
evaluated after every task in class-IL (argmax over all 10 classes) and task-IL
(argmax over the task's 2 classes). Reported per method and buffer size, mean and
standard deviation over seeds: final average accuracy (class-IL and task-IL),
class-IL backward transfer (GEM) and forgetting (Chaudhry et al. 2018), and
seconds per epoch (a task's whole training time, end-of-task work such as
Fisher, herding or GDumb's retraining included, over its epochs).

``fashion_mnist``: the MLP of the DER paper's MNIST benchmarks (784-100-100-10), one
epoch per task, batch 32, replay minibatch 32, one CPU thread (``--threads``).
Learning rates and method weights are those of the DER paper's Seq-MNIST table
(Buzzega et al. 2020, appendix; Mammoth's ``best_args``), not tuned here.
Fine-tuning lr 0.03; joint 0.03; ER lr 0.01 (buffer 200) / 0.1 (500), and the
same for scheduled ER (ours: ER whose replayed task a PowerLawReplay teacher picks);
DER++ lr 0.03 with alpha 0.2, beta 1.0 (200) / alpha 1.0, beta 0.5 (500);
A-GEM lr 0.1; online EWC lr 0.03, gamma 1, lambda 60: the paper's 90 (180 in our
penalty with 1/2) diverged with our empirical Fisher, whose largest entry here is about
0.7, because SGD on the quadratic penalty is stable only while lr * lambda * max F < 2
(60 keeps it at 1.3); LwF lr 0.03, alpha 1, T 2, weight decay 5e-4; iCaRL lr 0.1; GDumb the
GDumb paper's SGDR schedule, lr 0.05 to 0.0005, batch 16, with 64 epochs
(``--gdumb-epochs``; the paper uses 256).

``cifar10``: Seq-CIFAR-10 as in the DER paper: ResNet-18 (nf = 64), 50 epochs per
task, batch 32, replay minibatch 32, SGD without momentum, random crop (padding 4)
and horizontal flip on stream and replayed batches, hyper-parameters of the DER
paper's Seq-CIFAR-10 table: fine-tuning lr 0.1; ER lr 0.1; DER++ lr 0.03, alpha 0.1,
beta 0.5 (200) / alpha 0.2, beta 0.5 (500); A-GEM lr 0.03; online EWC lr 0.03,
lambda 20 (10 in the paper's form), gamma 1; LwF lr 0.01, alpha 3, T 2, weight decay
5e-4; iCaRL lr 0.1, weight decay 1e-5; joint lr 0.1 (ours); GDumb lr 0.05, 256
epochs. The paper's numbers are printed beside ours. Meant for a GPU: ``--amp``
(bfloat16 autocast) and ``--channels-last`` speed it up; ``--limit N`` keeps N
training and N test images per task, to check on a CPU that it starts.

Writes benchmarks/results/continual_<dataset>[_limit].{csv,json,png}.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.table import Table
from torch import nn

from mentor._io import atomic_open, atomic_path, write_json
from mentor.errors import MentorError
from mentor.torch.continual import MLP, ResNet18, Scenario, Task, class_incremental, run
from mentor.torch.continual.augment import RandomCropFlip
from mentor.torch.continual.strategies import (
    AGEM,
    ER,
    DERpp,
    FineTune,
    GDumb,
    ICaRL,
    Joint,
    LwF,
    OnlineEWC,
    ScheduledER,
    Strategy,
)
from mentor.torch.data import ImageData, load_cifar10, load_fashion_mnist, to_tensors

RESULTS = Path(__file__).resolve().parent / "results"

Factory = Callable[..., Strategy]


@dataclass(frozen=True)
class Method:
    """One row of the table: a strategy with its hyper-parameters and buffer size."""

    label: str
    buffer: int | None
    make: Factory


@dataclass(frozen=True)
class Setup:
    """A dataset, its network, its protocol and its methods."""

    file: str
    load: Callable[[Path, Path | None], ImageData]
    net: Callable[[], nn.Module]
    epochs: int
    batch_size: int
    augment: bool
    methods: tuple[Method, ...]
    paper: dict[tuple[str, int | None], tuple[float, float]]


def fashion_mnist_methods(gdumb_epochs: int) -> tuple[Method, ...]:
    mb = 32
    methods = [
        Method("fine-tune", None, lambda net, **kw: FineTune(net, lr=0.03, **kw)),
        Method("joint", None, lambda net, **kw: Joint(net, lr=0.03, **kw)),
        Method("oEWC", None, lambda net, **kw: OnlineEWC(net, 60.0, 1.0, lr=0.03, **kw)),
        Method(
            "LwF",
            None,
            lambda net, **kw: LwF(net, 1.0, 2.0, lr=0.03, weight_decay=5e-4, **kw),
        ),
    ]
    er_lr = {200: 0.01, 500: 0.1}
    derpp = {200: (0.2, 1.0), 500: (1.0, 0.5)}
    for size in (200, 500):
        a, b = derpp[size]
        methods += [
            Method("ER", size, lambda net, s=size, **kw: ER(net, s, mb, lr=er_lr[s], **kw)),
            Method(
                "scheduled ER",
                size,
                lambda net, s=size, **kw: ScheduledER(
                    net, buffer_size=s, minibatch_size=mb, lr=er_lr[s], **kw
                ),
            ),
            Method(
                "DER++",
                size,
                lambda net, s=size, a=a, b=b, **kw: DERpp(net, s, a, b, mb, 0.03, **kw),
            ),
            Method("A-GEM", size, lambda net, s=size, **kw: AGEM(net, s, mb, lr=0.1, **kw)),
            Method(
                "iCaRL",
                size,
                lambda net, s=size, **kw: ICaRL(net, s, lr=0.1, weight_decay=0.0, **kw),
            ),
            Method(
                "GDumb",
                size,
                lambda net, s=size, **kw: GDumb(net, s, epochs=gdumb_epochs, **kw),
            ),
        ]
    return tuple(methods)


def cifar10_methods(gdumb_epochs: int) -> tuple[Method, ...]:
    mb = 32
    methods = [
        Method("fine-tune", None, lambda net, **kw: FineTune(net, lr=0.1, **kw)),
        Method("joint", None, lambda net, **kw: Joint(net, lr=0.1, **kw)),
        Method("oEWC", None, lambda net, **kw: OnlineEWC(net, 20.0, 1.0, 16, lr=0.03, **kw)),
        Method(
            "LwF",
            None,
            lambda net, **kw: LwF(net, 3.0, 2.0, lr=0.01, weight_decay=5e-4, **kw),
        ),
    ]
    derpp = {200: (0.1, 0.5), 500: (0.2, 0.5)}
    for size in (200, 500):
        a, b = derpp[size]
        methods += [
            Method("ER", size, lambda net, s=size, **kw: ER(net, s, mb, lr=0.1, **kw)),
            Method(
                "DER++",
                size,
                lambda net, s=size, a=a, b=b, **kw: DERpp(net, s, a, b, mb, 0.03, **kw),
            ),
            Method("A-GEM", size, lambda net, s=size, **kw: AGEM(net, s, mb, lr=0.03, **kw)),
            Method(
                "iCaRL",
                size,
                lambda net, s=size, **kw: ICaRL(net, s, lr=0.1, weight_decay=1e-5, **kw),
            ),
            Method(
                "GDumb", size, lambda net, s=size, **kw: GDumb(net, s, epochs=gdumb_epochs, **kw)
            ),
        ]
    return tuple(methods)


#: DER paper, Table 2, Seq-CIFAR-10 (class-IL, task-IL), in %.
DER_PAPER_CIFAR10 = {
    ("joint", None): (92.20, 98.31),
    ("fine-tune", None): (19.62, 61.02),
    ("oEWC", None): (19.49, 68.29),
    ("LwF", None): (19.61, 63.29),
    ("ER", 200): (44.79, 91.19),
    ("A-GEM", 200): (20.04, 83.88),
    ("iCaRL", 200): (49.02, 88.99),
    ("DER++", 200): (64.88, 91.92),
    ("ER", 500): (57.74, 93.61),
    ("iCaRL", 500): (47.55, 88.22),
    ("DER++", 500): (72.70, 93.88),
}


def setups(gdumb_epochs: int | None) -> dict[str, Setup]:
    return {
        "fashion_mnist": Setup(
            "fashion_mnist.npz",
            lambda path, cache: load_fashion_mnist(path),
            lambda: MLP(784, 10),
            epochs=1,
            batch_size=32,
            augment=False,
            methods=fashion_mnist_methods(gdumb_epochs or 64),
            paper={},
        ),
        "cifar10": Setup(
            "cifar10_jpeg.tar.gz",
            load_cifar10,  # (path, cache_dir)
            lambda: ResNet18(10, nf=64),
            epochs=50,
            batch_size=32,
            augment=True,
            methods=cifar10_methods(gdumb_epochs or 256),
            paper=DER_PAPER_CIFAR10,
        ),
    }


def find_file(root: Path, name: str) -> Path:
    for candidate in (root / "images" / name, root / name):
        if candidate.is_file():
            return candidate
    return root / "images" / name


def limit_scenario(scenario: Scenario, n: int, seed: int = 0) -> Scenario:
    """Keep ``n`` training and ``n`` test examples of each task, drawn at random
    (the files are sorted by label, so the first ``n`` would be one class)."""
    g = torch.Generator().manual_seed(seed)
    tasks = []
    for t in scenario.tasks:
        train = torch.randperm(len(t.y_train), generator=g)[:n]
        test = torch.randperm(len(t.y_test), generator=g)[:n]
        tasks.append(
            Task(t.x_train[train], t.y_train[train], t.x_test[test], t.y_test[test], t.classes)
        )
    return Scenario(tuple(tasks), scenario.num_classes, scenario.setting)


def mean_std(values: list[float]) -> tuple[float, float]:
    array = np.asarray(values, dtype=float)
    return float(array.mean()), float(array.std(ddof=1)) if array.size > 1 else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the shared data folder (holding images/)")
    parser.add_argument("--dataset", choices=("fashion_mnist", "cifar10"), default="fashion_mnist")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, help="epochs per task (default: the dataset's)")
    parser.add_argument("--gdumb-epochs", type=int, help="GDumb's retraining epochs")
    parser.add_argument("--methods", nargs="+", help="labels to run (default: all)")
    parser.add_argument("--limit", type=int, help="train/test examples per task (smoke runs)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--amp", action="store_true", help="bfloat16 autocast")
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--cache-dir", type=Path, help="CIFAR-10 decode cache folder")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    console = Console(width=160)
    setup = setups(args.gdumb_epochs)[args.dataset]
    path = find_file(args.data, setup.file)
    try:
        data = setup.load(path, args.cache_dir)
    except MentorError as error:
        console.print(f"[red]error:[/red] {error}")
        return 2
    tensors = to_tensors(data)
    scenario = class_incremental(
        tensors.x_train, tensors.y_train, tensors.x_test, tensors.y_test, tasks=5
    )
    if args.limit:
        scenario = limit_scenario(scenario, args.limit)
    epochs = args.epochs or setup.epochs
    methods = [m for m in setup.methods if not args.methods or m.label in args.methods]
    if not methods:
        labels = sorted({m.label for m in setup.methods})
        console.print(f"[red]error:[/red] --methods {args.methods} matches none of {labels}")
        return 2
    fill = (-tensors.mean / tensors.std).tolist()

    rows, runs = [], []
    for method in methods:
        per_seed = []
        for seed in args.seeds:
            torch.manual_seed(seed)
            net = setup.net()
            transform = RandomCropFlip(4, True, fill, seed=seed) if setup.augment else None
            strategy = method.make(
                net, device=args.device, amp=args.amp, seed=seed, transform=transform
            )
            started = time.perf_counter()
            result = run(
                strategy,
                scenario,
                epochs=epochs,
                batch_size=setup.batch_size,
                seed=seed,
                channels_last=args.channels_last,
                progress=not args.no_progress,
                console=console,
            )
            wall = time.perf_counter() - started
            record = {
                "method": method.label,
                "buffer": method.buffer,
                "seed": seed,
                "class_il": result.metrics["class_il"]["accuracy"],
                "task_il": result.metrics["task_il"]["accuracy"],
                "bwt": result.metrics["class_il"]["bwt"],
                "forgetting": result.metrics["class_il"]["forgetting"],
                "seconds_per_epoch": result.seconds_per_epoch,
                "wall_seconds": wall,
                "diverged": result.diverged,
            }
            per_seed.append(record)
            runs.append({**record, "result": result.to_dict()})
            console.log(
                f"{method.label} buffer={method.buffer} seed={seed}: class-IL "
                f"{100 * record['class_il']:.2f} task-IL {100 * record['task_il']:.2f} "
                f"({result.seconds_per_epoch:.2f} s/epoch)"
            )
        summary = {"method": method.label, "buffer": method.buffer, "seeds": len(per_seed)}
        for key in ("class_il", "task_il", "bwt", "forgetting", "seconds_per_epoch"):
            summary[key], summary[key + "_std"] = mean_std([r[key] for r in per_seed])
        summary["diverged"] = sum(r["diverged"] for r in per_seed)
        summary["paper"] = setup.paper.get((method.label, method.buffer))
        rows.append(summary)

    device = str(strategy.device)
    title = (
        f"{'Split Fashion-MNIST' if args.dataset == 'fashion_mnist' else 'Seq-CIFAR-10 (JPEG)'}"
        f", 5 tasks x 2 classes, {epochs} epoch(s)/task, batch {setup.batch_size}, "
        f"{len(args.seeds)} seeds, {device}, {args.threads} thread(s)"
        + (f", limit {args.limit}" if args.limit else "")
    )
    table = Table(title=title)
    for column in (
        "method",
        "buffer",
        "class-IL %",
        "task-IL %",
        "BWT %",
        "forgetting %",
        "s/epoch",
        "diverged",
    ):
        table.add_column(column, justify="left" if column == "method" else "right", no_wrap=True)
    if setup.paper:
        table.add_column("DER paper class/task-IL", justify="right", no_wrap=True)
    for row in rows:
        cells = [
            row["method"],
            "-" if row["buffer"] is None else str(row["buffer"]),
            *(
                f"{100 * row[k]:.2f} ± {100 * row[k + '_std']:.2f}"
                for k in ("class_il", "task_il", "bwt", "forgetting")
            ),
            f"{row['seconds_per_epoch']:.2f}",
            f"{row['diverged']}/{row['seeds']}",
        ]
        if setup.paper:
            paper = row["paper"]
            cells.append("-" if paper is None else f"{paper[0]:.2f} / {paper[1]:.2f}")
        table.add_row(*cells)
    console.print(table)

    stem = f"continual_{args.dataset}" + ("_limit" if args.limit else "")
    RESULTS.mkdir(parents=True, exist_ok=True)
    with atomic_open(RESULTS / f"{stem}.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=[k for k in rows[0] if k != "paper"])
        writer.writeheader()
        writer.writerows({k: v for k, v in row.items() if k != "paper"} for row in rows)
    write_json(
        RESULTS / f"{stem}.json",
        {
            "title": title,
            "command": " ".join(sys.argv),
            "torch": torch.__version__,
            "epochs": epochs,
            "batch_size": setup.batch_size,
            "summary": rows,
            "runs": runs,
        },
    )
    plot(rows, title, RESULTS / f"{stem}.png")
    console.print(f"wrote {RESULTS / stem}.{{csv,json,png}}")
    return 0


def plot(rows: list[dict], title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [r["method"] + ("" if r["buffer"] is None else f"\n{r['buffer']}") for r in rows]
    x = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(max(6, 0.8 * len(rows)), 4))
    for offset, key, name in ((-0.2, "class_il", "class-IL"), (0.2, "task_il", "task-IL")):
        ax.bar(
            x + offset,
            [100 * r[key] for r in rows],
            0.4,
            yerr=[100 * r[key + "_std"] for r in rows],
            label=name,
            capsize=2,
        )
    ax.set_xticks(x, labels, fontsize=8)
    ax.set_ylabel("final average accuracy (%)")
    ax.set_ylim(0, 100)
    ax.set_title(title, fontsize=8)
    ax.legend()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
