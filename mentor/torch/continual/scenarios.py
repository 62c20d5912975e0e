"""Continual-learning scenarios: a stream of tasks cut from any ``(x, y)`` tensors.

The three settings of van de Ven and Tolias ("Three scenarios for continual
learning", 2019), plus two ways of presenting the stream:

- :func:`class_incremental`: each task brings new classes; at test time the
  model must tell all classes apart (no task id).
- :func:`task_incremental`: the same split, but the task id is given: logits
  are masked to the task's classes in training and at test time.
- :func:`domain_incremental`: every task has the same labels, the inputs are
  transformed (:func:`permutations`, Permuted MNIST, Goodfellow et al. 2013;
  :func:`rotations`, Rotated MNIST, Lopez-Paz and Ranzato 2017).
- :func:`online`: a single pass over each task in small batches (Aljundi et
  al., "Online Continual Learning with Maximally Interfered Retrieval", 2019).
- :func:`blurry`: task boundaries blurred by moving a fraction of each task's
  training examples into the neighbouring tasks (the "blurry" setups of
  Aljundi, Lin, Goujaud and Bengio, "Gradient based sample selection for
  online continual learning", NeurIPS 2019, and Bang et al., "Rainbow
  Memory", CVPR 2021).

A :class:`Scenario` is validated when built: tasks must have data, class sets
must not overlap (in the class and task settings) and labels must belong to
the task's declared classes (in every setting); a violation raises
:class:`~mentor.errors.DataError` naming the task and the label.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F

from mentor._checks import check_count, check_unit
from mentor.errors import DataError, ParameterError

SETTINGS = ("class", "task", "domain")

Transform = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Task:
    """One task: its training and test examples and its declared classes.

    Attributes
    ----------
    x_train, y_train, x_test, y_test
        Inputs (any shape, first dimension the examples) and int64 labels.
    classes
        The task's classes (for the task setting, the logits it may use).
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    classes: tuple[int, ...]


@dataclass(frozen=True)
class Scenario:
    """A sequence of tasks with a setting and, optionally, a fixed protocol.

    Attributes
    ----------
    tasks
        The tasks, in training order.
    num_classes
        Number of output classes of the model (labels lie in ``0 .. num_classes - 1``).
    setting
        ``"class"``, ``"task"`` (task id known at test time) or ``"domain"``.
    epochs, batch_size
        Set by :func:`online` (1 and a small batch); ``None`` leaves them to the trainer.
    blur
        Fraction of each task's training examples that came from its neighbours
        (set by :func:`blurry`); training labels may then belong to a neighbour.
    """

    tasks: tuple[Task, ...]
    num_classes: int
    setting: str = "class"
    epochs: int | None = None
    batch_size: int | None = None
    blur: float = 0.0

    def __post_init__(self) -> None:
        if self.setting not in SETTINGS:
            raise ParameterError(
                f"setting must be one of {', '.join(SETTINGS)}", field="setting", value=self.setting
            )
        if not self.tasks:
            raise DataError("a scenario needs at least one task")
        owner: dict[int, int] = {}
        for t, task in enumerate(self.tasks):
            _check_task(t, task, self.num_classes)
            if self.setting == "domain":
                continue
            for c in task.classes:
                if c in owner:
                    raise DataError(
                        f"tasks {owner[c]} and {t} overlap: both declare class {c}",
                        field=f"task {t}",
                        value=c,
                    )
                owner[c] = t
        if self.blur > 0 and self.setting != "class":
            raise ParameterError(
                "blurry task boundaries need the class setting", field="setting", value=self.setting
            )
        for t, task in enumerate(self.tasks):
            _check_labels(t, "test", task.y_test, set(task.classes))
            allowed = set(task.classes)
            if self.blur > 0:
                for n in (t - 1, t + 1):
                    if 0 <= n < len(self.tasks):
                        allowed |= set(self.tasks[n].classes)
            _check_labels(t, "train", task.y_train, allowed)

    @property
    def num_tasks(self) -> int:
        return len(self.tasks)

    @property
    def task_labels(self) -> bool:
        """Whether the task id is given in training and at test time (the task setting)."""
        return self.setting == "task"

    def class_mask(self, device: torch.device | str | None = None) -> torch.Tensor:
        """Boolean ``[num_tasks, num_classes]``: which logits each task may use."""
        mask = torch.zeros(self.num_tasks, self.num_classes, dtype=torch.bool)
        for t, task in enumerate(self.tasks):
            mask[t, list(task.classes)] = True
        return mask.to(device) if device is not None else mask

    def to(self, device: torch.device | str) -> Scenario:
        """The same scenario with every tensor on ``device``."""
        return replace(
            self,
            tasks=tuple(
                Task(
                    task.x_train.to(device),
                    task.y_train.to(device),
                    task.x_test.to(device),
                    task.y_test.to(device),
                    task.classes,
                )
                for task in self.tasks
            ),
        )


