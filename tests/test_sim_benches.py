"""The simulation benches: the student population on the Junyi Academy
prerequisite map with delayed post-tests, the hypercube toy task space of
Portelas et al. (2019), and the pass-rate simulator of RL fine-tuning.

Expected numbers are worked out by hand in the comments from the formulas in
the module docstrings of mentor/sim/population.py, hypercube.py and
passrate.py. sigmoid(x) = 1 / (1 + exp(-x)).
"""

from __future__ import annotations

import csv
import itertools
import math
import warnings
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mentor.domain import Box, Domain, Item
from mentor.errors import DataError, ParameterError
from mentor.events import EventLog
from mentor.sim import (
    Hypercube,
    PassRateCurve,
    PassRateSim,
    StudentParams,
    StudentPopulation,
    make_course,
    make_junyi_course,
    prerequisite_closure,
    run_passrate,
)
from mentor.teachers import RandomTeacher, Teacher

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
JUNYI = SHARED / "data/graphs/junyi_exercise_table.csv"


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


# ====================================================================== Junyi course

HEADER = "name,live,prerequisites,h_position,v_position,creation_date,topic,area\n"
# Five rows, four exercises: "add" is listed twice (the first row is kept), "loop"
# lists itself (a self-loop, dropped with a warning). Prerequisites:
# add -> sub, add -> mul, sub -> mul.
SMALL = (
    HEADER
    + "add,TRUE,,1,1,2012-01-01 00:00:00 UTC,arith,math\n"
    + "sub,TRUE,add,2,1,2012-01-02 00:00:00 UTC,arith,math\n"
    + 'mul,TRUE,"add,sub",3,1,2012-01-03 00:00:00 UTC,times,math\n'
    + "loop,TRUE,loop,4,1,2012-01-04 00:00:00 UTC,odd,logic\n"
    + "add,TRUE,mul,9,9,2015-01-01 00:00:00 UTC,other,other\n"
)


@pytest.fixture
def small_junyi(tmp_path) -> Domain:
    path = tmp_path / "junyi.csv"
    path.write_text(SMALL, encoding="utf-8")
    with pytest.warns(UserWarning, match="dropped 1 prerequisite edges"):
        return make_junyi_course(path, levels=2)


def test_junyi_course_structure_on_a_small_table(small_junyi):
    course = small_junyi
    # 5 rows - 1 repeated exercise = 4 skills; 2 levels each: 8 items
    assert course.skills == ["add", "sub", "mul", "loop"]
    assert course.item_ids == [f"{s}.{lv}" for s in course.skills for lv in range(2)]
    # difficulties (level + 1) / (levels + 1) = 1/3, 2/3
    assert [course.item(f"mul.{lv}").difficulty for lv in range(2)] == [1 / 3, 2 / 3]
    assert course.item("mul.0").skills == ("mul",)
    assert course.item("mul.1").attributes == {"area": "math", "topic": "times"}
    assert course.skill_attributes["loop"]["area"] == "logic"
    # the duplicate row's prerequisite (mul -> add) is ignored, the self-loop dropped
    assert sorted(course.graph.edges) == [("add", "mul"), ("add", "sub"), ("sub", "mul")]
    assert course.dropped_prerequisites == [("loop", "loop")]
    with pytest.raises(ValueError, match="at least one level"):
        make_junyi_course(SHARED / "not-read.csv", levels=0)


def test_population_on_the_small_map_uses_its_prerequisites(small_junyi):
    pop = StudentPopulation(small_junyi, 2, seed=0)
    s = {skill: j for j, skill in enumerate(small_junyi.skills)}
    # the sparse parent matrix holds exactly the edges: parents[child, parent] = 1
    assert sorted(zip(*pop.parents.nonzero(), strict=True)) == sorted(
        [(s["sub"], s["add"]), (s["mul"], s["add"]), (s["mul"], s["sub"])]
    )
    # mul.0 (d = 1/3) from K_mul = .2, rate 1: fit = exp(-(1/3 - .2 - .1)^2 / (2 * .15^2))
    #   student 0: K_add = .1, K_sub = .9 -> gate sigmoid(-10) * sigmoid(6) (blocked)
    #   student 1: K_add = .9, K_sub = .6 -> gate sigmoid(6) * sigmoid(0)
    pop.knowledge[:] = 0.0
    pop.knowledge[:, s["mul"]] = 0.2
    pop.knowledge[:, s["add"]] = [0.1, 0.9]
    pop.knowledge[:, s["sub"]] = [0.9, 0.6]
    pop.rate[:] = 1.0
    pop.attempt(np.array([small_junyi.item_index("mul.0")] * 2))
    fit = math.exp(-((1 / 3 - 0.3) ** 2) / (2 * 0.15**2))
    gates = [sigmoid(-10) * sigmoid(6), sigmoid(6) * 0.5]
    expected = [0.2 + fit * g * 0.8 for g in gates]
    assert pop.knowledge[:, s["mul"]] == pytest.approx(expected, rel=1e-12)
    # a root (add) is never gated; "loop" lost its self-loop and is a root too
    pop.knowledge[:, s["loop"]] = 0.4
    pop.attempt(np.array([small_junyi.item_index("loop.0")] * 2))
    assert pop.knowledge[:, s["loop"]] == pytest.approx(
        [0.4 + math.exp(-((1 / 3 - 0.5) ** 2) / 0.045) * 0.6] * 2, rel=1e-12
    )


