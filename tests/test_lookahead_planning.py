"""Look-ahead hooks of PFA and Elo, and the two-step planner of ExpectedGain, by hand."""

import math

import numpy as np
import pytest

from mentor import Domain, Engine, Event, Item
from mentor.events import EventLog
from mentor.students import BKT, PFA, Elo
from mentor.teachers import ExpectedGain
from mentor.teachers.planning import two_step_values


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def log(learner, item, outcome):
    return EventLog([learner], [item], [0.0], [float(outcome)])


def pfa_by_hand() -> PFA:
    """Skills A (beta -1, gamma .5, rho .2) and B (beta .3, gamma .4, rho -.1); item
    ab needs both. Learner u has 2 successes and 1 failure on A, none on B."""
    domain = Domain(
        [Item("a1", ("A",)), Item("b1", ("B",)), Item("ab", ("A", "B"))], prerequisites=[]
    )
    model = PFA(domain)
    model.skills_ = ["A", "B"]
    model._skill_index = {"A": 0, "B": 1}
    model.beta_ = np.array([-1.0, 0.3])
    model.gamma_ = np.array([0.5, 0.4])
    model.rho_ = np.array([0.2, -0.1])
    model.counts_ = {"u": {"A": [2.0, 1.0]}}
    return model


def test_pfa_lookahead_matches_hand_computation():
    model = pfa_by_hand()
    ahead = model.lookahead("u", ["a1", "b1", "ab"])
    # a1: logit -1 + .5 * 2 + .2 * 1 = .2; a right answer adds gamma, a wrong one rho
    assert ahead.p_success[0] == pytest.approx(sigmoid(0.2))
    assert ahead.mastery[0] == pytest.approx(sigmoid(0.2))
    assert ahead.if_correct[0] == pytest.approx(sigmoid(0.7))
    assert ahead.if_wrong[0] == pytest.approx(sigmoid(0.4))
    p = sigmoid(0.2)
    assert ahead.expected_gain[0] == pytest.approx(p * sigmoid(0.7) + (1 - p) * sigmoid(0.4) - p)
    # b1: no answers yet, logit .3; a wrong answer lowers it (rho < 0)
    assert ahead.if_correct[1] == pytest.approx(sigmoid(0.7))
    assert ahead.if_wrong[1] == pytest.approx(sigmoid(0.2))
    # ab: both skills' logits and both skills' coefficients add up
    assert ahead.p_success[2] == pytest.approx(sigmoid(0.5))
    assert ahead.if_correct[2] == pytest.approx(sigmoid(0.5 + 0.9))
    assert ahead.if_wrong[2] == pytest.approx(sigmoid(0.5 + 0.1))
    # the simulated step is the one update() takes, and look-ahead changes nothing
    assert model.counts_ == {"u": {"A": [2.0, 1.0]}}
    model.update(log("u", "ab", 0))
    assert model.predict("u", ["ab"])[0] == pytest.approx(ahead.if_wrong[2])


def test_elo_lookahead_matches_hand_computation():
    # fresh learner and item: logit 0, p = .5, K(0) = alpha = 1 for ability and difficulty
    model = Elo(alpha=1.0, beta=0.05)
    ahead = model.lookahead("u", ["i"])
    assert ahead.p_success[0] == pytest.approx(0.5)
    assert ahead.if_correct[0] == pytest.approx(sigmoid(0.5 + 0.5))  # theta +.5, b -.5
    assert ahead.if_wrong[0] == pytest.approx(sigmoid(-1.0))
    # Elo's logit is a martingale: the expected gain is curvature only, here 0 by symmetry
    assert ahead.expected_gain[0] == pytest.approx(0.0, abs=1e-12)
    # after one right answer: theta .5 (1 update), b(i) -.5 (1 update), K(1) = 1 / 1.05
    model.update(log("u", "i", 1))
    ahead = model.lookahead("u", ["i", "j"])
    p = sigmoid(1.0)
    k1 = 1.0 / 1.05
    assert ahead.p_success[0] == pytest.approx(p)
    assert ahead.if_correct[0] == pytest.approx(sigmoid(1.0 + 2 * k1 * (1 - p)))
    assert ahead.if_wrong[0] == pytest.approx(sigmoid(1.0 - 2 * k1 * p))
    # j is a new item: its difficulty moves with K(0) = 1, the learner's ability with K(1)
    q = sigmoid(0.5)
    assert ahead.if_correct[1] == pytest.approx(sigmoid(0.5 + (k1 + 1.0) * (1 - q)))
    # the simulated step is the one update() takes
    shadow = Elo.from_state_dict(model.state_dict())
    shadow.update(log("u", "i", 0))
    assert shadow.predict("u", ["i"])[0] == pytest.approx(ahead.if_wrong[0])


