"""Upcoming reviews: when each thing a learner has practised should come back.

With a memory model as the course's student model (FSRS, HLR, DASH, SM-2),
the reviews are the model's own: each reviewed item's recall now and the time
its recall falls below the target retention (SM-2's due date; for the others
the crossing found by bisection, recall being decreasing in time).

With any other model (BKT, Elo, ...), which predicts success but not
forgetting over time, the schedule is SuperMemo-2's (Wozniak 1990, through
:class:`mentor.students.memory.SM2`) run over the learner's sessions of each
skill: an attempt at an item counts for each of its skills, and a skill's
attempts less than :data:`SESSION_GAP` apart make one session, which counts
as one review at the time of its last attempt, Good when at least
:data:`SESSION_PASS` of them were right and Again otherwise (SM-2 counts
reviews a day or more apart; counting each of ten answers in a row as a
review would stretch the interval to years). A skill is due one day after its
first good session, then six days, then the interval times its easiness
factor; a lapse starts again at one day. The schedule is for the learner to
see; the course's teacher decides what comes next with its own rule.

Reviews need a course on the wall clock (times in seconds).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mentor.engine import Engine
from mentor.events import EventLog
from mentor.service.engines import memory_model
from mentor.service.web.common import skill_name
from mentor.service.web.explain import item_label
from mentor.students.memory import SM2

DAY = 86400.0
RETENTION = 0.9
#: Attempts at a skill closer than this (seconds) belong to one session.
SESSION_GAP = 12 * 3600.0
#: Share of right answers for a session to count as a good review.
SESSION_PASS = 0.6


@dataclass(frozen=True)
class Review:
    """One thing to review: what, when, and how well it is remembered now."""

    key: str
    label: str
    due: float
    recall: float | None
    reviews: int
    last: float | None

    def is_due(self, now: float) -> bool:
        return self.due <= now


def _crossing(model: Any, learner: Any, item: Any, start: float, retention: float) -> float:
    """The time after ``start`` at which the predicted recall of ``item`` falls below
    ``retention`` (bisection; recall decreases with time); ``start`` if it is already below."""

    def recall(t: float) -> float:
        return float(np.asarray(model.predict(learner, [item], t), dtype=float)[0])

    low, high = start, start + DAY
    if recall(low) < retention:
        return low
    while recall(high) >= retention and high - start < 3650 * DAY:
        low, high = high, start + 2 * (high - start)
    for _ in range(40):
        middle = (low + high) / 2
        if recall(middle) >= retention:
            low = middle
        else:
            high = middle
    return high


def upcoming_reviews(engine: Engine, learner: str, log: EventLog, now: float) -> list[Review]:
    """The learner's reviews, soonest first (see the module docstring); ``log`` holds
    the learner's events in the course."""
    if memory_model(engine.model):
        model = engine.model
        state = model.state(learner)
        counts = state.get("reviews") or {}
        due = state.get("due") or {}
        out = []
        for item, count in counts.items():
            recall = float(np.asarray(model.predict(learner, [item], now), dtype=float)[0])
            last = log.time[log.item == str(item)]
            last_time = float(last.max()) if last.size else None
            when = due.get(item)
            if when is None:
                when = _crossing(model, learner, item, last_time or now, RETENTION)
            label = item_label(engine, item)
            out.append(Review(str(item), label, float(when), recall, int(count), last_time))
        return sorted(out, key=lambda r: (r.due, r.key))
    domain = engine.domain
    sessions = skill_sessions(domain, log)
    if not sessions:
        return []
    order = sorted(sessions, key=lambda s: (s[1], s[0]))
    schedule = SM2()
    schedule.update(
        EventLog(
            [learner] * len(order),
            [key for key, _, _, _ in order],
            [time for _, time, _, _ in order],
            [1.0 if good else 0.0 for _, _, good, _ in order],
        )
    )
    state = schedule.state(learner)
    ids = {str(s): s for s in domain.skills}
    attempts: dict[str, int] = {}
    last: dict[str, float] = {}
    for key, time, _, n in order:
        attempts[key] = attempts.get(key, 0) + n
        last[key] = time
    out = []
    for key in state["reviews"]:
        recall = float(schedule.predict(learner, [key], now)[0])
        label = skill_name(domain, ids.get(key, key))
        out.append(Review(key, label, float(state["due"][key]), recall, attempts[key], last[key]))
    return sorted(out, key=lambda r: (r.due, r.key))


def skill_sessions(domain: Any, log: EventLog) -> list[tuple[str, float, bool, int]]:
    """The learner's sessions per skill: (skill, time of the last attempt, good,
    attempts), a session being attempts at the skill less than :data:`SESSION_GAP`
    apart, good when at least :data:`SESSION_PASS` of them were right."""
    open_: dict[str, list[float]] = {}
    times: dict[str, float] = {}
    out: list[tuple[str, float, bool, int]] = []

    def close(key: str) -> None:
        results = open_.pop(key)
        good = sum(1 for r in results if r >= 0.5) >= SESSION_PASS * len(results)
        out.append((key, times[key], good, len(results)))

    for item, time, outcome in sorted(
        zip(log.item.tolist(), log.time.tolist(), log.outcome.tolist(), strict=True),
        key=lambda e: e[1],
    ):
        found = domain.items.get(item)
        for skill in found.skills if found is not None else ():
            key = str(skill)
            if key in open_ and time - times[key] >= SESSION_GAP:
                close(key)
            open_.setdefault(key, []).append(outcome)
            times[key] = time
    for key in list(open_):
        close(key)
    return out


def when(seconds: float, now: float) -> str:
    """A due time in words, relative to ``now``: "due now", "in 3 hours", "in 2 days"."""
    delta = seconds - now
    if delta <= 0:
        return "due now"
    if delta < 3600:
        minutes = max(1, round(delta / 60))
        return "in 1 minute" if minutes == 1 else f"in {minutes} minutes"
    hours = round(delta / 3600)
    if hours < 24:
        return "in 1 hour" if hours == 1 else f"in {hours} hours"
    days = round(delta / DAY)
    return "tomorrow" if days <= 1 else f"in {days} days"
