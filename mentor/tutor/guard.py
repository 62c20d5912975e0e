"""The guard against giving the answer away: every question or hint the tutor is
about to send is checked against the answers it must not reveal.

TreeInstruct's tutor is told never to give the fix; a language model asked so
still does it now and then, so mentor checks every generated line itself and
never sends one that reveals (:class:`~mentor.tutor.llm.LLMPlanner` asks again,
then falls back to a template question).

A text reveals an answer when

- the answer is a number (``12``, ``3/4``, ``0.75``) and a number of equal value
  appears in the text as a token of its own (``3/4`` is revealed by ``6/8`` too),
  unless the question itself writes that token so;
- the answer is text (a line of code, a phrase) and the text contains it once
  spaces and case are ignored (``range(1,n+1)`` is revealed by
  ``range(1, n + 1)``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from mentor.questions import parse_number

_NUMBER = re.compile(r"(?<![\w.])[+-]?\d+(?:\.\d+)?(?:\s*/\s*\d+)?(?![\w.]*\d)")


def _squash(text: str) -> str:
    return "".join(text.split()).casefold()


def numbers_in(text: str) -> list[str]:
    """The number tokens of ``text`` (integers, decimals, fractions)."""
    return [m.group(0) for m in _NUMBER.finditer(text)]


def reveals(text: str, answers: Iterable[str], given: str = "") -> str | None:
    """The first of ``answers`` that ``text`` gives away, or None (see the module
    docstring). Numbers written as they already appear in ``given`` (the question
    itself), alone or as the parts of a fraction, do not count: repeating the
    question's own numbers reveals nothing. The same value written otherwise does:
    ``0.3`` gives away the answer of "Write 3/10 as a decimal.", ``3/4`` that of
    "Simplify 6/8"."""
    known = {_squash(t) for t in numbers_in(given)}
    known |= set(re.findall(r"\d+(?:\.\d+)?", given))
    tokens = [parse_number(t) for t in numbers_in(text) if _squash(t) not in known]
    squashed = _squash(text)
    if given and answers:
        squashed = squashed.replace(_squash(given), " ")
    for answer in answers:
        value = parse_number(answer)
        if value is not None:
            if any(t is not None and t == value for t in tokens):
                return answer
        elif answer.strip() and _squash(answer) in squashed:
            return answer
    return None
