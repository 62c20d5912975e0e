"""Questions of the demo course: one template per skill, three levels each, each
question with its steps and the wrong answers of common misconceptions.

Generation is deterministic: :func:`question_for` seeds a NumPy generator from
the item, the learner and the attempt number (the learner's count of events in
the course when the question is asked), so the same attempt always shows the
same question, after a reload or a restart, and a test can compute the answer
the server expects.

Answers are checked leniently, by value (:mod:`mentor.questions`, where the
question type lives). Every question also knows how it is worked out: its
:class:`~mentor.questions.Step` list (for ``1/3 + 1/4``: a common denominator,
each fraction converted, the numerators added) with each step's answer, the
course skill it exercises, a nudge and the concept to teach; and the wrong
answers that common misconceptions of arithmetic and fractions produce
(adding denominators, place-value slips, borrowing and carrying errors, the
fraction bar read as a decimal point, ...), each tied to the step that
exposes it. The Socratic tutor (:mod:`mentor.tutor`) asks those steps.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

import numpy as np

from mentor.questions import (
    KINDS,
    Misconception,
    Question,
    Step,
    check_answer,
    fmt,
    fmt_decimal,
    parse_number,
)

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


def _digits(n: int) -> list[int]:
    """The digits of ``n``, ones first."""
    return [int(d) for d in reversed(str(n))]


def _columns(a: int, b: int, op: Callable[[int, int], int]) -> int:
    """Each column (ones, tens, ...) of ``a`` and ``b`` worked alone with ``op``, the
    results written side by side with no carrying or borrowing: the column slips."""
    da, db = _digits(a), _digits(b)
    width = max(len(da), len(db))
    da += [0] * (width - len(da))
    db += [0] * (width - len(db))
    return int("".join(str(op(x, y)) for x, y in zip(reversed(da), reversed(db), strict=True)))


def _m(id: str, value: Fraction | int | str, step: str, text: str) -> Misconception:
    answer = value if isinstance(value, str) else fmt(value)
    return Misconception(id, answer, step, text)


def _unique(question: Question) -> Question:
    """``question`` without misconceptions whose answer is right, or repeats an earlier one."""
    kept: list[Misconception] = []
    for m in question.misconceptions:
        probe = Question(question.text, m.answer, question.kind, choices=question.choices)
        if check_answer(question, m.answer) or any(check_answer(probe, k.answer) for k in kept):
            continue
        kept.append(m)
    return Question(
        question.text,
        question.answer,
        question.kind,
        question.hint,
        question.choices,
        question.unit,
        question.steps,
        tuple(kept),
    )


_COUNT_ON = "counting on from the first number counted it too"


@template("count")
def _count(rng: Rng, level: int) -> Question:
    if level == 1:
        n = _int(rng, 1, 19)
        steps = (
            Step(
                "one_more",
                f"What is {n} + 1?",
                str(n + 1),
                f"The number right after {n} is one more: {n} + 1 = {n + 1}.",
                "The next number is always one more.",
                "count",
            ),
        )
        return _unique(
            Question(
                f"What number comes right after {n}?",
                str(n + 1),
                steps=steps,
                misconceptions=(
                    _m("counts_back", n - 1, "one_more", "counted back instead of on"),
                ),
            )
        )
    if level == 2:
        step = _pick(rng, (2, 5, 10))
        start = step * _int(rng, 0, 6)
        seq = ", ".join(str(start + step * k) for k in range(3))
        last = start + 2 * step
        steps = (
            Step(
                "step_size",
                f"In {seq}, how much bigger is each number than the one before?",
                str(step),
                f"Each number is {step} more than the one before.",
                f"Subtract the first number from the second: {start + step} \u2212 {start}.",
                "count",
            ),
            Step(
                "add_step",
                f"What is {last} + {step}?",
                str(last + step),
                f"The next number is {step} more than {last}: {last + step}.",
                "Add the step to the last number.",
                "add_carry" if step == 10 else "add10",
            ),
        )
        return _unique(
            Question(
                f"Count on in steps of {step}: {seq}, ... What comes next?",
                str(start + 3 * step),
                steps=steps,
                misconceptions=(
                    _m(
                        "counts_by_one", last + 1, "step_size", "counted on by one, not by the step"
                    ),
                ),
            )
        )
    step = _pick(rng, (1, 10))
    start = _int(rng, 35, 99)
    seq = ", ".join(str(start - step * k) for k in range(3))
    last = start - 2 * step
    steps = (
        Step(
            "step_size",
            f"In {seq}, how much smaller is each number than the one before?",
            str(step),
            f"Each number is {step} less than the one before.",
            f"Subtract the second number from the first: {start} \u2212 {start - step}.",
            "count",
        ),
        Step(
            "take_step",
            f"What is {last} \u2212 {step}?",
            str(last - step),
            f"Counting back one step of {step} from {last} gives {last - step}.",
            "Take the step away from the last number.",
            "sub_borrow" if step == 10 else "sub10",
        ),
    )
    return _unique(
        Question(
            f"Count back in steps of {step}: {seq}, ... What comes next?",
            str(start - 3 * step),
            steps=steps,
            misconceptions=(
                _m("counts_on", last + step, "step_size", "counted on (up) instead of back"),
            ),
        )
    )


@template("add10")
def _add10(rng: Rng, level: int) -> Question:
    total = _int(rng, 2, 5 if level == 1 else 10)
    a = _int(rng, 1, total - 1)
    b = total - a
    one_more = Step(
        "one_more",
        f"What is {a} + 1?",
        str(a + 1),
        f"Counting on one from {a} gives {a + 1}.",
        f"Say the number after {a}.",
        "count",
    )
    if level < 3:
        steps = (
            one_more,
            Step(
                "count_on",
                f"Start at {a} and count on {b} more. Where do you stop?",
                str(total),
                f"From {a}, counting on {b} numbers ends at {total}.",
                f"Hold up {b} fingers and say one number for each, after {a}.",
                "add10",
            ),
        )
        return _unique(
            Question(
                f"{a} + {b} = ?",
                str(total),
                steps=steps,
                misconceptions=(
                    _m("counted_start", total - 1, "count_on", _COUNT_ON),
                    _m("subtracted", abs(a - b), "count_on", "took away instead of adding"),
                ),
            )
        )
    steps = (
        Step(
            "think_difference",
            f"How many do you count on from {a} to reach {total}?",
            str(b),
            f"From {a} to {total} is {b} steps.",
            f"Count up from {a} to {total} on your fingers.",
            "add10",
        ),
    )
    return _unique(
        Question(
            f"{a} + ? = {total}. What is the missing number?",
            str(b),
            steps=steps,
            misconceptions=(
                _m("added_both", a + total, "think_difference", "added the two numbers shown"),
                _m("gave_total", total, "think_difference", "gave the total, not the missing part"),
            ),
        )
    )


@template("sub10")
def _sub10(rng: Rng, level: int) -> Question:
    a = _int(rng, 2, 5 if level == 1 else 10)
    b = _int(rng, 1, a - 1)
    if level < 3:
        steps = (
            Step(
                "one_less",
                f"What is one less than {a}?",
                str(a - 1),
                f"One less than {a} is {a - 1}.",
                f"Say the number just before {a}.",
                "count",
            ),
            Step(
                "count_back",
                f"Start at {a} and count back {b}. Where do you stop?",
                str(a - b),
                f"Counting back {b} from {a} ends at {a - b}.",
                f"Say one number for each of the {b} you take away, going down from {a}.",
                "sub10",
            ),
        )
        return _unique(
            Question(
                f"{a} \u2212 {b} = ?",
                str(a - b),
                steps=steps,
                misconceptions=(
                    _m("added", a + b, "count_back", "added instead of taking away"),
                    _m("counted_start", a - b + 1, "count_back", "counted the starting number too"),
                ),
            )
        )
    steps = (
        Step(
            "think_difference",
            f"What is {a} \u2212 {a - b}?",
            str(b),
            f"Taking {a - b} from {a} leaves {b}, so {b} is the missing number.",
            f"How many do you count on from {a - b} to get back to {a}?",
            "sub10",
        ),
    )
    return _unique(
        Question(
            f"{a} \u2212 ? = {a - b}. What is the missing number?",
            str(b),
            steps=steps,
            misconceptions=(
                _m("added_both", a + (a - b), "think_difference", "added the two numbers shown"),
            ),
        )
    )


_PLACES = {0: "ones", 1: "tens", 2: "hundreds", 3: "thousands"}


@template("place_value")
def _place_value(rng: Rng, level: int) -> Question:
    if level == 1:
        n = _int(rng, 11, 99)
        steps = (
            Step(
                "tens_digit",
                f"In {n}, which digit is on the left (the tens place)?",
                str(n // 10),
                f"In {n}, the left digit {n // 10} counts the tens.",
                "A two-digit number is written tens first, then ones.",
                "place_value",
            ),
        )
        return _unique(
            Question(
                f"How many tens are there in {n}?",
                str(n // 10),
                steps=steps,
                misconceptions=(
                    _m(
                        "place_value_slip",
                        n % 10,
                        "tens_digit",
                        "gave the ones digit (a place-value slip)",
                    ),
                ),
            )
        )
    if level == 2:
        tens, ones = _int(rng, 1, 9), _int(rng, 0, 9)
        steps = (
            Step(
                "tens_worth",
                f"How much are {tens} tens worth?",
                str(10 * tens),
                f"{tens} tens are {tens} \u00d7 10 = {10 * tens}.",
                "One ten is worth 10.",
                "place_value",
            ),
            Step(
                "add_ones",
                f"What is {10 * tens} + {ones}?",
                str(10 * tens + ones),
                f"{10 * tens} and {ones} ones make {10 * tens + ones}.",
                "The ones go in the ones place.",
                "add_carry",
            ),
        )
        return _unique(
            Question(
                f"What number is {tens} tens and {ones} ones?",
                str(10 * tens + ones),
                steps=steps,
                misconceptions=(
                    _m(
                        "place_value_slip",
                        tens + ones,
                        "tens_worth",
                        "added the digits, as if tens were ones (a place-value slip)",
                    ),
                    _m(
                        "swapped_places",
                        10 * ones + tens,
                        "tens_worth",
                        "swapped the tens and the ones",
                    ),
                ),
            )
        )
    digits = [int(d) for d in rng.permutation(np.arange(1, 10))[:4]]
    position = _int(rng, 0, 2)  # hundreds, tens or ones of the last three digits
    number = int("".join(map(str, digits)))
    digit = digits[1 + position]
    value = digit * 10 ** (2 - position)
    place = _PLACES[2 - position]
    unit = 10 ** (2 - position)
    steps = (
        Step(
            "which_place",
            f"In {number}, how much is one unit of the place the digit {digit} "
            f"is in worth? (1, 10 or 100)",
            str(unit),
            f"The {digit} in {number} is in the {place} place, and one of those is worth {unit}.",
            "Count the places from the right: ones, tens, hundreds.",
            "place_value",
        ),
        Step(
            "times_place",
            f"What is {digit} \u00d7 {unit}?",
            str(value),
            f"{digit} {place} are worth {digit} \u00d7 {unit} = {value}.",
            "Multiplying by 10 or 100 puts zeros after the digit.",
            "mult_tables",
        ),
    )
    return _unique(
        Question(
            f"In the number {number}, what is the value of the digit {digit}?",
            str(value),
            steps=steps,
            misconceptions=(
                _m(
                    "digit_not_value",
                    digit,
                    "which_place",
                    "gave the digit, not its value (a place-value slip)",
                ),
                _m(
                    "place_off_by_one",
                    digit * 10 ** (3 - position),
                    "which_place",
                    "counted the place one too far (a place-value slip)",
                ),
            ),
        )
    )


def _carry_steps(a: int, b: int) -> tuple[Step, ...]:
    """The column steps of ``a + b``, whose ones must carry (the skill's point: the
    prompts say a ten is carried)."""
    ones = a % 10 + b % 10
    if ones < 10:
        raise ValueError(f"{a} + {b}: the ones do not carry")
    tens = a // 10 % 10 + b // 10 % 10 + 1
    steps = [
        Step(
            "ones_column",
            f"Add the ones first: {a % 10} + {b % 10} = ?",
            str(ones),
            f"The ones make {ones}: write {ones % 10} and carry 1 ten.",
            "Add only the last digits.",
            "add10" if ones <= 10 else "add_carry",
        ),
        Step(
            "carry_tens",
            f"{ones} ones are 1 ten and {ones % 10} ones. Now add the tens with "
            f"the carried one: {a // 10 % 10} + {b // 10 % 10} + 1 = ?",
            str(tens),
            f"The tens make {a // 10 % 10} + {b // 10 % 10} + 1 = {tens}.",
            "Don't forget the ten you carried.",
            "add_carry",
        ),
    ]
    if a >= 100 or b >= 100:
        hundreds = a // 100 + b // 100 + tens // 10
        steps.append(
            Step(
                "carry_hundreds",
                f"The tens make {tens}: write {tens % 10} and carry "
                f"{tens // 10}. Now the hundreds: {a // 100} + {b // 100} + {tens // 10}"
                " = ?",
                str(hundreds),
                f"The hundreds make {hundreds}.",
                "Add the carried hundred too.",
                "add_carry",
            )
        )
    return tuple(steps)


@template("add_carry")
def _add_carry(rng: Rng, level: int) -> Question:
    if level == 1:
        a = 10 * _int(rng, 1, 8) + _int(rng, 2, 9)
        b = _int(rng, 10 - a % 10, 9)
    elif level == 2:
        ones_a = _int(rng, 2, 9)
        a = 10 * _int(rng, 1, 6) + ones_a
        b = 10 * _int(rng, 1, 2) + _int(rng, 10 - ones_a, 9)
    else:  # three digits, the ones carrying (a in 102..699, b in 101..299)
        a = 100 * _int(rng, 1, 6) + 10 * _int(rng, 0, 9) + _int(rng, 2, 9)
        b = 100 * _int(rng, 1, 2) + 10 * _int(rng, 0, 9) + _int(rng, 10 - a % 10, 9)
    return _unique(
        Question(
            f"{a} + {b} = ?",
            str(a + b),
            steps=_carry_steps(a, b),
            misconceptions=(
                _m(
                    "no_carry",
                    _columns(a, b, lambda x, y: (x + y) % 10),
                    "carry_tens",
                    "dropped the carried ten",
                ),
                _m(
                    "column_sums",
                    _columns(a, b, lambda x, y: x + y),
                    "carry_tens",
                    "wrote each column's whole sum, no carrying (a place-value slip)",
                ),
            ),
        )
    )


def _borrow_steps(a: int, b: int) -> tuple[Step, ...]:
    """The column steps of ``a - b``, whose ones must borrow (the skill's point: the
    first prompt says so); a three-digit ``a`` gets a tens and a hundreds step, the
    tens borrowing from the hundreds where they must."""
    a1, b1 = a % 10, b % 10
    if a1 >= b1 or b >= a:
        raise ValueError(f"{a} \u2212 {b}: the ones do not borrow")
    steps = [
        Step(
            "borrow_ones",
            f"In the ones, {a1} is less than {b1}, so borrow a ten: what is {a1 + 10} \u2212 {b1}?",
            str(a1 + 10 - b1),
            f"Borrowing a ten makes {a1 + 10} ones, and {a1 + 10} \u2212 {b1} = {a1 + 10 - b1}.",
            f"You cannot take {b1} from {a1}: take one ten from the tens first.",
            "sub_borrow",
        ),
    ]
    a10, b10 = a // 10 % 10, b // 10 % 10
    if a >= 100:
        a100, b100 = a // 100, b // 100
        if a10 == 0:
            steps.append(
                Step(
                    "tens_left",
                    f"The tens column of {a} has 0 to lend, so it "
                    "borrows a hundred first: 10 tens, less the ten lent to the "
                    f"ones, leave 9. What is 9 \u2212 {b10}?",
                    str(9 - b10),
                    f"The tens become 9 and 9 \u2212 {b10} = {9 - b10}.",
                    "A hundred is ten tens.",
                    "sub_borrow",
                )
            )
        elif a10 - 1 < b10:
            steps.append(
                Step(
                    "tens_left",
                    f"After lending a ten, the tens column has {a10 - 1}, "
                    f"less than {b10}: borrow a hundred. What is {a10 - 1 + 10} "
                    f"\u2212 {b10}?",
                    str(a10 + 9 - b10),
                    f"The tens become {a10 + 9} and {a10 + 9} \u2212 {b10} = {a10 + 9 - b10}.",
                    "Borrow from the hundreds as before.",
                    "sub_borrow",
                )
            )
        else:
            steps.append(
                Step(
                    "tens_left",
                    f"After lending a ten, the tens column has {a10 - 1}. "
                    f"What is {a10 - 1} \u2212 {b10}?",
                    str(a10 - 1 - b10),
                    f"The tens give {a10 - 1} \u2212 {b10} = {a10 - 1 - b10}.",
                    "The tens digit went down by one when you borrowed.",
                    "sub10",
                )
            )
        lent = 1 if a10 - 1 < b10 else 0
        left = a100 - lent
        where = (
            f"After lending a hundred, the hundreds column has {left}. "
            if lent
            else "The hundreds lent nothing. "
        )
        steps.append(
            Step(
                "hundreds_left",
                f"{where}What is {left} \u2212 {b100}?",
                str(left - b100),
                f"The hundreds give {left} \u2212 {b100} = {left - b100}.",
                "Check whether the hundreds lent one to the tens.",
                "sub10",
            )
        )
    else:
        steps.append(
            Step(
                "tens_left",
                f"After lending a ten, {a} has {a10 - 1} tens left. "
                f"What is {a10 - 1} \u2212 {b10}?",
                str(a10 - 1 - b10),
                f"The tens give {a10 - 1} \u2212 {b10} = {a10 - 1 - b10}.",
                "The tens digit went down by one when you borrowed.",
                "sub10",
            )
        )
    return tuple(steps)


@template("sub_borrow")
def _sub_borrow(rng: Rng, level: int) -> Question:
    if level == 1:
        a = 10 * _int(rng, 2, 9) + _int(rng, 0, 7)
        b = _int(rng, a % 10 + 1, 9)
    elif level == 2:
        a = 10 * _int(rng, 4, 9) + _int(rng, 0, 6)
        b = 10 * _int(rng, 1, a // 10 - 2) + _int(rng, a % 10 + 1, 9)
    else:  # three digits, the ones borrowing (b's hundreds below a's)
        a = 100 * _int(rng, 4, 9) + 10 * _int(rng, 0, 9) + _int(rng, 0, 8)
        b = 100 * _int(rng, 1, a // 100 - 1) + 10 * _int(rng, 0, 9) + _int(rng, a % 10 + 1, 9)
    return _unique(
        Question(
            f"{a} \u2212 {b} = ?",
            str(a - b),
            steps=_borrow_steps(a, b),
            misconceptions=(
                _m(
                    "smaller_from_larger",
                    _columns(a, b, lambda x, y: abs(x - y)),
                    "borrow_ones",
                    "took the smaller digit from the larger in each column (a borrowing error)",
                ),
                _m(
                    "borrow_not_paid",
                    a - b + 10,
                    "tens_left",
                    "borrowed a ten but did not take it from the tens (a borrowing error)",
                ),
            ),
        )
    )


def _split_product(a: int, b: int, skill: str) -> tuple[Step, ...]:
    """Steps for a x b by splitting b into tens and ones (or two halves when b < 10)."""
    if b >= 10:
        high, low = b // 10 * 10, b % 10
    else:
        high, low = b // 2, b - b // 2
    return (
        Step(
            "first_part",
            f"Split {b} into {high} and {low}. What is {a} \u00d7 {high}?",
            str(a * high),
            f"{a} \u00d7 {high} = {a * high}.",
            "Multiply by the first part only."
            if b < 10
            else f"Work out {a} \u00d7 {high // 10}, then put a zero after it.",
            "mult_tables",
        ),
        Step(
            "second_part",
            f"What is {a} \u00d7 {low}?",
            str(a * low),
            f"{a} \u00d7 {low} = {a * low}.",
            "Use your times tables.",
            "mult_tables",
        ),
        Step(
            "add_parts",
            f"Now add the two parts: {a * high} + {a * low} = ?",
            str(a * b),
            f"{a * high} + {a * low} = {a * b}, so {a} \u00d7 {b} = {a * b}.",
            "Line up the ones and add.",
            "add_carry",
        ),
    )


@template("mult_tables")
def _mult_tables(rng: Rng, level: int) -> Question:
    if level == 1:
        a, b = _pick(rng, (2, 5, 10)), _int(rng, 1, 10)
    elif level == 2:
        a, b = _int(rng, 2, 9), _int(rng, 2, 9)
    else:
        a, b = _int(rng, 6, 12), _int(rng, 6, 12)
    steps = (
        (
            Step(
                "groups",
                f"{a} \u00d7 {b} means {b} groups of {a}. What is {a} \u00d7 {b - 1}?",
                str(a * (b - 1)),
                f"{b - 1} groups of {a} make {a * (b - 1)}.",
                "Use a fact you know, one group fewer.",
                "mult_tables",
            ),
            Step(
                "one_more_group",
                f"Add one more group of {a}: {a * (b - 1)} + {a} = ?",
                str(a * b),
                f"{a * (b - 1)} + {a} = {a * b}.",
                "Count on by the group size.",
                "add_carry",
            ),
        )
        if b > 1
        else (
            Step(
                "groups",
                f"{a} \u00d7 1 means one group of {a}. How many is that?",
                str(a),
                f"One group of {a} is {a}.",
                "Count the things in one group.",
                "mult_tables",
            ),
        )
    )
    return _unique(
        Question(
            f"{a} \u00d7 {b} = ?",
            str(a * b),
            steps=steps,
            misconceptions=(
                _m("added_instead", a + b, "groups", "added instead of multiplying"),
                _m("group_short", a * (b - 1), steps[-1].id, "counted one group too few"),
            ),
        )
    )


@template("long_mult")
def _long_mult(rng: Rng, level: int) -> Question:
    if level == 1:
        b = _int(rng, 2, 4)
        a = 10 * _int(rng, 1, 9 // b) + _int(rng, 1, 9 // b)
    elif level == 2:
        a, b = _int(rng, 13, 97), _int(rng, 3, 9)
    else:
        a, b = _int(rng, 12, 49), _int(rng, 12, 39)
    if b < 10:  # split a into tens and ones
        tens, ones = a // 10 * 10, a % 10
        steps = (
            Step(
                "tens_part",
                f"Split {a} into {tens} and {ones}. What is {tens} \u00d7 {b}?",
                str(tens * b),
                f"{tens} \u00d7 {b} = {tens * b}.",
                f"Work out {tens // 10} \u00d7 {b}, then put a zero after it.",
                "mult_tables",
            ),
            Step(
                "ones_part",
                f"What is {ones} \u00d7 {b}?",
                str(ones * b),
                f"{ones} \u00d7 {b} = {ones * b}.",
                "Use your times tables.",
                "mult_tables",
            ),
            Step(
                "add_parts",
                f"Now add: {tens * b} + {ones * b} = ?",
                str(a * b),
                f"{tens * b} + {ones * b} = {a * b}.",
                "Line up the ones and add.",
                "add_carry",
            ),
        )
        slip = (tens // 10) * b + ones * b
        misconceptions = (
            _m(
                "place_value_slip",
                slip,
                "tens_part",
                "multiplied the tens digit as if it were ones (a place-value slip)",
            ),
            _m("tens_only", a // 10 * 10 * b + ones, "ones_part", "multiplied only the tens"),
        )
    else:
        steps = _split_product(a, b, "long_mult")
        misconceptions = (
            _m(
                "place_value_slip",
                a * (b // 10) + a * (b % 10),
                "first_part",
                "forgot the zero when multiplying by the tens (a place-value slip)",
            ),
            _m(
                "digit_by_digit",
                (a // 10) * (b // 10) * 100 + (a % 10) * (b % 10),
                "first_part",
                "multiplied tens by tens and ones by ones only",
            ),
        )
    return _unique(
        Question(f"{a} \u00d7 {b} = ?", str(a * b), steps=steps, misconceptions=misconceptions)
    )


@template("division")
def _division(rng: Rng, level: int) -> Question:
    if level == 1:
        b, q = _pick(rng, (2, 5, 10)), _int(rng, 1, 10)
    elif level == 2:
        b, q = _int(rng, 3, 9), _int(rng, 2, 9)
    else:
        b, q = _int(rng, 3, 9), _int(rng, 12, 99)
    n = b * q
    if q < 10:
        steps = (
            Step(
                "as_multiplication",
                f"Division undoes multiplication: {b} \u00d7 ? = {n}",
                str(q),
                f"{b} \u00d7 {q} = {n}, so {n} \u00f7 {b} = {q}.",
                f"Count up in {b}s until you reach {n}.",
                "mult_tables",
            ),
        )
    else:
        high, low = q // 10 * 10, q % 10
        steps = (
            Step(
                "split_tens",
                f"Split {n} into {b * high} and {b * low}. What is {b * high} \u00f7 {b}?",
                str(high),
                f"{b * high} \u00f7 {b} = {high}.",
                f"{b} \u00d7 ? = {b * high}; think of {b * high // 10} \u00f7 {b} first.",
                "division",
            ),
            Step(
                "split_ones",
                f"What is {b * low} \u00f7 {b}?",
                str(low),
                f"{b * low} \u00f7 {b} = {low}.",
                "Use your times tables.",
                "division",
            ),
            Step(
                "add_parts",
                f"Now add the two parts: {high} + {low} = ?",
                str(q),
                f"{high} + {low} = {q}.",
                "Add the tens and the ones.",
                "add_carry",
            ),
        )
    return _unique(
        Question(
            f"{n} \u00f7 {b} = ?",
            str(q),
            steps=steps,
            misconceptions=(
                _m("subtracted", n - b, steps[0].id, "subtracted instead of dividing"),
                _m("multiplied", n * b, steps[0].id, "multiplied instead of dividing"),
            ),
        )
    )


def _part_whole_steps(parts: int, taken: int, whole_word: str, part_word: str) -> tuple[Step, ...]:
    return (
        Step(
            "whole_parts",
            f"Into how many equal {part_word} is the {whole_word} split?",
            str(parts),
            f"The {whole_word} is {parts} equal {part_word}: that is the denominator.",
            "The bottom number counts all the equal parts.",
            "fractions",
        ),
        Step(
            "taken_parts",
            f"How many of those {part_word} are taken?",
            str(taken),
            f"{taken} of them are taken: that is the numerator.",
            "The top number counts the parts you take.",
            "fractions",
        ),
    )


@template("fractions")
def _fractions(rng: Rng, level: int) -> Question:
    if level == 1:
        parts = _pick(rng, (2, 3, 4, 6, 8))
        eaten = _int(rng, 1, parts - 1)
        text = (
            f"A pizza is cut into {parts} equal slices. You eat {eaten}. "
            "What fraction of the pizza did you eat?"
        )
        steps = _part_whole_steps(parts, eaten, "pizza", "slices")
        whole, taken = parts, eaten
    elif level == 2:
        parts = _int(rng, 3, 9)
        shaded = _int(rng, 1, parts - 1)
        bar = "\u25a0" * shaded + "\u25a1" * (parts - shaded)
        verb = "is" if shaded == 1 else "are"
        text = (
            f"A bar is split into {parts} equal parts; {shaded} {verb} shaded ({bar}). "
            "What fraction of the bar is shaded?"
        )
        steps = _part_whole_steps(parts, shaded, "bar", "parts")
        whole, taken = parts, shaded
    else:
        pupils = _int(rng, 10, 30)
        some = _int(rng, 1, pupils - 1)
        verb = "walks" if some == 1 else "walk"
        text = (
            f"A class has {pupils} pupils; {some} {verb} to school. "
            "What fraction of the class walks to school?"
        )
        steps = _part_whole_steps(pupils, some, "class", "pupils")
        whole, taken = pupils, some
    return _unique(
        Question(
            text,
            fmt(Fraction(taken, whole)),
            hint=FRACTION_HINT,
            steps=steps,
            misconceptions=(
                _m(
                    "part_to_rest",
                    Fraction(taken, whole - taken),
                    "whole_parts",
                    "compared the part with the rest, not with the whole",
                ),
                _m(
                    "upside_down",
                    Fraction(whole, taken),
                    "taken_parts",
                    "wrote the fraction upside down",
                ),
            ),
        )
    )


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
    steps = [
        Step(
            "unit_fraction",
            f"What is 1/{d} of {whole}? (Share {whole} into {d} equal groups.)",
            str(whole // d),
            f"1/{d} of {whole} is {whole} \u00f7 {d} = {whole // d}.",
            f"Divide {whole} by the denominator, {d}.",
            "division",
        ),
    ]
    if n > 1:
        steps.append(
            Step(
                "times_numerator",
                f"So what is {n} \u00d7 {whole // d}?",
                str(n * whole // d),
                f"{n}/{d} is {n} lots of 1/{d}: {n} \u00d7 {whole // d} = {n * whole // d}.",
                "Take as many groups as the numerator says.",
                "mult_tables",
            )
        )
    return _unique(
        Question(
            f"What is {n}/{d} of {whole}?",
            fmt(Fraction(n * whole, d)),
            steps=tuple(steps),
            misconceptions=(
                _m(
                    "forgot_numerator",
                    whole // d,
                    "times_numerator" if n > 1 else "unit_fraction",
                    "divided by the denominator but did not multiply by the numerator",
                ),
                _m(
                    "multiplied_denominator",
                    whole * d,
                    "unit_fraction",
                    "multiplied by the denominator instead of dividing",
                ),
                _m(
                    "divided_numerator",
                    Fraction(whole, n) if n > 1 else whole - d,
                    "unit_fraction",
                    "divided by the numerator" if n > 1 else "took the denominator away",
                ),
            ),
        )
    )


@template("equivalent")
def _equivalent(rng: Rng, level: int) -> Question:
    d = _int(rng, 2, 7)
    n = _int(rng, 1, d - 1)
    while math.gcd(n, d) != 1:
        n = _int(rng, 1, d - 1)
    k = _int(rng, 2, 6)
    if level == 1:
        steps = (
            Step(
                "scale_factor",
                f"What do you multiply {d} by to get {d * k}?",
                str(k),
                f"{d} \u00d7 {k} = {d * k}: the denominator was multiplied by {k}.",
                f"Think: {d} \u00d7 ? = {d * k}.",
                "mult_tables",
            ),
            Step(
                "scale_other",
                f"Multiply the numerator by the same number: {n} \u00d7 {k} = ?",
                str(n * k),
                f"Both parts are multiplied by {k}: {n} \u00d7 {k} = {n * k}.",
                "Whatever you do to the bottom, do to the top.",
                "equivalent",
            ),
        )
        return _unique(
            Question(
                f"{n}/{d} = ?/{d * k}. What is the missing number?",
                str(n * k),
                steps=steps,
                misconceptions=(
                    _m(
                        "added_difference",
                        n + d * k - d,
                        "scale_factor",
                        "added the same amount to both parts instead of multiplying",
                    ),
                ),
            )
        )
    if level == 2:
        steps = (
            Step(
                "scale_factor",
                f"What do you multiply {n} by to get {n * k}?",
                str(k),
                f"{n} \u00d7 {k} = {n * k}: the numerator was multiplied by {k}.",
                f"Think: {n} \u00d7 ? = {n * k}.",
                "mult_tables",
            ),
            Step(
                "scale_other",
                f"Multiply the denominator by the same number: {d} \u00d7 {k} = ?",
                str(d * k),
                f"Both parts are multiplied by {k}: {d} \u00d7 {k} = {d * k}.",
                "Whatever you do to the top, do to the bottom.",
                "equivalent",
            ),
        )
        return _unique(
            Question(
                f"{n}/{d} = {n * k}/?. What is the missing number?",
                str(d * k),
                steps=steps,
                misconceptions=(
                    _m(
                        "added_difference",
                        d + n * k - n,
                        "scale_factor",
                        "added the same amount to both parts instead of multiplying",
                    ),
                ),
            )
        )
    text = f"Write {n * k}/{d * k} in simplest form."
    hint = "Type a fraction in lowest terms, such as 3/4."
    steps = (
        Step(
            "common_factor",
            f"What is the largest number that divides both {n * k} and {d * k}?",
            str(k),
            f"{k} divides both {n * k} and {d * k}, and nothing larger does.",
            f"List the factors of {n * k}; which is also a factor of {d * k}?",
            "mult_tables",
        ),
        Step(
            "divide_top",
            f"What is {n * k} \u00f7 {k}?",
            str(n),
            f"{n * k} \u00f7 {k} = {n}.",
            "Divide the numerator by the common factor.",
            "division",
        ),
        Step(
            "divide_bottom",
            f"What is {d * k} \u00f7 {k}?",
            str(d),
            f"{d * k} \u00f7 {k} = {d}.",
            "Divide the denominator by the same factor.",
            "division",
        ),
    )
    subtract = Fraction(n * k - 1, d * k - 1) if d * k - 1 > 0 else Fraction(n, d)
    return _unique(
        Question(
            text,
            fmt(Fraction(n, d)),
            kind="simplest",
            hint=hint,
            steps=steps,
            misconceptions=(
                _m(
                    "subtracted_to_simplify",
                    f"{n * k - 1}/{d * k - 1}" if subtract != Fraction(n, d) else f"{n}/{d}",
                    "common_factor",
                    "took the same number away from both parts instead of dividing",
                ),
            ),
        )
    )


def _proper(rng: Rng, denominators: tuple[int, ...]) -> Fraction:
    d = _pick(rng, denominators)
    return Fraction(_int(rng, 1, d - 1), d)


_SIGNS = ("<", "=", ">")


def _sign(x: Fraction | int, y: Fraction | int) -> str:
    return "<" if x < y else ">" if x > y else "="


@template("compare")
def _compare(rng: Rng, level: int) -> Question:
    if level == 1:
        d = _int(rng, 3, 12)
        a, b = rng.choice(np.arange(1, d), size=2, replace=False).tolist()
        left, right = f"{a}/{d}", f"{b}/{d}"
        values = Fraction(a, d), Fraction(b, d)
        steps = (
            Step(
                "same_size_parts",
                f"Both fractions count parts of size 1/{d}. Which numerator is larger, {a} or {b}?",
                str(max(a, b)),
                f"With the same denominator, more parts is more: {max(a, b)} parts win.",
                "Same-sized slices: who has more of them?",
                "compare",
            ),
        )
        wrong = _sign(b, a)
        wrong_text = "reversed the comparison"
    elif level == 2:
        n = _int(rng, 1, 4)
        a, b = rng.choice(np.arange(n + 1, 13), size=2, replace=False).tolist()
        left, right = f"{n}/{a}", f"{n}/{b}"
        values = Fraction(n, a), Fraction(n, b)
        steps = (
            Step(
                "bigger_slice",
                f"Which is bigger: 1/{a} or 1/{b} of the same pizza? Type that fraction.",
                f"1/{min(a, b)}",
                f"Cutting into fewer slices makes each slice bigger: 1/{min(a, b)} is bigger.",
                f"Picture a pizza cut into {a} slices and one cut into {b}.",
                "fractions",
            ),
        )
        wrong = _sign(a, b)
        wrong_text = "thought a larger denominator makes a larger fraction (whole-number thinking)"
    else:
        x, y = _proper(rng, (3, 4, 5, 6, 8)), _proper(rng, (3, 4, 5, 6, 7, 9, 10))
        dx, dy = x.denominator * _int(rng, 1, 2), y.denominator
        left = f"{x.numerator * (dx // x.denominator)}/{dx}"
        right = f"{y.numerator}/{dy}"
        values = x, y
        common = math.lcm(dx, dy)
        nx, ny = x * common, y * common
        steps = (
            Step(
                "common_denominator",
                f"What is the smallest number that both {dx} and {dy} divide into?",
                str(common),
                f"{common} is the smallest common multiple of {dx} and {dy}.",
                f"Go up the {max(dx, dy)} times table until {min(dx, dy)} divides it.",
                "equivalent",
            ),
            Step(
                "convert_left",
                f"Write {left} with denominator {common}. What is the numerator?",
                fmt(nx),
                f"{left} = {fmt(nx)}/{common}.",
                "Multiply top and bottom by the same number.",
                "equivalent",
            ),
            Step(
                "convert_right",
                f"Write {right} with denominator {common}. What is the numerator?",
                fmt(ny),
                f"{right} = {fmt(ny)}/{common}.",
                "Multiply top and bottom by the same number.",
                "equivalent",
            ),
        )
        top = int(left.split("/")[0])
        wrong = (
            _sign(top, y.numerator) if _sign(top, y.numerator) != _sign(*values) else _sign(dx, dy)
        )
        wrong_text = "compared the numerators (or denominators) alone, as whole numbers"
    sign = _sign(*values)
    misconceptions = (
        (_m("whole_number_thinking", wrong, steps[0].id, wrong_text),) if wrong != sign else ()
    )
    return _unique(
        Question(
            f"Which sign goes between {left} and {right}? ({left} ? {right})",
            sign,
            kind="choice",
            hint="Choose <, = or >.",
            choices=_SIGNS,
            steps=steps,
            misconceptions=misconceptions,
        )
    )


_PART_NAMES = {
    2: "halves",
    3: "thirds",
    4: "quarters",
    5: "fifths",
    6: "sixths",
    7: "sevenths",
    8: "eighths",
    9: "ninths",
    10: "tenths",
    11: "elevenths",
    12: "twelfths",
}


def _parts(d: int) -> str:
    """The name of the parts of a denominator: 3 -> ``thirds``."""
    return _PART_NAMES.get(d, f"{d}ths")


def _like_steps(a: int, b: int, d: int, minus: bool) -> tuple[Step, ...]:
    op = "\u2212" if minus else "+"
    value = a - b if minus else a + b
    return (
        Step(
            "keep_denominator",
            f"When you {'take' if minus else 'add'} {_parts(d)} "
            f"{'from' if minus else 'to'} {_parts(d)}, what size are the parts of the answer? "
            f"Type the denominator.",
            str(d),
            f"The parts stay {_parts(d)}, so the denominator stays {d}.",
            f"{a} apples {op} {b} apples are still apples.",
            "add_like",
        ),
        Step(
            "add_numerators",
            f"How many {_parts(d)} is {a} {op} {b}?",
            str(value),
            f"{a} {op} {b} = {value}, so the answer is {value}/{d}.",
            "Work out the numerators only.",
            "sub10" if minus else "add10",
        ),
    )


@template("add_like")
def _add_like(rng: Rng, level: int) -> Question:
    d = _int(rng, 3, 12)
    if level == 1:
        a = _int(rng, 1, d - 2)
        b = _int(rng, 1, d - 1 - a)
        text, value, minus = f"{a}/{d} + {b}/{d} = ?", Fraction(a + b, d), False
    elif level == 2:
        a = _int(rng, 2, d - 1)
        b = _int(rng, 1, a - 1)
        text, value, minus = f"{a}/{d} \u2212 {b}/{d} = ?", Fraction(a - b, d), True
    else:
        a, b = _int(rng, d // 2 + 1, d - 1), _int(rng, d // 2 + 1, d - 1)
        text, value, minus = f"{a}/{d} + {b}/{d} = ?", Fraction(a + b, d), False
    top = a - b if minus else a + b
    wrong_den = 0 if minus else 2 * d
    misconceptions = [
        _m(
            "add_denominators",
            Fraction(top, wrong_den) if wrong_den else f"{top}/0",
            "keep_denominator",
            "added the denominators as well as the numerators",
        ),
    ]
    if minus:
        misconceptions = [
            _m(
                "subtract_denominators",
                f"{top}/0",
                "keep_denominator",
                "took the denominators away as well",
            )
        ]
    return _unique(
        Question(
            text,
            fmt(value),
            hint=FRACTION_HINT,
            steps=_like_steps(a, b, d, minus),
            misconceptions=tuple(misconceptions),
        )
    )


@template("add_unlike")
def _add_unlike(rng: Rng, level: int) -> Question:
    if level == 1:
        d = _int(rng, 2, 5)
        x = Fraction(_int(rng, 1, d - 1), d)
        k = _int(rng, 2, 3)
        y = Fraction(1, d * k)
        text, value, minus = f"{fmt(x)} + {fmt(y)} = ?", x + y, False
    else:
        a, b = rng.choice([2, 3, 4, 5, 7], size=2, replace=False).tolist()
        x, y = Fraction(_int(rng, 1, a - 1), a), Fraction(_int(rng, 1, b - 1), b)
        while x == y:
            x, y = Fraction(_int(rng, 1, a - 1), a), Fraction(_int(rng, 1, b - 1), b)
        if level == 2:
            text, value, minus = f"{fmt(x)} + {fmt(y)} = ?", x + y, False
        else:
            x, y = max(x, y), min(x, y)
            text, value, minus = f"{fmt(x)} \u2212 {fmt(y)} = ?", x - y, True
    common = math.lcm(x.denominator, y.denominator)
    nx, ny = x.numerator * common // x.denominator, y.numerator * common // y.denominator
    op = "\u2212" if minus else "+"
    top = nx - ny if minus else nx + ny
    steps = [
        Step(
            "common_denominator",
            f"What is the smallest number that both {x.denominator} and "
            f"{y.denominator} divide into?",
            str(common),
            f"{common} is the smallest common multiple of {x.denominator} and {y.denominator}: "
            "both fractions can be written in it.",
            f"Go up the {max(x.denominator, y.denominator)} times table until "
            f"{min(x.denominator, y.denominator)} divides it.",
            "equivalent",
        ),
        Step(
            "convert_first",
            f"Write {fmt(x)} with denominator {common}. What is the numerator?",
            str(nx),
            f"{fmt(x)} = {nx}/{common} (top and bottom times {common // x.denominator}).",
            "Multiply top and bottom by the same number.",
            "equivalent",
        ),
        Step(
            "convert_second",
            f"Write {fmt(y)} with denominator {common}. What is the numerator?",
            str(ny),
            f"{fmt(y)} = {ny}/{common} (top and bottom times {common // y.denominator}).",
            "Multiply top and bottom by the same number.",
            "equivalent",
        ),
        Step(
            "combine",
            f"What is {nx}/{common} {op} {ny}/{common}?",
            fmt(Fraction(top, common)),
            f"{nx}/{common} {op} {ny}/{common} = {top}/{common}: {'take' if minus else 'add'} "
            "the numerators, keep the denominator.",
            "Same denominators now: work on the numerators only.",
            "add_like",
        ),
    ]
    wrong_top = x.numerator - y.numerator if minus else x.numerator + y.numerator
    wrong_den = x.denominator - y.denominator if minus else x.denominator + y.denominator
    misconceptions = [
        _m(
            "add_denominators",
            Fraction(wrong_top, wrong_den) if wrong_den > 0 else f"{wrong_top}/{wrong_den}",
            "common_denominator",
            f"{'took away' if minus else 'added'} the numerators and the denominators separately",
        ),
        _m(
            "numerators_only",
            Fraction(wrong_top, common),
            "convert_first",
            "put the numerators over the common denominator without converting them",
        ),
    ]
    return _unique(
        Question(
            text,
            fmt(value),
            hint=FRACTION_HINT,
            steps=tuple(steps),
            misconceptions=tuple(misconceptions),
        )
    )


@template("mult_fractions")
def _mult_fractions(rng: Rng, level: int) -> Question:
    if level == 1:
        n, x = _int(rng, 2, 5), _proper(rng, (3, 4, 5, 6, 8))
        text, value = f"{n} \u00d7 {fmt(x)} = ?", n * x
        steps = (
            Step(
                "times_numerator",
                f"{n} \u00d7 {fmt(x)} is {n} lots of {x.numerator}/"
                f"{x.denominator}. How many {_parts(x.denominator)} is that: "
                f"{n} \u00d7 {x.numerator}?",
                str(n * x.numerator),
                f"{n} \u00d7 {x.numerator} = {n * x.numerator} "
                f"{_parts(x.denominator)}; the denominator stays {x.denominator}.",
                "Multiply only the numerator: the parts keep their size.",
                "mult_tables",
            ),
        )
        misconceptions = (
            _m(
                "scaled_both",
                f"{n * x.numerator}/{n * x.denominator}",
                "times_numerator",
                "multiplied the denominator too (that only renames the fraction)",
            ),
        )
    elif level == 2:
        x, y = _proper(rng, (2, 3, 4, 5)), _proper(rng, (3, 4, 5, 6, 7))
        text, value = f"{fmt(x)} \u00d7 {fmt(y)} = ?", x * y
        steps = (
            Step(
                "multiply_numerators",
                f"Multiply the numerators: {x.numerator} \u00d7 {y.numerator} = ?",
                str(x.numerator * y.numerator),
                f"The numerator is {x.numerator} \u00d7 {y.numerator} = "
                f"{x.numerator * y.numerator}.",
                "Top times top.",
                "mult_tables",
            ),
            Step(
                "multiply_denominators",
                f"Multiply the denominators: {x.denominator} \u00d7 {y.denominator} = ?",
                str(x.denominator * y.denominator),
                f"The denominator is {x.denominator} \u00d7 {y.denominator} = "
                f"{x.denominator * y.denominator}.",
                "Bottom times bottom.",
                "mult_tables",
            ),
        )
        misconceptions = (
            _m("added_instead", x + y, "multiply_numerators", "added instead of multiplying"),
            _m(
                "kept_denominator",
                Fraction(x.numerator * y.numerator, y.denominator),
                "multiply_denominators",
                "multiplied the numerators but kept a denominator",
            ),
        )
    else:
        whole, part = _int(rng, 1, 2), _proper(rng, (2, 3, 4))
        y = _proper(rng, (3, 4, 5))
        mixed = f"{whole} {fmt(part)}"
        text, value = f"{mixed} \u00d7 {fmt(y)} = ?", (whole + part) * y
        improper = whole + part
        steps = (
            Step(
                "improper",
                f"Write {mixed} as an improper fraction. What is the numerator over "
                f"{part.denominator}?",
                str(improper.numerator),
                f"{mixed} = {improper.numerator}/{part.denominator} "
                f"({whole} \u00d7 {part.denominator} + {part.numerator}).",
                f"How many {_parts(part.denominator)} are in {whole} whole(s), plus "
                f"{part.numerator}?",
                "equivalent",
            ),
            Step(
                "multiply",
                f"What is {improper.numerator}/{improper.denominator} \u00d7 {fmt(y)}?",
                fmt(value),
                f"{improper.numerator}/{improper.denominator} \u00d7 {fmt(y)} = {fmt(value)}.",
                "Top times top, bottom times bottom.",
                "mult_fractions",
            ),
        )
        misconceptions = (
            _m(
                "whole_kept",
                whole + part * y,
                "improper",
                "multiplied the fraction part but kept the whole number as it was",
            ),
        )
    return _unique(
        Question(text, fmt(value), hint=FRACTION_HINT, steps=steps, misconceptions=misconceptions)
    )


@template("decimals")
def _decimals(rng: Rng, level: int) -> Question:
    hint = "Type a decimal such as 0.75."
    if level == 1:
        d = _pick(rng, (2, 4, 5, 10, 20, 25))
        x = Fraction(_int(rng, 1, d - 1), d)
        while x.denominator != d:
            x = Fraction(_int(rng, 1, d - 1), d)
        scale = 10 if 10 % d == 0 else 100
        steps = (
            Step(
                "tenths_or_hundredths",
                f"Write {x.numerator}/{d} with denominator {scale}. What is the numerator?",
                fmt(x * scale),
                f"{x.numerator}/{d} = {fmt(x * scale)}/{scale}.",
                f"Multiply top and bottom by {scale // d}.",
                "equivalent",
            ),
            Step(
                "as_decimal",
                f"Write {fmt(x * scale)}/{scale} as a decimal.",
                fmt_decimal(x),
                f"{fmt(x * scale)} {'tenths' if scale == 10 else 'hundredths'} is "
                f"{fmt_decimal(x)}.",
                "Tenths are one place after the point, hundredths two.",
                "decimals",
                kind="decimal",
            ),
        )
        return _unique(
            Question(
                f"Write {x.numerator}/{x.denominator} as a decimal.",
                fmt_decimal(x),
                kind="decimal",
                hint=hint,
                steps=steps,
                misconceptions=(
                    _m(
                        "bar_as_point",
                        f"{x.numerator}.{d}",
                        "tenths_or_hundredths",
                        "read the fraction bar as a decimal point",
                    ),
                ),
            )
        )
    if level == 2:
        x, y = Fraction(_int(rng, 1, 9), 10), Fraction(_int(rng, 1, 99), 100)
        text, value = f"{fmt_decimal(x)} + {fmt_decimal(y)} = ?", x + y
        steps = (
            Step(
                "in_hundredths",
                f"How many hundredths is {fmt_decimal(x)}?",
                fmt(x * 100),
                f"{fmt_decimal(x)} = {fmt(x * 100)} hundredths.",
                "One tenth is ten hundredths.",
                "place_value",
            ),
            Step(
                "add_hundredths",
                f"What is {fmt(x * 100)} + {fmt(y * 100)} hundredths? Write it as a decimal.",
                fmt_decimal(value),
                f"{fmt(x * 100)} + {fmt(y * 100)} = {fmt(value * 100)} hundredths = "
                f"{fmt_decimal(value)}.",
                "Line up the decimal points.",
                "decimals",
                kind="decimal",
            ),
        )
        misconceptions = (
            _m(
                "place_value_slip",
                Fraction(int(x * 10) + int(y * 100), 100),
                "in_hundredths",
                "lined up the last digits instead of the points (a place-value slip)",
            ),
        )
        return _unique(
            Question(
                text, fmt_decimal(value), hint=hint, steps=steps, misconceptions=misconceptions
            )
        )
    x, y = Fraction(_int(rng, 11, 39), 10), Fraction(_int(rng, 2, 9), 10)
    text, value = f"{fmt_decimal(x)} \u00d7 {fmt_decimal(y)} = ?", x * y
    whole = int(x * 10) * int(y * 10)
    steps = (
        Step(
            "without_points",
            f"Leave out the points: {int(x * 10)} \u00d7 {int(y * 10)} = ?",
            str(whole),
            f"{int(x * 10)} \u00d7 {int(y * 10)} = {whole}.",
            "Multiply as whole numbers first.",
            "long_mult",
        ),
        Step(
            "count_places",
            "How many digits come after the points in the two numbers together?",
            "2",
            "One digit after the point in each number: two in all.",
            "Count the digits after each point and add.",
            "decimals",
        ),
    )
    return _unique(
        Question(
            text,
            fmt_decimal(value),
            hint=hint,
            steps=steps,
            misconceptions=(
                _m(
                    "one_place",
                    Fraction(whole, 10),
                    "count_places",
                    "put only one digit after the point (a place-value slip)",
                ),
            ),
        )
    )


@template("percentages")
def _percentages(rng: Rng, level: int) -> Question:
    if level == 1:
        percent = _pick(rng, (10, 25, 50))
        whole = _pick(rng, (20, 40, 60, 80, 100, 200))
        as_fraction = Fraction(percent, 100)
        steps = (
            Step(
                "as_fraction",
                f"Write {percent}% as a fraction in lowest terms.",
                fmt(as_fraction),
                f"{percent}% = {percent}/100 = {fmt(as_fraction)}.",
                "Per cent means out of 100.",
                "equivalent",
                kind="simplest",
            ),
            Step(
                "fraction_of",
                f"What is {fmt(as_fraction)} of {whole}?",
                fmt(as_fraction * whole),
                f"{fmt(as_fraction)} of {whole} is {fmt(as_fraction * whole)}.",
                "Divide by the denominator.",
                "fraction_of",
            ),
        )
        return _unique(
            Question(
                f"What is {percent}% of {whole}?",
                fmt(Fraction(percent * whole, 100)),
                steps=steps,
                misconceptions=(
                    _m(
                        "forgot_hundred",
                        percent * whole,
                        "as_fraction",
                        "multiplied by the percentage without dividing by 100",
                    ),
                    _m(
                        "took_away",
                        whole - percent,
                        "as_fraction",
                        "took the percentage away as a number",
                    ),
                ),
            )
        )
    if level == 2:
        percent = 5 * _int(rng, 1, 19)
        price = 20 * _int(rng, 1, 10)
        text = f"A jacket costs ${price} and is {percent}% off. What is the sale price, in dollars?"
        off = Fraction(price * percent, 100)
        steps = (
            Step(
                "discount",
                f"How many dollars is {percent}% of ${price}?",
                fmt(off),
                f"{percent}% of {price} is {price} \u00d7 {percent}/100 = {fmt(off)} dollars.",
                f"1% of {price} is {fmt(Fraction(price, 100))}; take {percent} of those.",
                "percentages",
            ),
            Step(
                "subtract",
                f"What is {price} \u2212 {fmt(off)}?",
                fmt(price - off),
                f"The sale price is {price} \u2212 {fmt(off)} = {fmt(price - off)} dollars.",
                "Take the discount off the price.",
                "sub_borrow",
            ),
        )
        return _unique(
            Question(
                text,
                fmt(Fraction(price * (100 - percent), 100)),
                unit="$",
                steps=steps,
                misconceptions=(
                    _m("gave_discount", off, "subtract", "gave the discount, not the sale price"),
                    _m(
                        "dollars_off",
                        price - percent,
                        "discount",
                        "took the percentage off as dollars",
                    ),
                ),
            )
        )
    percent = _pick(rng, (10, 20, 25, 40, 50, 60, 75))
    whole = 20 * _int(rng, 1, 10)
    part = Fraction(percent * whole, 100)
    ratio = Fraction(part, whole)
    steps = (
        Step(
            "as_fraction",
            f"What fraction of {whole} is {fmt(part)}? Lowest terms.",
            fmt(ratio),
            f"{fmt(part)}/{whole} = {fmt(ratio)}.",
            "Put the part over the whole, then simplify.",
            "equivalent",
            kind="simplest",
        ),
        Step(
            "times_hundred",
            f"What is {fmt(ratio)} of 100?",
            fmt(ratio * 100),
            f"{fmt(ratio)} of 100 is {fmt(ratio * 100)}, so it is {fmt(ratio * 100)}%.",
            "Per cent means out of 100.",
            "fraction_of",
        ),
    )
    return _unique(
        Question(
            f"What percentage of {whole} is {fmt(part)}?",
            str(percent),
            hint="Type a number; the % sign is optional.",
            unit="%",
            steps=steps,
            misconceptions=(
                _m(
                    "upside_down",
                    Fraction(whole * 100) / part,
                    "as_fraction",
                    "divided the whole by the part",
                ),
                _m(
                    "forgot_hundred",
                    ratio,
                    "times_hundred",
                    "gave the fraction without multiplying by 100",
                ),
            ),
        )
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


__all__ = [
    "KINDS",
    "TEMPLATES",
    "Misconception",
    "Question",
    "Step",
    "check_answer",
    "fmt",
    "fmt_decimal",
    "generate",
    "parse_number",
    "question_for",
    "seed_for",
]
