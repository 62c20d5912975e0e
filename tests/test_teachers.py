"""Teachers: random, fixed sequence, target success and ZPDES.

Every expected choice is worked out by hand from the teacher's documented rule.
"""

from __future__ import annotations

import copy
import json
import math
from collections import Counter

import numpy as np
import pytest

from mentor.domain import Domain, Item
from mentor.errors import MentorError, StateError
from mentor.events import EventLog
from mentor.students import Elo
from mentor.teachers import (
    TEACHERS,
    ZPDES,
    FixedSequence,
    RandomTeacher,
    TargetSuccess,
    activity_graph,
    teacher_from_state,
)


def log_of(*events: tuple) -> EventLog:
    """An EventLog from (learner, item, outcome) triples at times 0, 1, 2, ..."""
    learners = [e[0] for e in events]
    items = [e[1] for e in events]
    return EventLog(learners, items, np.arange(len(events), dtype=float), [e[2] for e in events])


# ------------------------------------------------------------------ a small course
#
# Skills A and B are prerequisites of C.
#   A: a1 (0.2) < a2, a2b (0.5)          -> levels [a1], [a2, a2b]
#   B: b1 (no difficulty), x (skills B, A: placed under its first skill, B) -> one level [b1, x]
#   C: c1 (0.3) < c2 (0.7)               -> levels [c1], [c2]
# Activity graph: a1 -> a2, a1 -> a2b, c1 -> c2 (levels within a skill);
# the hardest level of A and the (only) level of B lead to the easiest level of C.
ITEMS = [
    Item("a1", ("A",), 0.2),
    Item("a2", ("A",), 0.5),
    Item("a2b", ("A",), 0.5),
    Item("b1", ("B",)),
    Item("x", ("B", "A")),
    Item("c1", ("C",), 0.3),
    Item("c2", ("C",), 0.7),
]
EXPECTED_EDGES = {
    ("a1", "a2"),
    ("a1", "a2b"),
    ("c1", "c2"),
    ("a2", "c1"),
    ("a2b", "c1"),
    ("b1", "c1"),
    ("x", "c1"),
}


@pytest.fixture
def domain() -> Domain:
    return Domain(ITEMS, ["A", "B", "C"], [("A", "C"), ("B", "C")])


def zpdes(domain: Domain, **kwargs) -> ZPDES:
    options = {"window": 4, "beta": 0.9, "eta": 0.4, "gamma": 0.2, "seed": 0}
    options.update(kwargs)
    return ZPDES(domain, **options)


# ------------------------------------------------------------------ the contract
def test_registry_names():
    assert {
        "random": RandomTeacher,
        "fixed": FixedSequence,
        "target": TargetSuccess,
        "zpdes": ZPDES,
    }.items() <= TEACHERS.items()
    for name, cls in TEACHERS.items():
        assert cls.name == name


@pytest.mark.parametrize("teacher", [RandomTeacher(0), FixedSequence(["a"]), TargetSuccess()])
def test_k_below_one_raises(teacher):
    model = Elo()
    with pytest.raises(MentorError, match="field .k., value 0: must be an integer >= 1"):
        teacher.select("ada", ["a", "b"], k=0, model=model)


# ------------------------------------------------------------------ RandomTeacher
def test_random_picks_distinct_candidates():
    teacher = RandomTeacher(seed=1)
    candidates = [f"i{n}" for n in range(10)]
    for _ in range(50):
        picks = teacher.select("ada", candidates, k=4)
        assert len(picks) == 4
        assert len(set(picks)) == 4
        assert set(picks) <= set(candidates)


def test_random_k_larger_than_candidates_returns_all():
    picks = RandomTeacher(seed=3).select("ada", ["a", "b", "c"], k=10)
    assert sorted(picks) == ["a", "b", "c"]


def test_random_no_candidates_gives_nothing():
    assert RandomTeacher(0).select("ada", [], k=2) == []


def test_random_is_deterministic_by_seed():
    candidates = list(range(20))

    def draws(seed):
        teacher = RandomTeacher(seed)
        return [teacher.select("ada", candidates, k=2) for _ in range(30)]

    assert draws(7) == draws(7)
    assert draws(7) != draws(8)


def test_random_covers_every_candidate():
    teacher = RandomTeacher(seed=0)
    counts = Counter(teacher.select("ada", ["a", "b", "c"])[0] for _ in range(600))
    # each has probability 1/3: 200 expected, sd about 11.5
    assert set(counts) == {"a", "b", "c"}
    assert all(140 < c < 260 for c in counts.values())


