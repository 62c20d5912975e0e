"""mentor.domain: items, skills, the Q-matrix, the prerequisite graph, task spaces
(Box) and the loaders (JSON, CSV tables, the Junyi exercise table).

Expected values are worked out by hand in the comments, or recomputed from the
real Junyi table with plain csv + networkx.
"""

from __future__ import annotations

import csv
import json
import warnings
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mentor.domain import Box, Domain, Item, load_domain, load_domain_csv, load_junyi, save_domain
from mentor.errors import CycleError, DataError, DomainError, MentorError, UnknownIdError

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
JUNYI = SHARED / "data/graphs/junyi_exercise_table.csv"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def contains_all(message: str, *parts: str) -> None:
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"


def course() -> Domain:
    # items by skills:      a  b  c
    #   i1 (a)              1  0  0
    #   i2 (a, b)           1  1  0
    #   i3 (c)              0  0  1
    #   i4 (b, c)           0  1  1
    # prerequisites a -> b -> c and a -> c
    return Domain(
        [
            Item("i1", ("a",), difficulty=-1.0),
            Item("i2", ("a", "b")),
            Item("i3", ("c",), attributes={"text": "3 + 4 = ?"}),
            Item("i4", ("b", "c"), difficulty=2.5),
        ],
        prerequisites=[("a", "b"), ("b", "c"), ("a", "c")],
    )


# ====================================================================== items, skills, Q-matrix


def test_items_and_skills_in_their_fixed_order():
    domain = course()
    assert domain.item_ids == ["i1", "i2", "i3", "i4"]
    assert domain.skills == ["a", "b", "c"]  # order of first appearance in the items
    assert domain.item("i3").attributes == {"text": "3 + 4 = ?"}
    assert domain.skills_of("i4") == ("b", "c")
    assert domain.items_of("a") == ["i1", "i2"]
    assert domain.items_of("c") == ["i3", "i4"]
    assert domain.item_index("i3") == 2 and domain.skill_index("c") == 2
    assert repr(domain) == "Domain(4 items, 3 skills, 3 prerequisites, 0 task spaces)"


def test_q_matrix_by_hand():
    q = course().q_matrix()
    assert q.shape == (4, 3) and q.nnz == 6 and q.dtype == np.int8
    expected = [[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 1]]
    assert q.toarray().tolist() == expected
    assert q.indptr.tolist() == [0, 1, 3, 4, 6]
    assert q.indices.tolist() == [0, 0, 1, 2, 1, 2]


def test_explicit_skills_fix_columns_and_may_have_no_items():
    domain = Domain([Item(1, ("y",)), Item(2, ("x", "y"))], skills=["x", "y", "z"])
    assert domain.q_matrix().toarray().tolist() == [[0, 1, 0], [1, 1, 0]]
    assert domain.items_of("z") == []
    with_attributes = Domain([Item(1, ("y",))], skills={"y": {"area": "maths"}, "x": {}})
    assert with_attributes.skills == ["y", "x"]
    assert with_attributes.skill_attributes["y"] == {"area": "maths"}


def test_a_skill_named_twice_in_an_item_counts_once():
    # the Q-matrix is 0/1: a duplicated entry used to be summed into a 2
    domain = Domain([Item("x", ("a", "b", "a"))])
    assert domain.skills_of("x") == ("a", "b")
    assert domain.q_matrix().toarray().tolist() == [[1, 1]]
    assert domain.items_of("a") == ["x"]


def test_identity_domain():
    domain = Domain.identity([3, 1, 3, 2])
    assert domain.item_ids == [3, 1, 2] and domain.skills == [3, 1, 2]
    assert domain.q_matrix().toarray().tolist() == np.eye(3, dtype=int).tolist()


def test_unknown_ids_raise_unknown_id_error():
    domain = course()
    for call, name in [
        (lambda: domain.item("i9"), "unknown item 'i9'"),
        (lambda: domain.skills_of("i9"), "unknown item 'i9'"),
        (lambda: domain.item_index("i9"), "unknown item 'i9'"),
        (lambda: domain.items_of("z"), "unknown skill 'z'"),
        (lambda: domain.prerequisites_of("z"), "unknown skill 'z'"),
        (lambda: domain.dependents_of("z"), "unknown skill 'z'"),
        (lambda: domain.skill_index("z"), "unknown skill 'z'"),
    ]:
        with pytest.raises(UnknownIdError) as info:
            call()
        assert str(info.value) == name  # not quoted the way a KeyError would be
        assert isinstance(info.value, KeyError) and isinstance(info.value, MentorError)


