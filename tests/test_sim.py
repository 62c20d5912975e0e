"""The simulator: hand-computed checks of the simulated students' formulas (answers
with guess and slip, learning at the edge of ability, the prerequisite gate,
forgetting, the post-test), determinism by seed, the synthetic course, and the
teaching experiment (shapes, common random numbers, summaries).

Every expected number comes from the formulas in the docstring of
mentor/sim/population.py, with the defaults of StudentParams (guess .2, slip .1,
sharpness .1, stretch .1, width .15, prerequisite level .6, forget rate .002)
unless a test says otherwise. sigmoid(x) = 1 / (1 + exp(-x)).
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mentor.domain import Domain, Item
from mentor.errors import DataError, DomainError, UnknownIdError
from mentor.events import EventLog
from mentor.sim import (
    DEFAULT_TEACHERS,
    ExperimentResult,
    StudentParams,
    StudentPopulation,
    make_course,
    prerequisite_closure,
    run_cohort,
    run_experiment,
)
from mentor.students import BKT, Elo
from mentor.teachers import FixedSequence, RandomTeacher, Teacher


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


# ------------------------------------------------------------------ a tiny course
#
# Skills A and B are prerequisites of C.
#   a (A, .5), a_hard (A, .75), a_easy (A, .2), x (A, no difficulty: .5),
#   b (B, .5), ab (skills B then A, .5: the simulator uses the first, B), c (C, .5)
ITEMS = [
    Item("a", ("A",), 0.5),
    Item("a_hard", ("A",), 0.75),
    Item("a_easy", ("A",), 0.2),
    Item("x", ("A",)),
    Item("b", ("B",), 0.5),
    Item("ab", ("B", "A"), 0.5),
    Item("c", ("C",), 0.5),
]
A, B, C = 0, 1, 2


@pytest.fixture
def domain() -> Domain:
    return Domain(ITEMS, ["A", "B", "C"], [("A", "C"), ("B", "C")])


def population(domain: Domain, n: int, seed: int = 0, **params) -> StudentPopulation:
    return StudentPopulation(domain, n, seed=seed, params=StudentParams(**params))


def idx(pop: StudentPopulation, *items: str) -> np.ndarray:
    return np.array([pop.item_ids.index(i) for i in items])


# ------------------------------------------------------------------ answers
def test_success_probability_with_guess_and_slip(domain):
    pop = population(domain, 3)
    pop.knowledge[:] = [[0.6, 0.0, 0.0], [0.5, 0.0, 0.0], [0.5, 0.6, 0.0]]
    p = pop.success_probability(np.array([0, 1, 2]), idx(pop, "a", "x", "ab"))
    # student 0 on a: .2 + .7 * sigmoid((.6 - .5) / .1) = .2 + .7 * sigmoid(1) = .711741
    # student 1 on x (no difficulty, so .5): .2 + .7 * sigmoid(0) = .55
    # student 2 on ab: its first skill is B (K = .6), not A (K = .5): .711741 again
    assert p == pytest.approx([0.2 + 0.7 * sigmoid(1.0), 0.55, 0.2 + 0.7 * sigmoid(1.0)])
    assert p[0] == pytest.approx(0.711741, abs=1e-6)


def test_success_probability_tends_to_guess_and_one_minus_slip(domain):
    pop = population(domain, 2)
    pop.knowledge[:, A] = [0.0, 1.0]
    p = pop.success_probability(np.array([0, 1]), idx(pop, "a_hard", "a_easy"))
    # K = 0 on d = .75: .2 + .7 * sigmoid(-7.5) = .200387  (close to guess)
    # K = 1 on d = .2:  .2 + .7 * sigmoid(8)    = .899765  (close to 1 - slip)
    assert p == pytest.approx([0.2 + 0.7 * sigmoid(-7.5), 0.2 + 0.7 * sigmoid(8.0)])
    assert p[0] == pytest.approx(0.200387, abs=1e-6)
    assert p[1] == pytest.approx(0.899765, abs=1e-6)


def test_certain_answers_when_guess_or_slip_decide(domain):
    # guess 1, slip 0: P = 1 + 0 * sigmoid(...) = 1, every answer right;
    # guess 0, slip 1: P = 0 + 0 * sigmoid(...) = 0, every answer wrong.
    sure = population(domain, 50, guess=1.0, slip=0.0)
    assert sure.attempt(np.zeros(50, dtype=int)).tolist() == [1.0] * 50
    never = population(domain, 50, guess=0.0, slip=1.0)
    assert never.attempt(np.zeros(50, dtype=int)).tolist() == [0.0] * 50


def test_outcome_frequency_matches_success_probability(domain):
    # Every student at K = .5 on a (d = .5): P = .2 + .7 * .5 = .55.
    # Over 20 000 answers the mean has sd sqrt(.55 * .45 / 20000) = .0035;
    # allow 5 sd.
    n = 20_000
    pop = population(domain, n, seed=3)
    pop.knowledge[:, A] = 0.5
    outcomes = pop.attempt(np.full(n, pop.item_ids.index("a")))
    assert set(np.unique(outcomes).tolist()) <= {0.0, 1.0}
    assert abs(outcomes.mean() - 0.55) < 5 * math.sqrt(0.55 * 0.45 / n)


def test_the_answer_comes_before_the_learning(domain):
    # attempt() "returns the 0/1 outcomes and applies the learning": the answer
    # uses the knowledge before the attempt. With guess = slip = 0 and sharpness
    # .001, K = .45 on d = .5 gives P = sigmoid(-50) ~ 2e-22 (a wrong answer),
    # while the learning, with rate 1, stretch .05 (fit = exp(0) = 1) and no
    # prerequisite, lifts K to .45 + 1 * 1 * 1 * .55 = 1.
    pop = population(domain, 1, guess=0.0, slip=0.0, sharpness=0.001, stretch=0.05)
    pop.knowledge[0, A] = 0.45
    pop.rate[:] = 1.0
    item = idx(pop, "a")
    assert pop.attempt(item).tolist() == [0.0]
    assert pop.knowledge[0, A] == pytest.approx(1.0)
    # now P = sigmoid((1 - .5) / .001) = 1
    assert pop.attempt(item).tolist() == [1.0]


# ------------------------------------------------------------------ learning
def test_learning_is_largest_at_the_edge_of_ability(domain):
    # Three students with K_A = .4 and rate .15 attempt items of skill A (a root:
    # gate = 1). Gain = rate * exp(-(d - K - stretch)^2 / (2 width^2)) * (1 - K):
    #   a      (d .5):  d - K - .1 = 0    -> fit 1                -> K = .4 + .15*.6 = .49
    #   a_hard (d .75): d - K - .1 = .25  -> fit exp(-.0625/.045) = .249352
    #                                                             -> K = .422442
    #   a_easy (d .2):  d - K - .1 = -.3  -> fit exp(-.09/.045) = exp(-2) = .135335
    #                                                             -> K = .412180
    pop = population(domain, 3)
    before_other = pop.knowledge[:, [B, C]].copy()
    pop.knowledge[:, A] = 0.4
    pop.rate[:] = 0.15
    pop.attempt(idx(pop, "a", "a_hard", "a_easy"))
    expected = [
        0.4 + 0.15 * 1.0 * 0.6,
        0.4 + 0.15 * math.exp(-(0.25**2) / (2 * 0.15**2)) * 0.6,
        0.4 + 0.15 * math.exp(-(0.3**2) / (2 * 0.15**2)) * 0.6,
    ]
    assert pop.knowledge[:, A] == pytest.approx(expected, abs=1e-12)
    assert pop.knowledge[:, A] == pytest.approx([0.49, 0.422442, 0.412180], abs=1e-6)
    # other skills are not touched by an attempt (forgetting happens in advance())
    assert np.array_equal(pop.knowledge[:, [B, C]], before_other)
    assert pop.practice[:, A].tolist() == [1, 1, 1]
    assert pop.practice[:, [B, C]].sum() == 0


def test_prerequisite_gate_blocks_learning_until_parents_are_known(domain):
    # Skill C needs A and B; gate = prod over parents of sigmoid((K_p - .6) / .05).
    # Every student: K_C = .4, item c (d .5, so fit = 1), 1 - K = .6.
    #   s0: K_A = .1, K_B = .9, rate 1: gate = sigmoid(-10) * sigmoid(6)
    #       = 4.5398e-5 * .997527 = 4.5286e-5 -> gain 2.717e-5 (blocked)
    #   s1: K_A = K_B = .9, rate 1: gate = sigmoid(6)^2 = .995061 -> K = .997037
    #   s2: K_A = .6, K_B = .65, rate .5: gate = sigmoid(0) * sigmoid(1) = .5 * .731059
    #       = .365529 -> K = .4 + .5 * .365529 * .6 = .509659
    pop = population(domain, 3)
    pop.knowledge[:] = [[0.1, 0.9, 0.4], [0.9, 0.9, 0.4], [0.6, 0.65, 0.4]]
    pop.rate[:] = [1.0, 1.0, 0.5]
    pop.attempt(idx(pop, "c", "c", "c"))
    gates = [sigmoid(-10) * sigmoid(6), sigmoid(6) ** 2, 0.5 * sigmoid(1)]
    rates = [1.0, 1.0, 0.5]
    expected = [0.4 + r * g * 0.6 for r, g in zip(rates, gates, strict=True)]
    assert pop.knowledge[:, C] == pytest.approx(expected, rel=1e-12)
    assert pop.knowledge[0, C] - 0.4 == pytest.approx(2.717e-5, rel=1e-3)
    assert pop.knowledge[1, C] == pytest.approx(0.997037, abs=1e-6)
    assert pop.knowledge[2, C] == pytest.approx(0.509659, abs=1e-6)
    # the parents themselves do not change
    assert pop.knowledge[:, A].tolist() == [0.1, 0.9, 0.6]


def test_attempt_for_listed_students_only(domain):
    pop = population(domain, 4)
    pop.knowledge[:, A] = 0.4
    pop.rate[:] = 0.15
    outcomes = pop.attempt(idx(pop, "a", "a"), students=np.array([1, 3]))
    assert outcomes.shape == (2,)
    # students 1 and 3 learn as in the edge-of-ability test (.4 -> .49); 0 and 2 do not
    assert pop.knowledge[:, A] == pytest.approx([0.4, 0.49, 0.4, 0.49])
    assert pop.practice[:, A].tolist() == [0, 1, 0, 1]


# ------------------------------------------------------------------ forgetting
def test_forgetting_is_slower_for_practised_skills(domain):
    # forget_rate .05, dt 10: K <- K * exp(-.05 * 10 / (1 + c)).
    # Rate 0, so the attempt at a changes nothing but the practice count of A (c = 1):
    #   A: .5 * exp(-.5 / 2) = .389400      B (never practised, c = 0): .5 * exp(-.5) = .303265
    pop = population(domain, 1, forget_rate=0.05)
    pop.knowledge[0] = [0.5, 0.5, 0.5]
    pop.rate[:] = 0.0
    pop.attempt(idx(pop, "a"))
    assert pop.knowledge[0, A] == 0.5
    pop.advance(10.0)
    assert pop.time == 10.0
    assert pop.knowledge[0, A] == pytest.approx(0.5 * math.exp(-0.25), rel=1e-12)
    assert pop.knowledge[0, B] == pytest.approx(0.5 * math.exp(-0.5), rel=1e-12)
    assert pop.knowledge[0] == pytest.approx([0.389400, 0.303265, 0.303265], abs=1e-6)
    # two more attempts (c = 3), then dt 4: A <- .389400 * exp(-.05 * 4 / 4)
    pop.attempt(idx(pop, "a"))
    pop.attempt(idx(pop, "a"))
    pop.advance(4.0)
    assert pop.time == 14.0
    assert pop.knowledge[0, A] == pytest.approx(0.5 * math.exp(-0.25 - 0.05), rel=1e-12)
    # no time, no forgetting
    before = pop.knowledge.copy()
    pop.advance(0.0)
    assert np.array_equal(pop.knowledge, before)


def test_default_forgetting_per_step(domain):
    # default forget rate .002, one unpractised step: K <- K * exp(-.002)
    pop = population(domain, 2)
    before = pop.knowledge.copy()
    pop.advance()
    assert pop.knowledge == pytest.approx(before * math.exp(-0.002), rel=1e-12)


# ------------------------------------------------------------------ post-test
def test_post_test_is_the_mean_over_items_without_guess_or_slip():
    # One skill, items of difficulty .25 and .75.
    #   K = .6: (sigmoid(3.5) + sigmoid(-1.5)) / 2 = (.970688 + .182426) / 2 = .576557
    #   K = .5: (sigmoid(2.5) + sigmoid(-2.5)) / 2 = .5 exactly (symmetry)
    # Guess .3 and slip .2 play no part.
    course = Domain([Item("e", ("S",), 0.25), Item("h", ("S",), 0.75)])
    pop = StudentPopulation(course, 2, params=StudentParams(guess=0.3, slip=0.2))
    pop.knowledge[:, 0] = [0.6, 0.5]
    score = pop.post_test()
    assert score == pytest.approx([(sigmoid(3.5) + sigmoid(-1.5)) / 2, 0.5], abs=1e-12)
    assert score[0] == pytest.approx(0.576557, abs=1e-6)


# ------------------------------------------------------------------ initial draws
def test_initial_knowledge_and_rates_follow_the_parameters(domain):
    # knowledge uniform in [0, initial_max]; rate = median * exp(spread * z), so a
    # spread of 0 gives every student exactly the median
    pop = population(domain, 500, seed=4, initial_max=0.3, rate_median=0.2, rate_spread=0.0)
    assert pop.knowledge.min() >= 0.0 and pop.knowledge.max() <= 0.3
    # 1500 uniform draws on [0, .3]: the mean is .15 with sd .3 / sqrt(12 * 1500) = .0022
    assert abs(pop.knowledge.mean() - 0.15) < 5 * 0.3 / math.sqrt(12 * 1500)
    assert pop.rate.tolist() == [0.2] * 500
    assert pop.practice.sum() == 0 and pop.time == 0.0
    # the median of the log-normal rates is rate_median (.15 by default): with 2001
    # draws the sample median of z is within .1 of 0 (sd of the median ~ 1.25/sqrt(n) = .028)
    spread = population(domain, 2001, seed=5)
    assert abs(math.log(np.median(spread.rate) / 0.15) / 0.3) < 0.1


def test_learning_rates_are_capped_at_one(domain):
    # An attempt closes the fraction rate * fit * gate of the gap 1 - K; a rate
    # above 1 would push K past 1 (the model keeps K in [0, 1]). With median 1
    # and spread 1 about half the log-normal draws exceed 1: they are capped.
    pop = population(domain, 400, seed=0, rate_median=1.0, rate_spread=1.0)
    assert pop.rate.max() == 1.0
    assert np.all(pop.rate > 0)
    assert 0.4 < np.mean(pop.rate == 1.0) < 0.6  # P(z > 0) = .5, 400 draws
    for _ in range(5):
        pop.attempt(np.full(400, pop.item_ids.index("a")))
    assert pop.knowledge.min() >= 0.0 and pop.knowledge.max() <= 1.0


# ------------------------------------------------------------------ determinism
def trajectory(domain: Domain, seed: int, steps: int = 6) -> tuple:
    pop = population(domain, 8, seed=seed)
    start = (pop.knowledge.copy(), pop.rate.copy())
    choice = np.random.default_rng(123)  # the same item plan for every seed
    outcomes = []
    for _ in range(steps):
        outcomes.append(pop.attempt(choice.integers(0, len(ITEMS), size=8)))
        pop.advance(1.0)
    return start, np.array(outcomes), pop.knowledge.copy()


def test_same_seed_same_trajectory_different_seed_different(domain):
    (k1, r1), o1, end1 = trajectory(domain, seed=7)
    (k2, r2), o2, end2 = trajectory(domain, seed=7)
    assert np.array_equal(k1, k2) and np.array_equal(r1, r2)
    assert np.array_equal(o1, o2) and np.array_equal(end1, end2)
    (k3, r3), o3, end3 = trajectory(domain, seed=8)
    # continuous draws from another seed coincide with probability 0
    assert not np.array_equal(k1, k3) and not np.array_equal(r1, r3)
    assert not np.array_equal(end1, end3)


# ------------------------------------------------------------------ make_course
def test_default_course_structure():
    course = make_course()
    skills = [f"S{s:02d}" for s in range(15)]
    assert course.skills == skills
    # three items per skill, "<skill>.<level>", difficulties (level + 1) / 4
    assert course.item_ids == [f"{s}.{level}" for s in skills for level in range(3)]
    for skill in skills:
        for level in range(3):
            item = course.item(f"{skill}.{level}")
            assert item.skills == (skill,)
            assert item.difficulty == [0.25, 0.5, 0.75][level]
    # layer of skill s = s * 4 // 15: sizes 4, 4, 4, 3
    layer = {skill: s * 4 // 15 for s, skill in enumerate(skills)}
    assert [list(layer.values()).count(n) for n in range(4)] == [4, 4, 4, 3]
    assert nx.is_directed_acyclic_graph(course.graph)
    for skill in skills:
        parents = course.prerequisites_of(skill)
        if layer[skill] == 0:
            assert parents == []
        else:
            # 1 to max_parents (2) prerequisites, all from the layer just before
            assert 1 <= len(parents) <= 2
            assert all(layer[p] == layer[skill] - 1 for p in parents)
    # so the longest prerequisite chain ending at a skill is its layer number
    assert course.depth() == layer
    order = course.topological_order()
    assert all(order.index(p) < order.index(c) for p, c in course.graph.edges)


def test_course_shape_parameters():
    course = make_course(n_skills=6, levels=4, layers=2, max_parents=1, seed=3)
    assert len(course.skills) == 6 and len(course.items) == 24
    # difficulties (level + 1) / 5
    assert [course.item(f"S00.{lv}").difficulty for lv in range(4)] == [0.2, 0.4, 0.6, 0.8]
    # layers: s * 2 // 6 -> S00-S02 roots, S03-S05 each with exactly one root parent
    for s in range(3, 6):
        parents = course.prerequisites_of(f"S{s:02d}")
        assert len(parents) == 1 and parents[0] in {"S00", "S01", "S02"}
    # fewer skills than layers: one skill per layer, a chain
    chain = make_course(n_skills=3, layers=5)
    assert sorted(chain.graph.edges) == [("S00", "S01"), ("S01", "S02")]


def test_course_is_deterministic_by_seed():
    assert sorted(make_course(seed=0).graph.edges) == sorted(make_course(seed=0).graph.edges)
    # 11 skills draw 1-2 parents each among 4 (or 4, 4): another seed changes the graph
    assert sorted(make_course(seed=0).graph.edges) != sorted(make_course(seed=1).graph.edges)


@pytest.mark.parametrize("kwargs", [{"n_skills": 0}, {"levels": 0}, {"layers": 0}])
def test_course_needs_a_skill_a_level_and_a_layer(kwargs):
    with pytest.raises(ValueError, match="at least one"):
        make_course(**kwargs)


# ------------------------------------------------------------------ prerequisite_closure
# P -> Q -> T <- R is what T needs; U -> V and Q -> W are not. Skills are listed out of
# topological order, and two items have two skills: qt (Q, T), inside the closure, and
# tv (T, V), which crosses its border.
MAP_ITEMS = [
    Item("u", ("U",), 0.5),
    Item("t1", ("T",), 0.25, {"topic": "target"}),
    Item("p", ("P",), 0.5),
    Item("w", ("W",), 0.5),
    Item("q", ("Q",), 0.5),
    Item("v", ("V",), 0.5),
    Item("r", ("R",), 0.5),
    Item("t2", ("T",), 0.75),
    Item("qt", ("Q", "T"), 0.5),
    Item("tv", ("T", "V"), 0.5),
]


@pytest.fixture
def big_map() -> Domain:
    skills = {s: {"topic": "target" if s == "T" else "other"} for s in "UTPWQVR"}
    edges = [("P", "Q"), ("Q", "T"), ("R", "T"), ("U", "V"), ("Q", "W")]
    domain = Domain(MAP_ITEMS, skills, edges)
    domain.dropped_prerequisites = [("T", "P"), ("V", "U")]
    return domain


def test_prerequisite_closure_keeps_every_ancestor_and_nothing_else(big_map):
    part = prerequisite_closure(big_map, ["T"])
    assert part.skills == ["T", "P", "Q", "R"]  # the whole map's order
    assert sorted(part.graph.edges) == [("P", "Q"), ("Q", "T"), ("R", "T")]
    assert part.item_ids == ["t1", "p", "q", "r", "t2", "qt"]  # tv needs V: left out
    assert part.item("t1") == big_map.item("t1")  # difficulty and attributes kept
    assert part.skill_attributes["T"] == {"topic": "target"}
    assert part.dropped_prerequisites == [("T", "P")]
    # every kept skill has the prerequisites it had in the whole map
    for skill in part.skills:
        assert set(part.prerequisites_of(skill)) == set(big_map.prerequisites_of(skill))
    # repeated targets count once; a target inside another's closure adds nothing
    assert prerequisite_closure(big_map, ["T", "Q", "T"]).skills == part.skills
    assert prerequisite_closure(big_map, ["Q"]).skills == ["P", "Q"]
    assert prerequisite_closure(big_map, ["V", "P"]).skills == ["U", "P", "V"]


def test_prerequisite_closure_rejects_unknown_and_empty_targets(big_map):
    with pytest.raises(UnknownIdError, match="unknown skill 'X'"):
        prerequisite_closure(big_map, ["T", "X"])
    with pytest.raises(DomainError, match="at least one target"):
        prerequisite_closure(big_map, [])


def test_students_learn_the_same_on_the_part_as_on_the_whole_map(big_map):
    # the gate of T is the product over its parents Q and R, which the closure keeps
    part = prerequisite_closure(big_map, ["T"])
    whole, sub = population(big_map, 3, seed=5), population(part, 3, seed=5)
    knowledge = np.array([[0.2, 0.9, 0.7, 0.5], [0.1, 0.3, 0.9, 0.9], [0.4, 0.6, 0.6, 0.6]])
    sub.knowledge[:] = knowledge
    whole.knowledge[:, [big_map.skill_index(s) for s in part.skills]] = knowledge
    whole.rate[:] = sub.rate[:] = 0.5
    for pop, course in ((whole, big_map), (sub, part)):
        pop.attempt(np.full(3, course.item_index("t1")))
    t_whole, t_part = big_map.skill_index("T"), part.skill_index("T")
    assert whole.knowledge[:, t_whole] == pytest.approx(sub.knowledge[:, t_part], rel=1e-12)
    # by hand for student 0: K_T = .2, d = .25, fit = exp(-(.25 - .2 - .1)^2 / (2 * .15^2)),
    # gate = sigmoid((.7 - .6) / .05) * sigmoid((.5 - .6) / .05) (Q = .7, R = .5)
    fit = math.exp(-((0.25 - 0.3) ** 2) / (2 * 0.15**2))
    gate = sigmoid(2.0) * sigmoid(-2.0)
    assert sub.knowledge[0, t_part] == pytest.approx(0.2 + 0.5 * fit * gate * 0.8, rel=1e-12)


# ------------------------------------------------------------------ run_cohort
@pytest.fixture
def small_course() -> Domain:
    # 3 skills (S00, S01 in layer 0; S02 in layer 1), 2 levels: 6 items
    return make_course(n_skills=3, levels=2, layers=2, seed=0)


def test_run_cohort_shapes_and_log(small_course):
    pop = StudentPopulation(small_course, 4, seed=2)
    start = pop.post_test().mean()
    order = small_course.item_ids
    curve, log = run_cohort(pop, FixedSequence(order), None, steps=5)
    assert curve.shape == (6,)  # before the first step and after each of 5
    assert curve[0] == start
    assert len(log) == 20  # one item per student per step
    assert log.learner.tolist() == [0, 1, 2, 3] * 5
    assert log.time.tolist() == [float(t) for t in range(5) for _ in range(4)]
    # a fixed sequence gives every student the same item: order[step]
    assert log.item.tolist() == [order[t] for t in range(5) for _ in range(4)]
    assert set(log.outcome.tolist()) <= {0.0, 1.0}
    assert pop.time == 5.0


def test_run_cohort_replays_attempt_and_advance(small_course):
    # The curve is the cohort's mean post-test after each step, where a step is
    # one attempt per student followed by advance(1.0). A twin population from
    # the same seed, replaying the same items, gives the same outcomes and curve.
    pop = StudentPopulation(small_course, 5, seed=9)
    twin = StudentPopulation(small_course, 5, seed=9)
    curve, log = run_cohort(pop, RandomTeacher(1), None, steps=4)
    index = {item: i for i, item in enumerate(twin.item_ids)}
    expected = [twin.post_test().mean()]
    for step in range(4):
        rows = log[step * 5 : (step + 1) * 5]
        outcomes = twin.attempt(np.array([index[i] for i in rows.item.tolist()]))
        assert outcomes.tolist() == rows.outcome.tolist()
        twin.advance(1.0)
        expected.append(twin.post_test().mean())
    assert curve.tolist() == expected
    assert np.array_equal(pop.knowledge, twin.knowledge)


def test_run_cohort_updates_the_model_and_uses_learner_ids(small_course):
    pop = StudentPopulation(small_course, 3, seed=0)
    model = Elo(small_course)
    ids = ["u", "v", "w"]
    _, log = run_cohort(pop, RandomTeacher(0), model, steps=4, learner_ids=ids)
    assert sorted(set(log.learner.tolist())) == ids
    # Elo's state counts each learner's answers: one per step
    assert [model.state(u)["answers"] for u in ids] == [4, 4, 4]


def test_run_cohort_with_no_steps(small_course):
    pop = StudentPopulation(small_course, 3, seed=0)
    curve, log = run_cohort(pop, RandomTeacher(0), None, steps=0)
    assert curve.tolist() == [pop.post_test().mean()]
    assert len(log) == 0


@pytest.mark.parametrize("ids", [["only-one"], ["a", "b"], ["a", "b", "c", "d"]])
def test_run_cohort_needs_one_learner_id_per_student(small_course, ids):
    # Without this check a single id was broadcast over the whole cohort and the
    # log came back with columns of different lengths.
    pop = StudentPopulation(small_course, 3, seed=0)
    with pytest.raises(DataError, match="one learner id per student"):
        run_cohort(pop, RandomTeacher(0), None, steps=2, learner_ids=ids)


# ------------------------------------------------------------------ run_experiment
def test_run_experiment_shapes_and_common_random_numbers(small_course):
    calls = []
    result = run_experiment(
        small_course,
        n_students=4,
        steps=3,
        seeds=2,
        pilot_students=4,
        progress=lambda: calls.append(1),
    )
    assert isinstance(result, ExperimentResult)
    assert result.steps == 3
    assert list(result.curves) == list(DEFAULT_TEACHERS)
    # progress: once per (seed, teacher)
    assert len(calls) == 2 * len(DEFAULT_TEACHERS)
    for name, curves in result.curves.items():
        assert curves.shape == (2, 4), name
        assert np.all((curves >= 0) & (curves <= 1))
        # common random numbers: the cohort of seed s is StudentPopulation(seed=s)
        # for every teacher, so every curve starts at that cohort's post-test mean
        for seed in range(2):
            start = StudentPopulation(small_course, 4, seed=seed).post_test().mean()
            assert curves[seed, 0] == start
    # ... and different seeds are different cohorts
    assert result.curves["random"][0, 0] != result.curves["random"][1, 0]
    # the whole experiment is deterministic
    again = run_experiment(small_course, n_students=4, steps=3, seeds=2, pilot_students=4)
    for name in result.curves:
        assert np.array_equal(result.curves[name], again.curves[name])


class Probe(Teacher):
    """Records the model's first predictions for learner 0, then picks the first candidate."""

    name = "probe"

    def __init__(self, seen: list) -> None:
        super().__init__(0)
        self.seen = seen
        self.first = True

    def select(self, learner, candidates, k=1, t=None, model=None):
        if self.first:
            self.seen.append(model.predict(0, candidates).tolist())
            self.first = False
        return [candidates[0]]


