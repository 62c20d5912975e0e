"""Run the Alembic migrations programmatically (the service does it at startup).

Two processes starting at once over the same database are safe: on SQLite the
migration runs in a ``BEGIN IMMEDIATE`` transaction (one writer at a time), on
PostgreSQL under a transaction-scoped advisory lock; the second finds the
schema at head and does nothing.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection

from mentor.errors import MentorError
from mentor.service.db import Database

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: Key of the PostgreSQL advisory lock held while migrating.
ADVISORY_LOCK = 0x6D656E746F72  # "mentor"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration pointing at the package's migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head() -> str:
    """The newest revision the code knows."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current(connection: Connection) -> str | None:
    """The revision the database is at (None for an empty database)."""
    return MigrationContext.configure(connection).get_current_revision()


def _known(scripts: ScriptDirectory, revision: str) -> bool:
    try:
        return scripts.get_revision(revision) is not None
    except CommandError:
        return False


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the database's schema up to ``revision`` (default: the newest)."""
    scripts = ScriptDirectory.from_config(alembic_config())
    with db.write() as session:
        connection = session.connection()
        if db.dialect == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK})")
        found = current(connection)
        if found is not None and not _known(scripts, found):
            raise MentorError(
                f"database {db.display_url} is at schema revision {found!r}, which this "
                "version of mentor does not know (it was made by a newer mentor)"
            )
        command.upgrade(alembic_config(connection), revision)