def test_inconsistent_domains_raise_domain_error():
    with pytest.raises(DomainError, match="f.json: duplicate item id 'i1'"):
        Domain([Item("i1", ("a",)), Item("i1", ("b",))], source="f.json")
    with pytest.raises(DomainError, match="item 'i1' names unknown skill 'b'"):
        Domain([Item("i1", ("a", "b"))], skills=["a"])
    with pytest.raises(DomainError, match="duplicate skill id 'a'"):
        Domain([], skills=["a", "b", "a"])
    with pytest.raises(DomainError, match="prerequisite 'a' -> 'q' names unknown skill 'q'"):
        Domain([Item("i1", ("a",))], prerequisites=[("a", "q")])
    with pytest.raises(DomainError, match="names unknown skill 'q'"):
        Domain([Item("i1", ("a",))], prerequisites=[("q", "a")])


# ====================================================================== prerequisites


def test_prerequisites_dependents_order_and_depth():
    domain = course()
    assert domain.prerequisites_of("a") == []
    assert sorted(domain.prerequisites_of("c")) == ["a", "b"]
    assert sorted(domain.dependents_of("a")) == ["b", "c"]
    assert domain.dependents_of("c") == []
    assert domain.topological_order() == ["a", "b", "c"]
    assert domain.depth() == {"a": 0, "b": 1, "c": 2}  # a -> b -> c beats a -> c


def test_topological_order_breaks_ties_by_skill_order():
    # skills s1..s4, only s3 -> s1. Ready at first: s2, s3, s4; take s2 (earliest),
    # then s3, which frees s1 (earlier than s4), then s4.
    domain = Domain([], skills=["s1", "s2", "s3", "s4"], prerequisites=[("s3", "s1")])
    assert domain.topological_order() == ["s2", "s3", "s1", "s4"]
    assert domain.depth() == {"s1": 1, "s2": 0, "s3": 0, "s4": 0}
    reverse = Domain([], skills=["z", "y", "x"])
    assert reverse.topological_order() == ["z", "y", "x"]  # not alphabetical


def test_depth_is_the_longest_chain():
    # a -> b -> d -> e, a -> c -> d, a -> e: e is 3 steps from a on its longest path
    domain = Domain(
        [],
        skills=list("abcde"),
        prerequisites=[("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("d", "e"), ("a", "e")],
    )
    assert domain.depth() == {"a": 0, "b": 1, "c": 1, "d": 2, "e": 3}


def test_cycle_error_names_the_cycle():
    with pytest.raises(CycleError) as info:
        Domain(
            [],
            skills=["a", "b", "c", "d"],
            prerequisites=[("d", "a"), ("a", "b"), ("b", "c"), ("c", "a")],
            source="course.json",
        )
    error = info.value
    assert isinstance(error, DomainError) and isinstance(error, MentorError)
    assert sorted(error.cycle) == ["a", "b", "c"]
    path = " -> ".join([*error.cycle, error.cycle[0]])  # e.g. "a -> b -> c -> a"
    assert str(error) == f"course.json: prerequisite graph has a cycle: {path}"
    edges = {("a", "b"), ("b", "c"), ("c", "a")}
    assert all((error.cycle[k - 1], error.cycle[k]) in edges for k in range(3))
    with pytest.raises(CycleError, match=r"^prerequisite graph has a cycle: x -> x$"):
        Domain([], skills=["x"], prerequisites=[("x", "x")])
    # integer skill ids: named as text in the message, kept as integers in .cycle
    # (this used to be a TypeError inside CycleError)
    with pytest.raises(CycleError, match=r"cycle: (1 -> 2 -> 1|2 -> 1 -> 2)$") as info:
        Domain([], skills=[1, 2, 3], prerequisites=[(1, 2), (2, 1)])
    assert sorted(info.value.cycle) == [1, 2]


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 8), st.data())
def test_property_random_dags_order_and_depth(n, data):
    # an edge i -> j only for i < j, so the graph is acyclic; skills listed shuffled
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    edges = data.draw(st.lists(st.sampled_from(pairs), unique=True)) if pairs else []
    skills = data.draw(st.permutations(range(n)))
    domain = Domain([], skills=skills, prerequisites=edges)
    order = domain.topological_order()
    assert sorted(order) == list(range(n))
    position = {s: k for k, s in enumerate(order)}
    assert all(position[p] < position[c] for p, c in edges)
    depth = domain.depth()
    for s in range(n):
        parents = [p for p, c in edges if c == s]
        assert depth[s] == max((depth[p] + 1 for p in parents), default=0)


