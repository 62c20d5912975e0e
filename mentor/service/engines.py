"""Each course's :class:`~mentor.engine.Engine`, kept in memory and in the database.

The database is the truth, kept as a snapshot plus the batches after it (event
sourcing). Table ``course_states`` holds the course's ``version`` (one more
for each accepted batch of events and each change of model or teacher) and
a snapshot: the JSON ``state_dict`` of the student model and the teacher at
``snapshot_version``. Every batch stores the version it brought the course
to. The engine at any version is the snapshot with the later batches applied
in order (:meth:`Engine.record`, which is deterministic: the teacher's random
generator is part of its state).

A batch therefore writes its events and two numbers, whatever the size of
the course: the cost of a write does not grow with the number of learners.
Every ``snapshot_every`` batches (default 200) the batch's transaction also
saves a fresh snapshot, so that loading a course never applies more than
that many batches. A change of model or teacher saves a snapshot at once.

A process keeps the engine it last loaded or updated, with its version, and
reads the course's version once per request. When another process has
written since, it applies the batches it missed (or, after a change of model
or teacher, loads the snapshot), so any number of processes share one
database, and a restarted process rebuilds exactly the engine of the last
committed batch. A reader never moves a process's engine backwards: one whose
transaction began before the process committed a batch reads the newer engine
(state that is committed, though its own snapshot does not show it yet).

A batch changes the engine and stores its events and version in one
transaction (:meth:`EngineStore.writing`); if anything fails after the engine
was changed in memory, the cached engine is dropped and the next request
loads the committed state again.

Loading a large course (more than ``inline_items`` items) takes seconds: it
happens in a background thread, one per course, while that course's requests
get :class:`CourseLoading` (503 with Retry-After) at once, so they neither
wait nor hold a database transaction or a worker meanwhile, and other courses
are served as before. A course's engine built at import is kept as it is
(:meth:`EngineStore.adopt`), so the process that imported a course never
loads it again. While an engine is built (import, background load) the
cyclic garbage collector is paused and the engine's objects are then moved
out of its sight (:func:`quiet_gc`), and the state is encoded a piece at a
time (:func:`chunked_dumps`): a full collection over millions of new objects,
or one C call encoding megabytes, would otherwise stop every request of
every tenant for hundreds of milliseconds.

Choosing the next items changes nothing that is stored (a GET is safe and can
be repeated). Teachers draw at random; to make that draw a function of the
stored state alone, :func:`select_items` runs the teacher with random generators
seeded from the course's seed, the learner and the number of the learner's
events, instead of the teachers' own generators (which it puts back). The
same stored state and the same request thus give the same items in every
process and after every restart, and a learner gets a fresh draw after each
of their events.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import sys
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import Text, cast, func, update
from sqlalchemy import select as sql_select
from sqlalchemy.orm import Session

from mentor.domain import Box, Domain, Item
from mentor.engine import Engine
from mentor.errors import MentorError
from mentor.service.db import Database
from mentor.service.events_store import load_batches
from mentor.service.tables import (
    Batch,
    Course,
    CourseItem,
    CourseState,
    Prerequisite,
    Skill,
    utcnow,
)
from mentor.students import StudentModel, model_from_state
from mentor.teachers import Teacher, teacher_from_state

#: Batches between two snapshots of a course's engine.
SNAPSHOT_EVERY = 200
#: Courses whose engines a process keeps in memory (the least recently used go).
MAX_CACHED_COURSES = 64
#: Courses with more items than this are loaded in the background.
INLINE_ITEMS = 20_000
#: Seconds a client is asked to wait before asking again for a loading course.
LOADING_RETRY_AFTER = 2


class CourseGone(MentorError):
    """The course was deleted while a request was working on it."""


class EngineBusy(MentorError):
    """A course's engine is held by another request (see :meth:`EngineStore.reading`)."""


class EngineStale(MentorError):
    """The process's engine of a course is older than the course (see
    :meth:`EngineStore.reading` with ``current_only``)."""


