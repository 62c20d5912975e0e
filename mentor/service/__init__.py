"""The teaching service: an HTTP API over a real database.

Workspaces (tenants) hold courses and learners. A workspace's admin keys
import courses (items, skills, prerequisites, from JSON, CSV or the Junyi
table), choose each course's student model and teacher, read everything and
correct a learner's events (voided events are kept, with an audit trail); a
learner's token answers the questions the server issues it (attempts, graded
by the server, once each), and a grader key posts outcomes graded by an app in
idempotent batches; each batch and the saved state of the course's student
model and teacher commit in one transaction. Event times are checked against
the server's clock; workspaces have quotas. ``GET .../next`` asks
the course's teacher for the next items, ``GET .../state`` the student model
for mastery, predicted recall and due reviews; events export as CSV, Parquet
or xAPI statements.

Parts: :mod:`~mentor.service.app` (the factory), :mod:`~mentor.service.api`
(the JSON API under ``/v1``), :mod:`~mentor.service.web` (the server-rendered
web app: practice page, knowledge map, reviews, admin dashboard),
:mod:`~mentor.service.db` (SQLite in WAL mode or PostgreSQL),
:mod:`~mentor.service.tables` and :mod:`~mentor.service.migrations` (the
schema, Alembic), :mod:`~mentor.service.engines` (each course's engine, cached
and saved), :mod:`~mentor.service.security` (tokens),
:mod:`~mentor.service.importing` (course files), :mod:`~mentor.service.policy`
(models and teachers by name), :mod:`~mentor.service.timerules` (event times),
:mod:`~mentor.service.quotas` (tenant quotas), :mod:`~mentor.service.questions`
(what the server asks and checks), :mod:`~mentor.service.xapi` (statements).

Needs the ``service`` extra: ``pip install 'mentor[service]'``.
"""

from mentor.service.api.deps import Limits
from mentor.service.app import create_app

__all__ = ["Limits", "create_app"]
