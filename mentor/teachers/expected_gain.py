"""Model-based teaching: practise what the student model predicts will teach the most.

The teacher asks the student model to simulate one more attempt at every
item (:meth:`mentor.students.StudentModel.lookahead`) and picks the open item
with the largest expected gain in mastery, ``p m_right + (1 - p) m_wrong - m``,
of the item itself (default) or of the skills it trains as the model reports
them (for BKT per item, P(all the skill's levels known)).
This is the one-step (greedy) form of planning teaching with a model of the
learner: Rafferty, Brunskill, Griffiths and Shafto, "Faster Teaching via POMDP
Planning", Cognitive Science 40(6), 2016, choose the action that maximises the
expected learning under the learner model; under BKT the expected gain of an
item is ``(1 - P(L)) learn - P(L) forget`` (the posterior is a martingale, so
only the learning transition moves the expectation).

Which items are open is decided as in mastery learning (Bloom 1968; Corbett and
Anderson 1995, whose cognitive tutors count a component as mastered once
P(known) reaches 0.95): items are ordered by :func:`mentor.teachers.activity_graph`
(levels within a skill, easy to hard; the hardest level of a prerequisite before
the easiest level of the skill that needs it), and an item opens once every item
before it reaches ``open_threshold``. Mastered items leave the pool. They come
back only as reviews, when a memory model says they are due: the teacher keeps an
FSRS card per learner and item (the ``fsrs`` package's scheduler, desired
retention 0.9; Ye, Su and Cao, "A Stochastic Shortest Path Algorithm for
Optimizing Spaced Repetition Scheduling", KDD 2022), every attempt a review rated
Good or Again, and a mastered item whose card is due is reviewed before new
material (as spaced-repetition systems show due cards before new ones), up to a
share of the learner's answers (one in five by default). When nothing open is
left and nothing is due, the least-mastered item is practised again.

With a ``budget`` (the questions a learner will answer in the session, which a
fixed course plan is built from), the teacher also moves on from a skill once it has
had its share of them, mastered or not, as mastery learning caps the time per unit
(Bloom 1968: mastery or the time allowed, whichever comes first): the share is what
is left of the budget, after the attempts spent on skills already mastered, spread
evenly over the skills not mastered yet. A skill past its share opens what comes
after it and leaves the pool, and is practised again only when nothing open is left.

A learner who fails an item ``step_back`` times in a row is wheel-spinning
(Beck and Gong, "Wheel-Spinning: Students Who Fail to Master a Skill", AIED
2013): the teacher steps back to the least-mastered item before it, instead of
asking the same question again, and further back if the learner is stuck
there too. An item with nothing before it goes behind every other open item;
it is asked again only when nothing else is open.

Each choice is recorded in :attr:`ExpectedGain.last_choices_` with the numbers it
was made from, so an explanation can say why without recomputing anything.

The model should trace each level of a skill on its own, as the activity graph
does: ``BKT(domain, grain="item")``. With one knowledge component per skill
every level of a skill has the same mastery, so a skill is opened, practised and
closed as one unit. :class:`mentor.students.LevelBKT` (a skill's levels as one chain
of knowledge states, so that an answer at one level is evidence about the others)
plans here too; on ``benchmarks/model_teaching.py`` it taught better than BKT per
item on one simulator of four with prerequisites and worse on three
(``benchmarks/RESULTS.md``), so the service keeps BKT per item.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import networkx as nx
import numpy as np
from fsrs import Card, Rating, Scheduler, State

from mentor._checks import check_choice, check_count, check_flag, check_number, check_unit
from mentor.domain import Domain
from mentor.errors import ParameterError
from mentor.events import EventLog
from mentor.students.base import StudentModel
from mentor.teachers.base import Teacher
from mentor.teachers.planning import two_step_values
from mentor.teachers.streaks import record_answer, streaks_state
from mentor.teachers.zpdes import activity_graph

#: Kinds of choice, as recorded in :attr:`Choice.kind`.
KINDS = ("learn", "step_back", "review", "revisit", "spent", "fallback")
#: What the teacher maximises: the skills' reported mastery, or the item's own.
OBJECTIVES = ("skill", "item")
#: Attempts looked ahead: one (greedy) or two (:func:`mentor.teachers.planning.two_step_values`).
HORIZONS = (1, 2)
#: Seconds in a day: FSRS schedules in days.
DAY = 86400.0
#: 9899-01-01: the last date Python can hold (9999-12-31) less FSRS's longest
#: interval (36,500 days), which FSRS adds to a review's date.
LATEST = 250215091200.0


@dataclass(frozen=True)
class Choice:
    """One item the teacher chose, and the numbers it chose it by.

    Attributes
    ----------
    item
        The item.
    kind
        ``"learn"``: the open, unmastered item with the largest expected gain;
        ``"step_back"``: an earlier item, after ``failures`` failed attempts in a
        row at ``after``; ``"review"``: a mastered item the memory model says is
        due; ``"revisit"``: the least-mastered mastered item, when nothing open is
        left to learn and nothing is due; ``"spent"``: likewise, an item of a skill
        that has had its share of the ``budget`` without being mastered; ``"fallback"``:
        an item not open yet,
        when the candidates hold nothing open (the least-mastered first).
    mastery, p_success, gain
        The model's mastery of the item, its predicted success and the expected
        gain of one attempt, at the time of the choice.
    after, failures
        For a step back: the item the learner kept failing, and how often.
    due
        For a review: when the memory model scheduled it (in the log's time units).
    """

    item: Any
    kind: str
    mastery: float
    p_success: float
    gain: float
    after: Any = None
    failures: int = 0
    due: float | None = None

    def state_dict(self) -> dict[str, Any]:
        return asdict(self)


class ExpectedGain(Teacher):
    """The open item whose practice the model expects to raise mastery the most.

    Parameters
    ----------
    domain
        The course: its skills' items, levels (difficulty) and prerequisites.
    threshold
        Mastery at or above which an item counts as mastered (0.95, Corbett and
        Anderson's criterion for BKT's P(known)).
    step_back
        Failed attempts in a row at one item after which the teacher steps back
        to an easier item (3; 0 turns it off).
    reviews
        Bring mastered items back when FSRS says they are due (True).
    retention
        FSRS's desired retention: a card is due when its predicted recall falls
        to this (0.9, FSRS's default).
    day
        One day in the log's time units (86400: times in seconds, as the service
        keeps them). A simulation that counts steps sets the steps in a day.
    review_share
        At most this share of a learner's questions are reviews (0.2), so that
        due reviews never crowd out new material.
    open_threshold
        Mastery of the items before it at which an item opens (0.8; None: the
        mastery ``threshold``). Below ``threshold``, the next level opens while the
        current one is not yet mastered: from BKT's default prior, after two right
        answers (P(known) .945) instead of three (.989).
    objective
        ``"item"`` (default): the expected gain in the item's own mastery, which
        favours items not yet practised and so interleaves skills. ``"skill"``: the
        expected gain in the mastery the model reports for the item's skills
        (:attr:`LookAhead.expected_skill_gain`; for BKT per item, a skill counts
        only once all its levels are known, so the teacher finishes a skill before
        it starts another).
    horizon
        Attempts looked ahead: 1 (default), the greedy rule above; 2, each open
        item's gain plus the best gain a second attempt can then make, counting the
        items its answer opens on the activity graph
        (:func:`mentor.teachers.planning.two_step_values`, after Rafferty et al.'s
        POMDP planning). On ``benchmarks/model_teaching.py`` two steps taught no
        better than one (``benchmarks/RESULTS.md``), so one is the default.

    The defaults (``objective="item"``, ``open_threshold=0.8``) were chosen by
    ``benchmarks/model_teaching.py``: against ``objective="skill"`` with items
    opening at the mastery threshold, they taught better on both courses and both
    hand-written learning laws (+2.6 to +4.8 points of post-test, 20 seeds;
    ``benchmarks/RESULTS.md``). The price: a learner who answers everything right
    moves on after two right answers per level and sees a skill "mastered" only
    when the third answers come back, later.
    budget
        Questions each learner will answer in the session (None, the default: not
        known, no share). When given, a skill that has had its share of the budget
        (see the module docstring) counts as done: it opens what comes after it and
        leaves the pool. The fixed expert order of ``benchmarks/model_teaching.py`` is
        told the same number.
    seed
        Breaks exact ties at random.
    """

    name = "expected_gain"
    needs_model = True
    needs_lookahead = True
    lookahead_models = "'bkt', 'level-bkt', 'pfa', 'elo' or 'psikt'"

    def __init__(
        self,
        domain: Domain,
        threshold: float = 0.95,
        step_back: int = 3,
        reviews: bool = True,
        retention: float = 0.9,
        day: float = DAY,
        review_share: float = 0.2,
        open_threshold: float | None = 0.8,
        objective: str = "item",
        horizon: int = 1,
        budget: int | None = None,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(seed)
        if domain is None:
            raise ParameterError("expected_gain needs the course's domain")
        threshold = check_unit("threshold", threshold, strict=True, strict_maximum=True)
        step_back = check_count("step_back", step_back, 0)
        retention = check_unit("retention", retention, strict=True, strict_maximum=True)
        day = check_number("day", day, 0.0, strict=True)
        self.review_share = check_unit("review_share", review_share)
        self.objective = check_choice("objective", objective, OBJECTIVES)
        if isinstance(horizon, bool) or horizon not in HORIZONS:
            raise ParameterError(
                f"must be one of {', '.join(map(str, HORIZONS))}", field="horizon", value=horizon
            )
        self.horizon = int(horizon)
        self.budget = None if budget is None else check_count("budget", budget, 1)
        if open_threshold is not None:
            open_threshold = check_number(
                "open_threshold", open_threshold, 0.0, strict=True, maximum=threshold
            )
        self.open_threshold = threshold if open_threshold is None else open_threshold
        self.domain = domain
        self.threshold = threshold
        self.step_back = int(step_back)
        self.reviews = check_flag("reviews", reviews)
        self.retention = retention
        self.day = day
        self._scheduler = Scheduler(desired_retention=retention, enable_fuzzing=False)
        #: Per learner and item: its FSRS card (created at the first attempt).
        self.cards_: dict[Any, dict[Any, Card]] = {}
        #: Per learner: [questions answered, of which reviews: answers to a graduated
        #: FSRS card that was due]. Counted in :meth:`observe`, so that choosing
        #: (a GET in the service) changes nothing that is saved.
        self.counts_: dict[Any, list[int]] = {}
        graph = activity_graph(domain)
        self._before = {item: list(graph.predecessors(item)) for item in graph.nodes}
        self._after = {item: list(graph.successors(item)) for item in graph.nodes}
        self._ancestors = {item: nx.ancestors(graph, item) for item in graph.nodes}
        #: Per learner and skill: attempts at the skill's items (for the ``budget``).
        self.attempts_: dict[Any, dict[Any, int]] = {}
        #: Per learner and item: failed attempts in a row at it.
        self.failures_: dict[Any, dict[Any, int]] = {}
        #: The choices of the latest :meth:`select`, in order (not saved: a decision record).
        self.last_choices_: list[Choice] = []

    def get_params(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "step_back": self.step_back,
            "reviews": self.reviews,
            "retention": self.retention,
            "day": self.day,
            "review_share": self.review_share,
            "open_threshold": self.open_threshold,
            "objective": self.objective,
            "horizon": self.horizon,
            "budget": self.budget,
        }

    def _when(self, t: float) -> datetime:
        """The date FSRS reads for time ``t``, clamped to 1970..9899 (Python's dates
        end in 9999 and FSRS adds up to 100 years), so that no time, however odd,
        stops a selection."""
        seconds = t / self.day * DAY
        return datetime.fromtimestamp(min(max(seconds, 0.0), LATEST), UTC)

    def due(self, learner: Any, item: Any) -> float | None:
        """When the memory model next wants ``item`` reviewed (log time units), or
        None if the learner never attempted it."""
        card = self.cards_.get(learner, {}).get(item)
        return None if card is None else card.due.timestamp() / DAY * self.day

    def before(self, item: Any) -> list[Any]:
        """The items that must be mastered before ``item`` opens (its activity-graph
        predecessors: the level below, or the prerequisites' hardest level)."""
        return list(self._before.get(item, ()))

    def select(
        self,
        learner: Any,
        candidates: Sequence[Any],
        k: int = 1,
        t: float | None = None,
        model: StudentModel | None = None,
    ) -> list[Any]:
        self._check(candidates, k, model)
        model = self._model(model)
        candidates = list(dict.fromkeys(candidates))
        if not candidates:
            self.last_choices_ = []
            return []
        needed = list(
            dict.fromkeys(candidates + [p for c in candidates for p in self._before.get(c, ())])
        )
        ahead = model.lookahead(learner, needed, t)
        at = {item: n for n, item in enumerate(needed)}
        mastery = dict(zip(needed, ahead.mastery.tolist(), strict=True))
        gain = ahead.expected_gain
        skill_gain = ahead.expected_skill_gain
        mastered = {item for item, m in mastery.items() if m >= self.threshold}
        spent = self._spent(learner, mastery, mastered)

        def choice(item: Any, kind: str, **extra: Any) -> Choice:
            n = at[item]
            return Choice(
                item,
                kind,
                float(ahead.mastery[n]),
                float(ahead.p_success[n]),
                float(gain[n]),
                **extra,
            )

        chosen: list[Choice] = []
        stuck = self._stuck(learner, candidates, mastery)
        if stuck is not None:
            chosen.append(stuck(choice))
        noise = self.rng.random(len(needed))
        asked, reviewed = self.counts_.get(learner, (0, 0))
        room = math.floor(self.review_share * (asked + k) + 1e-9) - reviewed
        if self.reviews and t is not None and len(chosen) < k and room > 0:
            taken = {c.item for c in chosen}
            due = [
                (when, item)
                for item in candidates
                if item in mastered
                and item not in taken
                and (when := self.due(learner, item)) is not None
                and when <= t
            ]
            ordered = sorted(due, key=lambda d: (d[0], noise[at[d[1]]]))
            for when, item in ordered[: min(room, k - len(chosen))]:
                chosen.append(choice(item, "review", due=when))
        taken = {c.item for c in chosen}
        open_items = [
            c
            for c in candidates
            if c not in mastered
            and c not in spent
            and c not in taken
            and all(
                mastery[p] >= self.open_threshold or p in spent for p in self._before.get(c, ())
            )
        ]
        first = skill_gain if self.objective == "skill" else gain
        if self.horizon == 2:
            # two-step look-ahead: each open item's own gain plus the best gain one
            # more attempt can then make, counting the items its answer opens
            values = two_step_values(
                open_items,
                at,
                ahead.p_success,
                ahead.mastery,
                ahead.if_correct,
                ahead.if_wrong,
                first,
                self._after,
                self._before,
                self.open_threshold,
                self.threshold,
            )
            first = np.zeros(len(needed))
            for item, value in values.items():
                first[at[item]] = value
        # items the learner is stuck at (with nothing before them to step back to)
        # come after every other open item: other work, not the same item again
        stuck_at = self._stuck_items(learner)
        order = sorted(
            open_items, key=lambda c: (c in stuck_at, -first[at[c]], -gain[at[c]], noise[at[c]])
        )
        for item in order[: k - len(chosen)]:
            chosen.append(choice(item, "learn"))
        if len(chosen) < k:
            # nothing open and nothing due: the least-mastered items again
            taken = {c.item for c in chosen}
            rest = [c for c in candidates if c not in taken]
            rest.sort(key=lambda c: (mastery[c], noise[at[c]]))
            for item in rest[: k - len(chosen)]:
                kind = "revisit" if item in mastered else "spent" if item in spent else "fallback"
                chosen.append(choice(item, kind))
        self.last_choices_ = chosen
        return [c.item for c in chosen]

    def _spent(self, learner: Any, mastery: Mapping[Any, float], mastered: set[Any]) -> set[Any]:
        """The unmastered items of skills that have had their share of the ``budget``:
        what is left of it after the attempts at mastered skills, spread evenly over the
        skills not mastered (a skill is mastered when every item of it the teacher was
        asked about is)."""
        if self.budget is None:
            return set()
        attempts = self.attempts_.get(learner, {})
        done, left = 0, []
        for skill in self.domain.skills:
            items = [i for i in self.domain.items_of(skill) if i in mastery]
            if items and all(i in mastered for i in items):
                done += attempts.get(skill, 0)
            elif items:
                left.append((skill, items))
        if not left:
            return set()
        share = (self.budget - done) / len(left)
        return {
            i
            for skill, items in left
            if attempts.get(skill, 0) >= share
            for i in items
            if i not in mastered
        }

    def _stuck_items(self, learner: Any) -> set[Any]:
        """The items the learner has failed ``step_back`` times in a row."""
        if not self.step_back:
            return set()
        failures = self.failures_.get(learner, {})
        return {item for item, n in failures.items() if n >= self.step_back}

    def _stuck(
        self, learner: Any, candidates: Sequence[Any], mastery: Mapping[Any, float]
    ) -> Callable[[Callable[..., Choice]], Choice] | None:
        """A step back when the learner has failed items ``step_back`` times in a row: to
        the least-mastered item before one of them that the learner is not stuck at too
        (the nearest first among equals)."""
        failures = self.failures_.get(learner, {})
        stuck = {item: failures[item] for item in self._stuck_items(learner)}
        if not stuck:
            return None
        earlier = [
            c
            for c in candidates
            if c not in stuck and any(c in self._ancestors.get(s, ()) for s in stuck)
        ]
        if not earlier:
            return None
        back = min(
            earlier,
            key=lambda c: (
                mastery.get(c, 0.0),
                not any(c in self._before.get(s, ()) for s in stuck),
            ),
        )
        after = max(
            (s for s in stuck if back in self._ancestors.get(s, ())), key=lambda s: stuck[s]
        )
        return lambda choice: choice(back, "step_back", after=after, failures=stuck[after])

    def observe(self, events: EventLog) -> None:
        """Review each attempted item's FSRS card (Good or Again), count each
        learner's attempts per skill (for the ``budget``) and failed attempts in a row
        at each item. A right answer clears the item's count, and the counts of the
        items it comes before, so that after a step back the learner tries the item
        they were stuck at again."""
        for learner, item, time, outcome in zip(
            events.learner.tolist(),
            events.item.tolist(),
            events.time.tolist(),
            events.outcome.tolist(),
            strict=True,
        ):
            cards = self.cards_.setdefault(learner, {})
            counts = self.counts_.setdefault(learner, [0, 0])
            counts[0] += 1
            when = self._when(time)
            card = cards.get(item)
            if card is not None and card.state == State.Review and card.due <= when:
                counts[1] += 1  # a graduated card answered when due: a review
            card = card or Card(card_id=len(cards) + 1, due=when)
            rating = Rating.Good if outcome >= 0.5 else Rating.Again
            cards[item], _ = self._scheduler.review_card(card, rating, when)
            attempts = self.attempts_.setdefault(learner, {})
            for skill in self.domain.items[item].skills if item in self.domain.items else ():
                attempts[skill] = attempts.get(skill, 0) + 1
            record_answer(self.failures_, self._ancestors, learner, item, outcome)

    def _get_state(self) -> dict[str, Any]:
        return {
            "failures": streaks_state(self.failures_),
            "counts": [[learner, n, r] for learner, (n, r) in self.counts_.items()],
            "attempts": [
                [learner, [[skill, n] for skill, n in skills.items()]]
                for learner, skills in self.attempts_.items()
            ],
            "cards": [
                [learner, [[item, card.to_dict()] for item, card in cards.items()]]
                for learner, cards in self.cards_.items()
            ],
        }

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self.failures_ = {
            learner: {item: int(n) for item, n in items} for learner, items in state["failures"]
        }
        self.counts_ = {learner: [int(n), int(r)] for learner, n, r in state["counts"]}
        self.attempts_ = {  # absent from states saved before the budget existed
            learner: {skill: int(n) for skill, n in skills}
            for learner, skills in state.get("attempts", [])
        }
        self.cards_ = {
            learner: {item: Card.from_dict(card) for item, card in cards}
            for learner, cards in state["cards"]
        }
