"""Memory models (FSRS, HLR, DASH, SM-2): hand-computed recall, agreement with
py-fsrs, HLR's gradient and parameter recovery, forgetting over time, batch
against online scoring, and state round trips."""

from __future__ import annotations

import json
import math
import sys
import types
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from fsrs import Card, Rating, Scheduler
from fsrs.scheduler import DEFAULT_PARAMETERS

from mentor.errors import DataError, ParameterError, StateError
from mentor.events import EventLog
from mentor.students.base import StudentModel
from mentor.students.memory import DASH, FSRS, HLR, SM2
from mentor.students.memory._history import DAY, Reviews, ratings_of
from mentor.students.memory.dash import window_counts
from mentor.students.memory.hlr import HLRData, features

T0 = 1_704_067_200.0  # 2024-01-01T00:00:00Z


def reviews(times_days, ratings, learner="ann", card="c1"):
    """One card's reviews at the given days after T0 with the given ratings (1-4)."""
    ratings = np.asarray(ratings)
    n = len(ratings)
    return EventLog(
        [learner] * n,
        [card] * n,
        T0 + np.asarray(times_days, dtype=float) * DAY,
        (ratings > 1).astype(float),
        {"rating": ratings},
    )


def simulated_log(
    n_cards=60,
    n_reviews=8,
    learners=("ann", "bob"),
    seed=0,
    theta=None,
    gaps=(0.01, 30.0),
    soft=False,
):
    """Reviews drawn from an HLR forgetting curve: for each (learner, card), gaps of
    0.01 to 30 days (log-uniform, or within ``gaps``), recall ~ Bernoulli(2 ** (-gap / h))
    with h = 2 ** (theta . (1, sqrt(1 + right), sqrt(1 + wrong))); lapses are rated 1,
    successes 2, 3 or 4. With ``soft``, the outcome is the recall probability itself
    (counted as that fraction of a right answer)."""
    rng = np.random.default_rng(seed)
    theta = np.array([1.0, 1.0, -0.8] if theta is None else theta)
    rows = []
    for learner in learners:
        for c in range(n_cards):
            t, right, wrong = T0 + rng.uniform(0, 5) * DAY, 1.0, 0.0
            rows.append((learner, f"k{c}", t, 1.0, 3))  # first review: learnt
            for _ in range(n_reviews - 1):
                gap = math.exp(rng.uniform(*np.log(gaps)))
                t += gap * DAY
                h = 2.0 ** (theta @ [1.0, math.sqrt(1 + right), math.sqrt(1 + wrong)])
                p = 2.0 ** (-gap / h)
                outcome = p if soft else float(rng.random() < p)
                rating = int(rng.choice([2, 3, 3, 4])) if outcome >= 0.5 else 1
                rows.append((learner, f"k{c}", t, outcome, rating))
                right, wrong = right + outcome, wrong + 1.0 - outcome
    rows.sort(key=lambda r: r[2])
    learner, card, time, outcome, rating = zip(*rows, strict=True)
    return EventLog(list(learner), list(card), list(time), list(outcome), {"rating": rating})


def split(log, fraction=0.6):
    order = np.argsort(log.time, kind="stable")
    cut = int(len(log) * fraction)
    return log[order[:cut]], log[order[cut:]]


def model_zoo():
    return [FSRS(optimize=False), HLR(), HLR(alpha=0.0, l2=0.01, card_bias=True), DASH(), SM2()]


ZOO_IDS = ["fsrs", "hlr", "hlr-card-bias", "dash", "sm2"]


# --------------------------------------------------------------------- hand-computed recall