def _check_task(t: int, task: Task, num_classes: int) -> None:
    if not task.classes:
        raise DataError(f"task {t} declares no classes", field=f"task {t}")
    for split, x, y in (("train", task.x_train, task.y_train), ("test", task.x_test, task.y_test)):
        if len(y) == 0:
            raise DataError(f"task {t} has no {split} examples", field=f"task {t}")
        if len(x) != len(y):
            raise DataError(
                f"task {t} has {len(x)} {split} inputs but {len(y)} labels", field=f"task {t}"
            )
    for c in task.classes:
        if not 0 <= c < num_classes:
            raise DataError(
                f"task {t} declares class {c} outside 0..{num_classes - 1}",
                field=f"task {t}",
                value=c,
            )


def _check_labels(t: int, split: str, y: torch.Tensor, allowed: set[int]) -> None:
    present = torch.unique(y).tolist()
    stray = [label for label in present if label not in allowed]
    if stray:
        raise DataError(
            f"task {t} has {split} label {stray[0]}, not among its classes {sorted(allowed)}",
            field=f"task {t}",
            value=stray[0],
        )


def _as_labels(name: str, y: torch.Tensor | np.ndarray) -> torch.Tensor:
    y = torch.as_tensor(y)
    if y.ndim != 1 or y.dtype.is_floating_point or y.dtype == torch.bool:
        raise DataError("labels must be a 1-d integer tensor", field=name, value=str(y.dtype))
    return y.to(torch.int64)


def _split_classes(
    tasks: int | Sequence[Sequence[int]], num_classes: int, seed: int | None
) -> list[tuple[int, ...]]:
    if isinstance(tasks, int):
        if tasks < 1 or num_classes % tasks:
            raise ParameterError(
                f"{num_classes} classes cannot be split into {tasks} equal tasks",
                field="tasks",
                value=tasks,
            )
        order = np.arange(num_classes)
        if seed is not None:
            order = np.random.default_rng(seed).permutation(num_classes)
        size = num_classes // tasks
        return [tuple(int(c) for c in order[i * size : (i + 1) * size]) for i in range(tasks)]
    return [tuple(int(c) for c in classes) for classes in tasks]


def _by_classes(
    x_train: torch.Tensor,
    y_train: torch.Tensor | np.ndarray,
    x_test: torch.Tensor,
    y_test: torch.Tensor | np.ndarray,
    tasks: int | Sequence[Sequence[int]],
    num_classes: int | None,
    seed: int | None,
    setting: str,
) -> Scenario:
    y_train, y_test = _as_labels("y_train", y_train), _as_labels("y_test", y_test)
    x_train, x_test = torch.as_tensor(x_train), torch.as_tensor(x_test)
    for name, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        if len(x) != len(y):
            raise DataError(f"{len(x)} {name} inputs but {len(y)} labels", field=f"x_{name}")
    if num_classes is None:
        num_classes = int(max(y_train.max(), y_test.max())) + 1
    split = _split_classes(tasks, num_classes, seed)
    declared = {c for classes in split for c in classes}
    for name, y in (("y_train", y_train), ("y_test", y_test)):
        stray = sorted(set(torch.unique(y).tolist()) - declared)
        if stray:
            raise DataError(
                f"label {stray[0]} belongs to no task (declared classes: {sorted(declared)})",
                field=name,
                value=stray[0],
            )
    built = []
    for classes in split:
        wanted = torch.tensor(classes, dtype=torch.int64, device=y_train.device)
        train = torch.isin(y_train, wanted)
        test = torch.isin(y_test, wanted.to(y_test.device))
        built.append(Task(x_train[train], y_train[train], x_test[test], y_test[test], classes))
    return Scenario(tuple(built), num_classes, setting)


