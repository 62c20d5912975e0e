"""Plot of an evaluation: AUC per model and a reliability diagram, written atomically as PNG."""

from __future__ import annotations

import os

import numpy as np

from mentor._io import atomic_path
from mentor.evaluation.runner import Evaluation
from mentor.metrics import reliability


def plot_evaluation(
    evaluation: Evaluation, path: str | os.PathLike[str], title: str = "", bins: int = 10
) -> None:
    """Left: mean test AUC per model with its standard deviation over folds.
    Right: reliability diagram (mean outcome against mean prediction per bin,
    every fold's test predictions pooled, marker area in proportion to the bin's
    events); the diagonal is perfect calibration."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    summary = evaluation.summary()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5), dpi=120)
    names = [row["model"] for row in summary]
    means = np.array([row["auc"] for row in summary])
    stds = np.array([row["auc_std"] for row in summary])
    colors = [f"C{i}" for i in range(len(names))]
    left.bar(names, means, yerr=stds, color=colors, capsize=4)
    low = np.nanmin(means - stds) if len(means) else 0.5
    left.set_ylim(max(0.0, min(0.5, low - 0.02)), 1.0)
    left.set_ylabel("test AUC (mean ± sd over folds)")
    left.grid(axis="y", alpha=0.3)
    for x, m in enumerate(means):
        left.text(x, m + 0.005, f"{m:.3f}", ha="center", va="bottom", fontsize=8)

    right.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
    for name, color in zip(names, colors, strict=True):
        r = reliability(*evaluation.pooled(name), bins=bins)
        right.plot(r.mean_prediction, r.mean_outcome, color=color, label=name, linewidth=1)
        share = r.count / r.count.sum()  # a near-empty bin gets a dot, not a full marker
        right.scatter(r.mean_prediction, r.mean_outcome, s=4 + 400 * share, color=color)
    right.set_xlim(0, 1)
    right.set_ylim(0, 1)
    right.set_xlabel("mean predicted success")
    right.set_ylabel("observed success rate")
    right.set_title("reliability (marker area: share of events in the bin)")
    right.grid(alpha=0.3)
    right.legend(loc="upper left")
    fig.suptitle(title or "Student models on held-out events")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