@pytest.mark.parametrize(
    ("model", "cls", "options"), [("elo", Elo, {"skill_ability": True}), ("bkt", BKT, {})]
)
def test_each_teacher_gets_a_fresh_copy_of_the_pilot_fitted_model(
    small_course, model, cls, options
):
    # Module docstring: a pilot cohort (seed 1_000_003 + seed) practises with a
    # random teacher; the model is fitted on its log; each teacher gets a copy.
    seen: list = []
    factory = lambda domain, steps, seed: Probe(seen)  # noqa: E731
    run_experiment(
        small_course,
        {"p1": factory, "p2": factory},
        n_students=3,
        steps=3,
        seeds=1,
        model=model,
        pilot_students=5,
    )
    # the same pilot, fitted by hand
    pilot = StudentPopulation(small_course, 5, seed=1_000_003)
    _, log = run_cohort(pilot, RandomTeacher(0), None, 3, [f"pilot-{n}" for n in range(5)])
    fitted = cls(small_course, **options).fit(log)
    expected = fitted.predict(0, small_course.item_ids).tolist()
    assert seen[0] == pytest.approx(expected, abs=1e-12)
    # p2 sees the model exactly as p1 did: p1's cohort did not update p2's copy
    assert seen[1] == seen[0]
    # and the fit did something: the untrained model would predict otherwise
    assert seen[0] != pytest.approx(cls(small_course, **options).predict(0, small_course.item_ids))


