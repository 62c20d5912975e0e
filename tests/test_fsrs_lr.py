"""FSRS with a logistic correction (``fsrs-lr``): with no correction it is FSRS itself; a
hand-computed prediction for a tiny history; the fit recovers a known shift of FSRS's
logit; state round trips; bad parameters and corrupt states are refused."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from fsrs import Card, Rating, Scheduler, State
from fsrs.scheduler import DEFAULT_PARAMETERS
from scipy.optimize import brentq
from scipy.special import expit, logit

from mentor.errors import ParameterError, StateError
from mentor.events import EventLog
from mentor.metrics import log_loss
from mentor.students import MODELS
from mentor.students.memory import FSRS, FSRSLogistic
from mentor.students.memory._history import DAY
from mentor.students.memory.fsrs_lr import FEATURES, MINUTE, Correction

T0 = 1_704_067_200.0  # 2024-01-01T00:00:00Z


def reviews(times_days, ratings, learner="ann", card="c1"):
    ratings = np.asarray(ratings)
    n = len(ratings)
    return EventLog(
        [learner] * n,
        [card] * n,
        T0 + np.asarray(times_days, dtype=float) * DAY,
        (ratings > 1).astype(float),
        {"rating": ratings},
    )


def fsrs_card(days, ratings):
    """The py-fsrs card after the given reviews (default weights, no fuzz)."""
    scheduler = Scheduler(enable_fuzzing=False)
    card = Card(card_id=1)
    for d, r in zip(days, ratings, strict=True):
        when = datetime.fromtimestamp(T0, UTC) + timedelta(days=d)
        card, _ = scheduler.review_card(card, Rating(r), review_datetime=when)
    return card


def fsrs_recall(card, days_since):
    """FSRS-6's curve with the default weights: R = (1 + F t / S) ** -w20."""
    w20 = DEFAULT_PARAMETERS[20]
    return (1 + (0.9 ** (-1 / w20) - 1) * days_since / card.stability) ** -w20


def shifted_log(n_cards, shift, seed, learner="ann"):
    """Cross-day reviews (gaps of 1 to 30 days, log-uniform) whose recall is FSRS-6's
    (default weights) with its logit moved by ``shift``: p = expit(logit R + shift).
    First review rated Good; then Good on success, Again on a lapse."""
    rng = np.random.default_rng(seed)
    scheduler = Scheduler(enable_fuzzing=False)
    rows = []
    for c in range(n_cards):
        t = T0 + rng.uniform(0, 10) * DAY
        card, _ = scheduler.review_card(
            Card(card_id=c), Rating.Good, review_datetime=datetime.fromtimestamp(t, UTC)
        )
        rows.append((f"k{c}", t, 1.0, 3))
        for _ in range(7):
            gap = math.exp(rng.uniform(0.0, math.log(30.0)))
            t += gap * DAY
            r = fsrs_recall(card, gap)
            p = 1.0 / (1.0 + math.exp(-(math.log(r / (1 - r)) + shift)))
            success = bool(rng.random() < p)
            rating = 3 if success else 1
            card, _ = scheduler.review_card(
                card, Rating(rating), review_datetime=datetime.fromtimestamp(t, UTC)
            )
            rows.append((f"k{c}", t, float(success), rating))
    rows.sort(key=lambda row: row[1])
    card_ids, times, outcomes, ratings = zip(*rows, strict=True)
    return EventLog(
        [learner] * len(rows), list(card_ids), list(times), list(outcomes), {"rating": ratings}
    )


def test_registered_under_its_name():
    assert MODELS["fsrs-lr"] is FSRSLogistic


def test_without_a_correction_it_is_fsrs():
    days = [0.0, 0.003, 0.01, 1.2, 4.5, 4.51, 15.0, 40.7]
    ratings = [1, 3, 3, 3, 1, 3, 4, 2]
    log = reviews(days, ratings)
    model, fsrs = FSRSLogistic(optimize=False), FSRS(optimize=False)
    assert model.predict_log(log) == pytest.approx(fsrs.predict_log(log), rel=1e-12)
    model.update(log)
    fsrs.update(log)
    later = T0 + np.array([40.8, 41.7, 60.0, 400.0]) * DAY
    for t in later:
        assert model.predict("ann", ["c1"], t)[0] == pytest.approx(
            fsrs.predict("ann", ["c1"], t)[0], rel=1e-12
        )


