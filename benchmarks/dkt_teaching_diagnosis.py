"""Where the teachers' questions land on the DKT-drawn students of ``model_teaching.py``.

Usage:
    python benchmarks/dkt_teaching_diagnosis.py ../shared/data [--seeds 20] [--first 100]
        [--teacher NAME ...] [--probe-every 25] [--name FILE]

Teaches ``assist2009_dkt`` (110 ASSISTments 2009 skills, one item each, no prerequisites; 15
students x 300 steps, answers drawn from a DKT fitted as ``model_teaching.py`` fits it) with
the teachers of ``model_teaching.py`` (``build``; and ``skill_frontier_no_step_back``,
``SkillFrontier(step_back=0)``, the teacher before its step back), on seeds ``first .. first
+ seeds - 1`` (by default 100-119, which the reported runs, seeds 0-19, never meet), and
records, per teacher: the post-test; the success rate of the attempts (per third of the
run); how many distinct items a student meets, attempts per item met, the share of attempts
that repeat the student's previous item, and of those after a failure; the training-split
failure rate of the items chosen; and, every ``probe-every`` steps for every student, the
simulator's own one-step value of each item: the expected change of the post-test (mean
predicted success over the 110 items) after one attempt at it, ``p d+ + (1 - p) d-``, with
``p`` the DKT's predicted success and ``d+``, ``d-`` the post-test's move after a right and
a wrong answer (each computed by moving a copy of the student's LSTM state; no teacher sees
it). For the teachers with a model it also compares the model's predicted success of every
item with the DKT's (mean difference, correlation over items), every ``probe-every`` steps.

A diagnosis, read from the simulator's hidden state. Writes ``results/FILE.json``
(default ``dkt_teaching_diagnosis``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import torch
from model_teaching import assist2009_simulator, build  # the same simulator and teachers
from rich.console import Console

from mentor._io import write_json
from mentor.events import EventLog
from mentor.metrics.teaching import mean_ci
from mentor.sim import ModelPopulation
from mentor.students import SkillAbility, model_from_state
from mentor.teachers import SkillFrontier

RESULTS = Path(__file__).parent / "results"


def item_values(dkt: Any, learner: Any, items: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """The DKT's predicted success of ``learner`` at every item, and the expected change of
    the post-test (mean predicted success over ``items``) after one attempt at each."""
    n = len(items)
    state = dkt._states.get(learner)
    if state is None:
        state = np.zeros((2, 1, dkt.hidden_size), dtype=np.float32)
    probes = [f"probe-{k}" for k in range(2 * n)]
    for probe in probes:
        dkt._states[probe] = state.copy()
    dkt.update(
        EventLog(
            probes,
            items + items,
            np.zeros(2 * n),
            np.concatenate([np.ones(n), np.zeros(n)]),
            validate=False,
        )
    )
    net = dkt.network_
    with torch.no_grad():
        hidden = torch.as_tensor(np.stack([dkt._states[p][0, -1] for p in probes]))
        now = torch.as_tensor(state[0, -1]).unsqueeze(0)
        after = torch.sigmoid(hidden @ net.out.weight.T + net.out.bias).numpy()
        before = torch.sigmoid(now @ net.out.weight.T + net.out.bias).numpy()[0]
    for probe in probes:
        del dkt._states[probe]
    codes = [dkt._item_index[i] for i in items]
    before, after = before[codes].astype(float), after[:, codes].astype(float)
    post = before.mean()
    right, wrong = after[:n].mean(axis=1) - post, after[n:].mean(axis=1) - post
    return before, before * right + (1.0 - before) * wrong


def model_success(model: Any, learner: Any, items: list[Any]) -> np.ndarray | None:
    if model is None:
        return None
    return np.asarray(model.predict(learner, items), dtype=float)


def run(
    name: str,
    domain: Any,
    simulator: dict,
    seed: int,
    students: int,
    steps: int,
    probe_every: int,
) -> dict[str, Any]:
    items = domain.item_ids
    cohort = ModelPopulation(model_from_state(simulator), items, students, seed=seed)
    dkt = cohort.model
    if name == "skill_frontier_no_step_back":  # the teacher before its step back
        teacher, model = SkillFrontier(domain, step_back=0, seed=seed), SkillAbility(domain)
    else:
        teacher, model = build(name, domain, steps, seed)
    failure = np.array([domain.item(i).difficulty for i in items])
    index = {item: n for n, item in enumerate(items)}
    chosen = np.empty((steps, students), dtype=int)
    outcome = np.empty((steps, students))
    value_chosen, value_best, value_rank, p_chosen = [], [], [], []
    value_steps: list[int] = []
    curve = np.empty(steps + 1)
    curve[0] = cohort.post_test().mean()
    calibration: list[tuple[int, float, float, float]] = []
    learners = list(range(students))
    for step in range(steps):
        t = cohort.time
        picks = [teacher.select(learner, items, 1, t, model)[0] for learner in learners]
        codes = np.array([index[i] for i in picks])
        if step % probe_every == 0:
            for s in learners:
                p, value = item_values(dkt, cohort.learners[s], items)
                value_chosen.append(value[codes[s]])
                value_steps.append(step)
                value_best.append(value.max())
                value_rank.append(float((value > value[codes[s]]).mean()))
                p_chosen.append(p[codes[s]])
                mine = model_success(model, s, items)
                if mine is not None:
                    corr = float(np.corrcoef(mine, p)[0, 1]) if mine.std() > 0 else float("nan")
                    calibration.append((step, float((mine - p).mean()), corr, float(p.mean())))
        outcomes = cohort.attempt(codes)
        chosen[step], outcome[step] = codes, outcomes
        log = EventLog(learners, picks, np.full(students, t), outcomes, validate=False)
        if model is not None:
            model.update(log)
        teacher.observe(log)
        cohort.advance(1.0)
        curve[step + 1] = cohort.post_test().mean()
    post = float(curve[-1])
    at = np.array(value_steps)
    vc = np.array(value_chosen)
    repeat = chosen[1:] == chosen[:-1]
    after_fail = outcome[:-1] == 0.0
    distinct = [np.unique(chosen[:, s]).size for s in learners]
    thirds = [outcome[k * steps // 3 : (k + 1) * steps // 3].mean() for k in range(3)]
    out = {
        "post": post,
        "success": float(outcome.mean()),
        "success_thirds": [float(x) for x in thirds],
        "distinct_items": float(np.mean(distinct)),
        "attempts_per_item": float(steps / np.mean(distinct)),
        "repeat_share": float(repeat.mean()),
        "repeat_after_failure": float(repeat[after_fail].mean()) if after_fail.any() else 0.0,
        "repeat_after_success": float(repeat[~after_fail].mean()) if (~after_fail).any() else 0.0,
        "chosen_failure_rate": float(failure[chosen].mean()),
        "dkt_p_chosen": float(np.mean(p_chosen)),
        "value_chosen": float(np.mean(value_chosen)),
        "value_best": float(np.mean(value_best)),
        "value_rank": float(np.mean(value_rank)),
        "by_step": {
            int(k): [float(vc[at == k].mean()), float(curve[k + 1] - curve[k]), float(curve[k])]
            for k in np.unique(at)
        },
    }
    if calibration:
        rows = np.array(calibration)
        out["model_minus_dkt"] = float(rows[:, 1].mean())
        out["model_dkt_corr"] = float(np.nanmean(rows[:, 2]))
        out["calibration_by_step"] = {
            int(k): [float(np.mean(at_k[:, 1])), float(np.nanmean(at_k[:, 2]))]
            for k in np.unique(rows[:, 0])
            for at_k in [rows[rows[:, 0] == k]]
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first", type=int, default=100)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--teacher", action="append")
    parser.add_argument("--probe-every", type=int, default=25)
    parser.add_argument("--name", default="dkt_teaching_diagnosis")
    args = parser.parse_args()
    console = Console()
    torch.set_num_threads(1)
    domain, simulator, info = assist2009_simulator(args.data, console)
    teachers = args.teacher or ["random", "fixed", "zpdes", "expected_gain", "skill_frontier"]
    seeds = range(args.first, args.first + args.seeds)
    results: dict[str, Any] = {}
    for name in teachers:
        runs = [run(name, domain, simulator, s, 15, args.steps, args.probe_every) for s in seeds]
        summary: dict[str, Any] = {}
        for key in runs[0]:
            if key in ("calibration_by_step", "by_step"):
                continue
            values = np.array([r[key] for r in runs], dtype=float)
            summary[key] = values.mean(axis=0).tolist() if values.ndim > 1 else mean_ci(values)
        summary["by_step"] = {
            k: np.mean([r["by_step"][k] for r in runs], axis=0).tolist() for k in runs[0]["by_step"]
        }
        if "calibration_by_step" in runs[0]:
            steps_ = runs[0]["calibration_by_step"]
            summary["calibration_by_step"] = {
                k: np.mean([r["calibration_by_step"][k] for r in runs], axis=0).tolist()
                for k in steps_
            }
        results[name] = summary
        cells = ", ".join(
            f"{k} {v[0]:.3f}" if isinstance(v, list | tuple) and len(v) == 3 else f"{k} {v}"
            for k, v in summary.items()
            if k not in ("calibration_by_step", "by_step")
        )
        console.print(f"[bold]{name}[/bold] seeds {seeds.start}-{seeds.stop - 1}: {cells}")
        console.print(f"  value of the chosen item, change, post by step: {summary['by_step']}")
        if "calibration_by_step" in summary:
            console.print(f"  model - dkt, corr by step: {summary['calibration_by_step']}")
    RESULTS.mkdir(exist_ok=True)
    write_json(
        RESULTS / f"{args.name}.json",
        {
            "seeds": [seeds.start, seeds.stop - 1],
            "steps": args.steps,
            "probe_every": args.probe_every,
            "simulator": info,
            "results": results,
        },
    )


if __name__ == "__main__":
    main()