# ------------------------------------------------------------------ summaries
def test_metrics_and_summary_by_hand():
    # Two seeds of one teacher over 2 steps:
    #   [0, .5, 1]:   post 1,  gain (1 - 0) / 2 = .5,   aulc ((0+.5)/2 + (.5+1)/2) / 2 = .5
    #   [.2, .4, .6]: post .6, gain (.6 - .2) / 2 = .2, aulc ((.2+.4)/2 + (.4+.6)/2) / 2 = .4
    result = ExperimentResult({"t": np.array([[0.0, 0.5, 1.0], [0.2, 0.4, 0.6]])}, steps=2)
    metrics = result.metrics()["t"]
    assert metrics["post_mastery"].tolist() == pytest.approx([1.0, 0.6])
    assert metrics["gain_per_step"].tolist() == pytest.approx([0.5, 0.2])
    assert metrics["aulc"].tolist() == pytest.approx([0.5, 0.4])

    rows = result.summary()
    assert [(r["teacher"], r["metric"]) for r in rows] == [
        ("t", "post_mastery"),
        ("t", "gain_per_step"),
        ("t", "aulc"),
    ]
    assert all(set(r) == {"teacher", "metric", "mean", "ci_low", "ci_high"} for r in rows)
    post = rows[0]
    # mean .8; sd of (1, .6) = .282843, standard error .2; t(.975, 1 df) = 12.7062
    assert post["mean"] == pytest.approx(0.8)
    assert post["ci_low"] == pytest.approx(0.8 - 12.7062 * 0.2, abs=1e-4)
    assert post["ci_high"] == pytest.approx(0.8 + 12.7062 * 0.2, abs=1e-4)
    # level .5: t(.75, 1 df) = tan(pi / 4) = 1, so the interval is mean -+ .2
    half = result.summary(level=0.5)
    assert (half[0]["ci_low"], half[0]["ci_high"]) == pytest.approx((0.6, 1.0))
    # gain: mean .35, standard error .15 -> level .5 interval (.2, .5)
    assert (half[1]["mean"], half[1]["ci_low"], half[1]["ci_high"]) == pytest.approx(
        (0.35, 0.2, 0.5)
    )