def test_elo_lookahead_with_skill_abilities_counts_the_skills_share():
    domain = Domain([Item("x", ("A", "B"))], prerequisites=[])
    model = Elo(domain, skill_ability=True)
    ahead = model.lookahead("u", ["x"])
    # ability 1, difficulty 1, and each of the 2 skills moves by 1/2, read as their mean: 1/2
    assert ahead.if_correct[0] == pytest.approx(sigmoid(2.5 * 0.5))
    model.update(log("u", "x", 1))
    assert model.predict("u", ["x"])[0] == pytest.approx(ahead.if_correct[0])


def test_expected_gain_teaches_behind_pfa_and_elo():
    domain = Domain([Item("x", ("X",)), Item("y", ("Y",))], prerequisites=[])
    model = PFA(domain)
    model.skills_ = ["X", "Y"]
    model._skill_index = {"X": 0, "Y": 1}
    model.beta_ = np.zeros(2)
    model.gamma_ = np.array([1.0, 0.2])  # a right answer at x teaches five times more
    model.rho_ = np.zeros(2)
    teacher = ExpectedGain(domain, reviews=False, seed=0)
    assert teacher.select("u", ["x", "y"], model=model) == ["x"]
    assert teacher.last_choices_[0].gain == pytest.approx(0.5 * (sigmoid(1.0) - 0.5))
    engine = Engine(domain, Elo(domain), ExpectedGain(domain, reviews=False, seed=0))
    item = engine.next("u", t=0.0)[0]
    engine.record([Event("u", item, time=0.0, outcome=1.0)])
    assert engine.next("u", t=1.0)[0] in ("x", "y")


def test_two_step_values_match_hand_computation():
    # X opens Z once its mastery reaches .8; Y opens nothing
    at = {"X": 0, "Y": 1, "Z": 2}
    p = np.array([0.5, 0.6, 0.48])
    mastery = np.array([0.6, 0.4, 0.4])
    if_correct = np.array([0.85, 0.7, 0.775])
    if_wrong = np.array([0.5, 0.3, 0.17])
    gain = np.array([0.075, 0.05, 0.06])
    values = two_step_values(
        ["X", "Y"],
        at,
        p,
        mastery,
        if_correct,
        if_wrong,
        gain,
        after={"X": ["Z"], "Y": [], "Z": []},
        before={"X": [], "Y": [], "Z": ["X"]},
        open_threshold=0.8,
        threshold=0.95,
    )
    # X right (.85): Z opens (.06) beats Y (.05) and X again (.075 * .15 / .4);
    # X wrong (.5): X again, .075 * .5 / .4 = .09375, beats Y
    assert values["X"] == pytest.approx(0.075 + 0.5 * 0.06 + 0.5 * 0.09375)
    # Y right: X (.075) beats Y again (.05 * .3 / .6); Y wrong: Y again .05 * .7 / .6
    assert values["Y"] == pytest.approx(0.05 + 0.6 * 0.075 + 0.4 * max(0.075, 0.05 * 0.7 / 0.6))


