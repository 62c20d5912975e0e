"""mentor's BKT against pyBKT, side by side on the same data, machine and settings.

Usage:
    python benchmarks/bkt_vs_pybkt.py ../shared/data            # run
    python benchmarks/bkt_vs_pybkt.py ../shared/data --setup    # build pyBKT first

pyBKT (Badrinath, Wang and Pardos, EDM 2021) runs in its own virtual
environment outside the repository (default ``../refs/pybkt-venv``, or
``--pybkt-python``), with its fast C++/OpenMP build; ``--setup`` makes it with
the commands of ``shared/REFERENCES.md``:

    python -m venv ../refs/pybkt-venv
    ../refs/pybkt-venv/bin/pip install 'scikit-learn<1.5' pandas numpy setuptools wheel requests
    ../refs/pybkt-venv/bin/pip download --no-deps --no-binary :all: pybkt
    ../refs/pybkt-venv/bin/pip install --no-build-isolation --no-deps pybkt-1.4.3.tar.gz

and, for the reference runs of ``multigs`` and ``multilearn`` (see below), copies
the same archive's pure-Python sources (``source-py/pyBKT``) to
``../refs/pybkt-py`` and makes an environment to run them, which needs NumPy < 2:

    python -m venv ../refs/pybkt-py-venv
    ../refs/pybkt-py-venv/bin/pip install 'numpy<2' 'scikit-learn<1.5' 'pandas<2.3' requests

This script writes a small driver into a temporary folder and runs it with that
interpreter; the driver fits pyBKT's ``Model`` and reports times, parameters
and predictions. Both sides get the same data (the DKVMN splits of DATA/kt,
items as skills as :func:`mentor.events.read_kt` gives them; the synthetic set
also with its 5 true concepts as skills and the 50 questions as items), the
same starting parameters for every skill and item (mentor's defaults, passed to
pyBKT through ``Model.coef_``, one fit, no random restarts) and three protocols:

``fixed``
    exactly ``--iterations`` EM iterations on both sides (pyBKT: ``EM_fit``
    with ``tol=-1``; mentor: ``tol=-1``): the same computation, so parameters
    and log-likelihood must agree;
``default``
    each library's own stopping rule: pyBKT stops a skill when its
    log-likelihood, which its C++ E-step returns truncated to an integer,
    changes by less than 1e-3 (at most 100 iterations); mentor stops when the
    total log-likelihood improves by less than 1e-7 of itself (at most 200);
``same-LL``
    pyBKT as in ``default``, mentor stopped after the fewest EM iterations that
    reach pyBKT's training log-likelihood: the time each takes to fit equally well.

pyBKT 1.4.3's compiled E-step gives every item of a skill the first item's
guess and slip (``multigs``), and every item the first one's learn and forget
(``multilearn``): it reads ``learns[n]`` and ``guesses[n]`` only while the
previous value is negative. Its pure-Python build of the same release does not,
so for those variants the rows against the pure-Python build (run serially,
``--pure-iterations`` EM iterations, it is slow) are the ones where parameters
and log-likelihood must agree; the C++ rows show what that build gives.

Log-likelihoods are compared like with like: the sum over training answers of
``log P(answer | earlier answers)``, computed by :func:`mentor.metrics.log_likelihood`
from one-step predictions made from the start of every sequence, for mentor's
fit, for pyBKT's fit through pyBKT's own ``predict``, and for pyBKT's fitted
parameters through mentor's forward pass. Parameter differences are taken over
parameters the data identifies (learn and forget need at least one attempt
followed by another; pyBKT sets an unidentified learn rate to 1, mentor keeps
its starting value). Fit times are wall-clock, best of ``--repeats``; pyBKT's
is its whole ``Model.fit`` from a DataFrame (it prepares its data inside fit,
as mentor does), best of its parallel (OpenMP, all cores) and serial runs.
Process CPU times (all threads) are recorded too, as a check that holds up
when other work shares the machine; the load average is written with them.
Writes benchmarks/results/bkt_vs_pybkt.json and prints a table.
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np
from kt_splits import SPLITS
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mentor._io import write_json
from mentor.domain import Domain, Item
from mentor.events import EventLog, read_kt
from mentor.metrics import auc, log_likelihood
from mentor.students import BKT

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VENV = ROOT.parent / "refs" / "pybkt-venv"
DEFAULT_PURE = ROOT.parent / "refs" / "pybkt-py"  # sources, run by the venv below
DEFAULT_PURE_VENV = ROOT.parent / "refs" / "pybkt-py-venv"  # NumPy < 2, which they need
INIT = {"prior": 0.4, "learn": 0.1, "forget": 0.05, "guess": 0.2, "slip": 0.1}

# dataset name -> (split folder, skills are the true concepts, variants)
DATASETS = {
    "assist2009_updated": ("assist2009_updated", False, ("standard", "forgets")),
    "assist2015": ("assist2015", False, ("standard", "forgets")),
    "synthetic": ("synthetic", False, ("standard", "forgets")),
    "synthetic-concepts": ("synthetic", True, ("standard", "multigs", "multilearn")),
}
VARIANTS = {
    "standard": {"forgets": False},
    "forgets": {"forgets": True},
    "multigs": {"forgets": False, "multigs": True},
    "multilearn": {"forgets": False, "multilearn": True},
}

DRIVER = r"""
import json, sys, time
import numpy as np, pandas as pd
from pyBKT.models import Model
from pyBKT.fit import EM_fit as em
from pyBKT.fit import M_step as ms

