"""A simulated agent and task world, to test memories and curricula without an LLM.

Like mentor's simulated students, the simulation makes the mechanism explicit so that
a benchmark can tell policies apart:

- Task families come in ``groups``; each group has a latent strategy, one of
  ``strategies``, shared by its families, which differ in difficulty: with the right
  strategy a task of level ``l`` succeeds with probability ``levels[l][0]``, with a
  wrong one with ``levels[l][1]``.
- A task's text mixes words of its group, words of its family, common filler words and,
  sometimes, a word of another group, so that embedding retrieval is good but not
  perfect.
- :class:`SimulatedAgent` reads the retrieved items' text: it follows the first item
  that recommends a strategy ("Use strategy S3") with probability ``follow`` (``raw_follow``
  for a raw trajectory), avoids the strategies that items warn against ("Avoid strategy
  S2"), and otherwise picks a strategy at random. A relevant item therefore raises
  success, a misleading one (a lucky success with a wrong strategy, or another group's
  item) lowers it.
- :class:`SimulatedExtractor` stands in for the LLM: it writes items in ReasoningBank's
  markdown format from the strategies the attempts used (success: use it; failure: avoid
  it; several attempts: contrast them), which :func:`parse_memory_items` then parses.

These mechanisms are assumptions of the simulation, not findings; what the benchmark
measures is how the memories behave under them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mentor.agents.extract import Extraction
from mentor.agents.items import MemoryItem, Task, Trajectory
from mentor.agents.parsing import parse_memory_items
from mentor.domain import Domain, Item
from mentor.errors import ParameterError

_USE = re.compile(r"\buse strategy (S\d+)", re.IGNORECASE)
_AVOID = re.compile(r"\bavoid strategy (S\d+)", re.IGNORECASE)


def _word(rng: np.random.Generator) -> str:
    return "".join(
        rng.choice(list("bcdfghklmnprstvz")) + rng.choice(list("aeiou")) for _ in range(3)
    )


@dataclass
class World:
    """Task families with latent strategies.

    Parameters
    ----------
    seed
        Seed of the world (strategies, vocabularies) and of its tasks.
    groups
        Groups of families sharing a strategy. Default 4.
    strategies
        Strategies to choose from. Default 6.
    levels
        ``(p_right, p_wrong)`` per difficulty level; one family per group and level.
        Default ``((0.9, 0.2), (0.75, 0.08), (0.6, 0.02))``.
    confusion
        Probability that a task's text carries a word of another group. Default 0.3.
    """

    seed: int = 0
    groups: int = 4
    strategies: int = 6
    levels: tuple[tuple[float, float], ...] = ((0.9, 0.2), (0.75, 0.08), (0.6, 0.02))
    confusion: float = 0.3

    def __post_init__(self) -> None:
        if self.groups < 1 or self.strategies < 2 or not self.levels:
            raise ParameterError(
                "needs >= 1 group, >= 2 strategies and >= 1 level",
                field="world",
                value=(self.groups, self.strategies),
            )
        rng = np.random.default_rng(self.seed)
        self.rng = rng
        self.truth = {
            g: f"S{int(s)}"
            for g, s in enumerate(rng.integers(0, self.strategies, size=self.groups))
        }
        self.group_words = [[_word(rng) for _ in range(5)] for _ in range(self.groups)]
        self.filler = [_word(rng) for _ in range(40)]
        self.families: dict[str, tuple[int, int]] = {}
        self.family_words: dict[str, list[str]] = {}
        for g in range(self.groups):
            for level in range(len(self.levels)):
                name = f"g{g}-l{level}"
                self.families[name] = (g, level)
                self.family_words[name] = [_word(rng) for _ in range(3)]
        self._count = 0

    def domain(self) -> Domain:
        """The families as a mentor course: one skill per group, levels as difficulty
        (so ZPDES opens a group's harder families after its easier ones)."""
        return Domain(
            [Item(f, (f"g{g}",), difficulty=level + 1) for f, (g, level) in self.families.items()]
        )

    def task(self, family: str, rng: np.random.Generator | None = None) -> Task:
        """A new task of ``family``."""
        rng = self.rng if rng is None else rng
        g, _ = self.families[family]
        words = list(rng.choice(self.group_words[g], 3, replace=False))
        words += list(rng.choice(self.family_words[family], 2, replace=False))
        words += list(rng.choice(self.filler, 3, replace=False))
        if self.groups > 1 and rng.random() < self.confusion:
            other = int(rng.choice([h for h in range(self.groups) if h != g]))
            words.append(str(rng.choice(self.group_words[other])))
        rng.shuffle(words)
        self._count += 1
        return Task(f"{family}#{self._count}", family, " ".join(words))

    def tasks(self, per_family: int, rng: np.random.Generator | None = None) -> list[Task]:
        """``per_family`` new tasks of each family."""
        return [self.task(f, rng) for f in self.families for _ in range(per_family)]

    def p_success(self, family: str, strategy: str) -> float:
        """Success probability of ``strategy`` on a task of ``family``."""
        g, level = self.families[family]
        right, wrong = self.levels[level]
        return right if strategy == self.truth[g] else wrong


class SimulatedAgent:
    """An agent that chooses a strategy from its memory items (see the module docstring).

    Parameters
    ----------
    world
        The task world.
    seed
        Seed of its choices and of the tasks' outcomes.
    follow, raw_follow
        Probability of following a distilled item's recommendation, and a raw
        trajectory's. Defaults 0.9 and 0.7.
    recheck
        In a sequential refinement, the probability of keeping the previous strategy
        when it is the right one; a wrong one is kept with probability ``1 - recheck``.
        Default 0.8.
    """

    def __init__(
        self,
        world: World,
        seed: int = 0,
        follow: float = 0.9,
        raw_follow: float = 0.7,
        recheck: float = 0.8,
    ) -> None:
        self.world = world
        self.rng = np.random.default_rng(seed)
        self.follow = follow
        self.raw_follow = raw_follow
        self.recheck = recheck
        self.names = [f"S{i}" for i in range(world.strategies)]

    def _choose(self, memories: Sequence[MemoryItem], exclude: set[str]) -> str:
        avoid = {s for m in memories for s in _AVOID.findall(m.content)}
        for m in memories:
            found = _USE.findall(m.content)
            if found:
                p = self.raw_follow if m.polarity == "raw" else self.follow
                if self.rng.random() < p and found[0] not in exclude:
                    return found[0]
                break
        options = [s for s in self.names if s not in avoid | exclude] or self.names
        return str(self.rng.choice(options))

    def attempt(
        self,
        task: Task,
        memories: Sequence[MemoryItem],
        previous: Trajectory | None = None,
        index: int = 0,
    ) -> Trajectory:
        """Pick a strategy, apply it, and report what happened."""
        if previous is None:
            strategy = self._choose(memories, set())
        else:
            before = previous.info["strategy"]
            right = before == self.world.truth[self.world.families[task.family][0]]
            keep = self.rng.random() < (self.recheck if right else 1 - self.recheck)
            strategy = before if keep else self._choose(memories, {before})
        success = bool(self.rng.random() < self.world.p_success(task.family, strategy))
        text = (
            f"Task: {task.text}\nI use strategy {strategy}.\n"
            f"Result: {'solved' if success else 'not solved'}."
        )
        return Trajectory(
            task,
            text,
            "solved" if success else "not solved",
            {"strategy": strategy, "success": success},
        )


def sim_check(task: Task, trajectory: Trajectory) -> bool:
    """Ground truth of a simulated attempt (for :class:`~mentor.agents.CheckerJudge`)."""
    return bool(trajectory.info["success"])


class SimulatedExtractor:
    """Writes items in ReasoningBank's markdown format from the strategies that the
    attempts used, and parses them back with :func:`parse_memory_items`.

    Parameters
    ----------
    world
        The task world (its group vocabularies name the items).
    max_items
        Items per extraction, at most. Default 3.
    """

    def __init__(self, world: World, max_items: int = 3) -> None:
        self.world = world
        self.max_items = max_items

    def answer(
        self, task: Task, trajectories: Sequence[Trajectory], outcomes: Sequence[bool]
    ) -> str:
        """The markdown an extracting LLM would write."""
        g, _ = self.world.families[task.family]
        topic = " ".join(self.world.group_words[g])
        worked = [t.info["strategy"] for t, ok in zip(trajectories, outcomes, strict=True) if ok]
        failed = [
            t.info["strategy"]
            for t, ok in zip(trajectories, outcomes, strict=True)
            if not ok and t.info["strategy"] not in worked
        ]
        blocks = []
        for strategy in dict.fromkeys(worked):
            blocks.append(
                (
                    f"Strategy {strategy} for {topic}",
                    f"When a task is about {topic}.",
                    f"Use strategy {strategy}; it solved such a task.",
                )
            )
        for strategy in dict.fromkeys(failed):
            blocks.append(
                (
                    f"Pitfall {strategy} in {topic}",
                    f"When a task is about {topic}.",
                    f"Avoid strategy {strategy}; it failed on such a task.",
                )
            )
        return "Reasoning first.\n\n" + "\n\n".join(
            f"# Memory Item {i + 1}\n## Title {a}\n## Description {b}\n## Content {c}"
            for i, (a, b, c) in enumerate(blocks)
        )

    def extract(
        self, task: Task, trajectories: Sequence[Trajectory], outcomes: Sequence[bool]
    ) -> Extraction:
        """Items parsed from :meth:`answer`."""
        parsed = parse_memory_items(self.answer(task, trajectories, outcomes), self.max_items)
        polarity = "success" if any(outcomes) else "failure"
        return Extraction(
            [
                MemoryItem(d.title, d.description, d.content, polarity, task.text)
                for d in parsed.items
            ],
            parsed.skipped,
        )
