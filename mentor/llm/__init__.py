"""Calling chat models: one protocol, an OpenAI-compatible HTTP client, a budget, an
audit log of every call (JSON lines, or a database table: the event-store sink) and a
replay of it.

Nothing in mentor's core imports this package.

>>> from mentor.llm import OpenAIChat, Budget
>>> chat = OpenAIChat("http://127.0.0.1:8000/v1", "qwen", budget=Budget(max_tokens=10_000),
...                   audit="runs/calls.jsonl")                         # doctest: +SKIP
>>> chat.complete([{"role": "user", "content": "2 + 2 = ?"}]).text      # doctest: +SKIP
"""

from mentor.llm.audit import AuditLog, read_audit, request_key
from mentor.llm.base import (
    BudgetExceeded,
    ChatModel,
    Completion,
    LLMError,
    Message,
    ReplayMiss,
)
from mentor.llm.budget import Budget
from mentor.llm.openai import OpenAIChat
from mentor.llm.replay import ReplayModel
from mentor.llm.sql import SQLAudit, Tee, call_table

__all__ = [
    "AuditLog",
    "Budget",
    "BudgetExceeded",
    "ChatModel",
    "Completion",
    "LLMError",
    "Message",
    "OpenAIChat",
    "ReplayMiss",
    "ReplayModel",
    "SQLAudit",
    "Tee",
    "call_table",
    "read_audit",
    "request_key",
]
