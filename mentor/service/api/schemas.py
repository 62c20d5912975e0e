"""Request and response bodies of the HTTP API (they make its OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

#: A learner id: 1 to 200 characters, no control characters (a new learner's id
#: must also be a URL path segment: :func:`addressable`).
LEARNER_ID = r"^[^\x00-\x1f\x7f]{1,200}$"
#: A name: no control characters.
NAME = r"^[^\x00-\x1f\x7f]*$"
#: A course id, as it appears in URLs.
COURSE_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
#: The name of an extra event field.
EXTRA_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"


#: A finite number (JSON parsers accept NaN and Infinity; mentor does not).
Finite = Annotated[float, Field(allow_inf_nan=False)]


def addressable(learner: str) -> str:
    """``learner`` if it can be a segment of the learner's URLs, else ValueError: no
    ``/`` (it would split the path), and not ``.`` or ``..`` (which clients resolve
    away)."""
    if "/" in learner:
        raise ValueError(f"learner id {learner!r} contains '/', which no URL can address")
    if learner in (".", ".."):
        raise ValueError(f"learner id {learner!r} cannot be a segment of a URL")
    return learner


def not_bool(value: Any) -> Any:
    """``value`` unless it is ``true`` or ``false`` (which number fields would
    otherwise take as 1 and 0), else ValueError."""
    if isinstance(value, bool):
        raise ValueError(
            f"{str(value).lower()} is a boolean, not a number (an outcome is 1 or 0, or a "
            "number between)"
        )
    return value


def a_number(value: Any) -> Any:
    """``value`` unless it is a boolean (:func:`not_bool`) or text such as ``"1"``
    (which number fields would otherwise read as the number), else ValueError."""
    if isinstance(value, str):
        raise ValueError("text, not a number (an outcome is 1 or 0, or a number between)")
    return not_bool(value)


#: A learner id that the routes can address.
LearnerId = Annotated[str, Field(pattern=LEARNER_ID), AfterValidator(addressable)]
#: An outcome: a number from 0 to 1 (not ``true`` or ``false``, not text).
Outcome = Annotated[float, BeforeValidator(a_number), Field(ge=0.0, le=1.0, allow_inf_nan=False)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorOut(BaseModel):
    """Every error: one line saying what was wrong (the file, line, field and
    value where an input file is at fault); ``errors`` lists each problem of a
    malformed request."""

    detail: str
    kind: str | None = None
    errors: list[dict[str, Any]] | None = None


class WorkspaceIn(Strict):
    name: str = Field(min_length=1, max_length=200, pattern=NAME)


class KeyOut(BaseModel):
    id: int
    name: str
    role: Literal["admin", "grader"]
    prefix: str = Field(description="The first characters of the key, to tell keys apart.")
    created_at: datetime
    revoked: bool


class NewKeyOut(KeyOut):
    key: str = Field(description="The key itself: shown once, never stored in clear.")


class KeyIn(Strict):
    name: str = Field("", max_length=200, pattern=NAME)
    role: Literal["admin", "grader"] = Field(
        "admin",
        description="admin: manages the workspace. grader: only posts outcomes that an app "
        "graded (and reads learners' practice).",
    )


class QuotasIn(Strict):
    """A workspace's own quotas (see :class:`mentor.service.quotas.Quotas`)."""

    courses: int | None = Field(None, ge=1, le=2**31 - 1)
    items_per_course: int | None = Field(None, ge=1, le=2**31 - 1)
    import_bytes: int | None = Field(None, ge=1, le=2**40)
    events_per_day: int | None = Field(None, ge=1, le=2**62)


class UsageOut(BaseModel):
    day: str
    events: int


class QuotasOut(BaseModel):
    courses: int
    items_per_course: int
    import_bytes: int
    events_per_day: int
    today: UsageOut


class WorkspaceOut(BaseModel):
    id: int
    name: str
    created_at: datetime


class NewWorkspaceOut(WorkspaceOut):
    admin_key: NewKeyOut


