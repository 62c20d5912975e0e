"""The question the server asks for an item, and whether it can check the answer.

The question of an item for a learner at a step (their number of events) is
the item's question generator seeded by the item, the learner and the step
(:func:`mentor.demo.questions.question_for`), so the same attempt always shows
the same question. Items without a generator show their ``question``
attribute and check the ``answer`` attribute as text; items with neither ask
the learner to practise the item and say whether they succeeded (the server
has nothing to check: the learner reports the outcome).
"""

from __future__ import annotations

from mentor.demo.questions import question_for
from mentor.domain import Domain
from mentor.questions import Question


def question_of(domain: Domain, item: str, learner: str, step: int) -> tuple[Question | None, str]:
    """The item's question for this learner and step (None when the server cannot
    check an answer), and the prompt to show."""
    found = domain.item(item)
    attributes = found.attributes
    generated = question_for(item, attributes, learner, step)
    if generated is not None:
        return generated, generated.text
    text = attributes.get("question")
    answer = attributes.get("answer")
    if isinstance(text, str) and text.strip() and answer is not None and str(answer).strip():
        hint = str(attributes.get("hint") or "Type your answer.")
        return Question(text, str(answer), kind="text", hint=hint), text
    if isinstance(text, str) and text.strip():
        return None, text
    return None, f"Practise {item}, then say whether you got it right."
