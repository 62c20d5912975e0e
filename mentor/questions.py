"""A question with a checkable answer, the steps that lead to it, and the wrong
answers that betray a known misconception.

This is the service's question type: the server shows :attr:`Question.text`,
checks answers with :meth:`Question.check`, and the Socratic tutor
(:mod:`mentor.tutor`) asks the :attr:`Question.steps` as sub-questions and reads
:attr:`Question.misconceptions` to diagnose a wrong answer. Question
generators (the demo course's in :mod:`mentor.demo.questions`, or a course's
own) build them; nothing here imports the web stack.

Answers are checked leniently, by value:

- spaces anywhere are ignored, and so are a leading ``$``, a trailing ``%``
  where the question asks for dollars or a percentage, and a trailing ``.``;
- numbers may be written as integers, decimals (``0.75``, ``.75``), fractions
  (``3/4``), mixed numbers (``1 1/2``) or with thousands separators
  (``1,250``); a comma not followed by exactly three digits is a decimal
  comma (``0,75``);
- an answer that is a number or a fraction is right when its value is right:
  ``6/8`` is accepted for ``3/4``, and so are ``0.75`` and ``1 1/2`` for ``3/2``.
  The value is what these questions ask for; the form is marked only where the
  question asks for one: "in simplest form" needs a fraction in lowest terms
  (``3/4``, not ``6/8`` nor ``0.75``), "as a decimal" needs decimal notation;
- comparisons take ``<``, ``>`` or ``=`` (or the words less, greater, equal);
- a ``text`` answer (a course's own question with a written answer) ignores case
  and spacing, and compares by value when both are numbers.

Misconceptions are matched the same way, by value: a wrong answer equal in value
to the answer a misconception would give (``2/7`` for ``1/3 + 1/4`` when the
denominators were added) names that misconception and the step that exposes it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

#: How the answer is checked: by value, in lowest terms, in decimal notation, one of
#: the choices, or as text (case and spacing ignored; by value when both are numbers).
KINDS = ("number", "simplest", "decimal", "choice", "text")


@dataclass(frozen=True)
class Step:
    """One sub-step of a question, asked as a sub-question of its own.

    Attributes
    ----------
    id
        Names the step within its question (``"common_denominator"``).
    prompt
        The sub-question, with the question's own numbers.
    answer
        Its canonical answer.
    concept
        What the learner has to realise, stated with the answer (a teaching hint:
        shown only after the hint ladder, see :mod:`mentor.tutor`).
    nudge
        A hint that points the way without giving the step's answer.
    skill
        The course skill the step exercises (``"equivalent"``); empty: the item's own.
    kind
        How the step's answer is checked (see :data:`KINDS`).
    choices
        The options of a ``choice`` step.
    """

    id: str
    prompt: str
    answer: str
    concept: str
    nudge: str
    skill: str = ""
    kind: str = "number"
    choices: tuple[str, ...] = ()

    def question(self) -> Question:
        """The step as a question of its own (to check an answer with)."""
        hint = "Choose one." if self.kind == "choice" else "Type a number."
        return Question(self.prompt, self.answer, self.kind, hint, self.choices)


@dataclass(frozen=True)
class Misconception:
    """A known misconception, as the wrong answer it produces for one question.

    Attributes
    ----------
    id
        The misconception's name (``"add_denominators"``).
    answer
        The answer a learner holding it gives to this question.
    step
        The id of the step whose sub-question exposes it.
    text
        What the learner did, in words (``"added the denominators too"``).
    """

    id: str
    answer: str
    step: str
    text: str


@dataclass(frozen=True)
class Question:
    """One generated question.

    Attributes
    ----------
    text
        The question, plain text.
    answer
        The expected answer in its canonical form (``"12"``, ``"3/4"``, ``">"``).
    kind
        How answers are checked (see the module docstring): ``number``,
        ``simplest``, ``decimal`` or ``choice``.
    hint
        How to type the answer.
    choices
        The options of a ``choice`` question.
    unit
        ``"$"`` or ``"%"`` when the answer may carry that sign.
    steps
        The sub-steps that lead to the answer (:class:`Step`), in working order.
    misconceptions
        Wrong answers that betray a known misconception (:class:`Misconception`).
    """

    text: str
    answer: str
    kind: str = "number"
    hint: str = "Type a number."
    choices: tuple[str, ...] = ()
    unit: str = ""
    steps: tuple[Step, ...] = ()
    misconceptions: tuple[Misconception, ...] = ()

    def check(self, response: str) -> bool:
        """Whether ``response`` is a right answer (see the module docstring)."""
        return check_answer(self, response)

    def diagnose(self, response: str) -> tuple[Misconception, ...]:
        """The misconceptions whose wrong answer ``response`` matches (by value, the
        same choice, or the same text for an answer that is no number, such as
        ``2/0``); empty for a right answer or an unknown slip."""
        if check_answer(self, response):
            return ()
        found = []
        for m in self.misconceptions:
            probe = Question(
                self.text,
                m.answer,
                "choice" if self.kind == "choice" else "number",
                choices=self.choices,
                unit=self.unit,
            )
            same_text = "".join(response.split()) == "".join(m.answer.split())
            if same_text or check_answer(probe, response):
                found.append(m)
        return tuple(found)

    def step(self, step_id: str) -> Step:
        """The step called ``step_id`` (KeyError if none)."""
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(f"question has no step {step_id!r}")


# ---------------------------------------------------------------------------- parsing
_INT = r"[+-]?\d+"
_DECIMAL = r"[+-]?(?:\d+\.\d*|\.\d+|\d+)"
_FRACTION = re.compile(rf"^({_INT})/(\d+)$")
_MIXED = re.compile(r"^([+-]?\d+)\s+(\d+)/(\d+)$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_WORDS = {
    "<": "<",
    "less": "<",
    "lessthan": "<",
    "smaller": "<",
    ">": ">",
    "greater": ">",
    "greaterthan": ">",
    "more": ">",
    "larger": ">",
    "bigger": ">",
    "=": "=",
    "equal": "=",
    "equals": "=",
    "same": "=",
}


def _normalise(text: str, unit: str = "") -> str:
    text = text.strip().replace("\u2212", "-").replace("\u2044", "/").replace("\u2215", "/")
    text = re.sub(r"\s+", " ", text)
    if unit == "$":
        text = text.removeprefix("$").strip()
        text = text.removesuffix("dollars").strip()
    if unit == "%":
        text = text.removesuffix("%").removesuffix("percent").strip()
    return text.rstrip(".") if not text.endswith("..") else text


def parse_number(text: str, unit: str = "") -> Fraction | None:
    """The exact value of a typed number, or None if it is not one.

    Integers, decimals, fractions ``a/b``, mixed numbers ``a b/c``, thousands
    separators; see the module docstring.
    """
    text = re.sub(r"\s*/\s*", "/", _normalise(text, unit))
    mixed = _MIXED.match(text)
    if mixed:
        whole, num, den = (int(g) for g in mixed.groups())
        if den == 0:
            return None
        part = Fraction(num, den)
        return whole - part if text.startswith("-") else whole + part
    text = text.replace(" ", "")
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    elif text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    fraction = _FRACTION.match(text)
    if fraction:
        num, den = int(fraction.group(1)), int(fraction.group(2))
        return None if den == 0 else Fraction(num, den)
    if re.fullmatch(_DECIMAL, text):
        return Fraction(text)
    return None


def check_answer(question: Question, response: str) -> bool:
    """Whether ``response`` answers ``question`` (see the module docstring)."""
    if question.kind == "choice":
        word = re.sub(r"[\s_-]+", "", response.strip().lower())
        return _WORDS.get(word, word) == question.answer
    value = parse_number(response, question.unit)
    expected = parse_number(question.answer)
    if question.kind == "text" and (value is None or expected is None):

        def words(text: str) -> str:
            return " ".join(text.casefold().split()).rstrip(".")

        return bool(response.strip()) and words(response) == words(question.answer)
    if value is None or expected is None or value != expected:
        return False
    text = re.sub(r"\s*/\s*", "/", _normalise(response, question.unit))
    if question.kind == "simplest":
        if value.denominator == 1:
            return "/" not in text
        mixed = _MIXED.match(text)
        if mixed:
            return math.gcd(int(mixed.group(2)), int(mixed.group(3))) == 1
        fraction = _FRACTION.match(text.replace(" ", ""))
        return bool(fraction) and math.gcd(int(fraction.group(1)), int(fraction.group(2))) == 1
    if question.kind == "decimal":
        return "/" not in text
    return True


def fmt(value: Fraction | int) -> str:
    """A value as the canonical answer: an integer, or a fraction in lowest terms."""
    value = Fraction(value)
    if value.denominator == 1:
        return str(value.numerator)
    return f"{value.numerator}/{value.denominator}"


def fmt_decimal(value: Fraction) -> str:
    """A terminating decimal, without trailing zeros (``0.75``)."""
    text = f"{float(value):.6f}".rstrip("0").rstrip(".")
    if Fraction(text) != value:
        raise ValueError(f"{value} is not a short decimal")
    return text