@settings(max_examples=50, deadline=None)
@given(st.integers(2, 6), st.data())
def test_property_a_back_edge_always_raises_a_true_cycle(n, data):
    chain = [(i, i + 1) for i in range(n - 1)]  # 0 -> 1 -> ... -> n-1
    back = data.draw(
        st.tuples(st.integers(1, n - 1), st.integers(0, n - 1)).filter(lambda e: e[1] <= e[0])
    )
    edges = [*chain, back]
    with pytest.raises(CycleError) as info:
        Domain([], skills=range(n), prerequisites=edges)
    cycle = info.value.cycle
    # the named cycle is back[1] .. back[0], closed by the back edge
    assert sorted(cycle) == list(range(back[1], back[0] + 1))
    assert all((cycle[k - 1], cycle[k]) in set(edges) for k in range(len(cycle)))


# ====================================================================== plain data


def full_domain() -> Domain:
    return Domain(
        [
            Item("add", ("arith",), 0.5, {"text": "2 + 2", "tags": ["easy"]}),
            Item(7, ("arith", "alg")),
        ],
        skills={"arith": {"area": "numbers"}, "alg": {}},
        prerequisites=[("arith", "alg")],
        task_spaces={"walker": Box([0.0, 1.0], [2.0, 5.0], ["stump", "gap"])},
    )


def test_state_dict_layout():
    assert full_domain().state_dict() == {
        "skills": [{"id": "arith", "area": "numbers"}, {"id": "alg"}],
        "items": [
            {
                "id": "add",
                "skills": ["arith"],
                "difficulty": 0.5,
                "attributes": {"text": "2 + 2", "tags": ["easy"]},
            },
            {"id": 7, "skills": ["arith", "alg"]},
        ],
        "prerequisites": [["arith", "alg"]],
        "task_spaces": {
            "walker": {"low": [0.0, 1.0], "high": [2.0, 5.0], "names": ["stump", "gap"]}
        },
    }


def test_dict_round_trip_through_json():
    domain = full_domain()
    data = json.loads(json.dumps(domain.state_dict()))
    back = Domain.from_state_dict(data)
    assert back.state_dict() == domain.state_dict()
    assert back.item(7).skills == ("arith", "alg")  # integer ids survive JSON
    assert back.item("add") == domain.item("add")
    assert back.task_spaces["walker"] == domain.task_spaces["walker"]
    assert list(back.graph.edges) == [("arith", "alg")]


