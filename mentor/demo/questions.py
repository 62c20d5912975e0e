"""Questions of the demo course: one template per skill, three levels each, and
lenient answer checking.

Generation is deterministic: :func:`question_for` seeds a NumPy generator from
the item, the learner and the attempt number (the learner's count of events in
the course when the question is asked), so the same attempt always shows the
same question, after a reload or a restart, and a test can compute the answer
the server expects.

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
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

#: How the answer is checked: by value, in lowest terms, in decimal notation, one of
#: the choices, or as text (case and spacing ignored; by value when both are numbers).
KINDS = ("number", "simplest", "decimal", "choice", "text")


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
    """

    text: str
    answer: str
    kind: str = "number"
    hint: str = "Type a number."
    choices: tuple[str, ...] = ()
    unit: str = ""

    def check(self, response: str) -> bool:
        """Whether ``response`` is a right answer (see the module docstring)."""
        return check_answer(self, response)


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


# ---------------------------------------------------------------------------- templates
Rng = np.random.Generator
Template = Callable[[Rng, int], Question]
TEMPLATES: dict[str, Template] = {}
FRACTION_HINT = "Type a whole number or a fraction such as 3/4."


def template(name: str) -> Callable[[Template], Template]:
    def register(fn: Template) -> Template:
        TEMPLATES[name] = fn
        return fn

    return register


def _int(rng: Rng, low: int, high: int) -> int:
    """A uniform integer in [low, high]."""
    return int(rng.integers(low, high + 1))


def _pick(rng: Rng, options: list[Any] | tuple[Any, ...]) -> Any:
    return options[int(rng.integers(len(options)))]


@template("count")
def _count(rng: Rng, level: int) -> Question:
    if level == 1:
        n = _int(rng, 1, 19)
        return Question(f"What number comes right after {n}?", str(n + 1))
    if level == 2:
        step = _pick(rng, (2, 5, 10))
        start = step * _int(rng, 0, 6)
        seq = ", ".join(str(start + step * k) for k in range(3))
        return Question(
            f"Count on in steps of {step}: {seq}, ... What comes next?", str(start + 3 * step)
        )
    step = _pick(rng, (1, 10))
    start = _int(rng, 35, 99)
    seq = ", ".join(str(start - step * k) for k in range(3))
    return Question(
        f"Count back in steps of {step}: {seq}, ... What comes next?", str(start - 3 * step)
    )


@template("add10")
def _add10(rng: Rng, level: int) -> Question:
    total = _int(rng, 2, 5 if level == 1 else 10)
    a = _int(rng, 1, total - 1)
    b = total - a
    if level < 3:
        return Question(f"{a} + {b} = ?", str(total))
    return Question(f"{a} + ? = {total}. What is the missing number?", str(b))


@template("sub10")
def _sub10(rng: Rng, level: int) -> Question:
    a = _int(rng, 2, 5 if level == 1 else 10)
    b = _int(rng, 1, a - 1)
    if level < 3:
        return Question(f"{a} \u2212 {b} = ?", str(a - b))
    return Question(f"{a} \u2212 ? = {a - b}. What is the missing number?", str(b))