spec = json.load(open(sys.argv[1]))
arrays = np.load(spec["data"])

def frame(part):
    n = arrays[part + "_correct"].size
    return pd.DataFrame({
        "order_id": np.arange(n),
        "user_id": arrays[part + "_user"],
        "skill_name": arrays[part + "_skill"].astype(str),
        "correct": arrays[part + "_correct"].astype(np.int64),
        "template_id": arrays[part + "_item"],
    })

train, test = frame("train"), frame("test")
original, original_m_step = em.EM_fit, ms.run
record = {"m_steps": 0}

def timed_em(model, data, tol=None, maxiter=None, parallel=True, fixed={}):
    start, m_steps = time.perf_counter(), record["m_steps"]
    out = original(model, data, tol=record["tol"], maxiter=record["maxiter"],
                   parallel=parallel, fixed=fixed)
    record["em"] += time.perf_counter() - start
    record["iterations"].append(record["m_steps"] - m_steps)
    record["internal_ll"] += float(out[1][-1][0])
    return out

def counted_m_step(*args, **kwargs):
    record["m_steps"] += 1
    return original_m_step(*args, **kwargs)

em.EM_fit, ms.run = timed_em, counted_m_step

def classes(column):
    return {skill: sorted(group[column].unique().tolist())
            for skill, group in train.groupby("skill_name")}

def init_coef(config):
    init, items = spec["init"], classes("template_id")
    coef = {}
    for skill, values in items.items():
        n_gs = len(values) if config["multigs"] else 1
        n_res = len(values) if config["multilearn"] else 1
        coef[skill] = {
            "prior": init["prior"],
            "learns": np.full(n_res, init["learn"]),
            "forgets": np.full(n_res, init["forget"] if config["forgets"] else 0.0),
            "guesses": np.full(n_gs, init["guess"]),
            "slips": np.full(n_gs, init["slip"]),
        }
    return coef

def predictions(model, df):
    out = model.predict(data=df.copy())
    p = np.full(len(df), 0.5)
    p[out.index.to_numpy()] = out["correct_predictions"].to_numpy()
    return p

results = []
for config in spec["configs"]:
    times = []
    for _ in range(spec["repeats"]):
        record.update(tol=config["tol"], maxiter=config["maxiter"], em=0.0,
                      iterations=[], internal_ll=0.0)
        model = Model(seed=0, num_fits=1, parallel=spec["parallel"])
        model.coef_ = init_coef(config)
        data = train.copy()  # pyBKT sorts the frame it is given in place
        start, cpu = time.perf_counter(), time.process_time()
        model.fit(data=data, forgets=config["forgets"], multigs=config["multigs"],
                  multilearn=config["multilearn"])
        times.append((time.perf_counter() - start, record["em"], time.process_time() - cpu))
    params = {}
    for skill, fitted in model.fit_model.items():
        params[skill] = {
            "prior": float(fitted["prior"]),
            "learns": np.asarray(fitted["learns"], dtype=float).tolist(),
            "forgets": np.asarray(fitted["forgets"], dtype=float).tolist(),
            "guesses": np.asarray(fitted["guesses"], dtype=float).tolist(),
            "slips": np.asarray(fitted["slips"], dtype=float).tolist(),
            "gs_names": {str(k): int(v) for k, v in fitted["gs_names"].items()},
            "resource_names": {str(k): int(v) for k, v in fitted["resource_names"].items()},
        }
    np.savez(config["predictions"], train=predictions(model, train), test=predictions(model, test))
    results.append({
        "name": config["name"],
        "times": times,
        "iterations": record["iterations"],
        "internal_ll": record["internal_ll"],
        "params": params,
    })
