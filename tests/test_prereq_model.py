"""The prerequisite-aware PSI-KT-like model (``psikt``): hand-computed
predictions (decay of knowledge between two times, the pull of a mastered
prerequisite, one filter update), the hand-written gradient against finite
differences, parameter and graph recovery on data drawn from the model's own
generative process, save/load, online against batch filtering, and bad input.

Hand-computed values are worked out in the comments (sigma is the logistic
function, and ``moderated(s, S) = sigma(s / sqrt(1 + pi S / 8))``); tolerances
of the recovery tests are justified in their docstrings.
"""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest
from scipy.special import expit

from mentor.domain import Domain, Item
from mentor.errors import DataError, DomainError, ParameterError, StateError, UnknownIdError
from mentor.events import EventLog
from mentor.students.prereq import PSIKT
from mentor.students.prereq._filter import (
    FilterState,
    Graph,
    Params,
    gradient,
    group_steps,
    log_likelihood,
    prior,
    run,
)


def moderated(s: float, S: float) -> float:
    return float(expit(s / math.sqrt(1.0 + math.pi * S / 8.0)))


def hand_model(domain: Domain, graph: str = "given", **state) -> PSIKT:
    """A model whose learned state is set by hand (defaults for what is not given)."""
    saved = PSIKT(domain=domain, graph=graph).state_dict()
    saved["state"].update(state)
    return PSIKT.from_state_dict(json.loads(json.dumps(saved)), domain=domain)


SKILLS = ["A", "B", "C", "D"]
ITEMS = [f"{s}{j}" for s in SKILLS for j in range(2)]


def true_params(gain=(0.3, 0.1, 0.2, 0.4), weights=(), rate=(0.05, 0.2, 0.1, 0.05)) -> Params:
    return Params(
        base=np.array([0.5, -0.5, 0.0, -1.0]),
        log_rate=np.log(rate),
        gain=np.array(gain, dtype=float),
        difficulty=np.array([-0.5, 0.5, -0.3, 0.3, 0.0, 0.6, -0.6, 0.0]),
        weight=np.array(weights, dtype=float),
        log_var=0.0,
        log_ability_var=math.log(0.8),
        log_trait_var=math.log(0.0025),
    )


def simulate(params: Params, edges=(), n=300, events=40, seed=0, skip=False):
    """Draw a log from the model's generative process (module docstring of
    ``mentor.students.prereq.model``): traits theta ~ N(0, 0.8), rho ~ N(0, 0.05^2);
    the latent skill knowledge z is an OU process between attempts towards the
    level b_k + sum w sigmoid(M_j) (M the model's own belief about the
    prerequisite as last assessed, run alongside with the true parameters), first
    met at its level with variance q, raised by eta_k + rho at each attempt;
    answers are Bernoulli(sigmoid(theta + rho G + z - d)). Gaps between answers
    are exponential with mean 2; items are uniform over the 8 items (with
    ``skip``, learners 1, 3, 5, ... never meet skill A, and learners 1, 4, 7, ...
    never meet skill B)."""
    rng = np.random.default_rng(seed)
    graph = Graph([SKILLS.index(a) for a, _ in edges], [SKILLS.index(b) for _, b in edges], 4)
    belief = FilterState.fresh(n, params)
    theta = rng.normal(0.0, math.sqrt(math.exp(params.log_ability_var)), n)
    rho = rng.normal(0.0, math.sqrt(math.exp(params.log_trait_var)), n)
    q = math.exp(params.log_var)
    z, practice, rows, clock = np.zeros((n, 4)), np.zeros((n, 4)), np.arange(n), np.zeros(n)
    allowed = np.ones((n, 8), dtype=bool)
    if skip:
        allowed[rows % 2 == 1, 0:2] = False
        allowed[rows % 3 == 1, 2:4] = False
    choices = np.cumsum(allowed, axis=1)
    learners, items, times, outcomes = [], [], [], []
    for _ in range(events):
        clock = clock + rng.exponential(2.0, n)
        pick = np.floor(rng.random(n) * choices[:, -1])
        item = np.argmax(choices > pick[:, None], axis=1)
        skill = item // 2
        pr = prior(params, graph, belief, rows, skill, params.difficulty[item], clock)
        noise = rng.normal(size=n) * np.sqrt(q * (1.0 - pr.decay**2))
        z[rows, skill] = pr.level + (z[rows, skill] - pr.level) * pr.decay + noise
        practice[rows, skill] *= pr.decay
        logit = theta + rho * practice[rows, skill] + z[rows, skill] - params.difficulty[item]
        y = (rng.random(n) < expit(logit)).astype(float)
        run(params, graph, belief, rows, skill, item, clock, y, [rows])
        z[rows, skill] += params.gain[skill]
        practice[rows, skill] += 1.0
        learners.append(rows.copy())
        items.append(item)
        times.append(clock.copy())
        outcomes.append(y)
    domain = Domain([Item(i, (i[0],)) for i in ITEMS], SKILLS, list(edges))
    log = EventLog(
        np.concatenate(learners),
        np.array(ITEMS)[np.concatenate(items)],
        np.concatenate(times),
        np.concatenate(outcomes),
    )
    return log, domain


