"""Task-space teachers (ALP-GMM, Covar-GMM, RIAC, RegionLP, uniform): the contract, the
registry, the Engine adapter, and each algorithm's statistic on hand-made examples.

Every expected number is worked out by hand from the documented formula; random draws are
checked against exact probabilities within a binomial bound of 4.5 standard deviations.
"""

from __future__ import annotations

import json
import math
from collections import Counter

import numpy as np
import pytest
from scipy.spatial import cKDTree
from scipy.stats import norm
from sklearn.mixture import GaussianMixture

from mentor import Domain, Engine, Event, Item
from mentor.domain import Box
from mentor.errors import DataError, DomainError, ParameterError, StateError, UnknownIdError
from mentor.sim import Hypercube
from mentor.students import Elo
from mentor.teachers import TEACHERS, teacher_from_state
from mentor.teachers.alp_gmm import ALPGMM as OldPathALPGMM
from mentor.teachers.taskspace import (
    ALPGMM,
    RIAC,
    TASK_TEACHERS,
    CovarGMM,
    RegionLP,
    TaskItems,
    UniformTasks,
    create_task_teacher,
    grid_items,
    task_teacher_class,
    task_teacher_from_state,
)
from mentor.teachers.taskspace.alp_gmm import TREE_BUFFER, component_probabilities
from mentor.teachers.taskspace.region_lp import window_slope
from mentor.teachers.taskspace.riac import region_alp

BOX = Box([0.0, 0.0], [1.0, 1.0], names=("height", "gap"))


def assert_frequencies(counts: Counter, probabilities: dict, draws: int) -> None:
    """Each count within 4.5 binomial standard deviations (+1) of draws * p."""
    for arm, p in probabilities.items():
        sd = math.sqrt(draws * p * (1 - p))
        assert abs(counts[arm] - draws * p) <= 4.5 * sd + 1, (arm, counts[arm], draws * p)


def roundtrip(teacher):
    return task_teacher_from_state(json.loads(json.dumps(teacher.state_dict())))