# ------------------------------------------------------------------ FixedSequence
def test_fixed_order_and_wrap_around():
    teacher = FixedSequence(["a", "b", "c"])
    seen = []
    for _ in range(7):
        item = teacher.select("ada", ["a", "b", "c"])[0]
        seen.append(item)
        teacher.observe(log_of(("ada", item, 1.0)))
    assert seen == ["a", "b", "c", "a", "b", "c", "a"]


def test_fixed_repeats():
    teacher = FixedSequence(["a", "b", "c"], repeats=2)
    seen = []
    for _ in range(8):
        item = teacher.select("ada", ["a", "b", "c"])[0]
        seen.append(item)
        teacher.observe(log_of(("ada", item, 0.0)))
    assert seen == ["a", "a", "b", "b", "c", "c", "a", "a"]


def test_fixed_k_items_from_current_position_wrapping():
    teacher = FixedSequence(["a", "b", "c", "d"])
    assert teacher.select("ada", ["a", "b", "c", "d"], k=2) == ["a", "b"]
    teacher.observe(log_of(("ada", "a", 1.0), ("ada", "b", 1.0), ("ada", "c", 1.0)))
    # position 3: d, then wrap to a, b
    assert teacher.select("ada", ["a", "b", "c", "d"], k=3) == ["d", "a", "b"]
    # k beyond the sequence: every item once, never twice
    assert teacher.select("ada", ["a", "b", "c", "d"], k=10) == ["d", "a", "b", "c"]


def test_fixed_skips_non_candidates():
    teacher = FixedSequence(["a", "b", "c"])
    # at position 0 ("a"), "a" is not allowed: the next allowed item in order
    assert teacher.select("ada", ["c", "b"]) == ["b"]
    teacher.observe(log_of(("ada", "b", 1.0), ("ada", "b", 1.0)))
    # at position 2 ("c"): "c" not allowed, wrap around to "a"
    assert teacher.select("ada", ["a", "b"]) == ["a"]
    # nothing of the sequence is a candidate
    assert teacher.select("ada", ["z"]) == []


def test_fixed_duplicates_in_order_are_picked_once():
    teacher = FixedSequence(["a", "b", "a"])
    assert teacher.select("ada", ["a", "b"], k=3) == ["a", "b"]


def test_fixed_position_advances_only_for_observed_learners():
    teacher = FixedSequence(["a", "b", "c", "d"])
    teacher.observe(log_of(("ada", "a", 1.0), ("bo", "a", 0.0), ("ada", "b", 1.0)))
    assert teacher.position_ == {"ada": 2, "bo": 1}
    assert teacher.select("ada", ["a", "b", "c", "d"]) == ["c"]
    assert teacher.select("bo", ["a", "b", "c", "d"]) == ["b"]
    assert teacher.select("cy", ["a", "b", "c", "d"]) == ["a"]
    # selecting does not move anyone
    assert teacher.position_ == {"ada": 2, "bo": 1}


def test_fixed_bad_arguments():
    with pytest.raises(MentorError, match="at least one item"):
        FixedSequence([])
    with pytest.raises(MentorError, match="field .repeats., value 0: must be an integer >= 1"):
        FixedSequence(["a"], repeats=0)


# ------------------------------------------------------------------ TargetSuccess
# Learner "ada" has ability 1.0; items have difficulties b, so P = sigmoid(1 - b):
#   i1: b=-1.0 -> sigmoid(2)    = 0.8808
#   i2: b= 0.0 -> sigmoid(1)    = 0.7311
#   i3: b= 0.5 -> sigmoid(0.5)  = 0.6225
#   i4: b= 1.2 -> sigmoid(-0.2) = 0.4502
#   i5: b= 3.0 -> sigmoid(-2)   = 0.1192
DIFFICULTY = {"i1": -1.0, "i2": 0.0, "i3": 0.5, "i4": 1.2, "i5": 3.0}


@pytest.fixture
def elo() -> Elo:
    state = {
        "kind": "elo",
        "version": 1,
        "params": {"alpha": 1.0, "beta": 0.05, "skill_ability": False},
        "domain": None,
        "state": {
            "learners": ["ada"],
            "ability": [1.0],
            "learner_count": [10],
            "items": list(DIFFICULTY),
            "difficulty": list(DIFFICULTY.values()),
            "item_count": [10] * len(DIFFICULTY),
            "skill_ability": [],
        },
    }
    return Elo.from_state_dict(state)


