"""Simulated learners with explicit misconceptions, to compare ways of answering a
wrong answer: show the answer, give one hint, or tutor Socratically.

Each learner takes one question type of the demo course
(:mod:`mentor.demo.questions`) and, with probability ``hold``, holds one of its
misconceptions (adding denominators, a borrowing error, a place-value slip, ...):
on any question of that type it then gives the wrong answer the misconception
produces. Each step skill of the question type is known with probability
``step_known``; a question whose steps are all known is answered right but for
slips. The learner's answer to a step's sub-question follows the same state: a
step that exposes the held misconception is answered right with probability
``expose_right`` (``closed_right`` when the question offers the answer among
options), a step whose skill is unknown with ``step_guess``.

What changes the learner is stated, per event, in :class:`LearningLaw`: a held
misconception is given up with probability ``show`` on seeing the right answer,
``hint`` on a hint aimed at the step that exposes it, ``discover`` on answering
that step's sub-question right oneself, and ``teach`` on a teaching hint that
states that step; an unknown step skill is learnt with probability
``step_learn`` from a teaching hint, a hint, or a sub-question answered right.
These numbers are the simulator's assumptions, not measurements: the default
law follows the self-explanation literature's direction (finding the step
oneself helps more than being told, Chi et al. 1994); ``LAWS["equal"]`` gives
every event the same chance, so that any difference left comes from the number
and aim of the events alone.

Success afterwards is measured on new questions of the same type, answered
without feedback.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from mentor.demo.questions import generate
from mentor.questions import Question, Step

#: The question types (template, level) learners are drawn from: those whose
#: misconceptions are the common ones of arithmetic and fractions.
QUESTION_TYPES: tuple[tuple[str, int], ...] = (
    ("add_like", 1),
    ("add_unlike", 2),
    ("add_unlike", 3),
    ("add_carry", 2),
    ("sub_borrow", 2),
    ("sub_borrow", 3),
    ("place_value", 2),
    ("place_value", 3),
    ("long_mult", 3),
    ("mult_fractions", 2),
    ("fraction_of", 3),
    ("decimals", 1),
    ("decimals", 2),
    ("percentages", 1),
    ("fractions", 2),
)


@dataclass(frozen=True)
class LearningLaw:
    """The simulator's assumptions (see the module docstring); probabilities."""

    hold: float = 0.8
    step_known: float = 0.85
    slip: float = 0.05
    expose_right: float = 0.4
    closed_right: float = 0.7
    step_guess: float = 0.2
    show: float = 0.10
    hint: float = 0.25
    discover: float = 0.5
    teach: float = 0.3
    step_learn: float = 0.3


#: The default law, and one where every event has the same chance (0.25).
LAWS: dict[str, LearningLaw] = {
    "self_discovery": LearningLaw(),
    "equal": LearningLaw(show=0.25, hint=0.25, discover=0.25, teach=0.25),
}


def _wrong(question_or_step: Question | Step) -> str:
    """A wrong answer that no misconception explains (an unknown step, a slip)."""
    answer = question_or_step.answer
    if getattr(question_or_step, "kind", "") == "choice":
        return next(c for c in question_or_step.choices if c != answer)
    return "0" if answer.strip() != "0" else "1"


