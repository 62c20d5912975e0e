"""``mentor serve --demo``: a demo workspace with the demo course, a learner to
practise as, and the history of a few simulated classmates.

On first start :func:`ensure_demo` creates, in the service's database, the
workspace "Demo school" with its admin key, the course ``arithmetic`` (the
demo course, student model BKT without forgetting, teacher :data:`DEMO_TEACHER`), the learner
``ada`` with her token, and the practice of six simulated classmates
(:class:`mentor.sim.StudentPopulation` answering what the same model and
teacher chose, 40 attempts each over the last three days), so that the admin
dashboard has learning curves from the start. The admin key and the
learner's token are kept in the file ``demo.json`` of the data folder (mode
0600, like ``operator-token``); later starts with ``--demo`` read them and
create nothing, unless the demo workspace is gone.

Needs the ``service`` extra.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mentor.demo.course import COURSE_ID, COURSE_NAME, course, course_dict
from mentor.engine import Engine
from mentor.events import Event

#: The demo course's student model and teacher: the service's defaults
#: (:data:`mentor.service.policy.DEFAULT_MODEL`, :data:`~mentor.service.policy.DEFAULT_TEACHER`):
#: BKT per item without forgetting, and the expected-gain teacher, which opens a
#: skill's next level after two right answers and asks a mastered item again only
#: as a review that the memory model says is due.
DEMO_MODEL: dict[str, Any] = {"name": "bkt", "params": {"grain": "item", "forgets": False}}
DEMO_TEACHER: dict[str, Any] = {"name": "expected_gain", "params": {}}
DEMO_FILE = "demo.json"
WORKSPACE_NAME = "Demo school"
LEARNER = "ada"
CLASSMATES = 6
ATTEMPTS = 40
DAY = 86400.0


@dataclass(frozen=True)
class Demo:
    """What the demo needs to be opened: its course, the learner, and the tokens."""

    course: str
    learner: str
    learner_token: str
    admin_key: str
    created: bool

    def links(self, base_url: str) -> dict[str, str]:
        """Login links: the token travels in the URL's fragment, which browsers do
        not send to the server (so it never lands in an access log); the login
        page's script posts it."""
        base = base_url.rstrip("/")
        return {
            "learner": f"{base}/login#token={self.learner_token}",
            "admin": f"{base}/login#token={self.admin_key}",
        }


def simulated_history(seed: int = 0, now: float = 0.0) -> bytes:
    """The CSV (learner, item, time, outcome) of the simulated classmates: each
    answers, as a :class:`~mentor.sim.StudentPopulation` student, the items that a
    fresh demo engine chooses, in four sessions of ten attempts over three days."""
    from mentor.sim import StudentPopulation
    from mentor.students import create_model
    from mentor.teachers import create_teacher

    domain = course()
    engine = Engine(
        domain, create_model(DEMO_MODEL, domain), create_teacher(DEMO_TEACHER, domain, seed)
    )
    population = StudentPopulation(domain, CLASSMATES, seed=seed)
    index = {item: k for k, item in enumerate(domain.item_ids)}
    start = now - 3 * DAY
    lines = ["learner,item,time,outcome"]
    for attempt in range(ATTEMPTS):
        session, within = divmod(attempt, 10)
        for n in range(CLASSMATES):
            name = f"classmate-{n + 1}"
            time = start + session * 0.8 * DAY + n * 900.0 + within * 45.0
            item = engine.next(name, t=time)[0]
            outcome = float(population.attempt(np.array([index[item]]), np.array([n]))[0])
            engine.record([Event(name, item, time=time, outcome=outcome)])
            lines.append(f"{name},{item},{time:.3f},{outcome:g}")
        population.advance(1.0)
    return ("\n".join(lines) + "\n").encode("utf-8")


def _write_secret(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _still_there(service: Any, saved: dict[str, Any]) -> bool:
    """Whether the saved admin key and learner token still work and the course exists."""
    from sqlalchemy import select

    from mentor.service.security import token_hash
    from mentor.service.tables import ApiKey, Course, Learner

    with service.db.read() as session:
        key = session.scalar(
            select(ApiKey).where(ApiKey.token_hash == token_hash(saved["admin_key"]))
        )
        if key is None or key.revoked_at is not None:
            return False
        learner = session.scalar(
            select(Learner).where(Learner.token_hash == token_hash(saved["learner_token"]))
        )
        found = session.scalar(
            select(Course.id).where(
                Course.workspace_id == key.workspace_id, Course.slug == saved["course"]
            )
        )
        return learner is not None and found is not None


def ensure_demo(service: Any, seed: int | None = None) -> Demo:
    """The demo workspace of this service (see the module docstring), created if
    missing. ``service`` is ``app.state.service`` of :func:`mentor.service.create_app`."""
    from mentor.service.api.learners import create_learner
    from mentor.service.api.workspaces import create_workspace
    from mentor.service.courses import create_course
    from mentor.service.importing import Upload
    from mentor.service.security import Principal

    path = Path(service.data_dir) / DEMO_FILE
    if path.is_file():
        with contextlib.suppress(ValueError, KeyError, TypeError):
            saved = json.loads(path.read_text(encoding="utf-8"))
            if _still_there(service, saved):
                return Demo(
                    saved["course"],
                    saved["learner"],
                    saved["learner_token"],
                    saved["admin_key"],
                    False,
                )
    with service.db.write() as session:
        workspace, key, admin_key = create_workspace(session, WORKSPACE_NAME)
        who = Principal("admin", workspace_id=workspace.id, key_id=key.id)
    seed = secrets.randbits(31) if seed is None else seed
    history = simulated_history(seed, service.now())
    create_course(
        service,
        who,
        COURSE_ID,
        COURSE_NAME,
        "json",
        "wall",
        json.dumps(DEMO_MODEL),
        json.dumps(DEMO_TEACHER),
        Upload("arithmetic.json", json.dumps(course_dict()).encode("utf-8")),
        None,
        Upload("classmates.csv", history),
    )
    token = create_learner(service, who.workspace_id, LEARNER)["token"]
    demo = Demo(COURSE_ID, LEARNER, token, admin_key, True)
    _write_secret(
        path,
        {
            "course": demo.course,
            "learner": demo.learner,
            "learner_token": demo.learner_token,
            "admin_key": demo.admin_key,
        },
    )
    return demo