def test_target_fixture_predictions_match_hand_values(elo):
    expected = [1 / (1 + math.exp(-(1.0 - b))) for b in DIFFICULTY.values()]
    assert elo.predict("ada", list(DIFFICULTY)) == pytest.approx(expected)
    assert expected == pytest.approx([0.8808, 0.7311, 0.6225, 0.4502, 0.1192], abs=1e-4)


def test_target_picks_closest_predicted_success(elo):
    candidates = list(DIFFICULTY)
    # distances to 0.7: .1808 .0311 .0775 .2498 .5808
    assert TargetSuccess(0.7, seed=0).select("ada", candidates, model=elo) == ["i2"]
    assert TargetSuccess(0.7, seed=0).select("ada", candidates, k=3, model=elo) == [
        "i2",
        "i3",
        "i1",
    ]
    # distances to 0.45: i4 is 0.0002 away
    assert TargetSuccess(0.45, seed=0).select("ada", candidates, model=elo) == ["i4"]
    # distances to 0.1: i5 (.0192) then i4 (.3502)
    assert TargetSuccess(0.1, seed=0).select("ada", candidates, k=2, model=elo) == ["i5", "i4"]
    # restricted candidates: of i1, i4, i5 the closest to 0.7 is i1 (.1808 < .2498)
    assert TargetSuccess(0.7, seed=0).select("ada", ["i5", "i4", "i1"], model=elo) == ["i1"]


def test_target_k_larger_than_candidates_returns_all_by_distance(elo):
    picks = TargetSuccess(0.7, seed=0).select("ada", ["i5", "i1", "i2"], k=9, model=elo)
    assert picks == ["i2", "i1", "i5"]


def test_target_after_model_update(elo):
    # after a failure on i2 the ability drops and the item's difficulty rises:
    # p = sigmoid(1) = 0.7311, e = -0.7311, K(10) = 1 / 1.5
    e = -1 / (1 + math.exp(-1.0))
    k = 1 / (1 + 0.05 * 10)
    theta = 1.0 + k * e
    b = dict(DIFFICULTY, i2=0.0 - k * e)
    p = {i: 1 / (1 + math.exp(-(theta - d))) for i, d in b.items()}
    expected = min(p, key=lambda i: abs(p[i] - 0.7))
    elo.update(log_of(("ada", "i2", 0.0)))
    assert TargetSuccess(0.7, seed=0).select("ada", list(DIFFICULTY), model=elo) == [expected]
    assert expected == "i1"  # theta = 0.5126: p(i1) = 0.8177, p(i3) = 0.4960


def test_target_breaks_exact_ties_at_random():
    model = Elo()  # every unseen item predicts 0.5: all tied
    teacher = TargetSuccess(0.7, seed=0)
    counts = Counter(teacher.select("ada", ["a", "b", "c"], model=model)[0] for _ in range(300))
    assert set(counts) == {"a", "b", "c"}


def test_target_needs_a_model():
    with pytest.raises(MentorError, match="needs a student model"):
        TargetSuccess().select("ada", ["a", "b"])


@pytest.mark.parametrize("target", [0.0, 1.0, -0.2, 1.5])
def test_target_must_lie_strictly_inside_unit_interval(target):
    with pytest.raises(MentorError, match=r"\(0, 1\)"):
        TargetSuccess(target)


# ------------------------------------------------------------------ ZPDES: graph
def test_activity_graph_edges(domain):
    graph = activity_graph(domain)
    assert set(graph.nodes) == {i.id for i in ITEMS}
    assert set(graph.edges) == EXPECTED_EDGES


def test_activity_graph_chain_of_prerequisites():
    # S -> T -> U, two levels each: s.2 -> t.1 and t.2 -> u.1 link the skills
    items = [Item(f"{s}.{n}", (s,), n / 3) for s in "stu" for n in (1, 2)]
    graph = activity_graph(Domain(items, ["s", "t", "u"], [("s", "t"), ("t", "u")]))
    assert set(graph.edges) == {
        ("s.1", "s.2"),
        ("t.1", "t.2"),
        ("u.1", "u.2"),
        ("s.2", "t.1"),
        ("t.2", "u.1"),
    }


