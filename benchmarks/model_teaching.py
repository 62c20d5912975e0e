"""Model-based teaching against ZPDES, random and the fixed expert order, on students
built like the teacher's model and on students who are not.

Usage:
    python benchmarks/model_teaching.py ../shared/data [--seeds 20] [--quick] [--only SIM]
        [--teacher NAME] [--name FILE]

``--only`` and ``--teacher`` (each may be repeated) run part of the table; the figures of
the other simulators and teachers already in the JSON file are kept (every run of a
teacher on a simulator is deterministic given its seeds, so parts can be run apart, in
parallel processes: the file is updated under a lock). ``--name`` writes
``results/FILE.json`` and ``FILE.png`` instead of ``model_teaching``.

Simulators (SIM), each with 20 seeds and common random numbers (every teacher of a
seed meets the same students):

* ``course15``: :class:`mentor.sim.StudentPopulation` on :func:`mentor.sim.make_course`
  (15 skills, 45 items, 15 students x 300 steps), as in ``benchmarks/teachers.py``.
* ``junyi``: the same students on the Junyi sub-map of ``benchmarks/teachers.py``
  (topic multiplication-division and its prerequisites: 61 skills, 183 items,
  10 students x 300 steps).
* ``course15_actr`` and ``junyi_actr``: the same courses taught to
  :class:`mentor.sim.ActivationPopulation`, students whose memory follows ACT-R's
  activation law (power-law forgetting, spacing effect, learning from successful
  retrieval): a learning and forgetting law that neither BKT nor the first simulator
  assumes.
* ``assist2009_dkt``: data-driven students, :class:`mentor.sim.ModelPopulation` over a
  DKT (LSTM, hidden 100, at most 15 epochs with early stopping on 20 % of the learners,
  seed 0) fitted on the DKVMN ASSISTments 2009 training split: 110 skills as items,
  15 students x 300 steps, answers drawn from the DKT's predictions, the post-test its
  mean predicted success over the 110 items. The course has no prerequisites; an
  item's difficulty is its failure rate in the training split (for the fixed order,
  easy to hard, and for ZPDES).

Teachers: ``random``; ``fixed``, the expert order (skills in topological order, items
easy to hard, max(1, steps // items) attempts each); ``zpdes`` (Clement et al. 2015,
defaults); ``expected_gain`` (:class:`mentor.teachers.ExpectedGain`, its defaults
but no reviews: with the service's day of 86,400 time units no card comes due in a
run of 300 steps), ``expected_gain_reviews`` (its defaults with FSRS reviews, at most
one question in five, and a day of 10 steps, the demo's simulated classmates'
session) and ``expected_gain_depth_first`` (``objective="skill"``, items open at the
mastery threshold, no reviews: a level opens after three right answers and the
teacher finishes a skill before it starts another), all with
``BKT(domain, grain="item", forgets=False)`` at BKT's default parameters, not fitted:
fitted on a random pilot cohort, BKT's learn rates of the deep items are ~0.001,
because random practice rarely meets their prerequisites, and the teacher never
sees them mastered.

``expected_gain_level`` is the teacher at its defaults without reviews planning with
:class:`mentor.students.LevelBKT` (a skill's levels as one chain of knowledge states) at
its defaults, not fitted; ``expected_gain_level_budget`` is the same, told the run's
length as ``fixed`` is (``budget=steps``: a skill that has had its share of the questions
opens what follows and leaves the pool).

``expected_gain_fitted`` is ``expected_gain`` whose model learns its parameters from the
answers the teacher has seen, as a deployed tutor fits its model on its own logs:
:class:`mentor.students.refitting.Refitting` refits the same BKT per item by EM on every
event of the cohort observed so far, each 200 new events (about 13 steps of 15 students),
starting from BKT's defaults each time; the refit replays each learner's answers under
the new parameters. It reads only the observed events, never the simulator.
``expected_gain_fitted_pooled`` refits one parameter set shared by every item
(``share="all"``), ``expected_gain_fitted_skill`` one per skill shared by its levels
(``share="skill"``), and ``expected_gain_fitted_pooled_warm`` is the pooled refit with
each EM started from the previous refit's parameters (``warm=True``).

``skill_frontier`` (issue 13, helper h13) is :class:`mentor.teachers.SkillFrontier` at its
defaults over :class:`mentor.students.SkillAbility` at its defaults (a Gaussian belief about
each learner's ability per skill, with learning, and difficulties pooled by the course's
levels, learned from the answers the teacher has seen; never the simulator's): a skill opens
when its prerequisites' hardest items are more likely known than not, and is left when its
own is; after three wrong answers in a row at an item it steps back to an item before it,
and the item goes behind the rest of the pool (its step back, twelfth session).
``skill_frontier_no_step_back`` is the same teacher without the step back
(``step_back=0``), as it was before.

The other course teachers of ``benchmarks/teachers.py`` (``target``, ``curriculum``,
``anti_curriculum``, ``random_curriculum``, ``cyclical``, ``self_paced``, ``mastery``,
``tscl``, ``mastering_rate``, ``mixture``) run here too, each with its parameters there,
consulting an Elo model (per-skill abilities) fitted, for each seed, on a pilot cohort of
200 students of the same simulator taught 150 steps by the random teacher (that
benchmark's protocol), so that every teacher meets every simulator.

Outcomes: post-test mastery after the run (%), the first step at which the cohort's
mean post-test reaches 80 %, retention after 500 time units, and for the model-based
teacher the time of one ``select`` call (mean and 99th percentile over all calls).
Writes ``benchmarks/results/model_teaching.json`` and ``model_teaching.png``.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from teachers import (  # benchmarks/teachers.py: the same sub-map, teachers and pilots
    PILOT_SEED,
    course_teachers,
    junyi_submap,
    pilot_elo_state,
)

from mentor._io import atomic_path, write_json
from mentor.domain import Domain, Item
from mentor.events import read_kt
from mentor.metrics.teaching import mean_ci
from mentor.sim import (
    DEFAULT_TEACHERS,
    ActivationPopulation,
    ModelPopulation,
    StudentPopulation,
    make_course,
    run_cohort,
)
from mentor.students import BKT, LevelBKT, SkillAbility, create_model, model_from_state
from mentor.students.refitting import Refitting
from mentor.teachers import ZPDES, ExpectedGain, RandomTeacher, SkillFrontier, Teacher

RESULTS = Path(__file__).parent / "results"
SIMS = ("course15", "junyi", "course15_actr", "junyi_actr", "assist2009_dkt")
TEACHERS = (
    "random",
    "fixed",
    "zpdes",
    "expected_gain",
    "expected_gain_reviews",
    "expected_gain_depth_first",
    "expected_gain_lookahead",
    "expected_gain_level",
    "expected_gain_level_budget",
    "expected_gain_fitted",
    "expected_gain_fitted_pooled",
    "expected_gain_fitted_skill",
    "expected_gain_fitted_pooled_warm",
    "skill_frontier",
    "skill_frontier_no_step_back",
)
#: The other course teachers of ``benchmarks/teachers.py``, each at its defaults there,
#: consulting an Elo model (per-skill abilities) fitted on a random-teacher pilot cohort
#: of the same simulator, as that benchmark does.
ELO_TEACHERS = (
    "target",
    "curriculum",
    "anti_curriculum",
    "random_curriculum",
    "cyclical",
    "self_paced",
    "mastery",
    "tscl",
    "mastering_rate",
    "mixture",
)
ALL_TEACHERS = TEACHERS + ELO_TEACHERS
#: The pilot cohort of the Elo teachers: students and steps of ``benchmarks/teachers.py``.
PILOT_STUDENTS, PILOT_STEPS = 200, 150
#: Steps in a simulated day, for FSRS's review schedule: ten questions a day, as the
#: demo's simulated classmates practise.
SIM_DAY = 10.0
#: Events between refits of ``expected_gain_fitted``'s model (see its description above).
REFIT = 200


class Timed(Teacher):
    """Times every ``select`` call of the teacher it wraps."""

    name = "timed"

    def __init__(self, teacher: Teacher) -> None:
        super().__init__(0)
        self.teacher, self.seconds = teacher, []

    def select(self, learner, candidates, k=1, t=None, model=None):
        start = time.perf_counter()
        chosen = self.teacher.select(learner, candidates, k, t, model)
        self.seconds.append(time.perf_counter() - start)
        return chosen

    def observe(self, events) -> None:
        self.teacher.observe(events)


def build(name: str, domain: Domain, steps: int, seed: int) -> tuple[Teacher, Any]:
    """The teacher and its student model (None when it needs none)."""
    if name == "random":
        return RandomTeacher(seed), None
    if name == "fixed":
        return DEFAULT_TEACHERS["fixed"](domain, steps, seed), None
    if name == "zpdes":
        return ZPDES(domain, seed=seed), None
    if name == "skill_frontier":
        return SkillFrontier(domain, seed=seed), SkillAbility(domain)
    if name == "skill_frontier_no_step_back":
        return SkillFrontier(domain, step_back=0, seed=seed), SkillAbility(domain)
    if name == "expected_gain_level":
        return ExpectedGain(domain, reviews=False, seed=seed), LevelBKT(domain)
    if name == "expected_gain_level_budget":
        return ExpectedGain(domain, reviews=False, budget=steps, seed=seed), LevelBKT(domain)
    model = BKT(domain, grain="item", forgets=False)
    if name == "expected_gain":
        return ExpectedGain(domain, reviews=False, seed=seed), model
    if name == "expected_gain_fitted":
        return ExpectedGain(domain, reviews=False, seed=seed), Refitting(domain, model, REFIT)
    if name.startswith("expected_gain_fitted_"):
        share = "skill" if name.endswith("skill") else "all"
        refitting = Refitting(domain, model, REFIT, share=share, warm=name.endswith("warm"))
        return ExpectedGain(domain, reviews=False, seed=seed), refitting
    if name == "expected_gain_lookahead":
        return ExpectedGain(domain, reviews=False, horizon=2, seed=seed), model
    if name == "expected_gain_depth_first":
        options = {"objective": "skill", "open_threshold": None, "reviews": False}
        return ExpectedGain(domain, seed=seed, **options), model
    return ExpectedGain(domain, day=SIM_DAY, seed=seed), model


def courses(data: Path, sims: list[str]) -> dict[str, Domain]:
    out = {"course15": make_course()}
    if any(s.startswith("junyi") for s in sims):
        out["junyi"] = junyi_submap(data, "multiplication-division")
    return out


def cpu_model() -> str:
    """The processor's model name and its vector instruction sets (which pick torch's
    kernels) as Linux reports them, for example ``"Intel(R) Xeon(R) Processor; avx2
    avx512f"``, or ``platform.machine()`` where ``/proc/cpuinfo`` is missing."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.machine()
    fields = dict(line.split(":", 1) for line in text.split("\n\n")[0].splitlines() if ":" in line)
    name = fields.get("model name\t", fields.get("model name", "")).strip()
    flags = set(fields.get("flags\t\t", fields.get("flags", "")).split())
    sets = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_tile") if f in flags]
    return f"{name}; {' '.join(sets)}"


