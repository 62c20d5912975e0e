"""Run a strategy over a scenario and measure it.

:func:`run` trains a :class:`~mentor.torch.continual.strategies.base.Strategy`
on each task of a :class:`~mentor.torch.continual.scenarios.Scenario` in turn
and evaluates it on every task's test set after each one, giving the
accuracy matrix ``R`` (``R[i, j]``: accuracy on task ``j`` after task ``i``) in
two flavours:

- class-IL: the argmax over all classes (no task id);
- task-IL: the argmax over the classes of the task being tested (the task id
  is known); not defined in the domain setting, where all tasks share labels.

Before training, the same evaluation of the untrained network gives the
accuracies ``b_j`` that forward transfer needs. The metrics of
:mod:`mentor.metrics.continual` are computed on both matrices.

For speed on a GPU the whole scenario is moved to the strategy's device once;
batches are cut from a device-side permutation, losses are summed on the
device and read once per epoch, and the clock is read after a device
synchronisation at the end of each epoch. ``channels_last`` converts images
and network to that memory format; bfloat16 autocast is the strategy's
``amp`` flag.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from mentor._checks import check_count
from mentor.errors import ParameterError
from mentor.metrics.continual import continual_summary
from mentor.torch.continual.scenarios import Scenario
from mentor.torch.continual.strategies.base import Strategy


@dataclass
class ContinualResult:
    """What :func:`run` measured.

    Attributes
    ----------
    class_il, task_il
        Accuracy matrices ``[T, T]`` in [0, 1]; ``task_il`` is ``None`` in the
        domain setting.
    random_class_il, random_task_il
        Accuracy on each task of the untrained network (``b`` of forward transfer).
    epoch_seconds
        Wall-clock seconds of each epoch of each task (``[task][epoch]``).
    task_seconds
        Wall-clock seconds of each task, end-of-task work (Fisher, herding,
        GDumb's retraining) included.
    losses
        Mean training loss of each epoch of each task.
    metrics
        ``{"class_il": {...}, "task_il": {...}}`` from
        :func:`mentor.metrics.continual.continual_summary` (with ``fwt``).
    """

    class_il: np.ndarray
    task_il: np.ndarray | None
    random_class_il: np.ndarray
    random_task_il: np.ndarray | None
    epoch_seconds: list[list[float]] = field(default_factory=list)
    task_seconds: list[float] = field(default_factory=list)
    losses: list[list[float]] = field(default_factory=list)
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def seconds_per_epoch(self) -> float:
        """Total training time (end-of-task work included) over the number of epochs."""
        epochs = sum(len(e) for e in self.epoch_seconds)
        return float(sum(self.task_seconds) / max(epochs, 1))

    @property
    def diverged(self) -> bool:
        """Whether some epoch's mean training loss was NaN or infinite."""
        return not all(math.isfinite(loss) for losses in self.losses for loss in losses)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able data (non-finite losses become ``None``)."""
        out = asdict(self)
        for key in ("class_il", "task_il", "random_class_il", "random_task_il"):
            value = out[key]
            out[key] = None if value is None else np.asarray(value).tolist()
        out["losses"] = [
            [loss if math.isfinite(loss) else None for loss in losses] for losses in self.losses
        ]
        out["seconds_per_epoch"] = self.seconds_per_epoch
        out["diverged"] = self.diverged
        return out


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@torch.no_grad()
def evaluate(
    strategy: Strategy, scenario: Scenario, batch_size: int = 1000
) -> tuple[np.ndarray, np.ndarray | None]:
    """Accuracy on each task's test set: ``(class_il, task_il)``, one value per task
    (``task_il`` is ``None`` in the domain setting). One device synchronisation."""
    mask = scenario.class_mask(strategy.device)
    correct_class, correct_task = [], []
    for j, task in enumerate(scenario.tasks):
        hits_class = torch.zeros((), dtype=torch.int64, device=strategy.device)
        hits_task = torch.zeros((), dtype=torch.int64, device=strategy.device)
        for start in range(0, len(task.y_test), batch_size):
            x = task.x_test[start : start + batch_size]
            y = task.y_test[start : start + batch_size]
            scores = strategy.predict(x, j)
            hits_class += (scores.argmax(1) == y).sum()
            masked = scores.masked_fill(~mask[j], float("-inf"))
            hits_task += (masked.argmax(1) == y).sum()
        correct_class.append(hits_class)
        correct_task.append(hits_task)
    sizes = np.array([len(task.y_test) for task in scenario.tasks], dtype=float)
    class_il = torch.stack(correct_class).cpu().numpy() / sizes
    task_il = torch.stack(correct_task).cpu().numpy() / sizes
    return class_il, (None if scenario.setting == "domain" else task_il)


def run(
    strategy: Strategy,
    scenario: Scenario,
    *,
    epochs: int = 1,
    batch_size: int = 32,
    seed: int = 0,
    eval_batch_size: int = 1000,
    channels_last: bool = False,
    progress: bool = True,
    console: Console | None = None,
) -> ContinualResult:
    """Train ``strategy`` on each task of ``scenario`` in turn, evaluating after each.

    Parameters
    ----------
    strategy
        The strategy (its network is trained in place).
    scenario
        The tasks. Its ``epochs`` and ``batch_size``, when set (see
        :func:`~mentor.torch.continual.scenarios.online`), override the two below.
    epochs
        Passes over each task's training set. Default 1.
    batch_size
        Stream batch size. Default 32 (DER paper).
    seed
        Seed of the order of examples within each epoch.
    eval_batch_size
        Batch size of evaluation. Default 1000.
    channels_last
        Put 4-d inputs and the network in channels-last memory format.
    progress
        Show a rich progress bar.
    console
        Console of the progress bar (default: rich's).

    Returns
    -------
    ContinualResult
    """
    epochs = scenario.epochs or check_count("epochs", epochs, 1)
    batch_size = scenario.batch_size or check_count("batch_size", batch_size, 1)
    if scenario.num_classes > strategy.num_outputs():
        raise ParameterError(
            f"the network has {strategy.num_outputs()} outputs but the scenario "
            f"{scenario.num_classes} classes",
            field="net",
        )
    device = strategy.device
    scenario = scenario.to(device)
    if channels_last:
        strategy.net.to(memory_format=torch.channels_last)
    if scenario.task_labels:
        strategy.class_mask = scenario.class_mask(device)
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)

    def layout(x: torch.Tensor) -> torch.Tensor:
        if channels_last and x.ndim == 4:
            return x.contiguous(memory_format=torch.channels_last)
        return x

    random_class, random_task = evaluate(strategy, scenario, eval_batch_size)
    rows_class: list[np.ndarray] = []
    rows_task: list[np.ndarray] = []  # stays empty in the domain setting
    result = ContinualResult(np.zeros((0, 0)), None, random_class, random_task)
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} batches"),
        TimeElapsedColumn(),
        console=console,
        disable=not progress,
        transient=True,
    )
    with bar:
        for t, task in enumerate(scenario.tasks):
            started = time.perf_counter()
            x_task, y_task = layout(task.x_train), task.y_train
            strategy.begin_task(t, x_task, y_task)
            x, y, ids = strategy.train_set(t, x_task, y_task)
            n = len(y)
            steps = -(-n // batch_size)
            bar_id = bar.add_task(
                f"{strategy.name} task {t + 1}/{scenario.num_tasks}", total=steps * epochs
            )
            seconds, losses = [], []
            for _ in range(epochs):
                epoch_start = time.perf_counter()
                order = torch.randperm(n, generator=generator, device=device)
                total = torch.zeros((), device=device)
                for i in range(steps):
                    rows = order[i * batch_size : (i + 1) * batch_size]
                    total += strategy.observe(x[rows], y[rows], ids[rows])
                    bar.advance(bar_id)
                _sync(device)
                seconds.append(time.perf_counter() - epoch_start)
                losses.append(float(total) / steps)
            strategy.end_task(t, x_task, y_task)
            _sync(device)
            result.task_seconds.append(time.perf_counter() - started)
            result.epoch_seconds.append(seconds)
            result.losses.append(losses)
            bar.remove_task(bar_id)
            accuracy_class, accuracy_task = evaluate(strategy, scenario, eval_batch_size)
            rows_class.append(accuracy_class)
            if accuracy_task is not None:
                rows_task.append(accuracy_task)
    result.class_il = np.vstack(rows_class)
    result.task_il = None if scenario.setting == "domain" else np.vstack(rows_task)
    sizes = [len(task.y_test) for task in scenario.tasks]
    result.metrics["class_il"] = continual_summary(result.class_il, random_class, sizes)
    if result.task_il is not None:
        result.metrics["task_il"] = continual_summary(result.task_il, random_task, sizes)
    return result