json.dump(results, open(spec["output"], "w"))
"""


# ------------------------------------------------------------------ setup
def setup_pybkt(venv: Path, pure: Path, pure_venv: Path, console: Console) -> None:
    """Build pyBKT's C++/OpenMP version in its own virtual environment, and keep
    the pure-Python sources of the same release in ``pure`` with a second
    environment to run them (NumPy < 2); all outside the repository."""
    python = venv / "bin" / "python"
    commands = [
        [sys.executable, "-m", "venv", str(venv)],
        [str(python), "-m", "pip", "install", "-q", "scikit-learn<1.5", "pandas", "numpy"]
        + ["setuptools", "wheel", "requests"],
        [sys.executable, "-m", "venv", str(pure_venv)],
        [str(pure_venv / "bin" / "python"), "-m", "pip", "install", "-q", "numpy<2"]
        + ["scikit-learn<1.5", "pandas<2.3", "requests"],
    ]
    for command in commands:
        console.print("$ " + " ".join(command))
        subprocess.run(command, check=True)
    with tempfile.TemporaryDirectory() as folder:
        download = [str(python), "-m", "pip", "download", "-q", "--no-deps"]
        download += ["--no-binary", ":all:", "pybkt", "-d", folder]
        console.print("$ " + " ".join(download))
        subprocess.run(download, check=True)
        archive = next(Path(folder).glob("pybkt-*.tar.gz"))
        install = [str(python), "-m", "pip", "install", "-q", "--no-build-isolation"]
        install += ["--no-deps", str(archive)]
        console.print("$ " + " ".join(install))
        subprocess.run(install, check=True)
        with tarfile.open(archive) as tar:
            tar.extractall(folder, filter="data")
        source = next(Path(folder).glob("pybkt-*/source-py/pyBKT"))
        shutil.rmtree(pure / "pyBKT", ignore_errors=True)
        shutil.copytree(source, pure / "pyBKT")
        console.print(f"pure-Python pyBKT sources copied to {pure}")


def check_pybkt(python: Path, pure: Path | None) -> str:
    """pyBKT's version, after checking which E-step the interpreter loads
    (compiled, or pure Python from ``pure``)."""
    if not python.exists():
        raise SystemExit(
            f"no pyBKT interpreter at {python}: run this script with --setup, or pass "
            "--pybkt-python (see the module docstring for the commands)"
        )
    if pure is None:
        probe = "import importlib.metadata as m, pyBKT.fit.E_step as e;"
        probe += "print(repr((m.version('pyBKT'), e.__file__)))"
    else:
        probe = "import pyBKT.fit.EM_fit as f; print(repr(('source', f.__file__)))"
    out = subprocess.run(
        [str(python), "-c", probe], capture_output=True, text=True, env=pybkt_env(pure)
    )
    if out.returncode:
        raise SystemExit(f"pyBKT does not import with {python}:\n{out.stderr}")
    version, path = ast.literal_eval(out.stdout.strip())
    if pure is None and not path.endswith(".so"):
        raise SystemExit(f"pyBKT at {python} is the slow pure-Python build ({path})")
    if pure is not None and not path.startswith(str(pure)):
        raise SystemExit(f"expected the pure-Python pyBKT from {pure}, got {path}")
    return version


def pybkt_env(pure: Path | None) -> dict:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if pure is not None:
        env["PYTHONPATH"] = str(pure)
    return env


def run_pybkt(python: Path, pure: Path | None, folder: Path, spec: dict) -> list[dict]:
    """Run the driver once (it fits every config ``spec["repeats"]`` times)."""
    (folder / "spec.json").write_text(json.dumps(spec))
    command = [str(python), str(folder / "driver.py"), str(folder / "spec.json")]
    subprocess.run(command, check=True, env=pybkt_env(pure), cwd=folder)
    return json.loads((folder / "out.json").read_text())


# ------------------------------------------------------------------ data
def load(data: Path, dataset: str) -> tuple[EventLog, EventLog, Domain | None]:
    folder, concepts, _ = DATASETS[dataset]
    train_file, test_file = SPLITS[folder]
    train = read_kt(data / "kt" / folder / train_file)
    test = read_kt(data / "kt" / folder / test_file)
    domain = None
    if concepts:
        text = (data / "kt" / folder / "cluster_info_0").read_text().splitlines()[0]
        concept_of = ast.literal_eval(text)  # concept of question 1, 2, ...
        domain = Domain([Item(q + 1, (c,)) for q, c in enumerate(concept_of)])
    return train, test, domain


def skill_of(log: EventLog, domain: Domain | None) -> np.ndarray:
    if domain is None:
        return log.item
    return np.array([domain.items[i].skills[0] for i in log.item.tolist()])


def pybkt_arrays(train: EventLog, test: EventLog, domain: Domain | None) -> dict:
    """pyBKT's columns, one row per event in the log's order, which has each
    learner's events in time order; pyBKT sorts by ``order_id`` (the row), then
    stably by user, so each learner keeps that order."""
    out = {}
    for part, log in (("train", train), ("test", test)):
        out[f"{part}_user"] = np.unique(log.learner, return_inverse=True)[1]
        out[f"{part}_skill"] = skill_of(log, domain)
        out[f"{part}_item"] = log.item
        out[f"{part}_correct"] = log.outcome.astype(np.int64)
    return out


def followed(log: EventLog, domain: Domain | None) -> tuple[set, set]:
    """Skills, and (skill, item) pairs, with at least one attempt followed by
    another in the same (learner, skill) sequence: where learn and forget are
    identified."""
    skills = skill_of(log, domain)
    order = np.lexsort((log.time, skills, log.learner))
    same = (log.learner[order][1:] == log.learner[order][:-1]) & (
        skills[order][1:] == skills[order][:-1]
    )
    rows = order[:-1][same]
    pairs = set(zip(skills[rows].tolist(), log.item[rows].tolist(), strict=True))
    return {s for s, _ in pairs}, pairs


# ------------------------------------------------------------------ mentor side
def fresh_predictions(model: BKT, log: EventLog) -> np.ndarray:
    """One-step predictions of every answer from the start of its sequence."""
    state = model.state_dict()
    state["state"]["knowledge"] = []
    return BKT.from_state_dict(state, domain=model.domain).predict_log(log)


def with_pybkt_params(model: BKT, params: dict, config: dict) -> BKT:
    """A copy of ``model`` carrying pyBKT's fitted parameters."""
    state = json.loads(json.dumps(model.state_dict()))
    s = state["state"]
    for k, skill in enumerate(s["skills"]):
        p = params[str(skill)]
        s["prior"][k] = p["prior"]
        s["learn"][k] = p["learns"][0] if not config.get("multilearn") else s["learn"][k]
        s["forget"][k] = p["forgets"][0] if not config.get("multilearn") else s["forget"][k]
        if not config.get("multigs"):
            s["guess"][k], s["slip"][k] = p["guesses"][0], p["slips"][0]
    for j, (skill, item) in enumerate(s.get("pairs", [])):
        p = params[str(skill)]
        if config.get("multigs"):
            g = p["gs_names"][str(item)]
            s["item_guess"][j], s["item_slip"][j] = p["guesses"][g], p["slips"][g]
        if config.get("multilearn"):
            r = p["resource_names"][str(item)] - 1
            s["item_learn"][j], s["item_forget"][j] = p["learns"][r], p["forgets"][r]
    return BKT.from_state_dict(state, domain=model.domain)