def test_hlr_recall_matches_hand_computation():
    # theta = (1, .5, -.5); reviews at days 0 (right), 1 (wrong), 3 (right).
    # Before day 1: 1 right, 0 wrong: z = 1 + .5 sqrt 2 - .5 = 1.207107, h = 2.308742,
    #   p = 2^(-1 / 2.308742) = .740650.
    # Before day 3: 1 right, 1 wrong: z = 1, h = 2, p = 2^(-2/2) = .5.
    # After day 3: 2 right, 1 wrong: z = 1 + .5 sqrt 3 - .5 sqrt 2 = 1.158919,
    #   h = 2.232900 days; p(+0.5 day) = .856233, p(+2 days) = .537488.
    model = HLR()
    model.theta_ = np.array([1.0, 0.5, -0.5])
    log = EventLog(["ann"] * 3, ["c1"] * 3, T0 + np.array([0.0, 1.0, 3.0]) * DAY, [1.0, 0.0, 1.0])
    batch = model.predict_log(log)
    assert batch[1:] == pytest.approx([0.740650, 0.5], abs=1e-6)
    assert batch[0] == pytest.approx(0.5)  # new card, no first review yet: (0 + 1) / (0 + 2)
    model.update(log)
    at = T0 + np.array([3.5, 5.0]) * DAY
    p = [model.predict("ann", ["c1"], t)[0] for t in at]
    assert p == pytest.approx([0.856233, 0.537488], abs=1e-6)
    assert model.state("ann")["half_life"]["c1"] == pytest.approx(2.232900, abs=1e-6)
    # now = the last review, where nothing is forgotten yet
    assert model.state("ann")["mastery"]["c1"] == pytest.approx(1.0)


def test_sm2_intervals_and_recall_match_hand_computation():
    # Ratings Good, Good, Good, Again, Easy, Good, Good (SM-2 quality 4 4 4 2 5 4 4):
    #   I = 1, 6, 6 x 2.5 = 15; lapse: I = 1, EF = 2.5 + .1 - 3 (.08 + 3 x .02) = 2.18;
    #   Easy: I = 1, EF = 2.28; Good: I = 6; Good: I = round(6 x 2.28 + .01) = 14.
    model = SM2()
    ratings = [3, 3, 3, 1, 4, 3, 3]
    days = [0, 1, 7, 22, 22.01, 23, 29]
    intervals = []
    for d, r in zip(days, ratings, strict=True):
        model.update(reviews([d], [r]))
        intervals.append(model.interval_[0])
    assert intervals == [1, 6, 15, 1, 1, 6, 14]
    assert model.easiness_[0] == pytest.approx(2.28)
    # p = 0.9 ** (elapsed / interval): 7 days after the last review, sqrt(.9) = .948683;
    # 14 days, .9; 3 days, .9 ** (3/14) = .977676
    p = model.predict("ann", ["c1"], T0 + (29 + 7) * DAY)
    assert p[0] == pytest.approx(0.948683, abs=1e-6)
    assert model.predict("ann", ["c1"], T0 + 43 * DAY)[0] == pytest.approx(0.9)
    assert model.predict("ann", ["c1"], T0 + 32 * DAY)[0] == pytest.approx(0.977676, abs=1e-6)
    state = model.state("ann")
    assert state["interval"]["c1"] == 14 and state["due"]["c1"] == T0 + (29 + 14) * DAY


def test_sm2_without_ratings_reads_outcomes_as_again_or_good():
    log = EventLog(["a"] * 3, ["c"] * 3, T0 + np.array([0.0, 1.0, 7.0]) * DAY, [1.0, 0.2, 0.7])
    assert ratings_of(log).tolist() == [3, 1, 3]
    model = SM2().fit(log)
    assert model.interval_ == [1.0]  # Good: 1; Again: 1; Good after a lapse: 1
    assert model.easiness_[0] == pytest.approx(2.5 - 0.32)


# --------------------------------------------------------------------- FSRS = py-fsrs


def fsrs_recall(scheduler: Scheduler, card: Card, when: datetime, elapsed: str) -> float:
    """py-fsrs's retrievability (whole days), or the FSRS-6 curve
    R = (1 + F t / S) ** -w20, F = 0.9 ** (-1 / w20) - 1, at the exact time t in days."""
    if elapsed == "days":
        return scheduler.get_card_retrievability(card, when)
    w20 = scheduler.parameters[20]
    t = (when - card.last_review).total_seconds() / 86400
    return (1 + (0.9 ** (-1 / w20) - 1) * t / card.stability) ** -w20


