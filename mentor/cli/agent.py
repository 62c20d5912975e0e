"""``mentor agent``: run an LLM agent with experience memory over a task set."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import typer

from mentor._io import atomic_open
from mentor.errors import ParameterError

agent_app = typer.Typer(
    no_args_is_help=True,
    help="LLM agents as learners: ReasoningBank memory and a curriculum of task families.",
)

MEMORIES = ("none", "raw", "success_only", "reasoningbank", "reasoningbank+consolidation")
TEACHERS = ("uniform", "tscl", "zpdes", "learnability", "learnability+memory", "target+memory")
CURVE_COLUMNS = (
    "step",
    "family",
    "task",
    "success",
    "attempts",
    "retrieved",
    "added",
    "merged",
    "retired",
    "skipped",
    "success_rate",
)


def _choice(name: str, value: str, options: tuple[str, ...]) -> str:
    if value not in options:
        raise ParameterError(f"must be one of {', '.join(options)}", field=name, value=value)
    return value


@agent_app.command("tasks")
def tasks(
    out: Annotated[Path, typer.Argument(help="Where to write the tasks (JSON lines).")],
    per_family: Annotated[int, typer.Option(help="Tasks per template and level.")] = 10,
    seed: Annotated[int, typer.Option(help="Seed of the generators.")] = 0,
) -> None:
    """Write arithmetic problems from the demo course's generators, with answers."""
    from mentor.agents.tasks import arithmetic_tasks, write_tasks

    made = arithmetic_tasks(per_family, seed=seed)
    write_tasks(made, out)
    print(f"{len(made)} tasks in {len({t.family for t in made})} families written to {out}")