def test_summary_with_one_seed_has_no_spread():
    result = ExperimentResult({"a": np.array([[0.1, 0.3]]), "b": np.array([[0.2, 0.2]])}, steps=1)
    rows = {(r["teacher"], r["metric"]): r for r in result.summary()}
    assert len(rows) == 6
    # a: post .3, gain .2, aulc (.1 + .3) / 2 = .2; b: post .2, gain 0, aulc .2
    for key, value in {
        ("a", "post_mastery"): 0.3,
        ("a", "gain_per_step"): 0.2,
        ("a", "aulc"): 0.2,
        ("b", "post_mastery"): 0.2,
        ("b", "gain_per_step"): 0.0,
        ("b", "aulc"): 0.2,
    }.items():
        row = rows[key]
        assert (row["mean"], row["ci_low"], row["ci_high"]) == pytest.approx((value,) * 3)


# ------------------------------------------------------------------ property
@st.composite
def student_params(draw) -> StudentParams:
    guess = draw(st.floats(0.0, 1.0))
    return StudentParams(
        guess=guess,
        slip=draw(st.floats(0.0, 1.0)) * (1.0 - guess),
        sharpness=draw(st.floats(0.005, 1.0)),
        rate_median=draw(st.floats(0.001, 1.0)),
        rate_spread=draw(st.floats(0.0, 2.0)),
        stretch=draw(st.floats(-0.5, 0.5)),
        width=draw(st.floats(0.01, 1.0)),
        prerequisite_level=draw(st.floats(0.0, 1.0)),
        forget_rate=draw(st.floats(0.0, 1.0)),
        initial_max=draw(st.floats(0.0, 1.0)),
    )


