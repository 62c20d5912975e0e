"""Alembic environment: runs the migrations on the connection the service passes in
``config.attributes["connection"]`` (there is no alembic.ini and no offline mode)."""

from __future__ import annotations

from alembic import context

from mentor.service.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the migrations through mentor.service.migrate.upgrade")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
