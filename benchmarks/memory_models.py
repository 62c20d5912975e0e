"""Memory models on a real spaced-repetition log: FSRS, HLR, DASH, SM-2, with Elo for reference.

Usage:
    python benchmarks/memory_models.py ../shared/data
    python benchmarks/memory_models.py ../shared/data --models fsrs fsrs-lr memory-rnn \
        --no-retention --out benchmarks/results/memory_models_rnn.json

Data: DATA/srs/review_logs_josh.csv (12,580 reviews of 1,205 cards by one
person). Protocol: mentor.evaluation.time_folds with 5 splits; the log has one
learner, so this is srs-benchmark's TimeSeriesSplit over that user's reviews
(six equal chunks in time order; fold f fits on chunks 0..f and scores chunk
f + 1). Every model is fitted afresh on each fold's training part and scores
the test part online (each review predicted from everything before it, train
and earlier test reviews, never from itself).

Models: ``fsrs`` (py-fsrs, weights fitted by ``fsrs.Optimizer`` on each
training part, recall at the exact elapsed time), ``fsrs-default`` (py-fsrs
default weights), ``fsrs-whole-days`` (as ``fsrs``, with py-fsrs's own
``get_card_retrievability``, which counts whole days), ``fsrs-lr`` (FSRS
fitted as ``fsrs``, plus a logistic correction of its logit from the card's
review history, one for same-day and one for cross-day reviews, its penalty
chosen on the latest quarter of each training part), ``hlr`` (paper's
loss and defaults), ``dash``, ``sm2``, mentor's ``elo`` (no notion of time)
for reference, and ``memory-rnn`` (a GRU per card whose state sets a mixture of
power forgetting curves, its number of epochs chosen on the latest quarter of
each training part), ``memory-rnn-fsrs`` (the same with FSRS-6's stability,
difficulty and recall of the card among its inputs, FSRS fitted as ``fsrs``).
``--models`` runs a subset (give ``--out`` another name
then: the figures are named after it).

Which reviews are scored: a card's first review has no history, so, as
srs-benchmark does, only reviews with a previous review of the same card are
scored (scope "with history"). srs-benchmark by default also leaves out
same-day reviews; py-fsrs's ``get_card_retrievability`` counts elapsed time in
whole days (its recall is 1 for 24 hours after a review), and its optimizer
fits only reviews a day or more after the previous one, so the figures are
also given for that subset (scope "cross-day": 1 day or more since the previous
review of the card). Histories always include every earlier review.

Prints a table per scope (means over folds), the optimal retention that
``fsrs.Optimizer.compute_optimal_retention`` finds on the whole log (data/README
says 0.85), and writes benchmarks/results/memory_models.json with
reliability/AUC figures memory_models.png ("with history") and
memory_models_cross_day.png.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from mentor._io import write_json
from mentor.evaluation import Evaluation, time_folds
from mentor.evaluation.plot import plot_evaluation
from mentor.events import EventLog, read_review_log
from mentor.metrics import accuracy, auc, calibration_error, log_loss, rmse, rmse_bins
from mentor.students import Elo, StudentModel
from mentor.students.memory import DASH, FSRS, HLR, SM2, FSRSLogistic, MemoryRNN, MemoryRNNFSRS
from mentor.students.memory._history import Reviews, ratings_of

MODELS: dict[str, Callable[[], StudentModel]] = {
    "fsrs": FSRS,
    "fsrs-default": lambda: FSRS(optimize=False),
    "fsrs-whole-days": lambda: FSRS(elapsed="days"),
    "fsrs-lr": FSRSLogistic,
    "hlr": HLR,
    "dash": DASH,
    "sm2": SM2,
    "elo": Elo,
    "memory-rnn": MemoryRNN,
    "memory-rnn-fsrs": MemoryRNNFSRS,
}
SEEDED = {"memory-rnn", "memory-rnn-fsrs"}
"""Models that take a seed (``--seed``)."""
SCOPES = {
    "with history": "reviews with a previous review of the same card",
    "cross-day": "reviews 1 day or more after the previous review of the same card",
}


def scopes_of(log: EventLog) -> dict[str, np.ndarray]:
    """Per event of the whole log: is it in each scored scope."""
    elapsed = Reviews().lookback(log).elapsed_days
    seen = ~np.isnan(elapsed)
    return {"with history": seen, "cross-day": seen & (elapsed >= 1.0)}


def figures(outcomes: np.ndarray, predictions: np.ndarray) -> dict[str, float]:
    return {
        "log_loss": log_loss(outcomes, predictions),
        "rmse_bins": rmse_bins(outcomes, predictions),
        "auc": auc(outcomes, predictions),
        "rmse": rmse(outcomes, predictions),
        "accuracy": accuracy(outcomes, predictions),
        "calibration_error": calibration_error(outcomes, predictions),
    }


def run_folds(
    log: EventLog, n_splits: int, console: Console, models: list[str], seed: int = 0
) -> dict[str, Evaluation]:
    indexed = EventLog(
        log.learner,
        log.item,
        log.time,
        log.outcome,
        {**log.extra, "event": np.arange(len(log))},
        validate=False,
    )
    in_scope = scopes_of(log)
    results = {scope: Evaluation() for scope in SCOPES}
    for fold in time_folds(indexed, n_splits=n_splits):
        events = fold.test.extra["event"]
        for name in models:
            model = MODELS[name](seed=seed) if name in SEEDED else MODELS[name]()
            start = time.perf_counter()
            model.fit(fold.train)
            fit_seconds = time.perf_counter() - start
            start = time.perf_counter()
            predictions = np.asarray(model.predict_log(fold.test), dtype=float)
            predict_seconds = time.perf_counter() - start
            for scope, evaluation in results.items():
                mask = in_scope[scope][events]
                y, p = fold.test.outcome[mask], predictions[mask]
                evaluation.rows.append(
                    {
                        "model": name,
                        "fold": fold.index,
                        "train_events": len(fold.train),
                        "test_events": len(fold.test),
                        "scored_events": int(mask.sum()),
                        **figures(y, p),
                        "fit_seconds": fit_seconds,
                        "predict_seconds": predict_seconds,
                    }
                )
                evaluation.outcomes.setdefault(name, []).append(y)
                evaluation.predictions.setdefault(name, []).append(p)
            console.log(
                f"fold {fold.index}: {name:12s} fit {fit_seconds:6.2f} s, "
                f"log loss {results['with history'].rows[-1]['log_loss']:.4f} "
                f"/ cross-day {results['cross-day'].rows[-1]['log_loss']:.4f}"
            )
    return results


def summary(evaluation: Evaluation) -> list[dict]:
    """Mean and sample standard deviation over folds of each figure, per model."""
    out = []
    for name in evaluation.models():
        rows = [r for r in evaluation.rows if r["model"] == name]
        entry: dict = {"model": name, "folds": len(rows)}
        for key in (
            "log_loss",
            "rmse_bins",
            "auc",
            "rmse",
            "accuracy",
            "calibration_error",
            "fit_seconds",
            "predict_seconds",
            "scored_events",
        ):
            values = np.array([r[key] for r in rows], dtype=float)
            entry[key] = float(values.mean())
            entry[f"{key}_std"] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
        out.append(entry)
    return out


def paired_vs_fsrs(evaluation: Evaluation) -> dict[str, dict]:
    """Per model, the log loss minus fitted FSRS's on the same fold: mean, sample sd, and
    on how many folds the model is lower (empty when ``fsrs`` was not run)."""
    by_model: dict[str, dict[int, float]] = {}
    for r in evaluation.rows:
        by_model.setdefault(r["model"], {})[r["fold"]] = r["log_loss"]
    if "fsrs" not in by_model:
        return {}
    base = by_model["fsrs"]
    out = {}
    for name, losses in by_model.items():
        if name == "fsrs":
            continue
        folds = sorted(set(losses) & set(base))
        d = np.array([losses[f] - base[f] for f in folds])
        out[name] = {
            "per_fold": d.tolist(),
            "mean": float(d.mean()),
            "std": float(d.std(ddof=1)) if len(d) > 1 else 0.0,
            "wins": int((d < 0).sum()),
            "folds": len(folds),
        }
    return out


def optimal_retention(log: EventLog) -> dict | None:
    """fsrs.Optimizer on the whole log: fitted weights, then compute_optimal_retention."""
    from fsrs import Rating, ReviewLog

    try:
        from fsrs.optimizer import Optimizer

        cards = {card: i for i, card in enumerate(np.unique(log.item).tolist())}
        review_logs = [
            ReviewLog(cards[card], Rating(r), datetime.fromtimestamp(t, tz=UTC), int(d))
            for card, r, t, d in zip(
                log.item.tolist(),
                ratings_of(log).tolist(),
                log.time.tolist(),
                log.extra["duration_ms"].tolist(),
                strict=True,
            )
        ]
        optimizer = Optimizer(review_logs)
    except ImportError as error:
        print(f"optimal retention skipped: {error}")
        return None
    start = time.perf_counter()
    parameters = optimizer.compute_optimal_parameters()
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    retention = optimizer.compute_optimal_retention(parameters)
    return {
        "optimal_retention": float(retention),
        "parameters": [float(w) for w in parameters],
        "fit_seconds": fit_seconds,
        "retention_seconds": time.perf_counter() - start,
    }


def table(title: str, rows: list[dict]) -> Table:
    out = Table(title=title)
    for column in ("model", "log loss", "RMSE(bins)", "AUC", "fit s", "scored/fold"):
        out.add_column(column, justify="left" if column == "model" else "right")
    for r in rows:
        out.add_row(
            r["model"],
            f"{r['log_loss']:.4f} ± {r['log_loss_std']:.4f}",
            f"{r['rmse_bins']:.4f} ± {r['rmse_bins_std']:.4f}",
            f"{r['auc']:.4f} ± {r['auc_std']:.4f}",
            f"{r['fit_seconds']:.2f}",
            f"{r['scored_events']:.0f}",
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the shared data folder (holds srs/)")
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "memory_models.json"
    )
    parser.add_argument(
        "--models",
        nargs="+",
        choices=list(MODELS),
        default=list(MODELS),
        help="models to run (default: all); with a subset, give --out another name",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of memory-rnn and memory-rnn-fsrs (default 0)"
    )
    parser.add_argument(
        "--no-retention",
        action="store_true",
        help="skip fsrs.Optimizer's optimal retention on the whole log",
    )
    args = parser.parse_args()
    console = Console(width=None if sys.stdout.isatty() else 110)
    source = args.data / "srs" / "review_logs_josh.csv"
    log = read_review_log(source)
    console.log(f"{source}: {len(log):,} reviews of {len(log.items()):,} cards")
    results = run_folds(log, args.splits, console, args.models, args.seed)
    machine = platform.processor() or platform.machine()
    summaries = {scope: summary(evaluation) for scope, evaluation in results.items()}
    for scope, rows in summaries.items():
        console.print(
            table(f"{source.name}, {args.splits} time folds, {SCOPES[scope]} ({machine})", rows)
        )
    retention = None if args.no_retention else optimal_retention(log)
    if retention is not None:
        console.print(
            f"fsrs.Optimizer on the whole log: optimal retention "
            f"{retention['optimal_retention']:.2f} (data/README.md: 0.85); weights fitted in "
            f"{retention['fit_seconds']:.1f} s, retention simulated in "
            f"{retention['retention_seconds']:.1f} s"
        )
    stem = args.out.stem
    figure_names = {"with history": f"{stem}.png", "cross-day": f"{stem}_cross_day.png"}
    paired = {scope: paired_vs_fsrs(evaluation) for scope, evaluation in results.items()}
    for scope, rows in paired.items():
        for name, entry in rows.items():
            console.print(
                f"{scope}: {name} - fsrs, log loss per fold: {entry['mean']:+.4f} ± "
                f"{entry['std']:.4f}, lower on {entry['wins']} of {entry['folds']} folds"
            )
    for scope, evaluation in results.items():
        plot_evaluation(
            evaluation,
            args.out.parent / figure_names[scope],
            title=f"Memory models on {source.name}, {args.splits} time folds: {SCOPES[scope]}",
        )
    write_json(
        args.out,
        {
            "data": str(source),
            "events": len(log),
            "cards": len(log.items()),
            "protocol": f"mentor.evaluation.time_folds(n_splits={args.splits})",
            "models": args.models,
            "seed": args.seed,
            "scopes": {
                scope: {
                    "scored": SCOPES[scope],
                    "summary": summaries[scope],
                    "folds": results[scope].rows,
                    "figure": figure_names[scope],
                    "paired_vs_fsrs": paired[scope],
                }
                for scope in SCOPES
            },
            "fsrs_optimizer_whole_log": retention,
        },
    )
    console.print(f"written to {args.out}")


if __name__ == "__main__":
    main()
