"""Database connections: SQLite in WAL mode (the default) or PostgreSQL.

SQLite
    One file in the data directory, in write-ahead-log mode so that readers
    never block the writer nor the writer the readers. ``synchronous=FULL``:
    the WAL is flushed to disk (fsync) at every commit, before the service
    answers, so a batch the service acknowledged survives a power cut or an
    operating-system crash, not only a crash of the service. (``NORMAL`` in WAL
    mode survives a crash of the process but may lose the last commits on a
    power cut; one fsync per batch is the price of never losing an
    acknowledged batch.) ``busy_timeout`` makes a connection wait for the
    write lock held by another process instead of failing with "database is
    locked", and every writing transaction starts with ``BEGIN IMMEDIATE``:
    it takes the write lock at once, so two writers never deadlock on a read
    lock that each wants to upgrade (which SQLite reports at once as
    ``SQLITE_BUSY``, whatever the busy timeout). Within one process the
    writers queue on a lock of their own, first come first served, rather
    than polling the file lock.

PostgreSQL
    ``postgresql+psycopg://user@host/db``; read committed, with the rows that
    must not change under a writer locked ``FOR UPDATE``. A pooled connection
    is tested (a ``SELECT 1`` round trip) when it is taken from the pool only
    if it sat unused there for over :data:`PING_IDLE_S` seconds: a connection
    used a moment ago is alive, and testing it on every checkout (SQLAlchemy's
    ``pool_pre_ping``) made one of every three round trips of a ``next``
    request. A connection that died anyway (the server restarted within that
    time) fails its first statement, SQLAlchemy then drops every pooled
    connection older than it, and the callers that retry (:func:`retrying`)
    run again on a fresh one.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from mentor.errors import MentorError

#: How long a SQLite connection waits for another process's write lock.
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: A PostgreSQL connection idle in the pool for longer is tested before use.
PING_IDLE_S = 10.0


def sqlite_url(path: str | Path) -> str:
    """The SQLAlchemy URL of a SQLite file."""
    return f"sqlite:///{Path(path).resolve()}"


def _sqlite_engine(url: URL, immediate: bool, pool_size: int):
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        pool_size=pool_size,
        max_overflow=pool_size * 2,
        pool_timeout=60,
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        connection.exec_driver_sql(begin)

    return engine


def _ping_when_idle(engine) -> None:
    """Test a pooled connection at checkout if it was idle over :data:`PING_IDLE_S`
    seconds (SQLAlchemy's recipe for a custom pessimistic ping: a failed test makes
    the pool drop the connection and hand out another)."""

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection, record) -> None:
        record.info["checked_in"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection, record, _proxy) -> None:
        since = record.info.get("checked_in")
        if since is None or time.monotonic() - since <= PING_IDLE_S:
            return  # new (just connected) or used a moment ago
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # noqa: BLE001 - any failure: a dead connection
            raise exc.DisconnectionError(str(error)) from error
        if not alive:
            raise exc.DisconnectionError("the connection did not answer a ping")


def retrying(function, *args, **kwargs):
    """``function(*args, **kwargs)``, run once more if it failed because its
    connection had died (a read that can safely run twice)."""
    try:
        return function(*args, **kwargs)
    except exc.DBAPIError as error:
        if not error.connection_invalidated:
            raise
    return function(*args, **kwargs)


class Database:
    """The service's database: a writer and a reader engine with their sessions.

    Parameters
    ----------
    url
        A SQLAlchemy URL: ``sqlite:///path/to/file.db`` or
        ``postgresql+psycopg://user@host:port/database``.
    """

    def __init__(self, url: str | URL) -> None:
        self.url = make_url(url)
        self.dialect = self.url.get_backend_name()
        if self.dialect == "sqlite":
            database = self.url.database
            if not database or database == ":memory:":
                raise MentorError("the service needs a SQLite file, not an in-memory database")
            Path(database).parent.mkdir(parents=True, exist_ok=True)
            self.writer = _sqlite_engine(self.url, immediate=True, pool_size=2)
            self.reader = _sqlite_engine(self.url, immediate=False, pool_size=16)
            self._write_lock: threading.Lock | None = threading.Lock()
            # Persistent in the file; set once, outside any transaction (where it cannot change).
            raw = self.writer.raw_connection()
            try:
                cursor = raw.cursor()
                mode = cursor.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                cursor.close()
            finally:
                raw.close()
            if str(mode).lower() != "wal":
                raise MentorError(f"could not put {database} in WAL mode (got {mode!r})")
        elif self.dialect == "postgresql":
            self.writer = create_engine(self.url, pool_size=16, max_overflow=32, pool_timeout=60)
            _ping_when_idle(self.writer)
            # One snapshot per reading transaction (read committed would give one per statement).
            self.reader = self.writer.execution_options(isolation_level="REPEATABLE READ")
            self._write_lock = None
        else:
            raise MentorError(
                f"unsupported database {self.url.render_as_string(hide_password=True)!r}: "
                "use sqlite:///FILE or postgresql+psycopg://..."
            )
        self._writing = sessionmaker(self.writer, expire_on_commit=False)
        self._reading = sessionmaker(self.reader, expire_on_commit=False)
        # PostgreSQL: statements that each see their own snapshot, with no BEGIN and
        # ROLLBACK round trips around them (see read_once).
        once = self.writer
        if self.dialect == "postgresql":
            once = self.writer.execution_options(isolation_level="AUTOCOMMIT")
        self._once = sessionmaker(once, expire_on_commit=False)

    @property
    def in_process(self) -> bool:
        """Whether reads are in-process work (SQLite) rather than a wait on a server."""
        return self.dialect == "sqlite"

    @property
    def display_url(self) -> str:
        """The URL without its password."""
        return self.url.render_as_string(hide_password=True)

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """A session in a writing transaction, committed when the block ends
        without an exception and rolled back otherwise."""
        lock = self._write_lock if self._write_lock is not None else contextlib.nullcontext()
        with lock, self._writing() as session, session.begin():
            yield session

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        """A session in a read-only transaction (one consistent snapshot)."""
        # Closing the session ends the transaction (the pool rolls the connection back)
        # and detaches the objects read, which keep their loaded values.
        with self._reading() as session:
            yield session

    @contextlib.contextmanager
    def read_once(self) -> Iterator[Session]:
        """A session for reads that need no common snapshot: on PostgreSQL each
        statement runs on its own (autocommit), which saves the BEGIN and ROLLBACK
        round trips of a transaction; on SQLite the same as :meth:`read`."""
        if self.dialect == "sqlite":
            with self.read() as session:
                yield session
            return
        with self._once() as session:
            yield session

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.writer.dispose()
        if self.dialect == "sqlite":
            self.reader.dispose()
