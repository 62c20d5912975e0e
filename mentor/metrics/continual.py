r"""Continual-learning metrics on an accuracy matrix.

A run over ``T`` tasks produces the accuracy matrix ``R`` (``T x T``, values in
[0, 1]): ``R[i, j]`` is the test accuracy on task ``j`` after training on task
``i`` (0-based). Entries above the diagonal (tasks not trained yet) are used
only by forward transfer. Every function below validates ``R`` the same way:
square, at least one task, finite, inside [0, 1].

Definitions (``T`` tasks, 0-based indices, ``j < T``):

- average accuracy (Lopez-Paz and Ranzato, "Gradient Episodic Memory for
  Continual Learning", NeurIPS 2017, "ACC"):
  ``ACC = (1/T) * sum_j R[T-1, j]``.
- backward transfer (GEM): ``BWT = 1/(T-1) * sum_{j < T-1} (R[T-1, j] - R[j, j])``;
  negative values are forgetting.
- forward transfer (GEM): ``FWT = 1/(T-1) * sum_{j >= 1} (R[j-1, j] - b[j])``
  where ``b[j]`` is the accuracy on task ``j`` of the randomly initialised model.
- forgetting (Chaudhry, Dokania, Ajanthan and Torr, "Riemannian Walk for
  Incremental Learning", ECCV 2018):
  ``f_j = max_{j <= l <= T-2} R[l, j] - R[T-1, j]`` for ``j < T-1`` and
  ``F = 1/(T-1) * sum_{j < T-1} f_j``. Chaudhry et al. write the maximum over
  all rows before the last; rows ``l < j`` (before task ``j`` was trained) are
  left out here, because an untrained guess is not knowledge that can be
  forgotten. The two agree whenever accuracy on a task before it is trained
  does not exceed its accuracy afterwards (always in class-incremental runs,
  where untrained classes score 0).
- average incremental accuracy (Rebuffi, Kolesnikov, Sperl and Lampert,
  "iCaRL: Incremental Classifier and Representation Learning", CVPR 2017):
  the mean over steps of the accuracy on everything seen so far,
  ``AIA = (1/T) * sum_i A_i`` with
  ``A_i = sum_{j <= i} n_j R[i, j] / sum_{j <= i} n_j``, where ``n_j`` is the
  number of test examples of task ``j`` (equal weights by default).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mentor.errors import DataError


def check_accuracy_matrix(matrix: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    """``matrix`` as a float ``T x T`` array, or a :class:`DataError` naming the fault.

    Raises
    ------
    DataError
        If the matrix is not square, is empty, or has an entry that is NaN,
        infinite or outside [0, 1] (the message names the row and column).
    """
    try:
        r = np.asarray(matrix, dtype=float)
    except (TypeError, ValueError) as error:
        raise DataError(f"accuracy matrix must be numeric ({error})") from None
    if r.ndim != 2 or r.shape[0] != r.shape[1]:
        raise DataError("accuracy matrix must be square (tasks x tasks)", value=list(r.shape))
    if r.shape[0] == 0:
        raise DataError("accuracy matrix has no tasks")
    bad = ~np.isfinite(r) | (r < 0.0) | (r > 1.0)
    if bad.any():
        i, j = (int(k) for k in np.argwhere(bad)[0])
        raise DataError(
            f"accuracy R[{i}, {j}] must be a number in [0, 1]",
            field=f"R[{i}, {j}]",
            value=float(r[i, j]),
        )
    return r


def _at_least_two(r: np.ndarray, name: str) -> None:
    if r.shape[0] < 2:
        raise DataError(f"{name} needs at least 2 tasks", value=r.shape[0])


def average_accuracy(matrix: Sequence[Sequence[float]] | np.ndarray) -> float:
    """GEM's ACC: mean accuracy over all tasks after the last one, ``mean_j R[T-1, j]``."""
    r = check_accuracy_matrix(matrix)
    return float(r[-1].mean())


def backward_transfer(matrix: Sequence[Sequence[float]] | np.ndarray) -> float:
    """GEM's BWT: ``1/(T-1) * sum_{j < T-1} (R[T-1, j] - R[j, j])`` (needs T >= 2)."""
    r = check_accuracy_matrix(matrix)
    _at_least_two(r, "backward transfer")
    t = r.shape[0]
    return float(np.mean(r[-1, : t - 1] - np.diag(r)[: t - 1]))


