"""ZPDES: a learning-progress bandit over activities, restricted to a moving
zone of proximal development.

Clement, Roy, Oudeyer and Lopes, "Multi-Armed Bandits for Intelligent
Tutoring Systems", Journal of Educational Data Mining 7(2), 2015.

Activities (here: items) form a graph in which an edge ``a -> b`` means that
``b`` should be opened once ``a`` is succeeded at. Each learner has their own
zone of proximal development (ZPD): the open activities not yet mastered.
For each learner and activity the teacher keeps the last ``window`` outcomes;
the reward of an attempt is the learning progress on that activity, the
success rate over the newer half of the window minus that over the older
half (the paper's r = sum C_k/(d/2) over the recent half - the same over the
older half). The activity's weight moves as ``w <- beta * w + eta * r``
(clipped at 0 so that weights stay a distribution), and the next activity is
drawn from the ZPD with probability ``(1 - gamma) * w / sum(w) + gamma / |ZPD|``.
When every predecessor of an activity reaches a success rate of at least
``open_threshold`` the activity enters the ZPD with the largest current
weight (so it is tried soon); an activity whose success rate over a full
window reaches ``mastery_threshold`` leaves it.

Defaults: ``window`` 6, ``beta`` 0.9, ``eta`` 0.4, ``gamma`` 0.2 follow the
ZPDES settings used in public re-implementations of the paper (the paper
explores a range); ``open_threshold`` 0.6 and ``mastery_threshold`` 0.8 are ours.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import networkx as nx
import numpy as np

from mentor._checks import check_count, check_number, check_unit
from mentor.domain import Domain
from mentor.errors import MentorError
from mentor.events import EventLog
from mentor.students.base import StudentModel
from mentor.teachers.base import Teacher
from mentor.teachers.sampling import proportional, proportional_probabilities


def activity_graph(domain: Domain) -> nx.DiGraph:
    """The graph of activities (items) that ZPDES opens step by step.

    Within a skill, items are grouped into levels by difficulty (items without a
    difficulty share one level) and each level leads to the next. The hardest
    level of a prerequisite skill leads to the easiest level of the skill that
    needs it.
    """
    graph = nx.DiGraph()
    graph.add_nodes_from(domain.item_ids)
    levels: dict[Any, list[list[Any]]] = {}
    for skill in domain.skills:
        items = [i for i in domain.items_of(skill) if domain.item(i).skills[0] == skill]
        by_level: dict[float, list[Any]] = {}
        for item in items:
            difficulty = domain.item(item).difficulty
            by_level.setdefault(-np.inf if difficulty is None else difficulty, []).append(item)
        levels[skill] = [by_level[d] for d in sorted(by_level)]
        for lower, upper in zip(levels[skill], levels[skill][1:], strict=False):
            graph.add_edges_from((a, b) for a in lower for b in upper)
    for parent, child in domain.graph.edges:
        if levels.get(parent) and levels.get(child):
            graph.add_edges_from((a, b) for a in levels[parent][-1] for b in levels[child][0])
    return graph


class ZPDES(Teacher):
    """Learning-progress bandit with a zone of proximal development (Clement et al. 2015).

    Parameters
    ----------
    domain
        The course; its items are the activities, linked by :func:`activity_graph`.
    window
        Outcomes kept per learner and activity (d in the paper). Default 6.
    beta, eta
        Weight update ``w <- beta w + eta r``. Defaults 0.9 and 0.4.
    gamma
        Share of uniform exploration within the ZPD. Default 0.2.
    open_threshold
        Success rate at which an activity opens its successors. Default 0.6.
    mastery_threshold
        Success rate over a full window at which an activity leaves the ZPD. Default 0.8.
    seed
        Seed of the teacher's random choices.
    """

    name = "zpdes"

    def __init__(
        self,
        domain: Domain,
        window: int = 6,
        beta: float = 0.9,
        eta: float = 0.4,
        gamma: float = 0.2,
        open_threshold: float = 0.6,
        mastery_threshold: float = 0.8,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(seed)
        if domain is None:
            raise MentorError("ZPDES needs a domain to build its activity graph")
        self.window = check_count("window", window, 2)
        self.beta = check_unit("beta", beta)
        self.eta = check_number("eta", eta, 0.0)
        self.gamma = check_unit("gamma", gamma)
        self.open_threshold = check_unit("open_threshold", open_threshold)
        self.mastery_threshold = check_unit("mastery_threshold", mastery_threshold)
        self.domain = domain
        self.graph = activity_graph(domain)
        self.roots = [a for a in self.graph if self.graph.in_degree(a) == 0]
        self.learners_: dict[Any, _LearnerZone] = {}

    def get_params(self) -> dict[str, Any]:
        return {
            "window": self.window,
            "beta": self.beta,
            "eta": self.eta,
            "gamma": self.gamma,
            "open_threshold": self.open_threshold,
            "mastery_threshold": self.mastery_threshold,
        }

    def _zone(self, learner: Any) -> _LearnerZone:
        zone = self.learners_.get(learner)
        if zone is None:
            zone = _LearnerZone(weights=dict.fromkeys(self.roots, 1.0))
            self.learners_[learner] = zone
        return zone

    def zpd(self, learner: Any) -> list[Any]:
        """The learner's current zone: open activities not yet mastered."""
        zone = self._zone(learner)
        return [a for a in zone.weights if a not in zone.mastered]

    def select(
        self,
        learner: Any,
        candidates: Sequence[Any],
        k: int = 1,
        t: float | None = None,
        model: StudentModel | None = None,
    ) -> list[Any]:
        """Draw from the learner's ZPD (restricted to the candidates); if no ZPD
        activity is a candidate, from the open ones, else uniformly."""
        self._check(candidates, k, model)
        arms, weights = self._arms(learner, candidates)
        return [arms[i] for i in proportional(weights, self.gamma, self.rng, k).tolist()]

    def slot_distribution(
        self,
        learner: Any,
        items: Sequence[Any],
        t: float | None = None,
        model: StudentModel | None = None,
    ) -> tuple[Sequence[Any], np.ndarray]:
        """The distribution of one pick (what :meth:`select_slots` draws each slot from)."""
        arms, weights = self._arms(learner, items)
        return arms, proportional_probabilities(weights, self.gamma)

    def _arms(self, learner: Any, candidates: Sequence[Any]) -> tuple[list[Any], np.ndarray]:
        """The activities a pick is drawn from, and their weights."""
        zone = self._zone(learner)
        allowed = set(candidates)
        arms = [a for a in zone.weights if a not in zone.mastered and a in allowed]
        if not arms:
            arms = [a for a in zone.weights if a in allowed] or list(candidates)
        return arms, np.array([zone.weights.get(a, 0.0) for a in arms])

    def observe(self, events: EventLog) -> None:
        """Update the weights and zones of the observed (learner, activity) pairs only."""
        for learner, item, outcome in zip(
            events.learner.tolist(), events.item.tolist(), events.outcome.tolist(), strict=True
        ):
            if item not in self.graph:
                continue
            zone = self._zone(learner)
            history = zone.history.setdefault(item, [])
            history.append(outcome)
            del history[: -self.window]
            if item in zone.weights and len(history) >= 2:
                half = len(history) // 2
                progress = float(np.mean(history[half:]) - np.mean(history[:half]))
                zone.weights[item] = max(0.0, self.beta * zone.weights[item] + self.eta * progress)
            rate = float(np.mean(history))
            if len(history) >= self.window // 2 and rate >= self.open_threshold:
                zone.passed.add(item)
                self._open_successors(zone, item)
            if len(history) == self.window and rate >= self.mastery_threshold:
                zone.mastered.add(item)

    def _open_successors(self, zone: _LearnerZone, item: Any) -> None:
        for successor in self.graph.successors(item):
            if successor in zone.weights:
                continue
            if all(p in zone.passed for p in self.graph.predecessors(successor)):
                zone.weights[successor] = max(zone.weights.values(), default=1.0) or 1.0

    def _get_state(self) -> dict[str, Any]:
        return {
            "learners": [
                {
                    "learner": learner,
                    "weights": [[a, w] for a, w in zone.weights.items()],
                    "history": [[a, h] for a, h in zone.history.items()],
                    "passed": list(zone.passed),
                    "mastered": list(zone.mastered),
                }
                for learner, zone in self.learners_.items()
            ]
        }

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self.learners_ = {}
        for entry in state["learners"]:
            self.learners_[entry["learner"]] = _LearnerZone(
                weights={a: float(w) for a, w in entry["weights"]},
                history={a: [float(x) for x in h] for a, h in entry["history"]},
                passed=set(entry["passed"]),
                mastered=set(entry["mastered"]),
            )


class _LearnerZone:
    """One learner's ZPDES state: weights of open activities, recent outcomes,
    activities passed (successors may open) and mastered (out of the zone)."""

    __slots__ = ("weights", "history", "passed", "mastered")

    def __init__(
        self,
        weights: dict[Any, float],
        history: dict[Any, list[float]] | None = None,
        passed: set[Any] | None = None,
        mastered: set[Any] | None = None,
    ) -> None:
        self.weights = weights
        self.history = history or {}
        self.passed = passed or set()
        self.mastered = mastered or set()
