"""Every teacher on every simulator it applies to, with reference implementations side by side.

Usage:
    python benchmarks/teachers.py ../shared/data [--seeds 20] [--quick] [--only SIM] [--workers 2]
        [--junyi-topic TOPIC]

SIM is one of ``course15``, ``junyi``, ``hypercube``, ``passrate``. ``--quick`` is a smoke
run (3 seeds, small cohorts, short runs) whose files get a ``_quick`` suffix.

Simulators and what each measures (mean and Student-t 95 % CI over seeds):

* ``course15``: :func:`mentor.sim.make_course` (15 skills, 45 items) and ``junyi``: a
  connected sub-map of the real Junyi Academy prerequisite map,
  :func:`mentor.sim.prerequisite_closure` of the exercises of one topic of
  ``DATA/graphs/junyi_exercise_table.csv`` (:func:`mentor.sim.make_junyi_course`, three
  items per exercise): the topic's exercises and every exercise they build on, so no
  prerequisite chain is cut. The default topic, ``multiplication-division``, gives 61
  skills, 183 items and 78 prerequisites in one connected component, 25 prerequisites
  deep (``--junyi-topic`` picks another). The whole map (835 skills) is too large for
  the cohorts this benchmark can afford: 40 steps moved every teacher's post-test by
  less than half a point. As in :func:`mentor.sim.run_experiment`, for each seed a
  pilot cohort practises with a random teacher, an Elo model (per-skill abilities) is
  fitted on its log, and every teacher teaches a fresh cohort drawn from the same seed
  (common random numbers) with a copy of that model. Outcomes: post-test mastery (mean
  post-test score, %), the first step at which the cohort's mean post-test score reaches
  80 % (or "not reached"), and retention: the post-test after ``delay`` (500) time units
  without practice (``StudentPopulation.post_test(delay=...)``).
* ``hypercube``: :class:`mentor.sim.Hypercube` (10 x 10 cells, 20,000 episodes): % of
  cells mastered. ALP-GMM (ours and the authors' code) picks one task per episode;
  TSCL, SEC and syllabus-rl's learning progress are bandits over the 100 cells, each
  step one cell and ``cube_group`` (8) episodes at uniform points of it (a group, as in
  GRPO, so that SEC's group-relative advantage is defined).
* ``passrate``: :class:`mentor.sim.PassRateSim` (defaults: 5,000 prompts, k = 8, lr .1)
  with batches of 64 prompts. Uniform sampling runs ``max(horizons)`` steps; its best
  held-out pass rate after S steps (S in the horizons, 200 in the main table) is the
  level L_S; every other teacher runs until it has used twice uniform's rollouts or
  twice its steps, and we report the rollouts, training steps and trained rollouts it
  needed to reach L_S, each as a ratio to uniform's on the same seed (same prompt pool).
  SEC, DUMP, TSCL and syllabus-rl choose among 10 categories (deciles of the prompts'
  initial failure rate, an oracle grouping like MATH's difficulty levels) and a prompt
  is drawn uniformly within the chosen category; AdaRFT reads each prompt's initial
  failure rate x 100 (the paper's difficulty scale) as its difficulty.

Reference implementations, installed outside the repo and run in their own virtual
environments through small driver scripts written to a temporary folder:

* syllabus-rl's ``OnlineLearningProgress`` (Kanitscheider et al. 2021's fast/slow EMA
  learning progress)::

      python3 -m venv /work/refs/syllabus-venv
      /work/refs/syllabus-venv/bin/pip install syllabus-rl matplotlib scipy

  (syllabus-rl 0.7 imports matplotlib and scipy without declaring them.)
* ALP-GMM of github.com/flowersteam/teachDeepRL (``teachDRL/teachers/algos/alp_gmm.py``),
  extracted to /work/refs/teachDeepRL, with::

      python3 -m venv /work/refs/teachdrl-venv
      /work/refs/teachdrl-venv/bin/pip install numpy scipy scikit-learn gym==0.26.2

  Its driver loads our ``mentor/sim/hypercube.py`` (and the two small modules it needs)
  by file path, so that venv needs nothing of mentor's dependencies.

A missing reference is skipped and the reason written to the JSON. All processes are
limited to one BLAS/OpenMP thread. Writes benchmarks/results/teachers_<sim>.json, PNG
learning curves and choice heat maps, and teachers_tables.md: the tables as Markdown, of
every simulator with a JSON in the output folder (a run of some simulators keeps the
others' tables).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from scipy import stats
from scipy.special import expit
from threadpoolctl import threadpool_limits

from mentor._io import atomic_path, write_json
from mentor.domain import Domain
from mentor.events import EventLog
from mentor.metrics.teaching import mean_ci
from mentor.sim import (
    DEFAULT_TEACHERS,
    Hypercube,
    PassRateSim,
    StudentPopulation,
    make_course,
    make_junyi_course,
    prerequisite_closure,
    run_cohort,
    run_passrate,
)
from mentor.students import Elo, model_from_state
from mentor.teachers import (
    ALPGMM,
    DUMP,
    SEC,
    TSCL,
    ZPDES,
    AdaRFT,
    AntiCurriculum,
    Curriculum,
    CyclicalCurriculum,
    DueReview,
    MasteringRate,
    MasteryGate,
    Mixture,
    OnlineDifficultyFilter,
    RandomCurriculum,
    RandomTeacher,
    SelfPaced,
    TargetSuccess,
    Teacher,
)
from mentor.teachers.pacing import Linear

SIMS = ("course15", "junyi", "hypercube", "passrate")
RESULTS = Path(__file__).parent / "results"
REFS = Path(__file__).resolve().parents[2] / "refs"
THREADS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@dataclass(frozen=True)
class Config:
    """Sizes of every run (the full run's values; ``--quick`` shrinks them)."""

    seeds: int = 20
    course_students: int = 15
    course_steps: int = 300
    junyi_topic: str = "multiplication-division"
    junyi_students: int = 10
    junyi_steps: int = 300
    pilot_students: int = 200
    pilot_steps: int = 150
    junyi_pilot_steps: int = 150
    junyi_pilot_students: int = 200
    delay: float = 500.0
    mastery_level: float = 0.8
    heat_bins: int = 60
    cube_episodes: int = 20_000
    cube_every: int = 400
    cube_group: int = 8
    lp_cube_interval: int = 800
    pass_batch: int = 64
    pass_horizons: tuple[int, ...] = (100, 200, 400)
    pass_main: int = 200
    pass_categories: int = 10
    lp_pass_interval_steps: int = 5
    pass_heat_bins: int = 40


QUICK = Config(
    seeds=3,
    course_students=10,
    course_steps=60,
    junyi_students=5,
    junyi_steps=60,
    pilot_students=50,
    pilot_steps=50,
    junyi_pilot_steps=50,
    junyi_pilot_students=50,
    heat_bins=20,
    cube_episodes=4_000,
    pass_horizons=(25, 50, 100),
    pass_main=50,
)


@dataclass
class Refs:
    """Where the reference implementations live, and whether they answered."""

    syllabus_python: str
    teachdrl_python: str
    teachdrl_source: str
    main: str
    folder: str = ""
    syllabus: dict[str, Any] = field(default_factory=dict)
    teachdrl: dict[str, Any] = field(default_factory=dict)


# ============================================================================ drivers
# Written to a temporary folder and run by the reference environments' own Python.

SYLLABUS_SERVER = r'''
"""syllabus-rl's OnlineLearningProgress behind a JSON-lines pipe (one curriculum at a time)."""
import json, sys, time, warnings
out, sys.stdout = sys.stdout, sys.stderr  # library prints must not reach the pipe
warnings.filterwarnings("ignore")
import importlib.metadata as md
import numpy as np
from syllabus.curricula import OnlineLearningProgress
from syllabus.task_space import DiscreteTaskSpace


def reply(obj):
    out.write(json.dumps(obj) + "\n")
    out.flush()


reply({"ready": True, "syllabus-rl": md.version("syllabus-rl"), "numpy": np.__version__})
curriculum = None
for line in sys.stdin:
    msg = json.loads(line)
    start = time.perf_counter()
    result = {}
    if msg["op"] == "new":
        np.random.seed(msg["seed"])  # syllabus samples with the global NumPy generator
        curriculum = OnlineLearningProgress(
            DiscreteTaskSpace(msg["tasks"]), update_interval=msg["interval"]
        )
    elif msg["op"] == "sample":
        # Curriculum.sample() of syllabus-rl 0.7 tests "task_dist != []", which raises
        # ValueError on NumPy >= 1.25 when the distribution is an array (it always is for
        # OnlineLearningProgress); this is the same draw without that test.
        dist = curriculum._sample_distribution()
        result["tasks"] = np.random.choice(curriculum.num_tasks, size=msg["k"], p=dist).tolist()
    elif msg["op"] == "update":
        for task, progress in zip(msg["tasks"], msg["progress"]):
            curriculum.update_task_progress(task, progress)
            curriculum.update_on_episode(progress, 1, task, progress)
    result["seconds"] = time.perf_counter() - start
    reply(result)
'''

#: The start of a reference teacher's driver (run by the reference's own interpreter):
#: mentor/sim/hypercube.py needs only mentor.errors and mentor.domain.Box, so those three
#: files are loaded by path instead of importing the mentor package and its dependencies.
#: The driver's first argument is mentor's checkout, the second the reference's sources.
HYPERCUBE_PRELUDE = r"""
import importlib.util, json, os, sys, time, types, warnings
out, sys.stdout = sys.stdout, sys.stderr
warnings.filterwarnings("ignore")
import numpy as np

main, source = sys.argv[1], sys.argv[2]


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, os.path.join(main, path))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


for package in ("mentor", "mentor.domain", "mentor.sim"):
    stub = types.ModuleType(package)
    stub.__path__ = []
    sys.modules[package] = stub
load("mentor.errors", "mentor/errors.py")
task_space = load("mentor.domain.task_space", "mentor/domain/task_space.py")
sys.modules["mentor.domain"].Box = task_space.Box
Hypercube = load("mentor.sim.hypercube", "mentor/sim/hypercube.py").Hypercube
"""

TEACHDRL_SERVER = (
    r'''
"""teachDeepRL's ALP-GMM on mentor's Hypercube, behind a JSON-lines pipe."""
'''
    + HYPERCUBE_PRELUDE
    + r"""
sys.path.insert(0, source)
from teachDRL.teachers.algos.alp_gmm import ALPGMM
import gym, scipy, sklearn

reply = lambda obj: (out.write(json.dumps(obj) + "\n"), out.flush())
reply({"ready": True, "numpy": np.__version__, "scikit-learn": sklearn.__version__,
       "scipy": scipy.__version__, "gym": gym.__version__})
for line in sys.stdin:
    msg = json.loads(line)
    cube = Hypercube(msg["d"], msg["cells"])
    episodes, every = msg["episodes"], msg["every"]
    tasks = np.empty((episodes, msg["d"]))
    scores = [cube.score()]
    wall, cpu = time.perf_counter(), time.process_time()
    teacher = ALPGMM([0.0] * msg["d"], [1.0] * msg["d"], seed=msg["seed"])  # seeds np.random
    teacher.random_task_generator.seed(msg["seed"])  # gym's Box sampler: seeded from the OS
    for episode in range(episodes):
        task = teacher.sample_task()
        x = np.asarray(task, dtype=float)[None]
        reward = cube.episode(x)[0]
        teacher.update(np.array(task), reward)
        tasks[episode] = x[0]
        if (episode + 1) % every == 0:
            scores.append(cube.score())
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    reply({"scores": scores, "wall": wall, "cpu": cpu, "tasks": tasks.tolist()})
"""
)


class Server:
    """A reference driver running in its own environment, spoken to in JSON lines."""

    def __init__(self, command: list[str], log: str) -> None:
        self.log = open(log, "a")  # noqa: SIM115 - lives as long as the process
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            env={**os.environ, **THREADS},
        )
        self.info = self._read()
        self.seconds = 0.0

    def _read(self) -> dict[str, Any]:
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"reference driver exited (code {self.process.poll()})")
        return json.loads(line)

    def call(self, **message: Any) -> dict[str, Any]:
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()
        answer = self._read()
        self.seconds += answer.get("seconds", 0.0)
        return answer

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)
        self.log.close()