class LearnerIn(Strict):
    id: LearnerId


class LearnerOut(BaseModel):
    id: str
    has_token: bool
    created_at: datetime


class NewLearnerOut(LearnerOut):
    token: str = Field(description="The learner's token: shown once, never stored in clear.")


class MeOut(BaseModel):
    kind: Literal["operator", "admin", "grader", "learner"]
    workspace: WorkspaceOut | None = None
    learner: str | None = None


class Spec(Strict):
    """A student model or teacher by its registry name, with constructor parameters."""

    name: str = Field(min_length=1, max_length=64)
    params: dict[str, Any] = Field(default_factory=dict)


class PolicyIn(Strict):
    model: Spec | None = None
    teacher: Spec | None = None
    clock: Literal["wall", "steps"] | None = None
    time_unit: Literal["s", "ms"] | None = Field(
        None, description="The unit of numeric times posted to a wall-clock course."
    )
    fit: bool = Field(
        False,
        description="Fit the new model on the course's events (batch) instead of only "
        "replaying them online.",
    )


class CourseOut(BaseModel):
    id: str
    name: str
    clock: Literal["wall", "steps"]
    time_unit: Literal["s", "ms"]
    model: dict[str, Any]
    teacher: dict[str, Any]
    items: int
    skills: int
    prerequisites: int
    events: int
    learners: int
    created_at: datetime


class ImportOut(CourseOut):
    format: str
    dropped_prerequisites: list[tuple[str, str]]
    imported_events: int


class ItemOut(BaseModel):
    id: str
    skills: list[str]
    difficulty: float | None
    attributes: dict[str, Any]


class ItemsOut(BaseModel):
    items: list[ItemOut]
    total: int


class EventIn(Strict):
    """One attempt. ``learner`` defaults to the caller with a learner token;
    ``time`` to the server's clock (seconds since the epoch) in a course whose
    clock is ``wall``. ``extra``: optional numeric fields (``rating`` 1-4 for
    memory models, ``response_time``, ``hint``, ``advantage``, ...)."""

    learner: LearnerId | None = None
    item: Annotated[str | int, BeforeValidator(not_bool)]
    time: Annotated[Finite | str, BeforeValidator(not_bool)] | None = Field(
        None,
        description="Seconds since the epoch (milliseconds in a course whose time_unit is "
        "'ms') or an ISO 8601 timestamp; in a course whose clock is 'steps', a step count. "
        "At most 300 s after the server's clock (Limits.future_tolerance_s).",
    )
    outcome: Outcome
    extra: dict[str, Finite | bool] | None = Field(None, max_length=32)


class EventBatchIn(Strict):
    events: list[EventIn]


class BatchOut(BaseModel):
    batch_id: int
    course: str
    accepted: int
    learners: dict[str, int] = Field(
        description="Each learner of the batch and their number of events in the course now."
    )


class EventOut(BaseModel):
    id: int
    batch_id: int | None
    learner: str
    item: str
    time: float
    outcome: float
    extra: dict[str, float] | None
    voided: bool = Field(False, description="Voided by an admin's correction (kept for audit).")


class EventPageOut(BaseModel):
    events: list[EventOut]
    next_after: int | None = Field(
        description="Pass as ``after`` for the next page; null on the last page."
    )


class NextOut(BaseModel):
    course: str
    learner: str
    t: float | None
    items: list[str]


class DueOut(BaseModel):
    item: str
    recall: float


class StateOut(BaseModel):
    course: str
    learner: str
    t: float | None
    events: int
    last_time: float | None
    model: str
    mastery: dict[str, float | None]
    recall: dict[str, float | None] | None = Field(
        description="Predicted recall at ``t`` of each item reviewed (memory models only)."
    )
    due: list[DueOut] = Field(
        description="Reviewed items whose predicted recall at ``t`` is below ``retention``, "
        "lowest first (memory models only)."
    )
    details: dict[str, Any] = Field(description="Everything else the model's state says.")
