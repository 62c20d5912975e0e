"""The engine: next / record / state with real student models and teachers, the
JSON save and load round trip, atomic saving, and one-line errors for bad files.

Expected values are worked out by hand from the documented formulas of BKT and
Elo (see mentor/students/bkt.py and elo.py) or from each teacher's documented rule.
"""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest

from mentor import Domain, Engine, Event, EventLog, Item
from mentor.errors import (
    DataError,
    MentorError,
    StateError,
    UnknownIdError,
)
from mentor.students import BKT, Elo
from mentor.teachers import ZPDES, FixedSequence, RandomTeacher, TargetSuccess

# ------------------------------------------------------------------ a small course
#
# Skill A is a prerequisite of skill B.
#   A: a1 (0.2) < a2 (0.6)       B: b1 (0.4) < b2 (0.8)
# ZPDES's activity graph (levels by difficulty, the hardest level of A leads to
# the easiest level of B): a1 -> a2 -> b1 -> b2; its only root is a1.
ITEMS = [
    Item("a1", ("A",), 0.2),
    Item("a2", ("A",), 0.6),
    Item("b1", ("B",), 0.4),
    Item("b2", ("B",), 0.8),
]
ITEM_IDS = [item.id for item in ITEMS]
ORDER = ["a1", "a2", "b1", "b2"]


def make_domain() -> Domain:
    return Domain(ITEMS, ["A", "B"], [("A", "B")])


@pytest.fixture
def domain() -> Domain:
    return make_domain()


MODELS = {
    "bkt": lambda domain: BKT(domain),
    "elo": lambda domain: Elo(domain, skill_ability=True),
}
TEACHERS = {
    "random": lambda domain: RandomTeacher(seed=5),
    "fixed": lambda domain: FixedSequence(ORDER, repeats=2, seed=5),
    "target": lambda domain: TargetSuccess(0.7, seed=5),
    "zpdes": lambda domain: ZPDES(domain, window=4, seed=5),
}


def make_engine(domain: Domain, model: str, teacher: str) -> Engine:
    return Engine(domain, MODELS[model](domain), TEACHERS[teacher](domain))


def outcome_of(step: int, n: int, item) -> float:
    """A fixed, varied outcome rule so that two engines can be fed the same events."""
    return float((step + n + ITEM_IDS.index(item)) % 3 != 0)


def drive(engine: Engine, learners: list, steps: int, start: int = 0) -> list:
    """Let every learner practise ``steps`` times; returns what the engine chose
    and what it predicted and believed after each event."""
    trace = []
    for step in range(start, start + steps):
        for n, learner in enumerate(learners):
            picks = engine.next(learner, k=1, t=float(step))
            outcome = outcome_of(step, n, picks[0])
            engine.record([Event(learner, picks[0], float(step), outcome)])
            trace.append(
                (
                    picks,
                    engine.model.predict(learner, ITEM_IDS, float(step)).tolist(),
                    engine.state(learner),
                )
            )
    return trace


# ------------------------------------------------------------------ next / record / state
def test_record_feeds_bkt_and_state_reports_it(domain):
    # BKT defaults: prior .4, learn .1, forget .05, guess .2, slip .1.
    # A correct answer on a1 (skill A): P(c) = .4*.9 + .6*.2 = .48;
    # posterior = .36/.48 = .75; next = .75*.95 + .25*.1 = .7375.
    # Skill B is untouched: its mastery stays at the prior .4.
    engine = Engine(domain, BKT(domain), RandomTeacher(0))
    assert engine.state("ada")["mastery"] == {"A": pytest.approx(0.4), "B": pytest.approx(0.4)}
    engine.record([Event("ada", "a1", 0.0, 1.0)])
    state = engine.state("ada")
    assert state["mastery"]["A"] == pytest.approx(0.7375, abs=1e-12)
    assert state["mastery"]["B"] == pytest.approx(0.4, abs=1e-12)
    assert state["practised_skills"] == 1
    # predicted success on a2 (skill A) = .7375*.9 + .2625*.2 = .71625
    assert engine.model.predict("ada", ["a2"])[0] == pytest.approx(0.71625, abs=1e-12)