@dataclass
class MisconceptionLearner:
    """One simulated learner (see the module docstring)."""

    template: str
    level: int
    holds: str | None
    knows: dict[str, bool]
    law: LearningLaw
    rng: np.random.Generator = field(repr=False)

    @classmethod
    def draw(
        cls, rng: np.random.Generator, law: LearningLaw, kind: tuple[str, int] | None = None
    ) -> MisconceptionLearner:
        template, level = kind or QUESTION_TYPES[int(rng.integers(len(QUESTION_TYPES)))]
        probe = generate(template, level, rng)
        ids = sorted({m.id for m in probe.misconceptions})
        holds = ids[int(rng.integers(len(ids)))] if ids and rng.random() < law.hold else None
        skills = sorted({s.skill for s in probe.steps})
        knows = {s: bool(rng.random() < law.step_known) for s in skills}
        return cls(template, level, holds, knows, law, rng)

    def question(self) -> Question:
        """A new question of the learner's type."""
        return generate(self.template, self.level, self.rng)

    def _held(self, question: Question):
        return next((m for m in question.misconceptions if m.id == self.holds), None)

    def answer(self, question: Question) -> str:
        """The learner's answer to a whole question."""
        held = self._held(question)
        if held is not None and self.rng.random() >= self.law.slip:
            return held.answer
        known = all(self.knows.get(s.skill, True) for s in question.steps)
        if known and self.rng.random() >= self.law.slip:
            return question.answer
        return _wrong(question)

    def answer_step(self, question: Question, step: Step, closed: bool) -> str:
        """The learner's answer to a step's sub-question (``closed``: offered among options)."""
        held = self._held(question)
        if held is not None and held.step == step.id:
            right = self.rng.random() < (self.law.closed_right if closed else self.law.expose_right)
            if right and self.rng.random() < self.law.discover:
                self.holds = None
            return step.answer if right else _wrong(step)
        if not self.knows.get(step.skill, True):
            right = self.rng.random() < (
                max(self.law.step_guess, 1 / 3) if closed else self.law.step_guess
            )
            if right and self.rng.random() < self.law.step_learn:
                self.knows[step.skill] = True
            return step.answer if right else _wrong(step)
        return step.answer if self.rng.random() >= self.law.slip else _wrong(step)

    def shown_answer(self) -> None:
        """The learner sees the right answer to the question they got wrong."""
        if self.holds is not None and self.rng.random() < self.law.show:
            self.holds = None

    def hinted(self, question: Question, step: Step, chance: float) -> None:
        """A hint (``chance``: the law's ``hint`` or ``teach``) aimed at ``step``."""
        held = self._held(question)
        if held is not None and held.step == step.id and self.rng.random() < chance:
            self.holds = None
        if not self.knows.get(step.skill, True) and self.rng.random() < self.law.step_learn:
            self.knows[step.skill] = True

    def copy(self, seed: int) -> MisconceptionLearner:
        """The same learner with a fresh generator (common random numbers across arms)."""
        twin = copy.copy(self)
        twin.knows = dict(self.knows)
        twin.rng = np.random.default_rng(seed)
        return twin


# ---------------------------------------------------------------------------- the arms
@dataclass
class Remediation:
    """What one way of answering a wrong answer did: whether the learner reached the
    right answer themselves, and how many answers it asked of them."""

    solved: bool
    turns: int


def show_answer(learner: MisconceptionLearner, question: Question, wrong: str) -> Remediation:
    """Show the right answer at once."""
    learner.shown_answer()
    return Remediation(False, 0)


# Every arm ends with the right answer in view (shown, or typed by the learner), so
# each meets the law's ``show`` once at the end; they differ in what comes before.


def single_hint(learner: MisconceptionLearner, question: Question, wrong: str) -> Remediation:
    """One hint, the nudge of the step that the wrong answer's misconception points at
    (the first step when none is recognised), then one more try; the answer is shown
    if that try is wrong too."""
    found = question.diagnose(wrong)
    step = question.step(found[0].step) if found else question.steps[0]
    learner.hinted(question, step, learner.law.hint)
    solved = question.check(learner.answer(question))
    learner.shown_answer()
    return Remediation(solved, 1)


def hint_then_practice(
    learner: MisconceptionLearner, question: Question, wrong: str, items: int = 4
) -> Remediation:
    """:func:`single_hint`, then ``items`` new questions of the same type, each answer
    followed by the right one: as many answers as a Socratic session asks for, spent
    on practice with feedback instead (the control for the number of turns)."""
    done = single_hint(learner, question, wrong)
    for _ in range(items):
        learner.answer(learner.question())
        learner.shown_answer()
    return Remediation(done.solved, done.turns + items)