def test_zpdes_roots_start_open(domain):
    teacher = zpdes(domain)
    assert sorted(teacher.roots) == ["a1", "b1", "x"]
    assert sorted(teacher.zpd("ada")) == ["a1", "b1", "x"]


def test_zpdes_needs_domain_and_valid_parameters(domain):
    with pytest.raises(MentorError, match="needs a domain"):
        ZPDES(None)
    with pytest.raises(MentorError, match="window"):
        ZPDES(domain, window=1)
    with pytest.raises(MentorError, match="gamma"):
        ZPDES(domain, gamma=1.5)


# ------------------------------------------------------------------ ZPDES: zone
def test_zpdes_successor_opens_once_its_only_predecessor_passes(domain):
    teacher = zpdes(domain)  # window 4: passing needs >= 2 outcomes at a rate >= 0.6
    teacher.observe(log_of(("ada", "a1", 1.0)))
    assert "a2" not in teacher.zpd("ada")  # one outcome is not enough
    teacher.observe(log_of(("ada", "a1", 1.0)))
    assert sorted(teacher.zpd("ada")) == ["a1", "a2", "a2b", "b1", "x"]
    # a newly opened activity enters with the largest current weight:
    # a1 went 1 -> 0.9 * 1 + 0.4 * 0 = 0.9, so the largest is b1's and x's 1.0
    zone = teacher.learners_["ada"]
    assert zone.weights["a1"] == pytest.approx(0.9)
    assert zone.weights["a2"] == pytest.approx(1.0)
    assert zone.weights["a2b"] == pytest.approx(1.0)


def test_zpdes_successor_stays_closed_below_open_threshold(domain):
    teacher = zpdes(domain)
    teacher.observe(log_of(("ada", "a1", 1.0), ("ada", "a1", 0.0)))  # rate 0.5 < 0.6
    assert "a2" not in teacher.zpd("ada")
    teacher.observe(log_of(("ada", "a1", 1.0)))  # rate 2/3 >= 0.6
    assert "a2" in teacher.zpd("ada")


def test_zpdes_successor_opens_only_after_all_predecessors_pass(domain):
    teacher = zpdes(domain)
    passes = [("a1", False), ("a2", False), ("a2b", False), ("b1", False), ("x", True)]
    for item, c1_open in passes:
        teacher.observe(log_of(("ada", item, 1.0), ("ada", item, 1.0)))
        assert ("c1" in teacher.zpd("ada")) is c1_open, item
    assert "c2" not in teacher.zpd("ada")
    teacher.observe(log_of(("ada", "c1", 1.0), ("ada", "c1", 1.0)))
    assert "c2" in teacher.zpd("ada")


def test_zpdes_mastered_activity_leaves_zone(domain):
    teacher = zpdes(domain)  # mastery: rate >= 0.8 over a full window of 4
    teacher.observe(log_of(*[("ada", "b1", o) for o in (1.0, 1.0, 1.0, 0.0)]))
    assert "b1" in teacher.zpd("ada")  # 0.75 < 0.8
    teacher.observe(log_of(*[("ada", "a1", 1.0)] * 3))
    assert "a1" in teacher.zpd("ada")  # window not yet full
    teacher.observe(log_of(("ada", "a1", 1.0)))
    assert "a1" not in teacher.zpd("ada")
    assert "a1" in teacher.learners_["ada"].weights  # still open, just mastered
    # never drawn again while other zone activities are candidates
    picks = {teacher.select("ada", ["a1", "a2", "b1"])[0] for _ in range(100)}
    assert picks == {"a2", "b1"}


def test_zpdes_weight_update_by_hand(domain):
    teacher = zpdes(domain)  # window 4, beta 0.9, eta 0.4
    # a1 outcomes 0, 1, 1, 0, 1; r = mean(newer half) - mean(older half) of the window
    #   [0]           no update                       w = 1
    #   [0,1]         r = 1 - 0 = 1                   w = 0.9*1    + 0.4*1   = 1.3
    #   [0,1,1]       r = mean(1,1) - mean(0) = 1     w = 0.9*1.3  + 0.4     = 1.57
    #   [0,1,1,0]     r = mean(1,0) - mean(0,1) = 0   w = 0.9*1.57           = 1.413
    #   [1,1,0,1]     r = mean(0,1) - mean(1,1) = -.5 w = 0.9*1.413 - 0.2    = 1.0717
    expected = [1.0, 1.3, 1.57, 1.413, 1.0717]
    for outcome, w in zip([0.0, 1.0, 1.0, 0.0, 1.0], expected, strict=True):
        teacher.observe(log_of(("ada", "a1", outcome)))
        assert teacher.learners_["ada"].weights["a1"] == pytest.approx(w)
    assert teacher.learners_["ada"].history["a1"] == [1.0, 1.0, 0.0, 1.0]


