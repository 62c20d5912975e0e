"""A course's default student model and teacher, as JSON specs.

A spec names a registered model or teacher and its parameters:
``{"name": "bkt", "params": {"forgets": false}}``. The model is built by
:func:`mentor.students.create_model` and the teacher by
:func:`mentor.teachers.create_teacher` (whose docstring shows composed teachers'
nested specs); a teacher's ``seed`` defaults to the course's seed.
"""

from __future__ import annotations

from typing import Any

#: The default student model and teacher: BKT tracing each item (each level of a
#: skill) without forgetting between attempts, so that mastery can reach the 95 %
#: criterion, and the expected-gain teacher that plans with it, at its defaults
#: (chosen by benchmarks/model_teaching.py; RESULTS.md gives every simulator's
#: figures, including where the fixed expert order or random practice still wins).
DEFAULT_MODEL: dict[str, Any] = {"name": "bkt", "params": {"grain": "item", "forgets": False}}
DEFAULT_TEACHER: dict[str, Any] = {"name": "expected_gain", "params": {}}