def run_stream(teacher, episodes, seed, k=5):
    """Left half (height < .5): rewards uniform at random, ALP about 1/3; right half: 0."""
    rng = np.random.default_rng(seed)
    for _ in range(episodes // k):
        x = teacher.sample(k)
        teacher.observe(x, np.where(x[:, 0] < 0.5, rng.random(k), 0.0))


SMALL = {
    "uniform": {},
    "alp_gmm": {"fit_every": 30, "k_max": 3},
    "covar_gmm": {"fit_every": 30, "k_max": 3},
    "riac": {"max_region_size": 20},
    "region_lp": {"regions": 16},
}


# ================================================================== contract and registry
def test_registry_and_old_import_path():
    assert sorted(TASK_TEACHERS) == sorted(SMALL)
    assert OldPathALPGMM is ALPGMM
    # task-space teachers are not item teachers; the adapter is
    assert "alp_gmm" not in TEACHERS and TEACHERS["task_items"] is TaskItems
    assert task_teacher_class("riac") is RIAC
    with pytest.raises(UnknownIdError, match="region_lp"):
        task_teacher_class("nope")
    with pytest.raises(StateError, match="kind"):
        task_teacher_from_state({"kind": "tscl", "state": {}})


@pytest.mark.parametrize("name", sorted(SMALL))
def test_contract_every_teacher(name):
    teacher = create_task_teacher(
        {"name": name, "params": {"space": BOX.state_dict(), **SMALL[name]}}
    )
    assert teacher.spec() == {"name": name, "params": teacher.get_params()}
    run_stream(teacher, 100, seed=1)
    x = teacher.sample(7)
    assert x.shape == (7, 2) and x.dtype == float and BOX.contains(x).all()
    restored = roundtrip(teacher)
    assert restored.get_params() == teacher.get_params()
    assert np.array_equal(restored.sample(20), teacher.sample(20))
    run_stream(teacher, 60, seed=9)  # through more fits / splits on both
    run_stream(restored, 60, seed=9)
    assert np.array_equal(restored.sample(20), teacher.sample(20))
    # bad input names what is wrong
    with pytest.raises(DataError, match="dimension 'gap'"):
        teacher.observe([[0.5, 1.5]], [0.0])
    with pytest.raises(DataError, match="2 parameters"):
        teacher.observe([[0.5, 0.5, 0.5]], [0.0])
    with pytest.raises(DataError, match="2 tasks but 1 outcomes"):
        teacher.observe([[0.1, 0.1], [0.2, 0.2]], [0.0])
    with pytest.raises(DataError, match="finite"):
        teacher.observe([[0.1, 0.1]], [float("nan")])
    with pytest.raises(ParameterError):
        teacher.sample(0)
    with pytest.raises(ParameterError, match="no parameter 'windw'"):
        create_task_teacher({"name": name, "params": {"space": BOX.state_dict(), "windw": 3}})
    with pytest.raises(ParameterError, match="Box"):
        task_teacher_class(name)(["a", "b"])
    with pytest.raises(StateError):
        type(teacher).from_state_dict({**teacher.state_dict(), "state": {"junk": 1}})


def test_box_grid_normalise_and_check():
    box = Box([0.0, 10.0], [1.0, 20.0])
    assert box.grid([2, 1]).tolist() == [[0.25, 15.0], [0.75, 15.0]]
    assert box.normalise([[0.5, 12.5]]).tolist() == [[0.5, 0.25]]
    assert box.check([0.5, 12.0]).shape == (1, 2)
    with pytest.raises(DataError, match="task 0, dimension 1"):
        box.check([[0.5, 25.0]])
    with pytest.raises(DomainError, match="bins"):
        box.grid([2])


# ================================================================== ALP-GMM
def test_alp_by_nearest_neighbour_by_hand():
    teacher = ALPGMM(BOX, fit_every=20, k_max=3, seed=0)
    first = [[0.1, 0.1], [0.9, 0.9], [0.1, 0.9], [0.9, 0.1], [0.5, 0.5], [0.3, 0.3]]
    teacher.observe(first, [0.2, 0.8, 0.5, 0.3, 0.6, 0.1])
    later = [[0.12, 0.1], [0.5, 0.45], [0.88, 0.9], [0.12, 0.11]]
    teacher.observe(later, [0.7, 0.6, 0.3, 0.9])
    alp = teacher.absolute_learning_progress()
    # the first 6 episodes get 0; then |r - r(nearest earlier task)|:
    #   (.12, .1)  -> (.1, .1)  r .2 : |.7 - .2| = .5
    #   (.5, .45)  -> (.5, .5)  r .6 : 0
    #   (.88, .9)  -> (.9, .9)  r .8 : |.3 - .8| = .5
    #   (.12, .11) -> (.12, .1) r .7 (earlier in the same batch): |.9 - .7| = .2
    assert alp[:, 2] == pytest.approx([0, 0, 0, 0, 0, 0, 0.5, 0.0, 0.5, 0.2])
    assert alp[:, :2].tolist() == first + later


def test_alp_matches_brute_force_beyond_the_tree_buffer():
    rng = np.random.default_rng(7)
    n = TREE_BUFFER * 2 + 150
    tasks = rng.random((n, 2))
    rewards = rng.random(n)
    teacher = ALPGMM(BOX, fit_every=n, k_max=2, seed=0)  # no fit in this test
    for start in range(0, n, 97):
        teacher.observe(tasks[start : start + 97], rewards[start : start + 97])
    expected = np.zeros(n)
    for i in range(6, n):
        j = np.argmin(((tasks[:i] - tasks[i]) ** 2).sum(axis=1))
        expected[i] = abs(rewards[i] - rewards[j])
    assert teacher.tasks_.tree_size == 2 * TREE_BUFFER  # two flushes into the k-d tree
    assert teacher.absolute_learning_progress()[:, 2] == pytest.approx(expected[-n:])
    _, j = cKDTree(tasks[:-1]).query(tasks[-1])
    assert expected[-1] == pytest.approx(abs(rewards[-1] - rewards[j]))


def test_alp_gmm_bootstrap_then_fit_by_aic():
    teacher = ALPGMM(BOX, fit_every=60, k_max=4, seed=1)
    run_stream(teacher, 55, seed=0)
    assert teacher.tasks_.gmm is None
    run_stream(teacher, 5, seed=1)
    state = teacher.tasks_
    assert state.episodes == 60 and state.gmm is not None
    data = teacher.absolute_learning_progress()
    assert data.shape == (60, 3)
    gmms = [
        GaussianMixture(k, covariance_type="full", random_state=state.fit["seed"]).fit(data)
        for k in (2, 3, 4)
    ]
    aics = [gmm.aic(data) for gmm in gmms]
    chosen = gmms[int(np.argmin(aics))]
    assert state.fit["scores"] == pytest.approx(aics)
    assert state.fit["k"] == 2 + int(np.argmin(aics))
    assert np.array(state.gmm["means"]) == pytest.approx(chosen.means_)
    assert np.array(state.gmm["covariances"]) == pytest.approx(chosen.covariances_)


def test_alp_gmm_samples_more_where_alp_is_high():
    teacher = ALPGMM(BOX, fit_every=150, random_fraction=0.2, seed=3)
    run_stream(teacher, 300, seed=3)
    gmm = teacher.tasks_.gmm
    means = np.array(gmm["means"])
    sd = np.sqrt(np.array(gmm["covariances"])[:, 0, 0])
    # exact share of tasks drawn in the left half: random tasks are uniform (1/2 left); a
    # component is drawn proportionally to its mean ALP and puts Phi((.5 - mu) / sd) of its
    # mass left of .5 (clipping to the box never moves a task across .5)
    left = 0.2 * 0.5 + 0.8 * float(
        component_probabilities(gmm) @ norm.cdf((0.5 - means[:, 0]) / sd)
    )
    assert component_probabilities(gmm)[means[:, 0] > 0.6].sum() < 0.02
    assert left > 0.82
    draws = 3000
    x = teacher.sample(draws)
    counts = Counter(np.where(x[:, 0] < 0.5, "left", "right").tolist())
    assert_frequencies(counts, {"left": left, "right": 1 - left}, draws)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"fit_every": 5},  # fewer than k_max points per fit
        {"k_min": 3, "k_max": 2},
        {"bootstrap": 100},  # below fit_every
        {"random_fraction": 1.5},
        {"criterion": "aicc"},
        {"history": 0},
        {"n_init": 0},
        {"fit_every": True},
    ],
)
def test_gmm_teachers_bad_parameters(kwargs):
    with pytest.raises(ParameterError):
        ALPGMM(BOX, **kwargs)
    if "history" not in kwargs:
        with pytest.raises(ParameterError):
            CovarGMM(BOX, **kwargs)