def forward_transfer(
    matrix: Sequence[Sequence[float]] | np.ndarray, random_accuracy: Sequence[float] | np.ndarray
) -> float:
    """GEM's FWT: ``1/(T-1) * sum_{j >= 1} (R[j-1, j] - b[j])`` (needs T >= 2).

    Parameters
    ----------
    matrix
        The accuracy matrix ``R``.
    random_accuracy
        ``b``: accuracy on each task of the model at random initialisation,
        one value per task in [0, 1].
    """
    r = check_accuracy_matrix(matrix)
    _at_least_two(r, "forward transfer")
    b = np.asarray(random_accuracy, dtype=float)
    if b.shape != (r.shape[0],):
        raise DataError(
            f"random_accuracy must have one value per task ({r.shape[0]})",
            field="random_accuracy",
            value=list(b.shape),
        )
    if not np.all(np.isfinite(b) & (b >= 0.0) & (b <= 1.0)):
        raise DataError("random_accuracy values must lie in [0, 1]", field="random_accuracy")
    t = r.shape[0]
    return float(np.mean(r[np.arange(t - 1), np.arange(1, t)] - b[1:]))


def forgetting_per_task(matrix: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    """Forgetting of each task but the last (Chaudhry et al. 2018):
    ``f_j = max_{j <= l <= T-2} R[l, j] - R[T-1, j]`` for ``j < T-1``."""
    r = check_accuracy_matrix(matrix)
    _at_least_two(r, "forgetting")
    t = r.shape[0]
    earlier = r[: t - 1, : t - 1]
    trained = np.tril(np.ones((t - 1, t - 1), dtype=bool))  # row l >= column j
    best = np.where(trained, earlier, -np.inf).max(axis=0)
    result: np.ndarray = best - r[-1, : t - 1]
    return result


def forgetting(matrix: Sequence[Sequence[float]] | np.ndarray) -> float:
    """Average forgetting ``F = mean_{j < T-1} f_j`` (Chaudhry et al. 2018).

    See :func:`forgetting_per_task` for ``f_j``."""
    return float(forgetting_per_task(matrix).mean())


def average_incremental_accuracy(
    matrix: Sequence[Sequence[float]] | np.ndarray,
    sizes: Sequence[float] | np.ndarray | None = None,
) -> float:
    """iCaRL's average incremental accuracy: ``(1/T) * sum_i A_i``, ``A_i`` the accuracy
    on tasks ``0..i`` after task ``i``, each task weighted by its test size.

    Parameters
    ----------
    matrix
        The accuracy matrix ``R``.
    sizes
        ``n_j``, number of test examples of each task (positive). Default: all equal.
    """
    r = check_accuracy_matrix(matrix)
    t = r.shape[0]
    n = np.ones(t) if sizes is None else np.asarray(sizes, dtype=float)
    if n.shape != (t,) or not np.all(np.isfinite(n) & (n > 0)):
        raise DataError(f"sizes must be {t} positive numbers, one per task", field="sizes")
    seen = np.tril(np.ones((t, t)))  # column j counts in row i when j <= i
    step_accuracy = (r * n * seen).sum(axis=1) / (n * seen).sum(axis=1)
    return float(step_accuracy.mean())


def continual_summary(
    matrix: Sequence[Sequence[float]] | np.ndarray,
    random_accuracy: Sequence[float] | np.ndarray | None = None,
    sizes: Sequence[float] | np.ndarray | None = None,
) -> dict[str, float]:
    """All of the above in one dict: ``accuracy``, ``incremental_accuracy`` and, with
    two or more tasks, ``bwt`` and ``forgetting``; ``fwt`` when ``random_accuracy`` is given."""
    r = check_accuracy_matrix(matrix)
    out = {
        "accuracy": average_accuracy(r),
        "incremental_accuracy": average_incremental_accuracy(r, sizes),
    }
    if r.shape[0] >= 2:
        out["bwt"] = backward_transfer(r)
        out["forgetting"] = forgetting(r)
        if random_accuracy is not None:
            out["fwt"] = forward_transfer(r, random_accuracy)
    return out
