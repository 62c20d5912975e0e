"""A Socratic tutoring session: ask, don't tell.

The session follows TreeInstruct (Kargupta et al., 2024): a state of attributes
the learner still has to realise (:mod:`mentor.tutor.state`), a question aimed
at one of them each turn, and a tree of questions:

- an answer that shows understanding resolves the attribute and the session
  moves *down* a level, to a child question about the next attribute;
- an answer that does not is followed by a *sibling* question at the same
  level: the same sub-question again with a nudge, then a closed one (the
  misconception it showed named, the learner's answers offered beside the
  right one);
- after three questions at one level without understanding, a *teaching
  hint* states the attribute (the step's answer, never the whole answer) and
  the session moves on.

Which attribute comes next is the student model's call, as a teacher chooses
items: the open attribute with the lowest estimated P(known)
(:func:`~mentor.tutor.state.most_likely_unresolved`); the estimate is updated
after every answer. Once every attribute is resolved or taught, the learner
tries the whole question again; a wrong answer there reopens the attributes its
misconceptions point to (or the ones assumed known), and only after three
wrong tries at the whole question does the tutor show the worked solution (the
hint ladder: question, nudge, named misconception, teaching hint per step, then
the solution). An answer to any sub-question that is the right answer to the
whole question skips the remaining steps, except those that a misconception
seen in the learner's answers points at and that are not resolved yet: as in
TreeInstruct, the session ends when the state is resolved, not merely when the
answer is typed.

Every text the tutor sends before the solution passes the guard
(:func:`~mentor.tutor.guard.reveals`).

What the student model is told (:class:`TurnEvent`) follows the convention of
the ASSISTments data that knowledge tracing is fitted on (the 2009-2010
skill-builder data: a row per question, ``correct`` scored on the first
attempt, and "if a student uses the tutoring ("Hint" or "Break this Problem
Into Steps"), the question will be marked incorrect";
https://sites.google.com/site/assistmentsdata/home/assistment-2009-2010-data/skill-builder-data-2009-2010;
Feng, Heffernan and Koedinger, 2009): each sub-question the tutor asks afresh
(rung 0) is one event, scored by the learner's first action on it, 1 for a
right answer and 0 for a wrong one or a hint asked for. The answers that come
after a nudge, a closed question or a teaching hint are no events: they were
helped, and the question's row already says it was missed. Nor are the answers
to the whole question: the attempt that opened the session is the item's row
(already wrong), and the session is the tutoring that marks it incorrect. So a
learner who needed hints never counts as knowing, and one who answers three
tries at a step gives one piece of evidence, not three. A session is plain data:
:meth:`TutorSession.state_dict` and :meth:`TutorSession.from_state_dict`
save and resume it.

Defaults: three questions per level, three tries at the whole question.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from mentor.errors import MentorError
from mentor.tutor.guard import reveals
from mentor.tutor.state import (
    ASSUMED,
    MISCONCEPTION_FACTOR,
    OPEN,
    RESOLVED,
    Attribute,
    initial_state,
    most_likely_unresolved,
)

#: Session status.
ACTIVE, SOLVED, REVEALED = "active", "solved", "revealed"
#: Questions at one level before a teaching hint; tries at the whole question before
#: the solution is shown.
MAX_SIBLINGS, MAX_FINAL = 3, 3


class TutorError(MentorError):
    """A tutoring request that cannot be served (a finished session, a bad state)."""


@dataclass(frozen=True)
class Verdict:
    """A judged answer: right or not, and the misconceptions it shows, each as
    (the id of the attribute that exposes it, what the learner did)."""

    correct: bool
    misconceptions: tuple[tuple[str, str], ...] = ()


class Planner(Protocol):
    """Where the session's content comes from: the structured steps of a generated
    question (:class:`~mentor.tutor.structured.StepPlanner`) or a language model
    (:class:`~mentor.tutor.llm.LLMPlanner`). The session keeps the state, the tree
    and the estimates; the planner only proposes and phrases."""

    kind: str

    def attributes(self) -> list[Attribute]:
        """The attribute state at the start, priors included."""
        ...

    def ask(self, attribute: Attribute, rung: int) -> str:
        """The question about ``attribute`` at sibling ``rung`` (0: first ask, 1: with a
        nudge, 2: naming the misconceptions seen, ``attribute.misconceptions``)."""
        ...

    def judge(self, attribute: Attribute, question: str, response: str) -> Verdict:
        """Whether ``response`` to ``question`` shows the attribute understood."""
        ...

    def teach(self, attribute: Attribute) -> str:
        """A teaching hint that states the attribute."""
        ...

    def nudge(self, attribute: Attribute) -> str:
        """A hint that points the way without stating the attribute (used where the
        teaching hint would give the whole answer away)."""
        ...

    def final_prompt(self, attempt: int) -> str:
        """The whole question again (``attempt`` 0, 1, 2)."""
        ...

    def judge_final(self, response: str) -> Verdict:
        """Whether ``response`` answers the whole question, and the misconceptions a
        wrong one shows."""
        ...

    def diagnose(self, response: str) -> Verdict:
        """The misconceptions of the wrong answer that opened the session."""
        ...

    def solves(self, response: str) -> bool:
        """Whether ``response`` is the whole question's answer, by a check that costs
        nothing (asked of every answer to a sub-question)."""
        ...

    def solution(self) -> str:
        """The worked solution, shown last."""
        ...

    # Optional: ``blocked(attribute, others) -> bool``, whether the first question
    # about ``attribute`` would give away the whole answer or the answer of one of
    # ``others`` (the attributes still open); see :meth:`TutorSession._next`.

    def forbidden(self) -> list[str]:
        """Answers no question or hint may reveal before the solution."""
        ...

    def given(self) -> str:
        """The question's own text (its numbers reveal nothing)."""
        ...

    def state_dict(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class TurnEvent:
    """What one answer tells the student model (see the module docstring: the first
    action on a sub-question asked afresh): the attribute and skill it was about,
    the outcome (1 a right answer, 0 a wrong one or a hint asked for), and
    ``hints``, 1 when the first action was asking for a hint, else 0."""

    attribute: str
    skill: str
    outcome: float
    hints: int
    kind: str  # "step" or "final"


@dataclass
class Reply:
    """The tutor's answer to one message: feedback on it, the next question (None
    when the session is over), the status, and the events to log (one for the
    first action on a sub-question asked afresh, none otherwise; see
    :class:`TurnEvent`)."""

    feedback: str
    prompt: str | None
    status: str
    events: list[TurnEvent] = field(default_factory=list)

    @property
    def event(self) -> TurnEvent | None:
        """The last event (None when the message logs none)."""
        return self.events[-1] if self.events else None


@dataclass
class Node:
    """One question of the tree: its level, the attribute, the sibling rung, the
    text asked, and (once answered) the answer and whether it showed understanding."""

    level: int
    attribute: str
    rung: int
    text: str
    response: str | None = None
    correct: bool | None = None
    kind: str = "step"  # step, hint (asked for), teach, final, solution


@dataclass
class TutorSession:
    """A tutoring session over one question (see the module docstring).

    Parameters
    ----------
    planner
        Where the attributes and the questions come from.
    wrong_answer
        The learner's wrong answer that opened the session (its misconceptions
        lower the prior of the attributes they point to).
    max_siblings, max_final
        Questions per level before a teaching hint; tries at the whole question
        before the solution.
    """

    planner: Planner
    wrong_answer: str = ""
    max_siblings: int = MAX_SIBLINGS
    max_final: int = MAX_FINAL
    attributes_: list[Attribute] = field(default_factory=list)
    nodes_: list[Node] = field(default_factory=list)
    status_: str = ACTIVE
    phase_: str = "steps"
    level_: int = 0
    final_tries_: int = 0
    seen_: list[str] = field(default_factory=list)
    answered_: bool = False

    # ------------------------------------------------------------------ start
    def start(self) -> Reply:
        """Build the attribute state and ask the first question."""
        if self.nodes_:
            raise TutorError("this session has started already; resume it instead")
        self.attributes_ = self.planner.attributes()
        if self.wrong_answer:
            self._mark(self.planner.diagnose(self.wrong_answer).misconceptions)
        initial_state(self.attributes_)
        opening = "Let's work it out together, one small step at a time."
        if self.wrong_answer:
            opening = f"You answered {self.wrong_answer.strip()}. " + opening
        return Reply(opening, self._next(), self.status_)

    # ------------------------------------------------------------------ turns
    @property
    def current(self) -> Node | None:
        """The question waiting for an answer (None when the session is over)."""
        if self.status_ != ACTIVE or not self.nodes_:
            return None
        return self.nodes_[-1]

    def answer(self, response: str) -> Reply:
        """The learner's answer to the current question."""
        node = self._open_node()
        response = response.strip()
        if not response:
            raise TutorError("answer: empty; type an answer, or ask for a hint")
        node.response = response
        if node.kind == "final":
            return self._answer_final(node, response)
        attribute = self._attribute(node.attribute)
        solves = self.planner.solves(response)
        verdict = self.planner.judge(attribute, node.text, response)
        if solves and not verdict.correct:
            # The right answer to the whole question, given to a sub-question: no
            # answer to the sub-question, and the whole question's row is the
            # opening attempt (module docstring), so no event.
            node.correct = True
            attribute.observe(True)
            attribute.status = RESOLVED
            return self._solved("That is the answer to the whole question.", [])
        node.correct = verdict.correct
        attribute.observe(verdict.correct)
        events = self._first_action(node, attribute, float(verdict.correct))
        if verdict.correct:
            attribute.status = RESOLVED
            self.level_ += 1
            if solves:  # the last step's answer is the whole answer
                return self._solved("Yes, and that is the answer to the whole question.", events)
            prompt = self._next()
            if prompt is None:  # the answer was found before; the last open step is done
                return Reply(
                    "Yes, that's right. That was the step behind your first answer.",
                    None,
                    self.status_,
                    events,
                )
            return Reply("Yes, that's right.", prompt, self.status_, events)
        self._mark(verdict.misconceptions)
        if response not in attribute.answers:
            attribute.answers.append(response)
        return self._sibling_or_teach(attribute, node, "Not quite.", events)

    def hint(self) -> Reply:
        """The learner asks for a hint: the next rung of the ladder (counted as an
        answer not yet right, as tutors that log hints do)."""
        node = self._open_node()
        node.response = ""
        node.correct = False
        if node.kind == "final":
            return self._answer_final(node, "", asked_hint=True)
        events = self._first_action(node, self._attribute(node.attribute), 0.0, hint=True)
        node.kind = "hint"
        attribute = self._attribute(node.attribute)
        attribute.observe(False)
        return self._sibling_or_teach(attribute, node, "", events)

    @staticmethod
    def _first_action(
        node: Node, attribute: Attribute, outcome: float, hint: bool = False
    ) -> list[TurnEvent]:
        """The event of the learner's first action on a sub-question asked afresh
        (rung 0), none for an action after help (see the module docstring)."""
        if node.rung != 0 or node.kind != "step":
            return []
        return [
            TurnEvent(attribute.id, attribute.skill, 0.0 if hint else outcome, int(hint), "step")
        ]

    # ------------------------------------------------------------------ the tree
    def _sibling_or_teach(
        self, attribute: Attribute, node: Node, lead: str, events: list[TurnEvent]
    ) -> Reply:
        rung = node.rung + 1
        if rung < self.max_siblings:
            text = self._guarded(self.planner.ask(attribute, rung), attribute)
            self.nodes_.append(Node(self.level_, attribute.id, rung, text))
            attribute.asked += 1
            return Reply(lead or "Here is a hint.", text, self.status_, events)
        teaching = self.planner.teach(attribute)
        if reveals(teaching, self.planner.forbidden(), self.planner.given()):
            teaching = self.planner.nudge(attribute)
        attribute.taught()
        self.nodes_.append(Node(self.level_, attribute.id, rung, teaching, kind="teach"))
        self.level_ += 1
        return Reply(f"{lead} {teaching}".strip(), self._next(), self.status_, events)

    def _answer_final(self, node: Node, response: str, asked_hint: bool = False) -> Reply:
        verdict = Verdict(False) if asked_hint else self.planner.judge_final(response)
        node.correct = verdict.correct
        if verdict.correct:  # no event: the opening attempt is the question's row
            return self._solved("Yes, that's the answer.", [])
        self.final_tries_ += 1
        if self.final_tries_ >= self.max_final:
            return self._finish(
                REVEALED,
                "Let's look at the whole solution together. " + self.planner.solution(),
                [],
            )
        reopened = self._mark(verdict.misconceptions, reopen=True)
        if not reopened:
            for a in self.attributes_:
                if a.status == ASSUMED:
                    a.status = OPEN
                    reopened = True
        lead = "Not yet." if asked_hint else "Not quite."
        if reopened:
            self.phase_ = "steps"
            lead += " Let's check one step again."
        return Reply(lead, self._next(), self.status_, [])

    def _solved(self, text: str, events: list[TurnEvent]) -> Reply:
        """The learner has the whole answer. As TreeInstruct, the session ends only
        when the state is resolved: a step that a misconception of theirs points at
        and that they have neither answered nor been taught is asked first."""
        self.answered_ = True
        pending = [a for a in self.attributes_ if a.misconceptions and a.status in (OPEN, ASSUMED)]
        if not pending:
            return self._finish(SOLVED, text, events)
        for a in self.attributes_:
            if a.status == OPEN and a not in pending:
                a.status = ASSUMED
            if a in pending:
                a.status = OPEN
        prompt = self._next()
        return Reply(
            f"{text} One more question before we finish, about where your first answer went wrong.",
            prompt,
            self.status_,
            events,
        )

    def _pick(self) -> Attribute | None:
        """The open attribute to ask next: the most likely unresolved among those the
        planner can ask now (``blocked``: a question that would give away the whole
        answer is never asked, one that would give away an earlier open attribute's
        answer waits for it)."""
        blocked = getattr(self.planner, "blocked", None)
        if blocked is None:
            return most_likely_unresolved(self.attributes_)
        open_ = [a for a in self.attributes_ if a.status == OPEN]
        askable = [a for a in open_ if not blocked(a, [])]
        ready = [a for a in askable if not blocked(a, [o for o in open_ if o is not a])]
        # (Every askable one waiting on another happens only when the one waited on
        # cannot be asked: then the first in working order.)
        return most_likely_unresolved(ready or askable[:1])

    def _next(self) -> str | None:
        attribute = self._pick()
        if attribute is None and self.answered_:
            self.status_ = SOLVED
            return None
        if attribute is not None:
            self.phase_ = "steps"
            text = self._guarded(self.planner.ask(attribute, 0), attribute)
            self.nodes_.append(Node(self.level_, attribute.id, 0, text))
            attribute.asked += 1
            return text
        self.phase_ = "final"
        text = self.planner.final_prompt(self.final_tries_)
        self.nodes_.append(Node(self.level_, "", self.final_tries_, text, kind="final"))
        return text

    def _guarded(self, text: str, attribute: Attribute) -> str:
        if reveals(text, self.planner.forbidden(), self.planner.given()):
            return self.planner.nudge(attribute)
        return text

    def _mark(self, misconceptions: tuple[tuple[str, str], ...], reopen: bool = False) -> bool:
        """Point the misconceptions at the attributes that expose them: lower their
        estimate, and reopen them if ``reopen``. Returns whether any was reopened."""
        reopened = False
        for attribute_id, text in misconceptions:
            if text not in self.seen_:
                self.seen_.append(text)
            for a in self.attributes_:
                if a.id == attribute_id:
                    a.p *= MISCONCEPTION_FACTOR
                    if text not in a.misconceptions:
                        a.misconceptions.append(text)
                    if reopen or a.status == ASSUMED:
                        reopened = reopened or a.status != OPEN
                        a.status = OPEN
        return reopened

    def _finish(self, status: str, text: str, events: list[TurnEvent]) -> Reply:
        self.status_ = status
        if status == REVEALED:
            self.nodes_.append(Node(self.level_, "", 0, text, kind="solution"))
        return Reply(text, None, status, events)

    def _open_node(self) -> Node:
        node = self.current
        if node is None:
            raise TutorError(
                f"this session is {self.status_}: it takes no more answers"
                if self.nodes_
                else "this session has not started"
            )
        return node

    def _attribute(self, attribute_id: str) -> Attribute:
        for a in self.attributes_:
            if a.id == attribute_id:
                return a
        raise TutorError(f"the session has no attribute {attribute_id!r}")

    # ------------------------------------------------------------------ reading
    def stuck(self) -> list[str]:
        """The attributes the learner needed a teaching hint for (where they got stuck)."""
        return [n.attribute for n in self.nodes_ if n.kind == "teach"]

    def turns(self) -> int:
        """Answers the learner gave (hints asked for included)."""
        return sum(1 for n in self.nodes_ if n.response is not None)

    def transcript(self) -> list[dict[str, Any]]:
        return [asdict(n) for n in self.nodes_]

    # ------------------------------------------------------------------ saving
    def state_dict(self) -> dict[str, Any]:
        """The session as JSON-able data (the planner's own state included)."""
        return {
            "version": 1,
            "planner": self.planner.state_dict(),
            "wrong_answer": self.wrong_answer,
            "max_siblings": self.max_siblings,
            "max_final": self.max_final,
            "attributes": [a.state_dict() for a in self.attributes_],
            "nodes": [asdict(n) for n in self.nodes_],
            "status": self.status_,
            "phase": self.phase_,
            "level": self.level_,
            "final_tries": self.final_tries_,
            "seen": list(self.seen_),
            "answered": self.answered_,
        }

    @classmethod
    def from_state_dict(cls, state: dict[str, Any], planner: Planner) -> TutorSession:
        """Resume a session saved by :meth:`state_dict` with its planner (rebuilt by
        :func:`mentor.tutor.planner_from_state`)."""
        if state.get("version") != 1:
            raise TutorError(f"tutor session state: version {state.get('version')!r} is not 1")
        return cls(
            planner,
            state["wrong_answer"],
            int(state["max_siblings"]),
            int(state["max_final"]),
            [Attribute.from_state_dict(a) for a in state["attributes"]],
            [Node(**n) for n in state["nodes"]],
            state["status"],
            state["phase"],
            int(state["level"]),
            int(state["final_tries"]),
            list(state["seen"]),
            bool(state.get("answered", False)),
        )
