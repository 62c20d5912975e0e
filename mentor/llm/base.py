"""The chat-model protocol and the errors of :mod:`mentor.llm`.

A chat model takes a list of messages in the OpenAI chat format
(``{"role": "system" | "user" | "assistant", "content": text}``) and returns one
:class:`Completion`. Everything in :mod:`mentor.agents` talks to this protocol only,
so an HTTP client (:class:`mentor.llm.OpenAIChat`), a replay of a recorded run
(:class:`mentor.llm.ReplayModel`) or a test double are interchangeable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from mentor.errors import MentorError

Message = Mapping[str, str]


class LLMError(MentorError):
    """A chat-model call that failed: the server refused it, kept failing, or answered
    something that is not a chat completion. The message names the URL and what was wrong."""


class BudgetExceeded(LLMError):
    """A call refused because the run's token or cost budget is spent."""


class ReplayMiss(LLMError):
    """A replayed run asked for a call that the audit log does not hold."""


@dataclass(frozen=True)
class Completion:
    """One answer of a chat model.

    Attributes
    ----------
    text
        The assistant message.
    prompt_tokens, completion_tokens
        Token counts as the server reported them (estimated from characters, four per
        token, where it reported none; ``estimated`` is then True).
    model
        The model that answered.
    latency_s
        Seconds from the first request to the answer, retries included.
    estimated
        Whether the token counts are estimates.
    """

    text: str
    prompt_tokens: int
    completion_tokens: int
    model: str
    latency_s: float = 0.0
    estimated: bool = False


@runtime_checkable
class ChatModel(Protocol):
    """Anything that answers a list of chat messages with a :class:`Completion`."""

    def complete(self, messages: Sequence[Message], **options: Any) -> Completion:
        """Answer ``messages``; ``options`` are sampling options such as ``temperature``."""
        ...


def check_messages(messages: Sequence[Message]) -> list[dict[str, str]]:
    """``messages`` as plain dicts, or an :class:`LLMError` naming the first bad one."""
    out = []
    for i, message in enumerate(messages):
        role = message.get("role") if isinstance(message, Mapping) else None
        content = message.get("content") if isinstance(message, Mapping) else None
        if role not in ("system", "user", "assistant") or not isinstance(content, str):
            raise LLMError(
                f"message {i}: needs a role (system, user or assistant) and text content, "
                f"got {message!r}"
            )
        out.append({"role": role, "content": content})
    if not out:
        raise LLMError("a chat call needs at least one message")
    return out