def param_difference(
    ours: BKT, theirs: BKT, config: dict, identified: tuple[set, set]
) -> tuple[float, int]:
    """Largest |difference| over identified parameters, and how many were left out."""
    skills, pairs = identified
    worst, left_out = 0.0, 0
    for skill in ours.skills_:
        a, b = ours.params(skill), theirs.params(skill)
        names = ["prior"]
        names += [] if config.get("multigs") else ["guess", "slip"]
        if not config.get("multilearn"):
            if skill in skills:
                names += ["learn", "forget"]
            else:
                left_out += 2
        worst = max(worst, *(abs(a[n] - b[n]) for n in names))
    for skill, item in ours.pairs_:
        a, b = ours.params(skill, item), theirs.params(skill, item)
        names = ["guess", "slip"] if config.get("multigs") else []
        if config.get("multilearn"):
            if (skill, item) in pairs:
                names += ["learn", "forget"]
            else:
                left_out += 2
        if names:
            worst = max(worst, *(abs(a[n] - b[n]) for n in names))
    return worst, left_out


def run_ours(train, domain, config, iterations, repeats) -> tuple[BKT, dict]:
    """mentor's fit: ``iterations`` EM iterations exactly, or (None) its own stopping
    rule. Best wall-clock and CPU time of ``repeats``, and of a fit without EM
    (packing only)."""
    options = {k: v for k, v in config.items() if k in ("forgets", "multigs", "multilearn")}
    if iterations is not None:
        options.update(max_iter=iterations, tol=-1.0)
    best = {"fit_seconds_mentor": math.inf, "cpu_seconds_mentor": math.inf}
    best["prep_seconds_mentor"] = math.inf
    for _ in range(repeats):
        model = BKT(domain, init=INIT, **{**options, "max_iter": 0})
        start = time.perf_counter()
        model.fit(train)
        best["prep_seconds_mentor"] = min(best["prep_seconds_mentor"], time.perf_counter() - start)
        model = BKT(domain, init=INIT, **options)
        start, cpu = time.perf_counter(), time.process_time()
        model.fit(train)
        best["fit_seconds_mentor"] = min(best["fit_seconds_mentor"], time.perf_counter() - start)
        best["cpu_seconds_mentor"] = min(best["cpu_seconds_mentor"], time.process_time() - cpu)
    return model, best


