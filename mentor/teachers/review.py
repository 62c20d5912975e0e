"""Spaced review and replay: bring back what was seen before.

Two policies over the items a learner has already met (the ones the teacher
observed), for a person's reviews and a network's replay alike. Times are
whatever the event log's clock counts (seconds for people, steps for
networks); neither policy assumes a unit.

- :class:`DueReview` (``"due_review"``): an item is due when the student
  model's predicted recall at time ``t`` has fallen below a target retention;
  the most overdue (lowest recall) come first. This is the scheduling rule of
  spaced-repetition systems built on a memory model: review when recall
  drops to the desired retention (Settles and Meeder, "A Trainable Spaced
  Repetition Model for Language Learning", ACL 2016; Ye, Su and Cao, "A
  Stochastic Shortest Path Algorithm for Optimizing Spaced Repetition
  Scheduling", KDD 2022, the FSRS scheduler's desired retention, default 0.9).
- :class:`PowerLawReplay` (``"power_replay"``): a seen item is replayed with
  probability proportional to ``(1 + (t - t_last) / scale) ** -decay``, the
  power-law form of forgetting (Wixted and Ebbesen, "On the form of
  forgetting", Psychological Science 2(6), 1991) used as a replay schedule
  for rehearsal in continual learning (compare Klasson, Kjellstrom and Zhang,
  "Learn the Time to Learn: Replay Scheduling in Continual Learning", TMLR
  2023): recent items come back often, old ones more and more rarely.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mentor._checks import check_number, check_unit
from mentor.events import EventLog
from mentor.students.base import StudentModel
from mentor.teachers.base import Teacher


class _Seen(Teacher):
    """A teacher that remembers when each learner last met each item."""

    def __init__(self, seed: int | np.random.Generator | None = None) -> None:
        super().__init__(seed)
        #: Time of each learner's latest event per item.
        self.last_seen_: dict[Any, dict[Any, float]] = {}

    def seen(self, learner: Any, candidates: Sequence[Any]) -> list[int]:
        """Indices of the candidates the learner has met."""
        last = self.last_seen_.get(learner, {})
        return [i for i, c in enumerate(candidates) if c in last]

    def observe(self, events: EventLog) -> None:
        """Record the time of each observed (learner, item) pair; nothing else changes."""
        for learner, item, time in zip(
            events.learner.tolist(), events.item.tolist(), events.time.tolist(), strict=True
        ):
            last = self.last_seen_.setdefault(learner, {})
            last[item] = max(time, last.get(item, time))

    def _get_state(self) -> dict[str, Any]:
        return {
            "last_seen": [
                [learner, [[item, time] for item, time in items.items()]]
                for learner, items in self.last_seen_.items()
            ]
        }

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self.last_seen_ = {
            learner: {item: float(time) for item, time in items}
            for learner, items in state["last_seen"]
        }


class DueReview(_Seen):
    """Review the seen items whose predicted recall at ``t`` is below ``retention``,
    most overdue (lowest recall) first.

    Parameters
    ----------
    retention
        Target retention in (0, 1): an item is due when the model's predicted
        recall falls below it. Default 0.9 (FSRS's default desired retention).
    seed
        Breaks exact ties of recall at random.

    With a memory model (:mod:`mentor.students.memory`) ``predict(learner,
    items, t)`` is the recall probability at ``t``; any student model works
    (then "recall" is predicted success). Only items the teacher has observed
    the learner attempt count as seen (feed a model's history to
    :meth:`observe` too). When nothing is due the teacher returns no item, so
    that a :class:`~mentor.teachers.compose.Mixture` hands the slot to another part.
    """

    name = "due_review"
    needs_model = True

    def __init__(
        self, retention: float = 0.9, seed: int | np.random.Generator | None = None
    ) -> None:
        super().__init__(seed)
        self.retention = check_unit("retention", retention, strict=True, strict_maximum=True)

    def get_params(self) -> dict[str, Any]:
        return {"retention": self.retention}

    def due(
        self,
        learner: Any,
        candidates: Sequence[Any],
        t: float | None,
        model: StudentModel,
    ) -> list[tuple[Any, float]]:
        """The due candidates and their predicted recall, most overdue first."""
        seen = self.seen(learner, candidates)
        if not seen:
            return []
        recall = np.asarray(model.predict(learner, [candidates[i] for i in seen], t), dtype=float)
        order = np.lexsort((self.rng.random(recall.size), recall))
        return [
            (candidates[seen[i]], float(recall[i])) for i in order if recall[i] < self.retention
        ]

    def select(
        self,
        learner: Any,
        candidates: Sequence[Any],
        k: int = 1,
        t: float | None = None,
        model: StudentModel | None = None,
    ) -> list[Any]:
        self._check(candidates, k, model)
        return [item for item, _ in self.due(learner, candidates, t, self._model(model))[:k]]


class PowerLawReplay(_Seen):
    """Replay seen items with probability proportional to ``(1 + age / scale) ** -decay``.

    ``age = t - t_last`` is the time since the learner last met the item
    (negative ages count as 0; ``t`` defaults to the learner's latest observed
    event). Wixted and Ebbesen 1991 (the power law of forgetting) as a replay
    schedule.

    Parameters
    ----------
    decay
        Exponent d >= 0; 0 replays uniformly. Default 0.5 (ours).
    scale
        Time unit of the age (the age at which the weight has dropped by a
        factor 2 ** d): 1 gives ``(age + 1) ** -d``. Default 1.
    seed
        Seed of the draws.

    Draws ``k`` distinct seen candidates; none when the learner has seen none.
    """

    name = "power_replay"

    def __init__(
        self,
        decay: float = 0.5,
        scale: float = 1.0,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(seed)
        self.decay = check_number("decay", decay, 0.0)
        self.scale = check_number("scale", scale, 0.0, strict=True)

    def get_params(self) -> dict[str, Any]:
        return {"decay": self.decay, "scale": self.scale}

    def probabilities(
        self, learner: Any, items: Sequence[Any], t: float | None = None
    ) -> np.ndarray:
        """Replay probability of each of ``items`` (all must have been seen)."""
        last = self.last_seen_.get(learner, {})
        now = max(last.values(), default=0.0) if t is None else float(t)
        age = np.maximum(now - np.array([last[item] for item in items], dtype=float), 0.0)
        # in log space: (1 + age/scale) ** -decay underflows to 0 for very old items
        log_w = -self.decay * np.log1p(age / self.scale)
        w = np.exp(log_w - log_w.max()) if len(items) else log_w
        return w / w.sum() if len(items) else w

    def select(
        self,
        learner: Any,
        candidates: Sequence[Any],
        k: int = 1,
        t: float | None = None,
        model: StudentModel | None = None,
    ) -> list[Any]:
        self._check(candidates, k, model)
        seen = self.seen(learner, candidates)
        if not seen:
            return []
        p = self.probabilities(learner, [candidates[i] for i in seen], t)
        picks = self.rng.choice(len(seen), size=min(k, len(seen)), replace=False, p=p)
        return [candidates[seen[i]] for i in picks.tolist()]