@pytest.fixture(scope="module")
def small():
    """A small fitted model and its log (4 skills, 60 learners x 15 answers)."""
    params = true_params(weights=[1.0])
    log, domain = simulate(params, edges=[("A", "D")], n=60, events=15, seed=7)
    model = PSIKT(domain=domain, max_iter=30).fit(log)
    return model, log, domain


# --------------------------------------------------------------------- by hand
def one_skill() -> Domain:
    return Domain([Item("a1", ("A",))], ["A"])


def test_knowledge_decays_between_two_times_by_hand():
    # base 0.5, alpha 0.1, q 1, d = 0.2; learner: theta 0.3, rho 0.1, P = [[0.2, 0], [0, 0.01]],
    # skill A last practised at t = 10 with M = 2, V = 0.5, G = 2.
    model = hand_model(
        one_skill(),
        base=[0.5],
        log_rate=[math.log(0.1)],
        gain=[0.0],
        difficulty=[0.2],
        log_var=0.0,
        learners=[["u", [0.3, 0.1], [0.2, 0.0, 0.01], 10.0, [["A", 2.0, 0.5, 2.0, 10.0]]]],
    )
    # t = 10: nothing elapsed, e = 1: s = 0.3 + 2 * 0.1 + 2 - 0.2 = 2.3,
    # S = P11 + g^2 P22 + V = 0.2 + 4 * 0.01 + 0.5 = 0.74
    now = moderated(2.3, 0.74)
    # t = 20: e = exp(-0.1 * 10) = exp(-1); the deviation from the level 0.5 shrinks by e, the
    # variance relaxes to q: m = 0.5 + 1.5 e, v = 0.5 e^2 + (1 - e^2), g = 2 e
    e = math.exp(-1.0)
    m, v, g = 0.5 + 1.5 * e, 0.5 * e * e + (1.0 - e * e), 2.0 * e
    later = moderated(0.3 + 0.1 * g + m - 0.2, 0.2 + g * g * 0.01 + v)
    # t -> infinity: back to the level, v = q: s = 0.3 + 0.5 - 0.2 = 0.6, S = 0.2 + 1
    limit = moderated(0.6, 1.2)
    got = [model.predict("u", ["a1"], t)[0] for t in (10.0, 20.0, 1e6)]
    assert got == pytest.approx([now, later, limit], abs=1e-12)
    assert now == pytest.approx(0.88335, abs=1e-5) and limit == pytest.approx(0.62120, abs=1e-5)
    assert model.predict("u", ["a1"])[0] == pytest.approx(now, abs=1e-12)  # t=None: last event


