"""``mentor evaluate``: compare student models on held-out events."""

from __future__ import annotations

import csv
import json
import math
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mentor._io import atomic_open, write_json
from mentor.cli.fit import _columns
from mentor.errors import DataError, UnknownIdError
from mentor.events.detect import FORMATS
from mentor.students import MODELS

PROTOCOLS = ("kfold", "time")
HEADERS = {
    "auc": "AUC",
    "log_loss": "log loss",
    "rmse": "RMSE",
    "accuracy": "accuracy",
    "calibration_error": "ECE",
    "fit_seconds": "fit s",
}


def _settings(values: list[str], models: list[str]) -> dict[str, dict[str, Any]]:
    """``MODEL.PARAM=VALUE`` strings as constructor arguments per model (values as
    JSON, true/false/none in any case, else text)."""
    out: dict[str, dict[str, Any]] = {}
    for text in values:
        key, sep, raw = text.partition("=")
        model, dot, param = key.partition(".")
        if not sep or not dot or not model or not param:
            raise DataError("expected MODEL.PARAM=VALUE", field="--set", value=text)
        if model not in models:
            raise DataError(f"model {model!r} is not being evaluated", field="--set", value=text)
        words = {"true": True, "false": False, "none": None, "null": None}
        if raw.strip().lower() in words:  # True, FALSE, None as well as JSON's spelling
            value = words[raw.strip().lower()]
        else:
            try:
                value = json.loads(raw)
            except json.JSONDecodeError:
                value = raw
        out.setdefault(model, {})[param] = value
    return out


def _list_models() -> None:
    """Each model's name and the first paragraph of its docstring, one line each."""
    for name in sorted(MODELS):
        print(f"{name:<10} {MODELS.summary(name)}")


def _check_pykt_folder(
    folder: Path, train: Path | None, test: Path | None, protocol: str | None, folds: int | None
) -> None:
    """A pyKT data folder given as --data carries its own train/test split: an
    option that would split it again, or a second train or test log, is an
    error rather than silently ignored; so is a folder without pyKT's files."""
    given = {"--train": train, "--test": test, "--protocol": protocol, "--folds": folds}
    for option, value in given.items():
        if value is not None:
            raise DataError(
                f"the pyKT folder given as --data carries its own train/test split "
                f"(train_valid.csv -> test.csv), so {option} cannot apply; give a single "
                "log file as --data to split it, or --train and --test without --data",
                file=str(folder),
                field=option,
                value=str(value),
            )
    wanted = ("train_valid.csv", "test.csv")
    missing = [name for name in wanted if not (folder / name).is_file()]
    if missing:
        sequences = sorted(p.name for p in folder.glob("*_sequences.csv"))
        found = (
            f"; it has {', '.join(sequences)}: give them as --train and --test" if sequences else ""
        )
        raise DataError(
            f"a folder given as --data must hold pyKT's {' and '.join(wanted)} "
            f"({', '.join(missing)} not found){found}",
            file=str(folder),
        )


