"""The rewards of benchmarks/rl_addition.py, on answers computed by hand.

With 3 levels, ``047+085=`` has the sum 132, written with 4 digits least significant first:
``2310``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "rl_addition.py"
spec = importlib.util.spec_from_file_location("rl_addition", PATH)
assert spec is not None and spec.loader is not None
rl_addition = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rl_addition)


def test_answer_and_prompt_by_hand():
    assert rl_addition.prompt(47, 85, 3) == "047+085="
    assert rl_addition.answer(47, 85, 3) == "2310"
    assert rl_addition.answer(9, 9, 2) == "810"  # 18 -> 018 -> reversed


@pytest.mark.parametrize(
    ("completion", "credit"),
    [
        ("2310", 1.0),  # every digit right
        ("2300", 0.75),  # the hundreds digit (position 2) wrong: 3 of 4
        ("0000", 0.25),  # only the thousands digit (0) right: 1 of 4
        ("1111", 0.25),  # only the hundreds digit (1) right
        ("9999", 0.0),
        (" 2310 ", 1.0),  # surrounding spaces are stripped, as for exact match
        ("23", 0.5),  # 2 digits written, both right, 2 missing: 2 of 4
        ("", 0.0),
        ("23100", 0.8),  # one character past the answer: 4 right of 5
        ("2310+", 0.8),
    ],
)
def test_digit_credit_by_hand(completion, credit):
    assert rl_addition.digit_credit(completion, "2310") == pytest.approx(credit)


def test_partial_reward_is_one_exactly_when_exact_match_is():
    completions = ["2310", "2300", "23100", "231", "0132"]
    answers = ["2310"] * len(completions)
    exact = rl_addition.correct(None, completions, answers)
    partial = rl_addition.digits_right(None, completions, answers)
    assert exact == [1.0, 0.0, 0.0, 0.0, 0.0]
    # 231: 3 digits right, the last missing; 0132 (the sum most significant first): no
    # position matches 2310
    assert partial == pytest.approx([1.0, 0.75, 0.8, 0.75, 0.0])
    assert [p == 1.0 for p in partial] == [e == 1.0 for e in exact]


def test_reward_option():
    assert rl_addition.REWARDS == {
        "exact": rl_addition.correct,
        "partial": rl_addition.digits_right,
    }


def test_median_interval_by_hand():
    """Sign-test interval for the median: with 5 values only [x_(1), x_(5)] is possible, with
    coverage 1 - 2 / 2^5 = 0.9375; with 10 values [x_(2), x_(9)], coverage
    1 - 2 (1 + 10) / 2^10 = 0.978515625 (x_(3), x_(8) would give 0.890625 < 0.95)."""
    five = rl_addition.median_interval([3.0, 1.0, float("inf"), 0.5, 2.0])
    assert five == {"median": 2.0, "low": 0.5, "high": None, "coverage": 0.9375, "n": 5}
    ten = rl_addition.median_interval([float(v) for v in range(10, 0, -1)])
    assert (ten["median"], ten["low"], ten["high"]) == (5.5, 2.0, 9.0)
    assert ten["coverage"] == pytest.approx(1 - 22 / 1024)
    assert rl_addition.interval_text(five) == "2.00 [0.50, never] (93.8 %)"