def test_mastered_prerequisite_raises_the_dependent_skill_by_hand():
    domain = Domain([Item("p1", ("P",)), Item("k1", ("K",))], ["P", "K"], [("P", "K")])
    state = {
        "base": [0.0, -1.0],
        "log_rate": [math.log(0.1)] * 2,
        "gain": [0.0, 0.0],
        "difficulty": [0.0, 0.0],
        "log_var": 0.0,
        "learners": [
            ["mastered", [0.0, 0.0], [0.5, 0.0, 0.01], 5.0, [["P", 3.0, 0.3, 1.0, 5.0]]],
            ["novice", [0.0, 0.0], [0.5, 0.0, 0.01], 5.0, []],
        ],
    }
    model = hand_model(domain, edges=[["P", "K", 1.5]], **state)
    # K never met: z ~ N(level, q = 1), S = 0.5 + 1 = 1.5.
    # mastered: level = -1 + 1.5 sigmoid(3) = 0.42886; novice: P at its base 0, level = -1 + 0.75
    mastered = moderated(-1.0 + 1.5 * float(expit(3.0)), 1.5)
    novice = moderated(-1.0 + 1.5 * 0.5, 1.5)
    assert model.predict("mastered", ["k1"], 5.0)[0] == pytest.approx(mastered, abs=1e-12)
    assert model.predict("novice", ["k1"], 5.0)[0] == pytest.approx(novice, abs=1e-12)
    assert mastered - novice == pytest.approx(0.1337, abs=1e-4)
    # ten time units later P's knowledge has decayed toward its base 0 by exp(-0.1 * 10)
    later = moderated(-1.0 + 1.5 * float(expit(3.0 * math.exp(-1.0))), 1.5)
    assert model.predict("mastered", ["k1"], 15.0)[0] == pytest.approx(later, abs=1e-12)
    assert novice < later < mastered
    # without the edge both learners are predicted alike, at level -1
    flat = hand_model(domain, graph="none", **state)
    assert flat.predict("mastered", ["k1"], 5.0)[0] == pytest.approx(
        moderated(-1.0, 1.5), abs=1e-12
    )
    assert flat.predict("novice", ["k1"], 5.0)[0] == pytest.approx(moderated(-1.0, 1.5), abs=1e-12)


def test_one_update_matches_the_hand_computed_filter_step():
    model = hand_model(
        one_skill(),
        base=[0.5],
        log_rate=[math.log(0.1)],
        gain=[0.1],
        difficulty=[0.2],
        log_var=0.0,
        log_ability_var=math.log(0.5),
        log_trait_var=math.log(0.01),
    )
    model.update(EventLog(["u"], ["a1"], [0.0], [1.0]))
    # first meeting: m = level = 0.5, v = q = 1, g = 0; s = 0 + 0.5 - 0.2, S = 0.5 + 1
    p = moderated(0.3, 1.5)
    h = p * (1 - p)
    den = 1 + 1.5 * h
    omega, phi = (1 - p) / den, h / den
    # x += P (1, g)^T omega with (1, g) = (1, 0): only theta moves; rho and P22 stay
    state = model.state("u")
    assert state["traits"]["ability"] == pytest.approx(0.5 * omega, abs=1e-12)
    assert state["traits"]["learning_rate"] == 0.0
    assert state["traits"]["ability_sd"] == pytest.approx(math.sqrt(0.5 - 0.25 * phi), abs=1e-12)
    assert state["traits"]["learning_rate_sd"] == pytest.approx(0.1, abs=1e-12)
    # M = m + v omega + eta, V = v - v^2 phi (read at t = 0, nothing has decayed)
    assert state["knowledge"]["A"]["mean"] == pytest.approx(0.5 + omega + 0.1, abs=1e-12)
    assert state["knowledge"]["A"]["sd"] == pytest.approx(math.sqrt(1 - phi), abs=1e-12)
    # the next prediction at t = 0: g = 1, s = theta + rho + M - d, S = P11 + P22 + V
    expected = moderated(0.5 * omega + 0.5 + omega + 0.1 - 0.2, 0.5 - 0.25 * phi + 0.01 + 1 - phi)
    assert model.predict("u", ["a1"], 0.0)[0] == pytest.approx(expected, abs=1e-12)


def test_gradient_matches_finite_differences():
    """The hand-written reverse pass against central differences (step 1e-6:
    truncation ~1e-12, rounding ~1e-16 * |LL| / 1e-6 ~ 1e-8 on a log-likelihood of ~40)."""
    rng = np.random.default_rng(0)
    k, n_items, n_learners, n = 5, 8, 4, 60
    item_skill = rng.integers(0, k, n_items)
    learner = rng.integers(0, n_learners, n)
    item = rng.integers(0, n_items, n)
    skill = item_skill[item]
    time = np.sort(rng.uniform(0, 50, n))
    y = (rng.random(n) < 0.6).astype(float)
    y[::7] = 0.3  # soft labels too
    graph = Graph(np.array([0, 1, 2, 0]), np.array([2, 3, 4, 4]), k)
    params = Params(
        rng.normal(0, 1, k),
        rng.normal(-2, 0.5, k),
        rng.normal(0.2, 0.1, k),
        rng.normal(0, 1, n_items),
        rng.uniform(0.2, 1, 4),
        0.3,
        -0.5,
        -2.0,
    )
    steps = group_steps(learner, time)

    def ll(p: Params) -> tuple[float, FilterState, list]:
        state, tape = FilterState.fresh(n_learners, p), []
        run(p, graph, state, learner, skill, item, time, y, steps, tape)
        return log_likelihood(y, tape), state, tape

    _, state, tape = ll(params)
    grad = gradient(params, graph, state, learner, skill, item, y, tape)
    fresh = FilterState.fresh(n_learners, params)
    assert np.array_equal(state.mean, fresh.mean) and np.array_equal(state.last, fresh.last)
    for name in ("base", "log_rate", "gain", "difficulty", "weight", "log_var", "log_ability_var"):
        value = np.atleast_1d(getattr(params, name)).astype(float)
        numeric = np.empty(value.size)
        for j in range(value.size):
            shifted = []
            for step in (1e-6, -1e-6):
                p = copy.deepcopy(params)
                v = value.copy()
                v[j] += step
                setattr(p, name, v if np.ndim(getattr(params, name)) else float(v[0]))
                shifted.append(ll(p)[0])
            numeric[j] = (shifted[0] - shifted[1]) / 2e-6
        assert np.atleast_1d(getattr(grad, name)) == pytest.approx(numeric, abs=1e-6), name


