"""Learning-progress teachers: sampling rules, per-arm statistics, TSCL, SEC, DUMP and
mastering rate (ALP-GMM and the other task-space teachers: test_task_space_teachers.py).

Every expected number is worked out by hand from the documented formula; random draws are
checked against the exact probabilities within a binomial bound of 4.5 standard deviations
(a false failure has probability below 1e-5 per count).
"""

from __future__ import annotations

import json
import math
from collections import Counter

import numpy as np
import pytest

from mentor.domain import Domain, Item
from mentor.errors import DataError, MentorError, ParameterError
from mentor.events import EventLog
from mentor.teachers.dump import DUMP
from mentor.teachers.mastering_rate import MasteringRate
from mentor.teachers.sampling import (
    boltzmann,
    boltzmann_probabilities,
    closest,
    epsilon_greedy,
    epsilon_greedy_probabilities,
    greedy,
    proportional,
    ucb,
    ucb_scores,
)
from mentor.teachers.sec import SEC
from mentor.teachers.statistics import (
    EMA,
    AbsoluteLP,
    Count,
    MeanAbsAdvantage,
    OnlineLP,
    WindowedLP,
    batch_advantages,
    group_by_learner_and_arm,
)
from mentor.teachers.tscl import TSCL


def log_of(*events: tuple, advantage: bool = False) -> EventLog:
    """An EventLog from (learner, item, outcome[, advantage]) tuples at times 0, 1, 2, ..."""
    extra = {"advantage": [e[3] for e in events]} if advantage else None
    return EventLog(
        [e[0] for e in events],
        [e[1] for e in events],
        np.arange(len(events), dtype=float),
        [e[2] for e in events],
        extra,
    )


def assert_frequencies(counts: Counter, probabilities: dict, draws: int) -> None:
    """Each count within 4.5 binomial standard deviations (+1) of draws * p."""
    for arm, p in probabilities.items():
        sd = math.sqrt(draws * p * (1 - p))
        assert abs(counts[arm] - draws * p) <= 4.5 * sd + 1, (arm, counts[arm], draws * p)


def roundtrip(teacher, domain=None):
    state = json.loads(json.dumps(teacher.state_dict()))
    return type(teacher).from_state_dict(state, domain=domain)


# ================================================================== sampling rules
def test_greedy_orders_by_score_and_breaks_ties_at_random():
    rng = np.random.default_rng(0)
    scores = [0.2, 0.9, 0.5, 0.9]
    firsts = Counter(greedy(scores, rng)[0] for _ in range(200))
    assert set(firsts) == {1, 3}
    for _ in range(20):
        top3 = greedy(scores, rng, k=3).tolist()
        assert sorted(top3[:2]) == [1, 3] and top3[2] == 2
    assert greedy([np.inf, 5.0, -np.inf], rng, k=3).tolist() == [0, 1, 2]
    with pytest.raises(ParameterError):
        greedy([0.1, np.nan], rng)


def test_epsilon_greedy_probabilities_by_hand():
    # n = 4, epsilon 0.2: every arm 0.2 / 4 = 0.05; two arms tied best share 0.8
    p = epsilon_greedy_probabilities([0.1, 0.7, 0.3, 0.7], 0.2)
    assert p == pytest.approx([0.05, 0.45, 0.05, 0.45])
    assert epsilon_greedy_probabilities([3.0, 1.0, 2.0], 0.0) == pytest.approx([1, 0, 0])
    assert epsilon_greedy_probabilities([3.0, 1.0], 1.0) == pytest.approx([0.5, 0.5])
    with pytest.raises(ParameterError):
        epsilon_greedy_probabilities([1.0], 1.5)


def test_epsilon_greedy_draw_frequencies():
    rng = np.random.default_rng(1)
    scores = [0.1, 0.7, 0.3, 0.7]
    draws = 4000
    counts = Counter(int(epsilon_greedy(scores, 0.2, rng)[0]) for _ in range(draws))
    assert_frequencies(counts, dict(enumerate([0.05, 0.45, 0.05, 0.45])), draws)


def test_epsilon_greedy_k_picks_distinct_best_first():
    rng = np.random.default_rng(2)
    # without exploration: the best, then the best of the rest
    assert epsilon_greedy([0.1, 0.7, 0.3], 0.0, rng, k=2).tolist() == [1, 2]
    for _ in range(50):
        picks = epsilon_greedy([0.1, 0.7, 0.3, 0.2], 0.5, rng, k=4).tolist()
        assert sorted(picks) == [0, 1, 2, 3]


