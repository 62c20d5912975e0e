"""Tenant quotas: how much one workspace may hold and send.

A workspace may have at most ``courses`` courses, ``items_per_course`` items in
a course, ``import_bytes`` bytes in one course import, and ``events_per_day``
events accepted per UTC day (all its courses together, answers to attempts
included). The service's :class:`Quotas` apply to every workspace whose row
has no ``quotas`` of its own; the operator sets a workspace's with
``PUT /v1/workspaces/{id}/quotas``.

Beyond a size quota (items, import bytes) the answer is 413, beyond a count
(courses, events per day) 429; each names the quota and its value, and the
daily one says when it resets (``Retry-After``: seconds to the next UTC
midnight). The day's count is one row per workspace and day, increased in the
same transaction as the batch it counts and checked after the increase, so
concurrent batches of one workspace never get past the quota together.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any

from fastapi import HTTPException
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from mentor.service.tables import Usage, Workspace

DAY = 86400


@dataclass(frozen=True)
class Quotas:
    """What one workspace may hold and send (see the module's docstring).

    Parameters
    ----------
    courses
        Courses in the workspace. Default 100.
    items_per_course
        Items in one course. Default 200,000.
    import_bytes
        Bytes of one course import (its files together); at most the service's
        ``Limits.max_import_bytes``, which every request obeys. Default 64 MiB.
    events_per_day
        Events accepted per UTC day. Default 1,000,000.
    """

    courses: int = 100
    items_per_course: int = 200_000
    import_bytes: int = 64 << 20
    events_per_day: int = 1_000_000

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def quotas_of(session: Session, workspace_id: int, default: Quotas) -> Quotas:
    """The workspace's quotas: its own where it has them, else ``default``'s."""
    own = session.scalar(select(Workspace.quotas).where(Workspace.id == workspace_id)) or {}
    names = {f.name for f in fields(Quotas)}
    return replace(default, **{k: int(v) for k, v in own.items() if k in names})


def day_of(now: float) -> str:
    """The UTC day of ``now`` (seconds since the epoch) as ``YYYY-MM-DD``."""
    return datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")


def charge_events(session: Session, workspace_id: int, n: int, now: float, quota: int) -> int:
    """Count ``n`` more events for the workspace today; 429 (nothing counted: the
    caller's transaction rolls back) if that passes ``quota``. Returns the day's
    count."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(Usage).values(workspace_id=workspace_id, day=day_of(now), events=n)
    statement = statement.on_conflict_do_update(
        index_elements=["workspace_id", "day"], set_={"events": Usage.events + n}
    ).returning(Usage.events)
    total = int(session.execute(statement).scalar_one())
    if total > quota:
        used = total - n
        retry = max(1, math.ceil(DAY - now % DAY))
        raise HTTPException(
            429,
            f"quota: this workspace may send {quota} events per day (UTC); {used} were "
            f"accepted today and this request has {n}; the count resets in {retry} s",
            headers={"Retry-After": str(retry)},
        )
    return total


def refuse_size(what: str, value: int, limit: int, unit: str) -> HTTPException:
    """The 413 for a size quota: ``what`` is ``value`` ``unit``, over ``limit``."""
    return HTTPException(
        413, f"quota: {what} is {value} {unit}; this workspace's quota is {limit} {unit}"
    )


def usage_today(session: Session, workspace_id: int, now: float) -> dict[str, Any]:
    """The workspace's count of events today."""
    day = day_of(now)
    events = session.scalar(
        select(Usage.events).where(Usage.workspace_id == workspace_id, Usage.day == day)
    )
    return {"day": day, "events": int(events or 0)}