def _clean(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else value


def evaluate(
    models: Annotated[
        list[str] | None, typer.Argument(help="Student models to compare (see --list).")
    ] = None,
    list_models: Annotated[
        bool, typer.Option("--list", help="Print the model names and exit.")
    ] = False,
    data: Annotated[
        Path | None,
        typer.Option(
            help="One log, split by --protocol into folds; or a pyKT data folder "
            "(train_valid.csv and test.csv, its fixed split)."
        ),
    ] = None,
    protocol: Annotated[
        str | None,
        typer.Option(
            help="kfold (default): unseen learners; time: each learner's later events.",
            show_default=False,
        ),
    ] = None,
    folds: Annotated[
        int | None, typer.Option(help="Number of folds (default 5).", show_default=False)
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the k-fold assignment.")] = 0,
    train: Annotated[Path | None, typer.Option(help="Fixed split: training log.")] = None,
    test: Annotated[Path | None, typer.Option(help="Fixed split: test log.")] = None,
    format: Annotated[str, typer.Option(help=f"Log format: {', '.join(FORMATS)}.")] = "auto",
    columns: Annotated[
        str | None, typer.Option(help="For generic CSV: FIELD=COLUMN pairs.")
    ] = None,
    encoding: Annotated[
        str, typer.Option(help="Text encoding of the logs, e.g. latin-1 or cp1252.")
    ] = "utf-8",
    scoring: Annotated[
        str,
        typer.Option(
            help="all: every test event; window: pyKT's protocol (full history, "
            "each learner's first answer excluded)."
        ),
    ] = "all",
    domain: Annotated[
        Path | None, typer.Option(help="Domain file giving each item's skills.")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Model parameter, MODEL.PARAM=VALUE (repeatable)."),
    ] = None,
    dedupe: Annotated[
        bool,
        typer.Option("--drop-duplicates", help="Drop repeated (learner, item, time) rows."),
    ] = False,
    out: Annotated[Path, typer.Option(help="Folder for evaluation.csv and evaluation.png.")] = Path(
        "out/evaluate"
    ),
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Write one row per model as JSON.")
    ] = None,
) -> None:
    """Fit each model on training events and score it on held-out events.

    Prints mean ± standard deviation over folds of AUC, log loss, RMSE, accuracy,
    calibration error (ECE, 10 bins) and fit time; writes the figures per fold
    to OUT/evaluation.csv and a plot (AUC, reliability diagram) to
    OUT/evaluation.png.
    """
    console = Console()
    if list_models:
        _list_models()
        return
    # Imported here, not at start-up: --help and --list need none of them.
    from mentor.cli._load import load_log
    from mentor.domain import load_domain
    from mentor.evaluation import (
        METRICS,
        SCORINGS,
        check_domain,
        check_split,
        fixed_split,
        learner_kfold,
        time_folds,
    )
    from mentor.evaluation import evaluate as run_evaluation
    from mentor.evaluation.plot import plot_evaluation
    from mentor.events import pykt_domain

    models = list(dict.fromkeys(models or []))
    if not models:
        raise DataError("name at least one model (mentor evaluate --list shows them)")
    for name in models:
        if name not in MODELS:
            raise UnknownIdError(
                f"unknown student model {name!r}; choose one of {', '.join(sorted(MODELS))}"
            )
    if protocol is not None and protocol not in PROTOCOLS:
        raise DataError(f"choose one of {', '.join(PROTOCOLS)}", field="--protocol", value=protocol)
    if scoring not in SCORINGS:
        raise DataError(f"choose one of {', '.join(SCORINGS)}", field="--scoring", value=scoring)
    if data is not None and data.is_dir():  # pyKT's data/<name>/: its train/test split
        _check_pykt_folder(data, train, test, protocol, folds)
        train, test, data = data / "train_valid.csv", data / "test.csv", None
    if (data is None) == (train is None or test is None) or (train is None) != (test is None):
        raise DataError("give either --data LOG, or both --train TRAIN and --test TEST")
    if data is None:
        for option, value in (("--protocol", protocol), ("--folds", folds)):
            if value is not None:
                raise DataError(
                    "splits --data LOG into folds; --train and --test are a fixed split",
                    field=option,
                    value=value,
                )
    protocol = protocol or "kfold"
    folds = 5 if folds is None else folds
    params = _settings(set_ or [], models)
    mapping = _columns(columns)
    the_domain = load_domain(domain) if domain else None

    logs = [
        load_log(path, format, mapping, encoding, dedupe=dedupe)
        for path in ([data] if data is not None else [train, test])
    ]
    if the_domain is None:  # pyKT's files name each question's concepts
        the_domain = pykt_domain(*logs)
    if the_domain is not None:
        for path, log in zip([data] if data is not None else [train, test], logs, strict=True):
            check_domain(log, the_domain, str(path))

    if data is not None:
        log = logs[0]
        splits = learner_kfold(log, folds, seed) if protocol == "kfold" else time_folds(log, folds)
        n_folds, described = folds, f"{data.name}, {protocol} protocol, {folds} folds"
    else:
        train_log, test_log = logs
        note = check_split(train_log, test_log)
        if note:
            print(f"mentor: note: {note}", file=sys.stderr)
        splits = fixed_split(train_log, test_log)
        n_folds, described = 1, f"{train.name} -> {test.name}"
    if scoring != "all":
        described += f"; scoring {scoring} ({SCORINGS[scoring]})"

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("evaluating", total=n_folds * len(models))
        started = [False]

        plain = not console.is_terminal  # a log file gets a line per fold and epoch

        def on_fit(name: str, fold: int) -> None:
            if started[0]:
                progress.advance(task)
            started[0] = True
            progress.update(task, description=f"fitting {name}, fold {fold + 1}/{n_folds}")
            if plain:
                print(f"mentor: fitting {name}, fold {fold + 1}/{n_folds}", file=sys.stderr)

        def on_epoch(name: str, fold: int, record: dict[str, Any]) -> None:
            text = f"fitting {name}, fold {fold + 1}/{n_folds}, epoch {record['epoch']}"
            if record.get("val_auc") is not None:
                text += f" (validation AUC {record['val_auc']:.4f})"
            elif record.get("log_likelihood") is not None:
                text += f" (log-likelihood {record['log_likelihood']:.1f})"
            progress.update(task, description=text)
            if plain:
                print(f"mentor: {text}", file=sys.stderr)

        result = run_evaluation(models, splits, the_domain, params, on_fit, on_epoch, scoring)
        progress.advance(task)

    if not result.rows:  # every model failed: nothing to show or write
        raise next(iter(result.failures.values()))[1]
    summary = result.summary()
    table = Table(title=f"Student models on {described}")
    table.add_column("model")
    for key in (*METRICS, "fit_seconds"):
        table.add_column(HEADERS[key], justify="right")
    for row in summary:
        cells = []
        for key in (*METRICS, "fit_seconds"):
            digits = 2 if key == "fit_seconds" else 4
            spread = f" ± {row[key + '_std']:.{digits}f}" if n_folds > 1 else ""
            cells.append(f"{row[key]:.{digits}f}{spread}")
        table.add_row(row["model"], *cells)
    console.print(table)

    out.mkdir(parents=True, exist_ok=True)
    with atomic_open(out / "evaluation.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(result.rows[0]))
        writer.writeheader()
        writer.writerows(result.rows)
    plot_evaluation(result, out / "evaluation.png", title=f"Student models on {described}")
    console.print(f"figures per fold: {out / 'evaluation.csv'}; plot: {out / 'evaluation.png'}")
    if json_path:
        write_json(
            json_path,
            [{**{k: _clean(v) for k, v in row.items()}, "scoring": scoring} for row in summary],
        )
    for name, (fold, error) in result.failures.items():
        print(f"mentor: error: {name} failed on fold {fold + 1}: {error}", file=sys.stderr)
    if result.failures:
        raise typer.Exit(1)