def iterations_to_reach(train, domain, config, target: float) -> int:
    """The fewest EM iterations after which mentor's training log-likelihood is at
    least ``target`` (EM never lowers it): doubling, then bisection."""

    def reached(k: int) -> bool:
        options = {k: v for k, v in config.items() if k in ("forgets", "multigs", "multilearn")}
        model = BKT(domain, init=INIT, max_iter=k, tol=-1.0, **options).fit(train)
        return model.log_likelihood_ >= target

    high = 1
    while not reached(high):
        high *= 2
        if high > 4096:
            raise SystemExit(f"mentor did not reach log-likelihood {target} in 4096 iterations")
    low = high // 2  # not reached (or 0)
    while high - low > 1:
        middle = (low + high) // 2
        if reached(middle):
            high = middle
        else:
            low = middle
    return high


# ------------------------------------------------------------------ main
# the C++ build's E-step gives every item the first item's guess and slip, and
# every resource the first one's learn and forget; the pure-Python build of the
# same release does not, so it is the reference for these variants
NEEDS_PURE_PYTHON = ("multigs", "multilearn")


def compare(
    row: dict, model: BKT, train: EventLog, test: EventLog, theirs: dict, config, identified
) -> dict:
    """Figures of one pyBKT fit against mentor's ``model``."""
    runs = theirs["runs"]
    fit_times = {k: min(t[0] for t in r["times"]) for k, r in runs.items()}
    em_times = {k: min(t[1] for t in r["times"]) for k, r in runs.items()}
    cpu_times = {k: min(t[2] for t in r["times"]) for k, r in runs.items()}
    fastest = min(fit_times, key=fit_times.get)
    their_model = with_pybkt_params(model, runs[fastest]["params"], config)
    worst, left_out = param_difference(model, their_model, config, identified)
    iterations = runs[fastest]["iterations"]
    y = train.outcome
    return {
        **row,
        "iterations_pybkt_per_skill": [min(iterations), max(iterations)],
        "fit_seconds_pybkt": fit_times[fastest],
        "fit_seconds_pybkt_by_mode": fit_times,
        "em_seconds_pybkt_by_mode": em_times,
        "pybkt_mode": fastest,
        "speedup": fit_times[fastest] / row["fit_seconds_mentor"],
        "cpu_seconds_pybkt_by_mode": cpu_times,
        "speedup_cpu": min(cpu_times.values()) / row["cpu_seconds_mentor"],
        "train_ll_pybkt": log_likelihood(y, theirs["predictions"]["train"]),
        "train_ll_pybkt_params_mentor_forward": log_likelihood(
            y, fresh_predictions(their_model, train)
        ),
        "train_ll_pybkt_internal": runs[fastest]["internal_ll"],
        "max_abs_param_diff": worst,
        "unidentified_params_left_out": left_out,
        "test_auc_pybkt": auc(test.outcome, theirs["predictions"]["test"]),
    }


