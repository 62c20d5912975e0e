"""Model-based teaching: BKT's look-ahead, the ExpectedGain teacher, the ACT-R simulator."""

import json
import math
from datetime import UTC, datetime

import numpy as np
import pytest
from fsrs import Card, Rating, Scheduler

from mentor import Domain, Engine, Event, Item
from mentor.errors import MentorError, ParameterError
from mentor.sim import ActivationParams, ActivationPopulation, ModelPopulation
from mentor.students import BKT, IRT
from mentor.teachers import ExpectedGain, teacher_from_state


def course() -> Domain:
    """Skills a -> b, two levels each."""
    items = [Item(f"{s}{lvl}", (s,), difficulty=0.3 * lvl) for s in "ab" for lvl in (1, 2)]
    return Domain(items, prerequisites=[("a", "b")])


def test_bkt_lookahead_matches_hand_computation():
    # defaults: prior .4, learn .1, guess .2, slip .1, no forgetting
    model = BKT(course(), forgets=False)
    ahead = model.lookahead("ada", ["a1"])
    assert ahead.p_success[0] == pytest.approx(0.4 * 0.9 + 0.6 * 0.2)  # .48
    assert ahead.mastery[0] == pytest.approx(0.4)
    assert ahead.if_correct[0] == pytest.approx(0.36 / 0.48 + (1 - 0.36 / 0.48) * 0.1)  # .775
    assert ahead.if_wrong[0] == pytest.approx(0.04 / 0.52 + (1 - 0.04 / 0.52) * 0.1)
    # the posterior is a martingale: the expected gain is (1 - P(L)) learn
    assert ahead.expected_gain[0] == pytest.approx(0.6 * 0.1)
    # and the simulated step is the one update() takes
    model.update(_log("ada", "a1", 1))
    assert model.knowledge("ada", "a") == pytest.approx(ahead.if_correct[0])


def _log(learner, item, outcome, time=0.0):
    from mentor.events import EventLog

    return EventLog([learner], [item], [time], [float(outcome)])


def test_bkt_item_grain_traces_items_and_reports_skill_means():
    model = BKT(course(), grain="item", forgets=False)
    model.update(_log("ada", "a1", 1))
    assert model.knowledge("ada", "a1") == pytest.approx(0.775)
    assert model.knowledge("ada", "a2") == pytest.approx(0.4)  # untouched: its own component
    state = model.state("ada")
    assert state["items"]["a1"] == pytest.approx(0.775)
    assert state["mastery"]["a"] == pytest.approx(0.775 * 0.4)  # P(both levels known)
    assert state["mastery"]["b"] == pytest.approx(0.4 * 0.4)
    restored = BKT.from_state_dict(model.state_dict())
    assert restored.grain == "item"
    assert restored.knowledge("ada", "a1") == pytest.approx(0.775)
    with pytest.raises(ParameterError):
        BKT(grain="level")


#: One level at a time, a skill finished before the next starts: the rule the
#: hand-computed sequences below follow (the defaults interleave; tested apart).
DEPTH_FIRST = {"objective": "skill", "open_threshold": None}


def play(engine, learner, answers, start=0):
    """The learner answers the engine's next item with each outcome in turn."""
    chosen = []
    for n, outcome in enumerate(answers):
        item = engine.next(learner, t=start + n)[0]
        chosen.append((item, engine.teacher.last_choices_[0].kind))
        engine.record([Event(learner, item, time=start + n, outcome=float(outcome))])
    return chosen


def test_expected_gain_opens_levels_in_order_and_moves_on_once_mastered():
    domain = course()
    teacher = ExpectedGain(domain, seed=0, **DEPTH_FIRST)
    engine = Engine(domain, BKT(domain, grain="item", forgets=False), teacher)
    # P(known a1): .4 -> .775 -> .945 -> .989: three right answers master it (>= .95)
    chosen = play(engine, "ada", [1, 1, 1, 1, 1, 1])
    assert [item for item, _ in chosen] == ["a1", "a1", "a1", "a2", "a2", "a2"]
    assert all(kind == "learn" for _, kind in chosen)
    # b opens only once a's hardest level is mastered
    assert engine.next("ada", t=6) == ["b1"]
    first = engine.teacher.last_choices_[0]
    assert first.gain == pytest.approx(0.06) and first.mastery == pytest.approx(0.4)


