"""A demo course, written for mentor: arithmetic and fractions.

18 skills from counting to percentages, linked by a prerequisite graph
(:mod:`mentor.demo.course`), three items per skill (levels 1 to 3), and a
question generator for each item (:mod:`mentor.demo.questions`): seeded by
the item, the learner and the attempt, it writes the question and its answer,
and answers are checked leniently, by value.

``mentor serve --demo`` puts the course in a demo workspace
(:mod:`mentor.demo.seed`, which needs the ``service`` extra).

Examples
--------
>>> from mentor.demo import course, question_for
>>> domain = course()
>>> item = domain.item("add10-2")
>>> q = question_for(item.id, item.attributes, "ada", 0)
>>> q.check(q.answer)
True
"""

from mentor.demo.course import COURSE_ID, COURSE_NAME, PREREQUISITES, SKILLS, course, course_dict
from mentor.demo.questions import TEMPLATES, Question, check_answer, parse_number, question_for

__all__ = [
    "COURSE_ID",
    "COURSE_NAME",
    "PREREQUISITES",
    "SKILLS",
    "TEMPLATES",
    "Question",
    "check_answer",
    "course",
    "course_dict",
    "parse_number",
    "question_for",
]
