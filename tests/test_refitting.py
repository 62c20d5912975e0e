"""Refitting: a student model refitted on the events it has seen, every so many."""

import numpy as np
import pytest

from mentor import Domain, Item
from mentor.errors import ParameterError
from mentor.events import EventLog
from mentor.sim import StudentPopulation, make_course, run_cohort
from mentor.students import BKT, IRT
from mentor.students.refitting import Refitting, shared_fit, shared_log
from mentor.teachers import ExpectedGain


def course() -> Domain:
    """Skills a -> b, two levels each."""
    items = [Item(f"{s}{lvl}", (s,), difficulty=0.3 * lvl) for s in "ab" for lvl in (1, 2)]
    return Domain(items, prerequisites=[("a", "b")])


def log_of(rows):
    learners, items, outcomes = zip(*rows, strict=True)
    return EventLog(list(learners), list(items), np.arange(len(rows), dtype=float), outcomes)


ROWS = [
    ("ada", "a1", 0.0),
    ("bo", "a1", 1.0),
    ("ada", "a1", 1.0),
    ("bo", "a2", 0.0),
    ("ada", "a2", 1.0),
    ("bo", "a2", 1.0),
    ("cy", "a1", 0.0),
    ("cy", "a1", 0.0),
]


def test_refits_every_n_events_on_exactly_the_events_seen():
    domain = course()
    model = Refitting(domain, BKT(domain, grain="item", forgets=False), every=4)
    log = log_of(ROWS)
    for i in range(3):
        model.update(log[i : i + 1])
    assert model.refits_ == 0
    # no refit yet: the online update at BKT's defaults
    assert model.model.params("a1") == pytest.approx(BKT(forgets=False).init)
    model.update(log[3:4])
    assert model.refits_ == 1 and model.fitted_at_ == 4
    reference = BKT(domain, grain="item", forgets=False).fit(log[:4])
    for item in ("a1", "a2"):
        assert model.model.params(item) == pytest.approx(reference.params(item))
    for learner in ("ada", "bo"):
        for item in ("a1", "a2"):
            assert model.model.knowledge(learner, item) == pytest.approx(
                reference.knowledge(learner, item)
            )
    model.update(log[4:7])  # 7 events: 3 since the refit, none yet
    assert model.refits_ == 1
    model.update(log[7:8])
    assert model.refits_ == 2 and model.fitted_at_ == 8
    assert np.array_equal(model.log_.item, log.item)
    assert np.array_equal(model.log_.outcome, log.outcome)
    reference = BKT(domain, grain="item", forgets=False).fit(log)
    assert model.model.params("a1") == pytest.approx(reference.params("a1"))
    assert model.model.knowledge("cy", "a1") == pytest.approx(reference.knowledge("cy", "a1"))


def test_shared_log_has_one_sequence_per_learner_and_item_of_one_component():
    pooled = shared_log(log_of(ROWS[:4]), course())
    assert pooled.learner.tolist() == ["ada\x1fa1", "bo\x1fa1", "ada\x1fa1", "bo\x1fa2"]
    assert pooled.item.tolist() == [0, 0, 0, 0]
    assert pooled.outcome.tolist() == [0.0, 1.0, 1.0, 0.0]


def test_pooled_fit_is_one_parameter_set_replayed_per_item():
    # each learner practises one item only, so (learner, item) sequences are the
    # learners' sequences: the pooled fit is BKT's fit with every item in one skill
    rows = [("ada", "a1", 0.0), ("ada", "a1", 1.0), ("bo", "a2", 1.0), ("bo", "a2", 1.0)]
    rows += [("cy", "b1", 0.0), ("cy", "b1", 0.0), ("cy", "b1", 1.0), ("di", "b2", 1.0)]
    log = log_of(rows)
    one_skill = Domain([Item(i, ("k",)) for i in ("a1", "a2", "b1", "b2")])
    reference = BKT(one_skill, forgets=False).fit(log)
    fitted = shared_fit(BKT(course(), grain="item", forgets=False), log)
    assert fitted.grain == "item"
    for item in ("a1", "a2", "b1", "b2"):
        assert fitted.params(item) == pytest.approx(reference.params("k"), abs=1e-9)
    # each learner's knowledge of their item: where their answers leave it
    for learner, item in (("ada", "a1"), ("bo", "a2"), ("cy", "b1"), ("di", "b2")):
        assert fitted.knowledge(learner, item) == pytest.approx(
            reference.knowledge(learner, "k"), abs=1e-9
        )
    assert fitted.knowledge("ada", "b1") == pytest.approx(reference.params("k")["prior"])


