"""Teacher.select_slots: k picks with repetition in one call.

Teachers that state the distribution of a single pick draw all k slots from it at once; the
others are called k times. Where a single ``select`` draws with one ``rng.choice(n, p=...)``
(Boltzmann and proportional rules), ``Generator.choice`` with ``size=k`` reads the same k
uniform numbers, so the picks are identical to k ``select(..., 1)`` calls of a teacher with
the same seed and state. Where the single pick draws its random numbers another way
(epsilon-greedy, greedy ties, uniform choice), the slots come from the same distribution:
checked with a chi-square goodness-of-fit test.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from scipy.stats import chisquare

from mentor.domain import Domain, Item
from mentor.errors import MentorError
from mentor.events import EventLog
from mentor.teachers import (
    DUMP,
    SEC,
    TSCL,
    ZPDES,
    AdaRFT,
    FixedSequence,
    Learnability,
    MasteringRate,
    RandomTeacher,
)

ARMS = [1, 2, 3, 4]


def observed(teacher):
    """``teacher`` after two steps with different success rates per arm, so that its
    distribution over ARMS is not uniform."""
    rates = {1: 1.0, 2: 0.75, 3: 0.5, 4: 0.0}
    for step in range(2):
        items, outcomes = [], []
        for arm, rate in rates.items():
            wins = round(4 * rate * (step + 1) / 2)
            items += [arm] * 4
            outcomes += [1.0] * wins + [0.0] * (4 - wins)
        teacher.observe(EventLog([0] * len(items), items, [float(step)] * len(items), outcomes))
    return teacher


def course() -> Domain:
    return Domain(
        [Item("a", ("A",), 0.1), Item("b", ("A",), 0.5), Item("c", ("B",), 0.2)],
        ["A", "B"],
        [("A", "B")],
    )


SAME_SEQUENCE = {
    "sec": lambda: SEC(seed=1),
    "dump": lambda: DUMP(seed=1),
    "tscl-boltzmann": lambda: TSCL(policy="boltzmann", temperature=0.1, seed=1),
    "learnability": lambda: Learnability(epsilon=0.1, seed=1),
}


@pytest.mark.parametrize("make", SAME_SEQUENCE.values(), ids=SAME_SEQUENCE.keys())
def test_slots_are_the_picks_of_k_single_selects(make):
    one, many = observed(make()), observed(make())
    assert one.slot_distribution(0, ARMS)[1].std() > 0  # not uniform: a real check
    slots = one.select_slots(0, ARMS, 200, t=2.0)
    singles = [many.select(0, ARMS, 1, t=2.0)[0] for _ in range(200)]
    assert slots == singles
    assert one.rng.bit_generator.state == many.rng.bit_generator.state


def test_zpdes_and_mastering_rate_slots_are_the_picks_of_single_selects():
    for make in (lambda: ZPDES(course(), seed=2), lambda: MasteringRate(course(), seed=2)):
        one, many = make(), make()
        log = EventLog([0] * 6, ["a"] * 6, np.arange(6.0), [0, 0, 1, 1, 1, 1])
        one.observe(log)
        many.observe(log)
        items = ["a", "b", "c"]
        assert one.select_slots(0, items, 100) == [many.select(0, items, 1)[0] for _ in range(100)]


def test_epsilon_greedy_slot_distribution_is_the_rule_by_hand():
    teacher = observed(TSCL(epsilon=0.2, seed=0))
    q = np.abs(teacher.progress(0, ARMS))
    assert np.sum(q == q.max()) == 1
    expected = np.full(4, 0.2 / 4)
    expected[np.argmax(q)] += 0.8  # epsilon / n everywhere, 1 - epsilon to the single best
    np.testing.assert_allclose(teacher.slot_distribution(0, ARMS)[1], expected)


SAME_DISTRIBUTION = {
    "tscl-epsilon-greedy": lambda: TSCL(epsilon=0.3, seed=5),
    "learnability-greedy": lambda: Learnability(estimate="empirical", rule="greedy", seed=5),
    "random": lambda: RandomTeacher(seed=5),
}


@pytest.mark.parametrize("make", SAME_DISTRIBUTION.values(), ids=SAME_DISTRIBUTION.keys())
def test_slots_follow_the_distribution_of_single_selects(make):
    """Chi-square goodness of fit of 4,000 slots, and of 4,000 single selects, against the
    stated single-pick distribution. Seeds are fixed, so the test is deterministic; under
    the null hypothesis a p-value below 0.001 has probability 0.001, while a wrong
    distribution (say epsilon-greedy without its epsilon share, or one slot's arm drawn
    with another's probability) gives p-values far below it at this sample size."""
    teacher = observed(make())
    choices, p = teacher.slot_distribution(0, ARMS)
    assert list(choices) == ARMS
    n = 4000
    slots = teacher.select_slots(0, ARMS, n)
    singles = [teacher.select(0, ARMS, 1)[0] for _ in range(n)]
    for picks in (slots, singles):
        counts = np.array([picks.count(arm) for arm in ARMS])
        keep = p > 0  # arms of probability 0 must never be picked
        assert counts[~keep].sum() == 0
        assert chisquare(counts[keep], n * p[keep]).pvalue > 1e-3


def test_the_default_is_k_single_selects():
    items = [10, 20, 30, 40, 50]
    for make in (
        lambda: AdaRFT(difficulty={i: i / 50 for i in items}, seed=3),
        lambda: FixedSequence(items, seed=3),
    ):
        one, many = make(), make()
        log = EventLog([0, 0], [20, 30], [0.0, 1.0], [1.0, 0.0])
        one.observe(log)
        many.observe(log)
        assert one.slot_distribution(0, items) is None
        assert one.select_slots(0, items, 7, t=3.0) == [
            many.select(0, items, 1, t=3.0)[0] for _ in range(7)
        ]


class Recording(RandomTeacher):
    """A subclass that changes select alone: select_slots must call it once per slot."""

    def __init__(self, seed=0):
        super().__init__(seed)
        self.calls = 0

    def select(self, learner, candidates, k=1, t=None, model=None):
        self.calls += 1
        return list(candidates)[-1:] if self.calls % 2 else []


def test_a_subclass_that_changes_select_gets_k_calls_of_it():
    teacher = Recording()
    assert teacher.select_slots(0, ARMS, 5) == [4, 4, 4]  # calls 2 and 4 give nothing
    assert teacher.calls == 5


def test_select_slots_checks_its_arguments():
    teacher = SEC(seed=0)
    assert teacher.select_slots(0, [], 3) == []
    with pytest.raises(MentorError):
        teacher.select_slots(0, ARMS, 0)
    assert copy.deepcopy(teacher).select_slots(0, ["only"], 3) == ["only"] * 3
