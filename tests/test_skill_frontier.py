"""SkillAbility (continuous ability per skill) and the SkillFrontier teacher, against
values computed by hand.

The course: skill A (items a1, difficulty .25, and a2, difficulty .75) is a
prerequisite of skill B (b1, .25, and b2, .75). The distinct difficulties .25 and .75
have mean .5 and standard deviation .25, so the two groups start at -1 and +1.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from mentor import Domain, EventLog, Item
from mentor.errors import MentorError
from mentor.students import BKT, SkillAbility, model_from_state
from mentor.teachers import SkillFrontier


def sigma(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def course() -> Domain:
    items = [
        Item("a1", ("A",), 0.25),
        Item("a2", ("A",), 0.75),
        Item("b1", ("B",), 0.25),
        Item("b2", ("B",), 0.75),
    ]
    return Domain(items, ["A", "B"], [("A", "B")])


def one(learner: str, item: str, outcome: float) -> EventLog:
    return EventLog([learner], [item], [0.0], [outcome])


def test_start_and_prediction() -> None:
    model = SkillAbility(course())
    assert model.difficulty("a1") == pytest.approx(-1.0)
    assert model.difficulty("b2") == pytest.approx(1.0)
    # x = 0 - (-1) = 1: P = .2 + .7 sigma(1)
    assert model.predict("ann", ["a1"])[0] == pytest.approx(0.2 + 0.7 * 0.7310585786300049)
    # a skill's mastery: its items' knowledge parts averaged, (sigma(1) + sigma(-1)) / 2
    assert model.state("ann")["mastery"]["A"] == pytest.approx(0.5)


def test_one_right_answer_by_hand() -> None:
    """x = 1, s = sigma(1) = .731059, P = .2 + .7 s = .711741, dP = .7 s (1 - s) =
    .137628; score dP / P = .193369, information dP^2 / (P (1 - P)) = .092323;
    v' = 1 / (1 + .092323) = .915480, mu' = v' x .193369 + .3 (learning) = .477025,
    variance after the drift .915480 + .1; the group .25 moves from -1 to
    -1 - 1 / (1 + 0) x .193369."""
    model = SkillAbility(course())
    model.update(one("ann", "a1", 1.0))
    mean, var = model.ability("ann", "A")
    assert mean == pytest.approx(0.47702506321194266, abs=1e-12)
    assert var == pytest.approx(1.0154799386549151, abs=1e-12)
    assert model.difficulty("a1") == pytest.approx(-1.1933685881440939, abs=1e-12)
    assert model.difficulty("b1") == model.difficulty("a1")  # pooled by difficulty
    assert model.ability("ann", "B") == (0.0, 1.0)  # another skill: the prior
    assert model.ability("bob", "A") == (0.0, 1.0)  # another learner: the prior


def test_lookahead_by_hand() -> None:
    """At the prior: after a right answer at a1 the belief is mu = .477025 (above),
    after a wrong one the score is -dP / (1 - P) = -.477447 and mu = .915480 x -.477447
    + .3 = -.137093; the look-ahead keeps the difficulty at -1."""
    model = SkillAbility(course())
    ahead = model.lookahead("ann", ["a1", "a2"])
    assert ahead.p_success[0] == pytest.approx(0.7117410050410033)
    assert ahead.mastery.tolist() == pytest.approx([sigma(1.0), sigma(-1.0)])
    assert ahead.if_correct[0] == pytest.approx(sigma(0.47702506321194266 + 1.0))
    assert ahead.if_wrong[0] == pytest.approx(sigma(-0.13709302610257662 + 1.0))
    # the practice alone: sigma(x + .3) - sigma(x)
    assert ahead.practice_gain is not None
    assert ahead.practice_gain.tolist() == pytest.approx(
        [0.054776404412553714, 0.06287080646183879]
    )
    # skill weight: mean_j sigma'(mu - b_j) / sigma'(x); both items have sigma' = .196612
    assert ahead.skill_weight is not None
    assert ahead.skill_weight.tolist() == pytest.approx([1.0, 1.0])
    assert ahead.expected_skill_practice_gain.tolist() == pytest.approx(
        [0.054776404412553714, 0.06287080646183879]
    )
    # the look-ahead changes nothing
    assert model.ability("ann", "A") == (0.0, 1.0)


def test_state_round_trip() -> None:
    domain = course()
    model = SkillAbility(domain)
    model.update(EventLog(["ann", "ann", "bob"], ["a1", "a2", "b2"], [0.0, 1.0, 2.0], [1, 0, 1]))
    copy = model_from_state(model.state_dict(), domain=domain)
    assert isinstance(copy, SkillAbility)
    items = ["a1", "a2", "b1", "b2"]
    assert np.array_equal(copy.predict("ann", items), model.predict("ann", items))
    assert copy.state("bob") == model.state("bob")


def test_frontier_opens_skills_when_prerequisites_are_known() -> None:
    """At the prior, A's items have the same edge weight 4 m (1 - m) (m = sigma(1) and
    sigma(-1)) and skill weight 1, so the larger practice gain, a2's (.062871 against
    .054776), decides; B is closed (A's hardest item is at sigma(-1) < .5)."""
    domain = course()
    model = SkillAbility(domain)
    teacher = SkillFrontier(domain, seed=0)
    assert teacher.select("ann", ["a1", "a2", "b1", "b2"], 1, 0.0, model) == ["a2"]
    assert teacher.last_choices_[0].kind == "learn"
    # only B's items offered, B closed: the least-mastered, as a fallback
    assert teacher.select("ann", ["b1", "b2"], 1, 0.0, model) == ["b2"]
    assert teacher.last_choices_[0].kind == "fallback"
    # right answers at a2 until A's hardest item is more likely known than not
    while model.lookahead("ann", ["a2"]).mastery[0] < 0.5:
        model.update(one("ann", "a2", 1.0))
    assert teacher.select("ann", ["a1", "a2", "b1", "b2"], 1, 0.0, model)[0] in {"b1", "b2"}


def test_frontier_needs_a_lookahead_model() -> None:
    domain = course()
    teacher = SkillFrontier(domain)
    with pytest.raises(MentorError):
        teacher.select("ann", ["a1"], 1, 0.0, None)
    bkt = BKT(domain)
    # BKT can look ahead: the teacher runs on it too (its expected gain is the practice gain)
    assert teacher.select("ann", ["a1", "a2"], 1, 0.0, bkt)[0] in {"a1", "a2"}


def test_frontier_steps_back_to_an_easier_level_after_three_failures() -> None:
    """At the prior the teacher asks a2 (above). Three wrong answers there: the learner is
    stuck at a2 (3 = step_back), and the only item before it is a1 (the easier level of
    A), so a1 comes next, as a step back; a right answer at a1 clears a2's count (a1 comes
    before a2) and the teacher goes back to the edge of A."""
    domain = course()
    model = SkillAbility(domain)
    teacher = SkillFrontier(domain, seed=0)
    items = ["a1", "a2", "b1", "b2"]
    for n in range(3):
        assert teacher.select("ann", items, 1, 0.0, model) == ["a2"]
        assert teacher.last_choices_[0].kind == "learn"
        model.update(one("ann", "a2", 0.0))
        teacher.observe(one("ann", "a2", 0.0))
        assert teacher.failures_ == {"ann": {"a2": n + 1}}
    assert teacher.select("ann", items, 1, 0.0, model) == ["a1"]
    choice = teacher.last_choices_[0]
    assert (choice.kind, choice.after, choice.failures) == ("step_back", "a2", 3)
    # another learner is not stuck (ann's failures moved the pooled difficulties, so
    # which of A's items bob is asked is not the point)
    assert teacher.select("bob", items, 1, 0.0, model)[0] in {"a1", "a2"}
    assert teacher.last_choices_[0].kind == "learn"
    model.update(one("ann", "a1", 1.0))
    teacher.observe(one("ann", "a1", 1.0))
    assert teacher.failures_ == {"ann": {}}
    assert teacher.select("ann", items, 1, 0.0, model)[0] in {"a1", "a2"}
    assert teacher.last_choices_[0].kind == "learn"


def flat_course() -> Domain:
    """Three skills of one item each, no prerequisites (as the DKT course of
    ``benchmarks/model_teaching.py``): x at difficulty .25 (start -1: mastery sigma(1) =
    .73 at the prior, known), y and z at .75 (start +1: sigma(-1) = .27, not known)."""
    return Domain(
        [Item("x", ("X",), 0.25), Item("y", ("Y",), 0.75), Item("z", ("Z",), 0.75)],
        ["X", "Y", "Z"],
        [],
    )


def test_frontier_sets_aside_an_item_with_nothing_before_it() -> None:
    """y and z tie at the prior (same group, same mastery); the seed's noise picks one.
    Three wrong answers at it: nothing comes before it, so it goes behind the other open
    item, which is asked next; three wrong answers there too, and the pool holds nothing
    the learner is not stuck at: the fallback is the least-mastered item the learner is not
    stuck at, x (known), not the failed items again. With ``step_back=0`` (the rule before)
    the teacher keeps asking the failed item."""
    domain = flat_course()
    items = ["x", "y", "z"]
    for step_back, expected in ((3, "x"), (0, None)):
        model = SkillAbility(domain)
        teacher = SkillFrontier(domain, step_back=step_back, seed=0)
        first = teacher.select("ann", items, 1, 0.0, model)[0]
        assert first in {"y", "z"}
        other = "z" if first == "y" else "y"
        for _ in range(3):
            model.update(one("ann", first, 0.0))
            teacher.observe(one("ann", first, 0.0))
        second = teacher.select("ann", items, 1, 0.0, model)[0]
        if step_back:
            assert second == other
            for _ in range(3):
                model.update(one("ann", other, 0.0))
                teacher.observe(one("ann", other, 0.0))
            assert teacher.select("ann", items, 1, 0.0, model) == [expected]
            assert teacher.last_choices_[0].kind == "fallback"
            assert teacher.failures_ == {"ann": {"y": 3, "z": 3}}
        else:
            # no count is kept, and x, known, is not asked while y or z is open
            assert second in {"y", "z"}
            assert teacher.last_choices_[0].kind == "learn"
            assert teacher.failures_ == {}


def test_frontier_failures_round_trip() -> None:
    domain = flat_course()
    teacher = SkillFrontier(domain, seed=0)
    teacher.observe(EventLog(["ann", "ann", "bob"], ["y", "y", "z"], [0.0, 1.0, 2.0], [0, 0, 1]))
    assert teacher.failures_ == {"ann": {"y": 2}, "bob": {}}
    copy = SkillFrontier(domain, seed=1)
    copy.load_state_dict(teacher.state_dict())
    assert copy.failures_ == teacher.failures_
    assert copy.get_params() == {"level": 0.5, "step_back": 3}
