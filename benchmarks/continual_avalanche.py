"""Experience replay on Split Fashion-MNIST: mentor beside Avalanche, same everything.

Usage:
    python benchmarks/continual_avalanche.py ../shared/data \
        [--avalanche-python /work/refs/avalanche-venv/bin/python] [--seeds 0 1 2]
        [--buffer 500] [--epochs 1]

Both sides train the same MLP (784-100-100-10, identical initial weights from the
same seed), on the same class-incremental stream (5 tasks of 2 classes, classes in
label order, inputs normalised with the train mean and std), with SGD (lr 0.1),
stream batch 32 plus 32 replayed examples per step, the same number of epochs per
task, on one CPU thread. Each side is evaluated by the same code after every task
(class-IL and task-IL accuracy matrices, metrics from :mod:`mentor.metrics`).
Reported: final average accuracy, BWT, forgetting and seconds per epoch (training
time of a task over its epochs), mean ± std over seeds.

One difference in protocol is inherent to the libraries: Avalanche's
``ReservoirSamplingBuffer`` is updated once per experience (after training on it),
so replay during task t draws only from tasks before t; mentor's reservoir takes
each batch as it arrives (Chaudhry et al. 2019's ER, as in the DER paper).

Avalanche runs in its own virtual environment through a driver script written to a
temporary folder. Set up (outside the repository)::

    python3 -m venv /work/refs/avalanche-venv
    /work/refs/avalanche-venv/bin/pip install avalanche-lib==0.6.0

Avalanche 0.6.0 imports torchvision, whose PyPI wheels are built against the CUDA
build of torch with the same minor version; with a CPU-only torch the import fails
(``operator torchvision::nms does not exist``). The reference run used mentor's
torch through a ``.pth`` file instead: ``pip uninstall torch torchvision``, then
``pip install --no-deps torchvision==0.29.1`` (the release for torch 2.14) and a line
with mentor's ``.venv/lib/python3.11/site-packages`` in
``avalanche-venv/lib/python3.11/site-packages/zz_mentor_venv_torch.pth``.

Writes benchmarks/results/continual_avalanche.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from mentor._io import write_json
from mentor.metrics import continual_summary
from mentor.torch.continual import MLP, class_incremental, run
from mentor.torch.continual.strategies import ER
from mentor.torch.data import load_fashion_mnist, to_tensors

RESULTS = Path(__file__).resolve().parent / "results"
LR = 0.1
BATCH = 32

DRIVER = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np
    import torch
    from torch import nn
    from torch.utils.data import TensorDataset
    from avalanche.benchmarks.scenarios.deprecated.generators import nc_benchmark
    from avalanche.training.plugins import EvaluationPlugin, ReplayPlugin
    from avalanche.training.storage_policy import ReservoirSamplingBuffer
    from avalanche.training.supervised import Naive

    torch.set_num_threads(1)
    args = json.loads(sys.argv[1])
    with np.load(args["npz"]) as data:
        x, y, split = data["x"], data["y"], data["split"].astype(str)
    mean, std = args["mean"], args["std"]

    def tensors(mask):
        xs = (x[mask].astype(np.float32) / 255.0 - np.float32(mean)) / np.float32(std)
        return torch.from_numpy(xs[:, None]), torch.from_numpy(y[mask].astype(np.int64))

    x_train, y_train = tensors(split == "train")
    x_test, y_test = tensors(split == "test")
    out = []
    for seed in args["seeds"]:
        torch.manual_seed(seed)
        net = nn.Sequential(
            nn.Flatten(), nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(),
            nn.Linear(100, 10),
        )
        bench = nc_benchmark(
            TensorDataset(x_train, y_train), TensorDataset(x_test, y_test), n_experiences=5,
            task_labels=False, shuffle=False, fixed_class_order=list(range(10)), seed=seed,
        )
        buffer = args["buffer"]
        strategy = Naive(
            model=net, optimizer=torch.optim.SGD(net.parameters(), lr=args["lr"]),
            criterion=nn.CrossEntropyLoss(), train_mb_size=args["batch"],
            train_epochs=args["epochs"], eval_mb_size=1000, device="cpu",
            plugins=[ReplayPlugin(
                mem_size=buffer, batch_size=args["batch"], batch_size_mem=args["batch"],
                storage_policy=ReservoirSamplingBuffer(buffer),
            )],
            evaluator=EvaluationPlugin(loggers=[]),
        )
        tasks = [(2 * t, 2 * t + 1) for t in range(5)]
        rows_class, rows_task, seconds = [], [], []

        @torch.no_grad()
        def evaluate():
            net.eval()
            accuracy_class, accuracy_task = [], []
            for classes in tasks:
                keep = (y_test == classes[0]) | (y_test == classes[1])
                logits = net(x_test[keep])
                target = y_test[keep]
                accuracy_class.append((logits.argmax(1) == target).float().mean().item())
                masked = torch.full_like(logits, float("-inf"))
                masked[:, list(classes)] = logits[:, list(classes)]
                accuracy_task.append((masked.argmax(1) == target).float().mean().item())
            net.train()
            return accuracy_class, accuracy_task

        random_class, random_task = evaluate()
        for experience in bench.train_stream:
            started = time.perf_counter()
            strategy.train(experience, num_workers=0)
            seconds.append(time.perf_counter() - started)
            accuracy_class, accuracy_task = evaluate()
            rows_class.append(accuracy_class)
            rows_task.append(accuracy_task)
        out.append({
            "seed": seed, "class_il": rows_class, "task_il": rows_task,
            "random_class_il": random_class, "random_task_il": random_task,
            "task_seconds": seconds,
        })
    print(json.dumps(out))
    """
)


