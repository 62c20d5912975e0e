"""Alembic migrations of the service's database, run by :func:`mentor.service.migrate.upgrade`
at startup. ``env.py`` takes the connection the service hands it; each revision
in ``versions/`` spells out its own tables (never importing the live models)."""
