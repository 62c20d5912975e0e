"""The event-store sink of mentor.llm: every call of a real client (against a loopback
chat server) logged to a SQL table, read back and replayed; on SQLite, and on
PostgreSQL when MENTOR_TEST_POSTGRES_URL names a server."""

from __future__ import annotations

import json
import os

import pytest

pytest.importorskip("sqlalchemy")

from test_llm import Server, completion  # noqa: E402

from mentor.errors import DataError, ParameterError  # noqa: E402
from mentor.llm import (  # noqa: E402
    AuditLog,
    LLMError,
    OpenAIChat,
    ReplayMiss,
    ReplayModel,
    SQLAudit,
    Tee,
    read_audit,
)

ASK = [{"role": "user", "content": "2 + 2 = ?"}]


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'calls.db'}"
        return
    url = os.environ.get("MENTOR_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("MENTOR_TEST_POSTGRES_URL is not set: the PostgreSQL variant is skipped")
    pytest.importorskip("psycopg")
    from mentor.service.testing import postgres_database

    with postgres_database(url) as fresh:
        yield fresh


def test_every_call_is_a_row_and_the_run_replays(db_url, tmp_path):
    audit = SQLAudit(db_url, workspace="w", agent="a", run="r1")
    script = [
        (200, completion("four", 11, 2), {}, 0),
        (500, b"down", {}, 0),
        (200, completion("five", 12, 3), {}, 0),
    ]
    with Server(script) as server:
        chat = OpenAIChat(server.url, "tiny", audit=audit, max_retries=1, backoff=0)
        assert chat.complete(ASK, temperature=0).text == "four"
        # the second call: a 500, retried once, then answered
        assert chat.complete(ASK, temperature=0).text == "five"
        chat.close()
    records = list(audit.records())
    assert [r["text"] for r in records] == ["four", "five"]
    assert [r["attempts"] for r in records] == [1, 2]
    assert records[0]["prompt_tokens"] == 11 and records[1]["completion_tokens"] == 3
    assert records[0]["messages"] == ASK and records[0]["options"] == {"temperature": 0}
    # the columns hold the main fields
    import sqlalchemy as sa

    with audit.engine.connect() as connection:
        rows = connection.execute(
            sa.select(
                audit.table.c.model,
                audit.table.c.prompt_tokens,
                audit.table.c.error,
                audit.table.c.run,
            ).order_by(audit.table.c.id)
        ).all()
    assert [tuple(r) for r in rows] == [("tiny", 11, None, "r1"), ("tiny", 12, None, "r1")]
    # replayed with no server: the same answers in the same order, then a miss
    replay = ReplayModel(audit.records())
    assert [replay.complete(ASK, temperature=0).text for _ in range(2)] == ["four", "five"]
    with pytest.raises(ReplayMiss):
        replay.complete(ASK, temperature=0)
    audit.engine.dispose()


def test_failed_calls_are_logged_and_runs_and_agents_are_apart(db_url):
    audit = SQLAudit(db_url, workspace="w", agent="a", run="r1")
    other = SQLAudit(db_url, workspace="w", agent="b", run="r1")
    with Server([(503, b"busy", {}, 0)]) as server:
        chat = OpenAIChat(server.url, "tiny", audit=audit, max_retries=1, backoff=0)
        with pytest.raises(LLMError, match="gave up after 2 attempts"):
            chat.complete(ASK)
        chat.close()
    (record,) = audit.records()
    assert record["text"] is None and "HTTP 503" in record["error"] and record["attempts"] == 2
    assert list(other.records()) == [] and list(audit.records("r2")) == []
    assert audit.runs() == ["r1"] and other.runs() == []
    audit.engine.dispose()
    other.engine.dispose()


def test_tee_writes_the_same_record_to_the_file_and_the_table(tmp_path):
    audit = SQLAudit(f"sqlite:///{tmp_path / 'calls.db'}")
    path = tmp_path / "calls.jsonl"
    with Server([(200, completion("ok"), {}, 0)]) as server:
        with OpenAIChat(server.url, "tiny", audit=Tee(AuditLog(path), audit)) as chat:
            chat.complete(ASK)
    assert list(read_audit(path)) == list(audit.records())


def test_bad_records_and_parameters_are_named(tmp_path):
    audit = SQLAudit(f"sqlite:///{tmp_path / 'calls.db'}")
    with pytest.raises(ParameterError, match="field 'key'"):
        audit.write({"model": "m", "key": 3})
    with pytest.raises(ParameterError, match="field 'run'"):
        SQLAudit(f"sqlite:///{tmp_path / 'calls.db'}", run="")
    with pytest.raises(ParameterError, match="field 'url'"):
        SQLAudit("not a url")
    # a row corrupted behind the store's back is named by its id
    with audit.engine.begin() as connection:
        connection.execute(
            audit.table.insert().values(
                workspace="default",
                agent="agent",
                run="default",
                time=0.0,
                model="m",
                key="k",
                record=json.dumps([1, 2]),
            )
        )
    with pytest.raises(DataError, match="llm_calls:1, field .record.: not a JSON object"):
        list(audit.records())
