"""mentor.llm against a real HTTP server on loopback that speaks the OpenAI chat protocol."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mentor.errors import DataError, ParameterError
from mentor.llm import (
    AuditLog,
    Budget,
    BudgetExceeded,
    LLMError,
    OpenAIChat,
    ReplayMiss,
    ReplayModel,
    read_audit,
)

try:
    import httpx  # noqa: F401

    TRANSPORTS = ["urllib", "httpx"]
except ImportError:  # pragma: no cover - dev installs have httpx
    TRANSPORTS = ["urllib"]


def completion(text: str, prompt: int = 7, done: int = 3) -> bytes:
    return json.dumps(
        {
            "id": "c1",
            "object": "chat.completion",
            "model": "tiny",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": done},
        }
    ).encode()


class Server:
    """A chat-completions server; each request takes the next scripted answer
    (status, body, headers, delay in seconds); the last one repeats."""

    def __init__(self, script):
        self.script = list(script)
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                server.requests.append(
                    {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
                )
                status, payload, headers, delay = server.script[
                    min(len(server.requests) - 1, len(server.script) - 1)
                ]
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


OK = (200, completion("four"), {}, 0.0)
USER = [{"role": "user", "content": "2 + 2 = ?"}]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_answer_tokens_request_and_audit(tmp_path, transport):
    with Server([OK]) as server:
        with OpenAIChat(
            server.url,
            "tiny",
            api_key="sk-secret",
            transport=transport,
            audit=tmp_path / "calls.jsonl",
            options={"temperature": 0.0},
        ) as chat:
            answer = chat.complete(USER, max_tokens=5)
    assert (answer.text, answer.prompt_tokens, answer.completion_tokens) == ("four", 7, 3)
    assert not answer.estimated
    (request,) = server.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["auth"] == "Bearer sk-secret"
    assert request["body"] == {
        "model": "tiny",
        "messages": USER,
        "temperature": 0.0,
        "max_tokens": 5,
    }
    (record,) = read_audit(tmp_path / "calls.jsonl")
    assert record["text"] == "four" and record["messages"] == USER
    assert record["options"] == {"temperature": 0.0, "max_tokens": 5}
    assert (record["prompt_tokens"], record["completion_tokens"], record["attempts"]) == (7, 3, 1)
    assert record["error"] is None and record["latency_s"] >= 0
    assert "sk-secret" not in (tmp_path / "calls.jsonl").read_text()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_500_then_success_retries_with_backoff(tmp_path, transport):
    waits = []
    script = [(500, b"overloaded", {}, 0.0), (502, b"", {}, 0.0), OK]
    with Server(script) as server:
        chat = OpenAIChat(
            server.url,
            "tiny",
            backoff=0.5,
            sleep=waits.append,
            transport=transport,
            audit=tmp_path / "a.jsonl",
        )
        assert chat.complete(USER).text == "four"
    assert len(server.requests) == 3
    assert waits == [0.5, 1.0]  # backoff * 2**i
    (record,) = read_audit(tmp_path / "a.jsonl")
    assert record["attempts"] == 3


def test_429_uses_retry_after_capped():
    waits = []
    script = [
        (429, b"slow down", {"Retry-After": "120"}, 0.0),
        (429, b"", {"Retry-After": "2"}, 0.0),
        OK,
    ]
    with Server(script) as server:
        chat = OpenAIChat(server.url, "tiny", backoff=0.1, max_backoff=10, sleep=waits.append)
        assert chat.complete(USER).text == "four"
    assert waits == [10.0, 2.0]


def test_gives_up_after_retries_and_logs_the_failure(tmp_path):
    waits = []
    with Server([(503, b"down", {}, 0.0)]) as server:
        chat = OpenAIChat(
            server.url,
            "tiny",
            max_retries=2,
            backoff=1.0,
            sleep=waits.append,
            audit=tmp_path / "a.jsonl",
        )
        with pytest.raises(LLMError, match="gave up after 3 attempts; last: HTTP 503"):
            chat.complete(USER)
    assert len(server.requests) == 3 and waits == [1.0, 2.0]
    (record,) = read_audit(tmp_path / "a.jsonl")
    assert record["text"] is None and "HTTP 503" in record["error"] and record["attempts"] == 3


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_timeout_is_retried_then_reported(transport):
    with Server([(200, completion("late"), {}, 0.6)]) as server:
        chat = OpenAIChat(
            server.url, "tiny", timeout=0.15, max_retries=1, backoff=0.0, transport=transport
        )
        with pytest.raises(LLMError, match="gave up after 2 attempts; last: no answer"):
            chat.complete(USER)
        assert len(server.requests) == 2


def test_connection_refused_is_an_error():
    with socket.socket() as probe:  # a port that nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    chat = OpenAIChat(f"http://127.0.0.1:{port}/v1", "tiny", max_retries=1, sleep=lambda s: None)
    with pytest.raises(LLMError, match="no answer"):
        chat.complete(USER)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "answer is not JSON"),
        (b'{"choices": []}', "no field 'choices\\[0\\].message.content'"),
        (b'{"choices": [{"message": {"content": 3}}]}', "is not text"),
    ],
)
def test_malformed_answers_are_clear_errors_and_not_retried(body, message):
    with Server([(200, body, {}, 0.0)]) as server:
        chat = OpenAIChat(server.url, "tiny", sleep=lambda s: None)
        with pytest.raises(LLMError, match=message):
            chat.complete(USER)
    assert len(server.requests) == 1


def test_client_errors_are_not_retried():
    with Server([(400, b'{"error": "context too long"}', {}, 0.0)]) as server:
        chat = OpenAIChat(server.url, "tiny", sleep=lambda s: None)
        with pytest.raises(LLMError, match="HTTP 400.*context too long"):
            chat.complete(USER)
    assert len(server.requests) == 1


def test_missing_usage_is_estimated_from_characters():
    body = json.dumps({"choices": [{"message": {"content": "abcdefghi"}}]}).encode()
    with Server([(200, body, {}, 0.0)]) as server:
        answer = OpenAIChat(server.url, "tiny").complete(USER)
    # ceil(9 chars / 4) = 3 completion tokens; ceil(len("2 + 2 = ?") = 9 / 4) = 3 prompt tokens
    assert (answer.prompt_tokens, answer.completion_tokens, answer.estimated) == (3, 3, True)


def test_budget_refuses_calls_once_spent():
    budget = Budget(max_tokens=15, prompt_price=1.0, completion_price=2.0)
    with Server([OK]) as server:
        chat = OpenAIChat(server.url, "tiny", budget=budget)
        chat.complete(USER)  # 10 tokens
        chat.complete(USER)  # 20: crosses the limit, completes
        with pytest.raises(BudgetExceeded, match="20 of 15 tokens used in 2 calls"):
            chat.complete(USER)
    assert len(server.requests) == 2
    # cost per call (7 * 1 + 3 * 2) / 1000
    assert budget.cost == pytest.approx(2 * 0.013)
    with pytest.raises(BudgetExceeded, match="cost budget"):
        b = Budget(max_cost=0.01, prompt_price=1.0)
        b.charge(10, 0)
        b.check()


def test_replay_answers_from_the_log_in_order(tmp_path):
    log = tmp_path / "run.jsonl"
    script = [(200, completion("one"), {}, 0.0), (200, completion("two"), {}, 0.0)]
    with Server(script) as server:
        chat = OpenAIChat(server.url, "tiny", audit=log)
        first, second = chat.complete(USER), chat.complete(USER)
        other = chat.complete([{"role": "user", "content": "3 + 3?"}], temperature=0.5)
    replay = ReplayModel(log)
    assert replay.complete(USER).text == first.text == "one"
    assert replay.complete(USER).text == second.text == "two"
    assert (
        replay.complete([{"role": "user", "content": "3 + 3?"}], temperature=0.5).text == other.text
    )
    with pytest.raises(ReplayMiss, match="no recorded answer"):
        replay.complete(USER)  # both answers used
    with pytest.raises(ReplayMiss):
        ReplayModel(log).complete([{"role": "user", "content": "3 + 3?"}])  # other options


def test_a_cut_off_log_names_its_line(tmp_path):
    log = tmp_path / "run.jsonl"
    AuditLog(log).write({"key": "k", "text": "a", "model": "m", "error": None})
    with open(log, "a") as handle:
        handle.write('{"key": "k", "te')
    with pytest.raises(DataError, match="run.jsonl:2: not a JSON line"):
        ReplayModel(log)


def test_concurrent_writers_never_interleave_lines(tmp_path):
    audit = AuditLog(tmp_path / "a.jsonl")
    text = "x" * 20_000

    def write(n):
        for i in range(20):
            audit.write({"writer": n, "i": i, "text": text})

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    records = list(read_audit(tmp_path / "a.jsonl"))
    assert len(records) == 80 and all(r["text"] == text for r in records)


def test_configuration_from_environment_and_bad_parameters():
    chat = OpenAIChat.from_env(
        {"MENTOR_LLM_URL": "http://h:1/v1/", "MENTOR_LLM_MODEL": "m", "MENTOR_LLM_TIMEOUT": "5"}
    )
    assert (chat.url, chat.model, chat.timeout) == ("http://h:1/v1/chat/completions", "m", 5.0)
    with pytest.raises(LLMError, match="MENTOR_LLM_URL is not set"):
        OpenAIChat.from_env({"MENTOR_LLM_MODEL": "m"})
    with pytest.raises(ParameterError, match="MENTOR_LLM_TIMEOUT"):
        OpenAIChat.from_env(
            {"MENTOR_LLM_URL": "http://h", "MENTOR_LLM_MODEL": "m", "MENTOR_LLM_TIMEOUT": "soon"}
        )
    with pytest.raises(ParameterError, match="field 'url'"):
        OpenAIChat("localhost:8000", "m")
    with pytest.raises(LLMError, match="message 0"):
        OpenAIChat("http://h", "m").complete([{"role": "robot", "content": "hi"}])
