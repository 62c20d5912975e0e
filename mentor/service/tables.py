"""The service's tables (SQLAlchemy 2 ORM).

Everything a tenant owns hangs off its workspace: API keys, learners and
courses; a course owns its skills, items, prerequisites, event batches,
events, enrolments and the saved state of its student model and teacher.
Every query of the API filters by the caller's workspace.

Migrations live in :mod:`mentor.service.migrations`; a change here needs a
new revision there.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: An auto-incrementing 64-bit key (a plain INTEGER PRIMARY KEY on SQLite, which is 64-bit).
BigId = BigInteger().with_variant(Integer, "sqlite")


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC time on every database (SQLite keeps no zone: it
    stores UTC and reads it back as UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: the service keeps times in UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Base of the service's tables."""

    type_annotation_map = {datetime: UTCDateTime()}


class Workspace(Base):
    """A tenant: nothing crosses from one workspace to another."""

    __tablename__ = "workspaces"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The workspace's own quotas (names of :class:`~mentor.service.quotas.Quotas`);
    #: null: the service's.
    quotas: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)


class ApiKey(Base):
    """A workspace key; only the SHA-256 of the token is kept. ``role`` is
    ``admin`` (manages the workspace) or ``grader`` (posts outcomes that an app
    graded on its side)."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200), default="")
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    role: Mapped[str] = mapped_column(String(16), default="admin", server_default="admin")


class Learner(Base):
    """A learner of a workspace, with the hash of their own token (if one was issued)."""

    __tablename__ = "learners"
    __table_args__ = (UniqueConstraint("workspace_id", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(200))
    token_prefix: Mapped[str | None] = mapped_column(String(16), default=None)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Course(Base):
    """A course: a domain, the names and parameters of its student model and teacher."""

    __tablename__ = "courses"
    __table_args__ = (UniqueConstraint("workspace_id", "slug"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), default="")
    clock: Mapped[str] = mapped_column(String(16), default="wall")
    #: The unit of the numeric times posted to the course: ``s`` or ``ms``.
    time_unit: Mapped[str] = mapped_column(String(8), default="s", server_default="s")
    seed: Mapped[int] = mapped_column(BigInteger)
    model: Mapped[dict[str, Any]] = mapped_column(JSON)
    teacher: Mapped[dict[str, Any]] = mapped_column(JSON)
    task_spaces: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CourseState(Base):
    """A course's version and a snapshot of its student model and teacher.

    ``version`` counts the changes of the course's engine: each accepted batch
    of events and each change of model or teacher adds one. ``model_state``
    and ``teacher_state`` (their JSON ``state_dict``) are the engine at
    ``snapshot_version``; the batches with a higher ``version`` (see
    :class:`Batch`), applied in order, bring it to ``version``.
    ``base_version`` is the version of the last change of model or teacher: an
    engine older than that cannot be brought up to date by applying batches.
    """

    __tablename__ = "course_states"

    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    snapshot_version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    base_version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    model_state: Mapped[str] = mapped_column(Text)
    teacher_state: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Skill(Base):
    __tablename__ = "skills"
    __table_args__ = (UniqueConstraint("course_id", "skill_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    skill_id: Mapped[str] = mapped_column(String(200))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class CourseItem(Base):
    __tablename__ = "items"
    __table_args__ = (UniqueConstraint("course_id", "item_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    item_id: Mapped[str] = mapped_column(String(200))
    skills: Mapped[list[str]] = mapped_column(JSON)
    difficulty: Mapped[float | None] = mapped_column(Double, default=None)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Prerequisite(Base):
    __tablename__ = "prerequisites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    prerequisite: Mapped[str] = mapped_column(String(200))
    skill: Mapped[str] = mapped_column(String(200))


class Enrolment(Base):
    """A learner's practice in a course: how many events, and the time of the latest."""

    __tablename__ = "enrolments"

    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True
    )
    learner_id: Mapped[int] = mapped_column(
        ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True
    )
    events: Mapped[int] = mapped_column(BigInteger, default=0)
    last_time: Mapped[float | None] = mapped_column(Double, default=None)


class Batch(Base):
    """One accepted request of events, under its Idempotency-Key.

    ``principal`` is who sent it (``admin`` for the workspace's keys,
    ``learner:<id>`` for a learner's token): keys are scoped to it, so one
    learner can neither replay nor probe another's keys. The stored response
    is returned as it was to a retry of the same request. ``version`` is the
    course's version once the batch was applied to its engine.
    """

    __tablename__ = "batches"
    __table_args__ = (
        UniqueConstraint("course_id", "principal", "idempotency_key"),
        Index("ix_batches_course_version", "course_id", "version"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    principal: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int | None] = mapped_column(BigInteger, default=None)


class EventRow(Base):
    """One attempt; ``extra`` holds the optional numeric fields (response time,
    hint used, rating, advantage, ...). A voided event (``voided_at`` set by
    the correction ``correction_id``) is kept but left out of the model, the
    teacher and the learner's counts."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_course_id_id", "course_id", "id"),
        Index("ix_events_course_learner", "course_id", "learner_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    batch_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("batches.id", ondelete="CASCADE"), index=True
    )
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    item: Mapped[str] = mapped_column(String(200))
    time: Mapped[float] = mapped_column(Double)
    outcome: Mapped[float] = mapped_column(Double)
    extra: Mapped[dict[str, float] | None] = mapped_column(JSON, default=None)
    voided_at: Mapped[datetime | None] = mapped_column(default=None)
    correction_id: Mapped[int | None] = mapped_column(Integer, default=None)


class Attempt(Base):
    """A question the server issued: ``item`` for ``learner_id`` at their
    ``step`` (number of events then), valid from ``issued_at`` to
    ``expires_at`` (server seconds since the epoch). Answered once:
    ``answered_at``, ``outcome`` and the ``event_id`` it recorded."""

    __tablename__ = "attempts"
    __table_args__ = (Index("ix_attempts_course_learner", "course_id", "learner_id", "step"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    item: Mapped[str] = mapped_column(String(200))
    step: Mapped[int] = mapped_column(BigInteger)
    issued_at: Mapped[float] = mapped_column(Double)
    expires_at: Mapped[float] = mapped_column(Double)
    answered_at: Mapped[float | None] = mapped_column(Double, default=None)
    outcome: Mapped[float | None] = mapped_column(Double, default=None)
    event_id: Mapped[int | None] = mapped_column(BigInteger, default=None)


class Correction(Base):
    """The audit trail: one admin correction of a learner's events in a course
    (who, when, why; ``detail`` lists the events voided and added)."""

    __tablename__ = "corrections"
    __table_args__ = (Index("ix_corrections_course_learner", "course_id", "learner_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Usage(Base):
    """Events a workspace's courses accepted on one UTC day (``YYYY-MM-DD``)."""

    __tablename__ = "usage"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    events: Mapped[int] = mapped_column(BigInteger, default=0)