def test_zpdes_weight_is_clipped_at_zero(domain):
    teacher = zpdes(domain)
    #   [1]        w = 1
    #   [1,0]      r = -1     w = 0.9 - 0.4         = 0.5
    #   [1,0,0]    r = -1     w = 0.45 - 0.4        = 0.05
    #   [1,0,0,0]  r = -0.5   w = max(0, 0.045 - 0.2) = 0
    for outcome, w in zip([1.0, 0.0, 0.0, 0.0], [1.0, 0.5, 0.05, 0.0], strict=True):
        teacher.observe(log_of(("ada", "b1", outcome)))
        assert teacher.learners_["ada"].weights["b1"] == pytest.approx(w)


def test_zpdes_unopened_activity_gets_history_but_no_weight(domain):
    teacher = zpdes(domain)
    teacher.observe(log_of(("ada", "c2", 1.0), ("ada", "c2", 0.0)))
    zone = teacher.learners_["ada"]
    assert zone.history["c2"] == [1.0, 0.0]
    assert "c2" not in zone.weights


def test_zpdes_observe_touches_only_observed_learners_and_arms(domain):
    teacher = zpdes(domain)
    teacher.zpd("bo")  # bo has a zone before the events arrive
    before_bo = copy.deepcopy(teacher.state_dict()["state"]["learners"])
    teacher.observe(log_of(("ada", "b1", 1.0), ("ada", "b1", 0.0), ("cy", "x", 1.0)))
    zones = teacher.learners_
    assert set(zones) == {"bo", "ada", "cy"}
    # ada: only b1 moved (w = 0.9 - 0.4 = 0.5), the other roots keep weight 1
    assert zones["ada"].weights == {"a1": 1.0, "b1": pytest.approx(0.5), "x": 1.0}
    assert set(zones["ada"].history) == {"b1"}
    # cy: one outcome, no weight change yet
    assert zones["cy"].weights == {"a1": 1.0, "b1": 1.0, "x": 1.0}
    assert zones["cy"].history == {"x": [1.0]}
    # bo untouched
    assert [
        e for e in teacher.state_dict()["state"]["learners"] if e["learner"] == "bo"
    ] == before_bo


def test_zpdes_ignores_items_outside_the_domain(domain):
    teacher = zpdes(domain)
    teacher.observe(log_of(("ada", "nope", 1.0)))
    assert teacher.learners_ == {}


def test_zpdes_select_returns_only_candidates(domain):
    teacher = zpdes(domain, seed=5)
    rng = np.random.default_rng(0)
    all_items = [i.id for i in ITEMS]
    for _ in range(200):
        size = int(rng.integers(1, len(all_items) + 1))
        candidates = list(rng.choice(all_items, size=size, replace=False))
        k = int(rng.integers(1, 4))
        picks = teacher.select("ada", candidates, k=k)
        assert 1 <= len(picks) <= k
        assert len(set(picks)) == len(picks)
        assert set(picks) <= set(candidates)
        teacher.observe(log_of(*[("ada", p, float(rng.random() < 0.7)) for p in picks]))


def test_zpdes_select_prefers_zone_then_open_then_anything(domain):
    teacher = zpdes(domain, seed=1)
    # zone is {a1, b1, x}: from candidates a1, c2 only a1 is in it
    assert all(teacher.select("ada", ["c2", "a1"]) == ["a1"] for _ in range(30))
    # k larger than the zone part of the candidates: only zone items
    assert sorted(teacher.select("ada", ["a1", "b1", "c1", "c2"], k=4)) == ["a1", "b1"]
    # no zone candidate: any candidate
    picks = {teacher.select("ada", ["c1", "c2"])[0] for _ in range(50)}
    assert picks == {"c1", "c2"}
    # a mastered (open, out of the zone) activity is preferred to closed ones
    teacher.observe(log_of(*[("ada", "a1", 1.0)] * 4))
    assert all(teacher.select("ada", ["a1", "c2"]) == ["a1"] for _ in range(30))