def test_record_feeds_elo_and_state_reports_it(domain):
    # Fresh Elo (K(0) = alpha = 1): P = sigmoid(0 - 0) = .5, error = 1 - .5 = .5,
    # so ability(ada) = .5 and difficulty(a1) = -.5.
    # Mastery of a skill = sigmoid(ability - mean difficulty of its items):
    #   A: mean(-.5, 0) = -.25 -> sigmoid(.75) = .679179
    #   B: mean(0, 0) = 0      -> sigmoid(.5)  = .622459
    engine = Engine(domain, Elo(domain), RandomTeacher(0))
    engine.record(EventLog(["ada"], ["a1"], [0.0], [1.0]))
    state = engine.state("ada")
    assert state["ability"] == pytest.approx(0.5)
    assert state["answers"] == 1
    assert state["mastery"]["A"] == pytest.approx(1 / (1 + math.exp(-0.75)), abs=1e-12)
    assert state["mastery"]["B"] == pytest.approx(1 / (1 + math.exp(-0.5)), abs=1e-12)


def test_record_feeds_the_teacher(domain):
    # FixedSequence: a learner's position advances by one per observed event.
    engine = Engine(domain, BKT(domain), FixedSequence(ORDER))
    assert engine.next("ada") == ["a1"]
    engine.record([Event("ada", "a1", 0.0, 1.0), Event("ada", "a1", 1.0, 1.0)])
    assert engine.next("ada") == ["b1"]  # position 2 -> ORDER[2]
    assert engine.next("bo") == ["a1"]  # nobody else moved


def test_record_opens_the_zpdes_zone(domain):
    # ZPDES with window 2: a1 is passed once len(history) >= 1 and its success
    # rate >= .6, which opens its only successor a2. Two successes out of two also
    # give a full window at rate 1 >= .8, so a1 is mastered and leaves the zone.
    engine = Engine(domain, Elo(domain), ZPDES(domain, window=2, seed=0))
    assert engine.teacher.zpd("ada") == ["a1"]
    assert engine.next("ada") == ["a1"]  # the zone is the only arm
    engine.record([Event("ada", "a1", 0.0, 1.0), Event("ada", "a1", 1.0, 1.0)])
    assert engine.teacher.zpd("ada") == ["a2"]
    assert engine.next("ada") == ["a2"]


def test_target_teacher_uses_the_engines_model(domain):
    # After ada answers a1 correctly (Elo, see above): ability .5, b(a1) = -.5, so
    # P(a1) = sigmoid(1) = .731, P(a2) = P(b1) = P(b2) = sigmoid(.5) = .622.
    # Distance to .7: .031 for a1, .078 for the others -> a1.
    engine = Engine(domain, Elo(domain), TargetSuccess(0.7, seed=0))
    engine.record([Event("ada", "a1", 0.0, 1.0)])
    assert engine.next("ada") == ["a1"]
    # k=2: a1 first, then one of the three tied items
    picks = engine.next("ada", k=2)
    assert picks[0] == "a1" and picks[1] in {"a2", "b1", "b2"}


def test_next_k_and_candidates(domain):
    engine = Engine(domain, BKT(domain), FixedSequence(ORDER))
    # k items from the current position, distinct
    assert engine.next("ada", k=3) == ["a1", "a2", "b1"]
    # k beyond the domain: each item once
    assert engine.next("ada", k=10) == ORDER
    # candidates narrow the choice: a1 is not allowed, so the next one in order
    assert engine.next("ada", candidates=["b2", "a2"]) == ["a2"]


def test_random_teacher_picks_distinct_domain_items(domain):
    engine = Engine(domain, Elo(domain), RandomTeacher(seed=1))
    for _ in range(20):
        picks = engine.next("ada", k=3)
        assert len(picks) == 3 and len(set(picks)) == 3
        assert set(picks) <= set(ITEM_IDS)