# --------------------------------------------------------------------- recovery
def test_parameters_are_recovered_from_the_models_own_generative_process():
    """300 learners x 40 answers from the model with known parameters, no graph.

    Tolerances: over seeds 0-12 of this simulation the largest errors of the fit
    were 0.26 on the within-skill difficulty gaps, 0.35 on base - mean difficulty
    (the identified combination), 0.17 on the practice gains, a factor 2.7 on the
    forgetting rates (a few hundred revisits per skill), 0.24 on q and 0.20 on
    the ability variance; the bounds below are about 1.3 times those, so that a
    correct fit passes for any seed and a broken one (a sign, a factor 2) fails.
    """
    truth = true_params()
    log, domain = simulate(truth, seed=0)
    fitted = PSIKT(domain=domain, graph="none", l2=0.1, max_iter=200).fit(log).params_
    d, true_d = fitted.difficulty.reshape(4, 2), truth.difficulty.reshape(4, 2)
    assert d[:, 1] - d[:, 0] == pytest.approx(true_d[:, 1] - true_d[:, 0], abs=0.34)
    assert fitted.base - d.mean(1) == pytest.approx(truth.base - true_d.mean(1), abs=0.45)
    assert fitted.gain == pytest.approx(truth.gain, abs=0.22)
    assert np.all(np.abs(fitted.log_rate - truth.log_rate) < math.log(3.5))
    assert math.exp(fitted.log_var) == pytest.approx(1.0, abs=0.31)
    assert math.exp(fitted.log_ability_var) == pytest.approx(0.8, abs=0.26)


def test_given_and_learned_graphs_find_the_true_prerequisites():
    """Edges A -> D (weight 3) and B -> C (weight 2), slow forgetting (0.02) and a
    gain of 0.6 per attempt at A and B; some learners never meet A or B, so the
    pulls are identifiable. Over seeds 0-4, the given graph's weights were
    1.6-2.8 on A -> D and 1.3-2.3 on B -> C (shrunk by the L1 penalty), the
    log-likelihood gain over no graph 13.6-26.6 nats (a likelihood-ratio
    statistic of 27-53 for 2 weights; chi-square(2) 0.999 quantile: 13.8), and
    the learned graph's heaviest edge into D was A -> D and into C was B -> C in
    every seed (fits of at most 100 L-BFGS-B iterations)."""
    log, domain = simulate(
        true_params((0.6, 0.6, 0.2, 0.4), [3.0, 2.0], [0.02] * 4),
        [("A", "D"), ("B", "C")],
        seed=0,
        skip=True,
    )
    fits = {
        g: PSIKT(domain=domain, graph=g, l2=0.1, l1=1.0, max_iter=100).fit(log)
        for g in ("given", "learn", "none")
    }
    given = {(a, b): w for a, b, w in fits["given"].prerequisites()}
    assert given[("A", "D")] > 0.5 and given[("B", "C")] > 0.5
    assert fits["given"].log_likelihood_ - fits["none"].log_likelihood_ > 13.8 / 2
    learned = fits["learn"].prerequisites()
    heaviest = {dst: src for src, dst, _ in reversed(learned)}
    assert heaviest["D"] == "A" and heaviest["C"] == "B"


