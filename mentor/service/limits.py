"""Limits on requests: the size of a body (413 beyond it) and the rate of one
caller's requests (429 beyond it).

:class:`BodyLimit` refuses a request whose ``Content-Length`` is over the limit
before reading it, and counts the bytes of a body sent without one (chunked),
refusing it as soon as it passes the limit. A body within the limit is
handed on as it came.

:class:`RateLimit` gives each caller a token bucket (Turner, "New directions in
communications", IEEE Communications Magazine 1986): a bucket of ``burst``
tokens, refilled at ``rate`` per second; each request takes one, and a request
that finds the bucket empty gets 429 with a ``Retry-After`` header (seconds
until a token is back).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mentor.service.timerules import exact


def _size(n: int) -> str:
    return f"{n / (1 << 20):g} MiB" if n >= 1 << 20 else f"{n} bytes"


class BodyLimit:
    """ASGI middleware: at most ``limit_for(path)`` bytes of body per request."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str, str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["method"], scope["path"])
        length = None
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    await _refuse(send, 400, "Content-Length is not a number")
                    return
        if length is not None and length > limit:
            await _refuse(send, 413, _message(length, limit, scope["path"]))
            return
        chunks: list[bytes] = []
        total = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            total += len(body)
            if total > limit:
                await _refuse(send, 413, _message(None, limit, scope["path"]))
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        data = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": data, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _message(length: int | None, limit: int, path: str) -> str:
    size = "the request body" + (f" ({_size(length)})" if length is not None else "")
    return f"{size} is over the limit of {_size(limit)} for {path}"


async def _refuse(
    send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RateLimit:
    """ASGI middleware: at most ``rate`` requests per second per caller, in bursts
    of at most ``burst``.

    The caller is its bearer token (the ``Authorization`` header, else the web
    app's ``cookie``), or its address when it sends neither; the key kept is a
    hash of the token. ``exempt`` paths (health checks, static files) are not
    counted. ``clock`` gives seconds (any origin). Buckets that have refilled
    are forgotten once more than ``max_callers`` are kept.
    """

    def __init__(
        self,
        app: ASGIApp,
        rate: float,
        burst: int,
        clock: Callable[[], float],
        cookie: str,
        exempt: tuple[str, ...] = (),
        max_callers: int = 100_000,
    ) -> None:
        if not (rate > 0 and burst >= 1):
            raise ValueError(f"rate limit: rate must be > 0 and burst >= 1, got {rate}, {burst}")
        self.app = app
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.cookie = cookie.encode()
        self.exempt = exempt
        self.max_callers = max_callers
        self._buckets: dict[bytes, tuple[float, float]] = {}  # caller: (tokens, at)

    def _caller(self, scope: Scope) -> bytes:
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                return hashlib.sha256(value).digest()
            if name == b"cookie":
                for part in value.split(b";"):
                    key, _, token = part.strip().partition(b"=")
                    if key == self.cookie and token:
                        return hashlib.sha256(token).digest()
        client = scope.get("client") or ("unknown", 0)
        return f"address:{client[0]}".encode()

    def take(self, caller: bytes) -> float:
        """Take a token for ``caller``: 0 if there was one, else the seconds until
        there is."""
        now = self.clock()
        tokens, at = self._buckets.get(caller, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + max(0.0, now - at) * self.rate)
        if tokens >= 1.0:
            self._buckets[caller] = (tokens - 1.0, now)
            if len(self._buckets) > self.max_callers:
                self._forget_full(now)
            return 0.0
        self._buckets[caller] = (tokens, now)
        return (1.0 - tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        full = [
            caller
            for caller, (tokens, at) in self._buckets.items()
            if tokens + (now - at) * self.rate >= self.burst
        ]
        for caller in full:
            del self._buckets[caller]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        wait = self.take(self._caller(scope))
        if wait == 0.0:
            await self.app(scope, receive, send)
            return
        seconds = max(1, math.ceil(wait))
        detail = (
            f"too many requests: at most {exact(self.rate)} per second for one token "
            f"(bursts of {self.burst}); retry in {seconds} s"
        )
        await _refuse(send, 429, detail, [(b"retry-after", str(seconds).encode())])
