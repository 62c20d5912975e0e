"""A Socratic tutor that knows the learner: when an answer is wrong, ask, don't tell.

After TreeInstruct (Kargupta et al., 2024): a state of what the learner still
has to realise (:mod:`~mentor.tutor.state`), questions aimed at the attribute
the student model thinks most likely unresolved, a tree of child and sibling
questions with a teaching hint after three at one level, a hint ladder before
the solution is ever shown, and a guard on every question
(:mod:`~mentor.tutor.guard`). :class:`TutorSession` runs it over a planner:
:class:`StepPlanner` for generated questions that know their steps (no
language model), :class:`LLMPlanner` for free-text and code-debugging items
(:mod:`mentor.llm`). Each answer returns a :class:`TurnEvent` to log, so
tutoring feeds the student model; sessions are plain data
(``state_dict`` / ``from_state_dict``).

Examples
--------
>>> from mentor.demo import question_for
>>> from mentor.tutor import StepPlanner, TutorSession
>>> q = question_for("add_like-1", {"template": "add_like", "level": 1}, "ada", 0)
>>> session = TutorSession(StepPlanner(q), wrong_answer="2/14")
>>> session.start().prompt
'When you add thirds to thirds, what size are the parts of the answer? Type the denominator.'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mentor.tutor.guard import reveals
from mentor.tutor.llm import FreeItem, LLMPlanner
from mentor.tutor.programs import PROGRAMS, BuggyProgram
from mentor.tutor.session import (
    ACTIVE,
    REVEALED,
    SOLVED,
    Planner,
    Reply,
    TurnEvent,
    TutorError,
    TutorSession,
    Verdict,
)
from mentor.tutor.state import Attribute
from mentor.tutor.structured import StepPlanner


def planner_from_state(state: Mapping[str, Any], chat: Any = None) -> Planner:
    """Rebuild a session's planner from its saved state (``chat``: the model, for an
    LLM planner)."""
    kind = state.get("kind")
    if kind == "structured":
        return StepPlanner.from_state_dict(state)
    if kind == "llm":
        if chat is None:
            raise TutorError("this session was run by a language model: pass chat= to resume it")
        return LLMPlanner.from_state_dict(state, chat)
    raise TutorError(f"tutor session state: planner kind {kind!r} is not structured or llm")


def resume(state: Mapping[str, Any], chat: Any = None) -> TutorSession:
    """A saved session (:meth:`TutorSession.state_dict`), ready for the next answer."""
    return TutorSession.from_state_dict(dict(state), planner_from_state(state["planner"], chat))


__all__ = [
    "ACTIVE",
    "PROGRAMS",
    "REVEALED",
    "SOLVED",
    "Attribute",
    "BuggyProgram",
    "FreeItem",
    "LLMPlanner",
    "Planner",
    "Reply",
    "StepPlanner",
    "TurnEvent",
    "TutorError",
    "TutorSession",
    "Verdict",
    "planner_from_state",
    "reveals",
    "resume",
]