@template("place_value")
def _place_value(rng: Rng, level: int) -> Question:
    if level == 1:
        n = _int(rng, 11, 99)
        return Question(f"How many tens are there in {n}?", str(n // 10))
    if level == 2:
        tens, ones = _int(rng, 1, 9), _int(rng, 0, 9)
        return Question(f"What number is {tens} tens and {ones} ones?", str(10 * tens + ones))
    digits = [int(d) for d in rng.permutation(np.arange(1, 10))[:4]]
    position = _int(rng, 0, 2)  # hundreds, tens or ones of the last three digits
    number = int("".join(map(str, digits)))
    digit = digits[1 + position]
    value = digit * 10 ** (2 - position)
    return Question(f"In the number {number}, what is the value of the digit {digit}?", str(value))


@template("add_carry")
def _add_carry(rng: Rng, level: int) -> Question:
    if level == 1:
        a = 10 * _int(rng, 1, 8) + _int(rng, 2, 9)
        b = _int(rng, 10 - a % 10, 9)
    elif level == 2:
        ones_a = _int(rng, 2, 9)
        a = 10 * _int(rng, 1, 6) + ones_a
        b = 10 * _int(rng, 1, 2) + _int(rng, 10 - ones_a, 9)
    else:
        a, b = _int(rng, 156, 689), _int(rng, 158, 299)
    return Question(f"{a} + {b} = ?", str(a + b))


@template("sub_borrow")
def _sub_borrow(rng: Rng, level: int) -> Question:
    if level == 1:
        a = 10 * _int(rng, 2, 9) + _int(rng, 0, 7)
        b = _int(rng, a % 10 + 1, 9)
    elif level == 2:
        a = 10 * _int(rng, 4, 9) + _int(rng, 0, 6)
        b = 10 * _int(rng, 1, a // 10 - 2) + _int(rng, a % 10 + 1, 9)
    else:
        a = 100 * _int(rng, 4, 9) + _int(rng, 0, 9)
        b = _int(rng, 111, a - 100)
    return Question(f"{a} \u2212 {b} = ?", str(a - b))


@template("mult_tables")
def _mult_tables(rng: Rng, level: int) -> Question:
    if level == 1:
        a, b = _pick(rng, (2, 5, 10)), _int(rng, 1, 10)
    elif level == 2:
        a, b = _int(rng, 2, 9), _int(rng, 2, 9)
    else:
        a, b = _int(rng, 6, 12), _int(rng, 6, 12)
    return Question(f"{a} \u00d7 {b} = ?", str(a * b))


@template("long_mult")
def _long_mult(rng: Rng, level: int) -> Question:
    if level == 1:
        b = _int(rng, 2, 4)
        a = 10 * _int(rng, 1, 9 // b) + _int(rng, 1, 9 // b)
    elif level == 2:
        a, b = _int(rng, 13, 97), _int(rng, 3, 9)
    else:
        a, b = _int(rng, 12, 49), _int(rng, 12, 39)
    return Question(f"{a} \u00d7 {b} = ?", str(a * b))


@template("division")
def _division(rng: Rng, level: int) -> Question:
    if level == 1:
        b, q = _pick(rng, (2, 5, 10)), _int(rng, 1, 10)
    elif level == 2:
        b, q = _int(rng, 3, 9), _int(rng, 2, 9)
    else:
        b, q = _int(rng, 3, 9), _int(rng, 12, 99)
    return Question(f"{b * q} \u00f7 {b} = ?", str(q))


@template("fractions")
def _fractions(rng: Rng, level: int) -> Question:
    if level == 1:
        parts = _pick(rng, (2, 3, 4, 6, 8))
        eaten = _int(rng, 1, parts - 1)
        text = (
            f"A pizza is cut into {parts} equal slices. You eat {eaten}. "
            "What fraction of the pizza did you eat?"
        )
        return Question(text, fmt(Fraction(eaten, parts)), hint=FRACTION_HINT)
    if level == 2:
        parts = _int(rng, 3, 9)
        shaded = _int(rng, 1, parts - 1)
        bar = "\u25a0" * shaded + "\u25a1" * (parts - shaded)
        verb = "is" if shaded == 1 else "are"
        text = (
            f"A bar is split into {parts} equal parts; {shaded} {verb} shaded ({bar}). "
            "What fraction of the bar is shaded?"
        )
        return Question(text, fmt(Fraction(shaded, parts)), hint=FRACTION_HINT)
    pupils = _int(rng, 10, 30)
    some = _int(rng, 1, pupils - 1)
    verb = "walks" if some == 1 else "walk"
    text = (
        f"A class has {pupils} pupils; {some} {verb} to school. "
        "What fraction of the class walks to school?"
    )
    return Question(text, fmt(Fraction(some, pupils)), hint=FRACTION_HINT)


@template("fraction_of")
def _fraction_of(rng: Rng, level: int) -> Question:
    if level == 1:
        d, n = _pick(rng, (2, 4, 10)), 1
    elif level == 2:
        d, n = _int(rng, 3, 9), 1
    else:
        d = _int(rng, 3, 8)
        n = _int(rng, 2, d - 1)
        while math.gcd(n, d) != 1:
            n = _int(rng, 2, d - 1)
    whole = d * _int(rng, 2, 12)
    return Question(f"What is {n}/{d} of {whole}?", fmt(Fraction(n * whole, d)))


@template("equivalent")
def _equivalent(rng: Rng, level: int) -> Question:
    d = _int(rng, 2, 7)
    n = _int(rng, 1, d - 1)
    while math.gcd(n, d) != 1:
        n = _int(rng, 1, d - 1)
    k = _int(rng, 2, 6)
    if level == 1:
        return Question(f"{n}/{d} = ?/{d * k}. What is the missing number?", str(n * k))
    if level == 2:
        return Question(f"{n}/{d} = {n * k}/?. What is the missing number?", str(d * k))
    text = f"Write {n * k}/{d * k} in simplest form."
    hint = "Type a fraction in lowest terms, such as 3/4."
    return Question(text, fmt(Fraction(n, d)), kind="simplest", hint=hint)


def _proper(rng: Rng, denominators: tuple[int, ...]) -> Fraction:
    d = _pick(rng, denominators)
    return Fraction(_int(rng, 1, d - 1), d)


@template("compare")
def _compare(rng: Rng, level: int) -> Question:
    if level == 1:
        d = _int(rng, 3, 12)
        a, b = rng.choice(np.arange(1, d), size=2, replace=False).tolist()
        left, right = f"{a}/{d}", f"{b}/{d}"
        values = Fraction(a, d), Fraction(b, d)
    elif level == 2:
        n = _int(rng, 1, 4)
        a, b = rng.choice(np.arange(n + 1, 13), size=2, replace=False).tolist()
        left, right = f"{n}/{a}", f"{n}/{b}"
        values = Fraction(n, a), Fraction(n, b)
    else:
        x, y = _proper(rng, (3, 4, 5, 6, 8)), _proper(rng, (3, 4, 5, 6, 7, 9, 10))
        dx, dy = x.denominator * _int(rng, 1, 2), y.denominator
        left = f"{x.numerator * (dx // x.denominator)}/{dx}"
        right = f"{y.numerator}/{dy}"
        values = x, y
    sign = "<" if values[0] < values[1] else ">" if values[0] > values[1] else "="
    return Question(
        f"Which sign goes between {left} and {right}? ({left} ? {right})",
        sign,
        kind="choice",
        hint="Choose <, = or >.",
        choices=("<", "=", ">"),
    )


@template("add_like")
def _add_like(rng: Rng, level: int) -> Question:
    d = _int(rng, 3, 12)
    if level == 1:
        a = _int(rng, 1, d - 2)
        b = _int(rng, 1, d - 1 - a)
        text, value = f"{a}/{d} + {b}/{d} = ?", Fraction(a + b, d)
    elif level == 2:
        a = _int(rng, 2, d - 1)
        b = _int(rng, 1, a - 1)
        text, value = f"{a}/{d} \u2212 {b}/{d} = ?", Fraction(a - b, d)
    else:
        a, b = _int(rng, d // 2 + 1, d - 1), _int(rng, d // 2 + 1, d - 1)
        text, value = f"{a}/{d} + {b}/{d} = ?", Fraction(a + b, d)
    return Question(text, fmt(value), hint=FRACTION_HINT)


@template("add_unlike")
def _add_unlike(rng: Rng, level: int) -> Question:
    if level == 1:
        d = _int(rng, 2, 5)
        x = Fraction(_int(rng, 1, d - 1), d)
        k = _int(rng, 2, 3)
        y = Fraction(1, d * k)
        text, value = f"{fmt(x)} + {fmt(y)} = ?", x + y
    else:
        a, b = rng.choice([2, 3, 4, 5, 7], size=2, replace=False).tolist()
        x, y = Fraction(_int(rng, 1, a - 1), a), Fraction(_int(rng, 1, b - 1), b)
        while x == y:
            x, y = Fraction(_int(rng, 1, a - 1), a), Fraction(_int(rng, 1, b - 1), b)
        if level == 2:
            text, value = f"{fmt(x)} + {fmt(y)} = ?", x + y
        else:
            x, y = max(x, y), min(x, y)
            text, value = f"{fmt(x)} \u2212 {fmt(y)} = ?", x - y
    return Question(text, fmt(value), hint=FRACTION_HINT)


@template("mult_fractions")
def _mult_fractions(rng: Rng, level: int) -> Question:
    if level == 1:
        n, x = _int(rng, 2, 5), _proper(rng, (3, 4, 5, 6, 8))
        text, value = f"{n} \u00d7 {fmt(x)} = ?", n * x
    elif level == 2:
        x, y = _proper(rng, (2, 3, 4, 5)), _proper(rng, (3, 4, 5, 6, 7))
        text, value = f"{fmt(x)} \u00d7 {fmt(y)} = ?", x * y
    else:
        whole, part = _int(rng, 1, 2), _proper(rng, (2, 3, 4))
        y = _proper(rng, (3, 4, 5))
        mixed = f"{whole} {fmt(part)}"
        text, value = f"{mixed} \u00d7 {fmt(y)} = ?", (whole + part) * y
    return Question(text, fmt(value), hint=FRACTION_HINT)


@template("decimals")
def _decimals(rng: Rng, level: int) -> Question:
    if level == 1:
        d = _pick(rng, (2, 4, 5, 10, 20, 25))
        x = Fraction(_int(rng, 1, d - 1), d)
        while x.denominator != d:
            x = Fraction(_int(rng, 1, d - 1), d)
        return Question(
            f"Write {x.numerator}/{x.denominator} as a decimal.",
            fmt_decimal(x),
            kind="decimal",
            hint="Type a decimal such as 0.75.",
        )
    if level == 2:
        x, y = Fraction(_int(rng, 1, 9), 10), Fraction(_int(rng, 1, 99), 100)
        text, value = f"{fmt_decimal(x)} + {fmt_decimal(y)} = ?", x + y
    else:
        x, y = Fraction(_int(rng, 11, 39), 10), Fraction(_int(rng, 2, 9), 10)
        text, value = f"{fmt_decimal(x)} \u00d7 {fmt_decimal(y)} = ?", x * y
    return Question(text, fmt_decimal(value), hint="Type a decimal such as 0.75.")


@template("percentages")
def _percentages(rng: Rng, level: int) -> Question:
    if level == 1:
        percent = _pick(rng, (10, 25, 50))
        whole = _pick(rng, (20, 40, 60, 80, 100, 200))
        return Question(f"What is {percent}% of {whole}?", fmt(Fraction(percent * whole, 100)))
    if level == 2:
        percent = 5 * _int(rng, 1, 19)
        price = 20 * _int(rng, 1, 10)
        text = f"A jacket costs ${price} and is {percent}% off. What is the sale price, in dollars?"
        return Question(text, fmt(Fraction(price * (100 - percent), 100)), unit="$")
    percent = _pick(rng, (10, 20, 25, 40, 50, 60, 75))
    whole = 20 * _int(rng, 1, 10)
    part = Fraction(percent * whole, 100)
    return Question(
        f"What percentage of {whole} is {fmt(part)}?",
        str(percent),
        hint="Type a number; the % sign is optional.",
        unit="%",
    )


# ---------------------------------------------------------------------------- items
def seed_for(item: Any, learner: Any, attempt: int) -> np.random.Generator:
    """The generator of the question of ``item`` for ``learner`` at ``attempt``."""
    key = "\x1f".join((str(item), str(learner), str(int(attempt)))).encode("utf-8")
    words = np.frombuffer(hashlib.sha256(key).digest(), dtype=np.uint32)
    return np.random.default_rng(np.random.SeedSequence(words.tolist()))


def generate(name: str, level: int, rng: np.random.Generator) -> Question:
    """A question of template ``name`` at ``level`` (1 to 3), drawn with ``rng``."""
    if name not in TEMPLATES:
        raise KeyError(f"unknown question template {name!r}")
    return TEMPLATES[name](rng, max(1, min(3, int(level))))


def question_for(
    item_id: Any, attributes: Mapping[str, Any], learner: Any, attempt: int
) -> Question | None:
    """The question an item shows ``learner`` at ``attempt`` (their number of events
    in the course so far), or None when the item names no known template.

    An item names its template and level in its attributes:
    ``{"template": "add10", "level": 2}``.
    """
    name = attributes.get("template")
    if not isinstance(name, str) or name not in TEMPLATES:
        return None
    level = attributes.get("level", 1)
    try:
        level = int(level)
    except (TypeError, ValueError):
        level = 1
    return generate(name, level, seed_for(item_id, learner, attempt))
