"""A course's student model and teacher, named by their registry names and parameters.

A spec is plain JSON: ``{"name": "bkt", "params": {"forgets": false}}``. A
teacher that needs the course's domain gets it; its ``seed`` defaults to the
course's seed. Composed teachers nest specs::

    {"name": "mixture", "params": {"parts": [[{"name": "zpdes"}, 0.8],
                                              [{"name": "due_review"}, 0.2]]}}
    {"name": "filter", "params": {"teacher": {"name": "target"},
                                  "constraints": [{"kind": "not_recent", "n": 2}]}}
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from mentor.domain import Domain
from mentor.errors import MentorError, ParameterError
from mentor.students import MODELS, StudentModel, create_model
from mentor.teachers import TEACHERS, Teacher, teacher_class

#: The default student model and teacher: BKT tracing each item (each level of a
#: skill) without forgetting between attempts, so that mastery can reach the 95 %
#: criterion, and the expected-gain teacher that plans with it, at its defaults
#: (chosen by benchmarks/model_teaching.py; RESULTS.md gives every simulator's
#: figures, including where the fixed expert order or random practice still wins).
DEFAULT_MODEL: dict[str, Any] = {"name": "bkt", "params": {"grain": "item", "forgets": False}}
DEFAULT_TEACHER: dict[str, Any] = {"name": "expected_gain", "params": {}}
#: How deep composed teachers may nest.
MAX_DEPTH = 4


def _spec(spec: Any, what: str) -> tuple[str, dict[str, Any]]:
    if not isinstance(spec, Mapping) or not isinstance(spec.get("name"), str):
        raise ParameterError(f"a {what} is given as {{'name': ..., 'params': {{...}}}}", value=spec)
    params = spec.get("params") or {}
    if not isinstance(params, Mapping):
        raise ParameterError(f"{what} params must be an object", field="params", value=params)
    unknown = set(spec) - {"name", "params"}
    if unknown:
        raise ParameterError(f"unknown {what} field", field=sorted(unknown)[0])
    return spec["name"], dict(params)


def build_model(spec: Mapping[str, Any], domain: Domain) -> StudentModel:
    """A new student model from its spec (see :data:`mentor.students.MODELS`)."""
    name, params = _spec(spec, "student model")
    if name not in MODELS:
        raise ParameterError(
            f"unknown student model; choose one of {', '.join(sorted(MODELS))}",
            field="name",
            value=name,
        )
    return create_model(name, domain, **params)


def build_teacher(spec: Mapping[str, Any], domain: Domain, seed: int, depth: int = 0) -> Teacher:
    """A new teacher from its spec (see :data:`mentor.teachers.TEACHERS`)."""
    if depth > MAX_DEPTH:
        raise ParameterError(f"teachers nest at most {MAX_DEPTH} deep")
    name, params = _spec(spec, "teacher")
    if name not in TEACHERS:
        raise ParameterError(
            f"unknown teacher; choose one of {', '.join(sorted(TEACHERS))}",
            field="name",
            value=name,
        )
    cls = teacher_class(name)
    accepted = inspect.signature(cls).parameters
    for key in params:
        if key not in accepted or key == "domain":
            raise ParameterError(
                f"{name} has no parameter {key!r}; its parameters: "
                + ", ".join(p for p in accepted if p != "domain"),
                field=key,
            )
    if name == "mixture":
        parts = params.get("parts")
        if not isinstance(parts, list) or not parts:
            raise ParameterError(
                "mixture needs parts: [[teacher spec, weight], ...]", field="parts", value=parts
            )
        built = []
        for k, part in enumerate(parts):
            if not isinstance(part, list | tuple) or len(part) != 2:
                raise ParameterError(
                    "a mixture part is [teacher spec, weight]", field=f"parts[{k}]", value=part
                )
            built.append((build_teacher(part[0], domain, seed + k + 1, depth + 1), part[1]))
        params["parts"] = built
    if name == "filter":
        params["teacher"] = build_teacher(params.get("teacher"), domain, seed + 1, depth + 1)
    if "domain" in accepted:
        params["domain"] = domain
    params.setdefault("seed", seed)
    try:
        return cls(**params)
    except MentorError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        raise ParameterError(f"{name}: {error}") from None