@pytest.mark.parametrize("elapsed", ["exact", "days"])
@pytest.mark.parametrize("parameters", [None, "perturbed"])
def test_fsrs_agrees_with_fsrs_scheduler(parameters, elapsed):
    if parameters == "perturbed":
        parameters = list(DEFAULT_PARAMETERS)
        parameters[8] *= 0.9
        parameters[20] = 0.3
    days = [0.0, 0.003, 0.01, 1.2, 4.5, 4.51, 15.0, 40.7]
    ratings = [1, 3, 3, 3, 1, 3, 4, 2]
    model = FSRS(parameters=parameters, optimize=False, elapsed=elapsed)
    scheduler = Scheduler(parameters=parameters or DEFAULT_PARAMETERS, enable_fuzzing=False)
    card = Card(card_id=1)
    online = []
    for d, r in zip(days, ratings, strict=True):
        when = datetime.fromtimestamp(T0, UTC) + timedelta(days=d)
        if card.last_review is not None:
            online.append(fsrs_recall(scheduler, card, when, elapsed))
        card, _ = scheduler.review_card(card, Rating(r), review_datetime=when)
    log = reviews(days, ratings)
    assert model.predict_log(log)[1:] == pytest.approx(online, rel=1e-12)
    # whole days: 1.0 within a day of a review; exact: below 1 from the first minute
    assert (online[0] == 1.0) == (elapsed == "days") and online[0] > 0.99
    model.update(log)
    assert model.state("ann")["stability"]["c1"] == pytest.approx(card.stability, rel=1e-12)
    assert model.state("ann")["difficulty"]["c1"] == pytest.approx(card.difficulty, rel=1e-12)
    for later in (0.2, 1.3, 3.7, 30.2, 400.5):
        when = datetime.fromtimestamp(T0, UTC) + timedelta(days=days[-1] + later)
        expected = fsrs_recall(scheduler, card, when, elapsed)
        assert model.predict("ann", ["c1"], when.timestamp())[0] == pytest.approx(expected)


@pytest.mark.torch
def test_fsrs_fit_runs_the_fsrs_optimizer_and_keeps_its_weights():
    pytest.importorskip("torch")
    # 2 x 60 cards x 6 reviews a day or more after the previous one: 720 reviews, enough
    # for fsrs.Optimizer (it keeps the default weights below 512)
    log = simulated_log(n_cards=60, n_reviews=7, seed=3, gaps=(1.0, 30.0))
    model = FSRS().fit(log)
    assert model.optimized_
    assert model.parameters_ != list(DEFAULT_PARAMETERS)
    state = json.loads(json.dumps(model.state_dict()))
    assert state["state"]["parameters"] == model.parameters_
    restored = FSRS.from_state_dict(state)
    assert restored.parameters_ == model.parameters_
    _, test = split(log)
    assert np.array_equal(restored.predict_log(test), model.predict_log(test))


def test_fsrs_fit_without_torch_warns_and_keeps_default_weights(monkeypatch):
    # what fsrs.optimizer offers when torch is missing: an Optimizer that raises ImportError
    fake = types.ModuleType("fsrs.optimizer")

    class Optimizer:
        def __init__(self, *args, **kwargs):
            raise ImportError(
                'Optimizer is not installed.\nInstall it with: pip install "fsrs[optimizer]"'
            )

    fake.Optimizer = Optimizer
    monkeypatch.setitem(sys.modules, "fsrs.optimizer", fake)
    log = simulated_log(n_cards=5, n_reviews=3)
    with pytest.warns(RuntimeWarning, match=r"needs PyTorch \(pip install 'mentor\[torch\]'\)"):
        model = FSRS().fit(log)
    assert not model.optimized_
    assert model.parameters_ == list(DEFAULT_PARAMETERS)
    assert len(model.cards_) == 10


# --------------------------------------------------------------------- HLR fitting


def test_hlr_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    n, cards = 200, 7
    correct = rng.integers(0, 6, n).astype(float)
    count = correct + rng.integers(0, 4, n)
    delta = np.exp(rng.uniform(-3, 3, n))
    p = np.clip(rng.uniform(0, 1, n), 1e-4, 1 - 1e-4)
    data = HLRData(
        features(correct, count),
        rng.integers(0, cards, n),
        np.arange(cards),
        delta,
        p,
        np.clip(-delta / np.log2(p), 15 / 1440, 274),
    )
    model = HLR(alpha=0.01, l2=0.1, card_bias=True)
    params = np.r_[0.3, 0.4, -0.2, rng.normal(0, 0.1, cards)]
    _, grad = model.loss(params, data)
    eps = 1e-6
    numeric = np.array(
        [
            (model.loss(params + eps * e, data)[0] - model.loss(params - eps * e, data)[0])
            / (2 * eps)
            for e in np.eye(len(params))
        ]
    )
    assert grad == pytest.approx(numeric, rel=1e-5, abs=1e-8)


