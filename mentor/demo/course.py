"""The demo course "Arithmetic and fractions": 18 skills, their prerequisite
graph, and three question templates per skill (levels 1 to 3).

Every item is one skill at one level; its attributes name the template that
generates its questions (:mod:`mentor.demo.questions`) and its level. Item
difficulties are 0.2, 0.5 and 0.8 for levels 1, 2 and 3, on the [0, 1] scale
that :mod:`mentor.sim` uses, so simulated students can take the course too.
"""

from __future__ import annotations

from typing import Any

from mentor.domain import Domain

#: The course's id in the service.
COURSE_ID = "arithmetic"
COURSE_NAME = "Arithmetic and fractions"
LEVELS = (1, 2, 3)
DIFFICULTY = {1: 0.2, 2: 0.5, 3: 0.8}

#: Skill id -> (name, what the learner can do once it is mastered).
SKILLS: dict[str, tuple[str, str]] = {
    "count": ("Counting", "Say the numbers in order, forwards and backwards, in steps."),
    "add10": ("Addition within 10", "Add two numbers whose sum is at most 10."),
    "place_value": ("Place value", "Tell tens and ones (and hundreds) apart in a number."),
    "sub10": ("Subtraction within 10", "Take a number away from one up to 10."),
    "add_carry": ("Addition with carrying", "Add two- and three-digit numbers, carrying."),
    "sub_borrow": ("Subtraction with borrowing", "Subtract multi-digit numbers, borrowing."),
    "mult_tables": ("Times tables", "Know the multiplication facts up to 12 x 12."),
    "long_mult": ("Multi-digit multiplication", "Multiply a two-digit number by another."),
    "division": ("Division", "Divide exactly, using the times tables."),
    "fractions": ("What a fraction is", "Name the fraction of a whole that is taken."),
    "fraction_of": ("Fraction of a number", "Work out 3/4 of 20 and the like."),
    "equivalent": ("Equivalent fractions", "Scale and simplify fractions."),
    "compare": ("Comparing fractions", "Tell which of two fractions is larger."),
    "add_like": ("Adding like fractions", "Add and subtract fractions with one denominator."),
    "add_unlike": ("Adding unlike fractions", "Add and subtract with different denominators."),
    "mult_fractions": ("Multiplying fractions", "Multiply fractions and whole numbers."),
    "decimals": ("Decimals", "Write fractions as decimals; add and multiply decimals."),
    "percentages": ("Percentages", "Find a percentage of an amount, and one amount as a percent."),
}

#: (prerequisite, skill) pairs: the first is needed before the second.
PREREQUISITES: list[tuple[str, str]] = [
    ("count", "add10"),
    ("count", "place_value"),
    ("add10", "sub10"),
    ("add10", "add_carry"),
    ("place_value", "add_carry"),
    ("sub10", "sub_borrow"),
    ("place_value", "sub_borrow"),
    ("add_carry", "mult_tables"),
    ("mult_tables", "long_mult"),
    ("add_carry", "long_mult"),
    ("mult_tables", "division"),
    ("sub_borrow", "division"),
    ("division", "fractions"),
    ("fractions", "fraction_of"),
    ("division", "fraction_of"),
    ("fractions", "equivalent"),
    ("mult_tables", "equivalent"),
    ("equivalent", "compare"),
    ("fractions", "add_like"),
    ("add_like", "add_unlike"),
    ("equivalent", "add_unlike"),
    ("equivalent", "mult_fractions"),
    ("fraction_of", "mult_fractions"),
    ("equivalent", "decimals"),
    ("place_value", "decimals"),
    ("decimals", "percentages"),
    ("fraction_of", "percentages"),
]


def item_id(skill: str, level: int) -> str:
    """The id of the item of ``skill`` at ``level``: ``"add10-2"``."""
    return f"{skill}-{level}"


def course_dict() -> dict[str, Any]:
    """The course as the domain JSON that ``POST /v1/courses`` (and
    :meth:`mentor.domain.Domain.from_state_dict`) reads."""
    return {
        "skills": [
            {"id": skill, "name": name, "description": description}
            for skill, (name, description) in SKILLS.items()
        ],
        "items": [
            {
                "id": item_id(skill, level),
                "skills": [skill],
                "difficulty": DIFFICULTY[level],
                "attributes": {"template": skill, "level": level},
            }
            for skill in SKILLS
            for level in LEVELS
        ],
        "prerequisites": [list(pair) for pair in PREREQUISITES],
    }


def course() -> Domain:
    """The demo course as a :class:`~mentor.domain.Domain`."""
    return Domain.from_state_dict(course_dict(), source="mentor.demo")


__all__ = [
    "COURSE_ID",
    "COURSE_NAME",
    "DIFFICULTY",
    "LEVELS",
    "PREREQUISITES",
    "SKILLS",
    "course",
    "course_dict",
    "item_id",
]