def class_incremental(
    x_train: torch.Tensor,
    y_train: torch.Tensor | np.ndarray,
    x_test: torch.Tensor,
    y_test: torch.Tensor | np.ndarray,
    tasks: int | Sequence[Sequence[int]] = 5,
    num_classes: int | None = None,
    seed: int | None = None,
) -> Scenario:
    """Class-incremental stream: task ``t`` holds the examples of its classes.

    Parameters
    ----------
    x_train, y_train, x_test, y_test
        The whole dataset (labels 1-d integers).
    tasks
        Number of tasks (classes ``0..C-1`` cut into equal consecutive groups,
        e.g. 5 gives Split MNIST / Seq-CIFAR-10's ``(0, 1), (2, 3), ...``), or
        the classes of each task explicitly. Default 5.
    num_classes
        Number of classes ``C``; default ``max label + 1``.
    seed
        With an int ``tasks``, shuffle the class order with this seed; ``None``
        (default) keeps the natural order.

    Raises
    ------
    DataError
        If a label belongs to no task, two tasks share a class, or a task has
        no train or test examples.
    """
    return _by_classes(x_train, y_train, x_test, y_test, tasks, num_classes, seed, "class")


def task_incremental(
    x_train: torch.Tensor,
    y_train: torch.Tensor | np.ndarray,
    x_test: torch.Tensor,
    y_test: torch.Tensor | np.ndarray,
    tasks: int | Sequence[Sequence[int]] = 5,
    num_classes: int | None = None,
    seed: int | None = None,
) -> Scenario:
    """Task-incremental stream: the split of :func:`class_incremental`, with the task
    id known, so that logits are masked to the task's classes (multi-head)."""
    return _by_classes(x_train, y_train, x_test, y_test, tasks, num_classes, seed, "task")


def permutations(num_tasks: int, num_features: int, seed: int = 0) -> list[Transform]:
    """Pixel permutations for Permuted MNIST (Goodfellow et al. 2013): task 0 keeps
    the identity, tasks ``1..`` permute the flattened input with a seeded random
    permutation each."""
    rng = np.random.default_rng(seed)
    perms = [np.arange(num_features)] + [
        rng.permutation(num_features) for _ in range(num_tasks - 1)
    ]

    def make(perm: np.ndarray) -> Transform:
        index = torch.as_tensor(perm)

        def permute(x: torch.Tensor) -> torch.Tensor:
            flat = x.reshape(len(x), -1)
            if flat.shape[1] != num_features:
                raise DataError(
                    f"permutation expects {num_features} features per input",
                    value=flat.shape[1],
                )
            return flat[:, index.to(x.device)].reshape(x.shape)

        return permute

    return [make(perm) for perm in perms]


def rotations(angles: Sequence[float]) -> list[Transform]:
    """Rotations of ``[N, C, H, W]`` images by fixed angles in degrees, counter-clockwise
    as displayed with row 0 at the top (90 degrees is ``torch.rot90(x, 1, (2, 3))``);
    bilinear, zero padding outside the image (Rotated MNIST, Lopez-Paz and
    Ranzato 2017)."""

    def make(degrees: float) -> Transform:
        theta = math.radians(degrees)

        def rotate(x: torch.Tensor) -> torch.Tensor:
            if x.ndim != 4:
                raise DataError("rotation expects images [N, C, H, W]", value=list(x.shape))
            cos, sin = math.cos(theta), math.sin(theta)
            matrix = torch.tensor(
                [[cos, -sin, 0.0], [sin, cos, 0.0]], dtype=x.dtype, device=x.device
            ).expand(len(x), 2, 3)
            grid = F.affine_grid(matrix, list(x.shape), align_corners=False)
            return F.grid_sample(
                x, grid, mode="bilinear", padding_mode="zeros", align_corners=False
            )

        return rotate

    return [make(float(a)) for a in angles]