def test_two_step_look_ahead_prefers_the_item_that_opens_new_work():
    """a1 answered right once (.775), c1 right, right, wrong (.714): greedy picks c1
    (gain .0286 > .0225), two steps pick a1, whose next right answer opens a2."""
    domain = Domain(
        [Item("a1", ("a",), 0.3), Item("a2", ("a",), 0.6), Item("c1", ("c",), 0.3)],
        prerequisites=[],
    )
    picks = {}
    for horizon in (1, 2):
        model = BKT(domain, grain="item", forgets=False)
        teacher = ExpectedGain(domain, reviews=False, horizon=horizon, seed=0)
        for item, outcome in (("a1", 1), ("c1", 1), ("c1", 1), ("c1", 0)):
            model.update(log("u", item, outcome))
            teacher.observe(log("u", item, outcome))
        assert model.knowledge("u", "a1") == pytest.approx(0.775)
        assert model.lookahead("u", ["c1"]).expected_gain[0] > 0.0225
        picks[horizon] = teacher.select("u", ["a1", "a2", "c1"], model=model)[0]
    assert picks == {1: "c1", 2: "a1"}
    with pytest.raises(Exception, match="horizon"):
        ExpectedGain(domain, horizon=3)


def fitted_psikt():
    from mentor.students import PSIKT

    domain = Domain([Item("a1", ("a",), 0.3), Item("b1", ("b",), 0.6)], prerequisites=[("a", "b")])
    rng = np.random.default_rng(0)
    learners, items, times, outcomes = [], [], [], []
    for n in range(8):
        for step in range(8):
            learners.append(f"l{n}")
            items.append("a1" if step < 4 else "b1")
            times.append(float(step))
            outcomes.append(float(rng.random() < 0.3 + 0.08 * step))
    return PSIKT(domain, max_iter=30).fit(EventLog(learners, items, times, outcomes))


def test_psikt_lookahead_matches_hand_computation_and_its_own_update():
    from dataclasses import replace

    model = fitted_psikt()
    # wide beliefs, so that the update's Kalman terms weigh in the hand computation
    model.params_ = replace(
        model.params_, log_var=math.log(0.5), log_ability_var=0.0, log_trait_var=math.log(0.3)
    )
    prm = model.params_
    # a new learner meets skill a (no prerequisites) at its level: m = base, v = q, g = 0,
    # traits (0, 0) with variances (P11, P22) and no covariance
    a, i = model.skills_.index("a"), int(model._items(["a1"])[0])
    q, p11, p22 = math.exp(prm.log_var), math.exp(prm.log_ability_var), math.exp(prm.log_trait_var)
    s, big_s = prm.base[a] - prm.difficulty[i], p11 + q
    p = sigmoid(s / math.sqrt(1 + math.pi * big_s / 8))
    ahead = model.lookahead("new", ["a1"], t=0.0)
    assert ahead.p_success[0] == pytest.approx(p)
    h = p * (1 - p)
    den = 1 + big_s * h
    for outcome, after in ((1.0, ahead.if_correct[0]), (0.0, ahead.if_wrong[0])):
        omega = (outcome - p) / den
        mean = prm.base[a] + q * omega + prm.gain[a]  # M = m + v omega + eta
        var = q - q * q * h / den
        ability, ability_var = p11 * omega, p11 - p11 * p11 * h / den
        # at the same time nothing decays; one attempt practised (g = 1), rho's mean stays 0
        s2, big_s2 = ability + mean - prm.difficulty[i], ability_var + p22 + var
        assert after == pytest.approx(sigmoid(s2 / math.sqrt(1 + math.pi * big_s2 / 8)))
    # a learner with a history, on an item with a prerequisite: the model's own update
    before = model.predict("l3", ["a1", "b1"], 9.0)
    ahead = model.lookahead("l3", ["a1", "b1"], 9.0)
    assert np.allclose(model.predict("l3", ["a1", "b1"], 9.0), before)  # unchanged
    assert np.allclose(ahead.p_success, before)
    for outcome, after in ((1.0, ahead.if_correct), (0.0, ahead.if_wrong)):
        shadow = type(model).from_state_dict(model.state_dict())
        shadow.update(EventLog(["l3"], ["b1"], [9.0], [outcome]))
        assert shadow.predict("l3", ["b1"], 9.0)[0] == pytest.approx(after[1])
    teacher = ExpectedGain(model.domain, reviews=False, seed=0)
    assert teacher.select("l3", ["a1", "b1"], 1, 9.0, model)[0] in ("a1", "b1")