# ================================================================== Covar-GMM
def test_covar_gmm_time_stamps_and_lp_by_hand():
    box = Box([0.0], [1.0])
    teacher = CovarGMM(box, fit_every=4, k_min=1, k_max=1, seed=0)
    teacher.observe([[0.1], [0.2], [0.3], [0.4]], [0.0, 0.2, 0.4, 0.6])
    # tau = (i mod 4) / 4 = 0, .25, .5, .75; one component: its covariance is the sample's
    # (divided by n): tau - .375 = -.375, -.125, .125, .375 and r - .3 = -.3, -.1, .1, .3,
    # products .1125 + .0125 + .0125 + .1125 = .25, / 4 = .0625
    assert [row[1] for row in teacher.recent_] == [0.0, 0.25, 0.5, 0.75]
    assert teacher.learning_progress() == pytest.approx([0.0625])
    # the fifth episode starts the time stamps again
    teacher.observe([[0.5]], [0.0])
    assert teacher.recent_[-1][1] == 0.0 and len(teacher.recent_) == 4
    # falling reward: no progress, unless absolute_lp
    falling = CovarGMM(box, fit_every=4, k_min=1, k_max=1, seed=0)
    falling.observe([[0.1], [0.2], [0.3], [0.4]], [0.6, 0.4, 0.2, 0.0])
    assert falling.learning_progress() == pytest.approx([0.0])
    absolute = CovarGMM(box, fit_every=4, k_min=1, k_max=1, absolute_lp=True, seed=0)
    absolute.observe([[0.1], [0.2], [0.3], [0.4]], [0.6, 0.4, 0.2, 0.0])
    assert absolute.learning_progress() == pytest.approx([0.0625])


