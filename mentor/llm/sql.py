"""The audit log of chat calls in a SQL database: the event-store sink.

:class:`SQLAudit` has the same interface as the JSON-lines :class:`~mentor.llm.AuditLog`
(``write(record)``), so :class:`~mentor.llm.OpenAIChat` logs every call to it the same
way; each call becomes one row of the table ``llm_calls`` (SQLite or PostgreSQL, through
SQLAlchemy), under a workspace, an agent and a run, with the whole record as JSON and its
main fields in columns to query (time, model, request key, error, latency, tokens, cost).
The service defines the same table in its own metadata (:func:`call_table`), so a run can
log into the service's database, where its migration made the table.

:meth:`SQLAudit.records` reads a run back in the order it was written, and
:class:`~mentor.llm.ReplayModel` replays it (``ReplayModel(audit.records())``). Each
``write`` is its own committed transaction: a crash loses at most the call in flight.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from mentor.errors import DataError, MentorError, ParameterError

#: Default name of the table.
TABLE = "llm_calls"


def call_table(metadata: Any, name: str = TABLE) -> Any:
    """Define the call table in a SQLAlchemy ``MetaData`` and return it."""
    import sqlalchemy as sa

    big = sa.BigInteger().with_variant(sa.Integer, "sqlite")
    return sa.Table(
        name,
        metadata,
        sa.Column("id", big, primary_key=True, autoincrement=True),
        sa.Column("workspace", sa.String(200), nullable=False),
        sa.Column("agent", sa.String(200), nullable=False),
        sa.Column("run", sa.String(200), nullable=False),
        sa.Column("time", sa.Float, nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("latency_s", sa.Float, nullable=True),
        sa.Column("prompt_tokens", sa.Integer, nullable=True),
        sa.Column("completion_tokens", sa.Integer, nullable=True),
        sa.Column("cost", sa.Float, nullable=True),
        sa.Column("record", sa.Text, nullable=False),
        sa.Index(f"{name}_run", "workspace", "agent", "run", "id"),
    )


def _number(value: Any, kind: type) -> Any:
    return kind(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def call_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """The columns of one call record (as :class:`~mentor.llm.OpenAIChat` writes it)."""
    for name in ("model", "key"):
        if not isinstance(record.get(name), str):
            raise ParameterError(
                "a call record needs it as text", field=name, value=record.get(name)
            )
    when = record.get("time")
    return {
        "time": float(when) if _number(when, float) is not None else 0.0,
        "model": record["model"][:200],
        "key": record["key"][:64],
        "error": None if record.get("error") is None else str(record["error"]),
        "latency_s": _number(record.get("latency_s"), float),
        "prompt_tokens": _number(record.get("prompt_tokens"), int),
        "completion_tokens": _number(record.get("completion_tokens"), int),
        "cost": _number(record.get("cost"), float),
        "record": json.dumps(dict(record), ensure_ascii=False, sort_keys=True),
    }


class SQLAudit:
    """Appends call records to the ``llm_calls`` table of a database.

    Parameters
    ----------
    url
        A SQLAlchemy URL (``sqlite:///runs.db``, ``postgresql+psycopg://...``) or an
        ``Engine``.
    workspace, agent, run
        Whose calls these are: the rows written carry them, :meth:`records` reads them.
        Defaults ``"default"``, ``"agent"`` and ``"default"``.
    table
        A table made by :func:`call_table` (the service's); default one of its own.
    create
        Create the table if it is missing. Default True (False where a migration made it).
    """

    def __init__(
        self,
        url: str | object,
        workspace: str = "default",
        agent: str = "agent",
        run: str = "default",
        table: Any = None,
        create: bool = True,
    ) -> None:
        try:
            import sqlalchemy as sa
        except ImportError:
            raise MentorError(
                "a SQL audit log needs SQLAlchemy: pip install 'mentor[agents]'"
            ) from None
        for name, value in (("workspace", workspace), ("agent", agent), ("run", run)):
            if not isinstance(value, str) or not 1 <= len(value) <= 200:
                raise ParameterError("must be text of 1 to 200 characters", field=name, value=value)
        self._sa = sa
        if isinstance(url, str):
            try:
                self.engine = sa.create_engine(url)
            except sa.exc.ArgumentError as error:
                raise ParameterError(str(error), field="url", value=url) from None
        else:
            self.engine = url
        self.table = call_table(sa.MetaData()) if table is None else table
        if create:
            self.table.metadata.create_all(self.engine, tables=[self.table])
        self.workspace, self.agent, self.run = workspace, agent, run

    def write(self, record: Mapping[str, Any]) -> None:
        """Append ``record`` as one row, committed at once."""
        row = call_row(record)
        with self.engine.begin() as connection:
            connection.execute(
                self.table.insert().values(
                    workspace=self.workspace, agent=self.agent, run=self.run, **row
                )
            )

    def records(self, run: str | None = None) -> Iterator[dict[str, Any]]:
        """The records of a run (default this one), in the order they were written.

        Raises
        ------
        DataError
            For a row whose record is not a JSON object (naming the row).
        """
        sa, t = self._sa, self.table
        query = (
            sa.select(t.c.id, t.c.record)
            .where(
                t.c.workspace == self.workspace,
                t.c.agent == self.agent,
                t.c.run == (self.run if run is None else run),
            )
            .order_by(t.c.id)
        )
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        for row_id, text in rows:
            try:
                record = json.loads(text)
            except json.JSONDecodeError as error:
                raise DataError(
                    f"not JSON ({error.msg})", file=t.name, line=row_id, field="record"
                ) from None
            if not isinstance(record, dict):
                raise DataError("not a JSON object", file=t.name, line=row_id, field="record")
            yield record

    def runs(self) -> list[str]:
        """The runs logged for this workspace and agent, by name."""
        sa, t = self._sa, self.table
        query = (
            sa.select(t.c.run)
            .where(t.c.workspace == self.workspace, t.c.agent == self.agent)
            .distinct()
            .order_by(t.c.run)
        )
        with self.engine.connect() as connection:
            return [r for (r,) in connection.execute(query)]


class Tee:
    """Writes each record to several audit logs (a JSON-lines file and a database)."""

    def __init__(self, *logs: Any) -> None:
        self.logs = logs

    def write(self, record: Mapping[str, Any]) -> None:
        """Write ``record`` to every log, in order."""
        for log in self.logs:
            log.write(record)
