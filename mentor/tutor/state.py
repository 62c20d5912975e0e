"""The tutor's attribute state: what the learner still has to realise, and how
likely each piece is already understood.

TreeInstruct (Kargupta et al., 2024, "Instruct, Not Assist: LLM-based
Multi-Turn Planning and Hierarchical Questioning for Socratic Code
Debugging") keeps a state of attributes (concepts, misconceptions, fixes)
that the student has or has not resolved, and aims each question at an
unresolved one. mentor keeps the same state with a number per attribute:
the probability that the learner has it, started from the student model
(their mastery of the skill the attribute exercises) and updated after each
answer with the Bayesian knowledge-tracing step (Corbett and Anderson, 1995):
the posterior given a right or wrong answer, then the chance that the
question itself taught it.

Defaults: slip 0.1, guess 0.15 (a typed number is rarely guessed), learn 0.2
(one sub-question), and a teaching hint that states the attribute makes it
known with probability 0.5.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

#: Knowledge-tracing parameters of a sub-question (see the module docstring).
SLIP, GUESS, LEARN, TAUGHT = 0.1, 0.15, 0.2, 0.5
#: An attribute whose prior is at least this, with no misconception pointing at it,
#: is assumed known and not asked (unless the final answer is still wrong).
ASSUME = 0.9
#: A misconception seen in the wrong answer multiplies the prior of its step by this.
MISCONCEPTION_FACTOR = 0.2
#: Status of an attribute.
OPEN, RESOLVED, TAUGHT_STATUS, ASSUMED = "open", "resolved", "taught", "assumed"


def bkt_update(
    p: float, correct: bool, slip: float = SLIP, guess: float = GUESS, learn: float = LEARN
) -> float:
    """P(known) after one answer: Bayes' rule on the answer, then the learning step.

    >>> round(bkt_update(0.5, True), 4)   # .45 / (.45 + .075) = .857, then + .143 * .2
    0.8857
    """
    if correct:
        posterior = p * (1 - slip) / (p * (1 - slip) + (1 - p) * guess)
    else:
        posterior = p * slip / (p * slip + (1 - p) * (1 - guess))
    return posterior + (1 - posterior) * learn


@dataclass
class Attribute:
    """One thing the learner has to realise to fix the answer.

    Attributes
    ----------
    id
        Names it in its session (a step's id, or one the LLM proposed).
    text
        What it is, for the dashboard (``"a common denominator of 3 and 4"``).
    skill
        The course skill it exercises ("" when none is known).
    p
        The estimated probability that the learner has it.
    status
        ``open``, ``resolved`` (answered with understanding), ``taught`` (told after
        the hint ladder) or ``assumed`` (the student model says it is known).
    misconceptions
        Misconceptions seen in the learner's answers that this attribute exposes.
    asked
        Questions asked about it so far.
    answers
        The learner's wrong answers to its questions (a closed question offers
        them beside the right one).
    """

    id: str
    text: str
    skill: str = ""
    p: float = 0.5
    status: str = OPEN
    misconceptions: list[str] = field(default_factory=list)
    asked: int = 0
    answers: list[str] = field(default_factory=list)

    def observe(self, correct: bool) -> None:
        """Update the estimate after an answer about this attribute."""
        self.p = bkt_update(self.p, correct)

    def taught(self) -> None:
        """The attribute was stated to the learner (a teaching hint)."""
        self.p = self.p + (1 - self.p) * TAUGHT
        self.status = TAUGHT_STATUS

    def state_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> Attribute:
        return cls(**state)


def initial_state(attributes: list[Attribute]) -> list[Attribute]:
    """Mark as assumed the attributes the student model is confident about."""
    for a in attributes:
        if a.p >= ASSUME and not a.misconceptions:
            a.status = ASSUMED
    return attributes


def most_likely_unresolved(attributes: list[Attribute]) -> Attribute | None:
    """The open attribute with the lowest P(known) (ties: the earliest), as a
    teacher picks the item the model expects the most from; None if none is open."""
    open_ = [(a.p, i, a) for i, a in enumerate(attributes) if a.status == OPEN]
    return min(open_)[2] if open_ else None