@agent_app.command("run")
def run_agent(
    tasks_path: Annotated[Path, typer.Argument(metavar="TASKS", help="Tasks, JSON lines.")],
    llm: Annotated[str, typer.Option(help="Base URL of an OpenAI-compatible API.")],
    model: Annotated[str, typer.Option(help="Model name.")] = "default",
    steps: Annotated[int, typer.Option(help="Tasks to run.")] = 100,
    memory: Annotated[str, typer.Option(help=f"Memory: {', '.join(MEMORIES)}.")] = (
        "reasoningbank+consolidation"
    ),
    teacher: Annotated[
        str,
        typer.Option(
            help=f"Curriculum: {', '.join(TEACHERS)} (+memory: the teacher selects with the "
            "memory read as a student model)."
        ),
    ] = "tscl",
    k: Annotated[int, typer.Option(help="Memory items retrieved per task.")] = 1,
    scaling: Annotated[str, typer.Option(help="MaTTS: none, parallel, sequential.")] = "none",
    attempts: Annotated[int, typer.Option(help="Attempts per task with scaling.")] = 1,
    judge: Annotated[str, typer.Option(help="checker (tasks' answers) or llm.")] = "checker",
    embedder: Annotated[str, typer.Option(help="minilm or hashing.")] = "minilm",
    db: Annotated[str, typer.Option(help="SQLAlchemy URL of the memory store.")] = (
        "sqlite:///out/agent/memory.db"
    ),
    memory_url: Annotated[
        str | None,
        typer.Option(
            help="Keep the memory in mentor's service at this URL (its /v1/agents API) instead "
            "of --db; the token is read from MENTOR_AGENT_TOKEN, the settings are the agent's."
        ),
    ] = None,
    workspace: Annotated[str, typer.Option(help="Workspace of the memory.")] = "default",
    agent: Annotated[str, typer.Option(help="Name of the agent whose memory this is.")] = "agent",
    max_tokens: Annotated[int | None, typer.Option(help="Token budget of the run.")] = None,
    max_cost: Annotated[float | None, typer.Option(help="Cost budget of the run.")] = None,
    prompt_price: Annotated[float, typer.Option(help="Price per 1,000 prompt tokens.")] = 0.0,
    completion_price: Annotated[float, typer.Option(help="Price per 1,000 completion tokens.")] = (
        0.0
    ),
    timeout: Annotated[float, typer.Option(help="Seconds per HTTP attempt.")] = 120.0,
    audit: Annotated[Path, typer.Option(help="Audit log of every call (JSON lines).")] = Path(
        "out/agent/calls.jsonl"
    ),
    audit_db: Annotated[
        str | None,
        typer.Option(
            help="Also log every call to this database's llm_calls table (SQLAlchemy URL), "
            "under --workspace, --agent and --run."
        ),
    ] = None,
    run_name: Annotated[str, typer.Option("--run", help="Name of the run in --audit-db.")] = (
        "default"
    ),
    out: Annotated[Path, typer.Option(help="Learning curve (CSV).")] = Path("out/agent/curve.csv"),
    seed: Annotated[int, typer.Option(help="Seed of task order and curriculum.")] = 0,
) -> None:
    """Run TASKS with an LLM agent, a memory and a curriculum; write the learning curve.

    The API key, if any, is read from MENTOR_LLM_API_KEY. Every call is appended to the
    audit log (replayable with mentor.llm.ReplayModel). The curve is rewritten after
    each task, so a run stopped by its budget keeps what it did.
    """
    import os

    import numpy as np

    from mentor.agents import (
        CheckerJudge,
        Consolidation,
        ExperienceMemory,
        HashingEmbedder,
        LLMAgent,
        LLMExtractor,
        LLMJudge,
        MemoryStore,
        MiniLMEmbedder,
        NoMemory,
        RawTrajectories,
        RemoteMemory,
        TaskPool,
        run,
    )
    from mentor.agents.student import MemoryStudent
    from mentor.agents.tasks import read_tasks
    from mentor.domain import Domain, Item
    from mentor.llm import AuditLog, Budget, BudgetExceeded, OpenAIChat, SQLAudit, Tee
    from mentor.teachers import TSCL, ZPDES, Learnability, RandomTeacher, TargetSuccess

    _choice("memory", memory, MEMORIES)
    _choice("teacher", teacher, TEACHERS)
    _choice("judge", judge, ("checker", "llm"))
    _choice("embedder", embedder, ("minilm", "hashing"))
    if teacher.endswith("+memory") and memory == "none":
        raise ParameterError(
            "needs a memory to read as a student model", field="teacher", value=teacher
        )
    task_list = read_tasks(tasks_path)
    if judge == "checker" and any(t.answer is None for t in task_list):
        missing = next(t for t in task_list if t.answer is None)
        raise ParameterError(
            "has no answer for --judge checker; use --judge llm", field="answer", value=missing.id
        )
    budget = Budget(max_tokens, max_cost, prompt_price, completion_price)
    chat = OpenAIChat(
        llm,
        model,
        api_key=os.environ.get("MENTOR_LLM_API_KEY"),
        timeout=timeout,
        budget=budget,
        audit=audit
        if audit_db is None
        else Tee(AuditLog(audit), SQLAudit(audit_db, workspace, agent, run_name)),
    )
    if memory == "none":
        bank = NoMemory()
    elif memory_url is not None:
        token = os.environ.get("MENTOR_AGENT_TOKEN")
        if not token:
            raise ParameterError(
                "needs the agent's token in MENTOR_AGENT_TOKEN",
                field="memory_url",
                value=memory_url,
            )
        extractor = RawTrajectories() if memory == "raw" else LLMExtractor(chat)
        bank = RemoteMemory(
            memory_url, token, agent, extractor, failures=memory not in ("success_only", "raw"), k=k
        )
    else:
        if db.startswith("sqlite:///") and not db.startswith("sqlite:////"):
            Path(db.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        store = MemoryStore(db).create()
        extractor = RawTrajectories() if memory == "raw" else LLMExtractor(chat)
        bank = ExperienceMemory(
            store,
            MiniLMEmbedder() if embedder == "minilm" else HashingEmbedder(),
            extractor,
            workspace=workspace,
            agent=agent,
            k=k,
            failures=memory not in ("success_only", "raw"),
            consolidation=Consolidation() if memory.endswith("consolidation") else None,
        )
    rng = np.random.default_rng(seed)
    pool = TaskPool(task_list, rng)
    if teacher == "tscl":
        chooser = TSCL(seed=seed)
    elif teacher == "zpdes":
        chooser = ZPDES(Domain([Item(f, (f,)) for f in pool.families]), seed=seed)
    elif teacher == "learnability":
        chooser = Learnability(seed=seed)
    elif teacher == "learnability+memory":
        chooser = Learnability(estimate="model", seed=seed)
    elif teacher == "target+memory":
        chooser = TargetSuccess(seed=seed)
    else:
        chooser = RandomTeacher(seed=seed)
    student = None
    if teacher.endswith("+memory"):
        families = Domain([Item(f, (f,)) for f in pool.families])
        if memory_url is not None:
            student = MemoryStudent(families, source=bank)
        else:
            student = MemoryStudent(families, bank.store, workspace, agent)
    curve = []

    def save(step) -> None:
        curve.append(step)
        with_rate = sum(s.success for s in curve) / len(curve)
        with atomic_open(out, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(CURVE_COLUMNS)
            done = 0
            for i, s in enumerate(curve, start=1):
                done += s.success
                writer.writerow(
                    [
                        s.step,
                        s.family,
                        s.task,
                        int(s.success),
                        s.attempts,
                        " ".join(map(str, s.retrieved)),
                        s.added,
                        s.merged,
                        s.retired,
                        s.skipped,
                        f"{done / i:.4f}",
                    ]
                )
        print(
            f"task {step.step + 1}/{steps} {step.family}: "
            f"{'success' if step.success else 'failure'} (rate {with_rate:.3f})",
            flush=True,
        )

    judge_ = CheckerJudge() if judge == "checker" else LLMJudge(chat)
    try:
        run(
            pool,
            LLMAgent(chat),
            bank,
            judge_,
            chooser,
            steps,
            scaling,
            attempts,
            callback=save,
            model=student,
        )
    except BudgetExceeded as error:
        print(f"stopped after {len(curve)} tasks: {error}")
    finally:
        chat.close()
    rate = sum(s.success for s in curve) / len(curve) if curve else float("nan")
    print(
        f"{len(curve)} tasks, success {rate:.3f}; {budget.tokens} tokens, "
        f"cost {budget.cost:.4g} in {budget.calls} calls; curve: {out}; calls: {audit}"
    )
