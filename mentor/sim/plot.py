"""Plot of learning curves per teacher, written atomically as PNG."""

from __future__ import annotations

import os

import numpy as np

from mentor._io import atomic_path
from mentor.metrics.teaching import mean_ci
from mentor.sim.experiment import ExperimentResult


def plot_learning_curves(
    result: ExperimentResult, path: str | os.PathLike[str], title: str = ""
) -> None:
    """Mean post-test score per step for each teacher, with its 95 % band over seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.5), dpi=120)
    steps = np.arange(result.steps + 1)
    for name, curves in result.curves.items():
        stats = np.array([mean_ci(curves[:, s]) for s in range(curves.shape[1])])
        (line,) = ax.plot(steps, stats[:, 0], label=name, linewidth=1.8)
        ax.fill_between(steps, stats[:, 1], stats[:, 2], color=line.get_color(), alpha=0.2)
    ax.set_xlabel("practice step")
    ax.set_ylabel("mean post-test score")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(title="teacher", loc="upper left")
    seeds = next(iter(result.curves.values())).shape[0]
    ax.set_title(title or f"Learning curves (mean and 95% CI over {seeds} seeds)")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
