"""Student models: hand-computed BKT and Elo steps, EM against brute force,
parameter recovery, online/batch agreement and state round trips."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mentor.domain import Domain, Item
from mentor.errors import DataError, StateError, UnknownIdError
from mentor.events import EventLog
from mentor.students import BKT, Elo, create_model, model_from_state

#: BKT's EM engines: NumPy (device None) and PyTorch on the CPU (mentor.students.bkt_torch)
ENGINES = [
    pytest.param(None, id="numpy"),
    pytest.param("cpu", id="torch-cpu", marks=pytest.mark.torch),
]
HAND = {"prior": 0.3, "learn": 0.2, "forget": 0.1, "guess": 0.25, "slip": 0.1}


def one_sequence(outcomes, learner="ada", item="add"):
    n = len(outcomes)
    return EventLog([learner] * n, [item] * n, np.arange(n, dtype=float), outcomes)


# --------------------------------------------------------------------- BKT


def test_bkt_forward_pass_on_three_steps_matches_hand_computation():
    # Outcomes 1, 0, 1 with prior .3, learn .2, forget .1, guess .25, slip .1.
    # Step 1: P(c) = .3*.9 + .7*.25 = .445; posterior = .27/.445 = .606742;
    #         next = .606742*.9 + .393258*.2 = .624719
    # Step 2: P(c) = .624719*.9 + .375281*.25 = .656067; wrong, so
    #         posterior = .0624719 / (.0624719 + .375281*.75) = .181640;
    #         next = .181640*.9 + .818360*.2 = .327148
    # Step 3: P(c) = .327148*.9 + .672852*.25 = .462646
    log = one_sequence([1.0, 0.0, 1.0])
    model = BKT(init=HAND, max_iter=0)
    predictions = model.predict_log(log)
    assert predictions == pytest.approx([0.445, 0.656067, 0.462646], abs=1e-6)

    online = []
    for event in log:
        online.append(model.predict("ada", ["add"])[0])
        model.update(EventLog([event.learner], [event.item], [event.time], [event.outcome]))
    assert online == pytest.approx([0.445, 0.656067, 0.462646], abs=1e-6)
    # after the third (correct) answer: posterior = .294433/.462646 = .636410,
    # next = .636410*.9 + .363590*.2 = .645487
    assert model.state("ada")["mastery"]["add"] == pytest.approx(0.645487, abs=1e-6)


def test_bkt_log_likelihood_with_fixed_parameters():
    log = one_sequence([1.0, 0.0, 1.0])
    model = BKT(init=HAND, max_iter=0).fit(log)
    expected = math.log(0.445) + math.log(1 - 0.656067) + math.log(0.462646)
    assert model.log_likelihood_ == pytest.approx(expected, abs=1e-5)
    assert model.n_iter_ == 0


def _brute_force_em_step(sequences, p):
    """One Baum-Welch step by enumerating every hidden path (state 1 = known)."""
    counts = dict.fromkeys(
        ["first_known", "n_seq", "xi01", "from0", "xi10", "from1", "g0o", "g0", "g1no", "g1"], 0.0
    )
    for obs in sequences:
        paths, weights = [], []
        for path in itertools.product([0, 1], repeat=len(obs)):
            w = p["prior"] if path[0] else 1 - p["prior"]
            for t, (z, o) in enumerate(zip(path, obs, strict=True)):
                if t:
                    prev = path[t - 1]
                    if prev == 0:
                        w *= p["learn"] if z else 1 - p["learn"]
                    else:
                        w *= 1 - p["forget"] if z else p["forget"]
                correct = (1 - p["slip"]) if z else p["guess"]
                w *= correct if o else 1 - correct
            paths.append(path)
            weights.append(w)
        total = sum(weights)
        for path, w in zip(paths, weights, strict=True):
            q = w / total
            counts["n_seq"] += q
            counts["first_known"] += q * path[0]
            for t, (z, o) in enumerate(zip(path, obs, strict=True)):
                counts["g1" if z else "g0"] += q
                if z:
                    counts["g1no"] += q * (1 - o)
                else:
                    counts["g0o"] += q * o
                if t + 1 < len(obs):
                    nxt = path[t + 1]
                    if z == 0:
                        counts["from0"] += q
                        counts["xi01"] += q * nxt
                    else:
                        counts["from1"] += q
                        counts["xi10"] += q * (1 - nxt)
    return {
        "prior": counts["first_known"] / counts["n_seq"],
        "learn": counts["xi01"] / counts["from0"],
        "forget": counts["xi10"] / counts["from1"],
        "guess": counts["g0o"] / counts["g0"],
        "slip": counts["g1no"] / counts["g1"],
    }


@pytest.mark.parametrize("device", ENGINES)
def test_one_em_iteration_equals_brute_force_expectation(device):
    sequences = [[1, 0, 1, 1], [0, 0, 1], [1, 1], [0, 1, 0, 1]]
    learners, items, times, outcomes = [], [], [], []
    for n, seq in enumerate(sequences):
        for t, o in enumerate(seq):
            learners.append(f"s{n}")
            items.append("k")
            times.append(float(t))
            outcomes.append(float(o))
    log = EventLog(learners, items, times, outcomes)
    model = BKT(init=HAND, max_iter=1, device=device).fit(log)
    expected = _brute_force_em_step(sequences, HAND)
    assert model.params("k") == pytest.approx(expected, abs=1e-9)


def test_em_never_decreases_the_likelihood():
    rng = np.random.default_rng(3)
    log = simulate_bkt({"k": dict(HAND)}, 40, 12, rng)
    likelihoods = [BKT(init=HAND, max_iter=i).fit(log).log_likelihood_ for i in range(0, 12)]
    assert all(b >= a - 1e-9 for a, b in zip(likelihoods, likelihoods[1:], strict=False))
    assert likelihoods[-1] > likelihoods[0]


def simulate_bkt(params_by_skill, n_seq, length, rng):
    """Answers drawn from the BKT generative model with the given parameters."""
    logs = []
    for skill, p in params_by_skill.items():
        known = rng.random(n_seq) < p["prior"]
        answers = np.empty((n_seq, length))
        for t in range(length):
            answers[:, t] = rng.random(n_seq) < np.where(known, 1 - p["slip"], p["guess"])
            u = rng.random(n_seq)
            known = np.where(known, u >= p["forget"], u < p["learn"])
        learners = np.repeat([f"{skill}-{n}" for n in range(n_seq)], length)
        times = np.tile(np.arange(length, dtype=float), n_seq)
        logs.append(EventLog(learners, np.full(n_seq * length, skill), times, answers.ravel()))
    return EventLog.concat(logs)


def test_bkt_recovers_known_parameters():
    """Tolerance: 0.03 on every parameter with 1,000 sequences of 30 answers per skill
    (sampling error of each estimate is about 0.01 at this size)."""
    true = {
        "a": dict(prior=0.3, learn=0.15, forget=0.05, guess=0.2, slip=0.1),
        "b": dict(prior=0.6, learn=0.05, forget=0.02, guess=0.3, slip=0.15),
    }
    log = simulate_bkt(true, 1000, 30, np.random.default_rng(0))
    model = BKT().fit(log)
    for skill, params in true.items():
        assert model.params(skill) == pytest.approx(params, abs=0.03)


def test_bkt_without_forgetting_keeps_forget_at_zero():
    log = simulate_bkt({"k": dict(HAND)}, 50, 10, np.random.default_rng(1))
    model = BKT(forgets=False).fit(log)
    assert model.params("k")["forget"] == 0.0


def test_bkt_multi_skill_item_is_the_product_of_its_skills():
    domain = Domain([Item("x", ("a", "b")), Item("ya", ("a",)), Item("yb", ("b",))])
    model = BKT(domain, init=HAND)
    # Both skills at the prior: P = .445 each, the item needs both: .445^2.
    assert model.predict("ada", ["x", "ya"]) == pytest.approx([0.445**2, 0.445])
    model.update(EventLog(["ada"], ["x"], [0.0], [1.0]))
    mastery = model.state("ada")["mastery"]
    assert mastery["a"] == pytest.approx(0.624719, abs=1e-6)
    assert mastery["b"] == pytest.approx(0.624719, abs=1e-6)


def test_bkt_fit_leaves_learners_where_their_last_answer_left_them():
    log = one_sequence([1.0, 0.0, 1.0])
    model = BKT(init=HAND, max_iter=0).fit(log)
    assert model.state("ada")["mastery"]["add"] == pytest.approx(0.645487, abs=1e-6)
    assert model.state("newcomer")["mastery"]["add"] == pytest.approx(0.3)


# --------------------------------------------------------------------- BKT variants

ITEMS = Domain([Item("a", ("k",)), Item("b", ("k",)), Item("c", ("k",))])


def variant_model(item_params, forget=0.1, **options):
    """A BKT over skill "k" with the HAND parameters and per-item guess, slip,
    learn and forget from ``item_params`` (restored from a saved state)."""
    pairs = sorted(item_params)
    state = {
        "skills": ["k"],
        **{name: [HAND[name]] for name in ("prior", "learn", "guess", "slip")},
        "forget": [forget],
        "pairs": [["k", item] for item in pairs],
        "knowledge": [],
    }
    for name in ("guess", "slip", "learn", "forget"):
        state[f"item_{name}"] = [item_params[item].get(name, HAND[name]) for item in pairs]
    saved = {"kind": "bkt", "version": 1, "params": options, "domain": None, "state": state}
    return BKT.from_state_dict(saved, domain=ITEMS)


def test_bkt_per_item_guess_slip_forward_pass_matches_hand_computation():
    # KT-IDEM: item a has guess .25, slip .1; item b guess .4, slip .05; prior .3,
    # learn .2, forget .1. Answers a:1, b:0, a:1.
    # Step 1 (a): P(c) = .3*.9 + .7*.25 = .445; posterior = .27/.445 = .606742;
    #             next = .606742*.9 + .393258*.2 = .624719
    # Step 2 (b): P(c) = .624719*.95 + .375281*.4 = .743596; wrong, so
    #             posterior = .031236 / (.031236 + .375281*.6) = .121823;
    #             next = .121823*.9 + .878177*.2 = .285276
    # Step 3 (a): P(c) = .285276*.9 + .714724*.25 = .435429; correct, so
    #             posterior = .256748/.435429 = .589644, next = .612751
    model = variant_model({"a": {}, "b": {"guess": 0.4, "slip": 0.05}}, multigs=True)
    assert model.params("k", "b")["guess"] == 0.4
    log = EventLog(["ada"] * 3, ["a", "b", "a"], [0.0, 1.0, 2.0], [1.0, 0.0, 1.0])
    expected = [0.445, 0.743596, 0.435429]
    assert model.predict_log(log) == pytest.approx(expected, abs=1e-6)
    online = []
    for event in log:
        online.append(model.predict("ada", [event.item])[0])
        model.update(EventLog([event.learner], [event.item], [event.time], [event.outcome]))
    assert online == pytest.approx(expected, abs=1e-6)
    assert model.state("ada")["mastery"]["k"] == pytest.approx(0.612751, abs=1e-6)
    # an item never fitted (c) uses the skill's guess and slip
    assert model.predict("new", ["c"])[0] == pytest.approx(0.445)


def _enumerate_em_step(sequences, p, multigs, multilearn, multiprior, forgets):
    """One Baum-Welch step by enumerating every hidden path of every sequence.

    ``sequences`` are lists of (item, outcome); ``p`` maps each item to its
    guess, slip, learn and forget and each prior class (first answer) to a
    prior. Returns the new parameters per item (guess/slip/learn/forget),
    per class (prior) and pooled over the skill (key None).
    """
    counts: dict = {}

    def add(name, cls, num, den):
        for key in (cls, None):
            entry = counts.setdefault((name, key), [0.0, 0.0])
            entry[0] += num
            entry[1] += den

    for seq in sequences:
        cls = seq[0][1] if multiprior else None
        prior = p["prior"][cls]
        paths = []
        for path in itertools.product([0, 1], repeat=len(seq)):
            w = prior if path[0] else 1 - prior
            for t, (z, (item, o)) in enumerate(zip(path, seq, strict=True)):
                if t:
                    before = seq[t - 1][0]
                    learn, forget = p[before]["learn"], p[before]["forget"] if forgets else 0.0
                    w *= (
                        (learn if z else 1 - learn)
                        if path[t - 1] == 0
                        else (1 - forget if z else forget)
                    )
                correct = 1 - p[item]["slip"] if z else p[item]["guess"]
                w *= correct if o else 1 - correct
            paths.append((path, w))
        total = sum(w for _, w in paths)
        for path, w in paths:
            q = w / total
            add("prior", cls, q * path[0], q)
            for t, (z, (item, o)) in enumerate(zip(path, seq, strict=True)):
                gs = item if multigs else "k"
                add("guess", gs, q * (1 - z) * o, q * (1 - z))
                add("slip", gs, q * z * (1 - o), q * z)
                if t + 1 < len(seq):
                    tr = item if multilearn else "k"
                    nxt = path[t + 1]
                    add("learn", tr, q * (1 - z) * nxt, q * (1 - z))
                    add("forget", tr, q * z * (1 - nxt), q * z)
    return {key: num / den for key, (num, den) in counts.items()}


VARIANT_SEQUENCES = [
    [("a", 1), ("b", 0), ("a", 1), ("c", 1)],
    [("b", 0), ("b", 0), ("c", 1)],
    [("c", 1), ("a", 1)],
    [("a", 0), ("c", 1), ("b", 0), ("a", 1), ("b", 1)],
    [("b", 1), ("a", 0), ("c", 0)],
    [("c", 0)],
]


@pytest.mark.parametrize(
    "options",
    [
        {"multigs": True},
        {"multilearn": True},
        {"multiprior": True},
        {"multigs": True, "multilearn": True, "multiprior": True},
        {"multigs": True, "multilearn": True, "forgets": False},
    ],
    ids=["multigs", "multilearn", "multiprior", "all", "all-no-forgets"],
)
@pytest.mark.parametrize("device", ENGINES)
def test_one_em_iteration_of_each_variant_equals_enumeration(options, device):
    learners, items, times, outcomes = [], [], [], []
    for n, seq in enumerate(VARIANT_SEQUENCES):
        for t, (item, o) in enumerate(seq):
            learners.append(f"s{n}")
            items.append(item)
            times.append(float(t))
            outcomes.append(float(o))
    log = EventLog(learners, items, times, outcomes)
    forgets = options.get("forgets", True)
    init = dict(HAND) if forgets else {**HAND, "forget": 0.0}
    flags = [
        options.get("multigs", False),
        options.get("multilearn", False),
        bool(options.get("multiprior", False)),
        forgets,
    ]
    # two iterations, so that the second starts from parameters that differ by item
    model = BKT(ITEMS, init=init, max_iter=2, device=device, **options).fit(log)
    p = {item: dict(init) for item in "abc"}
    p["prior"] = {None: init["prior"], 0: init["prior"], 1: init["prior"]}
    first = _enumerate_em_step(VARIANT_SEQUENCES, p, *flags)
    for item in "abc":
        for name, own in (("guess", 0), ("slip", 0), ("learn", 1), ("forget", 1)):
            if name == "forget" and not forgets:
                continue
            key = (name, item) if flags[own] and (name, item) in first else (name, None)
            p[item][name] = first.get(key, p[item][name])
    for cls in (None, 0, 1):
        p["prior"][cls] = first[("prior", cls if flags[2] else None)]
    expected = _enumerate_em_step(VARIANT_SEQUENCES, p, *flags)
    assert len({p[item]["guess"] for item in "abc"}) == (3 if flags[0] else 1)
    pooled = model.params("k")
    for name in ("prior", "guess", "slip", "learn") + (("forget",) if forgets else ()):
        assert pooled[name] == pytest.approx(expected[(name, None)], abs=1e-9), name
    if not forgets:
        assert pooled["forget"] == 0.0
    for item in "abc":
        own = model.params("k", item)
        if options.get("multigs"):
            assert own["guess"] == pytest.approx(expected[("guess", item)], abs=1e-9)
            assert own["slip"] == pytest.approx(expected[("slip", item)], abs=1e-9)
        if options.get("multilearn") and ("learn", item) in expected:
            assert own["learn"] == pytest.approx(expected[("learn", item)], abs=1e-9)
            if forgets:
                assert own["forget"] == pytest.approx(expected[("forget", item)], abs=1e-9)
    if options.get("multiprior"):
        for cls in (0, 1):
            assert model.class_prior("k", cls) == pytest.approx(expected[("prior", cls)], abs=1e-9)


def test_variant_em_never_decreases_the_likelihood_and_beats_plain_bkt():
    rng = np.random.default_rng(5)
    log = simulate_items(ITEM_TRUTH, 150, 12, rng)
    likelihoods = [
        BKT(ITEMS, multigs=True, multilearn=True, multiprior=True, max_iter=i)
        .fit(log)
        .log_likelihood_
        for i in range(0, 10)
    ]
    assert all(b >= a - 1e-9 for a, b in zip(likelihoods, likelihoods[1:], strict=False))
    plain = BKT(ITEMS, max_iter=9).fit(log).log_likelihood_
    assert likelihoods[-1] > plain


ITEM_TRUTH = {
    "prior": 0.25,
    "learn": 0.12,
    "forget": 0.02,
    "items": {"a": (0.1, 0.05), "b": (0.3, 0.15), "c": (0.45, 0.25)},  # guess, slip
}


def simulate_items(truth, n_seq, length, rng, prefix="s"):
    """Answers from a KT-IDEM model of skill "k": items drawn at random, each
    with its own guess and slip."""
    names = sorted(truth["items"])
    guess = np.array([truth["items"][i][0] for i in names])
    slip = np.array([truth["items"][i][1] for i in names])
    known = rng.random(n_seq) < truth["prior"]
    items = rng.integers(0, len(names), size=(n_seq, length))
    answers = np.empty((n_seq, length))
    for t in range(length):
        i = items[:, t]
        answers[:, t] = rng.random(n_seq) < np.where(known, 1 - slip[i], guess[i])
        u = rng.random(n_seq)
        known = np.where(known, u >= truth["forget"], u < truth["learn"])
    learners = np.repeat([f"{prefix}{n}" for n in range(n_seq)], length)
    times = np.tile(np.arange(length, dtype=float), n_seq)
    return EventLog(learners, np.array(names)[items.ravel()], times, answers.ravel())


def test_multigs_recovers_item_guess_and_slip():
    """Tolerance: 0.03 on every parameter, with 3,000 sequences of 20 answers
    (about 20,000 answers per item; sampling error of each estimate is about 0.01)."""
    log = simulate_items(ITEM_TRUTH, 3000, 20, np.random.default_rng(0))
    model = BKT(ITEMS, multigs=True).fit(log)
    for item, (guess, slip) in ITEM_TRUTH["items"].items():
        fitted = model.params("k", item)
        assert fitted["guess"] == pytest.approx(guess, abs=0.03), item
        assert fitted["slip"] == pytest.approx(slip, abs=0.03), item
    skill = model.params("k")
    for name in ("prior", "learn", "forget"):
        assert skill[name] == pytest.approx(ITEM_TRUTH[name], abs=0.03), name


@pytest.mark.parametrize(
    "options",
    [{"multigs": True}, {"multilearn": True}, {"multiprior": True}, {"multiprior": "group"}],
)
def test_variant_batch_prediction_equals_online_updates(options):
    rng = np.random.default_rng(2)
    log = simulate_items(ITEM_TRUTH, 30, 6, rng)
    log.extra["group"] = np.array([hash(learner) % 3 for learner in log.learner.tolist()])
    model = BKT(ITEMS, max_iter=20, **options).fit(log[: len(log) // 2])
    test = log[len(log) // 2 :]
    batch = model.predict_log(test)
    online = []
    for i in np.argsort(test.time, kind="stable").tolist():
        event = test[int(i)]
        online.append((int(i), model.predict(event.learner[0], [event.item[0]])[0]))
        model.update(event)
    assert batch[[i for i, _ in online]] == pytest.approx([p for _, p in online], abs=1e-9)


def test_multiprior_uses_the_class_of_the_first_answer_after_it():
    log = EventLog(["u"] * 4 + ["v"] * 4, ["a"] * 8, [0, 1, 2, 3] * 2, [1, 1, 1, 1, 0, 0, 0, 1])
    model = BKT(ITEMS, multiprior=True, max_iter=50).fit(log)
    assert model.class_prior("k", 1) > model.class_prior("k", 0)
    pooled = model.params("k")["prior"]
    assert min(model.class_prior("k", c) for c in (0, 1)) <= pooled
    assert pooled <= max(model.class_prior("k", c) for c in (0, 1))
    # before the first answer the class is unknown: the pooled prior predicts it
    p = model.params("k")
    assert model.predict("new", ["a"])[0] == pytest.approx(
        pooled * (1 - p["slip"]) + (1 - pooled) * p["guess"]
    )
    with pytest.raises(DataError, match="missing"):
        BKT(ITEMS, multiprior="group").fit(log)


def test_variant_state_round_trips_through_json():
    rng = np.random.default_rng(4)
    log = simulate_items(ITEM_TRUTH, 40, 8, rng)
    model = BKT(ITEMS, multigs=True, multilearn=True, multiprior=True, max_iter=15).fit(log)
    saved = json.loads(json.dumps(model.state_dict()))
    assert saved["params"]["multigs"] is True and len(saved["state"]["pairs"]) == 3
    restored = model_from_state(saved)
    for item in "abc":
        assert restored.params("k", item) == model.params("k", item)
    assert restored.class_prior("k", 1) == model.class_prior("k", 1)
    assert restored.log_likelihood_ == model.log_likelihood_
    new = EventLog(["s0", "x", "x"], ["a", "b", "c"], [100.0, 0.0, 1.0], [1.0, 0.0, 1.0])
    assert restored.predict_log(new) == pytest.approx(model.predict_log(new))
    for learner in ("s0", "s1", "new"):
        assert restored.predict(learner, ["a", "b", "c"]) == pytest.approx(
            model.predict(learner, ["a", "b", "c"])
        )
        assert restored.state(learner) == model.state(learner)
    restored.update(new)
    model.update(new)
    assert restored.state("x") == model.state("x")
    broken = json.loads(json.dumps(saved))
    broken["state"]["item_slip"] = [0.1]
    with pytest.raises(StateError, match="item_slip"):
        BKT.from_state_dict(broken)


def test_chain_scan_of_the_deep_tail_equals_the_step_by_step_passes(monkeypatch):
    """Long sequences of a few learners end the prefix tree in single-child
    chains, which EM scans in log depth; the result must equal one step per depth."""
    import mentor.students.bkt_em as bkt_module

    rng = np.random.default_rng(7)
    log = EventLog.concat(
        [simulate_items(ITEM_TRUTH, 60, 8, rng), simulate_items(ITEM_TRUTH, 3, 120, rng, "long")]
    )
    options = {"multigs": True, "multilearn": True, "multiprior": True, "max_iter": 6}
    scanned = []
    original = bkt_module.Chains.__init__

    def spy(self, *args):
        scanned.append(True)
        original(self, *args)

    monkeypatch.setattr(bkt_module.Chains, "__init__", spy)
    with_chains = BKT(ITEMS, **options).fit(log)
    assert scanned
    monkeypatch.setattr(bkt_module, "CHAIN_DEPTH", 10**9)
    step_by_step = BKT(ITEMS, **options).fit(log)
    assert len(scanned) == 1
    assert with_chains.log_likelihood_ == pytest.approx(step_by_step.log_likelihood_, rel=1e-12)
    for item in "abc":
        assert with_chains.params("k", item) == pytest.approx(
            step_by_step.params("k", item), abs=1e-12
        )
    for learner in ("s0", "long2"):
        assert with_chains.state(learner)["mastery"]["k"] == pytest.approx(
            step_by_step.state(learner)["mastery"]["k"], abs=1e-12
        )


def test_negative_tolerance_runs_every_iteration():
    log = simulate_bkt({"k": dict(HAND)}, 20, 5, np.random.default_rng(0))
    assert BKT(max_iter=7, tol=-1).fit(log).n_iter_ == 7


# --------------------------------------------------------------------- Elo


def test_elo_updates_match_hand_computation():
    model = Elo()
    # theta=0, b=0: p=.5, correct: e=.5, K(0)=1 -> theta=.5, b(q1)=-.5
    model.update(EventLog(["ada"], ["q1"], [0.0], [1.0]))
    assert model.ability_["ada"] == pytest.approx(0.5)
    assert model.difficulty_["q1"] == pytest.approx(-0.5)
    # q2 new (b=0): p = sigmoid(.5) = .622459; wrong: e = -.622459;
    # K(1) = 1/1.05 -> theta = .5 - .592818 = -.092818; b(q2) = +.622459
    assert model.predict("ada", ["q2"])[0] == pytest.approx(0.622459, abs=1e-6)
    model.update(EventLog(["ada"], ["q2"], [1.0], [0.0]))
    assert model.ability_["ada"] == pytest.approx(-0.092818, abs=1e-6)
    assert model.difficulty_["q2"] == pytest.approx(0.622459, abs=1e-6)


def test_elo_skill_ability_moves_only_the_practised_skill():
    domain = Domain([Item("a1", ("a",)), Item("b1", ("b",))])
    model = Elo(domain, skill_ability=True)
    model.update(EventLog(["ada"], ["a1"], [0.0], [1.0]))
    # logit 0 -> e = .5; theta, theta_a += .5; b(a1) -= .5
    assert model.skill_ability_[("ada", "a")] == pytest.approx(0.5)
    assert ("ada", "b") not in model.skill_ability_
    p_a, p_b = model.predict("ada", ["a1", "b1"])
    assert p_a == pytest.approx(1 / (1 + math.exp(-1.5)))
    assert p_b == pytest.approx(1 / (1 + math.exp(-0.5)))


# --------------------------------------------------------------------- shared contract

small_logs = st.lists(
    st.tuples(
        st.sampled_from(["ann", "bob", "cy"]),
        st.sampled_from(["i1", "i2", "i3"]),
        st.floats(0, 1, allow_nan=False),
    ),
    min_size=1,
    max_size=40,
)


def as_log(rows):
    learners, items, outcomes = zip(*rows, strict=True)
    return EventLog(list(learners), list(items), np.arange(len(rows), dtype=float), list(outcomes))


@pytest.mark.parametrize("name", ["bkt", "elo"])
@settings(max_examples=40, deadline=None)
@given(rows=small_logs)
def test_predictions_are_probabilities_and_batch_equals_online(name, rows):
    log = as_log(rows)
    model = create_model(name)
    batch = model.predict_log(log)
    assert np.all((batch >= 0) & (batch <= 1))
    online = []
    for event in log:
        online.append(model.predict(event.learner, [event.item])[0])
        model.update(EventLog([event.learner], [event.item], [event.time], [event.outcome]))
    assert batch == pytest.approx(online, abs=1e-9)


@pytest.mark.parametrize("name", ["bkt", "elo"])
def test_state_round_trips_through_json(name):
    domain = Domain([Item("x", ("a",), 0.3), Item("y", ("a", "b"), 0.6)])
    log = EventLog(["u", "u", "v", "v"], ["x", "y", "x", "y"], [0, 1, 0, 1], [1, 0, 1, 1])
    model = create_model(name, domain=domain).fit(log)
    restored = model_from_state(json.loads(json.dumps(model.state_dict())))
    for learner in ("u", "v", "new"):
        assert restored.predict(learner, ["x", "y"]) == pytest.approx(
            model.predict(learner, ["x", "y"])
        )
        assert restored.state(learner) == model.state(learner)


def test_corrupt_or_foreign_state_is_rejected():
    state = BKT().fit(one_sequence([1.0, 0.0])).state_dict()
    with pytest.raises(StateError, match="kind 'bkt', expected 'elo'"):
        Elo.from_state_dict(state)
    broken = json.loads(json.dumps(state))
    broken["state"]["slip"] = [1.5]
    with pytest.raises(StateError, match="slip"):
        BKT.from_state_dict(broken)
    with pytest.raises(StateError):
        model_from_state({"kind": "pickle"})


def test_unknown_model_name_is_a_mentor_error():
    with pytest.raises(UnknownIdError, match=r"choose one of akt, bkt, .*elo"):
        create_model("dkt-9000")


def simulate_item_learning(learn, n_seq, length, rng, priors=(0.25, 0.25)):
    """Answers from BKT on skill "k" with a learn rate per item (applied after an
    attempt at it, as multilearn models it); even learners start known with
    probability ``priors[0]``, odd ones ``priors[1]`` (their extra column ``group``)."""
    names = sorted(learn)
    rate = np.array([learn[i] for i in names])
    group = np.arange(n_seq) % 2
    known = rng.random(n_seq) < np.asarray(priors)[group]
    items = rng.integers(0, len(names), size=(n_seq, length))
    answers = np.empty((n_seq, length))
    for t in range(length):
        answers[:, t] = rng.random(n_seq) < np.where(known, 0.9, 0.2)  # slip 0.1, guess 0.2
        u = rng.random(n_seq)
        known = np.where(known, u >= 0.02, u < rate[items[:, t]])
    learners = np.repeat([f"s{n}" for n in range(n_seq)], length)
    times = np.tile(np.arange(length, dtype=float), n_seq)
    log = EventLog(learners, np.array(names)[items.ravel()], times, answers.ravel())
    log.extra["group"] = np.repeat(group, length).astype(float)
    return log


def test_multilearn_recovers_item_learn_rates():
    """Tolerance 0.04: over 6 simulated seeds of this size the estimates' standard
    deviation was 0.006-0.009 and the largest error 0.018."""
    learn = {"a": 0.05, "b": 0.2, "c": 0.4}
    log = simulate_item_learning(learn, 3000, 20, np.random.default_rng(0))
    model = BKT(ITEMS, multilearn=True).fit(log)
    for item, rate in learn.items():
        assert model.params("k", item)["learn"] == pytest.approx(rate, abs=0.04), item


def test_multiprior_recovers_the_prior_of_each_group():
    """Tolerance 0.06: over 6 simulated seeds of this size the estimates' standard
    deviation was 0.015 and the largest error 0.025."""
    log = simulate_item_learning(
        {"a": 0.05, "b": 0.2, "c": 0.4}, 3000, 20, np.random.default_rng(1), (0.1, 0.6)
    )
    model = BKT(ITEMS, multiprior="group").fit(log)
    assert model.class_prior("k", 0.0) == pytest.approx(0.1, abs=0.06)
    assert model.class_prior("k", 1.0) == pytest.approx(0.6, abs=0.06)