def test_boltzmann_probabilities_by_hand():
    # exp(s / T) for s = 0, ln 2, ln 4 and T = 1: 1, 2, 4 over 7
    s = [0.0, math.log(2), math.log(4)]
    assert boltzmann_probabilities(s, 1.0) == pytest.approx([1 / 7, 2 / 7, 4 / 7])
    # T = 2: 1, sqrt 2, 2 over 3 + sqrt 2
    total = 3 + math.sqrt(2)
    assert boltzmann_probabilities(s, 2.0) == pytest.approx(
        [1 / total, math.sqrt(2) / total, 2 / total]
    )
    # shifting every score changes nothing; huge scores do not overflow
    assert boltzmann_probabilities([1000.0, 1000 + math.log(3)], 1.0) == pytest.approx([0.25, 0.75])
    # +inf scores share everything
    assert boltzmann_probabilities([np.inf, 3.0, np.inf], 1.0) == pytest.approx([0.5, 0, 0.5])
    for bad in (0.0, -1.0, np.nan):
        with pytest.raises(ParameterError, match="temperature"):
            boltzmann_probabilities(s, bad)


def test_boltzmann_draw_frequencies_single_and_pairs():
    rng = np.random.default_rng(3)
    s = [0.0, math.log(2), math.log(4)]
    p = [1 / 7, 2 / 7, 4 / 7]
    draws = 3000
    counts = Counter(int(boltzmann(s, 1.0, rng)[0]) for _ in range(draws))
    assert_frequencies(counts, dict(enumerate(p)), draws)
    # k = 2: the second pick is the softmax of the rest, so
    # P(arm 0 among the two) = p0 + p1 * p0 / (1 - p1) + p2 * p0 / (1 - p2)
    in_pair = p[0] + p[1] * p[0] / (1 - p[1]) + p[2] * p[0] / (1 - p[2])
    pairs = [boltzmann(s, 1.0, rng, k=2).tolist() for _ in range(draws)]
    assert all(len(set(pair)) == 2 for pair in pairs)
    counts = Counter("in" if 0 in pair else "out" for pair in pairs)
    assert_frequencies(counts, {"in": in_pair, "out": 1 - in_pair}, draws)


def test_boltzmann_k_with_underflowing_probabilities():
    # at a tiny temperature all but one probability underflow to 0; k = 3 still works
    picks = boltzmann([0.0, 1.0, 2.0], 1e-6, np.random.default_rng(0), k=3).tolist()
    assert picks == [2, 1, 0]


def test_ucb_scores_by_hand():
    means, counts = [0.5, 0.2, 0.0], [2, 1, 0]
    # UCB1: N = 3; the untried arm scores +inf
    s = ucb_scores(means, counts, c=1.0)
    assert s[0] == pytest.approx(0.5 + math.sqrt(2 * math.log(3) / 2))
    assert s[1] == pytest.approx(0.2 + math.sqrt(2 * math.log(3) / 1))
    assert s[2] == np.inf
    # DUMP's offset 1: sqrt(2 ln(N + 1) / (n + 1))
    s = ucb_scores(means, counts, c=1.0, offset=1.0)
    assert s == pytest.approx(
        [
            0.5 + math.sqrt(2 * math.log(4) / 3),
            0.2 + math.sqrt(2 * math.log(4) / 2),
            0.0 + math.sqrt(2 * math.log(4) / 1),
        ]
    )
    # c scales the bonus; an explicit total replaces the sum of counts
    s = ucb_scores(means, counts, c=0.5, total=10, offset=1.0)
    assert s[0] == pytest.approx(0.5 + 0.5 * math.sqrt(2 * math.log(11) / 3))
    # nothing tried yet: every arm +inf
    assert np.isinf(ucb_scores([0, 0], [0, 0])).all()
    with pytest.raises(ParameterError):
        ucb_scores([0.1], [1, 2])
    with pytest.raises(ParameterError):
        ucb_scores([0.1], [1], c=-1.0)


def test_ucb_picks_untried_then_highest_bound():
    rng = np.random.default_rng(0)
    # arm 2 untried, then arm 1 (1.682) before arm 0 (1.548)
    assert ucb([0.5, 0.2, 0.0], [2, 1, 0], 1.0, rng, k=3).tolist() == [2, 1, 0]
    # with c = 0 it is greedy on the means
    assert ucb([0.5, 0.2, 0.0], [2, 1, 1], 0.0, rng, k=1).tolist() == [0]