def domain_incremental(
    x_train: torch.Tensor,
    y_train: torch.Tensor | np.ndarray,
    x_test: torch.Tensor,
    y_test: torch.Tensor | np.ndarray,
    transforms: Sequence[Transform],
    num_classes: int | None = None,
    fraction: float = 1.0,
    seed: int = 0,
) -> Scenario:
    """Domain-incremental stream: every task has all labels, task ``t``'s inputs are
    ``transforms[t](x)``.

    Parameters
    ----------
    transforms
        One function per task, applied once to the whole train and test inputs.
    num_classes
        Default ``max label + 1``.
    fraction
        Fraction of the training set each task draws (a disjoint, seeded random
        part per task when below 1, as in GEM's MNIST variants). Default 1 (all).
    seed
        Seed of that draw.
    """
    y_train, y_test = _as_labels("y_train", y_train), _as_labels("y_test", y_test)
    x_train, x_test = torch.as_tensor(x_train), torch.as_tensor(x_test)
    if not transforms:
        raise ParameterError("need one transform per task", field="transforms", value=0)
    if not 0.0 < fraction <= 1.0 or (fraction < 1.0 and fraction * len(transforms) > 1.0):
        raise ParameterError(
            "fraction must lie in (0, 1] and, below 1, leave a disjoint part per task",
            field="fraction",
            value=fraction,
        )
    if num_classes is None:
        num_classes = int(max(y_train.max(), y_test.max())) + 1
    classes = tuple(range(num_classes))
    order = torch.as_tensor(np.random.default_rng(seed).permutation(len(y_train)))
    size = int(round(fraction * len(y_train)))
    built = []
    for t, transform in enumerate(transforms):
        part = order[t * size : (t + 1) * size] if fraction < 1.0 else order
        part = part.to(x_train.device)
        built.append(
            Task(transform(x_train[part]), y_train[part], transform(x_test), y_test, classes)
        )
    for name, y in (("y_train", y_train), ("y_test", y_test)):
        if len(y) and (int(y.min()) < 0 or int(y.max()) >= num_classes):
            bad = int(y.min()) if int(y.min()) < 0 else int(y.max())
            raise DataError(
                f"label {bad} outside the declared classes 0..{num_classes - 1}",
                field=name,
                value=bad,
            )
    return Scenario(tuple(built), num_classes, "domain")


def online(scenario: Scenario, batch_size: int = 10) -> Scenario:
    """The same tasks seen once, in batches of ``batch_size`` (default 10, as in
    Aljundi et al. 2019's online setting)."""
    batch_size = check_count("batch_size", batch_size, 1)
    return replace(scenario, epochs=1, batch_size=batch_size)


def blurry(scenario: Scenario, fraction: float = 0.1, seed: int = 0) -> Scenario:
    """Blur task boundaries: move ``fraction`` of each task's training examples into a
    neighbouring task (the previous or the next one, at random; the first and
    last tasks have one neighbour).

    Parameters
    ----------
    scenario
        A class-incremental scenario with at least two tasks. Not the task
        setting: there every example's logits are masked to its task's
        classes, and a moved example's label is not among them.
    fraction
        Fraction in [0, 1) of each task's training examples that move. Default
        0.1 ("blurry10").
    seed
        Seed of which examples move and where.

    Test sets are unchanged. Examples are moved from the original tasks, so an
    example moves at most once.
    """
    fraction = check_unit("fraction", fraction, strict_maximum=True)
    if scenario.setting != "class" or scenario.num_tasks < 2:
        raise ParameterError(
            "blurry needs a class-incremental scenario with 2 or more tasks",
            field="scenario",
            value=f"{scenario.setting}, {scenario.num_tasks} tasks",
        )
    rng = np.random.default_rng(seed)
    last = scenario.num_tasks - 1
    keep: list[list[torch.Tensor]] = [[] for _ in scenario.tasks]
    moved_x: list[list[torch.Tensor]] = [[] for _ in scenario.tasks]
    moved_y: list[list[torch.Tensor]] = [[] for _ in scenario.tasks]
    for t, task in enumerate(scenario.tasks):
        n = len(task.y_train)
        order = rng.permutation(n)
        count = int(round(fraction * n))
        stay = torch.as_tensor(np.sort(order[count:]), device=task.y_train.device)
        keep[t] = [task.x_train[stay], task.y_train[stay]]
        leaving = order[:count]
        if t == 0:
            targets = np.ones(count, dtype=int)
        elif t == last:
            targets = np.full(count, t - 1)
        else:
            targets = np.where(rng.random(count) < 0.5, t - 1, t + 1)
        for target in (t - 1, t + 1):
            chosen = leaving[targets == target]
            if chosen.size:
                index = torch.as_tensor(np.sort(chosen), device=task.y_train.device)
                moved_x[target].append(task.x_train[index])
                moved_y[target].append(task.y_train[index])
    tasks = []
    for t, task in enumerate(scenario.tasks):
        x = torch.cat([keep[t][0], *moved_x[t]])
        y = torch.cat([keep[t][1], *moved_y[t]])
        shuffle = torch.as_tensor(rng.permutation(len(y)), device=y.device)
        tasks.append(Task(x[shuffle], y[shuffle], task.x_test, task.y_test, task.classes))
    return replace(scenario, tasks=tuple(tasks), blur=fraction)
