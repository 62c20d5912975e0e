"""Request and response bodies of the HTTP API (they make its OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

#: A learner id: 1 to 200 characters, no control characters.
LEARNER_ID = r"^[^\x00-\x1f\x7f]{1,200}$"
#: A name: no control characters.
NAME = r"^[^\x00-\x1f\x7f]*$"
#: A course id, as it appears in URLs.
COURSE_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
#: The name of an extra event field.
EXTRA_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"


#: A finite number (JSON parsers accept NaN and Infinity; mentor does not).
Finite = Annotated[float, Field(allow_inf_nan=False)]


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
    prefix: str = Field(description="The first characters of the key, to tell keys apart.")
    created_at: datetime
    revoked: bool


class NewKeyOut(KeyOut):
    key: str = Field(description="The key itself: shown once, never stored in clear.")


class KeyIn(Strict):
    name: str = Field("", max_length=200, pattern=NAME)


class WorkspaceOut(BaseModel):
    id: int
    name: str
    created_at: datetime


class NewWorkspaceOut(WorkspaceOut):
    admin_key: NewKeyOut


class LearnerIn(Strict):
    id: str = Field(pattern=LEARNER_ID)


class LearnerOut(BaseModel):
    id: str
    has_token: bool
    created_at: datetime


class NewLearnerOut(LearnerOut):
    token: str = Field(description="The learner's token: shown once, never stored in clear.")


class MeOut(BaseModel):
    kind: Literal["operator", "admin", "learner"]
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
    fit: bool = Field(
        False,
        description="Fit the new model on the course's events (batch) instead of only "
        "replaying them online.",
    )


class CourseOut(BaseModel):
    id: str
    name: str
    clock: Literal["wall", "steps"]
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

    learner: str | None = Field(None, pattern=LEARNER_ID)
    item: str | int
    time: Finite | str | None = Field(
        None, description="Seconds (any clock) or an ISO 8601 timestamp."
    )
    outcome: float = Field(ge=0.0, le=1.0, allow_inf_nan=False)
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