def test_existing_rules_unchanged():
    rng = np.random.default_rng(0)
    assert closest([0.1, 0.65, 0.9], 0.7, rng).tolist() == [1]
    draws = 3000
    counts = Counter(
        int(proportional(np.array([3.0, 1.0, 0.0]), 0.3, rng)[0]) for _ in range(draws)
    )
    # (1 - 0.3) w / sum w + 0.3 / 3
    assert_frequencies(counts, {0: 0.625, 1: 0.275, 2: 0.1}, draws)


# ================================================================== statistics
def test_count():
    stat = Count()
    stat.update_many(["a", "a", "b"], [0.0, 0.0, 0.0])
    assert stat.values(["a", "b", "c"]).tolist() == [2, 1, 0]
    assert stat.total() == 3


def test_ema_by_hand():
    stat = EMA(alpha=0.5)
    # q: 0 -> 0.5 -> 0.25 -> 0.625
    for value, q in zip([1.0, 0.0, 1.0], [0.5, 0.25, 0.625], strict=True):
        stat.update("a", value)
        assert stat.value("a") == pytest.approx(q)
    assert EMA(0.5, initial=0.3).value("new") == 0.3
    stat = EMA(alpha=0.5, initial=1.0)
    stat.update("a", 0.0)
    assert stat.value("a") == pytest.approx(0.5)


def test_online_lp_by_hand():
    stat = OnlineLP(alpha=0.5)
    # scores 0.2, 0.5, 0.4; previous score starts at 0
    #   r = 0.2  q = 0.5 * 0.2                 = 0.1
    #   r = 0.3  q = 0.1 + 0.5 (0.3 - 0.1)     = 0.2
    #   r = -0.1 q = 0.2 + 0.5 (-0.1 - 0.2)    = 0.05
    for value, q in zip([0.2, 0.5, 0.4], [0.1, 0.2, 0.05], strict=True):
        stat.update("a", value)
        assert stat.value("a") == pytest.approx(q)
    assert stat.value("b") == 0.0


def test_windowed_lp_slope_by_hand():
    stat = WindowedLP(window=3, method="slope", initial=1.0)
    assert stat.value("a") == 1.0
    stat.update("a", 0.1, 0)
    assert stat.value("a") == 1.0  # one point: the default
    stat.update("a", 0.3, 1)
    stat.update("a", 0.2, 2)
    # x = 0, 1, 2; y = .1, .3, .2: sum dx dy = (-1)(-.1) + 0 + (1)(0) = .1; sum dx^2 = 2
    assert stat.value("a") == pytest.approx(0.05)
    stat.update("a", 0.6, 4)
    # window (1, .3), (2, .2), (4, .6): dx = -4/3, -1/3, 5/3; dy = -1/15, -1/6, 7/30
    # sum dx dy = 4/45 + 1/18 + 7/18 = 8/15; sum dx^2 = 42/9 -> slope 4/35
    assert stat.value("a") == pytest.approx(4 / 35)
    assert stat.value("a") == pytest.approx(np.polyfit([1, 2, 4], [0.3, 0.2, 0.6], 1)[0])
    # missing steps count on from the last one; equal steps fall back to the default
    same = WindowedLP(window=3, initial=-7.0)
    same.update("a", 0.1, 5)
    same.update("a", 0.9, 5)
    assert same.value("a") == -7.0
    auto = WindowedLP(window=3)
    auto.update_many(["a", "a"], [0.0, 0.5])
    assert auto.arms_["a"][0] == [0.0, 1.0]
    assert auto.value("a") == pytest.approx(0.5)


def test_windowed_lp_difference_by_hand():
    stat = WindowedLP(window=4, method="difference")
    stat.update_many(["a"] * 3, [0.0, 1.0, 1.0])
    assert stat.value("a") == pytest.approx(1.0)  # mean(1, 1) - mean(0)
    stat.update("a", 0.0)
    assert stat.value("a") == pytest.approx(0.0)  # mean(1, 0) - mean(0, 1)
    stat.update("a", 1.0)  # window 1, 1, 0, 1
    assert stat.value("a") == pytest.approx(-0.5)


def test_absolute_lp_by_hand():
    stat = AbsoluteLP(alpha=0.5)
    # x = 1: fast .5,   slow .25               -> .25
    # x = 1: fast .75,  slow .25 + .5(.75-.25) = .5   -> .25
    # x = 0: fast .375, slow .5 + .5(.375-.5) = .4375 -> .0625
    for value, lp in zip([1.0, 1.0, 0.0], [0.25, 0.25, 0.0625], strict=True):
        stat.update("a", value)
        assert stat.value("a") == pytest.approx(lp)
    assert stat.value("b") == 0.0


