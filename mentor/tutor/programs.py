"""A small set of buggy programs for Socratic code debugging, written for mentor.

Each is a short Python function with one bug, in the spirit of the Socratic
debugging benchmark of Al-Hossami et al. (2023), whose programs and dialogues
are not copied here (that benchmark has no licence): a description of what the
function should do, the buggy code, the line of the bug, the fixed line, the
bug in words and tests (arguments and the expected result) that the buggy
version fails and the fixed one passes.

A code-debugging item asks the learner for the corrected line
(:class:`~mentor.tutor.llm.FreeItem` with ``kind="code"``); the tutor
(:class:`~mentor.tutor.llm.LLMPlanner`) must never show the fixed line before
the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BuggyProgram:
    """One buggy function (see the module docstring)."""

    id: str
    task: str
    code: str
    line: int
    fix: str
    bug: str
    tests: tuple[tuple[tuple[Any, ...], Any], ...]
    name: str

    def fixed_code(self) -> str:
        """The code with the bug's line replaced by the fix (indentation kept)."""
        lines = self.code.splitlines()
        old = lines[self.line - 1]
        indent = old[: len(old) - len(old.lstrip())]
        lines[self.line - 1] = indent + self.fix.strip()
        return "\n".join(lines) + "\n"


PROGRAMS: tuple[BuggyProgram, ...] = (
    BuggyProgram(
        "sum_to_n",
        "Return the sum 1 + 2 + ... + n.",
        "def sum_to_n(n):\n    total = 0\n    for k in range(1, n):\n        total += k\n"
        "    return total\n",
        3,
        "for k in range(1, n + 1):",
        "range(1, n) stops before n, so n itself is never added",
        (((1,), 1), ((4,), 10), ((10,), 55)),
        "sum_to_n",
    ),
    BuggyProgram(
        "largest",
        "Return the largest number in a non-empty list.",
        "def largest(xs):\n    best = xs[0]\n    for x in xs:\n        if x < best:\n"
        "            best = x\n    return best\n",
        4,
        "if x > best:",
        "the comparison keeps the smaller number, so it finds the smallest",
        ((([3, 9, 2],), 9), (([5],), 5), (([-4, -1, -7],), -1)),
        "largest",
    ),
    BuggyProgram(
        "average",
        "Return the mean of a non-empty list of numbers.",
        "def average(xs):\n    total = 0\n    for x in xs:\n        total += x\n"
        "    return total // len(xs)\n",
        5,
        "return total / len(xs)",
        "// is floor division, which drops the fractional part of the mean",
        ((([1, 2],), 1.5), (([2, 4, 9],), 5.0), (([7],), 7.0)),
        "average",
    ),
    BuggyProgram(
        "count_vowels",
        "Return how many letters of a word are vowels (a, e, i, o, u), in any case.",
        "def count_vowels(word):\n    count = 0\n    for letter in word:\n"
        "        if letter in 'aeiou':\n            count += 1\n    return count\n",
        4,
        "if letter.lower() in 'aeiou':",
        "capital vowels are not in 'aeiou', so they are not counted",
        ((("Apple",), 2), (("sky",), 0), (("EAGLE",), 3)),
        "count_vowels",
    ),
    BuggyProgram(
        "running_total",
        "Return the list of running totals of a list: [1, 2, 3] gives [1, 3, 6].",
        "def running_total(xs):\n    out = []\n    total = 0\n    for x in xs:\n"
        "        total += x\n        out.append(x)\n    return out\n",
        6,
        "out.append(total)",
        "the loop appends each number x, not the total so far",
        ((([1, 2, 3],), [1, 3, 6]), (([],), []), (([5, -5],), [5, 0])),
        "running_total",
    ),
    BuggyProgram(
        "is_even",
        "Return True when n is even.",
        "def is_even(n):\n    return n % 2 == 1\n",
        2,
        "return n % 2 == 0",
        "n % 2 == 1 is true for odd numbers, not even ones",
        (((4,), True), ((7,), False), ((0,), True)),
        "is_even",
    ),
)


def run_tests(program: BuggyProgram, code: str) -> bool:
    """Whether ``code`` (the program's function, fixed or not) passes its tests.
    Runs the code: for our own programs and tests only, never a learner's text."""
    namespace: dict[str, Any] = {}
    exec(compile(code, f"<{program.id}>", "exec"), namespace)  # noqa: S102 - our own code
    function = namespace[program.name]
    try:
        return all(function(*args) == expected for args, expected in program.tests)
    except Exception:  # a crash is a failed test
        return False