def model_priors(
    learner: MisconceptionLearner, question: Question, answers: int = 2
) -> dict[str, float]:
    """What a student model would say about each step skill of the learner: the BKT
    posterior (prior 0.5, slip 0.1, guess 0.2) after ``answers`` earlier answers on
    the skill, drawn from the learner's true state (right with 1 - slip if known,
    with ``step_guess`` if not)."""
    priors = {}
    for skill in sorted({s.skill for s in question.steps}):
        p = 0.5
        for _ in range(answers):
            known = learner.knows.get(skill, True)
            right = learner.rng.random() < (
                (1 - learner.law.slip) if known else learner.law.step_guess
            )
            like_known, like_not = (0.9, 0.2) if right else (0.1, 0.8)
            p = p * like_known / (p * like_known + (1 - p) * like_not)
        priors[skill] = p
    return priors


def socratic(
    learner: MisconceptionLearner,
    question: Question,
    wrong: str,
    diagnose: bool = True,
    model: bool = False,
) -> Remediation:
    """A :class:`mentor.tutor.TutorSession` over the question's steps; the learner
    answers each sub-question and the whole question when asked. With ``diagnose``
    False the tutor is not told the wrong answer (no misconception to aim at); with
    ``model`` the steps' priors come from :func:`model_priors` (steps the model is
    sure of are skipped), else every step starts at 0.5."""
    from mentor.tutor import StepPlanner, TutorSession

    priors = model_priors(learner, question) if model else {}
    session = TutorSession(StepPlanner(question, priors), wrong_answer=wrong if diagnose else "")
    reply = session.start()
    taught = 0
    while reply.prompt is not None:
        node = session.current
        if node.kind == "final":
            response = learner.answer(question)
        else:
            # closed: the rung that offers options ("Is it 7, 12 or 21?"); where options
            # would give the whole answer away the tutor keeps the question open
            response = learner.answer_step(
                question,
                question.step(node.attribute),
                closed=node.rung >= 2 and " Is it " in node.text,
            )
        reply = session.answer(response)
        for n in session.nodes_[taught:]:
            if n.kind == "teach":
                learner.hinted(question, question.step(n.attribute), learner.law.teach)
        taught = len(session.nodes_)
    learner.shown_answer()
    return Remediation(reply.status == "solved", session.turns())


def socratic_undiagnosed(
    learner: MisconceptionLearner, question: Question, wrong: str
) -> Remediation:
    """:func:`socratic` without reading the wrong answer: steps in working order."""
    return socratic(learner, question, wrong, diagnose=False)


def socratic_modelled(learner: MisconceptionLearner, question: Question, wrong: str) -> Remediation:
    """:func:`socratic` with step priors from a student model (:func:`model_priors`)."""
    return socratic(learner, question, wrong, model=True)


ARMS = {
    "show answer": show_answer,
    "single hint": single_hint,
    "single hint + 4 practice items": hint_then_practice,
    "socratic": socratic,
    "socratic + student model": socratic_modelled,
    "socratic, no diagnosis": socratic_undiagnosed,
}


def run_arms(
    seed: int, learners: int, law: LearningLaw, post: int = 5, arms: dict | None = None
) -> dict[str, dict[str, float]]:
    """One seed: ``learners`` learners who answer a question wrong, each remediated
    by every arm (the same learner and question, common random numbers), then
    ``post`` new questions of the same type. Returns per arm the mean post-test
    success, the share solved during remediation and the mean number of turns."""
    arms = arms or ARMS
    rng = np.random.default_rng(seed)
    totals = {name: {"post": 0.0, "solved": 0.0, "turns": 0.0} for name in arms}
    taken = 0
    while taken < learners:
        learner = MisconceptionLearner.draw(rng, law)
        question = learner.question()
        wrong = learner.answer(question)
        if question.check(wrong):
            continue  # answered right: nothing to remediate
        taken += 1
        stream = int(rng.integers(2**62))
        for name, arm in arms.items():
            twin = learner.copy(stream)
            done = arm(twin, question, wrong)
            post_rng = np.random.default_rng(stream + 1)
            twin.rng = post_rng
            right = sum(question_right(twin) for _ in range(post))
            totals[name]["post"] += right / post
            totals[name]["solved"] += float(done.solved)
            totals[name]["turns"] += done.turns
    return {name: {k: v / learners for k, v in t.items()} for name, t in totals.items()}


def question_right(learner: MisconceptionLearner) -> bool:
    """Whether the learner answers a new question of their type right."""
    question = learner.question()
    return question.check(learner.answer(question))
