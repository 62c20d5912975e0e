"""Signing in and out, the home page, and the static files (our own CSS and script)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials
from starlette.exceptions import HTTPException

from mentor.service.api.deps import principal_of
from mentor.service.web.common import (
    COOKIE,
    COOKIE_AGE,
    HERE,
    SECURITY_HEADERS,
    Svc,
    WebRoute,
    check_csrf,
    render,
    who_is,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)
#: The files under ``static/`` that may be served, with their media types.
STATIC = {"app.css": "text/css; charset=utf-8", "app.js": "text/javascript; charset=utf-8"}


def _home(kind: str) -> str:
    return "/admin" if kind == "admin" else "/practice"


def _local(target: str | None) -> str | None:
    """``target`` if it is a path on this site (not ``//host`` nor a full URL)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@router.get("/")
def home(request: Request) -> Response:
    who = who_is(request)
    if who is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse(_home(who.kind), status_code=303)


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", {"title": "Sign in", "next": _local(next) or ""})


@router.post("/login")
def login(
    request: Request,
    svc: Svc,
    token: Annotated[str, Form(max_length=500)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Check the token as the API would; on success keep it in an HttpOnly cookie."""
    token = token.strip()
    message = None
    who = None
    if not token:
        message = "Paste your token or admin key."
    else:
        try:
            credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)
            who = principal_of(svc, credentials)
        except HTTPException:
            message = "This token is not valid (or was revoked). Check it and try again."
        if who is not None and who.kind == "operator":
            who = None
            message = (
                "The operator token only creates workspaces (through the API). "
                "Sign in with a learner token (ml_...) or an admin key (mk_...)."
            )
    if who is None:
        context = {"title": "Sign in", "next": _local(next) or "", "error": message}
        return render(request, "login.html", context, status_code=401 if token else 422)
    target = _local(next) or _home(who.kind)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=COOKIE_AGE,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/static/{name}")
def static(name: str) -> Response:
    media = STATIC.get(name)
    if media is None:
        raise HTTPException(404, f"no static file {name!r}")
    body = (HERE / "static" / name).read_bytes()
    headers = {**SECURITY_HEADERS, "Cache-Control": "public, max-age=300"}
    return Response(body, media_type=media, headers=headers)
