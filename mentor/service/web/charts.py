"""The admin dashboard's charts (matplotlib, as SVG): learning curves and the
teacher's choices over time.

Learning curves, per learner, against the learner's attempt number:

- success rate: the mean outcome of the last ``window`` attempts (default 10);
- mastery: the mean over the course's skills of the student model's mastery
  after each attempt, found by replaying the learner's attempts through a new
  model built from the course's model spec. For a model the service only
  updates online (BKT or Elo as the course starts them) this is exactly the
  mastery the course's model had after each attempt; after a batch fit
  (``PUT .../policy`` with ``fit``) it is the mastery the unfitted model gives.

The teacher's choices: for one learner, the skill practised at each attempt
(skills in the knowledge map's order, top to bottom), marked right or wrong;
for a course, the share of its learners' n-th attempts that went to each skill,
as a heat map.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mentor.domain import Domain
from mentor.events import EventLog
from mentor.service.web.common import skill_name
from mentor.service.web.knowledge_map import layers
from mentor.students import create_model

#: Learners drawn in one chart (the most active), events replayed per learner.
MAX_LEARNERS = 12
MAX_EVENTS = 1000
RIGHT, WRONG = "#1d4ed8", "#b91c1c"


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _svg(figure) -> bytes:
    import matplotlib

    out = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "mentor"}):
        figure.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()


def by_learner(log: EventLog) -> dict[str, EventLog]:
    """The log split per learner, in stored order, most active learners first."""
    learners = log.learner.astype(str)
    names, counts = np.unique(learners, return_counts=True)
    order = sorted(zip(names.tolist(), counts.tolist(), strict=True), key=lambda x: (-x[1], x[0]))
    out = {}
    for name, _ in order[:MAX_LEARNERS]:
        mask = learners == name
        out[name] = EventLog(
            log.learner[mask][:MAX_EVENTS],
            log.item[mask][:MAX_EVENTS],
            log.time[mask][:MAX_EVENTS],
            log.outcome[mask][:MAX_EVENTS],
            validate=False,
        )
    return out


def mastery_curve(spec: Mapping[str, Any], domain: Domain, log: EventLog) -> np.ndarray:
    """Mean mastery over the domain's skills before the first attempt and after each
    (see the module docstring)."""
    model = create_model(spec, domain)
    skills = [str(s) for s in domain.skills]
    learner = str(log.learner[0]) if len(log) else ""

    def mean() -> float:
        mastery = model.state(learner).get("mastery", {}) or {}
        values = [float(mastery.get(s, mastery.get(str(s), 0.0))) for s in skills]
        return float(np.mean(values)) if values else 0.0

    out = [mean()]
    for k in range(len(log)):
        model.update(
            EventLog(
                log.learner[k : k + 1],
                log.item[k : k + 1],
                log.time[k : k + 1],
                log.outcome[k : k + 1],
                validate=False,
            )
        )
        out.append(mean())
    return np.array(out)


def success_curve(outcomes: np.ndarray, window: int = 10) -> np.ndarray:
    """Mean outcome over the last ``window`` attempts, after each attempt."""
    cumulative = np.concatenate([[0.0], np.cumsum(outcomes, dtype=float)])
    n = np.arange(1, len(outcomes) + 1)
    start = np.maximum(n - window, 0)
    return (cumulative[n] - cumulative[start]) / (n - start)


def learning_curves_svg(
    spec: Mapping[str, Any], domain: Domain, log: EventLog, window: int = 10
) -> tuple[bytes, list[dict[str, Any]]]:
    """The learning-curves chart and its data (one row per learner, for the table)."""
    groups = by_learner(log)
    figure = _figure(9.0, 3.6)
    left, right = figure.subplots(1, 2, sharex=True)
    rows = []
    styles = ["-", "--", ":", "-."]
    for k, (name, sub) in enumerate(groups.items()):
        outcomes = sub.outcome.astype(float)
        success = success_curve(outcomes, window)
        mastery = mastery_curve(spec, domain, sub)
        x = np.arange(1, len(sub) + 1)
        style = {"color": f"C{k % 10}", "linestyle": styles[(k // 10) % 4], "linewidth": 1.6}
        left.plot(x, success, label=name, **style)
        right.plot(np.arange(0, len(sub) + 1), mastery, label=name, **style)
        rows.append(
            {
                "learner": name,
                "attempts": len(sub),
                "success": float(outcomes.mean()) if len(sub) else None,
                "recent": float(success[-1]) if len(sub) else None,
                "mastery_start": float(mastery[0]),
                "mastery_now": float(mastery[-1]),
            }
        )
    left.set_title(f"Success rate (last {window} attempts)", fontsize=11)
    left.set_ylim(-0.02, 1.02)
    right.set_title("Mean mastery over the course's skills", fontsize=11)
    right.set_ylim(-0.02, 1.02)
    for axis in (left, right):
        axis.set_xlabel("attempt")
        axis.grid(True, alpha=0.3)
    if not groups:
        for axis in (left, right):
            axis.text(
                0.5, 0.5, "no attempts yet", ha="center", va="center", transform=axis.transAxes
            )
    else:
        right.legend(fontsize=8, loc="lower right", ncols=2 if len(groups) > 6 else 1)
    return _svg(figure), rows


def _skill_order(domain: Domain) -> list[Any]:
    return [s for row in layers(domain) for s in row]


def choices_svg(domain: Domain, log: EventLog) -> bytes:
    """One learner's choices: the skill of each attempt, right (filled circle) or
    wrong (cross)."""
    order = _skill_order(domain)
    position = {str(s): k for k, s in enumerate(order)}
    figure = _figure(9.0, max(2.6, 0.24 * len(order) + 1.0))
    axis = figure.subplots()
    xs, ys, outcome = [], [], []
    for n, (item, result) in enumerate(zip(log.item.tolist(), log.outcome.tolist(), strict=True)):
        found = domain.items.get(item)
        for skill in found.skills if found is not None else ():
            xs.append(n + 1)
            ys.append(position[str(skill)])
            outcome.append(result)
    xs, ys, outcome = np.array(xs), np.array(ys), np.array(outcome, dtype=float)
    right = outcome >= 0.5
    if len(xs):
        axis.scatter(xs[right], ys[right], marker="o", s=28, color=RIGHT, label="right")
        axis.scatter(xs[~right], ys[~right], marker="x", s=34, color=WRONG, label="wrong")
        axis.plot(xs, ys, color="#94a3b8", linewidth=0.8, zorder=0)
        axis.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    else:
        axis.text(0.5, 0.5, "no attempts yet", ha="center", va="center", transform=axis.transAxes)
    axis.set_yticks(range(len(order)), [skill_name(domain, s) for s in order], fontsize=8)
    axis.set_ylim(len(order) - 0.5, -0.5)
    axis.set_xlabel("attempt")
    axis.set_title("What the teacher chose, attempt by attempt", fontsize=11)
    axis.grid(True, axis="x", alpha=0.3)
    return _svg(figure)


def choices_heatmap_svg(domain: Domain, log: EventLog, bucket: int = 5) -> bytes:
    """A course's choices: for each block of ``bucket`` attempts (a learner's 1st to
    5th, 6th to 10th, ...), the share of its learners' attempts that went to each skill."""
    order = _skill_order(domain)
    position = {str(s): k for k, s in enumerate(order)}
    counts: dict[int, np.ndarray] = {}
    seen: dict[str, int] = {}
    for learner, item in zip(log.learner.tolist(), log.item.tolist(), strict=True):
        n = seen.get(learner, 0)
        seen[learner] = n + 1
        found = domain.items.get(item)
        column = counts.setdefault(n // bucket, np.zeros(len(order)))
        for skill in found.skills if found is not None else ():
            column[position[str(skill)]] += 1
    blocks = max(counts, default=-1) + 1
    grid = np.zeros((len(order), max(blocks, 1)))
    for block, column in counts.items():
        total = column.sum()
        grid[:, block] = column / total if total else 0
    figure = _figure(9.0, max(2.6, 0.24 * len(order) + 1.2))
    axis = figure.subplots()
    image = axis.imshow(grid, aspect="auto", cmap="Blues", vmin=0, vmax=max(grid.max(), 1e-9))
    axis.set_yticks(range(len(order)), [skill_name(domain, s) for s in order], fontsize=8)
    ticks = list(range(0, max(blocks, 1), max(1, blocks // 10)))
    axis.set_xticks(ticks, [f"{b * bucket + 1}\u2013{(b + 1) * bucket}" for b in ticks], fontsize=8)
    axis.set_xlabel("attempts (each learner's own count)")
    axis.set_title("What the teacher chose over time: share of attempts per skill", fontsize=11)
    figure.colorbar(image, ax=axis, label="share of attempts")
    return _svg(figure)


def skill_shares(domain: Domain, log: EventLog) -> list[tuple[str, int]]:
    """Attempts per skill (for the chart's text alternative), most practised first."""
    counts: dict[str, int] = {}
    for item in log.item.tolist():
        found = domain.items.get(item)
        for skill in found.skills if found is not None else ():
            name = skill_name(domain, skill)
            counts[name] = counts.get(name, 0) + 1
    return sorted(counts.items(), key=lambda x: (-x[1], x[0]))


__all__: Sequence[str] = [
    "choices_heatmap_svg",
    "choices_svg",
    "learning_curves_svg",
    "mastery_curve",
    "skill_shares",
    "success_curve",
]