N_PROPERTY = 4
DOMAIN = Domain(ITEMS, ["A", "B", "C"], [("A", "C"), ("B", "C")])


@settings(max_examples=60, deadline=None)
@given(
    params=student_params(),
    seed=st.integers(0, 2**32 - 1),
    plan=st.lists(
        st.tuples(
            st.lists(st.integers(0, len(ITEMS) - 1), min_size=N_PROPERTY, max_size=N_PROPERTY),
            st.floats(0.0, 50.0),
        ),
        max_size=10,
    ),
)
def test_probabilities_and_knowledge_stay_in_the_unit_interval(params, seed, plan):
    pop = StudentPopulation(DOMAIN, N_PROPERTY, seed=seed, params=params)
    everyone = np.repeat(np.arange(N_PROPERTY), len(ITEMS))
    every_item = np.tile(np.arange(len(ITEMS)), N_PROPERTY)

    def check() -> None:
        p = pop.success_probability(everyone, every_item)
        assert np.all((p >= 0.0) & (p <= 1.0))
        assert np.all((pop.knowledge >= 0.0) & (pop.knowledge <= 1.0))
        score = pop.post_test()
        assert np.all((score >= 0.0) & (score <= 1.0))

    check()
    for items, dt in plan:
        outcomes = pop.attempt(np.array(items))
        assert set(outcomes.tolist()) <= {0.0, 1.0}
        check()
        pop.advance(dt)
        check()