def test_zpdes_draws_in_proportion_to_weights(domain):
    # gamma 0.2, weights a1 = 0 (clipped), b1 = 1, x = 1:
    # P(a1) = 0.8 * 0 + 0.2 / 3 = 0.0667, P(b1) = P(x) = 0.8 * 0.5 + 0.0667 = 0.4667
    teacher = zpdes(domain, seed=2)
    teacher.observe(log_of(*[("ada", "a1", o) for o in (1.0, 0.0, 0.0, 0.0)]))
    assert teacher.learners_["ada"].weights["a1"] == 0.0
    n = 3000
    counts = Counter(teacher.select("ada", ["a1", "b1", "x"])[0] for _ in range(n))
    # sd of the a1 count: sqrt(3000 * 0.0667 * 0.9333) = 13.7; expected 200
    assert 130 < counts["a1"] < 270
    assert 1250 < counts["b1"] < 1550


# ------------------------------------------------------------------ state round trip
def _drive(teacher, model, learners, candidates, steps, k=1, start=0):
    """Select, then observe deterministic outcomes; returns every selection."""
    seen = []
    for step in range(start, start + steps):
        for learner in learners:
            picks = teacher.select(learner, candidates, k, float(step), model)
            seen.append(picks)
            outcomes = [float((step + candidates.index(p)) % 3 != 0) for p in picks]
            log = EventLog([learner] * len(picks), picks, [float(step)] * len(picks), outcomes)
            if model is not None:
                model.update(log)
            teacher.observe(log)
    return seen


def _teachers(domain):
    order = [i.id for i in ITEMS]
    return {
        "random": lambda: RandomTeacher(seed=11),
        "fixed": lambda: FixedSequence(order[::-1], repeats=2, seed=11),
        "target": lambda: TargetSuccess(0.6, seed=11),
        "zpdes": lambda: ZPDES(domain, window=4, seed=11),
    }


@pytest.mark.parametrize("name", ["random", "fixed", "target", "zpdes"])
@pytest.mark.parametrize("learners", [["ada", "bo"], [0, 1]])
def test_state_round_trip_gives_identical_selections(domain, name, learners):
    candidates = [i.id for i in ITEMS]
    teacher = _teachers(domain)[name]()
    model = Elo(domain)
    _drive(teacher, model, learners, candidates, steps=12, k=2)

    state = json.loads(json.dumps(teacher.state_dict()))
    model_state = json.loads(json.dumps(model.state_dict()))
    restored = type(teacher).from_state_dict(state, domain=domain)
    via_registry = teacher_from_state(state, domain=domain)
    twin, twin2 = Elo.from_state_dict(model_state), Elo.from_state_dict(model_state)

    expected = _drive(teacher, model, learners, candidates, steps=25, k=2, start=12)
    assert _drive(restored, twin, learners, candidates, steps=25, k=2, start=12) == expected
    assert _drive(via_registry, twin2, learners, candidates, steps=25, k=2, start=12) == expected


@pytest.mark.parametrize("name", ["random", "target", "zpdes"])
def test_round_trip_restores_the_random_generator(domain, name):
    # The random state matters: a teacher rebuilt from its parameters alone,
    # with a fresh generator, makes different draws.
    candidates = [i.id for i in ITEMS]
    teacher = _teachers(domain)[name]()
    _drive(teacher, Elo(domain), ["ada"], candidates, steps=10)
    state = json.loads(json.dumps(teacher.state_dict()))
    restored = type(teacher).from_state_dict(state, domain=domain)
    assert restored.rng.bit_generator.state == teacher.rng.bit_generator.state
    fresh = type(teacher).from_state_dict(state, domain=domain)
    fresh.rng = np.random.default_rng(11)
    model = Elo()  # every prediction 0.5: target's choice is a pure tie-break
    a = [restored.select("ada", candidates, 1, None, model) for _ in range(30)]
    b = [fresh.select("ada", candidates, 1, None, model) for _ in range(30)]
    assert a != b


def test_load_state_dict_into_existing_teacher(domain):
    source = ZPDES(domain, window=4, seed=3)
    source.observe(log_of(("ada", "a1", 1.0), ("ada", "a1", 1.0)))
    target = ZPDES(domain, window=4, seed=99)
    target.load_state_dict(json.loads(json.dumps(source.state_dict())))
    assert sorted(target.zpd("ada")) == sorted(source.zpd("ada"))
    draws = [source.select("ada", ["a1", "a2", "b1"], k=2) for _ in range(20)]
    assert [target.select("ada", ["a1", "a2", "b1"], k=2) for _ in range(20)] == draws


