"""``mentor simulate``: compare teachers on simulated students."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mentor._io import write_json
from mentor.errors import MentorError, ParameterError
from mentor.students import MODELS

#: The names of mentor.sim.DEFAULT_TEACHERS, for the help text: importing
#: mentor.sim at start-up would load SciPy and scikit-learn (a test checks they agree).
TEACHER_NAMES = ("random", "fixed", "target", "zpdes")
#: The names of mentor.sim.PLANNING_TEACHERS: offered, not run by default (each plans
#: with a student model of its own, and takes longer per choice).
PLANNING_NAMES = ("expected_gain",)

METRICS = {
    "post_mastery": "post-test mastery",
    "gain_per_step": "gain per step",
    "aulc": "area under learning curve",
}


def simulate(
    quick: Annotated[
        bool, typer.Option(help="Small run (100 students, 100 steps, 5 seeds).")
    ] = False,
    students: Annotated[int | None, typer.Option(help="Students per cohort [200].")] = None,
    steps: Annotated[int | None, typer.Option(help="Practice steps per student [150].")] = None,
    seeds: Annotated[int | None, typer.Option(help="Independent cohorts per teacher [10].")] = None,
    teachers: Annotated[
        str,
        typer.Option(
            help=f"Comma-separated teachers: {', '.join(TEACHER_NAMES + PLANNING_NAMES)} "
            "(expected_gain plans with its own BKT per item at default parameters, "
            "not with --model), or any other registered teacher at its defaults "
            "(built by mentor.teachers.create_teacher, e.g. tscl, learnability, mastery)."
        ),
    ] = ",".join(TEACHER_NAMES),
    model: Annotated[
        str, typer.Option(help=f"Student model the teachers consult: {', '.join(sorted(MODELS))}.")
    ] = "elo",
    skills: Annotated[int, typer.Option(help="Skills in the simulated course.")] = 15,
    course_seed: Annotated[int, typer.Option(help="Seed of the course's prerequisite graph.")] = 0,
    plot: Annotated[Path, typer.Option(help="Where to write the learning-curve PNG.")] = Path(
        "out/learning_curves.png"
    ),
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Write the table as JSON rows.")
    ] = None,
) -> None:
    """Teach simulated students with each teacher and compare what they learned.

    Prints mean and 95% confidence interval over seeds of post-test mastery,
    learning gain per practice step and area under the learning curve.
    """
    from mentor._checks import check_count
    from mentor.sim import DEFAULT_TEACHERS, PLANNING_TEACHERS, make_course, run_experiment
    from mentor.sim.plot import plot_learning_curves
    from mentor.teachers import TEACHERS, create_teacher

    n_students = students if students is not None else (100 if quick else 200)
    n_steps = steps if steps is not None else (100 if quick else 150)
    n_seeds = seeds if seeds is not None else (5 if quick else 10)
    check_count("--students", n_students, 1)
    check_count("--steps", n_steps, 1)
    if check_count("--seeds", n_seeds, 1) < 2:
        raise ParameterError(
            "must be at least 2 to estimate a confidence interval", field="--seeds", value=n_seeds
        )
    factories = {
        **DEFAULT_TEACHERS,
        **{name: factory for name, (factory, _) in PLANNING_TEACHERS.items()},
    }
    chosen = list(dict.fromkeys(t.strip() for t in teachers.split(",") if t.strip()))
    for name in chosen:
        if name not in factories and name in TEACHERS:
            factories[name] = _registered(name, create_teacher)
    unknown = [t for t in chosen if t not in factories]
    if unknown or not chosen:
        raise MentorError(
            f"unknown teacher {unknown[0] if unknown else '(none)'!r}; "
            f"choose from {', '.join(factories)} or another of mentor.teachers.TEACHERS"
        )
    if model not in MODELS:
        raise MentorError(
            f"unknown student model {model!r}; choose one of {', '.join(sorted(MODELS))}"
        )
    domain = make_course(n_skills=skills, seed=course_seed)
    for name in chosen:  # a teacher that cannot be built at its defaults: say so before running
        factories[name](domain, n_steps, 0)
    console = Console()
    console.print(
        f"course: {len(domain.skills)} skills, {len(domain.items)} items, "
        f"{domain.graph.number_of_edges()} prerequisites; {n_students} students x {n_steps} steps "
        f"x {n_seeds} seeds; model {model}"
    )
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("teaching", total=n_seeds * len(chosen))
        result = run_experiment(
            domain,
            {name: factories[name] for name in chosen},
            n_students=n_students,
            steps=n_steps,
            seeds=n_seeds,
            model=model,
            progress=lambda: progress.advance(task),
        )
    rows = result.summary()
    table = Table(title="Teachers on simulated students (mean [95% CI] over seeds)")
    table.add_column("teacher")
    for metric in METRICS.values():
        table.add_column(metric, justify="right")
    by_teacher: dict[str, dict[str, dict]] = {}
    for row in rows:
        by_teacher.setdefault(row["teacher"], {})[row["metric"]] = row
    for name, metrics in by_teacher.items():
        cells = []
        for metric in METRICS:
            r = metrics[metric]
            scale, fmt = (1000.0, ".3f") if metric == "gain_per_step" else (1.0, ".3f")
            low, high = r["ci_low"] * scale, r["ci_high"] * scale
            cells.append(f"{r['mean'] * scale:{fmt}} [{low:{fmt}}, {high:{fmt}}]")
        table.add_row(name, *cells)
    console.print(table)
    console.print("gain per step is shown x 1000.")
    plot_learning_curves(result, plot)
    console.print(f"learning curves written to {plot}")
    if json_path:
        write_json(json_path, rows)


def _registered(name: str, create: Any) -> Any:
    """A factory ``(domain, steps, seed) -> teacher`` for a registered teacher at its
    defaults."""
    return lambda domain, steps, seed: create(name, domain, seed)