def assist2009_simulator(data: Path, console: Console) -> tuple[Domain, dict[str, Any], dict]:
    """The DKVMN ASSISTments 2009 skills as a course, and a DKT fitted on its training
    split (its state, to copy for every cohort)."""
    import torch

    torch.set_num_threads(1)
    log = read_kt(data / "kt" / "assist2009_updated" / "assist2009_updated_train.csv")
    skills, inverse = np.unique(log.item, return_inverse=True)
    failure = 1.0 - np.bincount(inverse, weights=log.outcome) / np.bincount(inverse)
    domain = Domain(
        [Item(int(s), (int(s),), float(f)) for s, f in zip(skills, failure, strict=True)]
    )
    start = time.perf_counter()
    with console.status("fitting the DKT simulator on assist2009 (a few minutes)"):
        dkt = create_model("dkt", None, hidden_size=100, epochs=15, seed=0).fit(log)
    info = {
        "events": len(log),
        "epochs": len(dkt.history_),
        "val_auc": max(h["val_auc"] for h in dkt.history_),
        "fit_seconds": time.perf_counter() - start,
        # the fit has differed between sessions (validation AUC 0.8094087 and 0.8094124,
        # same code and seed). Not the torch build (2.13.0 and 2.14.1 fit alike on one
        # machine) nor Python's hash seed; each session runs on a fresh machine, so the CPU
        # (whose instruction set picks torch's kernels) is kept with the figures too
        "torch": torch.__version__,
        "cpu": cpu_model(),
    }
    return domain, dkt.state_dict(), info