def test_candidate_edges_and_l1_sparsity():
    # learners: u practises A then B then C; v practises B then A; w practises A then C
    log = EventLog(
        ["u", "u", "u", "v", "v", "w", "w"],
        ["A", "B", "C", "B", "A", "A", "C"],
        [0, 1, 2, 0, 1, 0, 1],
        [1, 0, 1, 1, 0, 1, 1],
    )
    # support (learners who met j before k): A->B 1, A->C 2, B->C 1, B->A 1
    model = PSIKT(graph="learn", min_support=2, max_iter=5).fit(log)
    assert [(a, b) for a, b, _ in model.state_dict()["state"]["edges"]] == [("A", "C")]
    model = PSIKT(graph="learn", min_support=1, max_iter=5).fit(log)
    pairs = {(a, b) for a, b, _ in model.state_dict()["state"]["edges"]}
    assert pairs == {("A", "B"), ("A", "C"), ("B", "C"), ("B", "A")}
    # an L1 penalty larger than any gain keeps every weight at exactly 0, so the fit converges
    # to the no-graph fit (both stop within L-BFGS-B's tolerance, 1e-7 of an objective of ~3)
    heavy = PSIKT(graph="learn", min_support=1, l1=1e6, max_iter=200).fit(log)
    flat = PSIKT(graph="none", max_iter=200).fit(log)
    assert np.all(heavy.params_.weight == 0.0)
    assert heavy.log_likelihood_ == pytest.approx(flat.log_likelihood_, abs=1e-5)


# --------------------------------------------------------------------- contract
def learner_states(model: PSIKT) -> dict:
    """Each learner's saved belief: id -> flat list of numbers."""
    out = {}
    for learner, trait, cov, clock, cells in model.state_dict()["state"]["learners"]:
        out[learner] = [*trait, *cov, clock, *(x for cell in cells for x in cell[1:])]
    return out


def test_save_and_load_give_identical_predictions(small):
    fitted, log, domain = small
    model = PSIKT.from_state_dict(fitted.state_dict(), domain=domain)
    text = json.dumps(model.state_dict())
    loaded = PSIKT.from_state_dict(json.loads(text), domain=domain)
    learners = np.unique(log.learner).tolist()[:5] + ["someone new"]
    for learner in learners:
        for t in (None, 1e3):
            assert np.array_equal(
                model.predict(learner, ITEMS, t), loaded.predict(learner, ITEMS, t)
            )
    for more in (
        EventLog([learners[0]], ["D0"], [1e3], [1.0]),
        EventLog(["new"], ["A1"], [5], [0.0]),
    ):
        model.update(more)
        loaded.update(more)
    assert np.array_equal(
        model.predict(learners[0], ITEMS, 2e3), loaded.predict(learners[0], ITEMS, 2e3)
    )
    assert json.dumps(model.state_dict()) == json.dumps(loaded.state_dict())


def test_online_update_equals_the_batch_filter(small):
    model, log, domain = small
    saved = model.state_dict()
    saved["state"]["learners"] = []
    one_by_one = PSIKT.from_state_dict(saved, domain=domain)
    replay = []
    for k in np.argsort(log.time, kind="stable").tolist():
        event = log[k]
        learner = event.learner[0].item()
        replay.append(one_by_one.predict(learner, [event.item[0].item()], event.time[0])[0])
        one_by_one.update(event)
    replay = np.array(replay)[np.argsort(np.argsort(log.time, kind="stable"))]
    at_once = PSIKT.from_state_dict(saved, domain=domain)
    at_once.update(log)
    # the fitted learners' states came from the batch filter of fit
    batch = learner_states(model)
    for other in (one_by_one, at_once):
        online = learner_states(other)
        assert online.keys() == batch.keys()
        for learner, numbers in batch.items():
            assert online[learner] == pytest.approx(numbers, abs=1e-12)
    assert PSIKT.from_state_dict(saved, domain=domain).predict_log(log) == pytest.approx(
        replay, abs=1e-12
    )
    # predict_log leaves the model alone
    before = json.dumps(at_once.state_dict())
    later = EventLog([log.learner[0].item(), "new"], ["A0", "A0"], [1e4, 0.0], [1.0, 1.0])
    assert at_once.predict_log(later)[0] == pytest.approx(
        at_once.predict(later.learner[0].item(), ["A0"], 1e4)[0]
    )
    assert json.dumps(at_once.state_dict()) == before