def test_sparse_gate_equals_the_product_over_parents():
    # up to 3 parents per skill; gate = prod over parents p of sigmoid((K_p - .6) / .05)
    course = make_course(n_skills=30, levels=2, layers=5, max_parents=3, seed=4)
    pop = StudentPopulation(course, 40, seed=1)
    pop.knowledge[:] = np.random.default_rng(2).uniform(0.3, 0.9, size=pop.knowledge.shape)
    students = np.arange(40)
    skills = np.random.default_rng(3).integers(0, 30, size=40)
    expected = [
        math.prod(
            sigmoid((pop.knowledge[n, course.skill_index(p)] - 0.6) / 0.05)
            for p in course.prerequisites_of(course.skills[sk])
        )
        for n, sk in zip(students, skills, strict=True)
    ]
    assert pop._gate(students, skills) == pytest.approx(expected, rel=1e-12)


def independent_junyi_edges() -> tuple[int, int, set[tuple[str, str]]]:
    """Rows, distinct exercises and prerequisite pairs, with plain csv."""
    with open(JUNYI, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    first: dict[str, dict[str, str]] = {}
    for row in rows:
        first.setdefault(row["name"].strip(), row)
    edges = {
        (parent.strip(), name)
        for name, row in first.items()
        for parent in row["prerequisites"].split(",")
        if parent.strip()
    }
    return len(rows), len(first), edges


@pytest.mark.skipif(not JUNYI.is_file(), reason=f"{JUNYI} not present")
def test_junyi_course_on_the_real_table():
    rows, exercises, edges = independent_junyi_edges()
    with pytest.warns(UserWarning, match="dropped 3 prerequisite edges"):
        course = make_junyi_course(JUNYI)
    # 837 rows, two exercises listed twice: 835 skills, 3 items each
    assert (rows, exercises) == (837, 835)
    assert len(course.skills) == exercises and len(course.items) == 3 * exercises
    # the table's prerequisite pairs minus the dropped ones (two self-loops and one
    # edge of the three-exercise cycle): 981 - 3 = 978
    assert len(course.dropped_prerequisites) == 3
    assert set(course.graph.edges) == edges - set(course.dropped_prerequisites)
    assert course.graph.number_of_edges() == len(edges) - 3 == 978
    assert nx.is_directed_acyclic_graph(course.graph)

    pop = StudentPopulation(course, 50, seed=0)
    assert pop.parents.nnz == 978
    for parent, child in list(course.graph.edges)[:50]:
        assert pop.parents[course.skill_index(child), course.skill_index(parent)]
    # prerequisites respected: with every skill at K = .1, an exercise two levels deep
    # learns from its best item at most sigmoid(-10) ~ 4.5e-5 of what a root learns
    depth = course.depth()
    deep = next(s for s in course.skills if depth[s] == 2)
    root = next(s for s in course.skills if depth[s] == 0)
    pop.knowledge[:] = 0.1
    pop.rate[:] = 0.5
    items = np.array([course.item_index(f"{deep}.0")] * 25 + [course.item_index(f"{root}.0")] * 25)
    pop.attempt(items)
    gain_deep = pop.knowledge[:25, course.skill_index(deep)] - 0.1
    gain_root = pop.knowledge[25:, course.skill_index(root)] - 0.1
    assert np.all(gain_deep <= sigmoid(-10) * gain_root + 1e-15)
    assert np.all(gain_root > 0.01)
    # a few steps of random practice keep everything in [0, 1]
    rng = np.random.default_rng(0)
    for _ in range(5):
        pop.attempt(rng.integers(0, len(course.items), size=50))
        pop.advance(1.0)
    assert 0.0 <= pop.knowledge.min() and pop.knowledge.max() <= 1.0
    assert np.all(pop.post_test(delay=30.0) <= pop.post_test())


@pytest.mark.skipif(not JUNYI.is_file(), reason=f"{JUNYI} not present")
def test_junyi_topic_submap_on_the_real_table():
    # the benchmark's sub-map: the 28 exercises of topic "multiplication-division" and
    # all their ancestors, found here by a plain search over the csv's prerequisite pairs
    _, _, edges = independent_junyi_edges()
    with open(JUNYI, newline="", encoding="utf-8-sig") as handle:
        topic = {}
        for row in csv.DictReader(handle):
            topic.setdefault(row["name"].strip(), row["topic"])
    targets = [name for name, t in topic.items() if t == "multiplication-division"]
    parents: dict[str, set[str]] = {}
    for parent, child in edges:
        parents.setdefault(child, set()).add(parent)
    kept, todo = set(targets), list(targets)
    while todo:
        for parent in parents.get(todo.pop(), ()):
            if parent not in kept:
                kept.add(parent)
                todo.append(parent)
    with pytest.warns(UserWarning, match="dropped 3 prerequisite edges"):
        whole = make_junyi_course(JUNYI)
    part = prerequisite_closure(whole, targets)
    assert len(targets) == 28 and set(part.skills) == kept and len(kept) == 61
    assert len(part.items) == 3 * 61
    # none of the three dropped edges lies inside: every csv pair among kept exercises
    inside = {(p, c) for p, c in edges if p in kept and c in kept}
    assert set(part.graph.edges) == inside and len(inside) == 78
    assert part.dropped_prerequisites == []
    assert nx.is_weakly_connected(part.graph)
    assert max(part.depth().values()) == 25


# ====================================================================== delayed post-test


def test_delayed_post_test_applies_the_forgetting_formula():
    # One skill, items of difficulty .25 and .75, forget rate .01, K = .6 for both
    # students; student 1 has practised once (c = 1). After a delay of 50:
    #   student 0: K = .6 * exp(-.01 * 50 / 1) = .363918
    #   student 1: K = .6 * exp(-.01 * 50 / 2) = .467280
    # score = (sigmoid((K - .25) / .1) + sigmoid((K - .75) / .1)) / 2
    course = Domain([Item("e", ("S",), 0.25), Item("h", ("S",), 0.75)])
    pop = StudentPopulation(course, 2, params=StudentParams(forget_rate=0.01))
    pop.knowledge[:, 0] = 0.6
    pop.practice[:, 0] = [0, 1]

    def score(k: float) -> float:
        return (sigmoid((k - 0.25) / 0.1) + sigmoid((k - 0.75) / 0.1)) / 2

    now = pop.post_test()
    later = pop.post_test(delay=50.0)
    assert now == pytest.approx([score(0.6)] * 2, abs=1e-12)
    k_later = [0.6 * math.exp(-0.5), 0.6 * math.exp(-0.25)]
    assert later == pytest.approx([score(k) for k in k_later], abs=1e-12)
    assert later == pytest.approx([0.389073, 0.476826], abs=1e-6)
    assert np.all(later < now)
    # the test changes nothing: same knowledge, same time
    assert pop.knowledge[:, 0].tolist() == [0.6, 0.6] and pop.time == 0.0
    # ... and equals letting the time pass, then testing at once
    twin = StudentPopulation(course, 2, params=StudentParams(forget_rate=0.01))
    twin.knowledge[:, 0] = 0.6
    twin.practice[:, 0] = [0, 1]
    twin.advance(50.0)
    assert twin.post_test() == pytest.approx(later, rel=1e-12)
    # retention curve: the cohort mean at each delay
    curve = pop.retention([0.0, 50.0])
    assert curve == pytest.approx([now.mean(), later.mean()], rel=1e-12)
    assert pop.post_test(delay=0.0).tolist() == now.tolist()
    with pytest.raises(ValueError, match="field 'delay', value -1.0: must be >= 0"):
        pop.post_test(delay=-1.0)


def test_no_forgetting_no_loss():
    course = make_course(n_skills=4, seed=0)
    pop = StudentPopulation(course, 5, seed=0, params=StudentParams(forget_rate=0.0))
    assert pop.post_test(delay=1e6).tolist() == pop.post_test().tolist()


# ====================================================================== hypercube


def reference_hypercube(d, cells, threshold, top, params):
    """The rules of toy_env.py, one episode at a time, written independently."""
    competence = np.zeros((cells,) * d, dtype=int)
    rewards = []
    for x in params:
        c = tuple(min(int(v * cells), cells - 1) for v in x[:d])
        learns = all(v == 0 for v in c) or any(
            competence[n] >= threshold
            for n in itertools.product(*[(v, max(0, v - 1)) for v in c])
            if n != c
        )
        if learns:
            competence[c] = min(competence[c] + 1, top)
        rewards.append(competence[c] / top)
    return np.array(rewards), competence


def test_cell_index():
    cube = Hypercube()  # d 2, 10 cells per side
    x = np.array([[0.05, 0.95], [0.0, 1.0], [0.1, 0.2], [0.999, 0.5], [0.34, 0.66]])
    # floor(10 x), with 1.0 in the last cell
    assert cube.cell_of(x).tolist() == [[0, 9], [0, 9], [1, 2], [9, 5], [3, 6]]
    # distractor dimensions are ignored
    noisy = Hypercube(d=2, cells=4, distractors=3)
    assert noisy.dim == 5 and noisy.task_space == Box([0.0] * 5, [1.0] * 5)
    assert noisy.cell_of([[0.3, 0.8, 0.99, 0.0, 0.5]]).tolist() == [[1, 3]]
    assert Hypercube(d=3, cells=3).cell_of([[0.2, 0.5, 0.9]]).tolist() == [[0, 1, 2]]


def test_competence_gating_rules():
    cube = Hypercube()
    # the origin always learns: one episode -> competence 1, reward 1/100
    assert cube.episode([[0.05, 0.05]]).tolist() == [0.01]
    # (1, 1) is locked while its lower neighbours (0, 0), (0, 1), (1, 0) are below 75
    cube.competence[0, 0] = 74
    assert cube.episode([[0.15, 0.15]]).tolist() == [0.0]
    assert cube.competence[1, 1] == 0
    # a diagonal lower neighbour at 75 unlocks it
    cube.competence[0, 0] = 75
    assert cube.episode([[0.15, 0.15], [0.15, 0.15]]).tolist() == [0.01, 0.02]
    # ... so does a side neighbour; an upper neighbour does not
    cube.competence[:] = 0
    cube.competence[2, 5] = 100  # above (1, 5): no effect on it
    assert cube.episode([[0.15, 0.55]]).tolist() == [0.0]
    cube.competence[1, 4] = 75  # below (1, 5)
    assert cube.episode([[0.15, 0.55]]).tolist() == [0.01]
    # on an edge the lower neighbours are fewer: (0, 5) has only (0, 4)
    cube.competence[1, 4] = 100
    assert cube.episode([[0.05, 0.55]]).tolist() == [0.0]
    cube.competence[0, 4] = 75
    assert cube.episode([[0.05, 0.55]]).tolist() == [0.01]
    # competence is capped at 100
    cube.competence[0, 0] = 100
    assert cube.episode([[0.0, 0.0]]).tolist() == [1.0]
    assert cube.competence[0, 0] == 100
    assert cube.episodes == 9


def test_mastered_is_strictly_above_the_threshold():
    cube = Hypercube()
    cube.competence[0, 0] = 75
    cube.competence[0, 1] = 76
    cube.competence[5, 5] = 100
    # 2 of 100 cells above 75
    assert cube.mastered().sum() == 2 and not cube.mastered()[0, 0]
    assert cube.mastered_fraction() == 0.02 and cube.score() == 2.0
    unlocked = cube.unlocked()
    # origin; the upper neighbours of (0, 0), (0, 1) and (5, 5)
    expected = {(0, 0), (0, 1), (1, 0), (1, 1), (0, 2), (1, 2), (5, 6), (6, 5), (6, 6)}
    assert set(zip(*np.nonzero(unlocked), strict=True)) == expected


def test_a_cell_unlocked_within_a_batch():
    # d 1, 2 cells, threshold 2, cap 3. Episodes in cells [1, 0, 0, 1, 1, 0]:
    #   cell 1 locked -> 0; cell 0 -> 1/3, 2/3 (reaches 2: cell 1 unlocks);
    #   cell 1 -> 1/3, 2/3; cell 0 -> 3/3
    cube = Hypercube(d=1, cells=2, threshold=2, max_competence=3)
    x = np.array([[0.9], [0.1], [0.2], [0.7], [0.6], [0.3]])
    assert cube.episode(x) == pytest.approx([0, 1 / 3, 2 / 3, 1 / 3, 2 / 3, 1])
    assert cube.competence.tolist() == [3, 2]
    assert cube.episodes == 6


def test_three_dimensions_have_seven_lower_neighbours():
    cube = Hypercube(d=3, cells=3, threshold=2, max_competence=5)
    centre = [[0.5, 0.5, 0.5]]  # cell (1, 1, 1)
    for neighbour in itertools.product((0, 1), repeat=3):
        if neighbour == (1, 1, 1):
            continue
        cube.reset()
        cube.competence[neighbour] = 2
        assert cube.episode(centre).tolist() == [0.2], neighbour
    cube.reset()
    cube.competence[2, 1, 1] = 5  # above, not below
    assert cube.episode(centre).tolist() == [0.0]


def test_random_tasks_match_the_original_toy_env():
    # The authors' ToyEnv (teachDRL/toy_env/toy_env.py), run on the parameter streams
    # np.random.RandomState(seed).random_sample((20000, 2)) for seeds 0-4, ends with
    # 4, 4, 4, 5 and 6 % of cells mastered; this implementation gives the same.
    scores = []
    for seed in range(5):
        cube = Hypercube()
        cube.episode(np.random.RandomState(seed).random_sample((20_000, 2)))
        scores.append(cube.score())
    assert scores == [4.0, 4.0, 4.0, 5.0, 6.0]


def test_hypercube_determinism_noise_and_errors():
    def run(seed: int) -> np.ndarray:
        cube = Hypercube(noise=0.1, seed=seed)
        return np.concatenate([cube.episode(cube.sample_tasks(500)) for _ in range(4)])

    assert np.array_equal(run(3), run(3))
    assert not np.array_equal(run(3), run(4))
    noisy = run(3)
    assert noisy.min() >= 0.0 and noisy.max() <= 1.0
    # without noise the rewards are exactly competence / 100
    cube = Hypercube(seed=0)
    rewards = cube.episode(cube.sample_tasks(3000))
    assert np.array_equal(np.round(rewards * 100) / 100, rewards)
    with pytest.raises(DataError, match=r"lie in \[0, 1\]"):
        cube.episode([[0.5, 1.2]])
    with pytest.raises(DataError, match="2 columns"):
        cube.episode([[0.5, 0.5, 0.5]])
    with pytest.raises(ParameterError, match="cells"):
        Hypercube(cells=0)
    with pytest.raises(ParameterError, match="noise"):
        Hypercube(noise=-1.0)
    with pytest.raises(ValueError, match="shape"):
        cube.competence = np.zeros((3, 3))


@settings(max_examples=60, deadline=None)
@given(
    d=st.integers(1, 3),
    cells=st.integers(1, 4),
    threshold=st.integers(0, 6),
    top=st.integers(1, 7),
    distractors=st.integers(0, 2),
    n=st.integers(1, 300),
    power=st.floats(1.0, 3.0),
    cuts=st.lists(st.integers(1, 299), max_size=4),
    seed=st.integers(0, 2**32 - 1),
)
def test_batches_equal_one_episode_at_a_time(
    d, cells, threshold, top, distractors, n, power, cuts, seed
):
    # tasks skewed towards the origin (x ** power) so that cells unlock mid-batch
    x = np.random.default_rng(seed).random((n, d + distractors)) ** power
    expected, competence = reference_hypercube(d, cells, threshold, top, x)
    cube = Hypercube(d, cells, threshold, top, distractors)
    batches = np.split(x, sorted({c for c in cuts if c < n}))
    rewards = np.concatenate([cube.episode(b) for b in batches])
    assert np.array_equal(rewards, expected)
    assert np.array_equal(cube.competence, competence)
    assert np.all((rewards >= 0) & (rewards <= 1))
    assert 0.0 <= cube.mastered_fraction() <= 1.0


# ====================================================================== pass-rate simulator


def tiny(**options) -> PassRateSim:
    # four training prompts, k = 4, lr .1
    defaults = {"difficulty": [0.0, 1.0, -1.0, 2.0], "eval_difficulty": [0.0], "k": 4}
    return PassRateSim(**(defaults | options), seed=0)


def test_ability_update_by_hand():
    # successes [0, 2, 4, 1] of 4 -> p_hat [0, .5, 1, .25]
    #   signal p_hat (1 - p_hat) = [0, .25, 0, .1875]; mean .109375
    #   theta = 0 + .1 * .109375 = .0109375
    sim = tiny()
    assert sim.update(np.array([0, 2, 4, 1])) == pytest.approx(0.0109375, abs=1e-15)
    assert sim.ability == pytest.approx(0.0109375, abs=1e-15)
    assert (sim.steps, sim.trained_rollouts, sim.rollouts) == (1, 16, 0)
    # with the standard-deviation normalisation: sqrt -> [0, .5, 0, .433013]; mean .233253
    std = tiny(normalise_std=True, ability=1.0)
    std.update(np.array([0, 2, 4, 1]))
    assert std.ability == pytest.approx(1.0 + 0.1 * (0.5 + math.sqrt(0.1875)) / 4, abs=1e-15)
    assert std.ability == pytest.approx(1.0233253, abs=1e-7)
    # prompts without signal dilute the step: [2] alone gives .1 * .25, with [0, 4] a third
    one, three = tiny(), tiny()
    one.update(np.array([2]))
    three.update(np.array([2, 0, 4]))
    assert one.ability == pytest.approx(0.025) and three.ability == pytest.approx(0.025 / 3)
    # update(batch_size=n) divides the sum by n: [2] in a nominal batch of 4 -> .1 * .25 / 4
    padded = tiny()
    padded.update(np.array([2]), batch_size=4)
    assert padded.ability == pytest.approx(0.025 / 4)
    # an empty batch: a step, no change
    empty = tiny()
    assert empty.update(np.array([], dtype=int)) == 0.0
    assert (empty.ability, empty.steps) == (0.0, 1)


def test_pass_rates_and_evaluation():
    sim = tiny(eval_difficulty=[0.0, math.log(3)], ability=0.0)
    # sigmoid(0 - 0) = .5, sigmoid(-ln 3) = .25 -> mean .375
    assert sim.eval_pass_rate() == pytest.approx(0.375, abs=1e-15)
    assert sim.pass_rate([0, 3]) == pytest.approx([0.5, sigmoid(-2.0)])
    assert sim.pass_rate() == pytest.approx([sigmoid(-b) for b in (0.0, 1.0, -1.0, 2.0)])
    # an unsolvable prompt (b = inf) never passes and never teaches
    lost = tiny(difficulty=[np.inf, 0.0])
    assert lost.pass_rate([0]).tolist() == [0.0]
    assert lost.rollout([0, 0, 0]).tolist() == [0, 0, 0]
    assert lost.signal(np.array([0])).tolist() == [0.0]


def test_rollouts_follow_the_binomial_and_are_counted():
    # prompt 1 (b = 1) at theta 0: p = sigmoid(-1) = .268941; 20 000 prompts x 4 rollouts:
    # the mean of s / 4 has sd sqrt(p (1 - p) / 80000) = .00157; allow 5 sd
    sim = tiny()
    successes = sim.rollout(np.full(20_000, 1))
    assert successes.min() >= 0 and successes.max() <= 4
    p = sigmoid(-1.0)
    assert abs(successes.mean() / 4 - p) < 5 * math.sqrt(p * (1 - p) / 80_000)
    assert sim.rollouts == 80_000 and sim.trained_rollouts == 0 and sim.ability == 0.0
    with pytest.raises(DataError, match="prompt ids"):
        sim.rollout([4])
    with pytest.raises(DataError, match="prompt ids"):
        sim.rollout([0.5])


def test_events_carry_the_mean_reward_and_the_advantage():
    sim = tiny()
    log = sim.events([3, 1], np.array([1, 2]), learner="policy")
    assert log.learner.tolist() == ["policy", "policy"]
    assert log.item.tolist() == [3, 1]
    assert log.outcome.tolist() == [0.25, 0.5]
    # mean |r - mean r| over 4 rollouts: 2 p (1 - p) = [.375, .5]
    assert log.extra["advantage"].tolist() == [0.375, 0.5]
    assert log.time.tolist() == [0.0, 0.0]
    log.validate()
    # step(): roll out, log at the current step, train
    stepped = sim.step([0, 1, 2, 3])
    assert stepped.time.tolist() == [0.0] * 4 and sim.steps == 1
    assert sim.rollouts == 16 and sim.trained_rollouts == 16
    s = np.round(stepped.outcome * 4).astype(int)
    assert sim.ability == pytest.approx(0.1 * np.mean((s / 4) * (1 - s / 4)))


def test_simulator_defaults_and_parameters():
    sim = PassRateSim(seed=0)
    assert sim.difficulty.size == 5000 and sim.eval_difficulty.size == 500
    assert sim.k == 8 and sim.lr == 0.1 and sim.ability == 0.0
    assert sim.prompt_ids[:3] == [0, 1, 2] and len(sim.prompt_ids) == 5000
    # Normal(0, 2.5): 5000 draws, mean within 5 sd of the mean (5 * 2.5 / sqrt(5000) = .18)
    assert abs(sim.difficulty.mean()) < 0.18
    half = PassRateSim(n_prompts=2000, unsolvable=0.5, seed=1)
    assert 0.45 < np.isinf(half.difficulty).mean() < 0.55
    assert not np.isinf(half.eval_difficulty).any()  # the held-out set is clean
    for bad in ({"k": 0}, {"lr": 0.0}, {"unsolvable": 1.5}, {"difficulty_sd": -1.0}):
        with pytest.raises(ParameterError):
            PassRateSim(**bad)
    with pytest.raises(ParameterError, match="difficulty"):
        PassRateSim(difficulty=[np.nan])


class Recorder(Teacher):
    """Picks the first k candidates and records what it observes."""

    name = "recorder"

    def __init__(self) -> None:
        super().__init__(0)
        self.seen: list[EventLog] = []

    def select(self, learner, candidates, k=1, t=None, model=None):
        return list(candidates[:k])

    def observe(self, events):
        self.seen.append(events)


def test_run_passrate_counts_and_replays():
    sim = tiny(lr=0.5)
    teacher = Recorder()
    curve, log = run_passrate(sim, teacher, steps=3, batch_size=2, learner="policy")
    # each step: prompts 0 and 1, 2 x 4 rollouts, all trained on
    assert curve.steps.tolist() == [0, 1, 2, 3]
    assert curve.rollouts.tolist() == [0, 8, 16, 24]
    assert curve.trained_rollouts.tolist() == [0, 8, 16, 24]
    assert len(log) == 6 and log.item.tolist() == [0, 1] * 3
    assert log.time.tolist() == [0.0, 0.0, 1.0, 1.0, 2.0, 2.0]
    assert [len(e) for e in teacher.seen] == [2, 2, 2]
    # replaying the logged outcomes on a twin gives the same abilities and curve
    twin = tiny(lr=0.5)
    expected = [twin.eval_pass_rate()]
    for step in range(3):
        twin.update(np.round(log.outcome[2 * step : 2 * step + 2] * 4).astype(int))
        expected.append(twin.eval_pass_rate())
    assert curve.pass_rate.tolist() == pytest.approx(expected, abs=1e-15)
    assert twin.ability == sim.ability


def test_run_passrate_with_a_filter_after_the_rollouts():
    # keep nothing: every step makes max_draws draws of draw_size prompts, trains on none
    sim = tiny()
    curve, log = run_passrate(
        sim, Recorder(), steps=2, batch_size=2, keep=lambda p: p < 0, draw_size=3, max_draws=4
    )
    # 2 steps x 4 draws x 3 prompts x 4 rollouts = 96 rollouts, none trained on
    assert curve.rollouts.tolist() == [0, 48, 96]
    assert curve.trained_rollouts.tolist() == [0, 0, 0]
    assert sim.ability == 0.0 and len(log) == 24
    # keep everything: one draw per step, the surplus of the draw is dropped
    sim = tiny()
    curve, _ = run_passrate(
        sim, Recorder(), steps=1, batch_size=2, keep=lambda p: p >= 0, draw_size=3
    )
    assert curve.rollouts.tolist() == [0, 12] and curve.trained_rollouts.tolist() == [0, 8]
    # a batch the filter could not fill is normalised by the nominal batch size: keep
    # only the first prompt of a single draw -> theta = lr * signal(s_0) / 2
    sim = tiny()
    first = lambda p: np.arange(p.size) == 0  # noqa: E731
    curve, log = run_passrate(sim, Recorder(), steps=1, batch_size=2, keep=first, max_draws=1)
    s0 = round(log.outcome[0] * 4)
    assert sim.ability == pytest.approx(0.1 * (s0 / 4) * (1 - s0 / 4) / 2, abs=1e-15)
    assert curve.trained_rollouts.tolist() == [0, 4]
    # a budget of rollouts stops the run early
    sim = tiny()
    curve, _ = run_passrate(sim, Recorder(), steps=10, batch_size=2, max_rollouts=20)
    assert curve.rollouts.tolist() == [0, 8, 16, 24]


def test_filter_keeps_only_prompts_with_signal():
    # filtered batches carry signal on every prompt: theta grows by lr * mean signal > 0
    sim = PassRateSim(n_prompts=200, n_eval=10, seed=3)
    keep = lambda p: (p > 0) & (p < 1)  # noqa: E731
    curve, log = run_passrate(sim, RandomTeacher(0), steps=5, batch_size=16, keep=keep)
    assert np.all(np.diff(curve.pass_rate) > 0)
    assert np.all(np.diff(curve.trained_rollouts) == 16 * 8)
    assert set(np.unique(log.item)) <= set(range(200))


def test_curve_to_reach():
    curve = PassRateCurve(
        np.array([0, 1, 2, 3]),
        np.array([0, 80, 160, 240]),
        np.array([0, 64, 128, 192]),
        np.array([0.4, 0.5, 0.5, 0.7]),
    )
    assert curve.best == 0.7
    assert curve.to_reach(0.5) == 80.0
    assert curve.to_reach(0.5, "steps") == 1.0
    assert curve.to_reach(0.6, "trained_rollouts") == 192.0
    assert curve.to_reach(0.8) is None
    with pytest.raises(ParameterError, match="unit"):
        curve.to_reach(0.5, "seconds")


def test_pass_rate_sim_is_deterministic_by_seed():
    def run(seed: int) -> tuple:
        sim = PassRateSim(n_prompts=300, n_eval=50, seed=seed)
        curve, log = run_passrate(sim, RandomTeacher(seed), steps=10, batch_size=16)
        return sim.difficulty, curve.pass_rate, log.outcome

    a, b, c = run(5), run(5), run(6)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0]) and not np.array_equal(a[2], c[2])