def test_from_state_dict_defaults():
    domain = Domain.from_state_dict({"items": [{"id": "a"}, {"id": "b", "skills": "s"}]})
    assert domain.skills == ["a", "s"]
    assert domain.skills_of("a") == ("a",) and domain.skills_of("b") == ("s",)
    assert len(Domain.from_state_dict({}).items) == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([1, 2], "src.json: a domain must be a JSON object, got list"),
        ({"items": [{"skills": ["a"]}]}, "src.json: items[0] has no 'id'"),
        ({"items": [{"id": "a"}], "skills": [{"area": "x"}]}, "skills[0] has no 'id'"),
        (
            {"prerequisites": [["a", "b", "c"]]},
            "prerequisites[0] must be a [prerequisite, skill] pair",
        ),
        ({"prerequisites": ["ab"]}, "prerequisites[0] must be a [prerequisite, skill] pair"),
        ({"items": [{"id": "a", "difficulty": "hard"}]}, "src.json: malformed domain"),
        ({"items": [5]}, "src.json: malformed domain"),
        ({"items": [{"id": ["a"]}]}, "malformed domain: unhashable type: 'list'"),
        ({"items": [{"id": "a", "skills": [{"s": 1}]}]}, "malformed domain: unhashable"),
        ({"task_spaces": {"t": [0, 1]}}, "a box needs 'low' and 'high' lists"),
        ({"task_spaces": {"t": {"low": [0]}}}, "a box needs 'low' and 'high' lists"),
        ({"task_spaces": {"t": {"low": [1], "high": [0]}}}, "needs finite low < high"),
        ({"items": [{"id": "a"}], "prerequisites": [["a", "a"]]}, "cycle: a -> a"),
        ({"items": [{"id": "a", "skills": ["b"]}], "skills": ["a"]}, "names unknown skill 'b'"),
    ],
)
def test_from_state_dict_errors(data, message):
    with pytest.raises(DomainError) as info:
        Domain.from_state_dict(data, source="src.json")
    assert message in str(info.value)


# ====================================================================== loaders


def test_save_and_load_domain_json(tmp_path):
    path = tmp_path / "sub" / "course.json"
    save_domain(full_domain(), path)
    assert sorted(p.name for p in path.parent.iterdir()) == ["course.json"]
    assert load_domain(path).state_dict() == full_domain().state_dict()


def test_load_domain_hand_written_json(tmp_path):
    path = write(
        tmp_path / "d.json",
        '{"items": [{"id": "q1", "skills": ["add"]}, {"id": "q2", "skills": ["add", "carry"]}],\n'
        ' "prerequisites": [["add", "carry"]]}\n',
    )
    domain = load_domain(path)
    assert domain.q_matrix().toarray().tolist() == [[1, 0], [1, 1]]
    assert domain.prerequisites_of("carry") == ["add"]


def test_load_domain_errors(tmp_path):
    bad = write(tmp_path / "bad.json", '{"items": [\n  {"id": 1},\n  oops\n]}')
    with pytest.raises(DataError) as info:
        load_domain(bad)
    contains_all(str(info.value), f"{bad}:3:", "invalid JSON")
    with pytest.raises(DataError, match="unsupported domain file type"):
        load_domain(write(tmp_path / "d.yaml", "items: []"))
    with pytest.raises(DataError, match="file not found"):
        load_domain(tmp_path / "none.json")
    with pytest.raises(DataError, match="file not found"):
        load_domain(tmp_path / "none.csv")
    cyclic = write(
        tmp_path / "cyc.json", '{"skills": ["a", "b"], "prerequisites": [["a","b"],["b","a"]]}'
    )
    with pytest.raises(CycleError) as info:
        load_domain(cyclic)
    assert str(info.value).startswith(f"{cyclic}: prerequisite graph has a cycle: ")


ITEMS_CSV = (
    "item,skills,difficulty,topic\n"
    "q1,add,0.5,arithmetic\n"
    'q2,"add,carry",,\n'
    "q3,add; carry ;,1,arithmetic\n"
    "q4,,,\n"
)


def test_load_domain_csv_items(tmp_path):
    path = write(tmp_path / "items.csv", ITEMS_CSV)
    for domain in (load_domain_csv(path), load_domain(path)):
        assert domain.item_ids == ["q1", "q2", "q3", "q4"]
        assert domain.skills == ["add", "carry", "q4"]  # an empty skills field: its own skill
        assert domain.item("q1") == Item("q1", ("add",), 0.5, {"topic": "arithmetic"})
        assert domain.item("q2") == Item("q2", ("add", "carry"), None, {})
        assert domain.skills_of("q3") == ("add", "carry")
        assert domain.item("q3").difficulty == 1.0
        assert domain.q_matrix().toarray().tolist() == [[1, 0, 0], [1, 1, 0], [1, 1, 0], [0, 0, 1]]


