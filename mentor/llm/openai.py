"""A client for the OpenAI-compatible chat-completions API.

vLLM, llama.cpp's server, Ollama, TGI and the hosted services all answer
``POST {base_url}/chat/completions`` with ``{"choices": [{"message": {"content": ...}}],
"usage": {...}}``. :class:`OpenAIChat` speaks that protocol with timeouts, retries with
exponential backoff, a shared :class:`~mentor.llm.Budget` and an
:class:`~mentor.llm.AuditLog` line per call. It uses ``httpx`` when installed and the
standard library's ``urllib`` otherwise.
"""

from __future__ import annotations

import json
import math
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mentor._checks import check_count, check_number
from mentor.errors import ParameterError
from mentor.llm.audit import AuditLog, request_key
from mentor.llm.base import Completion, LLMError, Message, check_messages
from mentor.llm.budget import Budget

#: Environment variables read by :meth:`OpenAIChat.from_env`.
ENV_URL, ENV_MODEL, ENV_KEY, ENV_TIMEOUT = (
    "MENTOR_LLM_URL",
    "MENTOR_LLM_MODEL",
    "MENTOR_LLM_API_KEY",
    "MENTOR_LLM_TIMEOUT",
)


class _Unreachable(Exception):
    """A request that got no HTTP answer (refused, reset or timed out)."""


def _post_urllib(url: str, body: bytes, headers: dict, timeout: float) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers or {}), error.read()
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        raise _Unreachable(str(getattr(error, "reason", error))) from None


def _post_httpx(
    client, url: str, body: bytes, headers: dict, timeout: float
) -> tuple[int, dict, bytes]:
    import httpx

    try:
        response = client.post(url, content=body, headers=headers, timeout=timeout)
    except httpx.TransportError as error:
        raise _Unreachable(f"{type(error).__name__}: {error}") from None
    return response.status_code, dict(response.headers), response.content


def _retry_after(headers: Mapping[str, str]) -> float | None:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            try:
                seconds = float(value)
            except ValueError:
                return None
            return seconds if math.isfinite(seconds) and seconds >= 0 else None
    return None


