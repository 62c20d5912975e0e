"""The tutor with a language model, for free-text and code-debugging items.

As in TreeInstruct (Kargupta et al., 2024), the model proposes the attribute
state (what the learner has to realise: concepts, the misconception, the fix)
and phrases the questions; mentor keeps the state, the tree and the knowledge
estimates (:class:`~mentor.tutor.session.TutorSession`) and guards every
generated question and hint against giving the answer away
(:func:`~mentor.tutor.guard.reveals`): a question that reveals is asked for
again once, then replaced by the attribute's nudge; a nudge that reveals too is
replaced by a fixed one. The model talks through :mod:`mentor.llm` (any
OpenAI-compatible server, a replay of an audit log, or a test double).

Calls, each answered with one JSON object:

- ``propose``: ``{"attributes": [{"id", "text", "question", "nudge", "teach",
  "expect"}]}`` (two to five attributes, in working order);
- ``rephrase``: ``{"question"}``, a simpler sibling question;
- ``judge``: ``{"understood": bool, "misconception": str | null}``;
- ``judge_final``: ``{"correct": bool, "attribute": str | null,
  "misconception": str | null}``, unless the answer matches the reference
  exactly (no call then).

A reply that is not such JSON is an :class:`~mentor.llm.LLMError` naming the
call and the text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from mentor.llm import ChatModel, LLMError
from mentor.tutor.guard import reveals
from mentor.tutor.programs import BuggyProgram
from mentor.tutor.session import Verdict
from mentor.tutor.state import Attribute

SYSTEM = (
    "You are a patient Socratic tutor. You never give the answer or the fix; you ask "
    "short questions that lead the learner to find it. Reply with one JSON object only."
)
#: The nudge used when the model's own nudge would reveal the answer.
FALLBACK_NUDGE = "Look at your answer again, one part at a time: which part are you least sure of?"
#: Most attributes kept from a proposal.
MAX_ATTRIBUTES = 5


@dataclass(frozen=True)
class FreeItem:
    """A question whose answer is checked by the model: free text, or a bug to fix.

    Attributes
    ----------
    id
        The item's id.
    kind
        ``text`` (a written answer) or ``code`` (the corrected line of a program).
    prompt
        The question, or the task of the program.
    reference
        The right answer, or the fixed line.
    code
        The buggy program (``code`` items).
    skill
        The course skill (every attribute is recorded on it).
    """

    id: str
    kind: str
    prompt: str
    reference: str
    code: str = ""
    skill: str = ""

    @classmethod
    def from_program(cls, program: BuggyProgram, skill: str = "debugging") -> FreeItem:
        """A code-debugging item from one of :data:`mentor.tutor.programs.PROGRAMS`."""
        return cls(
            program.id,
            "code",
            f"{program.task} The function has a bug: type the corrected line {program.line}.",
            program.fix,
            program.code,
            skill,
        )

    def forbidden(self) -> list[str]:
        """What no question may contain: the reference and, for code, the fixed
        line's expression without its keyword (``range(1, n + 1)`` of
        ``for k in range(1, n + 1):``), when that is not in the buggy code too."""
        out = [self.reference]
        if self.kind == "code":
            core = (
                re.sub(r"^\s*(for\s+\w+\s+in|if|elif|while|return)\s+", "", self.reference)
                .rstrip()
                .rstrip(":")
                .strip()
            )
            if (
                len("".join(core.split())) >= 5
                and core != self.reference.strip()
                and "".join(core.split()) not in "".join(self.code.split())
            ):
                out.append(core)
        return out

    def text(self) -> str:
        """The item as the model and the learner see it."""
        if self.kind == "code":
            return f"{self.prompt}\n\n{self.code}"
        return self.prompt


def _json(text: str, call: str) -> dict[str, Any]:
    match = re.search(r"\{.*\}", text, flags=re.DOTALL)
    try:
        value = json.loads(match.group(0) if match else text)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise LLMError(
            f"tutor call {call!r}: the model's reply is not a JSON object: {text[:200]!r}"
        )
    return value


def _same(a: str, b: str) -> bool:
    return "".join(a.split()).casefold() == "".join(b.split()).casefold()


class LLMPlanner:
    """Attributes and questions from a chat model (see the module docstring).

    Parameters
    ----------
    chat
        The model (:class:`mentor.llm.OpenAIChat`, :class:`mentor.llm.ReplayModel`, ...).
    item
        The item the learner got wrong.
    wrong_answer
        The learner's answer (their line or their text).
    prior
        The student model's P(known) for the item's skill: every proposed
        attribute starts there.
    proposal
        A proposal already made (a resumed session); default: ask the model.
    """

    kind = "llm"

    def __init__(
        self,
        chat: ChatModel,
        item: FreeItem,
        wrong_answer: str = "",
        prior: float = 0.5,
        proposal: list[dict[str, str]] | None = None,
    ) -> None:
        self.chat = chat
        self.item = item
        self.wrong_answer = wrong_answer
        self.prior = float(prior)
        self._proposal = proposal

    # ------------------------------------------------------------------ calls
    def _call(self, call: str, task: str) -> dict[str, Any]:
        messages = [
            {"role": "system", "content": SYSTEM},
            {
                "role": "user",
                "content": f"[{call}]\nItem:\n{self.item.text()}\n\nReference "
                f"(never reveal): {self.item.reference}\nLearner's first answer: "
                f"{self.wrong_answer}\n\n{task}",
            },
        ]
        return _json(self.chat.complete(messages, temperature=0.0).text, call)

    def proposal(self) -> list[dict[str, str]]:
        """The attributes the model proposed (asked for once)."""
        if self._proposal is None:
            reply = self._call(
                "propose",
                "List two to five things the learner must realise "
                'to fix their answer, in working order, as {"attributes": [{"id'
                '", "text", "question", "nudge", "teach", "expect"}]}: '
                "question asks about it without giving the answer, nudge points "
                "the way, teach states it, expect is what a right reply says.",
            )
            found = reply.get("attributes")
            if not isinstance(found, list) or not found:
                raise LLMError(f"tutor call 'propose': no attributes in {reply!r}")
            kept, seen = [], set()
            for i, a in enumerate(found[:MAX_ATTRIBUTES]):
                if not isinstance(a, Mapping) or not str(a.get("question", "")).strip():
                    raise LLMError(f"tutor call 'propose': attribute {i} has no question: {a!r}")
                ident = re.sub(r"\W+", "_", str(a.get("id") or f"a{i}")).strip("_") or f"a{i}"
                while ident in seen:
                    ident += "_"
                seen.add(ident)
                kept.append(
                    {
                        key: str(a.get(key) or "")
                        for key in ("text", "question", "nudge", "teach", "expect")
                    }
                    | {"id": ident}
                )
            self._proposal = kept
        return self._proposal

    def _spec(self, attribute: Attribute) -> dict[str, str]:
        for a in self.proposal():
            if a["id"] == attribute.id:
                return a
        raise LLMError(f"tutor: no proposed attribute {attribute.id!r}")

    def _safe(self, text: str) -> bool:
        return not reveals(text, self.forbidden(), self.given())

    # ------------------------------------------------------------------ planner
    def attributes(self) -> list[Attribute]:
        return [
            Attribute(a["id"], a["text"] or a["id"], self.item.skill, self.prior)
            for a in self.proposal()
        ]

    def ask(self, attribute: Attribute, rung: int) -> str:
        spec = self._spec(attribute)
        if rung <= 0:
            return spec["question"]
        seen = "; ".join(attribute.misconceptions) or "none named"
        for _ in range(2):  # once, then once more if it revealed the answer
            reply = self._call(
                "rephrase",
                f"The learner did not get this question: "
                f"{spec['question']!r} about {spec['text']!r}. Misconceptions "
                f"seen: {seen}. Ask a simpler sibling question, as "
                '{"question": ...}.',
            )
            text = str(reply.get("question") or "").strip()
            if text and self._safe(text):
                return text
        return self.nudge(attribute)

    def judge(self, attribute: Attribute, question: str, response: str) -> Verdict:
        spec = self._spec(attribute)
        reply = self._call(
            "judge",
            f"Question asked: {question!r}. A right reply says: "
            f"{spec['expect']!r}. The learner replied: {response!r}. Does it "
            'show they understand? {"understood": true|false, '
            '"misconception": text or null}',
        )
        mis = reply.get("misconception")
        found = ((attribute.id, str(mis)),) if mis and not reply.get("understood") else ()
        return Verdict(bool(reply.get("understood")), found)

    def teach(self, attribute: Attribute) -> str:
        return self._spec(attribute)["teach"] or self.nudge(attribute)

    def nudge(self, attribute: Attribute) -> str:
        text = self._spec(attribute)["nudge"]
        return text if text and self._safe(text) else FALLBACK_NUDGE

    def final_prompt(self, attempt: int) -> str:
        if self.item.kind == "code":
            return "Now type the corrected line again."
        return f"Now try the whole question again: {self.item.prompt}"

    def judge_final(self, response: str) -> Verdict:
        if _same(response, self.item.reference):
            return Verdict(True)
        reply = self._call(
            "judge_final",
            f"The learner now answers: {response!r}. Is it right "
            "(equivalent to the reference)? If not, which attribute id does it "
            'miss? {"correct": true|false, "attribute": id or null, '
            '"misconception": text or null}',
        )
        if reply.get("correct"):
            return Verdict(True)
        ident = str(reply.get("attribute") or "")
        ids = {a["id"] for a in self.proposal()}
        mis = str(reply.get("misconception") or "")
        return Verdict(False, ((ident, mis or "missed this"),) if ident in ids else ())

    def diagnose(self, response: str) -> Verdict:
        # The proposal was made with the wrong answer in view: nothing more to ask.
        return Verdict(False)

    def solves(self, response: str) -> bool:
        return _same(response, self.item.reference)

    def solution(self) -> str:
        if self.item.kind == "code":
            return f"The corrected line is: {self.item.reference}"
        return f"The answer is: {self.item.reference}"

    def forbidden(self) -> list[str]:
        return self.item.forbidden()

    def given(self) -> str:
        return self.item.text()

    # ------------------------------------------------------------------ saving
    def state_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "item": asdict(self.item),
            "wrong_answer": self.wrong_answer,
            "prior": self.prior,
            "proposal": self.proposal(),
        }

    @classmethod
    def from_state_dict(cls, state: Mapping[str, Any], chat: ChatModel) -> LLMPlanner:
        return cls(
            chat,
            FreeItem(**state["item"]),
            state.get("wrong_answer", ""),
            float(state.get("prior", 0.5)),
            list(state["proposal"]),
        )