def test_log_of_a_cohort_is_a_valid_event_log(small_course):
    # run_cohort builds its log without validation; the result must still pass it
    pop = StudentPopulation(small_course, 3, seed=1)
    _, log = run_cohort(pop, RandomTeacher(2), None, steps=3, learner_ids=["x", "y", "z"])
    log.validate()
    assert isinstance(log, EventLog)


def test_run_experiment_gives_planning_teachers_their_own_model(small_course):
    from mentor.sim import PLANNING_TEACHERS
    from mentor.students import BKT

    seen = []
    make_teacher, _ = PLANNING_TEACHERS["expected_gain"]

    def factory(domain, steps, seed):
        teacher = make_teacher(domain, steps, seed)
        select = teacher.select

        def spy(learner, candidates, k=1, t=None, model=None):
            seen.append(model)
            return select(learner, candidates, k, t, model)

        teacher.select = spy
        return teacher

    # the shared model is Elo, fitted on the pilot; expected_gain gets a BKT per item
    run_experiment(
        small_course, {"expected_gain": factory}, n_students=3, steps=2, seeds=1, pilot_students=3
    )
    assert len(seen) == 6
    assert all(isinstance(m, BKT) and m.grain == "item" for m in seen)
    assert len({id(m) for m in seen}) == 1  # one model for the cohort's run
