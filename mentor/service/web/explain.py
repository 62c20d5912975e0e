"""Why the teacher chose an item, in words a learner can read.

The reason is read from the teacher that actually chose the item (inside a
:class:`~mentor.teachers.Mixture`, the part recorded in ``last_sources_``;
inside a :class:`~mentor.teachers.Filter`, its inner teacher) and from its
state, never invented: ZPDES says the item is in the learner's zone of
proximal development (Clement et al. 2015) or where the course starts; a due
review gives the predicted recall against the target retention; the mastery
gate names the open skill with the lowest mastery; the target-success teacher
gives the predicted success against its target; the expected-gain teacher
gives the numbers it chose by (the item's mastery, the predicted success and
the expected gain of one attempt, from :attr:`ExpectedGain.last_choices_`).
Other teachers are named.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mentor.engine import Engine
from mentor.errors import MentorError
from mentor.service.web.common import skill_name
from mentor.teachers import (
    ZPDES,
    DueReview,
    ExpectedGain,
    Filter,
    MasteryGate,
    Mixture,
    TargetSuccess,
    Teacher,
)
from mentor.teachers.mastery import open_skills

#: Plain names of the teachers, for people.
TEACHER_NAMES = {
    "zpdes": "ZPDES (learning progress in your zone of proximal development)",
    "due_review": "spaced review",
    "expected_gain": "expected gain (practice where the model expects you to learn most)",
    "mastery": "mastery learning",
    "target": "target success",
    "random": "random choice",
    "fixed": "a fixed sequence",
}


@dataclass(frozen=True)
class Reason:
    """Why an item was chosen.

    Attributes
    ----------
    kind
        ``start``, ``zpd``, ``review``, ``frontier``, ``target``, ``gain``,
        ``step_back`` or ``other``.
    teacher
        The registry name of the teacher that chose it.
    text
        One or two sentences for the learner.
    predicted
        The student model's predicted probability of success (None if unknown).
    """

    kind: str
    teacher: str
    text: str
    predicted: float | None = None


def chooser(teacher: Teacher, position: int = 0) -> Teacher:
    """The teacher that chose the item at ``position`` of the last selection."""
    if isinstance(teacher, Mixture):
        sources = teacher.last_sources_
        if position < len(sources):
            return chooser(teacher.teachers[sources[position]], 0)
        return teacher
    if isinstance(teacher, Filter):
        return chooser(teacher.teacher, position)
    return teacher


def item_label(engine: Engine, item: Any) -> str:
    """ "Addition within 10, level 2": the item's skills and its level (or its id)."""
    domain = engine.domain
    found = domain.items.get(item)
    if found is None:
        return str(item)
    names = " and ".join(skill_name(domain, s) for s in found.skills) or str(item)
    level = found.attributes.get("level")
    return f"{names}, level {level}" if level is not None else names


def _predicted(engine: Engine, learner: Any, item: Any, t: float | None) -> float | None:
    """The model's chance of success on ``item``; None when the model refuses to
    predict it (a :class:`MentorError`, such as an item it was never told of) or
    the value is not finite. Any other error is a bug, and is not hidden."""
    try:
        value = float(np.asarray(engine.model.predict(learner, [item], t), dtype=float)[0])
    except MentorError:
        return None
    return value if np.isfinite(value) else None


