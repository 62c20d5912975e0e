"""The JSON API, mounted under ``/v1``.

The web app (HTML pages) is a router of its own in ``mentor.service.web``,
using the same parts (:class:`~mentor.service.api.deps.Service`). Routes are
matched in order, so the practice routes (the most frequent requests) come
first."""

from typing import Any

from fastapi import APIRouter

from mentor.service.api import (
    agents,
    attempts,
    corrections,
    courses,
    imports,
    learners,
    practice,
    tutor,
    workspaces,
    xapi,
)
from mentor.service.api.schemas import ErrorOut

#: Every route may answer with these errors, each with an :class:`ErrorOut` body.
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut} for code in (400, 401, 403, 404, 409, 410, 413, 422, 429, 503)
}
router = APIRouter()
for module in (practice, attempts, courses, imports, learners, corrections, workspaces, xapi):
    router.include_router(module.router, responses=ERRORS)
router.include_router(tutor.router, responses=ERRORS)  # Socratic tutoring sessions
router.include_router(agents.router, responses=ERRORS)  # agents' experience memory

__all__ = ["router"]