_SERVERS: dict[str, Server] = {}


def server(kind: str, refs: Refs) -> Server | None:
    """This process's driver of ``kind`` ("syllabus" or "teachdrl"), started once."""
    if kind not in _SERVERS:
        status = refs.syllabus if kind == "syllabus" else refs.teachdrl
        if not status.get("ok"):
            return None
        _SERVERS[kind] = Server(status["command"], os.path.join(refs.folder, f"{kind}.log"))
    return _SERVERS[kind]


def check_refs(refs: Refs) -> None:
    """Write the drivers, start each once, and record its versions or why it cannot run."""
    folder = Path(refs.folder)
    (folder / "syllabus_server.py").write_text(SYLLABUS_SERVER)
    (folder / "teachdrl_server.py").write_text(TEACHDRL_SERVER)
    commands = {
        "syllabus": (
            refs.syllabus_python,
            [refs.syllabus_python, str(folder / "syllabus_server.py")],
            "install syllabus-rl into a separate venv (see this script's docstring)",
        ),
        "teachdrl": (
            refs.teachdrl_python,
            [
                refs.teachdrl_python,
                str(folder / "teachdrl_server.py"),
                refs.main,
                refs.teachdrl_source,
            ],
            "fetch flowersteam/teachDeepRL and make its venv (see this script's docstring)",
        ),
    }
    for kind, (python, command, hint) in commands.items():
        status: dict[str, Any] = {"command": command}
        missing = [p for p in (python,) if not Path(p).exists()]
        if kind == "teachdrl" and not (Path(refs.teachdrl_source) / "teachDRL").is_dir():
            missing.append(refs.teachdrl_source)
        if missing:
            status.update(ok=False, reason=f"missing {', '.join(missing)}: {hint}")
        else:
            try:
                probe = Server(command, str(folder / f"{kind}.log"))
                status.update(ok=True, versions=probe.info)
                probe.close()
            except Exception as error:  # noqa: BLE001 - any failure means: skip the reference
                log = (folder / f"{kind}.log").read_text()[-2000:]
                status.update(ok=False, reason=f"{error!r}; driver log: {log}")
        setattr(refs, kind, status)


# ============================================================================ shared helpers
def summary(values: list[float | None]) -> dict[str, Any]:
    """Mean and 95 % CI of the values that are not None, and how many there were."""
    x = np.array([v for v in values if v is not None], dtype=float)
    if not x.size:
        return {"mean": None, "low": None, "high": None, "n": 0, "of": len(values)}
    mean, low, high = mean_ci(x)
    return {"mean": mean, "low": low, "high": high, "n": int(x.size), "of": len(values)}


def curve_summary(curves: list[np.ndarray]) -> dict[str, list[float]]:
    """Mean and 95 % CI at every point of equally long curves."""
    c = np.asarray(curves, dtype=float)
    if c.shape[0] == 1:
        return {"mean": c[0].tolist(), "low": c[0].tolist(), "high": c[0].tolist()}
    mean = c.mean(axis=0)
    half = stats.t.ppf(0.975, c.shape[0] - 1) * c.std(axis=0, ddof=1) / np.sqrt(c.shape[0])
    return {"mean": mean.tolist(), "low": (mean - half).tolist(), "high": (mean + half).tolist()}


def fmt(s: dict[str, Any], scale: float = 1.0, digits: int = 1, counts: bool = False) -> str:
    """ "mean [low, high]" (and "n/of" when some runs had no value)."""
    if s["mean"] is None:
        return f"not reached (0/{s['of']})"
    text = (
        f"{s['mean'] * scale:.{digits}f} [{s['low'] * scale:.{digits}f}, "
        f"{s['high'] * scale:.{digits}f}]"
    )
    if counts or s["n"] < s["of"]:
        text += f" ({s['n']}/{s['of']})"
    return text


def rounded(obj: Any, digits: int = 6) -> Any:
    """A copy of nested lists/dicts with floats rounded, for smaller JSON."""
    if isinstance(obj, float):
        return round(obj, digits) if np.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: rounded(v, digits) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [rounded(v, digits) for v in obj]
    if isinstance(obj, np.generic):
        return rounded(obj.item(), digits)
    return obj


# ============================================================================ courses
_DOMAINS: dict[tuple[str, str], tuple[Domain, list[str], np.ndarray, dict[str, int]]] = {}


