"""The teacher factory: ``create_teacher(spec)`` builds any teacher, composed ones
included, from the same JSON spec that a built teacher gives back (``spec()``) and
that its saved state holds; ``create_model`` reads the same spec shape.

Expected values: seeds are documented (part ``k`` of a mixture gets ``seed + k + 1``,
a filter's inner teacher ``seed + 1``), so a part built from a spec draws exactly
what the same teacher built by hand with that seed draws.
"""

from __future__ import annotations

import numpy as np
import pytest

from mentor import Domain, Engine, EventLog, Item
from mentor.errors import ParameterError, StateError, UnknownIdError
from mentor.students import BKT, create_model
from mentor.teachers import (
    MAX_DEPTH,
    ZPDES,
    DueReview,
    Filter,
    Mixture,
    RandomTeacher,
    TargetSuccess,
    create_teacher,
    teacher_from_state,
)
from mentor.teachers.constraints import NotRecent

ITEMS = [Item(f"i{n}", ("A" if n < 3 else "B",), 0.2 * n) for n in range(6)]
IDS = [item.id for item in ITEMS]


@pytest.fixture
def domain() -> Domain:
    return Domain(ITEMS, ["A", "B"], [("A", "B")])


def draws(teacher, n=20, model=None) -> list:
    return [teacher.select("ada", IDS, 1, None, model)[0] for _ in range(n)]


def test_a_name_or_a_spec_builds_the_registered_teacher(domain):
    by_name = create_teacher("zpdes", domain, seed=4)
    by_spec = create_teacher({"name": "zpdes", "params": {"window": 6}}, domain, seed=4)
    assert isinstance(by_name, ZPDES) and isinstance(by_spec, ZPDES)
    assert by_spec.domain is domain
    assert by_spec.get_params()["window"] == 6
    # The seed is the teacher's seed: the same draws as a ZPDES built by hand.
    assert draws(by_name) == draws(ZPDES(domain, seed=4))


def test_an_explicit_seed_in_the_params_wins(domain):
    teacher = create_teacher({"name": "random", "params": {"seed": 9}}, domain, seed=4)
    assert draws(teacher) == draws(RandomTeacher(seed=9))


def test_mixture_parts_get_seed_plus_k_plus_one(domain):
    spec = {
        "name": "mixture",
        "params": {"parts": [[{"name": "random"}, 0.5], [{"name": "target"}, 0.5]]},
    }
    mixture = create_teacher(spec, domain, seed=10)
    first, second = mixture.teachers
    assert draws(first) == draws(RandomTeacher(seed=11))
    assert isinstance(second, TargetSuccess)
    assert second.rng.random() == np.random.default_rng(12).random()
    assert mixture.weights.tolist() == [0.5, 0.5]


def test_spec_round_trips_through_create_teacher(domain):
    built = Filter(
        Mixture([(TargetSuccess(0.6, seed=1), 0.8), (DueReview(0.85, seed=2), 0.2)], seed=3),
        [NotRecent(2)],
        domain=domain,
    )
    spec = built.spec()
    assert spec == {
        "name": "filter",
        "params": {
            "teacher": {
                "name": "mixture",
                "params": {
                    "parts": [
                        [{"name": "target", "params": built.teacher.teachers[0].get_params()}, 0.8],
                        [{"name": "due_review", "params": {"retention": 0.85}}, 0.2],
                    ]
                },
            },
            "constraints": [{"kind": "not_recent", "n": 2}],
        },
    }
    again = create_teacher(spec, domain, seed=0)
    assert again.spec() == spec


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        ({"name": "nope"}, "name", "unknown teacher"),
        ({"name": "zpdes", "params": {"speed": 1}}, "speed", "zpdes has no parameter 'speed'"),
        ({"name": "zpdes", "params": {"domain": 1}}, "domain", "no parameter 'domain'"),
        ({"name": "zpdes", "params": [1]}, "params", "params must be an object"),
        ({"name": "zpdes", "extra": 1}, "extra", "unknown teacher field"),
        ({"name": "mixture", "params": {"parts": []}}, "parts", "mixture needs parts"),
        ({"name": "mixture", "params": {"parts": [[{"name": "random"}]]}}, "parts[0]", "part is"),
        (
            {"name": "mixture", "params": {"parts": [[{"name": "nope"}, 1]]}},
            "parts[0].name",
            "field 'parts[0].name', value 'nope': unknown teacher",
        ),
        ({"name": "filter", "params": {"teacher": {"name": "random"}, "x": 1}}, "x", "filter"),
        (
            {"name": "filter", "params": {"teacher": {"name": "zpdes", "params": {"w": 1}}}},
            "teacher.w",
            "zpdes has no parameter 'w'",
        ),
        ({"name": "target", "params": {"target": 2.0}}, None, "target"),
    ],
)
def test_bad_specs_are_parameter_errors_naming_the_field(domain, spec, field, message):
    with pytest.raises(ParameterError, match=message.replace("[", r"\[").replace("]", r"\]")) as e:
        create_teacher(spec, domain)
    if field is not None:
        assert e.value.field == field