class CourseLoading(MentorError):
    """A large course's engine is being loaded in the background; ask again in
    ``retry_after`` seconds."""

    def __init__(self, course_id: int, retry_after: int = LOADING_RETRY_AFTER) -> None:
        super().__init__(
            f"the course is loading (a large course, loaded in the background); try again "
            f"in {retry_after} s"
        )
        self.course_id = course_id
        self.retry_after = retry_after


#: Lists longer than this are encoded a slice at a time by :func:`chunked_dumps`.
JSON_CHUNK = 4096


def chunked_dumps(value: Any) -> str:
    """``json.dumps(value)``, the same text, encoded a piece at a time.

    The C encoder holds the GIL for a whole call: encoding a large course's
    state (megabytes) in one call stalls every other request of the process for
    hundreds of milliseconds. Encoding each member of an object and each slice
    of a long list separately gives the other threads the GIL in between.
    """
    if isinstance(value, dict) and value:
        parts = (f"{json.dumps(str(k))}: {chunked_dumps(v)}" for k, v in value.items())
        return "{" + ", ".join(parts) + "}"
    if isinstance(value, list) and len(value) > JSON_CHUNK:
        slices = (
            json.dumps(value[start : start + JSON_CHUNK])[1:-1]
            for start in range(0, len(value), JSON_CHUNK)
        )
        return "[" + ", ".join(slices) + "]"
    return json.dumps(value)


@contextlib.contextmanager
def quiet_gc() -> Iterator[None]:
    """No cyclic garbage collection while the block builds a large structure, then
    what it built is moved out of the collector's sight (:func:`gc.freeze`).

    Building a large course's engine makes millions of objects; every full
    collection meanwhile scans all of them and stops every thread of the process
    (measured: the other requests' worst latency during a 100,000-item import
    halves without it). Reference counting still frees what dies; blocks may
    nest or overlap across threads (the collector is back on after the last)."""
    global _quiet
    with _quiet_lock:
        _quiet += 1
        gc.disable()
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet -= 1
            if _quiet == 0:
                gc.freeze()
                gc.enable()


_quiet = 0
_quiet_lock = threading.Lock()

#: The GIL switch interval while a course loads in the background (Python's default: 5 ms).
LOADING_SWITCH_INTERVAL = 0.0005


@contextlib.contextmanager
def short_switches(interval: float = LOADING_SWITCH_INTERVAL) -> Iterator[None]:
    """A shorter GIL switch interval while the block runs (blocks may nest or
    overlap across threads; the old interval is back after the last).

    A background thread that builds a large engine holds the GIL until another
    thread has waited the switch interval for it; the event loop waits that
    long each time it wants the GIL back (after every socket operation), so a
    request waits several intervals. Python's 5 ms made other tenants' requests
    tens of milliseconds slower during a load; at 0.5 ms they wait a tenth of it,
    for a little more switching overhead while the load runs."""
    global _switching, _saved_interval
    with _quiet_lock:
        if _switching == 0:
            _saved_interval = sys.getswitchinterval()
            sys.setswitchinterval(min(interval, _saved_interval))
        _switching += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _switching -= 1
            if _switching == 0:
                sys.setswitchinterval(_saved_interval)


_switching = 0
_saved_interval = 0.005


def dump_state(engine: Engine) -> tuple[str, str]:
    """The model's and the teacher's state as JSON text (the model's copy of the
    domain left out: the course's tables hold it)."""
    model_state = engine.model.state_dict()
    model_state["domain"] = None
    return chunked_dumps(model_state), chunked_dumps(engine.teacher.state_dict())


def restore(domain: Domain, model_state: str, teacher_state: str) -> Engine:
    """An engine rebuilt from :func:`dump_state` output."""
    model = model_from_state(json.loads(model_state), domain=domain)
    teacher = teacher_from_state(json.loads(teacher_state), domain=domain)
    return Engine(domain, model, teacher)


#: Item rows read per slice when a course's domain is loaded.
ITEM_ROWS_PER_SLICE = 5000


