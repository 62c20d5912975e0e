"""The student-model contract shared by every model of what a learner knows.

A student model is fitted on a log in batch (:meth:`StudentModel.fit`), kept
current one event at a time (:meth:`StudentModel.update`), and asked for the
probability of success on any item now or at a future time
(:meth:`StudentModel.predict`). Its whole state is plain JSON-able data
(:meth:`StudentModel.state_dict`), never a pickle.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np

from mentor.domain import Domain
from mentor.errors import MentorError, StateError
from mentor.events import EventLog

STATE_VERSION = 1

#: Called by :meth:`StudentModel.fit` after each pass over the log with a record
#: that has at least ``"epoch"`` (1-based; see :meth:`StudentModel.fit`).
EpochCallback = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class LookAhead:
    """What one more attempt at each of some items would do, by a model's own dynamics.

    All arrays have one value per item, in the order asked for.

    Attributes
    ----------
    p_success
        Predicted probability of answering the item right now.
    mastery
        The learner's mastery of the item now (for BKT, the probability that
        every skill the item needs is known).
    if_correct, if_wrong
        The same mastery after one more attempt at the item, answered right or wrong.
    skill_weight
        How much the mastery the model reports for the item's skills
        (``state(learner)["mastery"]``, summed over them) moves per unit of the
        item's mastery (None: one, the item's mastery is its skill's; exact for an
        item of one skill, an approximation for items of several). For BKT with
        ``grain="item"``, where a skill's mastery is the product of its items',
        the product of the other items' mastery.
    practice_gain
        The expected change of the item's mastery from the practice alone (the
        model's learning transition), without what the answer would reveal about the
        learner (None: the model does not tell them apart, or, as for BKT, the answer's
        evidence moves the expectation by nothing, so :attr:`expected_gain` is the
        practice gain). For a model that filters a continuous ability
        (:class:`mentor.students.SkillAbility`), :attr:`expected_gain` also holds the
        curvature of the filter's step, a change of the estimate, not of the learner.
    """

    p_success: np.ndarray
    mastery: np.ndarray
    if_correct: np.ndarray
    if_wrong: np.ndarray
    skill_weight: np.ndarray | None = None
    practice_gain: np.ndarray | None = None

    @property
    def expected_gain(self) -> np.ndarray:
        """Expected change of mastery from one attempt: ``p if_correct + (1 - p) if_wrong
        - mastery`` (for BKT without forgetting and an item of one skill,
        ``(1 - P(L)) learn``: the posterior is a martingale, so only the learning
        transition moves the expectation)."""
        p = self.p_success
        result: np.ndarray = p * self.if_correct + (1.0 - p) * self.if_wrong - self.mastery
        return result

    @property
    def expected_skill_gain(self) -> np.ndarray:
        """Expected change of the skills' reported mastery from one attempt:
        :attr:`expected_gain` times :attr:`skill_weight`."""
        gain = self.expected_gain
        return gain if self.skill_weight is None else gain * self.skill_weight

    @property
    def expected_skill_practice_gain(self) -> np.ndarray:
        """The skills' expected gain from the practice alone: :attr:`practice_gain`
        (:attr:`expected_gain` where the model gives none) times :attr:`skill_weight`."""
        gain = self.expected_gain if self.practice_gain is None else self.practice_gain
        return gain if self.skill_weight is None else gain * self.skill_weight


class StudentModel(abc.ABC):
    """Base class of student models.

    Subclasses set :attr:`name` (the short, stable name used by the command
    line), take their hyper-parameters as constructor arguments (returned by
    :meth:`get_params`), and name learned attributes with a trailing
    underscore, as scikit-learn does.
    """

    name: ClassVar[str]
    #: Whether :meth:`lookahead` is implemented (model-based teachers need it).
    supports_lookahead: ClassVar[bool] = False

    def __init__(self, domain: Domain | None = None) -> None:
        self.domain = domain

    # ------------------------------------------------------------- contract
    @abc.abstractmethod
    def fit(self, log: EventLog, on_epoch: EpochCallback | None = None) -> Self:
        """Fit the model's parameters on a whole log (batch); returns ``self``.

        After fitting, the learners of the log are known to the model, in the
        state their last event left them. ``on_epoch``, when given, is called
        after each pass of the fitting over the log (an EM iteration, a solver
        iteration, a training epoch) with a record holding at least ``"epoch"``
        (1-based) and whatever else the model measures then (``"log_likelihood"``,
        ``"val_auc"``, ...); a model fitted in one pass calls it once.
        """

    @abc.abstractmethod
    def update(self, events: EventLog) -> None:
        """Take new events into account, online, in the order given."""

    @abc.abstractmethod
    def predict(self, learner: Any, items: Iterable[Any], t: float | None = None) -> np.ndarray:
        """Probability of success of ``learner`` on each of ``items`` at time ``t``
        (now, when ``t`` is None)."""

    @abc.abstractmethod
    def state(self, learner: Any) -> dict[str, Any]:
        """What the model believes about one learner, as plain data; always has
        ``"mastery"``: a mapping from skill to a probability in [0, 1] (from item to
        recall probability for the memory models of :mod:`mentor.students.memory`,
        whose unit is the card)."""

    @abc.abstractmethod
    def _get_state(self) -> dict[str, Any]:
        """The learned state (parameters and learners), JSON-able."""

    @abc.abstractmethod
    def _set_state(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`_get_state` returned."""

    def lookahead(self, learner: Any, items: Iterable[Any], t: float | None = None) -> LookAhead:
        """Simulate one attempt at each item without changing the model (see :class:`LookAhead`).

        This is the hook that model-based teachers plan with
        (:class:`mentor.teachers.ExpectedGain`). Models that can simulate a practice
        step set :attr:`supports_lookahead` and override this method.
        """
        raise MentorError(
            f"student model {self.name!r} cannot simulate a practice step (no look-ahead); "
            "use a model that can, such as 'bkt'"
        )

    # ------------------------------------------------------------- shared
    def get_params(self) -> dict[str, Any]:
        """Constructor arguments other than the domain (JSON-able)."""
        return {}

    @classmethod
    def _unit_test_params(cls) -> dict[str, Any]:
        """Parameters that make the model quick to fit on a toy log, for the contract
        suite that checks every registered model (``tests/test_contract.py``), as
        river's ``check_estimator`` does; the defaults unless fitting them is slow."""
        return {}

    def predict_log(self, log: EventLog) -> np.ndarray:
        """Predict every event of ``log`` from what came before it, without changing the model.

        Each event is predicted from the model's current state plus the earlier
        events of the same log, as in online use; this is how a test log is
        scored. Events are taken in time order (ties in log order); the result
        is in the log's own order. Subclasses may override with a vectorised pass.
        """
        shadow = type(self).from_state_dict(self.state_dict(), domain=self.domain)
        order = np.argsort(log.time, kind="stable")
        predictions = np.empty(len(log))
        learners, items, times = log.learner.tolist(), log.item.tolist(), log.time.tolist()
        for i in order.tolist():
            predictions[i] = shadow.predict(learners[i], [items[i]], times[i])[0]
            shadow.update(log[i])
        return predictions

    def skills_of(self, item: Any) -> tuple[Any, ...]:
        """The skills an item exercises: from the domain, or the item itself."""
        if self.domain is not None and item in self.domain.items:
            return self.domain.items[item].skills
        return (item,)

    def state_dict(self) -> dict[str, Any]:
        """The whole model (hyper-parameters, domain, learned state) as JSON-able data."""
        return {
            "kind": self.name,
            "version": STATE_VERSION,
            "params": self.get_params(),
            "domain": None if self.domain is None else self.domain.state_dict(),
            "state": self._get_state(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore the learned state saved by :meth:`state_dict`."""
        check_state(state, self.name)
        try:
            self._set_state(state["state"])
        except (KeyError, TypeError, ValueError, IndexError) as error:
            raise StateError(f"corrupt {self.name} state: {error!r}") from None

    @classmethod
    def from_state_dict(cls, state: Mapping[str, Any], domain: Domain | None = None) -> Self:
        """A new model rebuilt from :meth:`state_dict` output.

        ``domain`` overrides the domain stored in the state (the engine passes
        its own, so that model and teacher share one object).
        """
        check_state(state, cls.name)
        if domain is None and state.get("domain") is not None:
            domain = Domain.from_state_dict(state["domain"])
        try:
            model = cls(domain=domain, **state.get("params", {}))
        except TypeError as error:
            raise StateError(f"corrupt {cls.name} state parameters: {error}") from None
        model.load_state_dict(state)
        return model


def check_state(state: Any, kind: str) -> None:
    """Raise :class:`StateError` unless ``state`` is a saved state of ``kind``."""
    if not isinstance(state, Mapping) or "kind" not in state or "state" not in state:
        raise StateError("not a mentor state: expected an object with 'kind' and 'state'")
    if state["kind"] != kind:
        raise StateError(f"state is of kind {state['kind']!r}, expected {kind!r}")
    if state.get("version") != STATE_VERSION:
        raise StateError(
            f"state version {state.get('version')!r} is not supported (expected {STATE_VERSION})"
        )


def solver_progress(on_epoch: EpochCallback | None) -> Callable[..., None] | None:
    """A ``callback`` for :func:`scipy.optimize.minimize` that calls ``on_epoch``
    with ``{"epoch": k}`` after the solver's ``k``-th iteration (None without one)."""
    if on_epoch is None:
        return None
    epochs = [0]

    def callback(*_: Any) -> None:
        epochs[0] += 1
        on_epoch({"epoch": epochs[0]})

    return callback
