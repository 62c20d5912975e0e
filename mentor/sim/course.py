"""Courses for simulated students: a synthetic layered prerequisite graph of
skills (:func:`make_course`) or the real Junyi Academy prerequisite map
(:func:`make_junyi_course`), each skill taught by items of increasing difficulty,
and the part of a course that a set of target skills needs
(:func:`prerequisite_closure`)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import networkx as nx
import numpy as np

from mentor.domain import Domain, Item, load_junyi
from mentor.errors import DomainError


def make_course(
    n_skills: int = 15,
    levels: int = 3,
    layers: int = 4,
    max_parents: int = 2,
    seed: int = 0,
) -> Domain:
    """A course of ``n_skills`` skills spread over ``layers`` layers.

    Every skill outside the first layer gets 1 to ``max_parents`` prerequisites
    drawn from the layer just before it. Each skill has ``levels`` items named
    ``<skill>.<level>`` with difficulties evenly spaced in (0, 1)
    (0.25, 0.5, 0.75 for three levels).

    Parameters
    ----------
    n_skills, levels, layers, max_parents
        Size and shape of the course.
    seed
        Seed of the random prerequisite draw.
    """
    if n_skills < 1 or levels < 1 or layers < 1:
        raise ValueError("a course needs at least one skill, one level and one layer")
    rng = np.random.default_rng(seed)
    layer_of = np.sort(np.arange(n_skills) * min(layers, n_skills) // n_skills)
    skills = [f"S{s:02d}" for s in range(n_skills)]
    prerequisites = []
    for s in range(n_skills):
        previous = np.flatnonzero(layer_of == layer_of[s] - 1)
        if previous.size:
            count = rng.integers(1, min(max_parents, previous.size) + 1)
            for p in rng.choice(previous, size=count, replace=False):
                prerequisites.append((skills[p], skills[s]))
    difficulties = (np.arange(levels) + 1) / (levels + 1)
    items = [
        Item(f"{skill}.{level}", (skill,), float(difficulties[level]))
        for skill in skills
        for level in range(levels)
    ]
    return Domain(items, skills, prerequisites)


def _levels(levels: int) -> np.ndarray:
    if levels < 1:
        raise ValueError("a course needs at least one level")
    return (np.arange(levels) + 1) / (levels + 1)


def make_junyi_course(
    path: str | os.PathLike[str], levels: int = 3, on_cycle: str = "drop"
) -> Domain:
    """The Junyi Academy prerequisite map as a course for simulated students.

    One skill per exercise of the table read by :func:`mentor.domain.load_junyi`
    (exercises listed twice are kept once, and with ``on_cycle="drop"`` the
    self-loops and one edge of the table's three-exercise cycle are dropped, as
    that loader documents; the real table gives 835 skills and 978
    prerequisites). Each skill has ``levels`` items named ``<exercise>.<level>``
    with difficulties evenly spaced in (0, 1), as in :func:`make_course`: the
    table holds no difficulty, so the levels are the simulator's, not Junyi's.
    Items keep the exercise's ``area`` and ``topic`` as attributes; skills keep
    every attribute the loader reads. ``domain.dropped_prerequisites`` lists the
    dropped edges.

    Parameters
    ----------
    path
        The ``junyi_exercise_table.csv`` file (never copied into the package).
    levels
        Items per exercise (3).
    on_cycle
        ``"drop"`` (default) or ``"error"``, passed to :func:`load_junyi`.
    """
    difficulties = _levels(levels)
    exercises = load_junyi(path, on_cycle=on_cycle)
    items = [
        Item(
            f"{skill}.{level}",
            (skill,),
            float(difficulties[level]),
            {
                "area": attributes.get("area", ""),
                "topic": attributes.get("topic", ""),
            },
        )
        for skill, attributes in exercises.skill_attributes.items()
        for level in range(levels)
    ]
    course = Domain(items, exercises.skill_attributes, exercises.graph.edges, source=str(path))
    course.dropped_prerequisites = list(exercises.dropped_prerequisites)
    return course


def prerequisite_closure(domain: Domain, targets: Iterable[Any]) -> Domain:
    """The part of a course that teaches ``targets``: those skills and every skill
    they build on, directly or not (their ancestors in the prerequisite graph).

    Every kept skill keeps all of its prerequisites, so a simulated student meets
    the same prerequisite gates on the part as on the whole course; this is how a
    sub-map of a large map (one topic of the Junyi Academy map and what it needs)
    is taken without cutting chains. The part keeps the domain's skill and item
    order, the skills' and items' attributes, the prerequisites among kept skills,
    the items whose skills are all kept, and the ``dropped_prerequisites`` between
    kept skills.

    Parameters
    ----------
    domain
        The whole course.
    targets
        The skills to teach (at least one).

    Raises
    ------
    UnknownIdError
        If a target is not a skill of the domain.
    DomainError
        If ``targets`` is empty.
    """
    targets = list(dict.fromkeys(targets))
    if not targets:
        raise DomainError("a prerequisite closure needs at least one target skill")
    kept = set(targets)
    for skill in targets:
        domain.prerequisites_of(skill)  # raises UnknownIdError on an unknown skill
        kept |= nx.ancestors(domain.graph, skill)
    skills = {s: a for s, a in domain.skill_attributes.items() if s in kept}
    items = [item for item in domain.items.values() if all(s in kept for s in item.skills)]
    edges = [(p, c) for p, c in domain.graph.edges if p in kept and c in kept]
    part = Domain(items, skills, edges, domain.task_spaces)
    part.dropped_prerequisites = [
        (p, c) for p, c in domain.dropped_prerequisites if p in kept and c in kept
    ]
    return part