def test_mean_abs_advantage_by_hand():
    stat = MeanAbsAdvantage(window=3)
    stat.update_many(["a"] * 4, [-0.5, 0.25, 1.0, -0.75])
    assert stat.value("a") == pytest.approx((0.25 + 1.0 + 0.75) / 3)
    assert stat.value("b") == 0.0


def test_mean_abs_advantage_extend_keeps_the_same_window_as_updates():
    # window 3 over |-0.5|, .25, 1, |-.75| then .5: the last three are 1, .75, .5
    one_by_one, at_once = MeanAbsAdvantage(window=3), MeanAbsAdvantage(window=3)
    for value in [-0.5, 0.25, 1.0, -0.75, 0.5]:
        one_by_one.update("a", value)
    at_once.extend("a", np.array([-0.5, 0.25]))
    at_once.extend("a", np.array([1.0, -0.75, 0.5]))
    assert at_once.state_dict() == one_by_one.state_dict() == [["a", [1.0, 0.75, 0.5]]]
    assert at_once.value("a") == pytest.approx(0.75)


def test_count_add_counts_several_observations():
    count = Count()
    count.add("a", 3)
    count.update("a")
    count.add("b", 2)
    assert count.values(["a", "b", "c"]).tolist() == [4.0, 2.0, 0.0]
    assert count.total() == 6


@pytest.mark.parametrize(
    "stat",
    [Count(), EMA(0.3), OnlineLP(0.3), WindowedLP(4), AbsoluteLP(0.3), MeanAbsAdvantage(5)],
)
def test_statistic_state_round_trip(stat):
    rng = np.random.default_rng(0)
    arms = rng.choice(["a", "b", "c"], size=30).tolist()
    stat.update_many(arms, rng.random(30).tolist(), list(range(30)))
    copy = type(stat)(**stat.get_params())
    copy.load_state_dict(json.loads(json.dumps(stat.state_dict())))
    assert copy.values(["a", "b", "c", "d"]).tolist() == stat.values(["a", "b", "c", "d"]).tolist()
    for s in (stat, copy):
        s.update("a", 0.5, 31)
    assert copy.value("a") == stat.value("a")


def test_statistics_update_only_the_arms_given():
    stat = WindowedLP(window=3)
    stat.update_many(["a", "b", "a"], [0.1, 0.2, 0.3], [0, 1, 2])
    before = json.dumps(stat.state_dict())
    stat.update("c", 0.9, 3)
    state = dict((arm, record) for arm, record in stat.state_dict())
    assert {arm: state[arm] for arm in ("a", "b")} == dict(json.loads(before))


@pytest.mark.parametrize(
    "make",
    [
        lambda: EMA(alpha=0.0),
        lambda: EMA(alpha=1.5),
        lambda: OnlineLP(alpha=-0.1),
        lambda: WindowedLP(window=1),
        lambda: WindowedLP(window=2.5),
        lambda: WindowedLP(method="median"),
        lambda: AbsoluteLP(alpha=2.0),
        lambda: MeanAbsAdvantage(window=0),
    ],
)
def test_statistic_bad_parameters(make):
    with pytest.raises(ParameterError):
        make()


def test_batch_advantages_fallback_and_column():
    learners = ["m", "m", "m", "m", "m", "n"]
    arms = ["x", "x", "x", "y", "y", "x"]
    outcomes = np.array([1.0, 0.0, 1.0, 0.5, 0.5, 1.0])
    groups = group_by_learner_and_arm(learners, arms)
    assert groups == {"m": {"x": [0, 1, 2], "y": [3, 4]}, "n": {"x": [5]}}
    # m/x: mean 2/3; m/y: mean .5; n/x: a single event has advantage 0
    adv = batch_advantages(outcomes, None, groups)
    assert adv == pytest.approx([1 / 3, -2 / 3, 1 / 3, 0, 0, 0])
    given = np.array([0.1, -0.2, 0.3, 0.4, -0.5, 0.6])
    assert batch_advantages(outcomes, given, groups).tolist() == given.tolist()
    with pytest.raises(DataError, match="advantage"):
        batch_advantages(outcomes, np.array([0, 0, 0, 0, 0, np.nan]), groups)


# ================================================================== TSCL
def tscl_stream(teacher):
    # step 0: a = mean(1, 0) = .5, b = .5; step 1: a = .8; step 2: b = .1; step 3: a = .9
    teacher.observe(log_of(("ada", "a", 1.0), ("ada", "a", 0.0), ("ada", "b", 0.5)))
    teacher.observe(log_of(("ada", "a", 0.8)))
    teacher.observe(log_of(("ada", "b", 0.1)))
    teacher.observe(log_of(("ada", "a", 0.9)))