class OpenAIChat:
    """A chat model behind an OpenAI-compatible HTTP endpoint.

    Parameters
    ----------
    url
        The API's base URL, e.g. ``http://127.0.0.1:8000/v1`` (``/chat/completions`` is
        appended unless the URL already ends with it).
    model
        The model name sent with each request.
    api_key
        Sent as ``Authorization: Bearer ...`` when given; never logged.
    timeout
        Seconds to wait for each HTTP attempt. Default 60.
    max_retries
        Further attempts after a connection error, a timeout, a 429 or a 5xx answer.
        Default 3.
    backoff
        Wait before the first retry, in seconds, doubled at each further retry
        (``backoff * 2**i``, at most ``max_backoff``); a ``Retry-After`` header, where
        sent, is used instead (also capped). Default 1.
    max_backoff
        Cap on one wait. Default 30.
    budget
        A :class:`Budget` that this client charges and checks (may be shared).
    audit
        Where every call is logged: an :class:`AuditLog` or a path for one (JSON lines),
        a :class:`~mentor.llm.SQLAudit` (a database table), a :class:`~mentor.llm.Tee`
        of several, or anything with a ``write(record)`` method.
    options
        Default sampling options (``temperature``, ``max_tokens``, ...), overridden per call.
    transport
        ``"auto"`` (httpx when installed, default), ``"httpx"`` or ``"urllib"``.
    sleep
        The function that waits between retries (``time.sleep``).
    """

    def __init__(
        self,
        url: str,
        model: str,
        api_key: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 3,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        budget: Budget | None = None,
        audit: Any = None,
        options: Mapping[str, Any] | None = None,
        transport: str = "auto",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ParameterError("must be an http:// or https:// URL", field="url", value=url)
        if not model:
            raise ParameterError("must name a model", field="model", value=model)
        timeout = check_number("timeout", timeout, 0.0, strict=True)
        max_retries = check_count("max_retries", max_retries, 0)
        if not (math.isfinite(backoff) and backoff >= 0 and max_backoff >= 0):
            raise ParameterError("must be >= 0 seconds", field="backoff", value=backoff)
        if transport not in ("auto", "httpx", "urllib"):
            raise ParameterError(
                "must be auto, httpx or urllib", field="transport", value=transport
            )
        base = url.rstrip("/")
        self.url = base if base.endswith("/chat/completions") else base + "/chat/completions"
        self.model = model
        self._api_key = api_key
        self.timeout = float(timeout)
        self.max_retries = max_retries
        self.backoff = float(backoff)
        self.max_backoff = float(max_backoff)
        self.budget = budget
        if audit is not None and not hasattr(audit, "write"):
            audit = AuditLog(audit)
        self.audit = audit
        self.options = dict(options or {})
        self.sleep = sleep
        if transport == "auto":
            try:
                import httpx  # noqa: F401
            except ImportError:
                transport = "urllib"
            else:
                transport = "httpx"
        self.transport = transport
        self._client = None
        if transport == "httpx":
            import httpx

            self._client = httpx.Client(timeout=self.timeout)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **kwargs: Any) -> OpenAIChat:
        """A client configured by ``MENTOR_LLM_URL``, ``MENTOR_LLM_MODEL``,
        ``MENTOR_LLM_API_KEY`` (optional) and ``MENTOR_LLM_TIMEOUT`` (optional, seconds);
        ``kwargs`` set the other parameters and override the environment."""
        env = os.environ if environ is None else environ
        settings: dict[str, Any] = {}
        for name, key in ((ENV_URL, "url"), (ENV_MODEL, "model")):
            if key not in kwargs and not env.get(name):
                raise LLMError(f"environment variable {name} is not set")
            settings[key] = env.get(name)
        if env.get(ENV_KEY):
            settings["api_key"] = env[ENV_KEY]
        if env.get(ENV_TIMEOUT):
            try:
                settings["timeout"] = float(env[ENV_TIMEOUT])
            except ValueError:
                raise ParameterError(
                    "must be a number of seconds", field=ENV_TIMEOUT, value=env[ENV_TIMEOUT]
                ) from None
        settings.update(kwargs)
        return cls(**settings)

    def complete(self, messages: Sequence[Message], **options: Any) -> Completion:
        """Send one chat request (retrying as configured) and return the answer.

        Raises
        ------
        BudgetExceeded
            Before sending, if the budget is spent.
        LLMError
            When every attempt failed, the server refused the request (4xx other than
            429), or the answer is not a chat completion.
        """
        if self.budget is not None:
            self.budget.check()
        messages = check_messages(messages)
        options = {**self.options, **options}
        body = json.dumps({"model": self.model, "messages": messages, **options}).encode()
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        record: dict[str, Any] = {
            "time": time.time(),
            "url": self.url,
            "model": self.model,
            "messages": messages,
            "options": options,
            "key": request_key(self.model, messages, options),
        }
        start = time.perf_counter()
        attempts = 0
        try:
            prompt_chars = sum(len(m["content"]) for m in messages)
            completion, attempts = self._send(body, headers, start, prompt_chars)
        except LLMError as error:
            record.update(
                text=None,
                error=str(error),
                attempts=getattr(error, "attempts", attempts),
                latency_s=time.perf_counter() - start,
            )
            self._log(record)
            raise
        cost = 0.0
        if self.budget is not None:
            cost = self.budget.charge(completion.prompt_tokens, completion.completion_tokens)
        record.update(
            text=completion.text,
            error=None,
            attempts=attempts,
            latency_s=completion.latency_s,
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
            estimated=completion.estimated,
            answered_by=completion.model,
            cost=cost,
        )
        self._log(record)
        return completion

    def close(self) -> None:
        """Close the HTTP connections (httpx keeps them open between calls)."""
        if self._client is not None:
            self._client.close()

    def __enter__(self) -> OpenAIChat:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _log(self, record: dict[str, Any]) -> None:
        if self.audit is not None:
            self.audit.write(record)

    def _send(
        self, body: bytes, headers: dict, start: float, prompt_chars: int
    ) -> tuple[Completion, int]:
        last, wait = "", 0.0
        for attempt in range(self.max_retries + 1):
            if attempt:
                self.sleep(wait)
            wait = min(self.backoff * 2**attempt, self.max_backoff)
            try:
                if self._client is not None:
                    answer = _post_httpx(self._client, self.url, body, headers, self.timeout)
                else:
                    answer = _post_urllib(self.url, body, headers, self.timeout)
                status, answer_headers, content = answer
            except _Unreachable as error:
                last = f"no answer ({error})"
                continue
            if status == 429 or status >= 500:
                last = f"HTTP {status}: {content[:200].decode('utf-8', 'replace')!r}"
                hinted = _retry_after(answer_headers)
                if hinted is not None:
                    wait = min(hinted, self.max_backoff)
                continue
            if status >= 400:
                raise self._error(
                    f"HTTP {status}: {content[:300].decode('utf-8', 'replace')!r}", attempt + 1
                )
            latency = time.perf_counter() - start
            return self._parse(content, latency, attempt + 1, prompt_chars), attempt + 1
        tries = self.max_retries + 1
        raise self._error(f"gave up after {tries} attempts; last: {last}", tries)

    def _error(self, problem: str, attempts: int) -> LLMError:
        error = LLMError(f"{self.url}: {problem}")
        error.attempts = attempts
        return error

    def _parse(
        self, content: bytes, latency: float, attempts: int, prompt_chars: int
    ) -> Completion:
        snippet = content[:200].decode("utf-8", "replace")
        try:
            answer = json.loads(content)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise self._error(f"answer is not JSON: {snippet!r}", attempts) from None
        try:
            text = answer["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise self._error(
                f"answer has no field 'choices[0].message.content': {snippet!r}", attempts
            ) from None
        if not isinstance(text, str):
            raise self._error(f"field 'choices[0].message.content' is not text: {text!r}", attempts)
        usage = answer.get("usage") if isinstance(answer.get("usage"), dict) else {}
        prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
        estimated = not (isinstance(prompt, int) and isinstance(completion, int))
        if estimated:
            prompt, completion = math.ceil(prompt_chars / 4), math.ceil(len(text) / 4)
        return Completion(
            text=text,
            prompt_tokens=int(prompt),
            completion_tokens=int(completion),
            model=str(answer.get("model") or self.model),
            latency_s=latency,
            estimated=estimated,
        )