def test_prediction_matches_hand_computation():
    days, ratings = [0.0, 0.01, 2.0], [3, 1, 3]
    model = FSRSLogistic(optimize=False)
    model.update(reviews(days, ratings))
    card = fsrs_card(days, ratings)
    cross = np.zeros(len(FEATURES))
    cross[FEATURES.index("log_elapsed")] = 0.5
    cross[FEATURES.index("log_lapses")] = -0.3
    cross[FEATURES.index("success_rate")] = 2.0
    model.corrections_["cross_day"] = Correction(
        np.zeros(len(FEATURES)), np.ones(len(FEATURES)), cross, 0.2, 1.0, 10
    )
    same = np.zeros(len(FEATURES))
    same[FEATURES.index("last_good")] = 0.7
    model.corrections_["same_day"] = Correction(
        np.full(len(FEATURES), 1.0), np.full(len(FEATURES), 2.0), same, -1.0, 1.0, 10
    )
    # 3 reviews, 1 lapse, 2 successes: success rate (2 + 1) / (3 + 2) = 0.6
    x, is_cross = model.features(np.array([0]), T0 + 5.5 * DAY)
    r = fsrs_recall(card, 3.5)
    expected_x = [
        math.log(r / (1 - r)),
        math.log(3.5 + MINUTE),
        math.log(card.stability),
        card.difficulty,
        math.log(4.0),
        math.log(2.0),
        0.6,
        0.0,
        1.0,
        0.0,
        float(card.state == State.Learning),
        float(card.state == State.Relearning),
    ]
    assert x[0] == pytest.approx(expected_x, rel=1e-12) and bool(is_cross[0])
    eta = math.log(r / (1 - r)) + 0.2 + 0.5 * math.log(3.5 + MINUTE) - 0.3 * math.log(2) + 1.2
    expected = 1 / (1 + math.exp(-eta))
    assert model.predict("ann", ["c1"], T0 + 5.5 * DAY)[0] == pytest.approx(expected, rel=1e-12)
    # 0.4 days after the last review: same-day, z = (x - 1) / 2, only "last Good" weighed
    r = fsrs_recall(card, 0.4)
    eta = math.log(r / (1 - r)) - 1.0 + 0.7 * (1.0 - 1.0) / 2.0
    assert model.predict("ann", ["c1"], T0 + 2.4 * DAY)[0] == pytest.approx(
        1 / (1 + math.exp(-eta)), rel=1e-12
    )
    # exactly one day after the last review is cross-day
    assert bool(model.features(np.array([0]), T0 + 3.0 * DAY)[1][0])


def test_fit_recovers_a_known_shift_of_fsrs_logit():
    # outcomes drawn with logit p = logit R - 1; with the weights held at 0 by a huge
    # penalty, the intercept is the maximum-likelihood shift of FSRS's logit, the root
    # of sum(expit(logit R + b) - y) = 0, and lies within 4 standard errors
    # (1 / sqrt(sum p (1 - p))) of -1
    train = shifted_log(250, -1.0, seed=0)
    model = FSRSLogistic(optimize=False, l2=[1e9]).fit(train)
    cross = model.corrections_["cross_day"]
    assert cross.reviews == 250 * 7 and cross.l2 == 1e9
    assert np.abs(cross.coef).max() < 1e-3
    offset = logit(np.clip(FSRS(optimize=False).predict_log(train), 1e-6, 1 - 1e-6))
    seen = np.array([card in train.item[:i].tolist() for i, card in enumerate(train.item.tolist())])
    y = train.outcome[seen]
    mle = brentq(lambda b: np.sum(expit(offset[seen] + b) - y), -10, 10)
    assert cross.intercept == pytest.approx(mle, abs=2e-3)
    p = expit(offset[seen] + mle)
    assert abs(mle + 1.0) < 4 / math.sqrt(np.sum(p * (1 - p)))
    # no same-day review to learn from: FSRS itself there
    same = model.corrections_["same_day"]
    assert same.reviews == 0 and same.l2 is None and same.intercept == 0.0
    # with the default penalties, it beats FSRS on new reviews drawn the same way
    fitted = FSRSLogistic(optimize=False).fit(train)
    test = shifted_log(150, -1.0, seed=1, learner="bob")
    assert log_loss(test.outcome, fitted.predict_log(test)) < log_loss(
        test.outcome, FSRS(optimize=False).fit(train).predict_log(test)
    )


def test_one_penalty_is_used_as_given_and_the_largest_when_nothing_is_held_out():
    train = shifted_log(20, 0.0, seed=2)
    assert FSRSLogistic(optimize=False, l2=[3.0]).fit(train).corrections_["cross_day"].l2 == 3.0
    # one cross-day review: nothing left to hold out
    log = reviews([0.0, 2.0], [3, 3])
    model = FSRSLogistic(optimize=False, l2=[0.5, 7.0, 2.0]).fit(log)
    assert model.corrections_["cross_day"].l2 == 7.0


def test_state_round_trips_through_json():
    train = shifted_log(40, 0.5, seed=3)
    model = FSRSLogistic(optimize=False).fit(train)
    test = shifted_log(10, 0.5, seed=4)
    restored = FSRSLogistic.from_state_dict(json.loads(json.dumps(model.state_dict())))
    assert restored.get_params() == model.get_params()
    assert np.array_equal(restored.predict_log(test), model.predict_log(test))
    assert restored.state("ann") == model.state("ann")
    later = float(train.time.max()) + 4.2 * DAY
    assert np.array_equal(
        restored.predict("ann", ["k0", "k3", "new"], later),
        model.predict("ann", ["k0", "k3", "new"], later),
    )
    state = model.state_dict()
    state["state"]["corrections"]["cross_day"]["coef"] = [0.0] * 3
    with pytest.raises(StateError, match="fsrs-lr"):
        FSRSLogistic.from_state_dict(state)
    state = model.state_dict()
    state["state"]["lapses"] = state["state"]["lapses"][:-1]
    with pytest.raises(StateError, match="fsrs-lr"):
        FSRSLogistic.from_state_dict(state)


@pytest.mark.parametrize(
    "params",
    [
        {"l2": []},
        {"l2": "1"},
        {"l2": 1.0},
        {"l2": [-1.0]},
        {"l2": [float("nan")]},
        {"holdout": 0.0},
        {"holdout": 1.0},
        {"holdout": True},
        {"max_iter": 0},
        {"max_iter": 2.5},
        {"desired_retention": 1.0},
    ],
)
def test_bad_parameters_raise_parameter_error(params):
    with pytest.raises(ParameterError):
        FSRSLogistic(**params)