def test_covar_gmm_samples_where_reward_grows():
    """Left half: reward rises with time inside each window; right half: constant."""
    teacher = CovarGMM(BOX, fit_every=100, k_max=4, random_fraction=0.0, seed=2)
    for step in range(300):
        x = teacher.sample(1)
        tau = (step % 100) / 100
        teacher.observe(x, [tau if x[0, 0] < 0.5 else 0.3])
    lp = teacher.learning_progress()
    means = np.array(teacher.gmm_["means"])
    assert lp[means[:, 0] > 0.6].sum() <= 0.05 * lp.sum()
    x = teacher.sample(500)
    assert (x[:, 0] < 0.5).mean() > 0.8


# ================================================================== RIAC
def test_region_alp_by_hand():
    assert region_alp([0.3, 0.9], 10) == 0.0  # two episodes or fewer
    # w = 4, h = 2: |mean(0, 0) - mean(1, 1)| = 1
    assert region_alp([0, 0, 1, 1], 10) == pytest.approx(1.0)
    # w = 3, h = 1: older [0, 0], newer [1]
    assert region_alp([0, 0, 1], 10) == pytest.approx(1.0)
    # window 4 of [5, 0, .2, .4, .6]: |mean(.0, .2) - mean(.4, .6)| = .4
    assert region_alp([5, 0, 0.2, 0.4, 0.6], 4) == pytest.approx(0.4)


def test_riac_split_criterion_on_a_constructed_region():
    """Left (x < .5): rewards 0, 0, 1, 1 (ALP 1); right: .5 four times (ALP 0). Any cut in
    (.4, .6] scores 4 * 4 * |1 - 0| = 16; a cut in (.3, .4] scores 3 * 5 * |1 - 1/6| = 12.5
    (left 0, 0, 1: ALP 1; right 1, .5, .5, .5, .5: |mean(1, .5, .5) - mean(.5, .5)| = 1/6)."""
    teacher = RIAC(Box([0.0], [1.0]), split_attempts=400, min_region_size=1, min_width=0.0, seed=0)
    x = np.array([[0.1], [0.2], [0.3], [0.4], [0.6], [0.7], [0.8], [0.9]])
    r = np.array([0, 0, 1, 1, 0.5, 0.5, 0.5, 0.5])
    dim, threshold, score = teacher.best_cut(x, r, np.array([0.0]), np.array([1.0]))
    assert dim == 0 and 0.4 < threshold <= 0.6 and score == pytest.approx(16.0)
    # the same cut scored by hand at .35
    lower = x[:, 0] < 0.35
    by_hand = (
        lower.sum() * (~lower).sum() * abs(region_alp(r[lower], 200) - region_alp(r[~lower], 200))
    )
    assert by_hand == pytest.approx(12.5)


def test_riac_splits_a_full_leaf_and_routes_later_tasks():
    teacher = RIAC(Box([0.0], [1.0]), max_region_size=8, min_region_size=2, seed=1)
    rng = np.random.default_rng(0)
    x = rng.random((9, 1))
    teacher.observe(x, (x[:, 0] < 0.5).astype(float) * np.arange(9) / 9)
    regions = teacher.regions()
    assert len(regions) == 3 and not regions[0]["leaf"]
    dim, threshold = teacher.regions_[0].cut
    low, high = regions[1], regions[2]
    assert low["high"] == [threshold] and high["low"] == [threshold]
    assert low["episodes"] + high["episodes"] == 9
    # a later task goes to the root and to exactly one child
    teacher.observe([[threshold / 2]], [0.0])
    assert [r["episodes"] for r in teacher.regions()] == [9, low["episodes"] + 1, high["episodes"]]