def test_tscl_window_slopes_by_hand():
    teacher = TSCL(variant="window", window=3, epsilon=0.0, seed=0)
    tscl_stream(teacher)
    # a: (0, .5), (1, .8), (3, .9): dx = -4/3, -1/3, 5/3; dy = -7/30, 1/15, 1/6
    #    sum dx dy = 14/45 - 1/45 + 25/90 = 17/30; sum dx^2 = 42/9 -> 17/140
    # b: (0, .5), (2, .1): slope -0.2; c: never seen, slope 1 (the authors' default)
    q = teacher.progress("ada", ["a", "b", "c"])
    assert q == pytest.approx([17 / 140, -0.2, 1.0])
    assert q[0] == pytest.approx(np.polyfit([0, 1, 3], [0.5, 0.8, 0.9], 1)[0])
    assert teacher.learners_["ada"].step == 4
    # greedy on |Q|: b (.2) beats a (.121); an untried arm (1.0) beats both
    assert teacher.select("ada", ["a", "b"]) == ["b"]
    assert teacher.select("ada", ["a", "b", "c"]) == ["c"]
    assert teacher.select("ada", ["a", "b", "c"], k=3) == ["c", "b", "a"]
    # on signed Q the falling task b is the worst
    signed = TSCL(variant="window", window=3, epsilon=0.0, absolute=False, seed=0)
    tscl_stream(signed)
    assert signed.select("ada", ["a", "b"]) == ["a"]


def test_tscl_online_by_hand():
    teacher = TSCL(variant="online", alpha=0.5, epsilon=0.0, seed=0)
    tscl_stream(teacher)
    # a: .5 -> r .5, Q .25; .8 -> r .3, Q .275; .9 -> r .1, Q .1875
    # b: .5 -> r .5, Q .25; .1 -> r -.4, Q .25 + .5(-.4 - .25) = -.075
    assert teacher.progress("ada", ["a", "b", "c"]) == pytest.approx([0.1875, -0.075, 0.0])
    assert teacher.select("ada", ["a", "b"]) == ["a"]


def test_tscl_boltzmann_frequencies():
    teacher = TSCL(variant="online", alpha=0.5, policy="boltzmann", temperature=0.1, seed=4)
    tscl_stream(teacher)
    q = np.abs([0.1875, -0.075, 0.0])
    p = boltzmann_probabilities(q, 0.1)
    draws = 3000
    counts = Counter(teacher.select("ada", ["a", "b", "c"])[0] for _ in range(draws))
    assert_frequencies(counts, dict(zip("abc", p, strict=True)), draws)


def test_tscl_epsilon_greedy_frequencies():
    teacher = TSCL(variant="online", alpha=0.5, epsilon=0.3, seed=5)
    tscl_stream(teacher)
    draws = 3000
    counts = Counter(teacher.select("ada", ["a", "b", "c"])[0] for _ in range(draws))
    assert_frequencies(counts, {"a": 0.8, "b": 0.1, "c": 0.1}, draws)


def test_tscl_only_observed_arms_and_learners_change():
    teacher = TSCL(variant="window", window=3, seed=0)
    tscl_stream(teacher)
    before = dict(teacher.learners_["ada"].statistic.state_dict())
    teacher.observe(log_of(("ada", "a", 0.3), ("bo", "b", 1.0)))
    after = dict(teacher.learners_["ada"].statistic.state_dict())
    assert after["b"] == before["b"]
    assert after["a"] != before["a"]
    assert "c" not in after
    assert dict(teacher.learners_["bo"].statistic.state_dict()) == {"b": [[0.0], [1.0]]}


# ================================================================== SEC
def sec_stream(teacher):
    teacher.observe(
        log_of(
            ("m", "easy", 1.0, 0.0),
            ("m", "easy", 1.0, 0.0),
            ("m", "hard", 0.0, -0.5),
            ("m", "hard", 1.0, 0.5),
            ("m", "mid", 1.0, 0.8),
            ("m", "mid", 0.0, -0.4),
            advantage=True,
        )
    )
    teacher.observe(log_of(("m", "hard", 1.0, 1.0), ("m", "hard", 0.0, -0.2), advantage=True))


def test_sec_td_updates_by_hand():
    teacher = SEC(alpha=0.5, temperature=1.0, seed=0)
    sec_stream(teacher)
    # step 1: r(easy) = 0, r(hard) = .5, r(mid) = .6 -> Q = 0, .25, .3
    # step 2: r(hard) = mean(1, .2) = .6 -> Q(hard) = .25 + .5 (.6 - .25) = .425
    assert teacher.values("m", ["easy", "hard", "mid", "new"]) == pytest.approx(
        [0.0, 0.425, 0.3, 0.0]
    )