def test_next_rejects_unknown_and_empty_candidates(domain):
    engine = Engine(domain, Elo(domain), RandomTeacher(0))
    with pytest.raises(UnknownIdError, match="unknown item 'zz'"):
        engine.next("ada", candidates=["a1", "zz"])
    with pytest.raises(MentorError, match="no candidate items"):
        engine.next("ada", candidates=[])
    empty = Domain([], ["A"])
    with pytest.raises(MentorError, match="no candidate items"):
        Engine(empty, Elo(empty), RandomTeacher(0)).next("ada")
    with pytest.raises(MentorError, match="field .k., value 0: must be an integer >= 1"):
        engine.next("ada", k=0)


@pytest.mark.parametrize("model", ["bkt", "elo"])
def test_unknown_item_in_record_raises_and_records_nothing(domain, model):
    # record checks every item before updating anything ("Every event must name
    # an item of the domain"), so a batch with one bad event changes nothing.
    engine = Engine(domain, MODELS[model](domain), FixedSequence(ORDER))
    before = engine.state("ada")
    events = [Event("ada", "a1", 0.0, 1.0), Event("ada", "nope", 1.0, 1.0)]
    with pytest.raises(UnknownIdError, match="unknown item 'nope'") as info:
        engine.record(events)
    assert "\n" not in str(info.value)
    assert engine.state("ada") == before
    assert engine.teacher.position_ == {}
    assert engine.next("ada") == ["a1"]


def test_record_rejects_bad_outcomes_and_accepts_nothing(domain):
    engine = Engine(domain, BKT(domain), FixedSequence(ORDER))
    with pytest.raises(DataError, match="outcome must lie in"):
        engine.record([Event("ada", "a1", 0.0, 1.5)])
    engine.record([])  # no events: nothing changes
    assert engine.state("ada")["practised_skills"] == 0
    assert engine.next("ada") == ["a1"]


@pytest.mark.parametrize("teacher", list(TEACHERS))
def test_unknown_learner_is_served_from_priors(domain, teacher):
    # A learner the engine has never seen is not an error: the models document
    # that unseen learners start from the prior (BKT: P(L0) = .4 for every skill)
    # or from ability 0 (Elo: every prediction sigmoid(0 - 0) = .5).
    bkt = Engine(domain, BKT(domain), TEACHERS[teacher](domain))
    bkt.record([Event("ada", "a1", 0.0, 1.0)])
    assert bkt.state("ghost") == {"mastery": {"A": 0.4, "B": 0.4}, "practised_skills": 0}
    assert bkt.next("ghost")[0] in ITEM_IDS

    elo = Engine(domain, Elo(domain), TEACHERS[teacher](domain))
    state = elo.state("ghost")
    assert state == {"ability": 0.0, "answers": 0, "mastery": {"A": 0.5, "B": 0.5}}
    assert elo.model.predict("ghost", ITEM_IDS).tolist() == [0.5] * 4
    assert elo.next("ghost")[0] in ITEM_IDS


# ------------------------------------------------------------------ save and load
@pytest.mark.parametrize("teacher", list(TEACHERS))
@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize("learners", [["ada", "bo"], [0, 1]])
def test_save_load_round_trip_makes_identical_choices(tmp_path, model, teacher, learners):
    path = tmp_path / "engine.json"
    engine = make_engine(make_domain(), model, teacher)
    drive(engine, learners, steps=6)
    engine.save(path)
    loaded = Engine.load(path)

    # the same course, model and teacher settings, sharing the loaded domain
    assert loaded.domain.state_dict() == engine.domain.state_dict()
    assert type(loaded.model) is type(engine.model)
    assert type(loaded.teacher) is type(engine.teacher)
    assert loaded.model.get_params() == engine.model.get_params()
    assert loaded.teacher.get_params() == engine.teacher.get_params()
    assert loaded.model.domain is loaded.domain
    if teacher == "zpdes":
        assert loaded.teacher.domain is loaded.domain

    # the learned state came back: predictions equal the original's and differ
    # from those of an untrained model
    for learner in learners:
        restored = loaded.model.predict(learner, ITEM_IDS)
        assert restored.tolist() == engine.model.predict(learner, ITEM_IDS).tolist()
        assert restored.tolist() != MODELS[model](make_domain()).predict(learner, ITEM_IDS).tolist()
        assert loaded.state(learner) == engine.state(learner)

    # driven by the same events, both engines choose, predict and believe alike,
    # for the old learners and for one that joins after the save
    newcomer = "cy" if isinstance(learners[0], str) else 2
    everyone = [*learners, newcomer]
    assert drive(loaded, everyone, steps=10, start=6) == drive(engine, everyone, steps=10, start=6)