@settings(max_examples=60, deadline=None)
@given(
    k=st.integers(1, 16),
    ability=st.floats(-20, 20),
    difficulty=st.lists(st.one_of(st.floats(-30, 30), st.just(math.inf)), min_size=1, max_size=12),
    normalise_std=st.booleans(),
    lr=st.floats(0.001, 10.0),
    steps=st.integers(0, 5),
    seed=st.integers(0, 2**32 - 1),
)
def test_pass_rates_stay_in_the_unit_interval(
    k, ability, difficulty, normalise_std, lr, steps, seed
):
    sim = PassRateSim(
        k=k,
        lr=lr,
        ability=ability,
        difficulty=difficulty,
        eval_difficulty=[d for d in difficulty if math.isfinite(d)] or [0.0],
        normalise_std=normalise_std,
        seed=seed,
    )
    prompts = np.arange(len(difficulty))
    for _ in range(steps):
        before = sim.ability
        p = sim.pass_rate()
        assert np.all((p >= 0) & (p <= 1))
        assert 0.0 <= sim.eval_pass_rate() <= 1.0
        log = sim.step(prompts)
        assert np.all((log.outcome >= 0) & (log.outcome <= 1))
        top = 1.0 if normalise_std else 0.5
        assert np.all((log.extra["advantage"] >= 0) & (log.extra["advantage"] <= top + 1e-12))
        assert sim.ability >= before  # no signal is negative
    assert sim.rollouts == steps * k * len(difficulty)


