"""The tutoring sessions' table, in the service's metadata (revision 0006 makes it;
the schema check covers it).

One row per Socratic tutoring session (:mod:`mentor.tutor`): the attempt whose
wrong answer opened it (one session per attempt), the learner, the item, the
session's whole state as JSON (:meth:`mentor.tutor.TutorSession.state_dict`,
so it resumes after a reload or a restart), its status, the learner's answers
so far (``turns``, also the version checked when an answer is stored), and the
attributes the learner needed a teaching hint for (``stuck``, for the admin
dashboard). Times are server seconds since the epoch.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Double, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from mentor.service.tables import Base


class TutorSessionRow(Base):
    """A tutoring session (see the module docstring)."""

    __tablename__ = "tutor_sessions"
    __table_args__ = (Index("ix_tutor_sessions_course_learner", "course_id", "learner_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    attempt_id: Mapped[str] = mapped_column(String(32), unique=True)
    item: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    turns: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    stuck: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[float] = mapped_column(Double)
    updated_at: Mapped[float] = mapped_column(Double)
