"""What every page needs: the templates, who is signed in (a token in an
HttpOnly cookie), CSRF tokens for forms, security headers, and HTML error pages.

Signing in stores the learner's token or the admin key in the cookie
``mentor_token`` (HttpOnly, SameSite=Lax, Secure over HTTPS); each request
checks it exactly as the API checks a bearer token
(:func:`mentor.service.api.deps.principal_of`), so a revoked key or a rotated learner
token signs the browser out at once. Every form that changes something
carries a CSRF token derived from the cookie's token (an HMAC), which a
page on another site cannot know.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException

from mentor import __version__
from mentor.service.api.deps import Service, principal_of
from mentor.service.engines import CourseLoading
from mentor.service.security import Principal

HERE = Path(__file__).parent
COOKIE = "mentor_token"
#: How long the sign-in cookie lasts (seconds).
COOKIE_AGE = 14 * 86400
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals["version"] = __version__
templates.env.filters["percent"] = lambda p: "–" if p is None else f"{100 * float(p):.0f}%"

#: Sent with every page: scripts, styles and images from this site only, no framing.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


class WebRoute(APIRoute):
    """A route whose errors are HTML pages: 401 and missing sign-in redirect to the
    login page, 403, 404 and 422 render a page saying what went wrong."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                response = await handler(request)
            except HTTPException as error:
                response = error_response(request, error.status_code, str(error.detail))
            except CourseLoading as error:
                response = error_response(request, 503, str(error))
                response.headers["Retry-After"] = str(error.retry_after)
            except RequestValidationError as error:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg')}"
                    for e in error.errors()[:3]
                )
                response = error_response(request, 422, f"the request is not valid ({problems})")
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return route


def login_redirect(request: Request) -> RedirectResponse:
    """To the login page, coming back here afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def error_response(request: Request, status: int, message: str) -> Response:
    if status in (303, 401):
        return login_redirect(request)
    titles = {403: "Not for this account", 404: "Not found", 409: "Already there"}
    return render(
        request,
        "error.html",
        {"title": titles.get(status, "Something is wrong"), "message": message},
        status_code=status,
    )


def service(request: Request) -> Service:
    return request.app.state.service


def csrf_token(token: str) -> str:
    """The CSRF token of a signed-in browser: an HMAC of a fixed label under its token."""
    return hmac.new(token.encode("utf-8"), b"mentor-web-form", hashlib.sha256).hexdigest()[:32]


def who_is(request: Request) -> Principal | None:
    """The admin or learner whose token is in the cookie, or None (no cookie, an
    invalid, revoked or rotated token, or the operator token)."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        who = principal_of(
            service(request), HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)
        )
    except HTTPException:
        return None
    return None if who.kind == "operator" else who


def signed_in(request: Request) -> Principal:
    """The signed-in admin or learner (else a redirect to the login page)."""
    who = who_is(request)
    if who is None:
        raise HTTPException(401, "sign in first")
    request.state.who = who
    return who


def learner_only(who: Annotated[Principal, Depends(signed_in)]) -> Principal:
    if who.kind != "learner":
        raise HTTPException(
            403, "Practice pages are for learners: sign in with a learner token (ml_...)."
        )
    return who


def admin_only(who: Annotated[Principal, Depends(signed_in)]) -> Principal:
    if who.kind != "admin":
        raise HTTPException(
            403, "The dashboard is for the workspace's admins: sign in with an admin key (mk_...)."
        )
    return who


Who = Annotated[Principal, Depends(signed_in)]
LearnerWho = Annotated[Principal, Depends(learner_only)]
AdminWho = Annotated[Principal, Depends(admin_only)]
Svc = Annotated[Service, Depends(service)]


def check_csrf(request: Request, value: str | None) -> None:
    """403 unless the form's CSRF token matches the cookie's token."""
    token = request.cookies.get(COOKIE) or ""
    if not token or not value or not hmac.compare_digest(csrf_token(token), value):
        raise HTTPException(
            403,
            "This form has expired or did not come from this site; reload the page and try again.",
        )


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """A page from ``templates/name``, with the signed-in user and their CSRF token."""
    who = getattr(request.state, "who", None)
    if who is None:
        who = who_is(request)
    token = request.cookies.get(COOKIE)
    context = {
        "who": who,
        "csrf": csrf_token(token) if token and who is not None else "",
        "path": request.url.path,
        **context,
    }
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    for header, value in SECURITY_HEADERS.items():
        response.headers.setdefault(header, value)
    return response


def skill_name(domain: Any, skill: Any) -> str:
    """A skill's display name: its ``name`` attribute, else its id."""
    attributes = domain.skill_attributes.get(skill) or {}
    name = attributes.get("name")
    return str(name) if isinstance(name, str) and name.strip() else str(skill)
