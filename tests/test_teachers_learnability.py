"""The learnability teacher: weights p (1 - p), its estimates, state and registry name."""

import numpy as np
import pytest

from mentor.errors import MentorError
from mentor.events import EventLog
from mentor.teachers import TEACHERS, Learnability, teacher_from_state


def test_learnability_weights_are_p_times_one_minus_p():
    teacher = Learnability(window=4, seed=0)
    log = EventLog([0] * 6, ["a", "a", "a", "a", "b", "b"], range(6), [1, 1, 1, 0, 1, 1])
    teacher.observe(log)
    # beta: a (1 + 3) / (2 + 4) = 2/3 -> 2/9; b (1 + 2) / 4 = 3/4 -> 3/16; c unseen 1/2 -> 1/4
    np.testing.assert_allclose(teacher.weights(0, ["a", "b", "c"]), [2 / 9, 3 / 16, 1 / 4])
    empirical = Learnability(estimate="empirical", window=2)
    empirical.observe(log)  # a keeps its last 2: [1, 0] -> 1/4; b [1, 1] -> 0
    np.testing.assert_allclose(empirical.weights(0, ["a", "b", "c"]), [0.25, 0.0, 0.25])
    greedy = Learnability(estimate="empirical", rule="greedy", window=2, seed=0)
    greedy.observe(log)
    assert sorted(greedy.select(0, ["a", "b", "c"], k=2)) == ["a", "c"]


def test_learnability_state_round_trips_and_is_registered():
    teacher = Learnability(window=3, epsilon=0.2, seed=4)
    teacher.observe(EventLog([0, 0, 0, 0], [1, 1, 2, 1], range(4), [0, 1, 1, 1]))
    copy = teacher_from_state(teacher.state_dict())
    assert TEACHERS["learnability"] is Learnability
    assert [copy.select(0, [1, 2, 3], k=2) for _ in range(5)] == [
        teacher.select(0, [1, 2, 3], k=2) for _ in range(5)
    ]
    with pytest.raises(MentorError, match="estimate"):
        Learnability(estimate="magic")
    with pytest.raises(MentorError, match="needs a student model"):
        Learnability(estimate="model").select(0, [1, 2])