class _JsonTexts:
    """``json.loads`` for the JSON columns of a course's item rows, each distinct
    text decoded once.

    A large course's items repeat few texts (``{}`` for no attributes, one list per
    skill), and decoding 100,000 rows' two columns one by one was most of a
    100,000-item course's load (1.9 of 3.9 s under cProfile). The decoded values are
    shared between the rows with the same text: the domain copies each item's
    skills into a tuple and its attributes into a dict of its own, and an item's
    attributes are read-only by :class:`~mentor.domain.Item`'s contract.
    """

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}

    def __call__(self, text: str | None, default: Any) -> Any:
        if text is None:
            return default
        value = self._values.get(text, self)
        if value is self:
            value = self._values[text] = json.loads(text)
        return value


def load_domain_rows(session: Session, course_id: int) -> Domain:
    """A course's domain from its skills, items and prerequisites tables.

    The items are read :data:`ITEM_ROWS_PER_SLICE` rows at a time (a server-side
    cursor on PostgreSQL) with their JSON columns as text, decoded by
    :class:`_JsonTexts`: less work per row, and between slices the other threads
    of the process (other courses' requests) get the interpreter.
    """
    # Plain rows, not ORM objects: less work per row for a course of many items.
    spaces = session.scalar(sql_select(Course.task_spaces).where(Course.id == course_id)) or {}
    skills = session.execute(
        sql_select(Skill.skill_id, Skill.attributes)
        .where(Skill.course_id == course_id)
        .order_by(Skill.position)
    ).all()
    decode = _JsonTexts()
    # Through the session's connection: rows as the driver gives them, no ORM step.
    rows = session.connection().execute(
        sql_select(
            CourseItem.item_id,
            cast(CourseItem.skills, Text),
            CourseItem.difficulty,
            cast(CourseItem.attributes, Text),
        )
        .where(CourseItem.course_id == course_id)
        .order_by(CourseItem.position)
        .execution_options(yield_per=ITEM_ROWS_PER_SLICE)
    )
    items = [
        Item(i, tuple(decode(k, ())), d, dict(decode(a, {})))
        for part in rows.partitions()
        for i, k, d, a in part
    ]
    edges = session.execute(
        sql_select(Prerequisite.prerequisite, Prerequisite.skill)
        .where(Prerequisite.course_id == course_id)
        .order_by(Prerequisite.id)
    ).all()
    return Domain(
        items,
        {s: dict(a) for s, a in skills},
        [(p, s) for p, s in edges],
        {name: Box.from_state_dict(box) for name, box in spaces.items()},
    )


@dataclass(frozen=True)
class Head:
    """A course's versions (its ``course_states`` row without the snapshot)."""

    version: int
    snapshot_version: int
    base_version: int


@dataclass
class _Cached:
    version: int
    engine: Engine


@dataclass
class Writing:
    """What :meth:`EngineStore.writing` hands the block.

    A block that applies a batch of events to ``engine`` sets ``changed``
    *before* changing the engine, and stores the batch with
    ``version = next_version`` (the batch's events, applied to the engine at
    ``version``, must give the changed engine). A block that replaces the
    engine (a new model or teacher) sets ``replacement``. If the block fails
    after either, the cached engine is dropped.
    """

    session: Session
    engine: Engine | None
    version: int
    changed: bool = False
    #: Replaces the engine (a new model or teacher); a snapshot is saved.
    replacement: Engine | None = field(default=None)

    @property
    def next_version(self) -> int:
        """The course's version once this block's change is committed."""
        return self.version + 1


def apply_batches(session: Session, course_id: int, engine: Engine, after: int, upto: int) -> None:
    """Apply the course's batches with versions ``after + 1 .. upto`` to ``engine``, in order."""
    if upto <= after:
        return
    batches = load_batches(session, course_id, after, upto)
    if [version for version, _ in batches] != list(range(after + 1, upto + 1)):
        raise MentorError(
            f"course {course_id}: the batches of versions {after + 1} to {upto} are not all "
            "stored; the course's state cannot be rebuilt"
        )
    for _, log in batches:
        engine.record(log)


