"""Continual-learning metrics on a hand-made accuracy matrix (values worked out by hand)."""

import numpy as np
import pytest

from mentor.errors import DataError
from mentor.metrics import (
    average_accuracy,
    average_incremental_accuracy,
    backward_transfer,
    check_accuracy_matrix,
    continual_summary,
    forgetting,
    forgetting_per_task,
    forward_transfer,
)

# R[i, j]: accuracy on task j after training task i. R[1, 0] > R[0, 0] (task 0 improved
# after task 1) and R[0, 1] = 0.95 (task 1 scored high before being trained) make
# forgetting differ from -BWT and test which rows forgetting may use.
R = np.array(
    [
        [0.80, 0.95, 0.20],
        [0.85, 0.90, 0.30],
        [0.50, 0.70, 0.95],
    ]
)
B = np.array([0.10, 0.20, 0.25])  # accuracy of the untrained model on each task


def test_average_accuracy():
    # (0.5 + 0.7 + 0.95) / 3 = 2.15 / 3
    assert average_accuracy(R) == pytest.approx(2.15 / 3)


def test_backward_transfer_gem():
    # ((R20 - R00) + (R21 - R11)) / 2 = ((0.5 - 0.8) + (0.7 - 0.9)) / 2 = -0.25
    assert backward_transfer(R) == pytest.approx(-0.25)


def test_forward_transfer_gem():
    # ((R01 - b1) + (R12 - b2)) / 2 = ((0.95 - 0.2) + (0.3 - 0.25)) / 2 = 0.4
    assert forward_transfer(R, B) == pytest.approx(0.4)


def test_forgetting_chaudhry():
    # f0 = max(R00, R10) - R20 = 0.85 - 0.5 = 0.35
    # f1 = max(R11) - R21 = 0.9 - 0.7 = 0.2 (R01 = 0.95 is before task 1 was trained)
    np.testing.assert_allclose(forgetting_per_task(R), [0.35, 0.2])
    assert forgetting(R) == pytest.approx(0.275)
    assert forgetting(R) != pytest.approx(-backward_transfer(R))


def test_average_incremental_accuracy_icarl():
    # A0 = 0.8, A1 = (0.85 + 0.9) / 2 = 0.875, A2 = 2.15 / 3; mean of the three
    assert average_incremental_accuracy(R) == pytest.approx((0.8 + 0.875 + 2.15 / 3) / 3)
    # weighted by test sizes n = (100, 300, 100):
    # A1 = (85 + 270) / 400 = 0.8875, A2 = (50 + 210 + 95) / 500 = 0.71
    weighted = average_incremental_accuracy(R, sizes=[100, 300, 100])
    assert weighted == pytest.approx((0.8 + 0.8875 + 0.71) / 3)


def test_summary_collects_everything():
    s = continual_summary(R, B)
    assert s == pytest.approx(
        {
            "accuracy": 2.15 / 3,
            "incremental_accuracy": (0.8 + 0.875 + 2.15 / 3) / 3,
            "bwt": -0.25,
            "forgetting": 0.275,
            "fwt": 0.4,
        }
    )
    single = continual_summary([[0.7]])
    assert single == pytest.approx({"accuracy": 0.7, "incremental_accuracy": 0.7})


def test_no_forgetting_when_accuracy_only_grows():
    grows = np.array([[0.5, 0.0], [0.6, 0.9]])
    assert forgetting(grows) == pytest.approx(-0.1)  # max(R00) - R10 = 0.5 - 0.6
    assert backward_transfer(grows) == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        (np.zeros((2, 3)), "square"),
        (np.zeros((0, 0)), "no tasks"),
        ([[0.5, 0.1], [np.nan, 0.2]], r"R\[1, 0\]"),
        ([[0.5, 0.1], [0.3, 1.5]], r"R\[1, 1\]"),
        ([[-0.1, 0.1], [0.3, 0.5]], r"R\[0, 0\]"),
        ([[85.0, 10.0], [70.0, 90.0]], r"\[0, 1\]"),
        ([["a", "b"], ["c", "d"]], "numeric"),
    ],
)
def test_invalid_matrices_are_rejected(matrix, message):
    with pytest.raises(DataError, match=message):
        check_accuracy_matrix(matrix)
    with pytest.raises(DataError, match=message):
        average_accuracy(matrix)


def test_transfer_needs_two_tasks_and_matching_baseline():
    with pytest.raises(DataError, match="at least 2 tasks"):
        backward_transfer([[0.9]])
    with pytest.raises(DataError, match="at least 2 tasks"):
        forgetting([[0.9]])
    with pytest.raises(DataError, match="one value per task"):
        forward_transfer(R, [0.1, 0.2])
    with pytest.raises(DataError, match="random_accuracy"):
        forward_transfer(R, [0.1, 0.2, 2.0])
    with pytest.raises(DataError, match="sizes"):
        average_incremental_accuracy(R, sizes=[1, 0, 1])
