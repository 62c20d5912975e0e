"""The web app: HTML pages for learners and admins, beside the JSON API.

Server-rendered with Jinja2; a small script of our own (``static/app.js``)
makes answering a question swap the page in place, and every page works
without it. Pages:

- ``/login`` (a token pasted, or a link ``/login#token=...``), ``/logout``;
- learners: ``/practice/{course}`` (a question, the answer checked, what comes
  next and why), ``/practice/{course}/map`` (the knowledge map),
  ``/practice/{course}/reviews`` (upcoming reviews);
- admins: ``/admin`` (courses, learners, adding a learner), ``/admin/import``
  (a course imported through a form), ``/admin/courses/{course}`` (learning
  curves, the teacher's choices over time), and each learner's page;
- tutoring (:mod:`~mentor.service.web.tutor`): ``/practice/{course}/tutor/{session}``
  (a Socratic session after a wrong answer), ``/admin/courses/{course}/tutoring``.

The pages use the same parts as the API (``app.state.service``) and the same
checks: a page reads and writes exactly what the caller's token may through
``/v1``.
"""

from fastapi import APIRouter

from mentor.service.web import admin, learner, session, tutor
from mentor.service.web.admin import IMPORT_PATH
from mentor.service.web.common import COOKIE

router = APIRouter(include_in_schema=False)
for module in (session, learner, admin, tutor):
    router.include_router(module.router)

__all__ = ["COOKIE", "IMPORT_PATH", "router"]