def test_expected_gain_steps_back_after_three_failures_then_returns():
    domain = course()
    engine = Engine(
        domain,
        BKT(domain, grain="item", forgets=False),
        ExpectedGain(domain, seed=0, **DEPTH_FIRST),
    )
    play(engine, "ada", [1, 1, 1])  # a1 mastered
    chosen = play(engine, "ada", [0, 0, 0, 1, 1], start=3)
    assert chosen[:3] == [("a2", "learn")] * 3
    assert chosen[3] == ("a1", "step_back")  # not a2 a fourth time
    assert chosen[4] == ("a2", "learn")
    # the step back is saved with the teacher: a restored engine makes the same choice
    play(engine, "ada", [0, 0, 0], start=8)
    state = engine.teacher.state_dict()
    again = teacher_from_state(state, domain=domain)
    assert again.failures_ == engine.teacher.failures_
    assert engine.next("ada", t=11) == again.select("ada", domain.item_ids, 1, 11, engine.model)
    assert engine.teacher.last_choices_[0].kind == "step_back"


def test_expected_gain_brings_mastered_items_back_only_when_fsrs_says_they_are_due():
    domain = course()
    engine = Engine(
        domain,
        BKT(domain, grain="item", forgets=False),
        ExpectedGain(domain, seed=0, **DEPTH_FIRST),
    )
    play(engine, "ada", [1] * 12)  # every item mastered after three right answers each
    mastery = engine.model.state("ada")["items"]
    assert min(mastery.values()) >= 0.95
    # seconds later nothing is due: the least-mastered item is revisited
    engine.next("ada", t=12)
    assert engine.teacher.last_choices_[0].kind == "revisit"
    # the due dates are FSRS's own for the same reviews (times in seconds, day = 86400)
    scheduler = Scheduler(desired_retention=0.9, enable_fuzzing=False)
    card = Card(card_id=1, due=datetime.fromtimestamp(0, UTC))
    for t in (0, 1, 2):
        card, _ = scheduler.review_card(card, Rating.Good, datetime.fromtimestamp(t, UTC))
    assert engine.teacher.due("ada", "a1") == pytest.approx(card.due.timestamp())
    assert card.due.timestamp() > 86400  # a day or more away
    later = card.due.timestamp() + 1.0
    engine.next("ada", t=later)
    review = engine.teacher.last_choices_[0]
    assert review.kind == "review" and review.item == "a1"  # the first one mastered is due first
    assert review.due == pytest.approx(card.due.timestamp())
    # without reviews the teacher never brings it back while something is open
    quiet = Engine(
        domain,
        BKT(domain, grain="item", forgets=False),
        ExpectedGain(domain, reviews=False, **DEPTH_FIRST),
    )
    play(quiet, "bo", [1] * 3)
    assert quiet.next("bo", t=later) == ["a2"]


def test_expected_gain_refuses_models_without_lookahead_and_bad_parameters():
    domain = course()
    with pytest.raises(MentorError, match="look ahead"):
        ExpectedGain(domain).select("ada", domain.item_ids, 1, 0.0, IRT(domain))
    with pytest.raises(ParameterError):
        ExpectedGain(domain, threshold=1.0)
    with pytest.raises(ParameterError):
        ExpectedGain(domain, step_back=-1)
    with pytest.raises(ParameterError):
        ExpectedGain(domain, step_back=True)