def test_state_reports_mastery_and_traits(small):
    model, log, domain = small
    learner = log.learner[0].item()
    state = model.state(learner)
    assert set(state["mastery"]) == set(SKILLS)
    assert all(0.0 < p < 1.0 for p in state["mastery"].values())
    assert set(state["traits"]) == {"ability", "ability_sd", "learning_rate", "learning_rate_sd"}
    assert state["practised_skills"] == len(state["knowledge"]) > 0
    assert state["time"] == float(log.time[log.learner == learner].max())
    new = model.state("nobody")
    assert new["traits"]["ability"] == 0.0 and new["practised_skills"] == 0


# --------------------------------------------------------------------- bad input
def test_bad_input_raises_clear_errors(small):
    model, log, domain = small
    learner = log.learner[0].item()
    last = float(log.time[log.learner == learner].max())
    with pytest.raises(UnknownIdError, match="unknown item 'Z9'"):
        model.predict(learner, ["Z9"])
    with pytest.raises(UnknownIdError, match="Z9"):
        model.update(EventLog([learner], ["Z9"], [last + 1], [1.0]))
    with pytest.raises(UnknownIdError, match="Z9"):
        PSIKT(domain=domain).fit(EventLog(["x"], ["Z9"], [0.0], [1.0]))
    with pytest.raises(DataError, match="time goes backwards") as error:
        model.update(EventLog([learner], ["A0"], [last - 1.0], [1.0]))
    assert error.value.field == "time" and error.value.value == last - 1.0
    with pytest.raises(DataError, match="time goes backwards"):
        PSIKT(domain=domain).fit(
            EventLog(["x", "x"], ["A0", "A1"], [2.0, 1.0], [1, 0], validate=False)
        )
    with pytest.raises(DataError, match="before their last event"):
        model.predict(learner, ["A0"], last - 1.0)
    with pytest.raises(DataError, match="empty"):
        PSIKT().fit(EventLog.empty())
    with pytest.raises(DomainError, match="one skill per item"):
        PSIKT(domain=Domain([Item("x", ("A", "B"))]))
    with pytest.raises(ParameterError, match="graph"):
        PSIKT(graph="guess")
    with pytest.raises(ParameterError, match="l1"):
        PSIKT(l1=-1.0)
    with pytest.raises(UnknownIdError, match="fitted log"):
        PSIKT().predict("u", ["a"])
    saved = model.state_dict()
    saved["state"]["base"] = saved["state"]["base"][:2]
    with pytest.raises(StateError, match="corrupt psikt"):
        PSIKT.from_state_dict(saved)
    saved = model.state_dict()
    saved["state"]["learners"][0][4].append(["no such skill", 0.0, 1.0, 0.0, 0.0])
    with pytest.raises(StateError, match="no such skill"):
        PSIKT.from_state_dict(saved)


def test_an_item_first_seen_after_fitting_without_a_domain_is_a_new_skill(small):
    """A test fold holds an item the training folds never had: without a domain it
    becomes its own skill at the fitted skills' mean parameters, difficulty 0."""
    _, log, _ = small
    model = PSIKT(max_iter=10).fit(log)
    fitted = copy.deepcopy(model.params_)
    learner = log.learner[0].item()
    last = float(log.time[log.learner == learner].max())
    p = model.predict(learner, ["A0", "Z9"], last)
    row = model._row[learner]
    s = model._state.trait[row, 0] + fitted.base.mean()  # theta + z, z at the new base
    S = model._state.cov[row, 0] + math.exp(fitted.log_var)
    assert p[1] == pytest.approx(moderated(s, S), rel=1e-12)
    assert "Z9" in model.skills_ and model.params_.difficulty[-1] == 0.0
    for name in ("base", "log_rate", "gain", "difficulty"):  # the fitted skills are unchanged
        old = getattr(fitted, name)
        np.testing.assert_array_equal(getattr(model.params_, name)[: old.size], old)
    assert p[0] == model.predict(learner, ["A0"], last)[0]
    test = EventLog(
        [learner, learner, "new"], ["Y1", "Z9", "Y2"], [last + 1, last + 2, 0.0], [1, 0, 1]
    )
    batch = model.predict_log(test)
    assert np.all((batch > 0) & (batch < 1))
    model.update(test)
    restored = PSIKT.from_state_dict(json.loads(json.dumps(model.state_dict())))
    assert restored.predict(learner, ["Y1", "Z9"]) == pytest.approx(
        model.predict(learner, ["Y1", "Z9"]), abs=1e-15
    )
