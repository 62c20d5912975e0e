"""The domain model: items, the skills each item exercises (a many-to-many
Q-matrix), the prerequisite graph between skills, and continuous task spaces.

The Q-matrix comes from Tatsuoka's rule-space method (1983); the prerequisite
graph is a directed acyclic graph (edges go from a prerequisite to the skill
that needs it) held in :mod:`networkx`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp

from mentor.domain.task_space import Box
from mentor.errors import CycleError, DomainError, UnknownIdError


@dataclass(frozen=True)
class Item:
    """Something a learner can attempt: a question, an exercise, a task, a data source.

    Parameters
    ----------
    id
        Unique id (string or integer).
    skills
        The skills the item exercises (its row of the Q-matrix).
    difficulty
        Optional difficulty on any scale where larger is harder.
    attributes
        Anything else (text, topic, position on a map), kept as plain data.
    """

    id: Any
    skills: tuple[Any, ...]
    difficulty: float | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)


class Domain:
    """Items, skills, prerequisites and task spaces of one course or task family.

    Parameters
    ----------
    items
        The items; each names its skills.
    skills
        The skills, in a fixed order, optionally as a mapping from skill id to
        attributes. Defaults to the skills the items name, in order of appearance.
    prerequisites
        ``(prerequisite, skill)`` pairs: the first must be known before the second.
    task_spaces
        Named continuous task spaces.
    source
        Where the domain came from, for error messages.

    Raises
    ------
    DomainError
        On a duplicate item, an item or prerequisite naming an unknown skill.
    CycleError
        If the prerequisites contain a cycle; the message names it.
    """

    def __init__(
        self,
        items: Iterable[Item] = (),
        skills: Iterable[Any] | Mapping[Any, Mapping[str, Any]] | None = None,
        prerequisites: Iterable[tuple[Any, Any]] = (),
        task_spaces: Mapping[str, Box] | None = None,
        source: str | None = None,
    ) -> None:
        where = f"{source}: " if source else ""
        self.items: dict[Any, Item] = {}
        for item in items:
            if item.id in self.items:
                raise DomainError(f"{where}duplicate item id {item.id!r}")
            if len(set(item.skills)) != len(item.skills):  # a skill named twice counts once
                item = replace(item, skills=tuple(dict.fromkeys(item.skills)))
            self.items[item.id] = item
        if skills is None:
            ordered = dict.fromkeys(s for item in self.items.values() for s in item.skills)
            self.skill_attributes: dict[Any, dict[str, Any]] = {s: {} for s in ordered}
        elif isinstance(skills, Mapping):
            self.skill_attributes = {s: dict(a) for s, a in skills.items()}
        else:
            self.skill_attributes = {}
            for s in skills:
                if s in self.skill_attributes:
                    raise DomainError(f"{where}duplicate skill id {s!r}")
                self.skill_attributes[s] = {}
        for item in self.items.values():
            for s in item.skills:
                if s not in self.skill_attributes:
                    raise DomainError(f"{where}item {item.id!r} names unknown skill {s!r}")
        self.graph = nx.DiGraph()
        self.graph.add_nodes_from(self.skill_attributes)
        for parent, child in prerequisites:
            for s in (parent, child):
                if s not in self.skill_attributes:
                    raise DomainError(
                        f"{where}prerequisite {parent!r} -> {child!r} names unknown skill {s!r}"
                    )
            self.graph.add_edge(parent, child)
        try:
            cycle = nx.find_cycle(self.graph)
        except nx.NetworkXNoCycle:
            cycle = None
        if cycle:
            raise CycleError([edge[0] for edge in cycle], source)
        self.task_spaces: dict[str, Box] = dict(task_spaces or {})
        #: Prerequisite edges a loader removed to break cycles (see :func:`load_junyi`).
        self.dropped_prerequisites: list[tuple[Any, Any]] = []
        self._items_of: dict[Any, list[Any]] = {s: [] for s in self.skill_attributes}
        for item in self.items.values():
            for s in item.skills:
                self._items_of[s].append(item.id)
        self._item_index = {item_id: i for i, item_id in enumerate(self.items)}
        self._skill_index = {s: j for j, s in enumerate(self.skill_attributes)}

    # ---------------------------------------------------------------- construct
    @classmethod
    def identity(cls, item_ids: Iterable[Any]) -> Domain:
        """A domain where every item is its own skill, with no prerequisites.

        This is how knowledge-tracing benchmarks that give only a skill id per
        answer are modelled.
        """
        return cls([Item(i, (i,)) for i in dict.fromkeys(item_ids)])

    # ---------------------------------------------------------------- queries
    @property
    def skills(self) -> list[Any]:
        """Skill ids in their fixed order."""
        return list(self.skill_attributes)

    @property
    def item_ids(self) -> list[Any]:
        """Item ids in their fixed order."""
        return list(self.items)

    def item(self, item_id: Any) -> Item:
        """The item with this id."""
        try:
            return self.items[item_id]
        except KeyError:
            raise UnknownIdError(f"unknown item {item_id!r}") from None

    def skills_of(self, item_id: Any) -> tuple[Any, ...]:
        """The skills an item exercises."""
        return self.item(item_id).skills

    def items_of(self, skill: Any) -> list[Any]:
        """The items that exercise a skill."""
        try:
            return list(self._items_of[skill])
        except KeyError:
            raise UnknownIdError(f"unknown skill {skill!r}") from None

    def prerequisites_of(self, skill: Any) -> list[Any]:
        """The direct prerequisites of a skill."""
        self._check_skill(skill)
        return list(self.graph.predecessors(skill))

    def dependents_of(self, skill: Any) -> list[Any]:
        """The skills that have this one as a direct prerequisite."""
        self._check_skill(skill)
        return list(self.graph.successors(skill))

    def topological_order(self) -> list[Any]:
        """Skills ordered so that every prerequisite comes before its dependents
        (ties broken by the skills' fixed order)."""
        return list(nx.lexicographical_topological_sort(self.graph, key=self._skill_index.get))

    def depth(self) -> dict[Any, int]:
        """Length of the longest prerequisite chain that ends at each skill (roots: 0)."""
        depth: dict[Any, int] = {}
        for s in self.topological_order():
            depth[s] = max((depth[p] + 1 for p in self.graph.predecessors(s)), default=0)
        return depth

    def item_index(self, item_id: Any) -> int:
        """Position of an item in :attr:`item_ids`."""
        try:
            return self._item_index[item_id]
        except KeyError:
            raise UnknownIdError(f"unknown item {item_id!r}") from None

    def skill_index(self, skill: Any) -> int:
        """Position of a skill in :attr:`skills`."""
        self._check_skill(skill)
        return self._skill_index[skill]

    def q_matrix(self) -> sp.csr_matrix:
        """The Q-matrix: a sparse 0/1 matrix of items (rows, in :attr:`item_ids`
        order) by skills (columns, in :attr:`skills` order)."""
        rows, cols = [], []
        for i, item in enumerate(self.items.values()):
            for s in item.skills:
                rows.append(i)
                cols.append(self._skill_index[s])
        data = np.ones(len(rows), dtype=np.int8)
        return sp.csr_matrix((data, (rows, cols)), shape=(len(self.items), len(self._skill_index)))

    def _check_skill(self, skill: Any) -> None:
        if skill not in self.skill_attributes:
            raise UnknownIdError(f"unknown skill {skill!r}")

    def __repr__(self) -> str:
        return (
            f"Domain({len(self.items)} items, {len(self.skill_attributes)} skills, "
            f"{self.graph.number_of_edges()} prerequisites, {len(self.task_spaces)} task spaces)"
        )

    # ---------------------------------------------------------------- plain data
    def state_dict(self) -> dict[str, Any]:
        """The domain as JSON-able data (the format :meth:`from_state_dict` reads)."""
        return {
            "skills": [{"id": s, **attrs} for s, attrs in self.skill_attributes.items()],
            "items": [
                {
                    "id": item.id,
                    "skills": list(item.skills),
                    **({"difficulty": item.difficulty} if item.difficulty is not None else {}),
                    **({"attributes": dict(item.attributes)} if item.attributes else {}),
                }
                for item in self.items.values()
            ],
            "prerequisites": [[p, c] for p, c in self.graph.edges],
            "task_spaces": {name: box.state_dict() for name, box in self.task_spaces.items()},
        }

    @classmethod
    def from_state_dict(cls, data: Mapping[str, Any], source: str | None = None) -> Domain:
        """Build a domain from plain data (see :meth:`state_dict` for the layout)."""
        where = f"{source}: " if source else ""
        if not isinstance(data, Mapping):
            raise DomainError(f"{where}a domain must be a JSON object, got {type(data).__name__}")
        try:
            items = []
            for k, raw in enumerate(data.get("items", [])):
                if "id" not in raw:
                    raise DomainError(f"{where}items[{k}] has no 'id'")
                skills = raw.get("skills", [raw["id"]])
                if isinstance(skills, (str, int)):
                    skills = [skills]
                difficulty = raw.get("difficulty")
                items.append(
                    Item(
                        raw["id"],
                        tuple(skills),
                        None if difficulty is None else float(difficulty),
                        dict(raw.get("attributes", {})),
                    )
                )
            skills_raw = data.get("skills")
            skills = None
            if skills_raw is not None:
                skills = {}
                for k, s in enumerate(skills_raw):
                    if isinstance(s, Mapping):
                        if "id" not in s:
                            raise DomainError(f"{where}skills[{k}] has no 'id'")
                        skills[s["id"]] = {a: v for a, v in s.items() if a != "id"}
                    else:
                        skills[s] = {}
            prerequisites = []
            for k, pair in enumerate(data.get("prerequisites", [])):
                if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                    raise DomainError(
                        f"{where}prerequisites[{k}] must be a [prerequisite, skill] pair, "
                        f"got {pair!r}"
                    )
                prerequisites.append((pair[0], pair[1]))
            spaces = {n: Box.from_state_dict(b) for n, b in data.get("task_spaces", {}).items()}
            # Inside the try: an id that is a JSON list or object is unhashable (TypeError).
            return cls(items, skills, prerequisites, spaces, source=source)
        except (TypeError, ValueError, AttributeError) as error:
            if isinstance(error, DomainError):
                raise
            raise DomainError(f"{where}malformed domain: {error}") from None