def junyi_submap(data: Path, topic: str) -> Domain:
    """The exercises of one Junyi topic and every exercise they build on, three items each.

    The loader drops the table's two self-loops and one edge of its three-exercise cycle
    (with a warning, silenced here); those that fall inside the sub-map stay listed in
    its ``dropped_prerequisites`` and in the JSON.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = make_junyi_course(data / "graphs" / "junyi_exercise_table.csv")
    targets = [s for s, a in whole.skill_attributes.items() if a.get("topic") == topic]
    if not targets:
        topics = sorted({str(a.get("topic")) for a in whole.skill_attributes.values()})
        raise SystemExit(f"no Junyi exercise has topic {topic!r}; topics: {', '.join(topics)}")
    return prerequisite_closure(whole, targets)


def course(
    sim: str, data: Path, cfg: Config
) -> tuple[Domain, list[str], np.ndarray, dict[str, int]]:
    """The domain, the row labels of the choice heat map, and each item's row.

    Rows: the 15 skills in topological order (course15), or the prerequisite depth of
    the item's skill, the longest chain of prerequisites above it (Junyi).
    """
    key = (sim, cfg.junyi_topic if sim == "junyi" else "")
    if key not in _DOMAINS:
        if sim == "course15":
            domain = make_course()
            skills = list(domain.topological_order())
            labels = skills
            row_of_skill = {s: i for i, s in enumerate(skills)}
        else:
            domain = junyi_submap(data, cfg.junyi_topic)
            row_of_skill = domain.depth()
            labels = [f"depth {d}" for d in range(max(row_of_skill.values()) + 1)]
        row_of_item = {i: row_of_skill[domain.item(i).skills[0]] for i in domain.item_ids}
        _DOMAINS[key] = (domain, labels, np.arange(len(labels)), row_of_item)
    return _DOMAINS[key]


TeacherSpec = tuple[Callable[[int], Teacher], str]


def course_teachers(domain: Domain, steps: int) -> dict[str, TeacherSpec]:
    """name -> (factory(seed), parameters as shown in the tables)."""
    pacing = Linear(0.2, steps)
    paced = f"linear pacing, start .2, ramp {steps} steps (the run)"
    return {
        "random": (lambda s: DEFAULT_TEACHERS["random"](domain, steps, s), "uniform over items"),
        "fixed": (
            lambda s: DEFAULT_TEACHERS["fixed"](domain, steps, s),
            "skills in topological order, items easy to hard, max(1, steps // items) each",
        ),
        "target": (lambda s: TargetSuccess(0.7, seed=s), "target 0.7 (default)"),
        "zpdes": (
            lambda s: ZPDES(domain, seed=s),
            "defaults: window 6, beta .9, eta .4, gamma .2",
        ),
        "curriculum": (
            lambda s: Curriculum(domain, pacing=pacing, seed=s),
            f"item difficulty, easy first, {paced}",
        ),
        "anti_curriculum": (
            lambda s: AntiCurriculum(domain, pacing=pacing, seed=s),
            f"item difficulty, hard first, {paced}",
        ),
        "random_curriculum": (
            lambda s: RandomCurriculum(pacing=pacing, seed=s),
            f"fixed random order, {paced}",
        ),
        "cyclical": (
            lambda s: CyclicalCurriculum(domain, seed=s),
            "item difficulty; defaults: .25 to 1, multiplier .5, phase 100",
        ),
        "self_paced": (
            lambda s: SelfPaced(seed=s),
            "defaults: loss 1 - P(success) < .3, x1.3 every 100 steps",
        ),
        "mastery": (
            lambda s: MasteryGate(domain, seed=s),
            f"defaults: mastery {MasteryGate(domain).threshold:g} (Elo's predicted success), "
            "lowest-mastery open skill",
        ),
        "tscl": (
            lambda s: TSCL(seed=s),
            "defaults: window 10, epsilon-greedy .1 on the absolute slope",
        ),
        "mastering_rate": (
            lambda s: MasteringRate(domain, seed=s),
            "defaults: window 10, power 6, potential .5",
        ),
        "mixture": (
            lambda s: Mixture(
                [(TargetSuccess(0.7, seed=s), 0.8), (DueReview(0.9, seed=s + 1), 0.2)], seed=s
            ),
            "80 % target .7 + 20 % due_review (retention .9)",
        ),
    }


#: Seed offset of the pilot cohorts (their students differ from every taught cohort's).
PILOT_SEED = 1_000_003


def pilot_elo_state(domain: Domain, pilot: Any, steps: int, seed: int) -> dict[str, Any]:
    """The state of an Elo model (per-skill abilities) fitted on the log of ``pilot`` (a
    simulated cohort) taught ``steps`` steps by the random teacher: the model the course
    teachers consult."""
    ids = [f"pilot-{i}" for i in range(pilot.n_students)]
    _, log = run_cohort(pilot, RandomTeacher(seed), None, steps, ids)
    state: dict[str, Any] = Elo(domain, skill_ability=True).fit(log).state_dict()
    return state


def course_job(sim: str, seed: int, cfg: Config, data: Path) -> dict[str, Any]:
    domain, labels, _, row_of_item = course(sim, data, cfg)
    junyi = sim == "junyi"
    n = cfg.junyi_students if junyi else cfg.course_students
    steps = cfg.junyi_steps if junyi else cfg.course_steps
    pilot_steps = cfg.junyi_pilot_steps if junyi else cfg.pilot_steps
    pilots = cfg.junyi_pilot_students if junyi else cfg.pilot_students
    pilot = StudentPopulation(domain, pilots, seed=PILOT_SEED + seed)
    state = pilot_elo_state(domain, pilot, pilot_steps, seed)
    bins = min(cfg.heat_bins, steps)
    out: dict[str, Any] = {}
    for name, (factory, _) in course_teachers(domain, steps).items():
        population = StudentPopulation(domain, n, seed=seed)
        teacher = factory(seed)
        model = model_from_state(state, domain=domain)
        wall, cpu = time.perf_counter(), time.process_time()
        curve, log = run_cohort(population, teacher, model, steps)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        rows = np.array([row_of_item[i] for i in log.item.tolist()]).reshape(steps, n)
        heat = np.zeros((len(labels), bins))
        for step in range(steps):
            heat[:, step * bins // steps] += np.bincount(rows[step], minlength=len(labels))
        reach = np.flatnonzero(curve >= cfg.mastery_level)
        out[name] = {
            "curve": curve,
            "post": float(curve[-1]),
            "to_level": int(reach[0]) if reach.size else None,
            "retention": float(population.post_test(delay=cfg.delay).mean()),
            "wall": wall,
            "cpu": cpu,
            "heat": heat,
        }
    return out


# ============================================================================ hypercube
def cube_depth(cube: Hypercube, tasks: np.ndarray) -> np.ndarray:
    """The unlock depth max_i c_i of each task's cell (0 at the origin)."""
    return cube.cell_of(tasks).max(axis=1)