def test_load_domain_csv_with_prerequisites(tmp_path):
    items = write(tmp_path / "items.csv", ITEMS_CSV)
    prerequisites = write(tmp_path / "pre.csv", "prerequisite,skill\nadd,carry\n\ncarry,q4\n")
    domain = load_domain_csv(items, prerequisites)
    assert domain.topological_order() == ["add", "carry", "q4"]
    assert domain.depth() == {"add": 0, "carry": 1, "q4": 2}


def test_load_domain_csv_prerequisite_errors(tmp_path):
    items = write(tmp_path / "items.csv", ITEMS_CSV)
    unknown = write(tmp_path / "pre.csv", "prerequisite,skill\nadd,carry\ncarry,mult\n")
    with pytest.raises(DataError) as info:
        load_domain_csv(items, unknown)
    assert str(info.value) == (
        f"{unknown}:3, field 'skill', value 'mult': unknown skill (no item exercises it)"
    )
    unknown_first = write(tmp_path / "pre2.csv", "prerequisite,skill\nsub,carry\n")
    with pytest.raises(DataError, match="field 'prerequisite', value 'sub'") as info:
        load_domain_csv(items, unknown_first)
    assert info.value.line == 2 and info.value.file == str(unknown_first)
    missing = write(tmp_path / "pre3.csv", "from,skill\nadd,carry\n")
    with pytest.raises(DataError) as info:
        load_domain_csv(items, missing)
    contains_all(str(info.value), f"{missing}:1, field 'prerequisite'", "missing column")
    cyclic = write(tmp_path / "pre4.csv", "prerequisite,skill\nadd,carry\ncarry,add\n")
    with pytest.raises(CycleError) as info:
        load_domain_csv(items, cyclic)
    assert sorted(info.value.cycle) == ["add", "carry"]
    with pytest.raises(DataError, match="file not found"):
        load_domain_csv(items, tmp_path / "none.csv")


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("item,skill\nq1,a\n", [":1, field 'skills'", "missing column (header has: item, skill)"]),
        ("item,skills\nq1,a\nq2,b\nq1,c\n", [":4, field 'item', value 'q1'", "first on line 2"]),
        ("item,skills,difficulty\nq1,a,hard\n", [":2, field 'difficulty', value 'hard'"]),
        ("item,skills\n,a\n", [":2, field 'item', value ''", "missing value"]),
        ("item,skills\nq1,a,extra\n", [":2:", "row has 3 fields but the header has 2"]),
        ("item,skills,difficulty\nq1\n", [":2:", "row has 1 fields but the header has 3"]),
        ("", [":1:", "file is empty"]),
    ],
)
def test_load_domain_csv_item_errors(tmp_path, text, parts):
    path = write(tmp_path / "items.csv", text)
    with pytest.raises(DataError) as info:
        load_domain_csv(path)
    contains_all(str(info.value), str(path), *parts)


# ====================================================================== Box


def test_box_validation():
    for low, high, message in [
        ([0, 0], [1], "same, non-zero length"),
        ([], [], "same, non-zero length"),
        ([0, 1], [1, 1], "dimension 1 needs finite low < high, got 1.0, 1.0"),
        ([2], [1], "dimension 0 needs finite low < high"),
        ([0], [np.inf], "needs finite"),
        ([np.nan], [1], "needs finite"),
    ]:
        with pytest.raises(DomainError) as info:
            Box(low, high)
        assert message in str(info.value)
    with pytest.raises(DomainError, match="dimension 'gap' needs finite low < high"):
        Box([0, 3], [1, 2], names=["stump", "gap"])
    with pytest.raises(DomainError, match="box has 2 dimensions but 1 names"):
        Box([0, 0], [1, 1], names=["x"])


