"""Logistic student models (IRT 1PL/2PL and PFA): hand-computed predictions and
online updates, gradients against finite differences, parameter recovery on
simulated learners, batch/online agreement, no leakage of an event's own
outcome, JSON round trips, regularisation and bad input.

Hand-computed values are worked out in the comments (sigma is the logistic
function); tolerances of the recovery tests are justified in their docstrings.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad
from scipy.special import expit

from mentor.domain import Domain, Item
from mentor.errors import DataError, MentorError, StateError
from mentor.events import EventLog
from mentor.students.irt import IRT, ability_steps, marginal_objective, rasch_objective
from mentor.students.pfa import PFA, pfa_counts


def with_state(cls, params=None, domain=None, **state):
    """A model of ``cls`` whose learned state is set by hand."""
    saved = cls(domain=domain, **(params or {})).state_dict()
    saved["state"].update(state)
    return cls.from_state_dict(saved, domain=domain)


def replay(model, log):
    """Predict each event, then update on it, one at a time in log order."""
    out = []
    for k in range(len(log)):
        event = log[k]
        out.append(model.predict(event.learner[0].item(), [event.item[0].item()])[0])
        model.update(event)
    return np.array(out)


# --------------------------------------------------------------------- IRT by hand


def test_irt_prediction_matches_hand_computation():
    model = with_state(
        IRT,
        {"parameters": 2},
        items=["q1", "q2"],
        difficulty=[0.5, -2.0],
        discrimination=[2.0, 0.5],
        learners=["ada"],
        ability=[1.0],
        answers=[],
    )
    # ada (theta 1): q1 sigma(2 (1 - .5)) = sigma(1) = .731059;
    # q2 sigma(.5 (1 + 2)) = sigma(1.5) = .817574; unseen q9 has a = 1, b = 0: sigma(1)
    assert model.predict("ada", ["q1", "q2", "q9"]) == pytest.approx(
        [0.731059, 0.817574, 0.731059], abs=1e-6
    )
    # an unseen learner starts at theta = 0: q1 sigma(2 (0 - .5)) = sigma(-1) = .268941
    assert model.predict("new", ["q1"])[0] == pytest.approx(0.268941, abs=1e-6)


def test_irt_online_update_matches_hand_computation():
    # Rasch, l2 = 1, one Newton step per answer, items unseen (b = 0).
    model = IRT(newton_steps=1)
    model.update(EventLog(["ada"], ["q"], [0.0], [1.0]))
    # theta 0, p = .5: f' = (1 - .5) - 1 * 0 = .5, -f'' = .25 + 1 = 1.25 -> theta = .4
    assert model.ability_["ada"] == pytest.approx(0.4)
    assert model.answers_["ada"] == {"q": [1, 1.0]}
    model.update(EventLog(["ada"], ["q2"], [1.0], [0.0]))
    # both items at p = sigma(.4) = .598688: f' = (1 - p) + (0 - p) - .4 = -.597375,
    # -f'' = 2 p (1 - p) + 1 = 1.480521 -> theta = .4 - .403490 = -.003490
    assert model.ability_["ada"] == pytest.approx(-0.003490, abs=1e-6)
    assert model.predict("ada", ["q"])[0] == pytest.approx(expit(-0.003490), abs=1e-6)
    state = model.state("ada")
    assert state["answers"] == 2
    assert state["mastery"]["q"] == pytest.approx(expit(-0.003490), abs=1e-6)

    # Two Newton steps on the first answer: the second step, from .4, is
    # f' = (1 - .598688) - .4 = .001312, -f'' = .240261 + 1 -> theta = .401058, which
    # is already the posterior mode (the root of 1 - sigma(theta) = theta, .4010581).
    model = IRT(newton_steps=2)
    model.update(EventLog(["ada"], ["q"], [0.0], [1.0]))
    assert model.ability_["ada"] == pytest.approx(0.4010581, abs=1e-7)


def test_newton_safeguard_never_lowers_the_posterior():
    # A steep item (a = 10) the learner (theta = 3) failed: p = sigma(30) ~ 1, so
    # -f'' ~ l2 = .01 and a plain Newton step would jump by about -1000.
    theta, a, b, n, s, l2 = np.array([3.0]), np.array([10.0]), np.array([0.0]), 1.0, 0.0, 0.01

    def posterior(t):
        z = a * (t - b)
        return float(s * z[0] - n * np.logaddexp(0.0, z[0]) - l2 / 2 * t**2)

    rows = np.zeros(1, dtype=np.int64)
    point = theta
    for _ in range(20):
        new = ability_steps(point, rows, a, b, np.array([n]), np.array([s]), l2, 1)
        assert posterior(new[0]) >= posterior(point[0]) - 1e-12  # monotone
        assert abs(new[0] - point[0]) < 10  # never the wild Newton jump
        point = new
    # and it still reaches the mode: f'(theta) = -10 sigma(10 theta) - .01 theta = 0
    gradient = -a[0] * expit(a[0] * point[0]) - l2 * point[0]
    assert abs(gradient) < 1e-6


# --------------------------------------------------------------------- gradients


def central_difference(f, x, h=1e-6):
    grad = np.empty_like(x)
    for k in range(x.size):
        step = np.zeros_like(x)
        step[k] = h
        grad[k] = (f(x + step)[0] - f(x - step)[0]) / (2 * h)
    return grad


def random_pairs(rng, n_learners, n_items, size):
    keys = np.unique(rng.integers(0, n_learners * n_items, size))
    learner, item = np.divmod(keys, n_items)
    keep = np.isin(np.arange(n_learners), learner)
    assert keep.all()  # every learner has a pair (marginal_objective needs it)
    n = rng.integers(1, 5, keys.size).astype(float)
    s = n * rng.random(keys.size)  # fractional outcomes
    return learner, item, n, s


def test_rasch_gradient_equals_finite_differences():
    rng = np.random.default_rng(0)
    learner, item, n, s = random_pairs(rng, 6, 5, 40)
    w = rng.normal(size=6 + 5)

    def f(x):
        return rasch_objective(x, learner, item, n, s, 6, 0.7)

    # central differences with h = 1e-6 are exact to about 1e-8 on this smooth function
    assert f(w)[1] == pytest.approx(central_difference(f, w), abs=1e-6)


def test_marginal_gradient_equals_finite_differences():
    rng = np.random.default_rng(1)
    learner, item, n, s = random_pairs(rng, 6, 4, 30)
    v = rng.normal(scale=0.5, size=2 * 4)

    def f(x):
        return marginal_objective(x, learner, item, n, s, 1.3)

    assert f(v)[1] == pytest.approx(central_difference(f, v), abs=1e-6)


def test_marginal_objective_equals_direct_integration():
    # One learner, two items: the marginal likelihood is a one-dimensional integral,
    # computed here by adaptive quadrature; 21 Gauss-Hermite nodes agree to 1e-8.
    b, log_a, l2 = np.array([0.3, -0.8]), np.array([0.2, -0.4]), 2.0
    n, s = np.array([3.0, 2.0]), np.array([2.0, 0.5])
    learner, item = np.array([0, 0]), np.array([0, 1])
    a = np.exp(log_a)

    def integrand(theta):
        z = a * (theta - b)
        lik = np.exp(np.sum(s * z - n * np.logaddexp(0.0, z)))
        return lik * math.sqrt(l2 / (2 * math.pi)) * math.exp(-l2 * theta**2 / 2)

    marginal = quad(integrand, -np.inf, np.inf)[0]
    expected = -math.log(marginal) + l2 / 2 * (np.sum(b**2) + np.sum(log_a**2))
    value, _ = marginal_objective(np.r_[b, log_a], learner, item, n, s, l2)
    assert value == pytest.approx(expected, abs=1e-8)


# --------------------------------------------------------------------- IRT recovery


def simulate_irt(rng, theta, b, a):
    """Every learner answers every item once, from sigma(a (theta - b))."""
    p = expit(a * (theta[:, None] - b))
    outcome = (rng.random(p.shape) < p).astype(float)
    n_learners, n_items = p.shape
    return EventLog(
        np.repeat(np.arange(n_learners), n_items),
        np.tile(np.arange(n_items), n_learners),
        np.tile(np.arange(n_items, dtype=float), n_learners),
        outcome.ravel(),
    )


def test_rasch_recovers_simulated_difficulties_and_abilities():
    """2,000 learners with theta ~ N(0, 1) answer 20 items, b from -1.5 to 1.5.

    Tolerances: the standard error of each b is 1 / sqrt(2000 * p(1-p)) ~ .05, so
    the worst of 20 is about .12; the location is anchored by the sample mean of
    theta (off by ~.02) and joint MAP estimation compresses b by a few percent
    (< .05 here): max error < .25, mean error < .1. Each ability rests on only 20
    answers (standard error ~.5), so abilities are checked by their correlation
    with the truth, expected ~ 1 / sqrt(1 + .5^2) = .89: > .85.
    """
    rng = np.random.default_rng(0)
    theta, b = rng.normal(size=2000), np.linspace(-1.5, 1.5, 20)
    log = simulate_irt(rng, theta, b, np.ones(20))
    model = IRT().fit(log)
    assert model.items_ == list(range(20))
    assert np.max(np.abs(model.difficulty_ - b)) < 0.25
    assert np.mean(np.abs(model.difficulty_ - b)) < 0.1
    fitted = np.array([model.ability_[learner] for learner in range(2000)])
    assert np.corrcoef(fitted, theta)[0, 1] > 0.85
    np.testing.assert_array_equal(model.discrimination_, 1.0)


def test_2pl_recovers_simulated_discriminations():
    """1,500 learners with theta ~ N(0, 1) answer 12 items, a from .5 to 2 (log a
    spread evenly), b from -1 to 1, fitted by marginal MAP.

    Tolerances: with 1,500 answers per item the standard error of a is about
    .08 to .15 (larger for large a) and of b about .06 to .1, so the worst of 12
    items stays within .35 for a and .25 for b (over six seeds: at most .24 and
    .21). An ability rests on 12 answers, information ~ 12 * mean(a^2) * .2 ~ 3,
    so the correlation with the truth is about 1 / sqrt(1 + 1/3) = .87: > .8.
    """
    rng = np.random.default_rng(1)
    theta = rng.normal(size=1500)
    a = np.exp(np.linspace(math.log(0.5), math.log(2.0), 12))
    b = rng.permutation(np.linspace(-1.0, 1.0, 12))
    model = IRT(parameters=2).fit(simulate_irt(rng, theta, b, a))
    assert np.max(np.abs(model.discrimination_ - a)) < 0.35
    assert np.max(np.abs(model.difficulty_ - b)) < 0.25
    fitted = np.array([model.ability_[learner] for learner in range(1500)])
    assert np.corrcoef(fitted, theta)[0, 1] > 0.8


@pytest.mark.parametrize("parameters", [1, 2])
def test_irt_fit_leaves_each_learner_at_their_posterior_mode(parameters):
    # After fitting, one more Newton step on any learner's own answers must not
    # move the ability: it is already that learner's posterior mode given the items.
    rng = np.random.default_rng(2)
    log = simulate_irt(rng, rng.normal(size=60), np.linspace(-1, 1, 8), np.ones(8))
    model = IRT(parameters=parameters).fit(log)
    for learner in (0, 17, 59):
        assert model._newton(model.ability_[learner], model.answers_[learner]) == pytest.approx(
            model.ability_[learner], abs=1e-4
        )
    assert model.log_likelihood_ < 0


# --------------------------------------------------------------------- PFA by hand

PFA_DOMAIN = Domain([Item("x", ("a", "b")), Item("ya", ("a",)), Item("yb", ("b",))])


def hand_pfa():
    return with_state(
        PFA,
        domain=PFA_DOMAIN,
        skills=["a", "b"],
        beta=[-0.5, 0.3],
        gamma=[0.2, 0.1],
        rho=[-0.1, 0.05],
        counts=[["ada", "a", 2.0, 1.0]],
    )


def test_pfa_prediction_matches_hand_computation():
    model = hand_pfa()
    # skill a: -.5 + .2 * 2 - .1 * 1 = -.2; skill b (no answers yet): .3
    # x needs a and b: sigma(-.2 + .3) = sigma(.1) = .524979; ya: sigma(-.2) = .450166;
    # yb: sigma(.3) = .574443; z is not in the domain, so its own unfitted skill: sigma(0)
    assert model.predict("ada", ["x", "ya", "yb", "z"]) == pytest.approx(
        [0.524979, 0.450166, 0.574443, 0.5], abs=1e-6
    )


def test_pfa_online_update_matches_hand_computation():
    model = hand_pfa()
    model.update(EventLog(["ada"], ["x"], [0.0], [1.0]))
    # a correct answer on x counts for both skills: a (S 3, F 1): -.5 + .6 - .1 = 0;
    # b (S 1, F 0): .3 + .1 = .4 -> x: sigma(.4) = .598688
    assert model.counts_["ada"] == {"a": [3.0, 1.0], "b": [1.0, 0.0]}
    assert model.predict("ada", ["x"])[0] == pytest.approx(0.598688, abs=1e-6)
    model.update(EventLog(["ada"], ["ya"], [1.0], [0.25]))
    # outcome .25 adds .25 to S and .75 to F of a: -.5 + .2 * 3.25 - .1 * 1.75 = -.025
    assert model.predict("ada", ["ya"])[0] == pytest.approx(0.493750, abs=1e-6)
    state = model.state("ada")
    assert state["mastery"]["a"] == pytest.approx(0.493750, abs=1e-6)
    assert state["successes"] == {"a": 3.25, "b": 1.0}
    assert state["failures"] == {"a": 1.75, "b": 0.0}


def test_pfa_counts_are_exclusive_cumulative_sums_in_time_order():
    # Observations in shuffled log order; order gives their time rank.
    #   learner 0, skill 0 at ranks 0, 2, 5 with outcomes 1, 0, 1
    #   learner 0, skill 1 at rank 1 (outcome 1); learner 1, skill 0 at ranks 3, 4 (0, .5)
    learner = np.array([0, 1, 0, 0, 1, 0])
    skill = np.array([0, 0, 0, 1, 0, 0])
    order = np.array([5, 4, 2, 1, 3, 0])
    outcome = np.array([1.0, 0.5, 0.0, 1.0, 0.0, 1.0])
    successes, failures = pfa_counts(learner, skill, order, outcome)
    # learner 0 skill 0: rank 0 sees nothing, rank 2 sees (1, 0), rank 5 sees (1, 1)
    # learner 1 skill 0: rank 3 sees nothing, rank 4 sees (0, 1); skill 1: nothing
    assert successes.tolist() == [1.0, 0.0, 1.0, 0.0, 0.0, 0.0]
    assert failures.tolist() == [1.0, 1.0, 0.0, 0.0, 0.0, 0.0]


def test_pfa_fit_describes_each_event_by_its_earlier_events_only():
    # The training log-likelihood is computed on the fitted design matrix. Scoring
    # the same log online (each event from the events before it, counts starting
    # at 0) gives the same likelihood only if the design never used an event's own
    # outcome or a later one.
    rng = np.random.default_rng(3)
    log = simulate_pfa(rng, 50, 20, [-0.5, 0.3], [0.2, 0.1], [-0.1, 0.05])
    model = PFA().fit(log)
    fresh = PFA.from_state_dict(
        {**model.state_dict(), "state": {**model._get_state(), "counts": []}}
    )
    p = fresh.predict_log(log)
    online = float(np.sum(log.outcome * np.log(p) + (1 - log.outcome) * np.log1p(-p)))
    assert online == pytest.approx(model.log_likelihood_, rel=1e-9)
    # and after fitting every learner holds their counts over the whole log
    for learner in (0, 31):
        mine = log.for_learners([learner])
        for skill in (0, 1):
            outcomes = mine.outcome[mine.item == skill]
            assert model.counts_[learner][skill] == pytest.approx(
                [outcomes.sum(), (1 - outcomes).sum()]
            )


def simulate_pfa(rng, n_learners, length, beta, gamma, rho):
    """Learners practise a uniformly drawn skill (item = skill) at each step, with
    success drawn from the PFA model itself."""
    beta, gamma, rho = map(np.asarray, (beta, gamma, rho))
    k = beta.size
    successes, failures = np.zeros((n_learners, k)), np.zeros((n_learners, k))
    rows = np.arange(n_learners)
    skills, outcomes = [], []
    for _ in range(length):
        skill = rng.integers(k, size=n_learners)
        p = expit(
            beta[skill] + gamma[skill] * successes[rows, skill] + rho[skill] * failures[rows, skill]
        )
        outcome = (rng.random(n_learners) < p).astype(float)
        successes[rows, skill] += outcome
        failures[rows, skill] += 1 - outcome
        skills.append(skill)
        outcomes.append(outcome)
    return EventLog(
        np.tile(rows, length),
        np.concatenate(skills),
        np.repeat(np.arange(length, dtype=float), n_learners),
        np.concatenate(outcomes),
    )


def test_pfa_recovers_simulated_coefficients():
    """1,500 learners, 40 answers each over 3 skills (20,000 answers a skill), fitted
    with a negligible prior (l2 = 1e-3).

    Tolerances: over seeds the largest error was .06 for beta and .016 for gamma
    and rho (standard errors about .02 and .005): beta within .15, gamma and
    rho within .04.
    """
    beta, gamma, rho = [-0.5, 0.3, 0.0], [0.15, 0.1, 0.2], [0.05, -0.05, 0.1]
    log = simulate_pfa(np.random.default_rng(4), 1500, 40, beta, gamma, rho)
    model = PFA(l2=1e-3).fit(log)
    order = [model.skills_.index(k) for k in range(3)]
    assert model.beta_[order] == pytest.approx(beta, abs=0.15)
    assert model.gamma_[order] == pytest.approx(gamma, abs=0.04)
    assert model.rho_[order] == pytest.approx(rho, abs=0.04)


def test_pfa_fits_soft_and_one_class_outcomes():
    # Only successes: the regularised fit still exists (beta > 0), and soft labels
    # are fitted as weighted successes and failures.
    log = EventLog(["u"] * 4 + ["v"] * 4, ["a", "b"] * 4, list(range(4)) * 2, [1.0] * 8)
    model = PFA().fit(log)
    assert np.all(np.isfinite(model.beta_)) and np.all(model.beta_ > 0)
    soft = EventLog(["u"] * 4, ["a"] * 4, range(4), [0.25, 0.5, 0.75, 1.0])
    model = PFA().fit(soft)
    assert model.counts_["u"]["a"] == pytest.approx([2.5, 1.5])
    # soft labels of mean .625 pull the easiness up from 0
    assert model.beta_[0] + model.gamma_[0] + model.rho_[0] > 0


# --------------------------------------------------------------------- shared contract

SOFT_DOMAIN = Domain(
    [Item("i1", ("s1",)), Item("i2", ("s2",)), Item("i3", ("s1", "s2")), Item("i4", ("s3",))]
)
# every item is repeated by some learner, so that PFA's gamma and rho are not 0
BASE = EventLog(
    ["ann"] * 6 + ["bob"] * 6 + ["cy"] * 2,
    ["i1", "i1", "i3", "i2", "i3", "i1", "i2", "i2", "i3", "i3", "i1", "i2", "i2", "i3"],
    [0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 0, 1],
    [0, 1, 1, 1, 0, 1, 1, 0, 0.5, 1, 1, 1, 1, 0],
)
CONFIGS = {
    "rasch": lambda: IRT(),
    "2pl": lambda: IRT(parameters=2, newton_steps=3),
    "pfa": lambda: PFA(),
    "pfa-domain": lambda: PFA(SOFT_DOMAIN),
}

rows_strategy = st.lists(
    st.tuples(
        st.sampled_from(["ann", "bob", "dee", "eve"]),  # known and new learners
        st.sampled_from(["i1", "i2", "i3", "i4"]),  # i4 was never fitted
        st.floats(0, 1, allow_nan=False),
    ),
    min_size=1,
    max_size=30,
)


def as_log(rows):
    learners, items, outcomes = zip(*rows, strict=True)
    return EventLog(list(learners), list(items), np.arange(len(rows), dtype=float), list(outcomes))


@pytest.mark.parametrize("config", sorted(CONFIGS))
@settings(max_examples=30, deadline=None)
@given(rows=rows_strategy)
def test_batch_predict_log_equals_replaying_update(config, rows):
    # predict_log (vectorised over learners) must give what predict-then-update one
    # event at a time gives, starting from a fitted model, and leave the model as it was.
    model = CONFIGS[config]().fit(BASE)
    log = as_log(rows)
    before = json.dumps(model.state_dict())
    batch = model.predict_log(log)
    assert json.dumps(model.state_dict()) == before
    assert np.all((batch > 0) & (batch < 1))
    assert batch == pytest.approx(replay(model, log), abs=1e-9)


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_an_event_is_never_predicted_from_its_own_outcome(config):
    # Flipping the outcome of event k may change the predictions of later events
    # only: events up to and including k are predicted without it.
    rng = np.random.default_rng(5)
    size = 40
    log = EventLog(
        rng.choice(["ann", "dee", "eve"], size),
        rng.choice(["i1", "i2", "i3"], size),
        np.arange(size, dtype=float),
        rng.integers(0, 2, size).astype(float),
    )
    model = CONFIGS[config]().fit(BASE)
    base = model.predict_log(log)
    for k in (0, 13, 39):
        outcome = log.outcome.copy()
        outcome[k] = 1 - outcome[k]
        flipped = model.predict_log(EventLog(log.learner, log.item, log.time, outcome))
        np.testing.assert_array_equal(flipped[: k + 1], base[: k + 1])
        # ... and the same learner's next answer on the same item does see it
        # (through the ability for IRT, through gamma - rho != 0 for PFA)
        later = np.flatnonzero((log.learner == log.learner[k]) & (log.item == log.item[k]))
        later = later[later > k]
        if later.size:
            assert flipped[later[0]] != base[later[0]]


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_state_round_trips_through_json_with_identical_predictions(config):
    model = CONFIGS[config]().fit(BASE)
    model.update(EventLog(["dee", "ann"], ["i4", "i1"], [5, 6], [1, 0.5]))
    text = json.dumps(model.state_dict())
    restored = type(model).from_state_dict(json.loads(text))
    assert json.dumps(restored.state_dict()) == text
    log = EventLog(
        ["ann", "bob", "dee", "zed"], ["i1", "i3", "i4", "i2"], [7, 7, 7, 7], [1, 0, 1, 0]
    )
    np.testing.assert_array_equal(restored.predict_log(log), model.predict_log(log))
    for learner in ("ann", "bob", "dee", "new"):
        np.testing.assert_array_equal(
            restored.predict(learner, ["i1", "i2", "i3", "i4"]),
            model.predict(learner, ["i1", "i2", "i3", "i4"]),
        )
        assert restored.state(learner) == model.state(learner)


def test_regularisation_shrinks_parameters_toward_zero():
    # The prior N(0, 1/l2) pulls every parameter to 0 harder as l2 grows: the norm
    # of the fitted parameters falls monotonically, and is near 0 at l2 = 1e6 (the
    # likelihood's gradient is at most a few thousand, so it moves no parameter by
    # more than ~.01 against a prior that steep).
    rng = np.random.default_rng(6)
    irt_log = simulate_irt(rng, rng.normal(size=100), np.linspace(-2, 2, 6), np.ones(6))
    pfa_log = simulate_pfa(rng, 100, 20, [-1.0, 1.0], [0.3, 0.1], [-0.2, 0.1])
    grid = [1e-2, 1.0, 100.0, 1e4, 1e6]

    def irt_norm(model):
        theta = np.array(list(model.ability_.values()))
        return np.sqrt(
            np.sum(theta**2)
            + np.sum(model.difficulty_**2)
            + np.sum(np.log(model.discrimination_) ** 2)
        )

    for parameters in (1, 2):
        norms = [irt_norm(IRT(parameters=parameters, l2=l2).fit(irt_log)) for l2 in grid]
        assert all(later < earlier for earlier, later in zip(norms, norms[1:], strict=False))
        assert norms[-1] < 0.01 * norms[0]
    norms = []
    for l2 in grid:
        model = PFA(l2=l2).fit(pfa_log)
        norms.append(np.linalg.norm(np.r_[model.beta_, model.gamma_, model.rho_]))
    assert all(later < earlier for earlier, later in zip(norms, norms[1:], strict=False))
    assert norms[-1] < 0.01 * norms[0]


def test_irt_mastery_is_success_on_an_average_item_of_the_skill():
    domain = Domain([Item("p", ("alg",)), Item("q", ("alg",)), Item("r", ("geo",))])
    model = with_state(
        IRT,
        {"parameters": 2},
        domain=domain,
        items=["p", "q"],
        difficulty=[1.0, -0.5],
        discrimination=[2.0, 1.0],
        learners=["ada"],
        ability=[0.5],
        answers=[["ada", "p", 2, 1.0]],
    )
    mastery = model.state("ada")["mastery"]
    # alg: mean a 1.5, mean b .25 -> sigma(1.5 (.5 - .25)) = sigma(.375)
    assert mastery["alg"] == pytest.approx(expit(0.375))
    # geo's only item r is unfitted (a 1, b 0): sigma(.5)
    assert mastery["geo"] == pytest.approx(expit(0.5))
    assert model.state("ada")["answers"] == 2


# --------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: IRT(parameters=3), "parameters"),
        (lambda: IRT(parameters=True), "parameters"),
        (lambda: IRT(l2=-1.0), "l2"),
        (lambda: IRT(parameters=2, l2=0.0), "l2"),
        (lambda: IRT(l2="much"), "l2"),
        (lambda: IRT(newton_steps=0), "newton_steps"),
        (lambda: PFA(l2=-0.5), "l2"),
        (lambda: PFA(l2=math.nan), "l2"),
        (lambda: PFA(max_iter=0), "max_iter"),
    ],
)
def test_bad_hyper_parameters_raise_a_data_error_naming_the_field(make, field):
    with pytest.raises(DataError, match=f"field '{field}'") as error:
        make()
    assert isinstance(error.value, MentorError)


@pytest.mark.parametrize("cls", [IRT, PFA])
def test_fitting_an_empty_log_is_a_data_error(cls):
    with pytest.raises(DataError, match="empty log"):
        cls().fit(EventLog.empty())


def test_corrupt_states_are_rejected():
    state = IRT(parameters=2).fit(BASE).state_dict()
    broken = json.loads(json.dumps(state))
    broken["state"]["discrimination"][0] = -1.0
    with pytest.raises(StateError, match="discrimination"):
        IRT.from_state_dict(broken)
    rasch = json.loads(json.dumps(state))
    rasch["params"]["parameters"] = 1  # a Rasch model cannot have a != 1
    with pytest.raises(StateError, match="Rasch"):
        IRT.from_state_dict(rasch)
    pfa = PFA().fit(BASE).state_dict()
    pfa["state"]["beta"] = pfa["state"]["beta"][:-1]
    with pytest.raises(StateError, match="beta"):
        PFA.from_state_dict(pfa)
    with pytest.raises(StateError, match="expected 'pfa'"):
        PFA.from_state_dict(state)