def run_sim(
    sim: str,
    domain: Domain,
    seeds: int,
    students: int,
    steps: int,
    tick: Callable[[], None],
    simulator: dict | None = None,
    teachers: tuple[str, ...] = ALL_TEACHERS,
) -> dict[str, Any]:
    def population(domain: Domain, n: int, seed: int) -> Any:
        if simulator is not None:
            return ModelPopulation(model_from_state(simulator), domain.item_ids, n, seed=seed)
        if sim.endswith("_actr"):
            return ActivationPopulation(domain, n, seed=seed)
        return StudentPopulation(domain, n, seed=seed)

    pilots: dict[int, dict] = {}

    def elo_pilot(seed: int) -> dict:
        """The Elo model's state, fitted on a random-teacher pilot cohort of this simulator
        (as ``benchmarks/teachers.py`` does), once per seed."""
        if seed not in pilots:
            pilot = population(domain, PILOT_STUDENTS, PILOT_SEED + seed)
            pilots[seed] = pilot_elo_state(domain, pilot, PILOT_STEPS, seed)
        return pilots[seed]

    elo_teachers = course_teachers(domain, steps)
    out: dict[str, Any] = {"items": len(domain.item_ids), "skills": len(domain.skills)}
    curves: dict[str, list] = {}
    for name in teachers:
        finals, reach, retention, seconds = [], [], [], []
        for seed in range(seeds):
            cohort = population(domain, students, seed)
            if name in ELO_TEACHERS:
                teacher = elo_teachers[name][0](seed)
                model = model_from_state(elo_pilot(seed), domain=domain)
            else:
                teacher, model = build(name, domain, steps, seed)
            timed = Timed(teacher)
            curve, _ = run_cohort(cohort, timed, model, steps)
            curves.setdefault(name, []).append(curve.tolist())
            finals.append(curve[-1])
            hit = np.flatnonzero(curve >= 0.8)
            reach.append(int(hit[0]) if hit.size else None)
            retention.append(float(cohort.post_test(500.0).mean()))
            seconds += timed.seconds
            tick()
        reached = [r for r in reach if r is not None]
        out[name] = {
            "post_mastery": mean_ci(np.array(finals)),
            "reach80": mean_ci(np.array(reached, dtype=float)) if len(reached) > 1 else None,
            "reached": len(reached),
            "retention": mean_ci(np.array(retention)),
            "select_ms_mean": 1000 * float(np.mean(seconds)),
            "select_ms_p99": 1000 * float(np.quantile(seconds, 0.99)),
            "curve": np.mean(curves[name], axis=0).tolist(),
        }
    return out