# ====================================================================== population property


@settings(max_examples=40, deadline=None)
@given(
    forget=st.floats(0.0, 1.0),
    delays=st.lists(st.floats(0.0, 1e4), min_size=1, max_size=5),
    seed=st.integers(0, 2**32 - 1),
    attempts=st.integers(0, 4),
)
def test_delayed_post_tests_stay_in_the_unit_interval_and_never_rise(
    forget, delays, seed, attempts
):
    course = make_course(n_skills=6, levels=2, layers=3, seed=1)
    pop = StudentPopulation(course, 5, seed=seed, params=StudentParams(forget_rate=forget))
    rng = np.random.default_rng(seed)
    for _ in range(attempts):
        pop.attempt(rng.integers(0, len(course.items), size=5))
    before = pop.knowledge.copy()
    scores = [pop.post_test(delay=d) for d in sorted(delays)]
    for score in scores:
        assert np.all((score >= 0.0) & (score <= 1.0))
    for earlier, later in itertools.pairwise(scores):
        assert np.all(later <= earlier)
    assert np.array_equal(pop.knowledge, before)


def test_population_on_the_junyi_course_warns_about_nothing(small_junyi):
    # the fixture consumed the warning; building the population warns about nothing
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        StudentPopulation(small_junyi, 3, seed=0).post_test(delay=5.0)