def test_nesting_deeper_than_the_limit_is_refused(domain):
    spec: dict = {"name": "random"}
    for _ in range(MAX_DEPTH + 1):
        spec = {"name": "mixture", "params": {"parts": [[spec, 1.0]]}}
    with pytest.raises(ParameterError, match=f"at most {MAX_DEPTH} deep"):
        create_teacher(spec, domain)
    create_teacher(spec["params"]["parts"][0][0], domain)  # one level less is fine


def _practise(engine: Engine, n: int = 12) -> None:
    rng = np.random.default_rng(0)
    for step in range(n):
        item = engine.next("ada")[0]
        engine.record(EventLog(["ada"], [item], [float(step)], [float(rng.random() < 0.6)]))


def test_a_state_saved_before_specs_were_nested_still_loads(domain):
    """mentor 0.1 saved a mixture's params as {"weights": [...]} and a filter's
    without its inner teacher; the parts' own states name them, so such a state
    rebuilds the same teacher and makes the same choices."""
    teacher = Filter(
        Mixture([(TargetSuccess(0.6, seed=1), 0.7), (DueReview(0.85, seed=2), 0.3)], seed=3),
        [NotRecent(1)],
        domain=domain,
    )
    engine = Engine(domain, BKT(domain), teacher)
    _practise(engine)
    state = teacher.state_dict()
    old = {**state, "params": {"constraints": state["params"]["constraints"]}}
    inner = state["state"]["parts"][0]
    old["state"] = {**state["state"], "parts": [{**inner, "params": {"weights": [0.7, 0.3]}}]}
    restored = teacher_from_state(old, domain)
    assert restored.spec() == teacher.spec()
    model = engine.model
    assert [restored.select("ada", IDS, 2, 20.0, model) for _ in range(10)] == [
        teacher.select("ada", IDS, 2, 20.0, model) for _ in range(10)
    ]


def test_a_corrupt_saved_spec_is_a_state_error(domain):
    state = create_teacher("zpdes", domain, seed=1).state_dict()
    state["params"] = {"speed": 3}
    with pytest.raises(StateError, match="corrupt zpdes teacher parameters"):
        teacher_from_state(state, domain)


def test_create_model_reads_the_same_spec(domain):
    model = create_model({"name": "bkt", "params": {"forgets": False}}, domain)
    assert isinstance(model, BKT) and model.get_params()["forgets"] is False
    with pytest.raises(ParameterError, match="unknown student model") as e:
        create_model({"name": "nope"}, domain)
    assert e.value.field == "name"
    with pytest.raises(ParameterError) as e:
        create_model({"name": "bkt", "params": {"speed": 1}}, domain)
    assert e.value.field == "speed"
    with pytest.raises(ParameterError, match="inside its spec or as keywords"):
        create_model({"name": "bkt"}, domain, forgets=False)
    with pytest.raises(UnknownIdError):  # by name, an unknown model is an unknown id
        create_model("nope", domain)