class EngineStore:
    """The engines of all courses, cached per process and saved in the database.

    Parameters
    ----------
    db
        The service's database.
    snapshot_every
        Batches between two snapshots of a course's engine (default
        :data:`SNAPSHOT_EVERY`).
    max_cached
        Courses whose engines stay in memory (default :data:`MAX_CACHED_COURSES`).
    inline_items
        Courses with more items are loaded in the background (default
        :data:`INLINE_ITEMS`).
    """

    def __init__(
        self,
        db: Database,
        snapshot_every: int = SNAPSHOT_EVERY,
        max_cached: int = MAX_CACHED_COURSES,
        inline_items: int = INLINE_ITEMS,
    ) -> None:
        if snapshot_every < 1 or max_cached < 1:
            raise MentorError("snapshot_every and max_cached must be at least 1")
        self.db = db
        self.snapshot_every = snapshot_every
        self.max_cached = max_cached
        self.inline_items = inline_items
        self._cache: OrderedDict[int, _Cached] = OrderedDict()
        self._domains: dict[int, Domain] = {}
        self._locks: dict[int, threading.Lock] = {}
        self._guard = threading.Lock()
        self._sizes: dict[int, int] = {}
        self._loading: dict[int, threading.Thread] = {}
        #: The error of the last background load of a course, raised once to a request.
        self._failed: dict[int, BaseException] = {}

    def _lock(self, course_id: int) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(course_id, threading.Lock())

    def forget(self, course_id: int) -> None:
        """Drop a course's cached engine and domain (after it was deleted)."""
        with self._guard:
            self._cache.pop(course_id, None)
            self._domains.pop(course_id, None)
            self._sizes.pop(course_id, None)

    def adopt(self, course_id: int, version: int, engine: Engine) -> None:
        """Keep ``engine``, the course's engine at ``version`` built by this process
        (at import), instead of loading it from the database later."""
        with self._guard:
            self._domains[course_id] = engine.domain
            self._sizes[course_id] = len(engine.domain.items)
        self._keep(course_id, version, engine)

    def _large(self, course_id: int, session: Session | None = None) -> bool:
        """Whether the course has more than ``inline_items`` items."""
        size = self._sizes.get(course_id)
        if size is None:
            with contextlib.ExitStack() as stack:
                if session is None:
                    session = stack.enter_context(self.db.read())
                size = session.scalar(
                    sql_select(func.count())
                    .select_from(CourseItem)
                    .where(CourseItem.course_id == course_id)
                )
            size = self._sizes[course_id] = int(size or 0)
        return size > self.inline_items

    def _needs_restore(self, course_id: int, head: Head | None) -> bool:
        """Whether bringing the cached engine to ``head`` means loading the snapshot
        (no cached engine, or one older than the last change of model or teacher);
        with ``head`` None, whether no engine is cached."""
        cached = self._cache.get(course_id)
        if cached is None:
            return True
        return head is not None and cached.version < head.base_version

    def _load_in_background(self, course_id: int, session: Session | None, head: Head | None):
        """Raise :class:`CourseLoading` (starting the load if it is not running) when
        the course is large and its engine must be loaded; return otherwise."""
        if course_id in self._loading:
            raise CourseLoading(course_id)
        failed = self._failed.pop(course_id, None)
        if failed is not None:
            raise failed
        if not self._needs_restore(course_id, head) or not self._large(course_id, session):
            return
        with self._guard:
            if course_id not in self._loading:
                thread = threading.Thread(
                    target=self._background_load,
                    args=(course_id,),
                    name=f"mentor-load-course-{course_id}",
                    daemon=True,
                )
                self._loading[course_id] = thread
                thread.start()
        raise CourseLoading(course_id)

    def _background_load(self, course_id: int) -> None:
        try:
            with short_switches(), quiet_gc(), self.reading(course_id, background=False):
                pass
        except CourseGone:
            self.forget(course_id)
        except BaseException as error:  # handed to the next request of the course
            self._failed[course_id] = error
        finally:
            with self._guard:
                self._loading.pop(course_id, None)

    def _keep(self, course_id: int, version: int, engine: Engine) -> None:
        with self._guard:
            self._cache[course_id] = _Cached(version, engine)
            self._cache.move_to_end(course_id)
            while len(self._cache) > self.max_cached:
                dropped, _ = self._cache.popitem(last=False)
                self._domains.pop(dropped, None)

    def _drop(self, course_id: int) -> None:
        with self._guard:
            self._cache.pop(course_id, None)

    def domain(self, session: Session, course_id: int) -> Domain:
        """The course's domain (cached: a course's domain never changes). A large
        course's is loaded in the background with its engine: until then
        :class:`CourseLoading`."""
        if course_id not in self._domains:
            self._load_in_background(course_id, session, None)
        return self._domain(session, course_id)

    def _domain(self, session: Session, course_id: int) -> Domain:
        domain = self._domains.get(course_id)
        if domain is None:
            domain = self._domains[course_id] = load_domain_rows(session, course_id)
        return domain

    def head(self, session: Session, course_id: int, for_update: bool = False) -> Head:
        """The course's versions (locked against other writers when ``for_update``)."""
        query = sql_select(
            CourseState.version, CourseState.snapshot_version, CourseState.base_version
        ).where(CourseState.course_id == course_id)
        if for_update and self.db.dialect == "postgresql":
            query = query.with_for_update()
        row = session.execute(query).one_or_none()
        if row is None:
            raise CourseGone("the course was deleted")
        return Head(*row)

    def _current(
        self, session: Session, course_id: int, for_update: bool = False, head: Head | None = None
    ) -> tuple[Engine, Head]:
        """The course's engine at ``head`` (read now, locked when ``for_update``, if not given)."""
        if head is None:
            head = self.head(session, course_id, for_update)
        cached = self._cache.get(course_id)
        if cached is not None and cached.version == head.version:
            return cached.engine, head
        if cached is not None and cached.version > head.version and not for_update:
            # A reader whose transaction began before this process committed a batch:
            # the cached engine is that committed state, newer than what the reader's
            # snapshot shows. Rebuilding the older state would throw the newer one away
            # (and cost a snapshot load), so the reader gets the newer one.
            return cached.engine, head
        if cached is not None and head.base_version <= cached.version < head.version:
            engine, after = cached.engine, cached.version
        else:
            row = session.execute(
                sql_select(CourseState.model_state, CourseState.teacher_state).where(
                    CourseState.course_id == course_id
                )
            ).one()
            engine = restore(self._domain(session, course_id), row.model_state, row.teacher_state)
            after = head.snapshot_version
        self._drop(course_id)  # until it is brought up to date
        apply_batches(session, course_id, engine, after, head.version)
        self._keep(course_id, head.version, engine)
        return engine, head

    @contextlib.contextmanager
    def reading(
        self,
        course_id: int,
        session: Session | None = None,
        *,
        wait: bool = True,
        background: bool = True,
        head: Head | None = None,
        current_only: bool = False,
    ) -> Iterator[tuple[Session, Engine]]:
        """A read-only session (``session`` if given, else a new one) and the
        course's current engine. The engine is the process's shared copy: the
        block must not change what is saved.

        With ``wait=False`` it raises :class:`EngineBusy` at once instead of
        waiting while a writer (or another reader) holds the course's engine,
        so that a caller on the event loop never blocks on a writer's commit.
        A large course that must be loaded raises :class:`CourseLoading` at once
        and is loaded in the background (unless ``background`` is False).
        ``head``: the course's versions if the caller read them in ``session``
        already (one round trip fewer). With ``current_only`` the block gets the
        process's engine only if it is at ``head`` (or newer), without reading
        anything, else :class:`EngineStale` (for a caller whose session is no
        transaction: bringing an engine up to date needs one snapshot).
        """
        with contextlib.ExitStack() as stack:
            if session is None:
                session = stack.enter_context(self.db.read())
            # The version is read before taking the lock, so that readers do not
            # queue behind each other's round trips to the database.
            if head is None:
                head = self.head(session, course_id)
            if background:
                self._load_in_background(course_id, session, head)
            lock = self._lock(course_id)
            if not lock.acquire(blocking=wait):
                raise EngineBusy(f"the engine of course {course_id} is in use")
            try:
                cached = self._cache.get(course_id)
                if current_only and (cached is None or cached.version < head.version):
                    raise EngineStale(f"the engine of course {course_id} is not current")
                engine, _ = self._current(session, course_id, head=head)
                yield session, engine
            finally:
                lock.release()

    @contextlib.contextmanager
    def writing(self, course_id: int, *, engine: bool = True) -> Iterator[Writing]:
        """A writing transaction on one course, its engine locked against every
        other writer (in this process and, through the database, in others).

        See :class:`Writing` for what the block may change. A batch moves the
        course to the next version (with a snapshot every ``snapshot_every``
        batches); a replacement saves a snapshot. If anything fails, nothing
        is committed and a cached engine that the block may have changed is
        dropped. A large course whose engine is not in memory raises
        :class:`CourseLoading` at once, before any transaction begins, and is
        loaded in the background. With ``engine=False`` (deleting the course) the
        block gets no engine and none is loaded.
        """
        if engine:
            self._load_in_background(course_id, None, None)
        work: Writing | None = None
        with self._lock(course_id):
            try:
                with self.db.write() as session:
                    if engine:
                        current, head = self._current(session, course_id, for_update=True)
                    else:
                        current, head = None, self.head(session, course_id, for_update=True)
                    work = Writing(session, current, head.version)
                    yield work
                    if work.replacement is not None:
                        work.engine = work.replacement
                    if work.changed or work.replacement is not None:
                        self._save(session, course_id, head, work)
                if work.changed or work.replacement is not None:
                    self._keep(course_id, work.next_version, work.engine)
            except BaseException:
                if work is None or work.changed or work.replacement is not None:
                    self._drop(course_id)
                raise

    def _save(self, session: Session, course_id: int, head: Head, work: Writing) -> None:
        version = work.next_version
        values: dict[str, Any] = {"version": version, "updated_at": utcnow()}
        if work.replacement is not None:
            values["base_version"] = version
        else:
            stored = session.scalar(
                sql_select(Batch.id).where(Batch.course_id == course_id, Batch.version == version)
            )
            if stored is None:
                raise MentorError("a changed engine needs its batch stored with the next version")
        if work.replacement is not None or version - head.snapshot_version >= self.snapshot_every:
            model_state, teacher_state = dump_state(work.engine)
            values.update(
                snapshot_version=version, model_state=model_state, teacher_state=teacher_state
            )
        done = session.execute(
            update(CourseState)
            .where(CourseState.course_id == course_id, CourseState.version == head.version)
            .values(**values)
        )
        if done.rowcount != 1:  # cannot happen while the row is locked
            raise MentorError("the course changed under a writer; try again")


