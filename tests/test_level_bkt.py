"""LevelBKT: knowledge tracing over a skill's chain of levels, checked against hand
computations at the defaults (prior .4, learn .1, guess .2, slip .1) on one skill of
three levels, and against BKT where the two must agree (one level per skill)."""

from __future__ import annotations

import numpy as np
import pytest

from mentor.domain import Domain, Item
from mentor.errors import ParameterError
from mentor.events import EventLog
from mentor.students import BKT, LevelBKT, model_from_state
from mentor.students.level_bkt import skill_levels

ITEMS = ["add.1", "add.2", "add.3"]


def ladder() -> Domain:
    """One skill of three levels (difficulties .25, .5, .75), and one it needs."""
    items = [Item(f"add.{n + 1}", ("add",), d) for n, d in enumerate((0.25, 0.5, 0.75))]
    items.append(Item("count.1", ("count",), 0.5))
    return Domain(items, ["count", "add"], [("count", "add")])


def answers(pairs: list[tuple[str, float]], learner: str = "ann") -> EventLog:
    n = len(pairs)
    return EventLog(
        [learner] * n, [i for i, _ in pairs], np.arange(n, dtype=float), [o for _, o in pairs]
    )


def test_levels_are_the_ranks_of_distinct_difficulties():
    domain = Domain(
        [
            Item("a", ("s",), 0.7),
            Item("b", ("s",), None),
            Item("c", ("s",), 0.2),
            Item("d", ("s",), 0.7),
        ]
    )
    # no difficulty is the lowest level; equal difficulties share a level
    assert skill_levels(domain, "s") == {"b": 1, "c": 2, "a": 3, "d": 3}
    assert skill_levels(None, "x") == {"x": 1}


def test_prior_is_a_chain_of_level_priors():
    model = LevelBKT(ladder())
    # P(k >= j) = .4^j: 1, .4, .16, .064
    np.testing.assert_allclose(model.belief("ann", "add"), [0.6, 0.24, 0.096, 0.064])
    np.testing.assert_allclose(
        model.predict("ann", ITEMS),
        [0.4 * 0.9 + 0.6 * 0.2, 0.16 * 0.9 + 0.84 * 0.2, 0.064 * 0.9 + 0.936 * 0.2],
    )


def test_a_right_answer_at_level_2_is_evidence_about_level_1():
    model = LevelBKT(ladder())
    model.update(answers([("add.2", 1.0)]))
    # likelihood of a right answer at level 2 per state k = 0..3: .2, .2, .9, .9
    joint = np.array([0.6 * 0.2, 0.24 * 0.2, 0.096 * 0.9, 0.064 * 0.9])  # .12 .048 .0864 .0576
    posterior = joint / joint.sum()  # sum .312
    # learning at level 2: state 1 moves to 2 with probability .1
    expected = posterior.copy()
    expected[1] -= 0.1 * posterior[1]
    expected[2] += 0.1 * posterior[1]
    np.testing.assert_allclose(model.belief("ann", "add"), expected)
    level1 = model.state("ann")["items"]["add.1"]
    assert level1 == pytest.approx(0.192 / 0.312)  # from .4 to .615 without practising it
    assert model.state("ann")["items"]["add.2"] == pytest.approx((0.144 + 0.1 * 0.048) / 0.312)


def test_a_wrong_answer_at_level_1_is_evidence_about_level_2():
    model = LevelBKT(ladder())
    model.update(answers([("add.1", 0.0)]))
    # likelihood of a wrong answer at level 1 per state: .8, .1, .1, .1
    # P(k >= 2) = (.096 + .064) .1 / (.6 .8 + .4 .1) = .016 / .52; learning at level 1
    # moves state 0 to 1 only
    assert model.state("ann")["items"]["add.2"] == pytest.approx(0.016 / 0.52)
    assert model.state("ann")["items"]["add.1"] == pytest.approx((0.04 + 0.1 * 0.48) / 0.52)


def test_two_answers_and_the_skill_mastery():
    model = LevelBKT(ladder())
    model.update(answers([("add.2", 1.0), ("add.1", 1.0)]))
    after_first = np.array([0.12, 0.048 * 0.9, 0.0864 + 0.048 * 0.1, 0.0576]) / 0.312
    joint = after_first * np.array([0.2, 0.9, 0.9, 0.9])
    posterior = joint / joint.sum()
    expected = posterior + np.array([-0.1, 0.1, 0.0, 0.0]) * posterior[0]
    np.testing.assert_allclose(model.belief("ann", "add"), expected)
    state = model.state("ann")
    assert state["mastery"]["add"] == pytest.approx(expected[3])  # every level known
    assert state["mastery"]["count"] == pytest.approx(0.4)  # one level: BKT's prior
    np.testing.assert_allclose(state["levels"]["add"], expected)


