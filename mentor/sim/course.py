"""Synthetic courses for simulated students: a layered prerequisite graph of
skills, each skill taught by items of increasing difficulty."""

from __future__ import annotations

import numpy as np

from mentor.domain import Domain, Item


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