def cube_heat(depth: np.ndarray, cells: int, episodes: int, every: int) -> np.ndarray:
    heat = np.zeros((cells, episodes // every))
    np.add.at(heat, (depth, np.arange(depth.size) // every), 1.0)
    return heat


def cube_uniform(seed: int, cfg: Config) -> dict[str, Any]:
    cube = Hypercube(seed=seed)
    scores = [cube.score()]
    tasks = []
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(cfg.cube_episodes // cfg.cube_every):
        x = cube.sample_tasks(cfg.cube_every)
        cube.episode(x)
        tasks.append(x)
        scores.append(cube.score())
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"scores": scores, "wall": wall, "cpu": cpu, "tasks": np.concatenate(tasks)}


def cube_alp_gmm(seed: int, cfg: Config) -> dict[str, Any]:
    """Ours, one task per episode (the authors' protocol)."""
    cube = Hypercube(seed=seed)
    tasks = np.empty((cfg.cube_episodes, cube.dim))
    scores = [cube.score()]
    wall, cpu = time.perf_counter(), time.process_time()
    teacher = ALPGMM(cube.task_space, seed=seed)
    for episode in range(cfg.cube_episodes):
        x = teacher.sample(1)
        teacher.observe(x, cube.episode(x))
        tasks[episode] = x[0]
        if (episode + 1) % cfg.cube_every == 0:
            scores.append(cube.score())
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"scores": scores, "wall": wall, "cpu": cpu, "tasks": tasks}


def cube_bandit(
    seed: int,
    cfg: Config,
    choose: Callable[[int], int],
    learn: Callable[[int, np.ndarray, int], None],
) -> dict[str, Any]:
    """A bandit over cells: each step one cell, ``cube_group`` episodes at uniform points of it."""
    cube = Hypercube(seed=seed)
    rng = np.random.default_rng([seed, 7919])
    group = cfg.cube_group
    tasks = np.empty((cfg.cube_episodes, cube.dim))
    scores = [cube.score()]
    wall, cpu = time.perf_counter(), time.process_time()
    for step in range(cfg.cube_episodes // group):
        cell = choose(step)
        corner = np.array(np.unravel_index(cell, (cube.cells,) * cube.d), dtype=float)
        x = (corner + rng.random((group, cube.d))) / cube.cells
        rewards = cube.episode(x)
        learn(cell, rewards, step)
        tasks[step * group : (step + 1) * group] = x
        if ((step + 1) * group) % cfg.cube_every == 0:
            scores.append(cube.score())
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"scores": scores, "wall": wall, "cpu": cpu, "tasks": tasks}


def cube_teacher(teacher: Teacher, seed: int, cfg: Config) -> dict[str, Any]:
    cells = list(range(Hypercube().cells ** 2))

    def choose(step: int) -> int:
        return int(teacher.select("agent", cells, 1)[0])

    def learn(cell: int, rewards: np.ndarray, step: int) -> None:
        n = rewards.size
        teacher.observe(EventLog(["agent"] * n, [cell] * n, [float(step)] * n, rewards))

    return cube_bandit(seed, cfg, choose, learn)


def cube_syllabus(client: Server, seed: int, cfg: Config) -> dict[str, Any]:
    """syllabus-rl's OnlineLearningProgress over the cells; an episode succeeds when its
    cell is mastered (reward above the threshold, the benchmark's own criterion)."""
    cube = Hypercube()
    level = cube.threshold / cube.max_competence
    client.seconds = 0.0
    client.call(op="new", tasks=cube.cells**2, interval=cfg.lp_cube_interval, seed=seed + 1)

    def choose(step: int) -> int:
        return int(client.call(op="sample", k=1)["tasks"][0])

    def learn(cell: int, rewards: np.ndarray, step: int) -> None:
        client.call(op="update", tasks=[cell] * rewards.size, progress=(rewards > level).tolist())

    result = cube_bandit(seed, cfg, choose, learn)
    result["server_seconds"] = client.seconds
    return result


def cube_job(seed: int, cfg: Config, refs: Refs) -> dict[str, Any]:
    runs: dict[str, dict[str, Any]] = {
        "random": cube_uniform(seed, cfg),
        "alp_gmm": cube_alp_gmm(seed, cfg),
    }
    ref = server("teachdrl", refs)
    if ref is not None:
        answer = ref.call(
            seed=1000 + seed,  # the authors' ALPGMM treats seed 0 as "no seed"
            d=2,
            cells=10,
            episodes=cfg.cube_episodes,
            every=cfg.cube_every,
        )
        answer["tasks"] = np.asarray(answer["tasks"])
        runs["alp_gmm (teachDeepRL)"] = answer
    runs["tscl"] = cube_teacher(TSCL(seed=seed), seed, cfg)
    runs["sec"] = cube_teacher(SEC(seed=seed), seed, cfg)
    lp = server("syllabus", refs)
    if lp is not None:
        runs["learning_progress (syllabus-rl)"] = cube_syllabus(lp, seed, cfg)
    cube = Hypercube()
    for run in runs.values():
        tasks = run.pop("tasks")
        run["heat"] = cube_heat(
            cube_depth(cube, tasks), cube.cells, cfg.cube_episodes, cfg.cube_every
        )
        run["score"] = run["scores"][-1]
    return runs


# ============================================================================ pass rate
class CategoryTeacher(Teacher):
    """Benchmark adapter: an arm teacher picks a category for each slot of the batch
    (one draw per slot, so categories repeat), then prompts are drawn uniformly, without
    repeats, within each chosen category. Candidates are taken to be every prompt. The
    arm teacher observes the events with each prompt replaced by its category."""

    name = "category"

    def __init__(self, arms: Teacher, category: np.ndarray, seed: int) -> None:
        super().__init__(seed)
        self.arms = arms
        self.category = np.asarray(category)
        self.labels = list(range(int(self.category.max()) + 1))
        self.members = [np.flatnonzero(self.category == c) for c in self.labels]

    def select(self, learner, candidates, k=1, t=None, model=None):
        if getattr(self.arms, "draws_with_replacement", False):
            chosen = self.arms.select(learner, self.labels, k, t, model)
        else:
            chosen = [self.arms.select(learner, self.labels, 1, t, model)[0] for _ in range(k)]
        counts = np.bincount(np.asarray(chosen, dtype=int), minlength=len(self.labels))
        picks: list[int] = []
        for c, m in enumerate(counts.tolist()):
            if m:
                size = min(m, self.members[c].size)
                picks += self.rng.choice(self.members[c], size=size, replace=False).tolist()
        return picks

    def observe(self, events: EventLog) -> None:
        arms = self.category[np.asarray(events.item, dtype=np.int64)]
        self.arms.observe(
            EventLog(
                events.learner, arms, events.time, events.outcome, events.extra, validate=False
            )
        )


class SyllabusArms(Teacher):
    """syllabus-rl's OnlineLearningProgress over arms, as a teacher (in the reference
    process); each event's ``k`` rollouts are reported as ``k`` episodes of 0/1 success."""

    name = "syllabus_lp"
    draws_with_replacement = True

    def __init__(self, client: Server, arms: int, interval: int, k: int, seed: int) -> None:
        super().__init__(seed)
        self.client = client
        self.k = k
        client.seconds = 0.0
        client.call(op="new", tasks=arms, interval=interval, seed=seed + 1)

    def select(self, learner, candidates, k=1, t=None, model=None):
        return self.client.call(op="sample", k=k)["tasks"]

    def observe(self, events: EventLog) -> None:
        arms = np.asarray(events.item, dtype=np.int64)
        successes = np.rint(events.outcome * self.k).astype(int)
        progress = (np.arange(self.k)[None, :] < successes[:, None]).astype(float).ravel()
        self.client.call(
            op="update", tasks=np.repeat(arms, self.k).tolist(), progress=progress.tolist()
        )


def band(p: np.ndarray) -> np.ndarray:
    """Bae et al.'s filter: keep prompts whose rollouts neither all pass nor all fail."""
    return (p > 0.0) & (p < 1.0)


def pass_teachers(
    sim: PassRateSim, seed: int, cfg: Config, refs: Refs
) -> dict[str, tuple[Callable[[], Teacher], dict[str, Any], str]]:
    """name -> (factory, run_passrate options, parameters as shown in the tables)."""
    failure = expit(sim.difficulty)  # the initial policy's failure rate on each prompt
    edges = np.quantile(failure, np.linspace(0, 1, cfg.pass_categories + 1)[1:-1])
    category = np.searchsorted(edges, failure)
    table = [[i, float(100.0 * f)] for i, f in enumerate(failure)]
    cats = f"{cfg.pass_categories} failure-rate deciles, uniform prompt within"
    teachers: dict[str, tuple[Callable[[], Teacher], dict[str, Any], str]] = {
        "random (uniform)": (lambda: RandomTeacher(seed), {}, "64 distinct prompts, uniform"),
        "online_filter (after rollouts)": (
            lambda: RandomTeacher(seed),
            {"keep": band, "max_draws": 100},
            "uniform draws of 64, keep 0 < p_hat < 1, redraw until 64 (Bae et al.)",
        ),
        "online_filter (before rollouts)": (
            lambda: OnlineDifficultyFilter(seed=seed),
            {},
            "OnlineDifficultyFilter defaults: empirical p over last 8, band (0, 1), 3 refills",
        ),
        "adarft": (
            lambda: AdaRFT(difficulty=table, seed=seed),
            {},
            "difficulty = 100 x initial failure rate; paper settings eta 50, alpha 2, beta .5",
        ),
        "sec": (
            lambda: CategoryTeacher(SEC(seed=seed), category, seed),
            {},
            f"defaults alpha .5, temperature 1; {cats}",
        ),
        "dump": (
            lambda: CategoryTeacher(DUMP(seed=seed), category, seed),
            {},
            f"defaults window 300, c 1, temperature .1; {cats}",
        ),
        "tscl": (
            lambda: CategoryTeacher(TSCL(seed=seed), category, seed),
            {},
            f"defaults window 10, epsilon-greedy .1; {cats}",
        ),
    }
    if refs.syllabus.get("ok"):
        interval = cfg.lp_pass_interval_steps * cfg.pass_batch * sim.k
        teachers["learning_progress (syllabus-rl)"] = (
            lambda: CategoryTeacher(
                SyllabusArms(server("syllabus", refs), cfg.pass_categories, interval, sim.k, seed),
                category,
                seed,
            ),
            {},
            f"OnlineLearningProgress defaults, update every {interval} rollouts "
            f"({cfg.lp_pass_interval_steps} steps); {cats}",
        )
    return teachers


def pass_job(seed: int, cfg: Config, refs: Refs) -> dict[str, Any]:
    top = max(cfg.pass_horizons)
    uniform_sim = PassRateSim(seed=seed)
    uniform, _ = run_passrate(uniform_sim, RandomTeacher(seed), top, batch_size=cfg.pass_batch)
    levels = {s: float(uniform.pass_rate[: s + 1].max()) for s in cfg.pass_horizons}
    budget = 2 * int(uniform.rollouts[top])
    out: dict[str, Any] = {"levels": levels}
    for name, (factory, options, _) in pass_teachers(
        PassRateSim(seed=seed), seed, cfg, refs
    ).items():
        sim = PassRateSim(seed=seed)  # the same prompt pool and held-out set for every teacher
        teacher = factory()
        wall = time.perf_counter()
        curve, log = run_passrate(
            sim, teacher, 2 * top, batch_size=cfg.pass_batch, max_rollouts=budget, **options
        )
        wall = time.perf_counter() - wall
        failure = expit(sim.difficulty)
        edges = np.quantile(failure, np.linspace(0, 1, cfg.pass_categories + 1)[1:-1])
        decile = np.searchsorted(edges, failure[np.asarray(log.item, dtype=np.int64)])
        step_bin = np.minimum(
            log.time.astype(int) * cfg.pass_heat_bins // (2 * top), cfg.pass_heat_bins - 1
        )
        heat = np.zeros((cfg.pass_categories, cfg.pass_heat_bins))
        np.add.at(heat, (decile, step_bin), 1.0)
        reach: dict[int, dict[str, float | None]] = {}
        for s, level in levels.items():
            reach[s] = {
                unit: curve.to_reach(level, unit)
                for unit in ("rollouts", "steps", "trained_rollouts")
            }
        main_budget = cfg.pass_main * cfg.pass_batch * sim.k
        within = curve.rollouts <= main_budget
        out[name] = {
            "reach": reach,
            "at_uniform_rollouts": float(curve.pass_rate[within].max()),
            "final_rollouts": int(curve.rollouts[-1]),
            "final_steps": int(curve.steps[-1]),
            "final_pass_rate": float(curve.pass_rate[-1]),
            "curve": {
                "steps": curve.steps,
                "rollouts": curve.rollouts,
                "pass_rate": curve.pass_rate,
            },
            "heat": heat,
            "wall": wall,
            "server_seconds": getattr(getattr(teacher, "arms", None), "client", None)
            and teacher.arms.client.seconds,
        }
    return out


# ============================================================================ jobs
def worker_init() -> None:
    threadpool_limits(limits=1)
    warnings.filterwarnings("ignore", category=UserWarning)


def run_job(sim: str, seed: int, cfg: Config, data: Path, refs: Refs) -> tuple[str, int, Any]:
    if sim in ("course15", "junyi"):
        return sim, seed, course_job(sim, seed, cfg, data)
    if sim == "hypercube":
        return sim, seed, cube_job(seed, cfg, refs)
    return sim, seed, pass_job(seed, cfg, refs)


# ============================================================================ summaries
def summarise_course(sim: str, results: dict[int, dict], cfg: Config, data: Path) -> dict:
    domain, labels, _, _ = course(sim, data, cfg)
    junyi = sim == "junyi"
    steps = cfg.junyi_steps if junyi else cfg.course_steps
    specs = course_teachers(domain, steps)
    seeds = sorted(results)
    teachers: dict[str, Any] = {}
    for name, (_, params) in specs.items():
        runs = [results[s][name] for s in seeds]
        teachers[name] = {
            "params": params,
            "post_test": summary([r["post"] for r in runs]),
            "steps_to_level": summary([r["to_level"] for r in runs]),
            "retention": summary([r["retention"] for r in runs]),
            "wall_per_run": summary([r["wall"] for r in runs]),
            "cpu_per_run": summary([r["cpu"] for r in runs]),
            "per_seed": {
                "post_test": [r["post"] for r in runs],
                "steps_to_level": [r["to_level"] for r in runs],
                "retention": [r["retention"] for r in runs],
            },
            "curve": curve_summary([r["curve"] for r in runs]),
            "heat": np.sum([r["heat"] for r in runs], axis=0).tolist(),
        }
    paired = {
        f"{name} - random": summary(
            [results[s][name]["post"] - results[s]["random"]["post"] for s in seeds]
        )
        for name in specs
        if name != "random"
    }
    shape = {
        "skills": len(domain.skills),
        "items": len(domain.items),
        "prerequisites": domain.graph.number_of_edges(),
        "depth": max(domain.depth().values()),
        "connected_components": nx.number_weakly_connected_components(domain.graph),
    }
    if junyi:
        shape["submap"] = {
            "source": "junyi_exercise_table.csv (make_junyi_course, 3 items per exercise)",
            "rule": "prerequisite_closure: the topic's exercises and every exercise they "
            "build on, directly or not",
            "topic": cfg.junyi_topic,
            "topic_skills": sum(
                a.get("topic") == cfg.junyi_topic for a in domain.skill_attributes.values()
            ),
            "dropped_prerequisites": [list(e) for e in domain.dropped_prerequisites],
        }
    return {
        "simulator": sim,
        "domain": shape,
        "students": cfg.junyi_students if junyi else cfg.course_students,
        "steps": steps,
        "pilot": {
            "students": cfg.junyi_pilot_students if junyi else cfg.pilot_students,
            "steps": cfg.junyi_pilot_steps if junyi else cfg.pilot_steps,
            "model": "elo (skill_ability=True), fitted on a random-teacher pilot cohort",
        },
        "delay": cfg.delay,
        "mastery_level": cfg.mastery_level,
        "seeds": seeds,
        "heat_rows": labels,
        "teachers": teachers,
        "post_test_minus_random": paired,
    }


CUBE_PARAMS = {
    "random": ("mentor", "uniform tasks in [0, 1]^2"),
    "alp_gmm": (
        "mentor",
        "defaults (the authors'): fit every 250, k 2-10, AIC, 20 % random; one task per episode",
    ),
    "alp_gmm (teachDeepRL)": (
        "teachDeepRL",
        "ALPGMM defaults, seeded (np.random and gym Box); one task per episode",
    ),
    "tscl": (
        "mentor",
        "defaults: window 10, epsilon-greedy .1; *oracle arms* (the 100 mastery cells), "
        "8 episodes/step",
    ),
    "sec": (
        "mentor",
        "defaults: alpha .5, temperature 1; *oracle arms* (the 100 mastery cells), 8 episodes/step",
    ),
    "learning_progress (syllabus-rl)": (
        "syllabus-rl",
        "OnlineLearningProgress defaults (ema .1, p_theta .1, 25 % uniform), update every "
        "800 episodes; success = cell mastered; *oracle arms* (the 100 mastery cells), "
        "8 episodes/step",
    ),
}


def summarise_cube(results: dict[int, dict], cfg: Config) -> dict:
    seeds = sorted(results)
    names = [n for n in CUBE_PARAMS if all(n in results[s] for s in seeds)]
    teachers: dict[str, Any] = {}
    for name in names:
        runs = [results[s][name] for s in seeds]
        source, params = CUBE_PARAMS[name]
        teachers[name] = {
            "implementation": source,
            "params": params,
            "mastered": summary([r["score"] for r in runs]),
            "wall_per_run": summary([r["wall"] for r in runs]),
            "cpu_per_run": summary([r["cpu"] for r in runs]),
            "per_seed": {"mastered": [r["score"] for r in runs], "wall": [r["wall"] for r in runs]},
            "curve": curve_summary([r["scores"] for r in runs]),
            "heat": np.sum([r["heat"] for r in runs], axis=0).tolist(),
        }
        if "server_seconds" in runs[0]:
            teachers[name]["reference_process_seconds"] = summary(
                [r["server_seconds"] for r in runs]
            )
    comparison: dict[str, Any] = {
        "alp_gmm - random (paired by seed)": summary(
            [results[s]["alp_gmm"]["score"] - results[s]["random"]["score"] for s in seeds]
        )
    }
    if "alp_gmm (teachDeepRL)" in teachers:
        ours = np.array(teachers["alp_gmm"]["per_seed"]["mastered"])
        theirs = np.array(teachers["alp_gmm (teachDeepRL)"]["per_seed"]["mastered"])
        ours_wall = np.array([results[s]["alp_gmm"]["wall"] for s in seeds])
        theirs_wall = np.array([results[s]["alp_gmm (teachDeepRL)"]["wall"] for s in seeds])
        ours_cpu = np.array([results[s]["alp_gmm"]["cpu"] for s in seeds])
        theirs_cpu = np.array([results[s]["alp_gmm (teachDeepRL)"]["cpu"] for s in seeds])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # identical scores in tiny runs
            welch = stats.ttest_ind(ours, theirs, equal_var=False) if len(seeds) > 1 else None
        comparison["alp_gmm ours / teachDeepRL"] = {
            "mastered_ratio": float(ours.mean() / theirs.mean()),
            "mastered_difference": summary((ours - theirs).tolist()),
            "welch_p": None if welch is None else float(welch.pvalue),
            "wall_ratio": float(ours_wall.mean() / theirs_wall.mean()),
            "wall_ratio_per_seed": summary((ours_wall / theirs_wall).tolist()),
            "cpu_ratio": float(ours_cpu.mean() / theirs_cpu.mean()),
            "note": "the same Hypercube code, one task per episode in both; wall and CPU time "
            "of the 20,000-episode loop (teacher and environment), one BLAS thread each; "
            "ours and theirs run one after the other in the same worker for each seed",
        }
        comparison["alp_gmm (teachDeepRL) - random (paired by seed)"] = summary(
            [
                results[s]["alp_gmm (teachDeepRL)"]["score"] - results[s]["random"]["score"]
                for s in seeds
            ]
        )
    if "learning_progress (syllabus-rl)" in teachers:
        lp = np.array(teachers["learning_progress (syllabus-rl)"]["per_seed"]["mastered"])
        for name in ("tscl", "sec"):
            ours = np.array(teachers[name]["per_seed"]["mastered"])
            comparison[f"{name} / learning_progress (syllabus-rl)"] = {
                "mastered_ratio": float(ours.mean() / lp.mean()) if lp.mean() else None,
                "wall_ratio": float(
                    teachers[name]["wall_per_run"]["mean"]
                    / teachers["learning_progress (syllabus-rl)"]["wall_per_run"]["mean"]
                ),
            }
    return {
        "simulator": "hypercube",
        "cube": {"d": 2, "cells": 10, "threshold": 75, "max_competence": 100},
        "episodes": cfg.cube_episodes,
        "every": cfg.cube_every,
        "group": cfg.cube_group,
        "seeds": seeds,
        "heat_rows": [f"depth {d}" for d in range(10)],
        "teachers": teachers,
        "comparisons": comparison,
        "published": {
            "source": "shared/REFERENCES.md (authors' teachers and defaults, 30 seeds)",
            "Random": 4.6,
            "ALP-GMM": 34.6,
            "RIAC": 47.0,
            "Covar-GMM": 67.8,
        },
    }


def summarise_pass(results: dict[int, dict], cfg: Config, refs: Refs) -> dict:
    seeds = sorted(results)
    specs = pass_teachers(PassRateSim(seed=0), 0, cfg, refs)
    names = [n for n in specs if all(n in results[s] for s in seeds)]
    grid_r = np.linspace(0, 2 * max(cfg.pass_horizons) * cfg.pass_batch * 8, 101)
    grid_s = np.arange(0, 2 * max(cfg.pass_horizons) + 1, max(1, max(cfg.pass_horizons) // 50))
    teachers: dict[str, Any] = {}
    for name in names:
        runs = [results[s][name] for s in seeds]
        entry: dict[str, Any] = {"params": specs[name][2], "horizons": {}}
        for h in cfg.pass_horizons:
            uni = [results[s]["random (uniform)"]["reach"][h] for s in seeds]
            mine = [r["reach"][h] for r in runs]
            block = {}
            for unit in ("rollouts", "steps", "trained_rollouts"):
                ratios = [
                    None if m[unit] is None else m[unit] / u[unit]
                    for m, u in zip(mine, uni, strict=True)
                ]
                block[unit] = summary(ratios)
                block[unit + "_absolute"] = summary([m[unit] for m in mine])
            entry["horizons"][str(h)] = block
        entry["pass_rate_at_uniform_rollouts"] = summary([r["at_uniform_rollouts"] for r in runs])
        entry["wall_per_run"] = summary([r["wall"] for r in runs])
        if runs[0].get("server_seconds"):
            entry["reference_process_seconds"] = summary([r["server_seconds"] for r in runs])

        def interp(r: dict, x: str, grid: np.ndarray) -> np.ndarray:
            xs = np.asarray(r["curve"][x], dtype=float)
            ys = np.asarray(r["curve"]["pass_rate"], dtype=float)
            return np.where(grid <= xs[-1], np.interp(grid, xs, ys), np.nan)

        warnings.simplefilter("ignore", RuntimeWarning)  # grid points no run covers: NaN
        by_r = np.array([interp(r, "rollouts", grid_r) for r in runs])
        by_s = np.array([interp(r, "steps", grid_s) for r in runs])
        entry["curve_by_rollouts"] = {
            "x": grid_r.tolist(),
            "mean": np.nanmean(by_r, axis=0).tolist() if np.isfinite(by_r).any() else [],
            "runs_covering": np.isfinite(by_r).sum(axis=0).tolist(),
        }
        entry["curve_by_steps"] = {
            "x": grid_s.tolist(),
            "mean": np.nanmean(by_s, axis=0).tolist(),
            "runs_covering": np.isfinite(by_s).sum(axis=0).tolist(),
        }
        entry["heat"] = np.sum([r["heat"] for r in runs], axis=0).tolist()
        teachers[name] = entry
    levels = {str(h): summary([results[s]["levels"][h] for s in seeds]) for h in cfg.pass_horizons}
    return {
        "simulator": "passrate",
        "sim": {
            "n_prompts": 5000,
            "n_eval": 500,
            "k": 8,
            "lr": 0.1,
            "difficulty": "Normal(0, 2.5)",
            "batch_size": cfg.pass_batch,
        },
        "horizons": list(cfg.pass_horizons),
        "main_horizon": cfg.pass_main,
        "uniform_best_pass_rate": levels,
        "cap": "2 x uniform's rollouts at the longest horizon, or 2 x its steps",
        "seeds": seeds,
        "heat_rows": [f"decile {d + 1}" for d in range(cfg.pass_categories)],
        "teachers": teachers,
    }


# ============================================================================ plots
def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")


def plot_curves(summaries: dict[str, dict], out: Path, suffix: str) -> list[Path]:
    plt = _plt()
    written = []
    colors = plt.get_cmap("tab20").colors
    for sim, data in summaries.items():
        if sim == "passrate":
            fig, axes = plt.subplots(1, 2, figsize=(13, 5), dpi=110)
            level = data["uniform_best_pass_rate"][str(data["main_horizon"])]["mean"]
            for i, (name, t) in enumerate(data["teachers"].items()):
                c = colors[i % len(colors)]
                axes[0].plot(
                    t["curve_by_rollouts"]["x"], t["curve_by_rollouts"]["mean"], color=c, label=name
                )
                axes[1].plot(
                    t["curve_by_steps"]["x"], t["curve_by_steps"]["mean"], color=c, label=name
                )
            for ax, xlabel in zip(axes, ("rollouts generated", "training steps"), strict=True):
                ax.axhline(level, color="grey", linestyle="--", linewidth=1)
                ax.set_xlabel(xlabel)
                ax.set_ylabel("held-out pass rate (mean over seeds)")
                ax.grid(alpha=0.3)
            axes[0].legend(fontsize=7, loc="lower right")
            fig.suptitle(
                f"Pass-rate simulator: dashed = uniform's best after {data['main_horizon']} steps"
            )
        else:
            fig, ax = plt.subplots(figsize=(9, 5.5), dpi=110)
            if sim == "hypercube":
                x = np.arange(len(next(iter(data["teachers"].values()))["curve"]["mean"]))
                x = x * data["every"]
                ylabel, xlabel = "% cells mastered", "episodes"
            else:
                x = np.arange(data["steps"] + 1)
                ylabel, xlabel = "mean post-test score", "practice step"
            for i, (name, t) in enumerate(data["teachers"].items()):
                c = colors[i % len(colors)]
                ax.plot(x, t["curve"]["mean"], color=c, label=name, linewidth=1.5)
                ax.fill_between(x, t["curve"]["low"], t["curve"]["high"], color=c, alpha=0.15)
            if sim != "hypercube":
                ax.axhline(data["mastery_level"], color="grey", linestyle="--", linewidth=1)
            ax.set_xlabel(xlabel)
            ax.set_ylabel(ylabel)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
            ax.set_title(f"{sim}: mean and 95% CI over {len(data['seeds'])} seeds")
        fig.tight_layout()
        path = out / f"teachers_{sim}_curves{suffix}.png"
        _save(fig, path)
        plt.close(fig)
        written.append(path)
    return written


def plot_choices(summaries: dict[str, dict], out: Path, suffix: str) -> list[Path]:
    plt = _plt()
    written = []
    for sim, data in summaries.items():
        names = list(data["teachers"])
        cols = 4 if len(names) > 6 else 3
        rows = -(-len(names) // cols)
        fig, axes = plt.subplots(
            rows,
            cols,
            figsize=(3.6 * cols, 2.8 * rows),
            dpi=110,
            squeeze=False,
            layout="constrained",
        )
        if sim == "hypercube":
            span, xlabel = data["episodes"], "episode"
        elif sim == "passrate":
            span, xlabel = 2 * max(data["horizons"]), "training step"
        else:
            span, xlabel = data["steps"], "practice step"
        labels = data["heat_rows"]
        for ax, name in zip(axes.flat, names, strict=False):
            heat = np.asarray(data["teachers"][name]["heat"], dtype=float)
            share = heat / np.maximum(heat.sum(axis=0, keepdims=True), 1.0)
            image = ax.imshow(
                share,
                aspect="auto",
                origin="lower",
                cmap="viridis",
                vmin=0,
                vmax=1,
                extent=(0, span, -0.5, len(labels) - 0.5),
                interpolation="nearest",
            )
            ax.set_title(name, fontsize=8)
            ax.set_xlabel(xlabel, fontsize=7)
            ticks = np.arange(len(labels))
            if len(labels) > 16:
                ticks = ticks[:: max(1, len(labels) // 8)]
            ax.set_yticks(ticks)
            ax.set_yticklabels([labels[t] for t in ticks], fontsize=6)
            ax.tick_params(axis="x", labelsize=6)
        for ax in list(axes.flat)[len(names) :]:
            ax.axis("off")
        fig.colorbar(image, ax=axes, shrink=0.5, label="share of the choices in the time bin")
        what = {
            "course15": "skill practised (topological order)",
            "junyi": "prerequisite depth of the skill practised",
            "hypercube": "cell depth max(cx, cy) (unlock order)",
            "passrate": "initial failure-rate decile of prompts rolled out",
        }[sim]
        fig.suptitle(
            f"{sim}: share of choices per time bin, summed over seeds; rows = {what}", fontsize=9
        )

        path = out / f"teachers_{sim}_choices{suffix}.png"
        _save(fig, path)
        plt.close(fig)
        written.append(path)
    return written


# ============================================================================ tables
def tables(summaries: dict[str, dict]) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) of every table printed and written as Markdown."""
    out = []
    for sim in ("course15", "junyi"):
        if sim not in summaries:
            continue
        d = summaries[sim]
        header = [
            "teacher",
            "parameters",
            "post-test mastery %",
            f"steps to {d['mastery_level']:.0%} (reached)",
            f"retention % (delay {d['delay']:g})",
            "s / run",
        ]
        rows = [
            [
                name,
                t["params"],
                fmt(t["post_test"], 100),
                fmt(t["steps_to_level"], 1, 0, counts=True),
                fmt(t["retention"], 100),
                f"{t['wall_per_run']['mean']:.2f}",
            ]
            for name, t in d["teachers"].items()
        ]
        where = ""
        if "submap" in d["domain"]:
            where = f" (topic {d['domain']['submap']['topic']} and its prerequisites)"
        title = (
            f"{sim}{where}: {d['domain']['skills']} skills, {d['domain']['items']} items, "
            f"{d['domain']['prerequisites']} prerequisites, depth {d['domain']['depth']}, "
            f"{d['students']} students x {d['steps']} steps (pilot {d['pilot']['students']} "
            f"x {d['pilot']['steps']}), delay {d['delay']:g}, {len(d['seeds'])} seeds"
        )
        out.append((title, header, rows))
    if "hypercube" in summaries:
        d = summaries["hypercube"]
        header = [
            "teacher",
            "implementation",
            "parameters",
            "% mastered",
            "wall s / run",
            "CPU s / run",
        ]
        rows = [
            [
                name,
                t["implementation"],
                t["params"],
                fmt(t["mastered"], 1),
                f"{t['wall_per_run']['mean']:.2f}",
                f"{t['cpu_per_run']['mean']:.2f}",
            ]
            for name, t in d["teachers"].items()
        ]
        out.append(
            (
                f"hypercube: 10 x 10 cells, {d['episodes']:,} episodes, {len(d['seeds'])} seeds",
                header,
                rows,
            )
        )
    if "passrate" in summaries:
        d = summaries["passrate"]
        h = str(d["main_horizon"])
        level = d["uniform_best_pass_rate"][h]
        header = [
            "teacher",
            "parameters",
            "rollouts to L (x uniform)",
            "training steps to L (x uniform)",
            "trained rollouts to L (x uniform)",
            "pass rate at uniform's rollouts",
        ]
        rows = []
        for name, t in d["teachers"].items():
            b = t["horizons"][h]
            rows.append(
                [
                    name,
                    t["params"],
                    fmt(b["rollouts"], 1, 2, counts=True),
                    fmt(b["steps"], 1, 2),
                    fmt(b["trained_rollouts"], 1, 2),
                    fmt(t["pass_rate_at_uniform_rollouts"], 100),
                ]
            )
        out.append(
            (
                f"passrate: L = uniform's best held-out pass rate after {h} steps = "
                f"{fmt(level, 100)} %, {len(d['seeds'])} seeds",
                header,
                rows,
            )
        )
        header = ["teacher"] + [
            f"{u} to L_{s} (x uniform)" for s in d["horizons"] for u in ("rollouts", "steps")
        ]
        rows = []
        for name, t in d["teachers"].items():
            row = [name]
            for s in d["horizons"]:
                b = t["horizons"][str(s)]
                row += [fmt(b["rollouts"], 1, 2), fmt(b["steps"], 1, 2)]
            rows.append(row)
        out.append(
            (
                "passrate: ratios at every horizon S (L_S = uniform's best after S steps)",
                header,
                rows,
            )
        )
    return out


def comparisons(summaries: dict[str, dict]) -> list[str]:
    """The findings and reference ratios, as lines of text."""
    lines = []
    for sim in ("course15", "junyi"):
        if sim in summaries:
            d = summaries[sim]["post_test_minus_random"]["zpdes - random"]
            lines.append(
                f"{sim}: ZPDES - random post-test mastery (paired by seed) = "
                f"{fmt(d, 100, 2)} points"
            )
    if "hypercube" in summaries:
        c = summaries["hypercube"]["comparisons"]
        lines.append(
            "hypercube: ALP-GMM (ours) - random % mastered (paired by seed) = "
            f"{fmt(c['alp_gmm - random (paired by seed)'], 1)}"
        )
        if "alp_gmm (teachDeepRL) - random (paired by seed)" in c:
            lines.append(
                "hypercube: ALP-GMM (teachDeepRL) - random = "
                f"{fmt(c['alp_gmm (teachDeepRL) - random (paired by seed)'], 1)}"
            )
        if "alp_gmm ours / teachDeepRL" in c:
            r = c["alp_gmm ours / teachDeepRL"]
            welch = "n/a" if r["welch_p"] is None else f"{r['welch_p']:.2f}"
            lines.append(
                "hypercube: ALP-GMM ours / teachDeepRL: % mastered ratio "
                f"{r['mastered_ratio']:.3f} (difference {fmt(r['mastered_difference'], 1)}, "
                f"Welch p = {welch}); wall-time ratio {r['wall_ratio']:.3f} (per seed "
                f"{fmt(r['wall_ratio_per_seed'], 1, 3)}); CPU-time ratio {r['cpu_ratio']:.3f}"
            )
        for name in ("tscl", "sec"):
            key = f"{name} / learning_progress (syllabus-rl)"
            if key in c and c[key]["mastered_ratio"] is not None:
                lines.append(
                    f"hypercube: {key}: % mastered ratio {c[key]['mastered_ratio']:.3f}, "
                    f"wall-time ratio {c[key]['wall_ratio']:.3f}"
                )
    if "passrate" in summaries:
        d = summaries["passrate"]
        for h in d["horizons"]:
            for name in ("online_filter (after rollouts)", "online_filter (before rollouts)"):
                b = d["teachers"][name]["horizons"][str(h)]
                lines.append(
                    f"passrate S={h}: {name}: rollouts x {fmt(b['rollouts'], 1, 2, counts=True)}, "
                    f"training steps x {fmt(b['steps'], 1, 2)} of uniform's to reach its best"
                )
    return lines


def markdown(title: str, header: list[str], rows: list[list[str]]) -> str:
    text = header.index("parameters") if "parameters" in header else 0
    rule = ["---:" if i > text else "---" for i in range(len(header))]
    lines = [f"**{title}**", "", "| " + " | ".join(header) + " |", "| " + " | ".join(rule) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


# ============================================================================ main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the shared data folder (holds graphs/)")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per simulator (20)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 seeds, small runs")
    parser.add_argument("--only", choices=SIMS, action="append", help="run only this simulator")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (2)")
    parser.add_argument(
        "--junyi-topic", default=None, help="Junyi topic of the sub-map (multiplication-division)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--syllabus-python", default=str(REFS / "syllabus-venv/bin/python"))
    parser.add_argument("--teachdrl-python", default=str(REFS / "teachdrl-venv/bin/python"))
    parser.add_argument("--teachdrl-source", default=str(REFS / "teachDeepRL"))
    args = parser.parse_args()
    cfg = QUICK if args.quick else Config()
    if args.seeds is not None:
        cfg = replace(cfg, seeds=args.seeds)
    if args.junyi_topic is not None:
        cfg = replace(cfg, junyi_topic=args.junyi_topic)
    sims = args.only or list(SIMS)
    suffix = "_quick" if args.quick else ""
    console = Console(width=max(Console().width, 200))
    started = time.perf_counter()
    load_before = os.getloadavg()
    worker_init()
    junyi_table = args.data / "graphs" / "junyi_exercise_table.csv"
    if "junyi" in sims and not junyi_table.exists():
        parser.error(f"{junyi_table} not found")
    if "junyi" in sims:
        course("junyi", args.data, cfg)  # an unknown topic stops here, before any worker

    with tempfile.TemporaryDirectory(prefix="mentor-teachers-") as folder:
        refs = Refs(
            args.syllabus_python,
            args.teachdrl_python,
            args.teachdrl_source,
            str(Path(__file__).resolve().parents[1]),
            folder,
        )
        if {"hypercube", "passrate"} & set(sims):
            check_refs(refs)
            for kind in ("syllabus", "teachdrl"):
                status = getattr(refs, kind)
                if status["ok"]:
                    console.print(f"reference {kind}: {status['versions']}")
                else:
                    console.print(f"[yellow]reference {kind} skipped: {status['reason']}")
        jobs = [(sim, seed) for seed in range(cfg.seeds) for sim in sorted(sims, key=SIMS.index)]
        order = {"hypercube": 0, "junyi": 1, "course15": 2, "passrate": 3}
        jobs.sort(key=lambda j: (j[1], order[j[0]]))
        results: dict[str, dict[int, Any]] = {sim: {} for sim in sims}
        with (
            Progress(
                TextColumn("{task.description:<10}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            ) as progress,
            ProcessPoolExecutor(max_workers=args.workers, initializer=worker_init) as pool,
        ):
            bars = {sim: progress.add_task(sim, total=cfg.seeds) for sim in sims}
            futures = [pool.submit(run_job, sim, seed, cfg, args.data, refs) for sim, seed in jobs]
            for future in as_completed(futures):
                sim, seed, result = future.result()
                results[sim][seed] = result
                progress.advance(bars[sim])
                if not console.is_terminal:  # a log file: one line per finished job
                    console.print(
                        f"{sim} seed {seed} done at {time.perf_counter() - started:.0f} s"
                    )
        for srv in _SERVERS.values():
            srv.close()

    summaries: dict[str, dict] = {}
    for sim in sims:
        if sim in ("course15", "junyi"):
            summaries[sim] = summarise_course(sim, results[sim], cfg, args.data)
        elif sim == "hypercube":
            summaries[sim] = summarise_cube(results[sim], cfg)
        else:
            summaries[sim] = summarise_pass(results[sim], cfg, refs)
    elapsed = time.perf_counter() - started
    environment = {
        "command": " ".join(["python", "benchmarks/teachers.py", *sys.argv[1:]]),
        "machine": f"{platform.machine()} {platform.processor()}".strip(),
        "cpus": os.cpu_count(),
        "workers": args.workers,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "seconds": elapsed,
        "config": asdict(cfg),
        "references": {
            kind: {k: v for k, v in getattr(refs, kind).items() if k != "command"}
            for kind in ("syllabus", "teachdrl")
        },
        "not_run": {
            "due_review, power_replay": "review-only policies: alone they never introduce new "
            "material (due_review returns nothing until something is due); due_review runs "
            "inside the mixture",
            "filter": "a combinator, not a policy",
            "sec, dump on the courses": "their signal is a group-relative advantage; one "
            "answer per learner and item per step has advantage 0",
            "alp_gmm on the courses and pass rates": "needs a continuous task space (a Box)",
            "online_filter, adarft on the courses": "RL fine-tuning teachers (batch of prompts, "
            "pass rates), run on the pass-rate simulator",
            "syllabus-rl on the courses": "OnlineLearningProgress counts an arm not sampled "
            "since the last update as 0 % success; one learner's few answers per item make "
            "that the common case",
        },
    }
    args.out.mkdir(parents=True, exist_ok=True)
    for sim, data in summaries.items():
        data["environment"] = environment
        write_json(args.out / f"teachers_{sim}{suffix}.json", rounded(data))
    pngs = plot_curves(summaries, args.out, suffix) + plot_choices(summaries, args.out, suffix)
    for title, header, rows in tables(summaries):
        table = Table(title=title, show_lines=False)
        for i, h in enumerate(header):
            table.add_column(h, justify="right" if i >= 2 else "left", overflow="fold")
        for row in rows:
            table.add_row(*row)
        console.print(table)
    for line in comparisons(summaries):
        console.print(line)
    # The Markdown file keeps the tables of simulators not run this time, from their JSON.
    every: dict[str, dict] = {}
    for sim in SIMS:
        saved = args.out / f"teachers_{sim}{suffix}.json"
        if sim in summaries:
            every[sim] = summaries[sim]
        elif saved.is_file():
            every[sim] = json.loads(saved.read_text())
    blocks = [markdown(title, header, rows) for title, header, rows in tables(every)]
    lines = comparisons(every)
    md = "\n\n".join(blocks) + "\n\n" + "\n".join(f"- {line}" for line in lines) + "\n"
    with atomic_path(args.out / f"teachers_tables{suffix}.md") as tmp:
        Path(tmp).write_text(md)
    console.print(
        f"{elapsed:.0f} s; written to {args.out}: "
        + ", ".join(p.name for p in pngs)
        + f" and teachers_*{suffix}.json"
    )


if __name__ == "__main__":
    main()