def test_activation_population_follows_the_activation_law():
    domain = Domain([Item("x", ("s",), difficulty=0.5)])
    params = ActivationParams(ability_spread=0.0)
    pop = ActivationPopulation(domain, 1, seed=0, params=params)
    assert np.isneginf(pop.activation()[0, 0])
    first = pop.attempt(np.array([0]))[0]
    w1 = 1.0 if first == 1.0 else params.failure_weight
    pop.advance(3.0)
    # one trace laid down with no memory: decay a = .177; age 3 -> (3 + 1) ** -a
    m = math.log(w1 * 4.0**-0.177)
    assert pop.activation()[0, 0] == pytest.approx(m)
    # the second trace's decay is c exp(m) + a, m the activation when it is laid down
    second = pop.attempt(np.array([0]))[0]
    w2 = 1.0 if second == 1.0 else params.failure_weight
    d2 = 0.217 * math.exp(m) + 0.177
    pop.advance(2.0)
    expected = math.log(w1 * 6.0**-0.177 + w2 * 3.0**-d2)
    assert pop.activation()[0, 0] == pytest.approx(expected)
    # the post-test is the logistic of (m - tau) / s, tau(.5) = 0 with the defaults
    assert pop.post_test()[0] == pytest.approx(1 / (1 + math.exp(-expected / 0.255)))
    # and a delay only lets traces age
    later = math.log(w1 * 106.0**-0.177 + w2 * 103.0**-d2)
    assert pop.post_test(100.0)[0] == pytest.approx(1 / (1 + math.exp(-later / 0.255)))


def test_activation_population_gates_learning_by_prerequisites():
    items = [Item("p", ("p",), difficulty=0.5), Item("c", ("c",), difficulty=0.5)]
    domain = Domain(items, prerequisites=[("p", "c")])
    pop = ActivationPopulation(domain, 200, seed=1, params=ActivationParams(ability_spread=0.0))
    pop.attempt(np.full(200, 1))  # everyone practises the child with no memory of the parent
    # the gate is sigmoid((-inf - tau_gate) / s) = 0: no trace strength at all
    assert np.all(np.isneginf(pop.activation()[:, 1]))


def test_model_population_draws_answers_from_the_fitted_model_and_updates_it():
    domain = course()
    model = BKT(domain, grain="item", forgets=False)  # default parameters: P(correct) .48
    pop = ModelPopulation(model, domain.item_ids, 3, seed=0)
    assert pop.post_test() == pytest.approx([0.48] * 3)
    outcomes = pop.attempt(np.array([0, 0, 0]))  # everyone tries a1
    for learner, outcome in zip(pop.learners, outcomes, strict=True):
        expected = 0.775 if outcome == 1.0 else 0.04 / 0.52 + (1 - 0.04 / 0.52) * 0.1
        assert model.knowledge(learner, "a1") == pytest.approx(expected)
    # the post-test averages the model's predictions over every item
    for n, learner in enumerate(pop.learners):
        p = model.knowledge(learner, "a1")
        assert pop.post_test()[n] == pytest.approx((p * 0.9 + (1 - p) * 0.2 + 3 * 0.48) / 4)
    # answers are drawn with the predicted probability: 2,000 draws at .48
    many = ModelPopulation(BKT(domain, grain="item"), domain.item_ids, 2000, seed=1)
    assert many.attempt(np.zeros(2000, dtype=int)).mean() == pytest.approx(0.48, abs=0.035)


def test_expected_gain_counts_gain_on_the_skill_the_map_shows():
    domain = course()
    model = BKT(domain, grain="item", forgets=False)
    model.update(_log("ada", "a1", 1))  # a1 .775, a2 .4
    ahead = model.lookahead("ada", ["a1", "a2"])
    # d(P(a1) P(a2)) / dP(a1) = P(a2) and the other way round
    assert ahead.skill_weight == pytest.approx([0.4, 0.775])
    assert ahead.expected_skill_gain == pytest.approx([0.225 * 0.1 * 0.4, 0.6 * 0.1 * 0.775])
    with pytest.raises(ParameterError):
        ExpectedGain(domain, objective="level")
    with pytest.raises(ParameterError):
        ExpectedGain(domain, open_threshold=0.99)  # above the mastery threshold