def test_box_sample_contains_clip():
    box = Box([0, -1, 10], [1, 1, 10.5], names=("a", "b", "c"))
    assert box.dim == 3 and box.low == (0.0, -1.0, 10.0) and box.names == ("a", "b", "c")
    points = box.sample(np.random.default_rng(0), 500)
    assert points.shape == (500, 3)
    assert np.all(points >= box.low) and np.all(points <= box.high)
    assert box.contains(points).all()
    assert np.array_equal(points, box.sample(np.random.default_rng(0), 500))  # seeded
    assert not np.array_equal(points, box.sample(np.random.default_rng(1), 500))
    # uniform: each coordinate's mean near the middle (sd of the mean ~ width / sqrt(12 * 500))
    assert np.allclose(points.mean(axis=0), [0.5, 0.0, 10.25], atol=0.05)
    assert box.sample(np.random.default_rng(0)).shape == (1, 3)

    assert box.contains([[0, -1, 10], [1, 1, 10.5], [0.5, 0, 10.2]]).tolist() == [True] * 3
    assert (
        box.contains([[1.01, 0, 10.2], [0.5, 0, 9.99], [0.5, np.nan, 10.2]]).tolist() == [False] * 3
    )
    assert box.contains([0.5, 0, 10.2]).tolist() == [True]  # one point as a flat list
    assert box.clip([[2, -3, 10.2], [-1, 0.5, 11]]).tolist() == [[1, -1, 10.2], [0, 0.5, 10.5]]


def test_box_dict_round_trip():
    box = Box([0, 1], [2, 3], ["x", "y"])
    assert box.state_dict() == {"low": [0.0, 1.0], "high": [2.0, 3.0], "names": ["x", "y"]}
    assert Box.from_state_dict(json.loads(json.dumps(box.state_dict()))) == box
    assert Box.from_state_dict({"low": [0], "high": [1]}) == Box([0], [1])
    with pytest.raises(DomainError, match="a box needs 'low' and 'high' lists"):
        Box.from_state_dict({"high": [1]})


# ====================================================================== Junyi

JUNYI_HEADER = (
    "name,live,prerequisites,h_position,v_position,creation_date,pretty_display_name,topic,area\n"
)