def test_riac_forgets_when_no_cut_is_valid():
    # min_width .5: only a cut at exactly .5 is valid, which a uniform draw never hits
    teacher = RIAC(Box([0.0], [1.0]), max_region_size=8, min_width=0.5, seed=1)
    teacher.observe(np.linspace(0.05, 0.95, 9)[:, None], np.arange(9) / 9)
    # 9 > 8: no split; the oldest int(8 * 1/4) = 2 are forgotten
    assert len(teacher.regions()) == 1 and teacher.regions()[0]["episodes"] == 7
    assert teacher.regions_[0].rewards[0] == pytest.approx(2 / 9)


def test_riac_samples_regions_by_alp():
    teacher = RIAC(Box([0.0], [1.0]), max_region_size=8, min_region_size=2, seed=3)
    x = np.array([[0.05], [0.15], [0.25], [0.35], [0.6], [0.7], [0.8], [0.9], [0.45]])
    teacher.observe(x, [0, 0, 0, 0, 0.5, 0.5, 0.5, 0.5, 1.0])
    alp = np.array([r["alp"] for r in teacher.regions()])
    assert alp.size == 3 and alp.sum() > 0
    # 70 % region by ALP then uniform in it, 20 % uniform, 10 % mutation within a region
    draws = teacher.sample(4000)
    assert Box([0.0], [1.0]).contains(draws).all()


# ================================================================== RegionLP
def test_window_slope_by_hand():
    assert window_slope([0.4]) == 0.0
    assert window_slope([1.0, 0.0]) == pytest.approx(-1.0)
    assert window_slope([0.0, 0.1, 0.2]) == pytest.approx(0.1)
    # i - 1.5 = -1.5, -.5, .5, 1.5; r - .25 = -.25, -.25, .75, -.25: (.375 + .125 + .375 - .375) / 5
    assert window_slope([0, 0, 1, 0]) == pytest.approx(0.1)


def test_region_lp_window_and_greedy_choice():
    teacher = RegionLP(
        BOX, regions=16, window=3, random_fraction=0.0, neighbour_fraction=0.0, seed=0
    )
    centre = teacher.space.low + teacher.centres[5] * teacher.space.width
    assert teacher.region_of([centre])[0] == 5
    # nothing observed: every task is uniform
    assert teacher.choose_region() is None
    teacher.observe([centre] * 4, [0.0, 0.9, 0.1, 0.2])
    # the window keeps the last 3 rewards .9, .1, .2: slope (-.9 + .2) / 2 = -.35
    assert teacher.learning_progress()[5] == pytest.approx(0.35)
    assert teacher.counts_[5] == 4
    x = teacher.sample(200)
    assert (teacher.region_of(x) == 5).all()
    # every greedy pick moved to a neighbour
    teacher.neighbour_fraction = 1.0
    counts = Counter(teacher.region_of(teacher.sample(600)).tolist())
    assert set(counts) <= set(teacher.adjacent[5].tolist())
    assert_frequencies(counts, {int(j): 1 / teacher.neighbours for j in teacher.adjacent[5]}, 600)


def test_region_lp_beats_uniform_on_a_small_hypercube():
    """4 x 4 cells, 1,500 episodes: uniform tasks master the origin and little else."""
    scores = {}
    for name, cls, kwargs in [
        ("uniform", UniformTasks, {}),
        ("region_lp", RegionLP, {"regions": 32}),
    ]:
        cube = Hypercube(cells=4, seed=0)
        teacher = cls(cube.task_space, seed=0, **kwargs)
        for _ in range(1500):
            x = teacher.sample(1)
            teacher.observe(x, cube.episode(x))
        scores[name] = cube.score()
    assert scores["region_lp"] >= scores["uniform"] + 25


@pytest.mark.parametrize(
    "kwargs",
    [
        {"regions": 1},
        {"window": 1},
        {"neighbours": 16},
        {"random_fraction": -0.1},
        {"regions": 2.5},
    ],
)
def test_region_lp_bad_parameters(kwargs):
    with pytest.raises(ParameterError):
        RegionLP(BOX, **{"regions": 16, **kwargs})