def test_by_default_the_next_level_opens_after_two_right_answers_and_new_items_come_first():
    domain = course()
    engine = Engine(domain, BKT(domain, grain="item", forgets=False), ExpectedGain(domain, seed=0))
    # two right answers put a1 at .945: open for a2 (>= .8), not mastered (< .95);
    # a2's gain (.6 x .1) beats a1's (.055 x .1), so the teacher moves on; once every
    # item is at .945 the third answers come, each item's gain .0055 (ties at random)
    chosen = play(engine, "ada", [1] * 12)
    assert [item for item, _ in chosen[:8]] == ["a1", "a1", "a2", "a2", "b1", "b1", "b2", "b2"]
    assert sorted(item for item, _ in chosen[8:]) == ["a1", "a2", "b1", "b2"]
    assert all(kind == "learn" for _, kind in chosen)
    items = engine.model.state("ada")["items"]
    assert all(p == pytest.approx(0.98861, abs=1e-5) for p in items.values())


def test_reviews_take_at_most_their_share_of_the_questions():
    domain = course()
    teacher = ExpectedGain(domain, review_share=0.1, seed=0, **DEPTH_FIRST)
    engine = Engine(domain, BKT(domain, grain="item", forgets=False), teacher)
    play(engine, "ada", [1] * 6)  # a1 and a2 mastered, both due in days
    later = teacher.due("ada", "a2") + 1.0
    # 6 questions answered so far; with 4 more, a tenth of 10 is 1 review at most
    chosen = engine.next("ada", k=4, t=later)
    kinds = [c.kind for c in teacher.last_choices_]
    assert kinds == ["review", "learn", "fallback", "revisit"]  # b1 open, b2 not yet, a2
    assert chosen[0] == "a1"  # due first
    again = Engine(
        domain,
        BKT(domain, grain="item", forgets=False),
        ExpectedGain(domain, seed=0, **DEPTH_FIRST),
    )
    play(again, "bo", [1] * 6)
    again.next("bo", k=4, t=later)  # the default share, one in five: 10 // 5 = 2 reviews
    assert [c.kind for c in again.teacher.last_choices_].count("review") == 2


def test_expected_gain_takes_any_time_without_failing():
    # FSRS dates are clamped to 1970..9899: a time in year 9999 or 1e300 (a unit mistake
    # the service refuses, but a library user may pass) still gives a choice
    domain = course()
    engine = Engine(domain, BKT(domain, grain="item", forgets=False), ExpectedGain(domain))
    for n, t in enumerate([0.0, 253402300799.0, 1e300]):
        item = engine.next("ada", t=t)[0]
        engine.record([Event("ada", item, time=t, outcome=1.0)])
        assert engine.teacher.due("ada", item) is not None, n


def test_an_item_with_nothing_before_it_goes_behind_other_work_after_three_failures():
    # two independent skills, no prerequisites: failing x three times sends the learner
    # to y, not to x a fourth time (there is no earlier item to step back to)
    domain = Domain([Item("x", ("x",), difficulty=0.5), Item("y", ("y",), difficulty=0.5)])
    engine = Engine(domain, BKT(domain, grain="item", forgets=False), ExpectedGain(domain, seed=3))
    first = engine.next("ada", t=0)[0]
    other = "y" if first == "x" else "x"
    engine.record([Event("ada", first, time=0, outcome=0.0)])
    # a failure lowers P(known) to .169 (gain .083 > .06 of the fresh item): asked again
    chosen = play(engine, "ada", [0, 0], start=1)
    assert [item for item, _ in chosen] == [first, first]
    assert engine.next("ada", t=3) == [other]


