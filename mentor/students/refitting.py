"""A student model that refits its parameters on the answers it has seen, as it goes.

A deployed tutor fits its student model on its own logs: at first it plans with
the model's starting parameters, and every so often it re-estimates them from
the answers its learners have given so far. :class:`Refitting` does this online:
it keeps every event passed to :meth:`Refitting.update` and, each time ``every``
new events have come in, calls the wrapped model's own :meth:`StudentModel.fit`
on all of them. For BKT that fit is expectation-maximisation (Baum-Welch, as in
pyBKT: Badrinath, Wang and Pardos, EDM 2021; see :mod:`mentor.students.bkt`), which
also sets every learner's knowledge to where their own answers leave it under the new
parameters (it replays each learner's sequence), so that the learners' states stay
consistent with the refitted model.

The wrapper sees only what it is given: the events of :meth:`update` (and of
:meth:`fit`). It never reads anything else, in particular nothing of a simulator
that produced the answers.

With ``share="all"`` or ``"skill"`` (for BKT with ``grain="item"`` only) the refit
estimates one set of parameters for every knowledge component at once, or one per
skill shared by its items (its levels), instead of one per item: EM on the same
sequences, each (learner, item) sequence an instance of the two-state model of its
group (the usual remedy when each component has few answers; pyBKT fits one set per
skill). The wrapped model is then rebuilt with each item's group's parameters and
replays the log.

Between refits it is the wrapped model, updated online as usual; prediction and
look-ahead are the wrapped model's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Self

import numpy as np

from mentor._checks import check_choice, check_count, check_flag
from mentor.domain import Domain
from mentor.errors import ParameterError
from mentor.events import EventLog
from mentor.students.base import EpochCallback, LookAhead, StudentModel
from mentor.students.bkt import BKT, PARAMS

#: How the refit shares parameters between items (see :class:`Refitting`).
SHARES = ("none", "skill", "all")


class Refitting(StudentModel):
    """The wrapped model, refitted on every event seen so far each ``every`` new events.

    Parameters
    ----------
    domain
        The course, passed to the default model.
    model
        The model to refit (None: ``BKT(domain, grain="item", forgets=False)``, the
        model :class:`mentor.teachers.ExpectedGain` plans with in
        ``benchmarks/model_teaching.py``).
    every
        Events between refits (200). The first refit comes once ``every`` events
        have been seen; each later one once ``every`` more have.
    share
        ``"none"`` (default): the wrapped model's own fit. ``"all"``: one set of
        parameters shared by every item; ``"skill"``: one per skill, shared by its
        items (an item of several skills shares its first skill's). Sharing needs BKT
        with ``grain="item"`` and neither ``multigs``, ``multilearn`` nor
        ``multiprior``.
    warm
        With ``share="all"``: start each refit's EM from the parameters of the one
        before (False: from the wrapped model's starting values, BKT's defaults, each
        time; EM finds a local optimum, so the two can differ).

    Attributes
    ----------
    log_ : EventLog
        Every event seen, in the order seen.
    fitted_at_ : int
        How many events the latest refit used (0 before the first).
    refits_ : int
        Refits done so far (a call to :meth:`fit` counts as one).
    """

    name = "refitting"
    supports_lookahead = True

    def __init__(
        self,
        domain: Domain | None = None,
        model: StudentModel | None = None,
        every: int = 200,
        share: str = "none",
        warm: bool = False,
    ) -> None:
        super().__init__(domain)
        if model is None:
            model = BKT(domain, grain="item", forgets=False)
        if not model.supports_lookahead:
            raise ParameterError(
                f"model {model.name!r} cannot look ahead; refitting wraps models that can",
                field="model",
                value=model.name,
            )
        self.share = check_choice("share", share, SHARES)
        if self.share != "none" and not _shareable(model):
            raise ParameterError(
                "shared refits need BKT with grain='item' and no multigs, multilearn or multiprior",
                field="share",
                value=share,
            )
        self.warm = check_flag("warm", warm)
        if self.warm and self.share != "all":
            raise ParameterError("warm starts need share='all'", field="warm", value=warm)
        self.model = model
        self.every = check_count("every", every, 1)
        self._pieces: list[EventLog] = []
        self._seen = 0
        self.fitted_at_ = 0
        self.refits_ = 0

    def get_params(self) -> dict[str, Any]:
        return {"every": self.every, "share": self.share, "warm": self.warm}

    @property
    def log_(self) -> EventLog:
        if len(self._pieces) > 1:
            self._pieces = [EventLog.concat(self._pieces)]
        return self._pieces[0] if self._pieces else EventLog.empty()

    def fit(self, log: EventLog, on_epoch: EpochCallback | None = None) -> Self:
        """Fit the wrapped model on ``log``, which becomes the log seen so far."""
        self._pieces, self._seen = [log], len(log)
        self._refit(on_epoch)
        return self

    def _refit(self, on_epoch: EpochCallback | None = None) -> None:
        if self.share != "none":
            start = None
            if self.warm and self.refits_ and isinstance(self.model, BKT):
                # every item has the shared parameters: read them off the first one seen
                start = self.model.params(self.log_.item.tolist()[0])
            self.model = shared_fit(self.model, self.log_, self.share, on_epoch, start)
        else:
            self.model.fit(self.log_, on_epoch)
        self.fitted_at_ = self._seen
        self.refits_ += 1

    def update(self, events: EventLog) -> None:
        """Update the wrapped model online, then refit it if ``every`` events have
        come in since the latest refit."""
        if not len(events):
            return
        self.model.update(events)
        self._pieces.append(events)
        self._seen += len(events)
        if self._seen - self.fitted_at_ >= self.every:
            self._refit()

    def predict(self, learner: Any, items: Iterable[Any], t: float | None = None) -> np.ndarray:
        return self.model.predict(learner, items, t)

    def lookahead(self, learner: Any, items: Iterable[Any], t: float | None = None) -> LookAhead:
        return self.model.lookahead(learner, items, t)

    def state(self, learner: Any) -> dict[str, Any]:
        return self.model.state(learner)

    def skills_of(self, item: Any) -> tuple[Any, ...]:
        return self.model.skills_of(item)

    def _get_state(self) -> dict[str, Any]:
        log = self.log_
        return {
            "model": self.model.state_dict(),
            "log": {name: column.tolist() for name, column in log.columns().items()},
            "fitted_at": self.fitted_at_,
            "refits": self.refits_,
        }

    def _set_state(self, state: Mapping[str, Any]) -> None:
        from mentor.students import model_from_state

        self.model = model_from_state(state["model"], self.domain)
        columns = dict(state["log"])
        learner, item = columns.pop("learner"), columns.pop("item")
        time, outcome = columns.pop("time"), columns.pop("outcome")
        log = EventLog(learner, item, time, outcome, columns) if learner else EventLog.empty()
        self._pieces, self._seen = [log], len(log)
        self.fitted_at_ = int(state["fitted_at"])
        self.refits_ = int(state["refits"])


def _shareable(model: StudentModel) -> bool:
    return (
        isinstance(model, BKT)
        and model.grain == "item"
        and not (model.multigs or model.multilearn or model.multiprior is not False)
    )


def _group(domain: Domain | None, item: Any, share: str) -> Any:
    """The parameter set an item uses: 0 for all, or its (first) skill."""
    if share == "all":
        return 0
    return domain.items[item].skills[0] if domain is not None and item in domain.items else item


def shared_log(log: EventLog, domain: Domain | None, share: str = "all") -> EventLog:
    """``log`` with one sequence per (learner, item), each of the component whose
    parameters the item shares (item 0 for ``"all"``, its skill for ``"skill"``): the log
    whose BKT fit is the shared parameter sets."""
    keys = np.char.add(np.char.add(log.learner.astype(str), "\x1f"), log.item.astype(str))
    groups = [_group(domain, item, share) for item in log.item.tolist()]
    return EventLog(keys, groups, log.time, log.outcome)


def shared_fit(
    model: StudentModel,
    log: EventLog,
    share: str = "all",
    on_epoch: EpochCallback | None = None,
    start: Mapping[str, float] | None = None,
) -> BKT:
    """A BKT like ``model`` (per item) whose items take the parameter sets fitted by EM on
    :func:`shared_log` (an item of a skill never answered, or of no group seen, BKT's
    starting values), with each learner's knowledge replayed from ``log``. EM starts
    from ``start`` (None: ``model``'s starting values)."""
    if not isinstance(model, BKT) or not _shareable(model):
        raise ParameterError("shared refits need BKT with grain='item'", field="model")
    params, domain = model.get_params(), model.domain
    init = {**params["init"], **(start or {})}
    shared = BKT(None, **{**params, "grain": "skill", "init": init})
    shared.fit(shared_log(log, domain, share), on_epoch)
    known = domain.item_ids if domain is not None else []
    items = list(dict.fromkeys([*known, *log.item.tolist()]))
    values = [shared.params(_group(domain, item, share)) for item in items]
    state = BKT(domain, **params).state_dict()
    state["state"].update(skills=items, **{name: [v[name] for v in values] for name in PARAMS})
    refitted = BKT.from_state_dict(state, domain)
    refitted.update(log)
    return refitted