def table(console: Console, sim: str, result: dict[str, Any], seeds: int) -> None:
    t = Table(title=f"{sim}: {result['skills']} skills, {result['items']} items, {seeds} seeds")
    for col in ("teacher", "post-test %", "steps to 80 %", "retention % (500)", "select ms (p99)"):
        t.add_column(col)
    for name in (n for n in ALL_TEACHERS if n in result):
        r = result[name]
        m, lo, hi = r["post_mastery"]
        reach = "not reached" if r["reach80"] is None else f"{r['reach80'][0]:.0f}"
        rm, rlo, rhi = r["retention"]
        t.add_row(
            name,
            f"{100 * m:.1f} [{100 * lo:.1f}, {100 * hi:.1f}]",
            f"{reach} ({r['reached']}/{seeds})",
            f"{100 * rm:.1f} [{100 * rlo:.1f}, {100 * rhi:.1f}]",
            f"{r['select_ms_mean']:.2f} ({r['select_ms_p99']:.2f})",
        )
    console.print(t)


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(4.5 * len(results), 3.6), squeeze=False)
    for ax, (sim, result) in zip(axes[0], results.items(), strict=True):
        for name in (n for n in ALL_TEACHERS if n in result):
            ax.plot(result[name]["curve"], label=name)
        ax.set_title(sim)
        ax.set_xlabel("step")
        ax.set_ylabel("mean post-test")
    axes[0][0].legend()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the shared data folder (../shared/data)")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="3 seeds, 60 steps")
    parser.add_argument("--only", action="append", choices=SIMS)
    parser.add_argument("--teacher", action="append", choices=ALL_TEACHERS)
    parser.add_argument(
        "--name",
        default="model_teaching",
        help="result files results/NAME.json and NAME.png (a run whose simulator differs "
        "from the main file's, such as a refitted DKT, goes to a file of its own)",
    )
    args = parser.parse_args()
    teachers = tuple(args.teacher or ALL_TEACHERS)
    seeds, steps = (3, 60) if args.quick else (args.seeds, 300)
    sims = args.only or list(SIMS)
    console = Console()
    domains = courses(args.data, sims)
    simulator, simulator_info = None, None
    if "assist2009_dkt" in sims:
        domains["assist2009_dkt"], simulator, simulator_info = assist2009_simulator(
            args.data, console
        )
    results: dict[str, Any] = {}
    with Progress(console=console) as progress:
        task = progress.add_task("teaching", total=len(sims) * len(teachers) * seeds)
        for sim in sims:
            base = sim.removesuffix("_actr")
            students = 10 if base == "junyi" else 15
            results[sim] = run_sim(
                sim,
                domains[base],
                seeds,
                students,
                steps,
                lambda: progress.advance(task),
                simulator if sim == "assist2009_dkt" else None,
                teachers,
            )
            if sim == "assist2009_dkt":
                results[sim]["simulator"] = simulator_info
    for sim, result in results.items():
        table(console, sim, result, seeds)
    suffix = "_quick" if args.quick else ""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{args.name}{suffix}.json"
    with open(Path(tempfile.gettempdir()) / "mentor_model_teaching.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel runs of parts update one file
        # a run of some simulators or teachers keeps the others' figures
        kept = json.loads(path.read_text())["results"] if path.exists() else {}
        for sim, result in results.items():
            kept[sim] = {**kept.get(sim, {}), **result}
        write_json(path, {"seeds": seeds, "steps": steps, "results": kept})
        plot(kept, RESULTS / f"{args.name}{suffix}.png")


if __name__ == "__main__":
    main()
