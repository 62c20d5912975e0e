"""CPU time of one ALP-GMM refit (Gaussian mixtures with k = 2..10 components, AIC): mentor's
NumPy EM against scikit-learn's ``GaussianMixture``, on the same data.

Usage:
    python benchmarks/mixture_fit.py [--repeats 20] [--points 250] [--dims 1,2,3]

For each task dimension ``d`` in ``--dims``, ``--repeats`` data sets of ``--points`` rows
``(task..., ALP)`` shaped like ALP-GMM's (tasks uniform in the unit cube; the ALP column
``|N(0, 0.2)|`` in a band of the first coordinate and 0 elsewhere). Each data set is fitted
twice, in alternating order, by the two ways ALP-GMM can fit a round of mixtures with the
same seed:

* ``mentor``: :func:`mentor.teachers.taskspace._gmm.fit_best` (NumPy EM,
  :mod:`mentor.teachers.taskspace._mixture`);
* ``sklearn``: a ``GaussianMixture(k, covariance_type="full", random_state=seed)`` fit and
  its ``aic`` for k = 2..10, keeping the smallest (what ``fit_best`` ran before), under the
  same one-thread BLAS limit.

Times are the calling thread's CPU time (:func:`time.thread_time`), after one untimed
warm-up round of each. The chosen ``k`` and the largest difference between the two fits'
means are recorded, as a check that both computed the same mixtures. Separately, in 5 fresh
interpreters that have imported ALP-GMM, the CPU time of the first and the second round of
each (the first round of the scikit-learn way imports scikit-learn, which a training run
pays at its first refit) and whether scikit-learn got imported. Writes ``results/mixture_fit.json``.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from mentor._io import write_json
from mentor.teachers.taskspace._gmm import fit_best

RESULTS = Path(__file__).parent / "results"
FIRST_FIT_PROBE = """
import sys, time
import numpy as np
from mentor.teachers.taskspace import ALPGMM
from mentor.teachers.taskspace import _gmm
{before}
rng = np.random.default_rng(0)
data = np.c_[rng.uniform(0, 1, 250), np.abs(rng.normal(0, 0.2, 250))]
times = []
for seed in range(2):
    start = time.process_time()
    {fit}
    times.append(time.process_time() - start)
print(times[0], times[1], int("sklearn" in sys.modules))
"""
FITS = {
    "mentor": ("", "_gmm.fit_best(data, 2, 10, 'aic', 1, seed)"),
    "sklearn": (
        "sys.path.insert(0, {here!r}); from mixture_fit import sklearn_round",
        "sklearn_round(data, seed)",
    ),
}


def alp_rows(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    tasks = rng.uniform(0, 1, (n, dim))
    alp = np.abs(rng.normal(0, 0.2, n)) * (tasks[:, 0] < rng.uniform(0.2, 0.8))
    return np.c_[tasks, alp]


def sklearn_round(data: np.ndarray, seed: int) -> tuple[int, np.ndarray]:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    best, best_aic = None, np.inf
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for k in range(2, 11):
            gmm = GaussianMixture(k, covariance_type="full", random_state=seed).fit(data)
            aic = gmm.aic(data)
            if aic < best_aic:
                best, best_aic = gmm, aic
    assert best is not None
    return int(best.n_components), best.means_


def mentor_round(data: np.ndarray, seed: int) -> tuple[int, np.ndarray]:
    mixture, fit = fit_best(data, 2, 10, "aic", 1, seed)
    return int(fit["k"]), np.asarray(mixture["means"])


def timed(fn: Any, data: np.ndarray, seed: int) -> tuple[float, tuple[int, np.ndarray]]:
    start = time.thread_time()
    out = fn(data, seed)
    return time.thread_time() - start, out


def first_fits(way: str, repeats: int) -> list[dict[str, float]]:
    """In fresh interpreters that have imported ALP-GMM: CPU seconds of the first and the
    second round of fits, and whether scikit-learn got imported."""
    before, fit = FITS[way]
    probe = FIRST_FIT_PROBE.format(before=before.format(here=str(Path(__file__).parent)), fit=fit)
    out = []
    for _ in range(repeats):
        first, second, imported = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, check=True
        ).stdout.split()
        out.append({"first_s": float(first), "second_s": float(second), "sklearn": int(imported)})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--points", type=int, default=250)
    parser.add_argument("--dims", default="1,2,3")
    parser.add_argument("--name", default="mixture_fit")
    args = parser.parse_args()
    rows = []
    for dim in (int(d) for d in args.dims.split(",")):
        rng = np.random.default_rng(dim)
        warm = alp_rows(rng, args.points, dim)
        mentor_round(warm, 0), sklearn_round(warm, 0)
        ours, theirs, same_k, gap = [], [], 0, 0.0
        for r in range(args.repeats):
            data = alp_rows(rng, args.points, dim)
            order = (mentor_round, sklearn_round) if r % 2 == 0 else (sklearn_round, mentor_round)
            results = {fn: timed(fn, data, r) for fn in order}
            (t_ours, (k_ours, m_ours)), (t_theirs, (k_theirs, m_theirs)) = (
                results[mentor_round],
                results[sklearn_round],
            )
            ours.append(t_ours)
            theirs.append(t_theirs)
            if k_ours == k_theirs:
                same_k += 1
                gap = max(gap, float(np.abs(m_ours - m_theirs).max()))
        row = {
            "dim": dim,
            "points": args.points,
            "repeats": args.repeats,
            "mentor_ms": 1000 * float(np.mean(ours)),
            "mentor_ms_sd": 1000 * float(np.std(ours, ddof=1)),
            "sklearn_ms": 1000 * float(np.mean(theirs)),
            "sklearn_ms_sd": 1000 * float(np.std(theirs, ddof=1)),
            "speedup": float(np.mean(theirs) / np.mean(ours)),
            "same_k": same_k,
            "max_mean_difference": gap,
        }
        rows.append(row)
        print(
            f"d={dim}: mentor {row['mentor_ms']:.1f} ms, sklearn {row['sklearn_ms']:.1f} ms "
            f"per round of 9 fits ({row['speedup']:.1f}x); same k {same_k}/{args.repeats}, "
            f"largest difference of means {gap:.1e}"
        )
    first = {way: first_fits(way, 5) for way in FITS}
    for way, runs in first.items():
        print(
            f"{way}: first round {1000 * np.mean([r['first_s'] for r in runs]):.0f} ms CPU, "
            f"second {1000 * np.mean([r['second_s'] for r in runs]):.0f} ms "
            f"(5 fresh interpreters; sklearn imported: {runs[0]['sklearn']})"
        )
    write_json(
        RESULTS / f"{args.name}.json",
        {
            "rows": rows,
            "first_round": first,
            "load_average": list(os.getloadavg()),
            "python": platform.python_version(),
            "numpy": np.__version__,
        },
    )


if __name__ == "__main__":
    main()