def test_choosing_changes_nothing_that_is_saved():
    # the service answers GET /next from a stored state: the same state and request
    # must give the same items, and choosing must not change what is saved
    from mentor.service.engines import select_items

    domain = course()
    engine = Engine(domain, BKT(domain, grain="item", forgets=False), ExpectedGain(domain))
    play(engine, "ada", [1, 1, 1, 1, 0, 1])
    before = json.dumps(engine.state_dict(), sort_keys=True)
    later = engine.teacher.due("ada", "a1") + 1.0
    first = [select_items(engine, "ada", 2, later, 7, 6) for _ in range(3)]
    assert first[0] == first[1] == first[2]
    assert json.dumps(engine.state_dict(), sort_keys=True) == before
    # duplicated candidates still give distinct items
    chosen = engine.next("ada", k=3, t=later, candidates=["a1", "a1", "b1"])
    assert sorted(chosen) == ["a1", "b1"]


def test_activation_decay_uses_the_whole_activation_with_the_student_offset():
    domain = Domain([Item("x", ("s",), difficulty=0.5)])
    pop = ActivationPopulation(domain, 1, seed=0)
    pop.ability[:] = 0.4  # beta_n
    first = pop.attempt(np.array([0]))[0]
    w1 = 1.0 if first == 1.0 else 0.5
    pop.advance(3.0)
    m = 0.4 + math.log(w1 * 4.0**-0.177)
    assert pop.activation()[0, 0] == pytest.approx(m)
    second = pop.attempt(np.array([0]))[0]
    w2 = 1.0 if second == 1.0 else 0.5
    d2 = 0.217 * math.exp(m) + 0.177  # Pavlik and Anderson: m includes beta
    pop.advance(2.0)
    assert pop.activation()[0, 0] == pytest.approx(0.4 + math.log(w1 * 6.0**-0.177 + w2 * 3.0**-d2))


def test_a_budget_moves_on_from_a_skill_once_it_has_had_its_share():
    domain = course()
    teacher = ExpectedGain(domain, budget=8, step_back=0, reviews=False, seed=0, **DEPTH_FIRST)
    engine = Engine(domain, BKT(domain, grain="item", forgets=False), teacher)
    # 8 questions over 2 skills: 4 each. Wrong answers keep a1 below the opening
    # mastery, so without a budget b would never open; with it, b opens after 4
    chosen = play(engine, "ada", [0] * 4)
    assert chosen == [("a1", "learn")] * 4
    assert engine.next("ada", t=4) == ["b1"]
    assert engine.teacher.last_choices_[0].kind == "learn"
    # once both skills have had their share, the least-mastered item comes back, named so
    play(engine, "ada", [0] * 4, start=4)
    item = engine.next("ada", t=8)[0]
    choice = engine.teacher.last_choices_[0]
    assert choice.kind == "spent"
    # the explanation says so, with the mastery the teacher chose by
    from mentor.service.web.explain import explain

    text = explain(engine, "ada", item, 8).text
    assert "had its share of this session's questions" in text
    assert f"({choice.mastery:.0%})" in text
    assert teacher_from_state(teacher.state_dict(), domain).attempts_ == {"ada": {"a": 4, "b": 4}}


def test_a_mastered_skill_leaves_its_unused_share_to_the_others():
    domain = course()
    teacher = ExpectedGain(domain, budget=14, step_back=0, reviews=False, seed=0, **DEPTH_FIRST)
    engine = Engine(domain, BKT(domain, grain="item", forgets=False), teacher)
    # a is mastered in 6 right answers (three per level), under its share of 14 / 2 = 7
    assert [i for i, _ in play(engine, "ada", [1] * 6)] == ["a1"] * 3 + ["a2"] * 3
    # b's share is what is left: 14 - 6 = 8 attempts, not 7
    chosen = play(engine, "ada", [0] * 9, start=6)
    assert chosen[:8] == [("b1", "learn")] * 8
    assert chosen[8][1] == "spent"
    with pytest.raises(ParameterError):
        ExpectedGain(domain, budget=0)
