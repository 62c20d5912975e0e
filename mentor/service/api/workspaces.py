"""Workspaces, their admin keys, and who the caller is."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from sqlalchemy import select
from sqlalchemy.orm import Session

from mentor.service.api.deps import Admin, Caller, Operator, RowId, Service, Svc
from mentor.service.api.schemas import (
    KeyIn,
    KeyOut,
    MeOut,
    NewKeyOut,
    NewWorkspaceOut,
    QuotasIn,
    QuotasOut,
    WorkspaceIn,
)
from mentor.service.quotas import quotas_of, usage_today
from mentor.service.security import ADMIN_PREFIX, SHOWN, new_token, token_hash
from mentor.service.tables import ApiKey, Workspace, utcnow

router = APIRouter(tags=["workspaces"])


def _key_out(key: ApiKey, token: str | None = None) -> dict:
    out = {
        "id": key.id,
        "name": key.name,
        "role": key.role,
        "prefix": key.prefix,
        "created_at": key.created_at,
        "revoked": key.revoked_at is not None,
    }
    if token is not None:
        out["key"] = token
    return out


def add_key(
    session: Session, workspace_id: int, name: str = "", role: str = "admin"
) -> tuple[ApiKey, str]:
    """A new key of a workspace (``admin`` or ``grader``): the row and the token
    (shown once)."""
    token = new_token(ADMIN_PREFIX)
    key = ApiKey(
        workspace_id=workspace_id,
        name=name,
        role=role,
        prefix=token[:SHOWN],
        token_hash=token_hash(token),
        created_at=utcnow(),
    )
    session.add(key)
    session.flush()
    return key, token


def create_workspace(session: Session, name: str) -> tuple[Workspace, ApiKey, str]:
    """A new workspace with its first admin key (for the API and for scripts that
    set up a demo)."""
    workspace = Workspace(name=name, created_at=utcnow())
    session.add(workspace)
    session.flush()
    key, token = add_key(session, workspace.id, "first admin key")
    return workspace, key, token


def _workspace_out(workspace: Workspace) -> dict:
    return {"id": workspace.id, "name": workspace.name, "created_at": workspace.created_at}


@router.post("/workspaces", status_code=201, response_model=NewWorkspaceOut)
def post_workspace(body: WorkspaceIn, who: Operator, svc: Svc) -> dict:
    """Create a workspace and its first admin key (operator token only)."""
    with svc.db.write() as session:
        workspace, key, token = create_workspace(session, body.name)
        return {**_workspace_out(workspace), "admin_key": _key_out(key, token)}


@router.get("/me", response_model=MeOut)
def get_me(who: Caller, svc: Svc) -> dict:
    """Who the token belongs to."""
    if who.kind == "operator":
        return {"kind": "operator"}
    with svc.db.read() as session:
        workspace = session.get(Workspace, who.workspace_id)
        return {"kind": who.kind, "workspace": _workspace_out(workspace), "learner": who.learner}


@router.get("/keys", response_model=list[KeyOut])
def get_keys(who: Admin, svc: Svc) -> list[dict]:
    """The workspace's admin keys (their first characters only)."""
    with svc.db.read() as session:
        keys = session.scalars(
            select(ApiKey).where(ApiKey.workspace_id == who.workspace_id).order_by(ApiKey.id)
        ).all()
        return [_key_out(key) for key in keys]


@router.post("/keys", status_code=201, response_model=NewKeyOut)
def post_key(body: KeyIn, who: Admin, svc: Svc) -> dict:
    """A new key for the workspace (role ``admin``, or ``grader`` for an app that
    grades answers on its side); the key is in the response only."""
    with svc.db.write() as session:
        key, token = add_key(session, who.workspace_id, body.name, body.role)
        return _key_out(key, token)


@router.delete("/keys/{key_id}", response_model=KeyOut)
def delete_key(key_id: RowId, who: Admin, svc: Svc) -> dict:
    """Revoke an admin key of the workspace (at once: later requests with it get 401)."""
    with svc.db.write() as session:
        key = session.get(ApiKey, key_id)
        if key is None or key.workspace_id != who.workspace_id:
            raise HTTPException(404, f"key {key_id} not found")
        if key.revoked_at is None:
            key.revoked_at = utcnow()
        return _key_out(key)


@router.put("/workspaces/{workspace_id}/quotas", response_model=QuotasOut)
def put_quotas(workspace_id: RowId, body: QuotasIn, who: Operator, svc: Svc) -> dict:
    """Set a workspace's own quotas (operator token only); fields left out keep the
    workspace's current value, null ones go back to the service's."""
    with svc.db.write() as session:
        workspace = session.get(Workspace, workspace_id)
        if workspace is None:
            raise HTTPException(404, f"workspace {workspace_id} not found")
        own = dict(workspace.quotas or {})
        for name, value in body.model_dump(exclude_unset=True).items():
            if value is None:
                own.pop(name, None)
            else:
                own[name] = value
        workspace.quotas = own or None
        session.flush()
        return _quotas_out(session, svc, workspace_id)


@router.get("/quotas", response_model=QuotasOut)
def get_quotas(who: Admin, svc: Svc) -> dict:
    """The workspace's quotas and its use of the daily one."""
    with svc.db.read() as session:
        return _quotas_out(session, svc, who.workspace_id)


def _quotas_out(session: Session, svc: Service, workspace_id: int) -> dict:
    quotas = quotas_of(session, workspace_id, svc.limits.quotas)
    return {**quotas.to_dict(), "today": usage_today(session, workspace_id, svc.now())}