@pytest.mark.parametrize(
    "kwargs",
    [{"max_region_size": 1}, {"min_region_size": 150}, {"min_width": 0.6}, {"mutation": -1}],
)
def test_riac_bad_parameters(kwargs):
    with pytest.raises(ParameterError):
        RIAC(BOX, **kwargs)


# ================================================================== the Engine adapter
def line_domain():
    box = Box([0.0], [1.0], names=["difficulty"])
    return box, Domain(grid_items(box, 10) + [Item("quiz", ("other",))])


def test_engine_with_a_task_space_teacher_through_task_items():
    box, domain = line_domain()
    assert domain.item("task-3").attributes["task"] == [0.35]
    engine = Engine(
        domain, Elo(domain), TaskItems(domain, ALPGMM(box, fit_every=20, k_max=3), seed=0)
    )
    picks = engine.next("ada", k=3)
    assert len(set(picks)) == 3 and all(p.startswith("task-") for p in picks)
    for step in range(30):
        item = engine.next("ada")[0]
        engine.record([Event("ada", item, time=step, outcome=float(item in {"task-0", "task-1"}))])
    engine.record([Event("ada", "quiz", time=31, outcome=1.0)])  # no point: not a task
    teacher = engine.teacher.learners_["ada"]
    assert teacher.tasks_.episodes == 30  # 20 bootstrap + a fit at 20 + 10
    assert teacher.tasks_.gmm is not None
    restored = Engine.from_state_dict(json.loads(json.dumps(engine.state_dict())))
    assert [restored.next("ada", k=2) for _ in range(5)] == [
        engine.next("ada", k=2) for _ in range(5)
    ]
    assert (
        teacher_from_state(engine.teacher.state_dict(), domain=domain).get_params()
        == engine.teacher.get_params()
    )


@pytest.mark.parametrize("cls", [ALPGMM, RegionLP, UniformTasks])
def test_engine_refuses_a_bare_task_space_teacher_over_items_without_points(cls):
    # before: the engine took it silently and .next raised AttributeError (no select)
    box = Box([0.0], [1.0])
    domain = Domain([Item("a", ("s",)), Item("b", ("s",))])
    params = {"regions": 4} if cls is RegionLP else {}
    with pytest.raises(ParameterError, match=rf"{cls.__name__} is a task-space .*TaskItems"):
        Engine(domain, Elo(domain), cls(box, **params))


def test_engine_wraps_a_bare_task_space_teacher_in_task_items():
    box, domain = line_domain()
    template = ALPGMM(box, fit_every=20, k_max=3, seed=7)
    state = json.dumps(template.state_dict())
    engine = Engine(domain, Elo(domain), template)
    assert isinstance(engine.teacher, TaskItems)
    assert engine.teacher.teacher is template
    # the same picks as the adapter built by hand, seeded from the teacher's generator
    by_hand = Engine(
        domain,
        Elo(domain),
        TaskItems(domain, ALPGMM(box, fit_every=20, k_max=3), seed=np.random.default_rng(7)),
    )
    for step in range(25):
        item = engine.next("ada")[0]
        assert by_hand.next("ada") == [item]
        event = [Event("ada", item, time=step, outcome=float(item == "task-0"))]
        engine.record(event)
        by_hand.record(event)
    assert json.dumps(template.state_dict()) == state  # the template did not learn
    restored = Engine.from_state_dict(json.loads(json.dumps(engine.state_dict())))
    assert restored.next("ada", k=2) == engine.next("ada", k=2)


def test_task_items_maps_each_task_to_the_nearest_free_candidate():
    box, domain = line_domain()

    class Fixed(UniformTasks):
        name = "uniform"

        def sample(self, n=1):
            return np.array([[0.31], [0.33], [0.99]])[:n]

    adapter = TaskItems(domain, UniformTasks(box))
    adapter.learners_["ada"] = Fixed(box)
    # .31 -> task-3 (.35); .33 -> task-3 taken, next nearest task-2 (.25); .99 -> task-9
    assert adapter.select("ada", domain.item_ids, k=3) == ["task-3", "task-2", "task-9"]
    assert adapter.select("ada", ["task-0", "quiz"], k=3) == ["task-0"]
    assert adapter.select("ada", ["quiz"], k=1) == []
    # learners get their own teacher, with their own seed
    assert adapter.learner_teacher("bo").rng.random() != adapter.learner_teacher("cy").rng.random()


