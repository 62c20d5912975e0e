"""Metrics on tiny hand-made examples whose values are worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from mentor.errors import DataError, MentorError
from mentor.metrics import (
    accuracy,
    auc,
    aulc,
    gain_per_step,
    log_likelihood,
    log_loss,
    mean_ci,
    rmse,
)

# Five events: outcomes and predicted P(success).
Y = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
P = np.array([0.9, 0.4, 0.6, 0.3, 0.2])

PREDICTION_METRICS = [log_likelihood, log_loss, rmse, accuracy, auc]


# --------------------------------------------------------------------- prediction
def test_log_likelihood_by_hand():
    # o log p + (1 - o) log(1 - p), event by event:
    # ln .9 + ln(1 - .4) + ln .6 + ln .3 + ln(1 - .2)
    expected = math.log(0.9) + math.log(0.6) + math.log(0.6) + math.log(0.3) + math.log(0.8)
    assert expected == pytest.approx(-2.5541281, abs=1e-7)
    assert log_likelihood(Y, P) == pytest.approx(expected, rel=1e-12)


def test_log_loss_is_mean_negative_log_likelihood():
    assert log_loss(Y, P) == pytest.approx(2.5541281 / 5, abs=1e-7)


def test_log_likelihood_soft_labels():
    # A fractional outcome is a soft label: 0.25 ln .8 + 0.75 ln .2
    expected = 0.25 * math.log(0.8) + 0.75 * math.log(0.2)
    assert log_likelihood([0.25], [0.8]) == pytest.approx(expected, rel=1e-12)


def test_log_likelihood_clips_certain_wrong_predictions():
    # p = 1 for a failure would be -inf; p is clipped to 1 - 1e-12, so about ln(1e-12).
    value = log_likelihood([0.0], [1.0])
    assert math.isfinite(value)
    assert value == pytest.approx(math.log(1e-12), rel=1e-3)
    assert log_likelihood([1.0], [0.0]) == pytest.approx(math.log(1e-12), rel=1e-9)


def test_rmse_by_hand():
    # squared errors .01 .16 .16 .49 .04, mean .172
    assert rmse(Y, P) == pytest.approx(math.sqrt(0.172), rel=1e-12)


def test_accuracy_by_hand():
    # p >= .5: T F T F F against o >= .5: T F T T F, four of five agree
    assert accuracy(Y, P) == pytest.approx(0.8)
    # p = 0.5 counts as predicting success; outcome 0.5 counts as a success
    assert accuracy([1.0, 0.5, 0.0], [0.5, 0.5, 0.5]) == pytest.approx(2 / 3)


def test_auc_by_counting_concordant_pairs():
    # positives score .9 .6 .3, negatives .4 .2: six pairs, only (.3, .4) is discordant
    assert auc(Y, P) == pytest.approx(5 / 6)


def test_auc_counts_ties_as_half():
    # pairs (.7, .4): concordant, (.4, .4): tie = 1/2  -> 1.5 / 2
    assert auc([1, 1, 0], [0.7, 0.4, 0.4]) == pytest.approx(0.75)


def test_auc_thresholds_fractional_outcomes_at_half():
    # 0.6 -> positive, 0.4 -> negative: the positive scores higher
    assert auc([0.6, 0.4], [0.8, 0.3]) == pytest.approx(1.0)
    assert auc([0.6, 0.4], [0.3, 0.8]) == pytest.approx(0.0)


@pytest.mark.parametrize("outcomes", [[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [0.9, 0.6, 0.5]])
def test_auc_is_nan_for_one_class(outcomes):
    assert math.isnan(auc(outcomes, [0.2, 0.5, 0.9]))


@pytest.mark.parametrize("metric", PREDICTION_METRICS)
def test_mismatched_lengths_raise(metric):
    with pytest.raises(DataError, match="3 outcomes but 2 predictions"):
        metric([1.0, 0.0, 1.0], [0.5, 0.5])


@pytest.mark.parametrize("metric", PREDICTION_METRICS)
@pytest.mark.parametrize("bad", [1.2, -0.1, float("nan"), float("inf")])
def test_predictions_outside_unit_interval_raise(metric, bad):
    with pytest.raises(DataError, match=r"probabilities in \[0, 1\]") as info:
        metric([1.0, 0.0], [0.5, bad])
    assert isinstance(info.value, MentorError)


@pytest.mark.parametrize("metric", PREDICTION_METRICS)
def test_no_events_raise(metric):
    with pytest.raises(DataError, match="no events"):
        metric([], [])


@pytest.mark.parametrize("metric", PREDICTION_METRICS)
def test_bounds_of_unit_interval_are_accepted(metric):
    value = metric([1.0, 0.0], [1.0, 0.0])
    assert np.isfinite(value)


# --------------------------------------------------------------------- teaching
def test_mean_ci_against_hand_computation():
    values = [1.0, 2.0, 4.0]
    mean = 7 / 3
    # sample sd: sqrt(((1 - 7/3)^2 + (2 - 7/3)^2 + (4 - 7/3)^2) / 2) = sqrt(7/3)
    sd = math.sqrt(7 / 3)
    t = stats.t.ppf(0.975, df=2)
    assert t == pytest.approx(4.302652729911275)
    half = t * sd / math.sqrt(3)
    got = mean_ci(values)
    assert got == pytest.approx((mean, mean - half, mean + half), rel=1e-12)
    assert half == pytest.approx(3.7945, abs=1e-4)


def test_mean_ci_other_level():
    values = np.array([0.2, 0.4, 0.5, 0.9])
    mean = 0.5
    sd = math.sqrt(((0.3**2) + (0.1**2) + 0.0 + (0.4**2)) / 3)
    half = stats.t.ppf(0.95, df=3) * sd / 2.0
    assert mean_ci(values, level=0.9) == pytest.approx((mean, mean - half, mean + half), rel=1e-12)
    # a lower level gives a narrower interval
    assert mean_ci(values, 0.9)[2] < mean_ci(values, 0.99)[2]


def test_mean_ci_single_value_and_constant_values():
    assert mean_ci([0.3]) == (0.3, 0.3, 0.3)
    mean, low, high = mean_ci([0.5, 0.5, 0.5])
    assert (mean, low, high) == pytest.approx((0.5, 0.5, 0.5))


def test_mean_ci_no_values_raises():
    with pytest.raises(ValueError):
        mean_ci([])


def test_gain_per_step_by_hand():
    assert gain_per_step([0.2, 0.3, 0.5, 0.6]) == pytest.approx(0.4 / 3)
    assert gain_per_step([0.5, 0.5]) == 0.0
    assert gain_per_step([0.8, 0.6, 0.2]) == pytest.approx(-0.3)


def test_aulc_constant_curve_is_the_constant():
    assert aulc(np.full(11, 0.37)) == pytest.approx(0.37)
    assert aulc([0.6, 0.6]) == pytest.approx(0.6)


def test_aulc_linear_curve_is_one_half():
    assert aulc(np.linspace(0.0, 1.0, 11)) == pytest.approx(0.5)
    assert aulc([0.0, 1.0]) == pytest.approx(0.5)


def test_aulc_trapezoid_by_hand():
    # trapezoids (.2+.3)/2 + (.3+.5)/2 + (.5+.6)/2 = 1.2, over 3 steps
    assert aulc([0.2, 0.3, 0.5, 0.6]) == pytest.approx(0.4)
    # a peak: (0 + 1)/2 + (1 + 0)/2 = 1 over 2 steps
    assert aulc([0.0, 1.0, 0.0]) == pytest.approx(0.5)