def test_sec_boltzmann_frequencies():
    teacher = SEC(alpha=0.5, temperature=0.5, seed=1)
    sec_stream(teacher)
    e = np.exp(np.array([0.0, 0.425, 0.3]) / 0.5)
    p = e / e.sum()
    draws = 3000
    counts = Counter(teacher.select("m", ["easy", "hard", "mid"])[0] for _ in range(draws))
    assert_frequencies(counts, dict(zip(["easy", "hard", "mid"], p, strict=True)), draws)


def test_sec_without_advantage_column_uses_batch_mean():
    teacher = SEC(alpha=0.5, seed=0)
    teacher.observe(
        log_of(
            ("m", "hard", 1.0),
            ("m", "hard", 0.0),
            ("m", "hard", 0.0),
            ("m", "hard", 1.0),
            ("m", "easy", 1.0),
            ("m", "easy", 1.0),
            ("m", "solo", 1.0),
        )
    )
    # hard: mean .5, every |A| = .5 -> Q = .25; easy: |A| = 0; a single event: 0
    assert teacher.values("m", ["hard", "easy", "solo"]) == pytest.approx([0.25, 0.0, 0.0])


def test_sec_other_column_name_and_bad_advantages():
    teacher = SEC(alpha=1.0, column="adv")
    teacher.observe(EventLog(["m", "m"], ["x", "x"], [0, 0], [1.0, 0.0], {"adv": [0.3, -0.1]}))
    assert teacher.values("m", ["x"]) == pytest.approx([0.2])
    with pytest.raises(DataError, match="adv"):
        teacher.observe(EventLog(["m"], ["x"], [1], [1.0], {"adv": [np.inf]}))


def test_sec_only_observed_arms_change():
    teacher = SEC(alpha=0.5)
    sec_stream(teacher)
    before = dict(teacher.learners_["m"].state_dict())
    teacher.observe(log_of(("m", "easy", 1.0, 0.9), advantage=True))
    after = dict(teacher.learners_["m"].state_dict())
    assert after["hard"] == before["hard"] and after["mid"] == before["mid"]
    assert after["easy"] == pytest.approx(0.45)


# ================================================================== DUMP
def dump_stream(teacher):
    teacher.observe(
        log_of(
            ("m", "a", 1.0, 0.5),
            ("m", "a", 0.0, -1.0),
            ("m", "a", 1.0, 0.25),
            ("m", "b", 1.0, 0.2),
            advantage=True,
        )
    )


def test_dump_scores_by_hand():
    teacher = DUMP(window=2, c=1.0, temperature=0.1, seed=0)
    dump_stream(teacher)
    # a: window (1.0, .25) -> .625, n = 3; b: .2, n = 1; c: 0, n = 0; N = 4
    expected = [
        0.625 + math.sqrt(2 * math.log(5) / 4),
        0.2 + math.sqrt(2 * math.log(5) / 2),
        0.0 + math.sqrt(2 * math.log(5) / 1),
    ]
    assert teacher.scores("m", ["a", "b", "c"]) == pytest.approx(expected)
    # N counts every arm of the learner, also those not among the candidates
    assert teacher.scores("m", ["b"]) == pytest.approx([expected[1]])
    # a learner never seen: N = 0, every score 0
    assert teacher.scores("new", ["a", "b"]) == pytest.approx([0.0, 0.0])


def test_dump_softmax_frequencies():
    teacher = DUMP(window=2, c=1.0, temperature=0.1, seed=2)
    dump_stream(teacher)
    scores = np.array(
        [
            0.625 + math.sqrt(2 * math.log(5) / 4),
            0.2 + math.sqrt(2 * math.log(5) / 2),
            math.sqrt(2 * math.log(5)),
        ]
    )
    e = np.exp((scores - scores.max()) / 0.1)
    p = e / e.sum()
    draws = 3000
    counts = Counter(teacher.select("m", ["a", "b", "c"])[0] for _ in range(draws))
    assert_frequencies(counts, dict(zip("abc", p, strict=True)), draws)


def test_dump_only_observed_arms_change_and_fallback():
    teacher = DUMP(window=2)
    dump_stream(teacher)
    before_adv = dict(teacher.learners_["m"].advantage.state_dict())
    before_count = dict(teacher.learners_["m"].count.state_dict())
    # no advantage column: outcomes 1, 0 on b -> batch mean .5 -> |A| = .5, .5
    teacher.observe(log_of(("m", "b", 1.0), ("m", "b", 0.0)))
    adv = dict(teacher.learners_["m"].advantage.state_dict())
    count = dict(teacher.learners_["m"].count.state_dict())
    assert adv["a"] == before_adv["a"] and count["a"] == before_count["a"]
    assert adv["b"] == [0.5, 0.5] and count["b"] == 3


