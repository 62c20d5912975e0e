"""Errors as HTTP responses: every error body is ``{"detail": "<one line>", ...}``.

- a :class:`~mentor.errors.MentorError` (a bad file, an unknown id, a cycle,
  a bad parameter): 422, with mentor's message (it names the file, line,
  field and value) and ``kind``, the error's class name;
- a malformed request (wrong type, missing field or header): 422, the
  problems joined into one line (each naming the field and the value given), and
  listed in ``errors``;
- a body over the size limit: 413 (see :mod:`mentor.service.limits`);
- a large course still loading: 503 with Retry-After
  (:class:`~mentor.service.engines.CourseLoading`).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from mentor.errors import MentorError
from mentor.service.engines import CourseLoading
from mentor.service.importing import UploadError


def _where(location: Any) -> str:
    parts = [str(p) for p in location if p not in ("body",)]
    out = ""
    for part in parts:
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out or "body"


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return repr(value)


#: Problems whose input is not the value at fault (a missing field's input is its parent).
_NO_VALUE = {"missing", "json_invalid", "extra_forbidden"}


def _problem(problem: Any) -> str:
    """One problem as ``where: message, got value`` (the value left out where the
    message already gives it, and cut to 80 characters)."""
    where = _where(problem.get("loc", ()))
    if problem.get("loc", ("",))[0] == "header":
        where = "header " + where.split(".", 1)[-1].replace("_", "-").title()
    message = str(problem.get("msg", "invalid"))
    if "input" in problem and problem.get("type") not in _NO_VALUE and ", got " not in message:
        shown = repr(problem["input"])
        message += f", got {shown if len(shown) <= 80 else shown[:77] + '...'}"
    return f"{where}: {message}"


def install(app: FastAPI) -> None:
    """Register the service's exception handlers on ``app``."""

    @app.exception_handler(CourseLoading)
    async def course_loading(request: Request, error: CourseLoading) -> JSONResponse:
        return JSONResponse(
            {"detail": str(error), "kind": "CourseLoading"},
            status_code=503,
            headers={"Retry-After": str(error.retry_after)},
        )

    @app.exception_handler(MentorError)
    async def mentor_error(request: Request, error: MentorError) -> JSONResponse:
        kind = error.kind if isinstance(error, UploadError) else type(error).__name__
        return JSONResponse({"detail": str(error), "kind": kind}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = error.errors()
        lines = [_problem(problem) for problem in problems[:5]]
        if len(problems) > 5:
            lines.append(f"and {len(problems) - 5} more problems")
        errors = [
            {"loc": _plain(list(p.get("loc", ()))), "msg": str(p.get("msg")), "type": p.get("type")}
            for p in problems[:50]
        ]
        return JSONResponse(
            {"detail": "; ".join(lines), "kind": "RequestValidationError", "errors": errors},
            status_code=422,
        )

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        detail = error.detail if isinstance(error.detail, str) else str(error.detail)
        return JSONResponse(
            {"detail": detail}, status_code=error.status_code, headers=error.headers
        )
