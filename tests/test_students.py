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
from mentor.errors import StateError, UnknownIdError
from mentor.events import EventLog
from mentor.students import BKT, Elo, create_model, model_from_state

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


def test_one_em_iteration_equals_brute_force_expectation():
    sequences = [[1, 0, 1, 1], [0, 0, 1], [1, 1], [0, 1, 0, 1]]
    learners, items, times, outcomes = [], [], [], []
    for n, seq in enumerate(sequences):
        for t, o in enumerate(seq):
            learners.append(f"s{n}")
            items.append("k")
            times.append(float(t))
            outcomes.append(float(o))
    log = EventLog(learners, items, times, outcomes)
    model = BKT(init=HAND, max_iter=1).fit(log)
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
    with pytest.raises(UnknownIdError, match="bkt, elo"):
        create_model("dkt-9000")
