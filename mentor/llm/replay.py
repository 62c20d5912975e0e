"""Replay a recorded run: a chat model that answers from an audit log."""

from __future__ import annotations

import os
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mentor.llm.audit import read_audit, request_key
from mentor.llm.base import Completion, Message, ReplayMiss, check_messages


class ReplayModel:
    """Answers each request with the answer recorded for the same request.

    Requests are matched by model, messages and options (:func:`request_key`); a
    request made several times gets the recorded answers in their recorded order, so a
    deterministic run replays exactly, with no server. Failed calls in the log are
    skipped.

    Parameters
    ----------
    path
        An audit log written by :class:`~mentor.llm.AuditLog`, or the records of one
        (an iterable of dicts, such as :meth:`mentor.llm.SQLAudit.records`).
    model
        The model name of the requests to replay; by default the first one in the log.

    Raises
    ------
    ReplayMiss
        From :meth:`complete`, for a request the log has no (further) answer to.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | Iterable[Mapping[str, Any]],
        model: str | None = None,
    ) -> None:
        if isinstance(path, str | os.PathLike):
            self.path, records = str(path), read_audit(path)
        else:
            self.path, records = "the recorded calls", path
        self._answers: dict[str, deque[Mapping[str, Any]]] = defaultdict(deque)
        for record in records:
            if record.get("error") is not None or not isinstance(record.get("text"), str):
                continue
            if model is None:
                model = record.get("model")
            self._answers[record["key"]].append(record)
        self.model = model or ""

    def complete(self, messages: Sequence[Message], **options: Any) -> Completion:
        """The recorded answer to this request."""
        messages = check_messages(messages)
        queue = self._answers.get(request_key(self.model, messages, options))
        if not queue:
            last = messages[-1]["content"][:80]
            raise ReplayMiss(
                f"{self.path}: no recorded answer for a request to {self.model!r} ending {last!r}"
            )
        record = queue.popleft()
        return Completion(
            text=record["text"],
            prompt_tokens=int(record.get("prompt_tokens", 0)),
            completion_tokens=int(record.get("completion_tokens", 0)),
            model=str(record.get("answered_by") or self.model),
            latency_s=0.0,
            estimated=bool(record.get("estimated", False)),
        )