def test_pooled_refit_matches_pooled_fit_of_the_log_seen():
    domain = course()
    model = Refitting(domain, every=8, share="all")
    log = log_of(ROWS)
    model.update(log[:5])
    model.update(log[5:])
    assert model.refits_ == 1
    reference = BKT(None, forgets=False).fit(shared_log(log, domain))
    for item in ("a1", "a2", "b1"):
        assert model.model.params(item) == pytest.approx(reference.params(0))


def test_teaching_with_refits_is_deterministic_and_sees_only_the_cohort_log():
    domain = make_course()

    def run():
        model = Refitting(domain, every=50)
        teacher = ExpectedGain(domain, reviews=False, seed=3)
        curve, log = run_cohort(StudentPopulation(domain, 4, seed=3), teacher, model, 40)
        return curve, log, model

    curve, log, model = run()
    again, log_again, _ = run()
    assert np.array_equal(curve, again)
    assert np.array_equal(log.item, log_again.item)
    # the model holds the answers the teacher got, and nothing else
    assert len(model.log_) == len(log) == 160
    assert np.array_equal(model.log_.item, log.item)
    assert np.array_equal(model.log_.outcome, log.outcome)
    assert model.refits_ == 3 and model.fitted_at_ == 156  # 4 a step: at 52, 104, 156
    reference = BKT(domain, grain="item", forgets=False).fit(log[:156])
    for item in domain.item_ids[:5]:
        assert model.model.params(item) == pytest.approx(reference.params(item))


def test_state_round_trip_and_bad_parameters():
    domain = course()
    model = Refitting(domain, every=4, share="all")
    model.update(log_of(ROWS[:6]))
    restored = Refitting.from_state_dict(model.state_dict(), domain=domain)
    assert restored.share == "all" and restored.every == 4 and restored.refits_ == 1
    assert np.array_equal(restored.log_.item, model.log_.item)
    assert restored.model.params("a1") == pytest.approx(model.model.params("a1"))
    assert restored.model.knowledge("bo", "a2") == pytest.approx(model.model.knowledge("bo", "a2"))
    with pytest.raises(ParameterError):
        Refitting(domain, IRT(domain))  # cannot look ahead
    with pytest.raises(ParameterError):
        Refitting(domain, BKT(domain, multigs=True, grain="item"), share="all")
    with pytest.raises(ParameterError):
        Refitting(domain, every=0)


def test_a_skill_shared_fit_is_bkt_per_skill_when_each_learner_meets_one_level():
    # each learner practises one level of each skill, so (learner, item) sequences are
    # the (learner, skill) sequences: the fit per skill is BKT's own fit per skill
    rows = [("ada", "a1", 0.0), ("ada", "a1", 1.0), ("bo", "a2", 1.0), ("bo", "a2", 0.0)]
    rows += [("cy", "b1", 0.0), ("cy", "b1", 1.0), ("cy", "b1", 1.0), ("ada", "b2", 1.0)]
    log = log_of(rows)
    assert shared_log(log, course(), "skill").item.tolist() == ["a"] * 4 + ["b"] * 4
    reference = BKT(course(), forgets=False).fit(log)
    fitted = shared_fit(BKT(course(), grain="item", forgets=False), log, "skill")
    for item, skill in (("a1", "a"), ("a2", "a"), ("b1", "b"), ("b2", "b")):
        assert fitted.params(item) == pytest.approx(reference.params(skill), abs=1e-9)
    for learner, item, skill in (("ada", "a1", "a"), ("bo", "a2", "a"), ("cy", "b1", "b")):
        assert fitted.knowledge(learner, item) == pytest.approx(
            reference.knowledge(learner, skill), abs=1e-9
        )
    assert fitted.knowledge("ada", "b2") == pytest.approx(reference.knowledge("ada", "b"))


def test_a_warm_refit_starts_em_from_the_previous_parameters():
    domain = course()
    model = Refitting(domain, every=4, share="all", warm=True)
    log = log_of(ROWS)
    model.update(log[:4])
    first = model.model.params("a1")
    assert first == pytest.approx(
        BKT(None, forgets=False).fit(shared_log(log[:4], domain)).params(0)
    )
    model.update(log[4:])
    assert model.refits_ == 2
    warm = BKT(None, forgets=False, init=first).fit(shared_log(log, domain)).params(0)
    assert model.model.params("b2") == pytest.approx(warm)
    # EM's optimum depends on where it starts: here the cold start ends elsewhere
    cold = BKT(None, forgets=False).fit(shared_log(log, domain)).params(0)
    assert abs(warm["learn"] - cold["learn"]) > 0.05
    with pytest.raises(ParameterError):
        Refitting(domain, share="skill", warm=True)