def test_saved_file_is_plain_json_of_the_engine_state(tmp_path, domain):
    engine = make_engine(domain, "elo", "zpdes")
    drive(engine, ["ada"], steps=3)
    path = tmp_path / "sub" / "engine.json"  # the folder is created
    engine.save(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["kind"] == "engine" and data["version"] == 1
    assert data == json.loads(json.dumps(engine.state_dict()))
    assert data["model"]["kind"] == "elo" and data["teacher"]["kind"] == "zpdes"


def test_from_state_dict_round_trip_without_a_file(domain):
    engine = make_engine(domain, "bkt", "random")
    drive(engine, ["ada"], steps=4)
    twin = Engine.from_state_dict(json.loads(json.dumps(engine.state_dict())))
    assert drive(twin, ["ada"], steps=5, start=4) == drive(engine, ["ada"], steps=5, start=4)


def test_save_replaces_an_old_file_completely(tmp_path, domain):
    path = tmp_path / "engine.json"
    engine = make_engine(domain, "bkt", "fixed")
    engine.save(path)
    drive(engine, ["ada"], steps=3)
    engine.save(path)
    assert Engine.load(path).state("ada") == engine.state("ada")
    assert engine.state("ada")["practised_skills"] > 0
    assert sorted(os.listdir(tmp_path)) == ["engine.json"]


@pytest.mark.parametrize("bad", [float("nan"), object()], ids=["nan", "not-json"])
def test_failed_save_leaves_the_old_file_untouched(tmp_path, domain, monkeypatch, bad):
    # Engine.save writes to a temporary name and renames (mentor._io.write_json):
    # json.dump streams its output, so the serialisation below fails after part
    # of the file has been written; the old file must survive byte for byte and
    # the temporary file must be gone.
    path = tmp_path / "engine.json"
    engine = make_engine(domain, "elo", "fixed")
    engine.save(path)
    old = path.read_bytes()

    drive(engine, ["ada"], steps=2)
    real = engine.teacher.state_dict
    monkeypatch.setattr(engine.teacher, "state_dict", lambda: {**real(), "z": bad})
    with pytest.raises((ValueError, TypeError)):
        engine.save(path)
    assert path.read_bytes() == old
    assert sorted(os.listdir(tmp_path)) == ["engine.json"]
    # and a save that fails before writing anything leaves it alone as well
    monkeypatch.setattr(engine.teacher, "state_dict", lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        engine.save(path)
    assert path.read_bytes() == old
    # nothing partial was left where a new file was expected either
    fresh = tmp_path / "fresh.json"
    with pytest.raises(ZeroDivisionError):
        engine.save(fresh)
    assert not fresh.exists()
    assert sorted(os.listdir(tmp_path)) == ["engine.json"]


# ------------------------------------------------------------------ bad files
def assert_one_line(error: BaseException, path) -> str:
    message = str(error)
    assert isinstance(error, MentorError)
    assert "\n" not in message
    assert str(path) in message
    return message


def test_load_missing_file(tmp_path):
    path = tmp_path / "nowhere.json"
    with pytest.raises(DataError) as info:
        Engine.load(path)
    assert assert_one_line(info.value, path) == f"{path}: file not found"
    # a folder is not a file either
    with pytest.raises(DataError) as info:
        Engine.load(tmp_path)
    assert assert_one_line(info.value, tmp_path) == f"{tmp_path}: file not found"


def test_load_invalid_json_names_file_and_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{\n  "kind": "engine",\n  oops\n}\n', encoding="utf-8")
    with pytest.raises(DataError) as info:
        Engine.load(path)
    # the bad token is on the third line of the file
    assert assert_one_line(info.value, path).startswith(f"{path}:3: invalid JSON")
    assert info.value.line == 3

    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    with pytest.raises(DataError) as info:
        Engine.load(empty)
    assert assert_one_line(info.value, empty).startswith(f"{empty}:1: invalid JSON")


def test_load_non_utf8_file(tmp_path):
    path = tmp_path / "latin1.json"
    path.write_bytes('{"kind": "engine", "name": "Zoë"}'.encode("latin-1"))
    with pytest.raises(DataError) as info:
        Engine.load(path)
    assert "not UTF-8 text" in assert_one_line(info.value, path)


def _saved_state(domain: Domain) -> dict:
    engine = make_engine(domain, "bkt", "zpdes")
    drive(engine, ["ada"], steps=2)
    return json.loads(json.dumps(engine.state_dict()))


def _wrong_kind(s):
    s["kind"] = "bkt"


def _no_version(s):
    del s["version"]


def _version_2(s):
    s["version"] = 2


def _no_teacher(s):
    del s["teacher"]


def _model_kind(s):
    s["model"]["kind"] = "pickle"


def _cyclic_domain(s):
    s["domain"]["prerequisites"].append(["B", "A"])


def _bad_model_parameter(s):
    s["model"]["params"]["init"] = {"bogus": 0.5}


def _model_prior_not_a_probability(s):
    s["model"]["params"]["init"] = {"prior": 2.0}


def _model_max_iter_not_a_number(s):
    s["model"]["params"]["max_iter"] = "many"


def _teacher_window_not_a_number(s):
    s["teacher"]["params"]["window"] = "wide"


def _corrupt_model_state(s):
    s["model"]["state"]["slip"] = [1.5, 0.1]


def _corrupt_teacher_rng(s):
    s["teacher"]["rng"] = 5


@pytest.mark.parametrize(
    ("corrupt", "expected"),
    [
        (_wrong_kind, "expected kind 'engine'"),
        (_no_version, "version None is not supported"),
        (_version_2, "version 2 is not supported"),
        (_no_teacher, "lacks 'teacher'"),
        (_model_kind, "not a saved student model"),
        (_cyclic_domain, "cycle"),
        (_bad_model_parameter, "bogus"),
        (_model_prior_not_a_probability, "prior"),
        (_model_max_iter_not_a_number, "many"),
        (_teacher_window_not_a_number, "zpdes"),
        (_corrupt_model_state, "slip"),
        (_corrupt_teacher_rng, "zpdes"),
    ],
)
def test_load_wrong_or_corrupt_state_is_a_one_line_state_error(tmp_path, corrupt, expected):
    state = _saved_state(make_domain())
    corrupt(state)
    path = tmp_path / "engine.json"
    path.write_text(json.dumps(state), encoding="utf-8")
    with pytest.raises(StateError) as info:
        Engine.load(path)
    message = assert_one_line(info.value, path)
    assert message.startswith(f"{path}: ")
    assert expected in message


@pytest.mark.parametrize("data", [[], "engine", 3, None, {"version": 1}])
def test_load_json_that_is_not_an_engine(tmp_path, data):
    path = tmp_path / "other.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(StateError) as info:
        Engine.load(path)
    assert "not a saved mentor engine" in assert_one_line(info.value, path)


def test_from_state_dict_rejects_foreign_objects():
    with pytest.raises(StateError, match="not a saved mentor engine"):
        Engine.from_state_dict(["engine"])
    with pytest.raises(StateError, match="lacks 'domain'"):
        Engine.from_state_dict({"kind": "engine", "version": 1, "model": {}, "teacher": {}})


def test_load_keeps_engines_independent(tmp_path, domain):
    # Two engines loaded from one file do not share state: recording into one
    # leaves the other where the file left it.
    path = tmp_path / "engine.json"
    make_engine(domain, "elo", "fixed").save(path)
    first, second = Engine.load(path), Engine.load(path)
    first.record([Event("ada", "a1", 0.0, 1.0)])
    assert first.state("ada")["answers"] == 1
    assert second.state("ada")["answers"] == 0
    assert second.next("ada") == ["a1"]
    assert np.allclose(second.model.predict("ada", ITEM_IDS), 0.5)