def test_hlr_recovers_theta_exactly_from_noise_free_recall():
    # Outcomes are the recall probabilities of theta = (1, 1, -0.8) themselves: the
    # recall term (alpha = 0) without L2 is zero there, and L-BFGS-B finds it to 1e-3.
    theta = np.array([1.0, 1.0, -0.8])
    log = simulated_log(n_cards=300, n_reviews=8, seed=5, theta=theta, soft=True)
    model = HLR(alpha=0.0, l2=0.0).fit(log)
    assert model.theta_ == pytest.approx(theta, abs=1e-3)
    assert model.loss_ < 1e-10


def test_hlr_recovers_theta_from_simulated_binary_reviews():
    # 2 x 2,500 cards x 8 reviews, recall ~ Bernoulli: least squares on the recall term
    # is consistent, but the bias and sqrt(1 + right) weights are strongly correlated;
    # over 8 seeds the estimates scatter with a standard deviation of about 0.1, so each
    # weight must come back within 0.25.
    theta = np.array([1.0, 1.0, -0.8])
    log = simulated_log(n_cards=2500, n_reviews=8, seed=0, theta=theta)
    model = HLR(alpha=0.0, l2=0.0).fit(log)
    assert model.theta_ == pytest.approx(theta, abs=0.25)


def test_hlr_half_life_term_pulls_half_lives_up():
    log = simulated_log(n_cards=40, seed=2)
    short = HLR(alpha=0.0).fit(log).state("ann")["half_life"]
    long = HLR(alpha=0.01).fit(log).state("ann")["half_life"]
    assert np.median(list(long.values())) > np.median(list(short.values()))


# --------------------------------------------------------------------- DASH


def test_dash_window_counts_match_a_direct_count():
    rng = np.random.default_rng(4)
    group = np.sort(rng.integers(0, 5, 300))
    time = np.concatenate([np.sort(rng.uniform(0, 100, (group == g).sum())) for g in range(5)])
    time[10] = time[9]  # a tie
    outcome = rng.uniform(0, 1, 300)
    windows = [1.0, 10.0, 50.0]
    total, correct = window_counts(group, time, outcome, windows)
    for i in range(300):
        earlier = (group == group[i]) & (np.arange(300) < i)
        for j, w in enumerate([*windows, np.inf]):
            inside = earlier & (time[i] - time <= w)
            assert total[i, j] == inside.sum()
            assert correct[i, j] == pytest.approx(outcome[inside].sum())


def test_dash_counts_reviews_in_windows():
    model = DASH(windows=[3600.0, DAY])
    model.coef_ = np.array([0.0, 1.0, 0.0, 0.0, 0.0, 0.0])  # log(1 + reviews in the last hour)
    model.update(reviews([0.0, 0.5, 0.99], [3, 1, 3]))
    at = T0 + 0.99 * DAY
    assert model.predict("ann", ["c1"], at)[0] == pytest.approx(1 / (1 + 1 / 2))  # sigma(log 2)
    assert model.predict("ann", ["c1"], at + 3601)[0] == pytest.approx(0.5)  # sigma(0)


# --------------------------------------------------------------------- shared properties


def fitted_zoo():
    log = simulated_log(seed=7)
    train, test = split(log)
    return [m.fit(train) for m in model_zoo()], test


@pytest.fixture(scope="module")
def fitted():
    return fitted_zoo()


@pytest.mark.parametrize("index", range(len(ZOO_IDS)), ids=ZOO_IDS)
def test_recall_falls_as_time_passes(fitted, index):
    models, test = fitted
    model = type(models[index]).from_state_dict(models[index].state_dict())
    model.update(test)
    cards = sorted(model.state("ann")["mastery"])
    now = model.reviews_.now["ann"]
    times = now + np.r_[0.0, np.exp(np.linspace(np.log(60), np.log(400 * DAY), 80))]
    p = np.array([model.predict("ann", cards, t) for t in times])  # (time, card)
    steps = np.diff(p, axis=0)
    if isinstance(model, DASH):  # monotone only with non-negative window weights
        model.coef_ = np.abs(model.coef_)
        assert model.is_monotone()
        p = np.array([model.predict("ann", cards, t) for t in times])
        steps = np.diff(p, axis=0)
    assert np.all(steps <= 1e-15)
    # and falls somewhere for every card (DASH: those reviewed in the last 30 days)
    falls = p[-1] < p[0]
    if isinstance(model, DASH):
        last = np.array([model.reviews_.last_time[model.reviews_.row("ann", c)] for c in cards])
        assert np.array_equal(falls, now - last < 30 * DAY)
    else:
        assert np.all(falls)
    if isinstance(model, (HLR, SM2)):  # continuous curves: strictly falling
        assert np.all(steps[p[:-1] > 1e-12] < 0)