# ================================================================== mastering rate
@pytest.fixture
def chain() -> Domain:
    """Skills A -> B -> C, one item each: the task graph is a -> b -> c."""
    items = [Item("a", ("A",)), Item("b", ("B",)), Item("c", ("C",))]
    return Domain(items, ["A", "B", "C"], [("A", "B"), ("B", "C")])


def test_mastering_rate_fresh_learner_by_hand(chain):
    teacher = MasteringRate(chain, seed=0)
    assert set(teacher.graph.edges) == {("a", "b"), ("b", "c")}
    # M = 0 everywhere; pre(a) = 1^6 * (.5 * 0 + .5 * 1) * (1 - 0) = .5; pre(b) = pre(c) = 0
    # flow (c, b, a): a gives .2 * .5 to no predecessor (.4 left), then .05 * .4 to b
    att = teacher.attention("ada")
    assert att == pytest.approx({"a": 0.38, "b": 0.02, "c": 0.0})
    draws = 2000
    counts = Counter(teacher.select("ada", ["a", "b", "c"])[0] for _ in range(draws))
    total = 0.4 + 3e-8
    p = {"a": (0.38 + 1e-8) / total, "b": (0.02 + 1e-8) / total, "c": 1e-8 / total}
    assert_frequencies(counts, p, draws)


def test_mastering_rate_attention_by_hand(chain):
    teacher = MasteringRate(chain, window=2, seed=0)
    teacher.observe(log_of(("ada", "a", 0.4)))  # step 0
    teacher.observe(log_of(("ada", "a", 0.6), ("ada", "a", 1.0)))  # step 1: mean .8
    teacher.observe(log_of(("ada", "b", 0.5)))  # step 2
    # M(a) = mean(.4, .8) = .6, lp(a) = .4 (slope over steps 0, 1); M(b) = .5; M(c) = 0
    assert teacher.mastering_rates("ada") == pytest.approx({"a": 0.6, "b": 0.5, "c": 0.0})
    na = {"a": 1.0, "b": 0.0, "c": 0.0}  # |lp| / max |lp|
    mastery = {"a": 0.6, "b": 0.5, "c": 0.0}
    anc = {"a": 1.0, "b": 0.6, "c": 0.5}  # min over all ancestors
    succ = {"a": 0.5, "b": 0.0, "c": 0.0}  # min over direct successors
    pre = {t: anc[t] ** 6 * (0.5 * na[t] + 0.5 * (1 - mastery[t])) * (1 - succ[t]) for t in "abc"}
    assert pre == pytest.approx({"a": 0.35, "b": 0.6**6 * 0.25, "c": 0.5**6 * 0.5})
    att = dict(pre)
    # c: .2 to b, then .05 of the rest to nobody
    att["b"] += 0.2 * att["c"]
    att["c"] *= 0.8 * 0.95
    # b: .2 to a, then .05 of the rest to c
    att["a"] += 0.2 * att["b"]
    att["c"] += 0.05 * 0.8 * att["b"]
    att["b"] *= 0.8 * 0.95
    # a: .2 to nobody, then .05 of the rest to b
    att["b"] += 0.05 * 0.8 * att["a"]
    att["a"] *= 0.8 * 0.95
    assert teacher.attention("ada") == pytest.approx(att)
    assert att == pytest.approx({"a": 0.26801043, "b": 0.02415795, "c": 0.00646656}, abs=1e-8)


def test_mastering_rate_bounds_widen_after_a_full_window(chain):
    teacher = MasteringRate(chain, window=2, max_performance=0.5)
    teacher.observe(log_of(("ada", "a", 1.0)))
    # one performance: clipped to the initial bounds [0, .5] -> M = 1
    assert teacher.mastering_rates("ada")["a"] == pytest.approx(1.0)
    assert teacher.learners_["ada"].bounds["a"] == (0.0, 0.5)
    teacher.observe(log_of(("ada", "a", 0.6)))
    # full window: mean .8 widens the upper bound to .8 -> M = (.8 - 0) / (.8 - 0)
    assert teacher.learners_["ada"].bounds["a"] == (0.0, pytest.approx(0.8))
    teacher.observe(log_of(("ada", "a", 0.2)))
    # window (.6, .2): mean .4 inside [0, .8] -> M = .5
    assert teacher.mastering_rates("ada")["a"] == pytest.approx(0.5)