def collect(into: dict, configs: list[dict], mode: str, results: list[dict]) -> None:
    """File the driver's results (and predictions) under each config's name."""
    for result in results:
        entry = into.setdefault(result["name"], {"runs": {}})
        entry["runs"][mode] = result
        path = next(c["predictions"] for c in configs if c["name"] == result["name"])
        entry["predictions"] = dict(np.load(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the shared data folder (holds kt/)")
    parser.add_argument("--pybkt-python", type=Path, default=DEFAULT_VENV / "bin" / "python")
    parser.add_argument(
        "--pybkt-pure", type=Path, default=DEFAULT_PURE, help="pure-Python pyBKT sources"
    )
    parser.add_argument(
        "--pybkt-pure-python", type=Path, default=DEFAULT_PURE_VENV / "bin" / "python"
    )
    parser.add_argument("--setup", action="store_true", help="build pyBKT's venv first")
    parser.add_argument("--iterations", type=int, default=100, help="EM iterations (fixed)")
    parser.add_argument(
        "--pure-iterations",
        type=int,
        default=20,
        help="EM iterations against pyBKT's (slow) pure-Python build, for multigs and multilearn",
    )
    parser.add_argument("--repeats", type=int, default=3, help="timed fits per side")
    parser.add_argument("--datasets", nargs="*", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--protocols", nargs="*", default=["fixed", "default"])
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "bkt_vs_pybkt.json"
    )
    args = parser.parse_args()
    console = Console() if sys.stdout.isatty() else Console(width=190)
    load_before = os.getloadavg()
    if args.setup:
        setup_pybkt(
            args.pybkt_python.parent.parent,
            args.pybkt_pure,
            args.pybkt_pure_python.parent.parent,
            console,
        )
    version = check_pybkt(args.pybkt_python, None)
    check_pybkt(args.pybkt_pure_python, args.pybkt_pure)
    jobs = [
        (d, v, p)
        for d in args.datasets
        for v in DATASETS[d][2]
        for p in args.protocols + (["pure"] if v in NEEDS_PURE_PYTHON else [])
    ]
    rows = []
    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    ]
    with Progress(*columns, console=console) as progress, tempfile.TemporaryDirectory() as tmp:
        task = progress.add_task("fitting", total=len(jobs))
        folder = Path(tmp)
        (folder / "driver.py").write_text(DRIVER)
        for dataset in args.datasets:
            train, test, domain = load(args.data, dataset)
            np.savez(folder / "data.npz", **pybkt_arrays(train, test, domain))
            configs = []
            for variant in DATASETS[dataset][2]:
                protocols = [(p, args.iterations) for p in args.protocols]
                if variant in NEEDS_PURE_PYTHON and "fixed" in args.protocols:
                    protocols.append(("fixed", args.pure_iterations))
                for protocol, iterations in protocols:
                    fixed = protocol == "fixed"
                    name = (
                        f"{variant}/{protocol} {iterations}" if fixed else f"{variant}/{protocol}"
                    )
                    configs.append(
                        {
                            "multigs": False,
                            "multilearn": False,
                            **VARIANTS[variant],
                            "name": name,
                            "tol": -1.0 if fixed else None,
                            "maxiter": iterations if fixed else None,
                            "predictions": str(folder / f"{len(configs)}.npz"),
                        }
                    )
            spec = {"data": str(folder / "data.npz"), "init": INIT, "configs": configs}
            spec["output"] = str(folder / "out.json")
            theirs: dict = {"C++": {}, "pure Python": {}}

            for parallel in (True, False):  # serial second: pyBKT's serial mode sticks
                mode = "parallel" if parallel else "serial"
                progress.update(task, description=f"{dataset}: pyBKT C++ ({mode})")
                run = {**spec, "repeats": args.repeats, "parallel": parallel}
                collect(
                    theirs["C++"], configs, mode, run_pybkt(args.pybkt_python, None, folder, run)
                )
            pure = [
                c
                for c in configs
                if c["name"].split("/")[0] in NEEDS_PURE_PYTHON
                and c["maxiter"] == args.pure_iterations
            ]
            if pure:
                progress.update(task, description=f"{dataset}: pyBKT pure Python (serial)")
                run = {**spec, "configs": pure, "repeats": 1, "parallel": False}
                results = run_pybkt(args.pybkt_pure_python, args.pybkt_pure, folder, run)
                collect(theirs["pure Python"], configs, "serial", results)
            identified = followed(train, domain)
            for config in configs:
                variant, protocol = config["name"].split("/")
                protocol = protocol.split()[0]
                progress.update(task, description=f"{dataset}: mentor {variant} ({protocol})")
                model, timing = run_ours(train, domain, config, config["maxiter"], args.repeats)
                row = {
                    "dataset": dataset,
                    "variant": variant,
                    "protocol": protocol,
                    "iterations_fixed": config["maxiter"],
                    "train_events": len(train),
                    "test_events": len(test),
                    "test_events_skill_unseen_in_train": int(
                        np.sum(~np.isin(skill_of(test, domain), skill_of(train, domain)))
                    ),
                    "skills": len(model.skills_),
                    "iterations_mentor": model.n_iter_,
                    **timing,
                    "train_ll_mentor": log_likelihood(
                        train.outcome, fresh_predictions(model, train)
                    ),
                    "train_ll_mentor_internal": model.log_likelihood_,
                    "test_auc_mentor": auc(test.outcome, model.predict_log(test)),
                }
                for build, results in theirs.items():
                    if config["name"] in results:
                        figures = compare(
                            row, model, train, test, results[config["name"]], config, identified
                        )
                        rows.append({**figures, "pybkt_build": build})
                if protocol == "default":
                    # mentor stopped as soon as it reaches pyBKT's (as shipped) training LL
                    target = log_likelihood(
                        train.outcome, theirs["C++"][config["name"]]["predictions"]["train"]
                    )
                    k = iterations_to_reach(train, domain, config, target)
                    model, timing = run_ours(train, domain, config, k, args.repeats)
                    same = {
                        **row,
                        "protocol": "same-LL",
                        "iterations_mentor": model.n_iter_,
                        **timing,
                        "train_ll_mentor": log_likelihood(
                            train.outcome, fresh_predictions(model, train)
                        ),
                        "train_ll_mentor_internal": model.log_likelihood_,
                        "test_auc_mentor": auc(test.outcome, model.predict_log(test)),
                    }
                    figures = compare(
                        same, model, train, test, theirs["C++"][config["name"]], config, identified
                    )
                    rows.append({**figures, "pybkt_build": "C++"})
                progress.advance(task)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    loadavg = [round(x, 2) for x in load_before + os.getloadavg()]
    console.print(table(rows, machine, version))
    console.print(f"load average (1, 5, 15 min) before and after: {loadavg}")
    write_json(
        args.out,
        {
            "machine": machine,
            "pybkt_version": version,
            "iterations_fixed": args.iterations,
            "iterations_pure_python": args.pure_iterations,
            "repeats": args.repeats,
            "load_average_before_after": loadavg,
            "init": INIT,
            "rows": rows,
        },
    )
    console.print(f"written to {args.out}")


def table(rows: list[dict], machine: str, version: str) -> Table:
    out = Table(
        title=f"BKT: mentor vs pyBKT {version} ({machine}); fixed: both run the same number "
        "of EM iterations; default: each its own stopping rule"
    )
    headers = [
        "dataset",
        "variant",
        "protocol",
        "pyBKT build",
        "iters m / p",
        "fit s mentor",
        "fit s pyBKT",
        "speed-up",
        "CPU speed-up",
        "train LL mentor",
        "train LL pyBKT",
        "max |Δparam|",
        "AUC mentor",
        "AUC pyBKT",
    ]
    for h in headers:
        out.add_column(h, justify="left" if h in headers[:4] else "right")
    for r in rows:
        low, high = r["iterations_pybkt_per_skill"]
        out.add_row(
            r["dataset"],
            r["variant"],
            r["protocol"],
            r["pybkt_build"],
            f"{r['iterations_mentor']} / {low}-{high}",
            f"{r['fit_seconds_mentor']:.3f}",
            f"{r['fit_seconds_pybkt']:.3f} ({r['pybkt_mode'][0]})",
            f"{r['speedup']:.1f}x",
            f"{r['speedup_cpu']:.1f}x",
            f"{r['train_ll_mentor']:,.2f}",
            f"{r['train_ll_pybkt']:,.2f}",
            f"{r['max_abs_param_diff']:.1e}",
            f"{r['test_auc_mentor']:.4f}",
            f"{r['test_auc_pybkt']:.4f}",
        )
    return out


if __name__ == "__main__":
    main()