def test_task_items_errors():
    box, domain = line_domain()
    with pytest.raises(ParameterError, match="domain"):
        TaskItems(None, ALPGMM(box))
    with pytest.raises(ParameterError, match="task-space teacher"):
        TaskItems(domain, "alp_gmm")
    with pytest.raises(DomainError, match="no item"):
        TaskItems(Domain([Item("a", ("s",))]), ALPGMM(box))
    bad = Domain([Item("a", ("s",), attributes={"task": [3.0]})])
    with pytest.raises(DomainError, match="item 'a'"):
        TaskItems(bad, ALPGMM(box))
    spec = {"name": "region_lp", "params": {"space": box.state_dict(), "regions": 8}}
    assert isinstance(TaskItems(domain, spec).teacher, RegionLP)


# ================================================================== per-episode speed-ups
def test_box_sample_draws_the_numbers_of_rng_uniform():
    # Box.sample computes low + width * u itself (NumPy's uniform is low + (high - low) * u
    # from the same draws), to avoid rng.uniform's per-call cost: the numbers must not move
    box = Box([0.001, -3.0, 2.0], [7.3, 5.5, 2.25])
    ours, theirs = np.random.default_rng(11), np.random.default_rng(11)
    for n in (1, 5, 1000):
        assert np.array_equal(box.sample(ours, n), theirs.uniform(box.low, box.high, (n, 3)))
    assert box == Box([0.001, -3.0, 2.0], [7.3, 5.5, 2.25]) and "_lo" not in repr(box)
    with pytest.raises(ValueError):
        box._lo[0] = 1.0  # the cached bounds are read-only


@pytest.mark.parametrize(
    "dim,regions,points", [(1, 128, 1), (2, 128, 64), (3, 128, 64), (2, 512, 64)]
)
def test_region_lp_nearest_centre_is_the_k_d_trees(dim, regions, points):
    # the direct comparison (small problems) and the tree (large ones) find the same centres
    from scipy.spatial import cKDTree

    teacher = RegionLP(Box([0.0] * dim, [1.0] * dim), regions=regions, seed=5)
    unit = np.random.default_rng(6).random((points * 20, dim))
    expected = cKDTree(teacher.centres).query(unit)[1]
    for chunk in range(20):
        part = slice(chunk * points, (chunk + 1) * points)
        assert np.array_equal(teacher._nearest(unit[part]), expected[part])


@pytest.mark.parametrize("regions", [2, 16, 128, 512])
def test_region_lp_nearest_centre_in_1d_is_the_direct_comparisons(regions):
    # in 1-D _nearest bisects the sorted centres; it must give argmin's answer everywhere:
    # random points, the centres themselves, the midpoints between sorted neighbours (a
    # tie, argmin's lower index), the ends of the interval
    teacher = RegionLP(Box([0.0], [1.0]), regions=regions, seed=3)
    c = np.sort(teacher.centres[:, 0])
    unit = np.concatenate(
        [np.random.default_rng(4).random(5000), c, (c[1:] + c[:-1]) / 2, [0.0, 1.0]]
    )[:, None]
    expected = ((unit - teacher.centres[:, 0]) ** 2).argmin(axis=1)
    assert np.array_equal(teacher._nearest(unit), expected)


def test_region_lp_nearest_centre_of_one_point_in_1d_is_the_direct_comparisons():
    # one point at a time (Python floats) gives argmin's answer too, ties included
    teacher = RegionLP(Box([0.0], [1.0]), regions=128, seed=3)
    c = np.sort(teacher.centres[:, 0])
    points = np.concatenate([np.random.default_rng(5).random(2000), c, (c[1:] + c[:-1]) / 2])
    expected = ((points[:, None] - teacher.centres[:, 0]) ** 2).argmin(axis=1)
    assert [teacher._nearest_point(float(u)) for u in points] == expected.tolist()
    assert teacher._nearest(points[:1, None]).tolist() == expected[:1].tolist()
