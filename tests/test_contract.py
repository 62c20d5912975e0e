"""The contract suite: every registered student model and every registered teacher
through the same checks, as river's ``check_estimator`` does.

A new model or teacher is covered by adding it to its registry
(:data:`mentor.students.MODELS`, :data:`mentor.teachers.TEACHERS`) and nothing
else; one whose required parameters cannot be guessed says how to build it for a
toy course in ``_unit_test_params``. The checks:

- models: ``fit`` reports its passes (epochs 1, 2, ... in order) through
  ``on_epoch``; predictions are probabilities, one per item; ``state(learner)``
  has a mastery in [0, 1] per skill; a JSON round trip of ``state_dict`` predicts
  and believes exactly as the original, before and after more events; an unknown
  parameter is a :class:`ParameterError` naming it;
- teachers, with every model: an engine's choices are among the candidates, and an
  engine saved to JSON and restored makes exactly the choices the original makes
  from then on (each teacher's random generator is part of its state); a teacher
  that needs what a model cannot do (a look-ahead) says so in a
  :class:`MentorError` before choosing anything.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from mentor import Domain, Engine, EventLog, Item
from mentor.errors import MentorError, ParameterError
from mentor.students import MODELS, create_model, model_from_state
from mentor.teachers import TEACHERS, create_teacher

SKILLS = ["A", "B", "C"]
ITEMS = [
    Item(f"{skill.lower()}{level}", (skill,), 0.2 * level + 0.1 * k, {"task": [0.2 * level]})
    for k, skill in enumerate(SKILLS)
    for level in range(1, 4)
]
IDS = [item.id for item in ITEMS]
LEARNERS = ["ada", "bo", "cy"]
HOUR = 3600.0
MEMORY_MODELS = {"dash", "fsrs", "fsrs-lr", "hlr", "sm2", "memory-rnn", "memory-rnn-fsrs"}


def course() -> Domain:
    return Domain(ITEMS, SKILLS, [("A", "B")])


def history(seed: int = 0, learners: list | None = None, n: int = 12, start: float = 0.0):
    """A toy log: each learner answers ``n`` random items an hour apart."""
    rng = np.random.default_rng(seed)
    rows = [
        (learner, IDS[rng.integers(len(IDS))], start + step * HOUR, float(rng.random() < 0.6))
        for learner in (learners or LEARNERS)
        for step in range(n)
    ]
    learner, item, time, outcome = zip(*rows, strict=True)
    return EventLog(list(learner), list(item), list(time), list(outcome))


def make_model(name: str, domain: Domain):
    return create_model(name, domain, **MODELS[name]._unit_test_params())


def make_teacher(name: str, domain: Domain, seed: int = 3):
    params = TEACHERS[name]._unit_test_params(domain)
    return create_teacher({"name": name, "params": params}, domain, seed)


def fitted(name: str):
    domain = course()
    model = make_model(name, domain)
    records: list[dict] = []
    model.fit(history(), on_epoch=records.append)
    return model, records


# ---------------------------------------------------------------- student models
@pytest.fixture(scope="module", params=sorted(MODELS))
def fit_result(request):
    return request.param, *fitted(request.param)


def test_fit_reports_each_pass_in_order(fit_result):
    name, _, records = fit_result
    assert records, f"{name}.fit never called on_epoch"
    assert [r["epoch"] for r in records] == list(range(1, len(records) + 1))


def test_predictions_are_probabilities_one_per_item(fit_result):
    _, model, _ = fit_result
    for learner in [*LEARNERS, "newcomer"]:
        p = np.asarray(model.predict(learner, IDS, 40 * HOUR))
        assert p.shape == (len(IDS),)
        assert np.all((p >= 0.0) & (p <= 1.0))


def test_state_has_a_mastery_per_skill_in_the_unit_interval(fit_result):
    name, model, _ = fit_result
    units = set(IDS) if name in MEMORY_MODELS else set(SKILLS)  # memory models: per card
    for learner in LEARNERS:
        mastery = model.state(learner)["mastery"]
        assert mastery and set(mastery) <= units
        assert all(0.0 <= float(v) <= 1.0 for v in mastery.values())


def test_a_json_round_trip_predicts_and_believes_alike(fit_result):
    name, model, _ = fit_result
    state = json.loads(json.dumps(model.state_dict()))
    restored = model_from_state(state, domain=course())
    assert restored.get_params() == model.get_params()
    later = history(seed=1, learners=["ada", "newcomer"], n=4, start=20 * HOUR)
    for step in range(2):
        for learner in [*LEARNERS, "newcomer"]:
            expected = model.predict(learner, IDS, 30 * HOUR)
            assert restored.predict(learner, IDS, 30 * HOUR).tolist() == expected.tolist()
            assert restored.state(learner) == model.state(learner)
        if step == 0:
            model.update(later)
            restored.update(later)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_an_unknown_parameter_is_named(name):
    with pytest.raises(ParameterError) as error:
        create_model(name, course(), no_such_parameter=1)
    assert error.value.field == "no_such_parameter"


# ---------------------------------------------------------------- teachers
def drive(engine: Engine, steps: int, start: int) -> list:
    """Each learner takes ``steps`` items from the engine; outcomes are a fixed
    function of learner, item and step, so two engines see the same answers for
    the same choices."""
    chosen = []
    for step in range(start, start + steps):
        for n, learner in enumerate(LEARNERS):
            t = step * HOUR
            items = engine.next(learner, k=1, t=t)
            chosen.append(items)
            if items:
                outcome = float((n + step + IDS.index(items[0])) % 3 != 0)
                engine.record(EventLog([learner], [items[0]], [t], [outcome]))
    return chosen


@pytest.mark.parametrize("model_name", sorted(MODELS))
@pytest.mark.parametrize("teacher_name", sorted(TEACHERS))
def test_a_restored_engine_makes_the_same_choices(teacher_name, model_name):
    domain = course()
    model = make_model(model_name, domain)
    teacher = make_teacher(teacher_name, domain)
    engine = Engine(domain, model, teacher)
    if teacher.needs_lookahead and not model.supports_lookahead:
        with pytest.raises(MentorError, match="look ahead"):
            engine.next("ada", t=0.0)
        return
    before = drive(engine, steps=4, start=0)
    assert all(set(items) <= set(IDS) for items in before)
    restored = Engine.from_state_dict(json.loads(json.dumps(engine.state_dict())))
    assert drive(restored, steps=6, start=4) == drive(engine, steps=6, start=4)


@pytest.mark.parametrize("name", sorted(TEACHERS))
def test_a_teacher_rebuilds_from_its_own_spec(name):
    domain = course()
    teacher = make_teacher(name, domain)
    again = create_teacher(teacher.spec(), domain, seed=3)
    assert type(again) is type(teacher)
    assert again.spec() == teacher.spec()


@pytest.mark.parametrize("name", sorted(TEACHERS))
def test_an_unknown_teacher_parameter_is_named(name):
    params = {**TEACHERS[name]._unit_test_params(course()), "no_such_parameter": 1}
    with pytest.raises(ParameterError) as error:
        create_teacher({"name": name, "params": params}, course())
    assert error.value.field == "no_such_parameter"


@pytest.mark.parametrize("name", sorted(TEACHERS))
def test_select_slots_picks_candidates_from_a_stated_distribution(name):
    """Every teacher fills slots with candidates; where it states the distribution of one
    pick (Teacher.slot_distribution), that is a distribution over candidates."""
    domain = course()
    model = make_model("elo", domain)  # elo can look ahead, for expected_gain
    model.fit(history())
    teacher = make_teacher(name, domain)
    teacher.observe(history())
    t = 20 * HOUR
    picks = teacher.select_slots("ada", IDS, 7, t=t, model=model)
    assert len(picks) <= 7 and set(picks) <= set(IDS)
    assert teacher.select_slots("ada", [], 3, t=t, model=model) == []
    distribution = teacher.slot_distribution("ada", IDS, t, model)
    if distribution is not None:
        choices, p = distribution
        assert set(choices) <= set(IDS) and len(choices) == len(p)
        assert (p >= 0).all() and p.sum() == pytest.approx(1.0)
