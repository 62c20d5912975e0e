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

The hint ladder per step: the sub-question; the sub-question with its nudge;
the sub-question naming the misconception seen ("it looks like you added the
denominators too"); then the step's concept as a teaching hint.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from mentor.questions import Misconception, Question, Step, parse_number
from mentor.tutor.session import Verdict
from mentor.tutor.state import Attribute

#: The prior of a step whose skill the student model says nothing about.
DEFAULT_PRIOR = 0.5


def _label(step_id: str) -> str:
    return step_id.replace("_", " ")


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

    def __init__(self, question: Question, priors: Mapping[str, float] | None = None,
                 skill: str = "") -> None:
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
            out.append(Attribute(step.id, _label(step.id), skill,
                                 self.priors.get(skill, DEFAULT_PRIOR)))
        return out

    def ask(self, attribute: Attribute, rung: int) -> str:
        step = self._step(attribute)
        if rung <= 0:
            return step.prompt
        if rung == 1 or not attribute.misconceptions:
            return f"Hint: {step.nudge} {step.prompt}"
        return (f"Careful: it looks like you {attribute.misconceptions[-1]}. "
                f"{step.nudge} {step.prompt}")

    def judge(self, attribute: Attribute, question: str, response: str) -> Verdict:
        return Verdict(self._step(attribute).question().check(response))

    def teach(self, attribute: Attribute) -> str:
        return self._step(attribute).concept

    def nudge(self, attribute: Attribute) -> str:
        step = self._step(attribute)
        return f"Here is a way to think about it: {step.nudge}"

    def final_prompt(self, attempt: int) -> str:
        if attempt == 0:
            return f"Now try the whole question again: {self.question.text}"
        return f"Put your steps together and try once more: {self.question.text}"

    def judge_final(self, response: str) -> Verdict:
        q = self.question
        if q.check(response):
            return Verdict(True)
        found = tuple((m.step, m.text) for m in q.diagnose(response))
        value, expected = parse_number(response, q.unit), parse_number(q.answer)
        if not found and value is not None and value == expected and q.steps:
            found = ((q.steps[-1].id, "gave the right value, but not in the form the question "
                      "asks for"),)
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
        return {"kind": self.kind, "question": asdict(self.question), "priors": self.priors,
                "skill": self.skill}

    @classmethod
    def from_state_dict(cls, state: Mapping[str, Any]) -> StepPlanner:
        q = dict(state["question"])
        q["choices"] = tuple(q.get("choices", ()))
        q["steps"] = tuple(Step(**{**s, "choices": tuple(s.get("choices", ()))})
                           for s in q.get("steps", ()))
        q["misconceptions"] = tuple(Misconception(**m) for m in q.get("misconceptions", ()))
        return cls(Question(**q), state.get("priors"), state.get("skill", ""))
