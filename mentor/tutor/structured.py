"""The tutor without a language model: a generated question's own steps are the
attributes, each asked as a sub-question whose answer the tutor checks itself.

A question from :mod:`mentor.demo.questions` knows how it is worked out
(:class:`~mentor.questions.Step`: sub-question, answer, skill, nudge, concept)
and which wrong answers betray which misconception
(:class:`~mentor.questions.Misconception`, each tied to the step that exposes
it). The attribute of a step starts at the student model's estimate for the
step's skill (the learner's P(success) on that skill's easiest item, as the
service passes it), lowered when the wrong answer shows a misconception that
the step exposes.

A step is asked only once its question gives away no earlier open step's answer
(:meth:`StepPlanner.blocked`: the sum ``4/12 + 3/12`` waits for the conversions
that yield 4 and 3) and not the whole answer (a step such as ``1 x 4 = ?`` whose
question shows the answer 4 is not asked at all).

The hint ladder per step: the sub-question; the sub-question with its nudge;
a closed question naming the misconception seen ("it looks like you added the
denominators too") and offering the right answer beside the learner's wrong
ones ("Is it 7, 12 or 21?"); then the step's concept as a teaching hint (only
the step's own answer where the concept would give the whole answer away). A
second try at the whole question recaps the steps that do not give it away.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict
from fractions import Fraction
from typing import Any

from mentor.questions import (
    Misconception,
    Question,
    Step,
    check_answer,
    fmt,
    fmt_decimal,
    parse_number,
)
from mentor.tutor.guard import numbers_in, reveals
from mentor.tutor.session import Verdict
from mentor.tutor.state import Attribute

#: The prior of a step whose skill the student model says nothing about.
DEFAULT_PRIOR = 0.5


def _label(step_id: str) -> str:
    return step_id.replace("_", " ")


def _options(step: Step, wrong: list[str]) -> str:
    """The right answer and up to two of the learner's wrong ones (or neighbours of
    the right one), smallest first: ``"11, 12 or 21"``."""
    if step.kind == "choice":
        return " or ".join(step.choices)
    right = parse_number(step.answer)
    values: list[str] = [step.answer]
    for answer in reversed(wrong):
        value = parse_number(answer)
        if (
            value is not None
            and not check_answer(step.question(), answer)
            and all(parse_number(v) != value for v in values)
        ):
            values.append(answer.strip())
        if len(values) == 3:
            break
    places = len(step.answer.partition(".")[2]) if step.kind == "decimal" else 0
    for delta in (1, -1, 2):
        if len(values) == 3 or right is None:
            break
        if step.kind == "decimal":  # a neighbour in the last decimal place: 0.3 -> 0.4
            other = fmt_decimal(right + Fraction(delta, 10 ** max(places, 1)))
        elif right.denominator == 1:
            other = fmt(right + delta)
        else:
            other = f"{right.numerator + delta}/{right.denominator}"
        if all(parse_number(v) != parse_number(other) for v in values) and parse_number(other) >= 0:
            values.append(other)
    if right is not None:
        values.sort(key=lambda v: parse_number(v) or 0)
    return ", ".join(values[:-1]) + " or " + values[-1]


class StepPlanner:
    """Attributes and questions from a question's steps (see the module docstring).

    Parameters
    ----------
    question
        The question the learner got wrong; it must have steps.
    priors
        P(known) per course skill, from the student model; skills missing here
        start at 0.5. A step without a skill uses ``skill``.
    skill
        The item's own skill.
    """

    kind = "structured"

    def __init__(
        self, question: Question, priors: Mapping[str, float] | None = None, skill: str = ""
    ) -> None:
        if not question.steps:
            from mentor.tutor.session import TutorError

            raise TutorError(f"question {question.text!r} has no steps to tutor with")
        self.question = question
        self.priors = {str(k): float(v) for k, v in (priors or {}).items()}
        self.skill = skill

    def _step(self, attribute: Attribute) -> Step:
        return self.question.step(attribute.id)

    def attributes(self) -> list[Attribute]:
        out = []
        for step in self.question.steps:
            skill = step.skill or self.skill
            out.append(
                Attribute(step.id, _label(step.id), skill, self.priors.get(skill, DEFAULT_PRIOR))
            )
        return out

    def ask(self, attribute: Attribute, rung: int) -> str:
        step = self._step(attribute)
        if rung <= 0:
            return step.prompt
        if rung == 1:
            return f"Hint: {step.nudge} {step.prompt}"
        lead = (
            f"Careful: it looks like you {attribute.misconceptions[-1]}. "
            if attribute.misconceptions
            else ""
        )
        closed = f"{lead}{step.prompt} Is it {_options(step, attribute.answers)}?"
        if not reveals(closed, self.forbidden(), self.given()):
            return closed
        # The step's answer is the whole answer: options would give it away, so the
        # question stays open (and stays on the page), with the nudge once more.
        return f"{lead or 'Look again. '}{step.nudge} {step.prompt}"

    def blocked(self, attribute: Attribute, others: list[Attribute]) -> bool:
        """Whether the step's question would give away the whole answer (by the guard),
        or the answer of an earlier step among ``others`` (steps still open): a
        number of the prompt, alone or as a fraction's part, equal to it, whether or
        not the question shows that number too (``What is 4/12 + 3/12?`` gives the
        conversions' 4 and 3 although ``1/3 + 1/4`` shows a 4 and a 3). Steps are in
        working order, so only earlier ones can wait on each other: no cycles."""
        step = self._step(attribute)
        if reveals(step.prompt, self.forbidden(), self.given()) is not None:
            return True
        ids = [s.id for s in self.question.steps]
        shown = {parse_number(t) for t in re.findall(r"\d+(?:\.\d+)?", step.prompt)}
        shown |= {parse_number(t) for t in numbers_in(step.prompt)}
        for other in others:
            if ids.index(other.id) < ids.index(step.id):
                if parse_number(self._step(other).answer) in shown:
                    return True
        return False

    def teach(self, attribute: Attribute) -> str:
        step = self._step(attribute)
        if reveals(step.concept, self.forbidden(), self.given()):
            # The step's own statement would give the whole answer: say only the step's.
            return f"The answer to this step is {step.answer}. {step.nudge}"
        return step.concept

    def nudge(self, attribute: Attribute) -> str:
        return f"Think about it this way: {self._step(attribute).nudge}"

    def judge(self, attribute: Attribute, question: str, response: str) -> Verdict:
        return Verdict(self._step(attribute).question().check(response))

    def final_prompt(self, attempt: int) -> str:
        if attempt == 0:
            return f"Now try the whole question again: {self.question.text}"
        recap = " ".join(
            s.concept
            for s in self.question.steps
            if not reveals(s.concept, self.forbidden(), self.given())
        )
        if not recap:  # every step's statement would give the answer: nothing to recap
            return f"Think about the step we worked on, then try once more: {self.question.text}"
        return f"Put your steps together: {recap} Try once more: {self.question.text}"

    def judge_final(self, response: str) -> Verdict:
        q = self.question
        if q.check(response):
            return Verdict(True)
        found = tuple((m.step, m.text) for m in q.diagnose(response))
        value, expected = parse_number(response, q.unit), parse_number(q.answer)
        if not found and value is not None and value == expected and q.steps:
            found = (
                (q.steps[-1].id, "gave the right value, but not in the form the question asks for"),
            )
        return Verdict(False, found)

    def diagnose(self, response: str) -> Verdict:
        return self.judge_final(response)

    def solves(self, response: str) -> bool:
        return self.question.check(response)

    def solution(self) -> str:
        worked = " ".join(step.concept for step in self.question.steps)
        return f"{worked} So the answer is {self.question.answer}."

    def forbidden(self) -> list[str]:
        return [self.question.answer]

    def given(self) -> str:
        return self.question.text

    # ------------------------------------------------------------------ saving
    def state_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "question": asdict(self.question),
            "priors": self.priors,
            "skill": self.skill,
        }

    @classmethod
    def from_state_dict(cls, state: Mapping[str, Any]) -> StepPlanner:
        q = dict(state["question"])
        q["choices"] = tuple(q.get("choices", ()))
        q["steps"] = tuple(
            Step(**{**s, "choices": tuple(s.get("choices", ()))}) for s in q.get("steps", ())
        )
        q["misconceptions"] = tuple(Misconception(**m) for m in q.get("misconceptions", ()))
        return cls(Question(**q), state.get("priors"), state.get("skill", ""))