def test_dash_with_a_negative_window_weight_can_recall_more_later():
    # Reviews at day 0 (right) and day 0.99 (wrong); weight -1 on log(1 + reviews in
    # the last day): while the lapse is in the window, logit = -log 2; once it leaves
    # (day 1.99), only the all-time counts remain and recall goes back up to 1/2.
    model = DASH(windows=[DAY])
    model.coef_ = np.array([0.0, -1.0, 0.0, 0.0])
    model.update(reviews([0.0, 0.99], [3, 1]))
    assert not model.is_monotone()
    early, late = (
        model.predict("ann", ["c1"], T0 + 1.5 * DAY)[0],
        model.predict("ann", ["c1"], T0 + 2.5 * DAY)[0],
    )
    assert early == pytest.approx(1 / 3) and late == pytest.approx(0.5)


@pytest.mark.parametrize("index", range(len(ZOO_IDS)), ids=ZOO_IDS)
def test_predict_log_equals_online_replay(fitted, index):
    models, test = fitted
    model = models[index]
    batch = model.predict_log(test)
    assert np.all((batch >= 0) & (batch <= 1))
    # the contract's generic replay (copy, then predict and update one event at a time)
    assert batch == pytest.approx(StudentModel.predict_log(model, test), abs=1e-12)
    # and by hand, with the model itself
    copy = type(model).from_state_dict(model.state_dict())
    online = []
    for event in test:
        online.append(copy.predict(event.learner, [event.item], event.time)[0])
        copy.update(
            EventLog(
                [event.learner],
                [event.item],
                [event.time],
                [event.outcome],
                {"rating": [event.extra["rating"]]},
            )
        )
    assert batch == pytest.approx(online, abs=1e-12)


@pytest.mark.parametrize("index", range(len(ZOO_IDS)), ids=ZOO_IDS)
def test_state_round_trips_through_json(fitted, index):
    models, test = fitted
    model = models[index]
    restored = type(model).from_state_dict(json.loads(json.dumps(model.state_dict())))
    assert np.array_equal(restored.predict_log(test), model.predict_log(test))
    later = model.reviews_.now["ann"] + 3.3 * DAY
    cards = ["k0", "k1", "k5", "never-seen"]
    for learner in ("ann", "bob", "new"):
        assert np.array_equal(
            restored.predict(learner, cards, later), model.predict(learner, cards, later)
        )
        assert restored.state(learner) == model.state(learner)
    json.dumps(model.state("ann"), allow_nan=False)  # state() is plain data


@pytest.mark.parametrize("index", range(len(ZOO_IDS)), ids=ZOO_IDS)
def test_state_has_recall_now_per_card(fitted, index):
    models, _ = fitted
    model = models[index]
    state = model.state("ann")
    assert set(state["mastery"]) == {card for (who, card) in model.reviews_.row_of if who == "ann"}
    assert all(0 <= p <= 1 for p in state["mastery"].values())
    assert state["time"] == model.reviews_.now["ann"]
    assert model.state("nobody") == {
        "time": None,
        "mastery": {},
        "reviews": {},
        "new_card_recall": model.reviews_.new_card_recall(),
        **{k: {} for k in state if k not in ("time", "mastery", "reviews", "new_card_recall")},
    }


def test_new_cards_get_the_first_review_success_rate():
    log = EventLog(["a", "a", "b", "b"], ["x", "y", "x", "x"], [0, 1, 2, 3], [1.0, 0.0, 1.0, 0.0])
    for model in model_zoo():
        model.fit(log)
        # first reviews: a/x right, a/y wrong, b/x right -> (2 + 1) / (3 + 2)
        assert model.predict("a", ["unseen"])[0] == pytest.approx(0.6)
        assert model.predict("zed", ["x"])[0] == pytest.approx(0.6)