def test_state_keeps_parameters(domain):
    teacher = ZPDES(
        domain,
        window=8,
        beta=0.7,
        eta=0.2,
        gamma=0.1,
        open_threshold=0.5,
        mastery_threshold=0.9,
        seed=0,
    )
    restored = ZPDES.from_state_dict(json.loads(json.dumps(teacher.state_dict())), domain=domain)
    assert restored.get_params() == teacher.get_params()
    fixed = FixedSequence(["b", "a"], repeats=3)
    assert FixedSequence.from_state_dict(fixed.state_dict()).get_params() == {
        "order": ["b", "a"],
        "repeats": 3,
    }
    assert TargetSuccess.from_state_dict(TargetSuccess(0.85).state_dict()).target == 0.85


def _corruptions(state: dict) -> list[dict]:
    """Ways a saved teacher can be broken, common to every teacher."""

    def changed(**kw):
        s = copy.deepcopy(state)
        s.update(kw)
        return s

    missing_rng = copy.deepcopy(state)
    del missing_rng["rng"]
    missing_state = copy.deepcopy(state)
    del missing_state["state"]
    return [
        changed(kind="other"),
        changed(version=99),
        changed(params=5),
        changed(params=[1, 2]),
        changed(params={"no_such_parameter": 1}),
        missing_rng,
        missing_state,
        changed(rng="junk"),
        changed(rng={"bit_generator": "MT19937", "state": {}}),
        changed(rng={"bit_generator": "PCG64", "state": {"state": "x", "inc": 1}}),
        [1, 2, 3],
        None,
    ]


@pytest.mark.parametrize("name", ["random", "fixed", "target", "zpdes"])
def test_corrupt_state_raises_state_error(domain, name):
    teacher = _teachers(domain)[name]()
    _drive(teacher, Elo(domain), ["ada"], [i.id for i in ITEMS], steps=5)
    state = json.loads(json.dumps(teacher.state_dict()))
    for bad in _corruptions(state):
        with pytest.raises(StateError):
            type(teacher).from_state_dict(bad, domain=domain)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("fixed", {"order": [], "repeats": 1}),
        ("fixed", {"order": ["a"], "repeats": "x"}),
        ("target", {"target": 2.0}),
        ("target", {"target": "x"}),
        ("zpdes", {"window": 1}),
        ("zpdes", {"beta": "x"}),
    ],
)
def test_corrupt_parameters_raise_state_error(domain, name, params):
    state = json.loads(json.dumps(_teachers(domain)[name]().state_dict()))
    state["params"] = params
    with pytest.raises(StateError, match="corrupt"):
        teacher_from_state(state, domain=domain)


@pytest.mark.parametrize(
    ("name", "inner"),
    [
        ("fixed", {}),
        ("fixed", {"position": 5}),
        ("fixed", {"position": [["ada"]]}),
        ("fixed", {"position": [["ada", "x"]]}),
        ("zpdes", {}),
        ("zpdes", {"learners": [{"learner": "ada"}]}),
        ("zpdes", {"learners": [[1, 2]]}),
        (
            "zpdes",
            {
                "learners": [
                    {
                        "learner": "ada",
                        "weights": [["a1", "x"]],
                        "history": [],
                        "passed": [],
                        "mastered": [],
                    }
                ]
            },
        ),
        (
            "zpdes",
            {
                "learners": [
                    {
                        "learner": "ada",
                        "weights": [],
                        "history": [["a1", ["x"]]],
                        "passed": [],
                        "mastered": [],
                    }
                ]
            },
        ),
        (
            "zpdes",
            {
                "learners": [
                    {"learner": ["ada"], "weights": [], "history": [], "passed": [], "mastered": []}
                ]
            },
        ),
    ],
)
def test_corrupt_learned_state_raises_state_error(domain, name, inner):
    state = json.loads(json.dumps(_teachers(domain)[name]().state_dict()))
    state["state"] = inner
    with pytest.raises(StateError, match=f"corrupt {name}"):
        teacher_from_state(state, domain=domain)


def test_teacher_from_state_rejects_unknown_kind():
    with pytest.raises(StateError, match="not a saved teacher"):
        teacher_from_state({"kind": "elo", "version": 1, "state": {}})
    with pytest.raises(StateError, match="not a saved teacher"):
        teacher_from_state([])