def explain(engine: Engine, learner: Any, item: Any, t: float | None, position: int = 0) -> Reason:
    """Why the course's teacher chose ``item`` for ``learner`` in its last selection
    (call right after :func:`~mentor.service.engines.select_items`)."""
    picker = chooser(engine.teacher, position)
    label = item_label(engine, item)
    predicted = _predicted(engine, learner, item, t)
    if isinstance(picker, ZPDES):
        zone = picker.learners_.get(learner)
        history = [] if zone is None else zone.history.get(item, [])
        if item in picker.roots and not history:
            text = (
                f"{label} is where the course starts: it builds on nothing else. "
                "As you succeed here, the teacher (ZPDES) opens the next questions."
            )
            return Reason("start", picker.name, text, predicted)
        if zone is not None and item in zone.weights and item not in zone.mastered:
            size = len([a for a in zone.weights if a not in zone.mastered])
            text = (
                f"{label} is in your zone of proximal development: you have unlocked it "
                f"and not mastered it yet. Of the {size} question types in your zone, the "
                "teacher (ZPDES) favours those where your results are improving fastest."
            )
            if history:
                right = sum(1 for x in history if x >= 0.5)
                text += f" Recently here: {right} right out of {len(history)}."
            return Reason("zpd", picker.name, text, predicted)
        text = f"{label} keeps your practice going while the teacher (ZPDES) has nothing newer."
        return Reason("other", picker.name, text, predicted)
    if isinstance(picker, ExpectedGain):
        return _expected_gain(engine, picker, learner, item, label, predicted)
    if isinstance(picker, DueReview):
        recall = "an unknown" if predicted is None else f"a {predicted:.0%}"
        text = (
            f"Review due: the model gives you {recall} chance of answering {label} right "
            f"now, below the {picker.retention:.0%} the course aims to keep. "
            "Coming back to it now helps it stick."
        )
        return Reason("review", picker.name, text, predicted)
    if isinstance(picker, MasteryGate):
        domain = engine.domain
        found = domain.items.get(item)
        mastery = picker.mastery(learner, engine.model)
        opened = open_skills(domain, mastery, picker.threshold)
        skills = [] if found is None else list(found.skills)
        weakest = min(skills, key=lambda s: mastery.get(s, 0.0), default=None)
        if weakest is not None and mastery.get(weakest, 0.0) < picker.threshold:
            parents = [skill_name(domain, p) for p in domain.prerequisites_of(weakest)]
            why = (
                f"its prerequisites ({', '.join(parents)}) are mastered"
                if parents
                else "it builds on nothing else"
            )
            frontier = [s for s in opened if mastery.get(s, 0.0) < picker.threshold]
            text = (
                f"{skill_name(domain, weakest)} is open, because {why}, and at "
                f"{mastery.get(weakest, 0.0):.0%} mastery it is your least-mastered of the "
                f"{len(frontier)} open skills."
            )
            return Reason("frontier", picker.name, text, predicted)
        text = f"Every open skill is mastered: {label} is a review."
        return Reason("review", picker.name, text, predicted)
    if isinstance(picker, TargetSuccess):
        chance = "an unknown" if predicted is None else f"a {predicted:.0%}"
        text = (
            f"The model gives you {chance} chance of success on {label}, closest to the "
            f"{picker.target:.0%} target: hard enough to learn from, easy enough to succeed."
        )
        return Reason("target", picker.name, text, predicted)
    name = TEACHER_NAMES.get(picker.name, picker.name)
    return Reason(
        "other", picker.name, f"{label} was chosen by the course's teacher ({name}).", predicted
    )


def _expected_gain(
    engine: Engine,
    picker: ExpectedGain,
    learner: Any,
    item: Any,
    label: str,
    predicted: float | None,
) -> Reason:
    """The reason the expected-gain teacher recorded for its choice, in words."""
    choices = [c for c in picker.last_choices_ if c.item == item]
    if not choices:
        text = f"{label} was chosen by the course's teacher (expected gain)."
        return Reason("other", picker.name, text, predicted)
    c = choices[0]
    skills = engine.model.state(learner).get("mastery", {})
    found = engine.domain.items.get(item)
    shown = [
        f"{skill_name(engine.domain, s)} shows {skills[s]:.0%} on your map"
        for s in (found.skills if found is not None else ())
        if s in skills
    ]
    map_note = f" ({'; '.join(shown)})" if shown else ""
    if c.kind == "step_back":
        text = (
            f"You missed {item_label(engine, c.after)} {c.failures} times in a row, so the "
            f"teacher steps back to {label} (your mastery here: {c.mastery:.0%}) before "
            "trying it again."
        )
        return Reason("step_back", picker.name, text, predicted)
    if c.kind == "review":
        text = (
            f"Review due: you mastered {label} ({c.mastery:.0%}){map_note}, and the memory "
            f"model (FSRS) scheduled it for now, when your chance of recalling it has fallen "
            f"to about {picker.retention:.0%}. Coming back to it now helps it stick."
        )
        return Reason("review", picker.name, text, predicted)
    if c.kind == "fallback":
        text = (
            f"{label} is not open to you yet (your mastery of what comes before it is still "
            f"below what the teacher asks for), but none of the questions on offer is, so "
            f"the teacher gives the one you know least ({c.mastery:.0%})."
        )
        return Reason("other", picker.name, text, predicted)
    if c.kind == "spent":
        text = (
            f"Everything open to you is mastered or has had its share of this session's "
            f"questions, and no review is due, so the teacher brings back what you know "
            f"least: {label} ({c.mastery:.0%})."
        )
        return Reason("review", picker.name, text, predicted)
    if c.kind == "revisit":
        text = (
            f"You have mastered everything open to you and no review is due, so the "
            f"teacher brings back what you know least: {label} ({c.mastery:.0%})."
        )
        return Reason("review", picker.name, text, predicted)
    start = (
        f"{label} is where the course starts: it builds on nothing else. "
        if not picker.before(item)
        else ""
    )
    subject = "It" if start else label
    text = start + (
        f"{subject} is open to you and not mastered yet: your mastery of it is {c.mastery:.0%}, "
        f"below the {picker.threshold:.0%} the teacher asks for{map_note}. Of the open "
        f"questions, one more attempt here is expected to raise your mastery the most "
        f"(by {100 * c.gain:.0f} points)."
    )
    return Reason("start" if start else "gain", picker.name, text, predicted)