def _teachers(teacher: Teacher) -> list[Teacher]:
    """A teacher and every teacher it is composed of."""
    found = [teacher]
    parts = getattr(teacher, "teachers", None)
    if isinstance(parts, list):
        for part in parts:
            if isinstance(part, Teacher):
                found += _teachers(part)
    inner = getattr(teacher, "teacher", None)
    if isinstance(inner, Teacher):
        found += _teachers(inner)
    return found


def _number(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def select_items(
    engine: Engine,
    learner: str,
    k: int,
    t: float | None,
    seed: int,
    step: int,
    candidates: Sequence[Any] | None = None,
) -> list[Any]:
    """``engine.next(learner, k, t)`` with the teachers' random draws seeded from
    ``(seed, learner, step)`` (see the module's docstring); the teachers'
    own generators are put back afterwards."""
    teachers = _teachers(engine.teacher)
    saved = [teacher.rng for teacher in teachers]
    streams = np.random.SeedSequence([seed & (2**63 - 1), _number(learner), step]).spawn(
        len(teachers)
    )
    try:
        for teacher, stream in zip(teachers, streams, strict=True):
            teacher.rng = np.random.default_rng(stream)
        return engine.next(learner, k=k, t=t, candidates=candidates)
    finally:
        for teacher, rng in zip(teachers, saved, strict=True):
            teacher.rng = rng


def memory_model(model: StudentModel) -> bool:
    """Whether the model predicts recall of each reviewed item (a memory model)."""
    from mentor.students.memory._base import MemoryModel

    return isinstance(model, MemoryModel)
