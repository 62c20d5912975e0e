"""Prompts of the LLM-backed agent, judge and extractors.

Written for mentor after the structure of ReasoningBank's prompts (Ouyang et al.,
ICLR 2026, appendix A): separate extraction for successes (what worked, as transferable
strategies) and failures (why it failed, as lessons that prevent it), a self-contrast
extraction over several attempts for MaTTS, and a judge that ends with a status line.
"""

from __future__ import annotations

from collections.abc import Sequence

from mentor.agents.items import MemoryItem, Task, Trajectory

FORMAT = """Answer in exactly this markdown format, at most {max_items} items:

# Memory Item 1
## Title <a short name of the strategy or lesson>
## Description <one sentence: when this item applies>
## Content <one to three sentences: what to do or what to avoid>

Write items that transfer to other tasks: do not repeat the task's numbers or names."""

SUCCESS = (
    """You are given a task and an agent's attempt at it. The attempt was judged \
SUCCESSFUL. Think about why it worked, then distil the reasoning strategies that made it \
work into memory items that will help with similar tasks.

Task: {task}

Attempt:
{trajectory}

"""
    + FORMAT
)

FAILURE = (
    """You are given a task and an agent's attempt at it. The attempt was judged a \
FAILURE. First reflect on why it failed: which step went wrong and what should have been \
done instead. Then distil lessons that prevent this failure into memory items.

Task: {task}

Attempt:
{trajectory}

"""
    + FORMAT
)

CONTRAST = (
    """You are given a task and several attempts at it, each judged successful or \
failed. Compare them: which reasoning patterns separate the successes from the failures? \
Distil the strategies that worked and the mistakes to avoid into memory items.

Task: {task}

{attempts}

"""
    + FORMAT
)

JUDGE = """You are judging whether an agent solved a task. Read the task and the \
agent's attempt, think briefly, then end with one line "Status: success" or \
"Status: failure".

Task: {task}

Attempt:
{trajectory}

Final answer: {answer}"""

AGENT = """Solve the task. Reason step by step, then end with one line "Answer: <answer>"."""

MEMORY = """Below are memory items distilled from earlier tasks. Use those that apply; \
ignore the others.

{items}"""

REFINE = """Here is your previous attempt at this task. Check it carefully: re-examine \
each step, correct any mistake, and give your final answer again, ending with one line \
"Answer: <answer>".

Previous attempt:
{previous}"""


def attempts_block(trajectories: Sequence[Trajectory], outcomes: Sequence[bool]) -> str:
    """The attempts of a contrast prompt, numbered and labelled with their outcome."""
    return "\n\n".join(
        f"Attempt {i + 1} ({'success' if ok else 'failure'}):\n{t.text}"
        for i, (t, ok) in enumerate(zip(trajectories, outcomes, strict=True))
    )


def agent_messages(
    task: Task, memories: Sequence[MemoryItem], previous: Trajectory | None = None
) -> list[dict[str, str]]:
    """The chat messages of one attempt (or one refinement of ``previous``)."""
    system = AGENT
    if memories:
        system += "\n\n" + MEMORY.format(items="\n\n".join(m.render() for m in memories))
    messages = [{"role": "system", "content": system}, {"role": "user", "content": task.text}]
    if previous is not None:
        messages += [
            {"role": "assistant", "content": previous.text},
            {"role": "user", "content": REFINE.format(previous=previous.text)},
        ]
    return messages