def test_load_junyi_small_table(tmp_path):
    path = write(
        tmp_path / "junyi.csv",
        JUNYI_HEADER
        + "add,TRUE,,1,2,2012-10-11 17:55:24.8 UTC,Addition,arith,math\n"
        + 'carry,false,"add,add",,,2012-10-12 00:00:00 UTC,Carrying,arith,math\n'
        + "add,TRUE,carry,9,9,2015-01-01 00:00:00 UTC,Again,other,other\n",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to drop, so no warning
        domain = load_junyi(path)
    assert domain.skills == ["add", "carry"]  # the second "add" row is ignored
    assert list(domain.graph.edges) == [("add", "carry")]  # the repeated prerequisite once
    assert domain.skill_attributes["add"] == {
        "topic": "arith",
        "area": "math",
        "name": "Addition",
        "live": True,
        "position": [1, 2],
    }
    assert domain.skill_attributes["carry"]["live"] is False
    assert "position" not in domain.skill_attributes["carry"]  # both cells blank: no position
    assert domain.item("carry") == Item("carry", ("carry",), attributes={"area": "math"})
    assert domain.dropped_prerequisites == []


@pytest.mark.parametrize(
    ("cells", "field", "value"), [("3,x", "v_position", "x"), (",2", "h_position", "")]
)
def test_a_malformed_map_position_is_named(tmp_path, cells, field, value):
    path = write(
        tmp_path / "junyi.csv",
        JUNYI_HEADER
        + "add,TRUE,,1,2,2012-10-11 17:55:24.8 UTC,Addition,arith,math\n"
        + f"carry,TRUE,add,{cells},2012-10-12 00:00:00 UTC,Carrying,arith,math\n",
    )
    with pytest.raises(DataError) as info:
        load_junyi(path)
    contains_all(str(info.value), f"{path}:3", f"field '{field}', value '{value}'", "integer")


def test_load_junyi_errors(tmp_path):
    path = write(tmp_path / "j.csv", "name,prerequisites\na,b\n")
    with pytest.raises(DataError) as info:
        load_junyi(path)
    contains_all(str(info.value), str(path), "field 'prerequisites', value 'b'", "not in the table")
    with pytest.raises(DomainError, match="on_cycle must be 'drop' or 'error'"):
        load_junyi(path, on_cycle="ignore")
    with pytest.raises(DataError, match="field 'name'"):
        load_junyi(write(tmp_path / "k.csv", "title,prerequisites\na,\n"))


def test_load_junyi_breaks_a_cycle_at_the_newest_prerequisite(tmp_path):
    # a needs c, b needs a, c needs b. Prerequisites' creation: c 2013 (newest),
    # a 2012, b unknown (oldest) -> drop c -> a. The missing date used to crash
    # (naive datetime.min compared with aware dates).
    path = write(
        tmp_path / "j.csv",
        "name,prerequisites,creation_date\n"
        "a,c,2012-01-01 00:00:00 UTC\n"
        "b,a,\n"
        "c,b,2013-01-01 00:00:00 UTC\n"
        "d,d,2011-01-01 00:00:00\n",
    )
    with pytest.warns(UserWarning, match="dropped 2 prerequisite edges") as record:
        domain = load_junyi(path)
    assert domain.dropped_prerequisites == [("d", "d"), ("c", "a")]
    assert sorted(domain.graph.edges) == [("a", "b"), ("b", "c")]
    contains_all(str(record[0].message), "d -> d", "c -> a")
    with pytest.raises(CycleError, match="cycle: d -> d"):
        load_junyi(path, on_cycle="error")


def independent_junyi():
    """Rows, first-kept skills and the prerequisite graph, with plain csv + networkx."""
    with open(JUNYI, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    first: dict[str, dict[str, str]] = {}
    for row in rows:
        first.setdefault(row["name"].strip(), row)
    graph = nx.DiGraph()
    graph.add_nodes_from(first)
    for name, row in first.items():
        for parent in row["prerequisites"].split(","):
            if parent.strip():
                graph.add_edge(parent.strip(), name)
    return rows, first, graph


@pytest.mark.skipif(not JUNYI.is_file(), reason=f"{JUNYI} not present")
def test_load_junyi_real_table_drops_self_loops_and_one_edge_of_the_three_cycle():
    rows, first, graph = independent_junyi()
    assert len(rows) == 837 and len(first) == 835  # README: 837 exercises, two listed twice
    assert set(nx.nodes_with_selfloops(graph)) == {"proportions_1", "number_sense_length_l1"}
    cycles = [c for c in nx.simple_cycles(graph) if len(c) > 1]
    triangle = {
        "radical_multiplication_and_division",
        "simplifying_radicals",
        "adding_and_subtracting_radicals",
    }
    assert len(cycles) == 1 and set(cycles[0]) == triangle
    triangle_edges = [(p, c) for p, c in graph.edges if p in triangle and c in triangle]
    assert len(triangle_edges) == 3
    # the documented rule: drop the edge whose prerequisite was created last. The dates
    # all read "YYYY-MM-DD hh:mm:ss.ffff UTC", so as text they sort like the times.
    newest = max(triangle_edges, key=lambda e: first[e[0]]["creation_date"])
    assert newest == ("radical_multiplication_and_division", "simplifying_radicals")

    with pytest.warns(
        UserWarning, match="dropped 3 prerequisite edges that formed cycles"
    ) as record:
        domain = load_junyi(JUNYI)
    assert len(domain.skills) == 835 and len(domain.items) == 835
    assert nx.is_directed_acyclic_graph(domain.graph)
    dropped = domain.dropped_prerequisites
    assert sorted(dropped[:2]) == [
        ("number_sense_length_l1", "number_sense_length_l1"),
        ("proportions_1", "proportions_1"),
    ]
    assert dropped[2] == newest and len(dropped) == 3
    assert set(domain.graph.edges) == set(graph.edges) - set(dropped)
    contains_all(str(record[0].message), str(JUNYI), *(f"{p} -> {c}" for p, c in dropped))
    assert len(domain.topological_order()) == 835


@pytest.mark.skipif(not JUNYI.is_file(), reason=f"{JUNYI} not present")
def test_load_junyi_real_table_on_cycle_error():
    _, _, graph = independent_junyi()
    with pytest.raises(CycleError) as info:
        load_junyi(JUNYI, on_cycle="error")
    cycle = info.value.cycle
    assert all(graph.has_edge(cycle[k - 1], cycle[k]) for k in range(len(cycle)))
    path = " -> ".join([*cycle, cycle[0]])
    assert str(info.value) == f"{JUNYI}: prerequisite graph has a cycle: {path}"