def ours(data_path: Path, seeds: list[int], buffer: int, epochs: int) -> list[dict]:
    tensors = to_tensors(load_fashion_mnist(data_path))
    scenario = class_incremental(
        tensors.x_train, tensors.y_train, tensors.x_test, tensors.y_test, tasks=5
    )
    out = []
    for seed in seeds:
        torch.manual_seed(seed)
        strategy = ER(MLP(784, 10), buffer, BATCH, lr=LR, device="cpu", seed=seed)
        result = run(strategy, scenario, epochs=epochs, batch_size=BATCH, seed=seed, progress=False)
        out.append(
            {
                "seed": seed,
                "class_il": result.class_il.tolist(),
                "task_il": result.task_il.tolist(),
                "random_class_il": result.random_class_il.tolist(),
                "random_task_il": result.random_task_il.tolist(),
                "task_seconds": result.task_seconds,
            }
        )
    return out


def avalanche(
    python: str, data_path: Path, seeds: list[int], buffer: int, epochs: int
) -> list[dict]:
    data = load_fashion_mnist(data_path)
    train = data.x_train.astype(np.float64) / 255.0
    args = {
        "npz": str(data_path),
        "seeds": seeds,
        "buffer": buffer,
        "epochs": epochs,
        "lr": LR,
        "batch": BATCH,
        "mean": float(train.mean()),
        "std": float(train.std()),
    }
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "WANDB_MODE": "disabled"}
    with tempfile.TemporaryDirectory() as folder:
        driver = Path(folder) / "avalanche_er.py"
        driver.write_text(DRIVER, encoding="utf-8")
        done = subprocess.run(
            [python, str(driver), json.dumps(args)],
            capture_output=True,
            text=True,
            env=env,
            cwd=folder,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"the Avalanche driver failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def summarise(runs: list[dict], epochs: int) -> dict[str, float]:
    values: dict[str, list[float]] = {}
    for r in runs:
        for flavour in ("class_il", "task_il"):
            s = continual_summary(r[flavour], r[f"random_{flavour}"])
            values.setdefault(flavour, []).append(s["accuracy"])
            if flavour == "class_il":
                values.setdefault("bwt", []).append(s["bwt"])
                values.setdefault("forgetting", []).append(s["forgetting"])
        values.setdefault("seconds_per_epoch", []).append(sum(r["task_seconds"]) / (5 * epochs))
    out = {}
    for key, vals in values.items():
        array = np.asarray(vals)
        out[key] = float(array.mean())
        out[key + "_std"] = float(array.std(ddof=1)) if array.size > 1 else 0.0
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the shared data folder (holding images/)")
    parser.add_argument("--avalanche-python", default="/work/refs/avalanche-venv/bin/python")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--buffer", type=int, default=500)
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    console = Console(width=140)
    path = (args.data / "images" / "fashion_mnist.npz").resolve()
    results: dict[str, list[dict]] = {"mentor": []}
    skipped = None
    if Path(args.avalanche_python).is_file():
        results["avalanche"] = []
    else:
        skipped = f"no Python at {args.avalanche_python}: Avalanche not run"
        console.print(f"[yellow]{skipped}[/yellow]")
    # one seed at a time, alternating, so that both sides see the same machine load
    for seed in args.seeds:
        results["mentor"] += ours(path, [seed], args.buffer, args.epochs)
        if "avalanche" in results:
            results["avalanche"] += avalanche(
                args.avalanche_python, path, [seed], args.buffer, args.epochs
            )
        console.log(f"seed {seed} done")
    summary = {name: summarise(runs, args.epochs) for name, runs in results.items()}
    title = (
        f"ER, Split Fashion-MNIST, buffer {args.buffer}, {args.epochs} epoch(s)/task, "
        f"batch {BATCH}+{BATCH}, lr {LR}, {len(args.seeds)} seeds, CPU, 1 thread"
    )
    table = Table(title=title)
    for column in ("implementation", "class-IL %", "task-IL %", "BWT %", "forgetting %", "s/epoch"):
        table.add_column(column, justify="left" if column == "implementation" else "right")
    for name, s in summary.items():
        table.add_row(
            name,
            *(
                f"{100 * s[k]:.2f} ± {100 * s[k + '_std']:.2f}"
                for k in ("class_il", "task_il", "bwt", "forgetting")
            ),
            f"{s['seconds_per_epoch']:.2f} ± {s['seconds_per_epoch_std']:.2f}",
        )
    console.print(table)
    write_json(
        RESULTS / "continual_avalanche.json",
        {
            "title": title,
            "command": " ".join(sys.argv),
            "summary": summary,
            "runs": results,
            "skipped": skipped,
        },
    )
    console.print(f"wrote {RESULTS / 'continual_avalanche.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
