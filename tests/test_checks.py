"""The one place for parameter checks (``mentor._checks``) and its use everywhere.

Hand-checked cases of each check: NumPy integers and floats are numbers, booleans
and strings are not, NaN and infinities are refused, bounds are strict or not as
asked. Then every numeric constructor parameter of the registered core student
models and teachers, given a value no check may accept, raises a
:class:`ParameterError` whose ``field`` names that parameter.
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

from mentor import Domain, Item
from mentor._checks import (
    check_choice,
    check_count,
    check_flag,
    check_number,
    check_unit,
    json_id,
    plain,
)
from mentor.errors import DataError, MentorError, ParameterError
from mentor.students import MODELS, create_model
from mentor.teachers import TEACHERS, create_teacher

# ------------------------------------------------------------------ check_number


@pytest.mark.parametrize(
    "value, expected",
    [
        (2, 2.0),
        (np.int64(2), 2.0),
        (np.float32(0.5), 0.5),
        (np.float64(1e-3), 1e-3),
        (np.uint8(7), 7.0),
        (-3.25, -3.25),
    ],
)
def test_check_number_accepts_python_and_numpy_numbers(value, expected):
    result = check_number("x", value)
    assert result == expected and type(result) is float


@pytest.mark.parametrize("value", [True, False, np.bool_(True), "0.5", None, [1.0], 1 + 2j])
def test_check_number_refuses_what_is_not_a_real_number(value):
    with pytest.raises(ParameterError, match="must be a number") as error:
        check_number("x", value)
    assert error.value.field == "x"


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, np.float32("nan")])
def test_check_number_refuses_nan_and_infinities(value):
    with pytest.raises(ParameterError, match="must be a finite number") as error:
        check_number("lr", value, 0.0)
    assert error.value.field == "lr"


def test_check_number_lets_plus_infinity_through_only_when_asked():
    assert check_number("cap", math.inf, 0.0, allow_inf=True) == math.inf
    with pytest.raises(ParameterError, match="finite"):
        check_number("cap", -math.inf, allow_inf=True)


def test_check_number_bounds_strict_and_not():
    assert check_number("x", 0.0, 0.0) == 0.0  # >= 0: the bound itself is in
    with pytest.raises(ParameterError, match=r"field 'x', value 0.0: must be > 0$"):
        check_number("x", 0.0, 0.0, strict=True)
    with pytest.raises(ParameterError, match=r"must be >= 1$"):
        check_number("x", 0.999, 1.0)
    assert check_number("x", 1.0, 0.0, maximum=1.0) == 1.0
    with pytest.raises(ParameterError, match=r"must be in \(0, 1\)$"):
        check_number("x", 1.0, 0.0, True, maximum=1.0, strict_maximum=True)
    with pytest.raises(ParameterError, match=r"must be <= 5$"):
        check_number("x", 6, maximum=5.0)
    assert check_number("x", -1e300) == -1e300  # no bound: any finite number


def test_check_unit_is_the_unit_interval():
    assert check_unit("p", np.float32(0.25)) == 0.25
    assert check_unit("p", 0) == 0.0 and check_unit("p", 1) == 1.0
    with pytest.raises(ParameterError, match=r"field 'p', value 1.5: must be in \[0, 1\]"):
        check_unit("p", 1.5)
    with pytest.raises(ParameterError, match=r"must be in \(0, 1\]"):
        check_unit("p", 0.0, strict=True)
    with pytest.raises(ParameterError, match=r"must be in \[0, 1\)"):
        check_unit("p", 1.0, strict_maximum=True)


# ------------------------------------------------------------------ check_count


@pytest.mark.parametrize("value", [3, np.int64(3), np.int32(3), np.uint16(3)])
def test_check_count_accepts_python_and_numpy_integers(value):
    result = check_count("n", value, 1)
    assert result == 3 and type(result) is int


@pytest.mark.parametrize("value", [True, np.bool_(False), 3.0, np.float64(3.0), "3", None])
def test_check_count_refuses_booleans_floats_and_text(value):
    with pytest.raises(ParameterError, match=r"must be an integer >= 0") as error:
        check_count("n", value)
    assert error.value.field == "n"


def test_check_count_bounds():
    assert check_count("n", 1, 1) == 1
    with pytest.raises(ParameterError, match=r"field 'n', value 0: must be an integer >= 1"):
        check_count("n", 0, 1)
    with pytest.raises(ParameterError, match=r"must be an integer in \[1, 4\]"):
        check_count("n", 5, 1, 4)
    assert check_count("seed", -7, None) == -7  # any integer
    with pytest.raises(ParameterError, match=r"value 1.5: must be an integer$"):
        check_count("seed", 1.5, None)


# ------------------------------------------------------------------ flags, choices, ids


def test_check_flag_takes_booleans_only():
    assert check_flag("f", True) is True and check_flag("f", np.bool_(False)) is False
    for value in (0, 1, "false", None, np.int64(1)):
        with pytest.raises(ParameterError, match="must be true or false") as error:
            check_flag("f", value)
        assert error.value.field == "f"


def test_check_choice_lists_the_options():
    assert check_choice("rule", "min", ("min", "mean")) == "min"
    with pytest.raises(ParameterError, match="field 'rule', value 'max': must be one of min, mean"):
        check_choice("rule", "max", ("min", "mean"))
    with pytest.raises(ParameterError, match="must be one of"):
        check_choice("rule", ["min"], ("min", "mean"))


def test_plain_and_json_id():
    assert plain(np.int64(4)) == 4 and type(plain(np.int64(4))) is int
    assert type(plain(np.float32(0.5))) is float and plain("a") == "a"
    assert json_id(3) == 3 and json_id("a") == "a"
    with pytest.raises(ValueError, match="an id must be"):
        json_id([1, 2])


def test_a_parameter_error_is_a_data_error_and_a_mentor_error():
    with pytest.raises(DataError) as error:
        check_number("x", "y")
    assert isinstance(error.value, MentorError) and isinstance(error.value, ValueError)


# ------------------------------------------------------------------ registered models, teachers

ITEMS = [Item(f"i{n}", ("A" if n < 3 else "B",), 0.2 * n) for n in range(6)]

#: Values no numeric check may accept.
BAD_NUMBERS = [True, "1", math.nan, math.inf]

#: Student models that need PyTorch are checked in test_deep.py.
CORE_MODELS = [
    "bkt",
    "level-bkt",
    "elo",
    "irt",
    "pfa",
    "fsrs",
    "fsrs-lr",
    "hlr",
    "dash",
    "sm2",
    "memory-rnn",
    "memory-rnn-fsrs",
    "psikt",
    "skill-ability",
]

#: Teachers whose checks live in files other work owns for now (learnability.py,
#: the task-space package); composites have no numeric parameters of their own.
SKIPPED_TEACHERS = {"learnability", "task_items", "mixture", "filter"}

#: Parameters a teacher needs to be built at all.
REQUIRED = {"fixed": {"order": ["i0", "i1"]}}


def _domain() -> Domain:
    return Domain(ITEMS, ["A", "B"], [("A", "B")])


def _numeric_parameters(cls: type) -> list[str]:
    """Constructor parameters whose default is a number (not a flag)."""
    return [
        name
        for name, p in inspect.signature(cls).parameters.items()
        if isinstance(p.default, int | float) and not isinstance(p.default, bool)
    ]


MODEL_CASES = [
    (name, parameter, bad)
    for name in CORE_MODELS
    for parameter in _numeric_parameters(MODELS[name])
    for bad in BAD_NUMBERS
]
TEACHER_CASES = [
    (name, parameter, bad)
    for name, cls in sorted(TEACHERS.items())
    if name not in SKIPPED_TEACHERS
    for parameter in _numeric_parameters(cls)
    for bad in BAD_NUMBERS
]


def test_the_cases_cover_the_registries():
    assert set(CORE_MODELS) == {name for name in MODELS if name not in {"dkt", "simplekt", "akt"}}
    assert len({name for name, _, _ in MODEL_CASES}) == len(CORE_MODELS)  # each has one
    covered = {name for name, _, _ in TEACHER_CASES}
    assert {"zpdes", "tscl", "sec", "dump", "self_paced", "adarft", "expected_gain"} <= covered
    assert len(covered) >= 15


@pytest.mark.parametrize(("name", "parameter", "bad"), MODEL_CASES)
def test_a_bad_number_for_a_model_is_a_parameter_error_naming_it(name, parameter, bad):
    domain = _domain()
    create_model(name, domain=domain)  # the defaults are fine
    with pytest.raises(ParameterError) as error:
        create_model({"name": name, "params": {parameter: bad}}, domain=domain)
    assert error.value.field == parameter
    assert error.value.value is bad or (bad != bad and error.value.value != error.value.value)


@pytest.mark.parametrize(("name", "parameter", "bad"), TEACHER_CASES)
def test_a_bad_number_for_a_teacher_is_a_parameter_error_naming_it(name, parameter, bad):
    domain = _domain()
    params = REQUIRED.get(name, {})
    create_teacher({"name": name, "params": params}, domain)  # the defaults are fine
    with pytest.raises(ParameterError) as error:
        create_teacher({"name": name, "params": {**params, parameter: bad}}, domain)
    assert error.value.field == parameter


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: create_model("elo", alpha=np.float32(0.5)), None),
        (lambda: create_model("bkt", max_iter=np.int64(3)), None),
        (
            lambda: create_teacher({"name": "zpdes", "params": {"window": np.int64(4)}}, _domain()),
            None,
        ),
        (lambda: create_model("elo", alpha=0.0), "alpha"),
        (lambda: create_model("bkt", init={"guess": 1.5}), "init.guess"),
        (lambda: create_model("bkt", grain="learner"), "grain"),
        (lambda: create_model("hlr", min_half_life=2.0, max_half_life=1.0), "max_half_life"),
        (lambda: create_teacher({"name": "tscl", "params": {"policy": "greedy"}}), "policy"),
        (lambda: create_teacher({"name": "random", "params": {}}).select("a", ["x"], 0), "k"),
    ],
)
def test_numpy_numbers_pass_and_bad_values_name_their_field(make, field):
    if field is None:
        make()  # NumPy scalars are numbers everywhere
        return
    with pytest.raises(ParameterError) as error:
        make()
    assert error.value.field == field