def test_mastering_rate_only_observed_tasks_change(chain):
    teacher = MasteringRate(chain, window=3)
    teacher.observe(log_of(("ada", "a", 0.4), ("ada", "b", 0.5), ("ada", "zzz", 1.0)))
    before = teacher.learners_["ada"].history["b"]
    before = (list(before[0]), list(before[1]))
    teacher.observe(log_of(("ada", "a", 0.9)))
    state = teacher.learners_["ada"]
    assert state.history["b"] == before
    assert state.history["a"] == ([0.0, 1.0], [0.4, 0.9])
    assert "zzz" not in state.history and "c" not in state.history


# ================================================================== all teachers
def warm(teacher, domain=None):
    """Feed a stream of batches (with advantages) over items a, b, c."""
    rng = np.random.default_rng(11)
    for step in range(12):
        picks = teacher.select("ada", ["a", "b", "c"], k=2)
        rows = [
            ("ada", item, float(o), float(a))
            for item in picks
            for o, a in zip(rng.integers(0, 2, 4), rng.normal(size=4), strict=True)
        ]
        teacher.observe(
            EventLog(
                [r[0] for r in rows],
                [r[1] for r in rows],
                np.full(len(rows), float(step)),
                [r[2] for r in rows],
                {"advantage": [r[3] for r in rows]},
            )
        )


@pytest.mark.parametrize(
    "make",
    [
        lambda d: TSCL(variant="window", policy="boltzmann", temperature=0.05, seed=1),
        lambda d: TSCL(variant="online", seed=2),
        lambda d: SEC(temperature=0.2, seed=3),
        lambda d: DUMP(window=5, seed=4),
        lambda d: MasteringRate(d, window=3, epsilon=0.1, seed=5),
    ],
    ids=["tscl-window", "tscl-online", "sec", "dump", "mastering_rate"],
)
def test_round_trip_makes_the_same_choices(make, chain):
    teacher = make(chain)
    warm(teacher)
    restored = roundtrip(teacher, domain=chain)
    assert restored.state_dict() == json.loads(json.dumps(teacher.state_dict()))
    for _ in range(30):
        assert restored.select("ada", ["a", "b", "c"], k=2) == teacher.select(
            "ada", ["a", "b", "c"], k=2
        )
    warm(teacher)
    warm(restored)
    assert [teacher.select("ada", ["c", "a", "b"]) for _ in range(30)] == [
        restored.select("ada", ["c", "a", "b"]) for _ in range(30)
    ]


@pytest.mark.parametrize(
    "make",
    [
        lambda d: TSCL(variant="lstm"),
        lambda d: TSCL(policy="ucb"),
        lambda d: TSCL(window=1),
        lambda d: TSCL(variant="online", alpha=0.0),
        lambda d: TSCL(variant="window", alpha=2.0),
        lambda d: TSCL(variant="online", window=1),
        lambda d: TSCL(epsilon=-0.1),
        lambda d: TSCL(temperature=0.0),
        lambda d: SEC(alpha=0.0),
        lambda d: SEC(alpha=1.5),
        lambda d: SEC(temperature=-1.0),
        lambda d: DUMP(window=0),
        lambda d: DUMP(c=-0.5),
        lambda d: DUMP(temperature=0.0),
        lambda d: MasteringRate(d, window=1),
        lambda d: MasteringRate(d, power=-1),
        lambda d: MasteringRate(d, potential=1.5),
        lambda d: MasteringRate(d, to_predecessors=-0.1),
        lambda d: MasteringRate(d, to_successors=2.0),
        lambda d: MasteringRate(d, min_performance=1.0, max_performance=1.0),
        lambda d: MasteringRate(d, epsilon=1.1),
    ],
)
def test_bad_parameters_raise(make, chain):
    with pytest.raises(ParameterError):
        make(chain)


def test_mastering_rate_needs_a_domain():
    with pytest.raises(MentorError, match="domain"):
        MasteringRate(None)


@pytest.mark.parametrize(
    "teacher",
    [TSCL(seed=0), SEC(seed=0), DUMP(seed=0)],
    ids=["tscl", "sec", "dump"],
)
def test_k_and_empty_candidates(teacher):
    with pytest.raises(MentorError, match="field .k., value 0: must be an integer >= 1"):
        teacher.select("ada", ["a"], k=0)
    assert teacher.select("ada", [], k=2) == []
    picks = teacher.select("ada", ["a", "b", "c"], k=5)
    assert sorted(picks) == ["a", "b", "c"]