def test_one_level_per_skill_is_bkt_without_forgetting():
    events = answers([("x", 1.0), ("x", 0.0), ("y", 1.0), ("x", 1.0), ("y", 0.5)])
    level, bkt = LevelBKT(), BKT(forgets=False)
    level.update(events)
    bkt.update(events)
    np.testing.assert_allclose(level.predict("ann", ["x", "y"]), bkt.predict("ann", ["x", "y"]))
    a, b = level.lookahead("ann", ["x", "y"]), bkt.lookahead("ann", ["x", "y"])
    for field in ("p_success", "mastery", "if_correct", "if_wrong"):
        np.testing.assert_allclose(getattr(a, field), getattr(b, field))


def test_lookahead_is_the_update_and_its_gain_is_learning_at_the_fringe():
    domain = ladder()
    model = LevelBKT(domain)
    model.update(answers([("add.2", 1.0)]))
    belief = model.belief("ann", "add")
    ahead = model.lookahead("ann", ITEMS)
    # expected gain of level j: P(k = j - 1) learn (the posterior is a martingale)
    np.testing.assert_allclose(ahead.expected_gain, 0.1 * belief[:3], atol=1e-12)
    np.testing.assert_allclose(ahead.skill_weight, [0.0, 0.0, 1.0])
    assert model.belief("ann", "add") == pytest.approx(belief)  # not changed
    for n, item in enumerate(ITEMS):
        for outcome, field in ((1.0, "if_correct"), (0.0, "if_wrong")):
            copy = LevelBKT.from_state_dict(model.state_dict(), domain=domain)
            copy.update(answers([(item, outcome)]))
            assert getattr(ahead, field)[n] == pytest.approx(copy.state("ann")["items"][item])


def test_an_item_of_two_skills_needs_both():
    domain = Domain([Item("a", ("s",), 0.1), Item("b", ("s",), 0.9), Item("ab", ("s", "t"), 0.9)])
    model = LevelBKT(domain)
    # "ab" is on level 2 of s (difficulty .9, as "b") and level 1 of t
    p_s = 0.16 * 0.9 + 0.84 * 0.2
    p_t = 0.4 * 0.9 + 0.6 * 0.2
    assert model.predict("ann", ["ab"])[0] == pytest.approx(p_s * p_t)
    assert model.lookahead("ann", ["ab"]).mastery[0] == pytest.approx(0.16 * 0.4)


def test_fit_raises_the_likelihood_and_recovers_parameters():
    rng = np.random.default_rng(0)
    truth = {"prior": 0.3, "learn": 0.25, "guess": 0.15, "slip": 0.05}
    domain = ladder()
    learners, items, times, outcomes = [], [], [], []
    for n in range(300):
        k = 0
        while k < 3 and rng.random() < truth["prior"]:
            k += 1
        for t in range(12):
            level = int(rng.integers(1, 4))
            right = rng.random() < (1 - truth["slip"] if k >= level else truth["guess"])
            learners.append(n)
            items.append(f"add.{level}")
            times.append(float(t))
            outcomes.append(float(right))
            if k == level - 1 and rng.random() < truth["learn"]:
                k = level
    log = EventLog(learners, items, np.array(times), np.array(outcomes))
    trace: list[float] = []
    model = LevelBKT(domain, max_iter=60).fit(log, lambda r: trace.append(r["log_likelihood"]))
    assert np.all(np.diff(trace) >= -1e-8)  # EM never lowers the likelihood
    for name, value in truth.items():
        assert model.params("add")[name] == pytest.approx(value, abs=0.05), name
    assert model.params("count") == {"prior": 0.4, "learn": 0.1, "guess": 0.2, "slip": 0.1}
    # after fitting, a learner's belief is where their answers leave it
    replay = LevelBKT.from_state_dict(model.state_dict(), domain=domain)
    replay.knowledge_.clear()
    replay.update(log[np.asarray(log.learner) == 7])
    np.testing.assert_allclose(replay.belief(7, "add"), model.belief(7, "add"))


def test_state_round_trip_and_bad_parameters():
    domain = ladder()
    model = LevelBKT(domain, learn=0.2)
    model.update(answers([("add.3", 1.0), ("count.1", 0.0)]))
    restored = model_from_state(model.state_dict(), domain=domain)
    np.testing.assert_allclose(restored.predict("ann", ITEMS), model.predict("ann", ITEMS))
    assert restored.get_params()["learn"] == 0.2
    with pytest.raises(ParameterError):
        LevelBKT(domain, slip=1.5)