# --------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("cls", "params"),
    [
        (FSRS, {"desired_retention": 1.5}),
        (FSRS, {"parameters": [0.1] * 3}),
        (FSRS, {"parameters": [*DEFAULT_PARAMETERS[:20], 5.0]}),
        (HLR, {"alpha": -1}),
        (HLR, {"l2": float("nan")}),
        (HLR, {"min_half_life": 2.0, "max_half_life": 1.0}),
        (HLR, {"max_iter": 2.5}),
        (DASH, {"windows": [3600, -1]}),
        (DASH, {"windows": [3600, 3600]}),
        (DASH, {"transform": "cube"}),
        (DASH, {"C": 0}),
        (SM2, {"easiness": 1.0}),
        (SM2, {"max_interval": 0}),
    ],
)
def test_bad_hyper_parameters_raise_parameter_error(cls, params):
    with pytest.raises(ParameterError):
        cls(**params)


def test_bad_ratings_and_corrupt_states_are_mentor_errors():
    log = EventLog(["a"], ["x"], [0.0], [1.0], {"rating": [7]})
    with pytest.raises(DataError, match="rating must be 1"):
        SM2().fit(log)
    state = SM2().fit(simulated_log(n_cards=3)).state_dict()
    state["state"]["interval"] = state["state"]["interval"][:-1]
    with pytest.raises(StateError, match="sm2"):
        SM2.from_state_dict(state)
    state = FSRS(optimize=False).fit(simulated_log(n_cards=3)).state_dict()
    state["state"]["parameters"][0] = -5
    with pytest.raises(StateError, match="fsrs"):
        FSRS.from_state_dict(state)
    with pytest.raises(StateError, match="kind 'fsrs', expected 'hlr'"):
        HLR.from_state_dict(state)


def test_lookback_matches_recording_one_review_at_a_time():
    log = simulated_log(n_cards=10, seed=9)
    first, second = split(log, 0.5)
    state = Reviews()
    for event in first:
        row, _ = state.open(event.learner, event.item)
        state.record(row, event.time, event.outcome)
    look = state.lookback(second)
    for i, event in enumerate(second):
        row, new = state.open(event.learner, event.item)
        assert look.count[i] == state.count[row]
        assert look.correct[i] == pytest.approx(state.correct[row])
        if new:
            assert math.isnan(look.last_time[i])
        else:
            assert look.last_time[i] == state.last_time[row]
        assert look.new_card_recall[i] == pytest.approx(state.new_card_recall())
        state.record(row, event.time, event.outcome)


def test_dash_recovers_simulated_weights():
    """Reviews drawn from DASH itself (one 1-day window plus all time, log
    transform): the fitted weights lie within 4 standard errors of the true ones,
    the errors from the Fisher information of the logistic regression at the fit."""
    rng = np.random.default_rng(5)
    true_coef, true_intercept = np.array([0.8, -0.3, 0.6, -0.4]), 0.4
    n_cards, n_reviews = 3000, 8
    gaps = np.where(
        rng.random((n_cards, n_reviews)) < 0.4,
        rng.uniform(0.05, 0.9, (n_cards, n_reviews)),
        rng.uniform(1.5, 9.0, (n_cards, n_reviews)),
    )
    times = np.cumsum(gaps, axis=1) * DAY  # seconds, per card
    outcomes = np.zeros((n_cards, n_reviews))
    for k in range(n_reviews):
        recent = times[:, :k] >= times[:, k : k + 1] - DAY
        x = np.log1p(
            np.stack(
                [
                    (outcomes[:, :k] * recent).sum(1),
                    recent.sum(1),
                    outcomes[:, :k].sum(1),
                    np.full(n_cards, k),
                ],
                axis=1,
            )
        )
        p = 1 / (1 + np.exp(-(x @ true_coef + true_intercept)))
        outcomes[:, k] = rng.random(n_cards) < p
    cards = np.repeat([f"c{i}" for i in range(n_cards)], n_reviews)
    order = np.argsort(times.ravel(), kind="stable")  # one learner's reviews, in time order
    log = EventLog(
        ["ann"] * cards.size, cards[order], T0 + times.ravel()[order], outcomes.ravel()[order]
    )
    model = DASH(windows=[DAY], C=1e6).fit(log)
    x, look = model._log_features(log.sorted())
    x = np.c_[x[look.seen], np.ones(int(look.seen.sum()))]
    p = 1 / (1 + np.exp(-(x @ np.r_[model.coef_, model.intercept_])))
    se = np.sqrt(np.diag(np.linalg.inv(x.T @ (x * (p * (1 - p))[:, None]))))
    error = np.r_[model.coef_, model.intercept_] - np.r_[true_coef, true_intercept]
    assert np.all(np.abs(error) < 4 * se), (error, se)
    assert se.max() < 0.15  # the test has power: a wrong weight of 0.6 would fail it
