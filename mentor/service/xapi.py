"""Learning events as xAPI statements (the Experience API, ADL, version 1.0.3),
so that a learning record store or an LMS can feed mentor and read it back.

An event ``(learner, item, time, outcome, extra)`` of course ``c`` is the
statement

- ``actor``: an Agent whose ``account`` is ``{"homePage": BASE, "name": learner}``
  (or the ``openid`` or ``mbox_sha1sum`` the learner id was made from);
- ``verb``: ``http://adlnet.gov/expapi/verbs/answered``;
- ``object``: the Activity ``BASE/v1/courses/c/items/ITEM`` (the item id
  percent-encoded), named by the item id;
- ``result``: ``score.scaled`` = outcome (0 to 1), ``success`` = outcome >= 0.5,
  and each extra field as the extension ``urn:mentor:extra:NAME``;
- ``timestamp``: the time as ISO 8601 UTC in a wall-clock course; the exact
  time (seconds, or the step) is also the context extension ``urn:mentor:time``;
- ``id``: a UUID derived from the course and the event's id, so exporting twice
  gives the same statements.

Reading statements back (:func:`event_of`): the learner is the actor's
``account.name`` (else its ``mbox`` without ``mailto:``, else
``openid:`` + its ``openid`` percent-encoded, else ``mbox_sha1sum:`` + its
``mbox_sha1sum``: an openid is a URL, whose ``/`` no learner id may hold;
:func:`statement` gives those two actors back as they came); the item is
the last segment of an object id of the form ``.../items/ITEM`` (else the
whole object id); the outcome is ``result.score.scaled`` (else 1 or 0 from
``result.success``); the time is ``urn:mentor:time`` (else ``timestamp``).
Anything missing or malformed is named with the statement's index and field.
"""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote

from mentor.errors import MentorError

VERB = {"id": "http://adlnet.gov/expapi/verbs/answered", "display": {"en-US": "answered"}}
TIME = "urn:mentor:time"
EXTRA = "urn:mentor:extra:"


def item_iri(base: str, course: str, item: str) -> str:
    """The Activity id of an item."""
    return f"{base.rstrip('/')}/v1/courses/{course}/items/{quote(item, safe='')}"


def statement(
    base: str,
    course: str,
    clock: str,
    event_id: int,
    learner: str,
    item: str,
    time: float,
    outcome: float,
    extra: dict[str, float] | None = None,
) -> dict[str, Any]:
    """The xAPI statement of one event (see the module's docstring)."""
    result: dict[str, Any] = {"score": {"scaled": outcome}, "success": outcome >= 0.5}
    if extra:
        result["extensions"] = {EXTRA + name: value for name, value in extra.items()}
    out: dict[str, Any] = {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{base}/v1/courses/{course}/events/{event_id}")),
        "actor": actor(base, learner),
        "verb": VERB,
        "object": {
            "objectType": "Activity",
            "id": item_iri(base, course, item),
            "definition": {"name": {"en-US": item}},
        },
        "result": result,
        "context": {"extensions": {TIME: time}},
    }
    if clock == "wall":
        out["timestamp"] = datetime.fromtimestamp(time, UTC).isoformat().replace("+00:00", "Z")
    return out


#: Learner ids made from an actor's ``openid`` and ``mbox_sha1sum`` start with these.
OPENID = "openid:"
MBOX_SHA1 = "mbox_sha1sum:"


def actor(base: str, learner: str) -> dict[str, Any]:
    """The xAPI Agent of a learner id: the ``openid`` or ``mbox_sha1sum`` it was made
    from (by :func:`event_of`), else an account of ``base`` named by the id."""
    if learner.startswith(OPENID):
        return {"objectType": "Agent", "openid": unquote(learner.removeprefix(OPENID))}
    if learner.startswith(MBOX_SHA1):
        return {"objectType": "Agent", "mbox_sha1sum": learner.removeprefix(MBOX_SHA1)}
    return {"objectType": "Agent", "account": {"homePage": base, "name": learner}}


def _field(value: Any, path: list[str], index: int) -> Any:
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


class StatementError(MentorError):
    """A statement mentor cannot read; the message names its index and field."""


def _bad(index: int, field: str, message: str, value: Any = None) -> StatementError:
    shown = "" if value is None else f" (value {str(value)[:200]!r})"
    return StatementError(f"statements[{index}].{field}: {message}{shown}")


def event_of(data: Any, index: int) -> dict[str, Any]:
    """An event (a dict of :class:`~mentor.service.api.schemas.EventIn` fields) from
    statement ``index`` of a request (see the module's docstring)."""
    if not isinstance(data, dict):
        raise _bad(index, "statement", "not a JSON object")
    agent = data.get("actor")
    learner = _field(agent, ["account", "name"], index)
    if learner is None and isinstance(_field(agent, ["mbox"], index), str):
        learner = agent["mbox"].removeprefix("mailto:")
    openid = _field(agent, ["openid"], index)
    if learner is None and isinstance(openid, str) and openid:
        learner = OPENID + quote(openid, safe=":@")
    sha1 = _field(agent, ["mbox_sha1sum"], index)
    if learner is None and isinstance(sha1, str) and sha1:
        learner = MBOX_SHA1 + sha1
    if not isinstance(learner, str) or not learner:
        raise _bad(index, "actor", "needs an account name, an mbox, an openid or an mbox_sha1sum")
    target = _field(data, ["object", "id"], index)
    if not isinstance(target, str) or not target:
        raise _bad(index, "object.id", "missing")
    head, found, tail = target.rpartition("/items/")
    item = unquote(tail) if found and tail else target
    scaled = _field(data, ["result", "score", "scaled"], index)
    success = _field(data, ["result", "success"], index)
    if scaled is not None:
        if isinstance(scaled, bool) or not isinstance(scaled, int | float):
            raise _bad(index, "result.score.scaled", "not a number", scaled)
        if not (0.0 <= scaled <= 1.0):
            raise _bad(index, "result.score.scaled", "mentor takes outcomes from 0 to 1", scaled)
        outcome = float(scaled)
    elif isinstance(success, bool):
        outcome = 1.0 if success else 0.0
    else:
        raise _bad(index, "result", "needs score.scaled (0 to 1) or success")
    time = _field(data, ["context", "extensions", TIME], index)
    if time is None:
        time = data.get("timestamp")
    if time is not None and (isinstance(time, bool) or not isinstance(time, int | float | str)):
        raise _bad(index, "timestamp", "not a time", time)
    if isinstance(time, float) and not math.isfinite(time):
        raise _bad(index, "timestamp", "not a finite time", time)
    extensions = _field(data, ["result", "extensions"], index)
    if extensions is not None and not isinstance(extensions, dict):
        raise _bad(index, "result.extensions", "not a JSON object", extensions)
    extra = {}
    for key, value in (extensions or {}).items():
        if key.startswith(EXTRA):
            extra[key.removeprefix(EXTRA)] = value
    event: dict[str, Any] = {"learner": learner, "item": item, "outcome": outcome}
    if time is not None:
        event["time"] = time
    if extra:
        event["extra"] = extra
    return event
