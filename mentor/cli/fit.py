"""``mentor fit``: fit a student model on a log and score it."""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from mentor._io import write_json
from mentor.errors import DataError
from mentor.events.detect import FORMATS
from mentor.students import MODELS, create_model


def _columns(text: str | None) -> dict[str, str] | None:
    if not text:
        return None
    mapping = {}
    for part in text.split(","):
        field, sep, column = part.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise DataError(
                "expected FIELD=COLUMN pairs separated by commas", field="--columns", value=part
            )
        mapping[field.strip()] = column.strip()
    return mapping


def _as_new_learners(log: Any) -> Any:
    """The training log with every learner renamed to one the model has not seen, so
    that each is scored from the start. Predicting it under its own ids would start each
    learner from the state the fit left them in, after all their answers, and replay the
    answers on top of it: neither an online nor an in-sample figure."""
    import numpy as np

    from mentor.events import EventLog

    fresh = np.char.add("\x1fnew:", log.learner.astype(str))  # no file holds such an id
    return EventLog(fresh, log.item, log.time, log.outcome, log.extra, validate=False)


def _score(outcomes, predictions) -> dict[str, float]:
    from mentor.metrics import auc, log_likelihood, log_loss

    return {
        "log_likelihood": log_likelihood(outcomes, predictions),
        "auc": auc(outcomes, predictions),
        "log_loss": log_loss(outcomes, predictions),
    }


def fit(
    model: Annotated[str, typer.Argument(help=f"Student model: {', '.join(sorted(MODELS))}.")],
    train: Annotated[
        Path, typer.Argument(help="Training log (KT three-line, CSV, review log or Parquet).")
    ],
    test: Annotated[
        Path | None, typer.Option(help="Test log, scored online event by event.")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the fitted model's state (JSON).")] = None,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Write the figures as a JSON object.")
    ] = None,
    format: Annotated[str, typer.Option(help=f"Log format: {', '.join(FORMATS)}.")] = "auto",
    columns: Annotated[
        str | None,
        typer.Option(
            help="For generic CSV: FIELD=COLUMN pairs, e.g. learner=user_id,item=skill_id."
        ),
    ] = None,
    domain: Annotated[
        Path | None, typer.Option(help="Domain file (JSON or items CSV) giving each item's skills.")
    ] = None,
    encoding: Annotated[
        str, typer.Option(help="Text encoding of the logs, e.g. latin-1 or cp1252.")
    ] = "utf-8",
    dedupe: Annotated[
        bool,
        typer.Option("--drop-duplicates", help="Drop repeated (learner, item, time) rows."),
    ] = False,
) -> None:
    """Fit a student model on a log; report log-likelihood, AUC and log loss.

    With --test the figures are those of the test log, each event predicted from
    the learner's earlier events ("online"); without it, those of the training
    log scored the same way, each learner from the start as a learner the model
    has not seen. A model that reports the log-likelihood it maximised in
    fitting (BKT, IRT, PFA, ...) gets one more row, "fit log-likelihood
    (train, in-sample)": the fit's own objective, which may use everything the
    fit saw (IRT's abilities come from all of a learner's answers), so it can
    differ from the online figure on the same log (for BKT on single-skill
    items both are the same forward pass). With --test, a model without one
    gets "train log-likelihood (online)".
    """
    # Imported here, not at start-up: ``mentor --help`` needs none of them.
    from mentor.cli._load import load_log
    from mentor.domain import load_domain
    from mentor.events import pykt_domain
    from mentor.metrics import log_likelihood

    console = Console()
    mapping = _columns(columns)
    the_domain = load_domain(domain) if domain else None
    student_model = create_model(model, domain=the_domain)  # a bad name stops before reading
    train_log = load_log(train, format, mapping, encoding, dedupe=dedupe)
    test_log = load_log(test, format, mapping, encoding, dedupe=dedupe) if test else None
    if test_log is not None:  # the leak checks of ``mentor evaluate --train --test``
        from mentor.evaluation import check_split

        note = check_split(train_log, test_log)
        if note:
            print(f"mentor: note: {note}", file=sys.stderr)
    if the_domain is None:  # pyKT's files name each question's concepts
        derived = pykt_domain(*(log for log in (train_log, test_log) if log is not None))
        if derived is not None:
            student_model = create_model(model, domain=derived)
    with console.status(f"fitting {model} on {len(train_log):,} events"):
        start = time.perf_counter()
        student_model.fit(train_log)
        seconds = time.perf_counter() - start
    scored = test_log if test_log is not None else train_log
    # a test log's learners continue their history; the training log's start afresh
    to_predict = test_log if test_log is not None else _as_new_learners(train_log)
    figures = _score(scored.outcome, student_model.predict_log(to_predict))
    fitted = getattr(student_model, "log_likelihood_", None)
    in_sample = isinstance(fitted, (int, float)) and not math.isnan(fitted)
    if in_sample:
        train_ll = float(fitted)
    elif test_log is None:
        train_ll = figures["log_likelihood"]  # the training log was scored online above
    else:
        renamed = _as_new_learners(train_log)
        train_ll = log_likelihood(train_log.outcome, student_model.predict_log(renamed))
    result = {
        **figures,
        "scored_on": "test" if test_log is not None else "train",
        "events": len(scored),
        "train_log_likelihood": float(train_ll),
        "train_log_likelihood_kind": "fit (in-sample)" if in_sample else "online",
        "fit_seconds": seconds,
    }

    table = Table(
        title=f"{model} fitted on {train.name} ({len(train_log):,} events, {seconds:.2f} s)"
    )
    table.add_column("figure")
    table.add_column(f"{result['scored_on']} ({len(scored):,} events)", justify="right")
    table.add_row("log-likelihood (online)", f"{figures['log_likelihood']:.2f}")
    table.add_row("AUC", f"{figures['auc']:.4f}")
    table.add_row("log loss", f"{figures['log_loss']:.4f}")
    if in_sample:
        table.add_row("fit log-likelihood (train, in-sample)", f"{train_ll:.2f}")
    elif test_log is not None:
        table.add_row("train log-likelihood (online)", f"{train_ll:.2f}")
    table.caption = "online: each event predicted from the learner's earlier events only" + (
        "; in-sample: the log-likelihood the fit maximised, on the events it was fitted to"
        if in_sample
        else ""
    )
    console.print(table)
    if out:
        write_json(out, student_model.state_dict())
        console.print(f"model state written to {out}")
    if json_path:
        write_json(
            json_path,
            {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in result.items()},
        )
