"""The agent's memory read as a student model (MemoryStudent) and a teacher that selects
task families with it, in the loop and in ``mentor agent run`` (with the calls logged to
the event store as well as the JSON-lines file)."""

from __future__ import annotations

import csv

import numpy as np
import pytest

pytest.importorskip("sqlalchemy")

from mentor.agents import (  # noqa: E402
    CheckerJudge,
    Consolidation,
    ExperienceMemory,
    HashingEmbedder,
    MemoryItem,
    MemoryStore,
    MemoryStudent,
    Task,
    TaskPool,
    family_estimates,
    run,
)
from mentor.agents.sim import SimulatedAgent, SimulatedExtractor, World, sim_check  # noqa: E402
from mentor.domain import Domain, Item  # noqa: E402
from mentor.errors import MentorError, ParameterError  # noqa: E402
from mentor.events import EventLog  # noqa: E402
from mentor.teachers import Learnability  # noqa: E402


def test_family_estimates_by_hand():
    history = [
        {"family": "f", "success": False, "retrieved": []},
        {"family": "f", "success": True, "retrieved": [1]},
        {"family": "f", "success": False, "retrieved": [2]},  # 2 is retired: not counted
        {"family": "f", "success": True, "retrieved": [2, 1]},
        {"family": "g", "success": True, "retrieved": [1]},
    ]
    found = family_estimates(history, active={1}, window=20, strength=2.0)
    # f: base (2 + 1) / (4 + 2) = 0.5; with memory 2 of 2; p = (2 + 2 * 0.5) / (2 + 2)
    assert found["f"] == pytest.approx(
        {
            "tasks": 4,
            "successes": 2,
            "base": 0.5,
            "with_memory": 2,
            "with_memory_successes": 2,
            "p": 0.75,
        }
    )
    # g: base 2/3, one success with memory: (1 + 2 * 2/3) / 3
    assert found["g"]["p"] == pytest.approx((1 + 4 / 3) / 3)
    # a window of 1 keeps f's last task with memory only (a success)
    assert family_estimates(history, {1, 2}, window=1)["f"]["p"] == pytest.approx((1 + 2 * 0.5) / 3)


def test_memory_student_reads_the_store_and_follows_retirement():
    store = MemoryStore().create()
    memory = ExperienceMemory(
        store,
        HashingEmbedder(),
        None,
        k=1,
        consolidation=Consolidation(min_uses=2, retire_margin=0.1),
    )
    (bad,) = memory.add([MemoryItem("Guess", "Always.", "Answer 42.")], "add fractions").added
    domain = Domain([Item("fractions", ("arith",)), Item("graphs", ("cs",))])
    student = MemoryStudent(domain, store)
    assert student.predict("agent", ["fractions", "graphs"]).tolist() == [0.5, 0.5]
    task = Task("t1", "fractions", "add fractions")
    memory.remember(task, True, [])  # base rate (1+1)/(1+2) = 2/3
    memory.remember(Task("t2", "fractions", "add fractions"), False, [bad])
    # with memory 0 of 1; base (1+1)/(2+2) = 0.5 -> p = (0 + 2 * 0.5) / 3
    assert student.predict("agent", ["fractions"])[0] == pytest.approx(1 / 3)
    state = student.state("agent")
    assert state["mastery"] == pytest.approx({"arith": 1 / 3, "cs": 0.5})
    done = memory.remember(Task("t3", "fractions", "add fractions"), False, [bad])
    assert list(done.retired) == [bad]
    # the item is retired: tasks it was retrieved for no longer count as "with memory"
    assert student.predict("agent", ["fractions"])[0] == pytest.approx((1 + 1) / (3 + 2))
    assert student.state_dict()["params"]["window"] == 20
    epochs = []
    assert student.fit(EventLog([], [], [], []), on_epoch=epochs.append) is student
    assert epochs == [{"epoch": 1}]
    with pytest.raises(MentorError, match="needs a memory store"):
        MemoryStudent(domain).predict("agent", ["fractions"])
    with pytest.raises(ParameterError, match="field 'window', value 0"):
        MemoryStudent(domain, store, window=0)


def test_a_teacher_selects_families_with_the_memory_model():
    world = World(seed=3)
    rng = np.random.default_rng(0)
    pool = TaskPool(world.tasks(5, rng), rng)
    store = MemoryStore().create()
    memory = ExperienceMemory(
        store, HashingEmbedder(), SimulatedExtractor(world), k=3, consolidation=Consolidation()
    )
    student = MemoryStudent(world.domain(), store)
    teacher = Learnability(estimate="model", seed=0)
    curve = run(
        pool,
        SimulatedAgent(world, seed=1),
        memory,
        CheckerJudge(sim_check),
        teacher,
        steps=40,
        model=student,
    )
    assert len(curve) == 40 and {s.family for s in curve} <= set(world.families)
    # the model the teacher read is the store's record of the same 40 tasks
    found = student.estimates()
    assert sum(f["tasks"] for f in found.values()) == 40
    assert sum(f["successes"] for f in found.values()) == sum(s.success for s in curve)
    # without the model the teacher refuses to select
    with pytest.raises(MentorError, match="needs a student model"):
        run(
            pool,
            SimulatedAgent(world, seed=1),
            memory,
            CheckerJudge(sim_check),
            Learnability(estimate="model", seed=0),
            steps=1,
        )


def test_cli_curriculum_with_the_memory_model_and_calls_in_the_event_store(tmp_path):
    from test_agents import fixture
    from test_llm import Server, completion
    from typer.testing import CliRunner

    from mentor.cli import app
    from mentor.llm import SQLAudit, read_audit

    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(
        '{"id": "a", "family": "f", "text": "17 + 1 = ?", "answer": "18"}\n'
        '{"id": "b", "family": "g", "text": "9 + 1 = ?", "answer": "10"}\n'
    )
    reply = completion(fixture("next_line_sections.md") + "\nAnswer: 18", prompt=50, done=20)
    curve, calls, events = tmp_path / "curve.csv", tmp_path / "calls.jsonl", tmp_path / "e.db"
    with Server([(200, reply, {}, 0.0)]) as server:
        result = CliRunner().invoke(
            app,
            [
                "agent",
                "run",
                str(tasks),
                "--llm",
                server.url,
                "--model",
                "tiny",
                "--steps",
                "3",
                "--embedder",
                "hashing",
                "--teacher",
                "learnability+memory",
                "--db",
                f"sqlite:///{tmp_path / 'memory.db'}",
                "--out",
                str(curve),
                "--audit",
                str(calls),
                "--audit-db",
                f"sqlite:///{events}",
                "--run",
                "r7",
                "--agent",
                "bot",
            ],
        )
    assert result.exit_code == 0, result.output
    assert len(list(csv.DictReader(curve.open()))) == 3
    # 2 calls a task (attempt, extraction), the same records in the file and the table
    in_db = list(SQLAudit(f"sqlite:///{events}", agent="bot", run="r7").records())
    assert len(in_db) == 6 and in_db == list(read_audit(calls))
    refused = CliRunner().invoke(
        app,
        [
            "agent",
            "run",
            str(tasks),
            "--llm",
            "http://h",
            "--memory",
            "none",
            "--teacher",
            "target+memory",
        ],
    )
    assert isinstance(refused.exception, ParameterError)
    assert "field 'teacher', value 'target+memory'" in str(refused.exception)
