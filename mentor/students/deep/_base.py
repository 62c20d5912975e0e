"""What the deep knowledge-tracing models share behind the StudentModel contract.

A deep model keeps an item vocabulary, a network, and one small state per
learner (a recurrent state, or the learner's recent interactions). Fitting
trains the network on windows of the learners' sequences, with early stopping
on a fifth of the learners held out, then runs every learner of the log through
the network so that each is known in the state their last event left them.

Items not in the vocabulary (never seen in fitting, nor for SimpleKT in the
domain) are predicted at the training success rate and left out of updates;
an unfitted model knows no item. Times are not used: the models count
interactions, so ``t`` in :meth:`DeepKTModel.predict` is accepted and ignored.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Iterable, Mapping
from typing import Any, Self

import numpy as np
import torch

from mentor._checks import check_count, check_number, check_unit
from mentor.devices import check_device, resolve_device
from mentor.domain import Domain
from mentor.errors import DataError, ParameterError
from mentor.events import EventLog
from mentor.students.base import EpochCallback, StudentModel
from mentor.students.deep._training import (
    Sequences,
    WindowData,
    decode_tensors,
    encode_tensors,
    group_by_learner,
    plan_windows,
    seeded,
    train_network,
)

#: Constructor arguments every deep model has, with their defaults.
COMMON_PARAMS = {
    "max_len": 200,
    "batch_size": 64,
    "epochs": 100,
    "lr": 1e-3,
    "weight_decay": 1e-5,
    "dropout": 0.1,
    "clip_norm": 1.0,
    "validation": 0.2,
    "patience": 6,
    "lr_decay": 0.5,
    "device": "auto",
    "seed": 0,
}


class DeepKTModel(StudentModel):
    """Base class of the deep models; see :class:`DKT` and :class:`SimpleKT`.

    Common parameters
    -----------------
    max_len
        Longest window of a learner's sequence seen by the network in training
        (longer sequences are cut into windows of ``max_len``). Default 200.
    batch_size
        Windows per training batch. Default 64 (SimpleKT: 32).
    epochs
        Most training epochs. Default 100 (early stopping usually ends sooner).
    lr, weight_decay
        AdamW learning rate and decoupled weight decay. Defaults 1e-3 (SimpleKT:
        3e-3) and 1e-5.
    dropout
        Dropout rate. Default 0.1.
    clip_norm
        Gradients are clipped to this global norm. Default 1.0.
    validation
        Share of the fitting log's learners held out for early stopping; 0
        trains on every learner for exactly ``epochs`` epochs. Default 0.2.
    patience
        Epochs without a better validation AUC before training stops; the
        best epoch's weights are kept. Default 6.
    lr_decay
        The learning rate is multiplied by this after every two epochs without
        a better validation AUC (1 keeps it constant). Default 0.5.
    device
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"``,
        ``"cuda:N"`` or ``"mps"``. Default ``"auto"``.
    seed
        Seeds the weights, the learner split, the batch order and dropout. On
        CPU, equal seeds give equal models. Default 0.

    Attributes
    ----------
    items_ : list
        The item vocabulary, in the order of the network's item index.
    base_rate_ : float
        Mean outcome of the fitting log; the prediction for unknown items.
    history_ : list of dict
        One record per training epoch (losses, validation AUC, seconds).
    network_ : torch.nn.Module or None
        The trained network, in evaluation mode.
    """

    @classmethod
    def _unit_test_params(cls) -> dict[str, Any]:
        return {"epochs": 2, "batch_size": 4, "device": "cpu"}

    def __init__(self, domain: Domain | None = None, **common: Any) -> None:
        super().__init__(domain)
        unknown = sorted(set(common) - set(COMMON_PARAMS))
        if unknown:
            raise ParameterError(
                f"unknown parameter of {type(self).__name__}",
                field=unknown[0],
                value=common[unknown[0]],
            )
        values = {**COMMON_PARAMS, **common}
        self.max_len = check_count("max_len", values["max_len"], 2)
        self.batch_size = check_count("batch_size", values["batch_size"], 1)
        self.epochs = check_count("epochs", values["epochs"], 1)
        self.lr = check_number("lr", values["lr"], 0.0, strict=True)
        self.weight_decay = check_number("weight_decay", values["weight_decay"], 0.0)
        self.dropout = check_unit("dropout", values["dropout"], strict_maximum=True)
        self.clip_norm = check_number("clip_norm", values["clip_norm"], 0.0, strict=True)
        self.validation = check_unit("validation", values["validation"], strict_maximum=True)
        self.patience = check_count("patience", values["patience"], 1)
        self.lr_decay = check_unit("lr_decay", values["lr_decay"], strict=True)
        self.device = check_device(values["device"])
        self.seed = check_count("seed", values["seed"], 0)
        self.items_: list[Any] = []
        self._item_index: dict[Any, int] = {}
        self.base_rate_ = 0.5
        self.history_: list[dict[str, Any]] = []
        self.network_: torch.nn.Module | None = None
        self._device: torch.device | None = None

    # ------------------------------------------------------------- subclass hooks
    @abc.abstractmethod
    def _model_params(self) -> dict[str, Any]:
        """The subclass's own constructor arguments."""

    @abc.abstractmethod
    def _build_network(self) -> torch.nn.Module:
        """A fresh network for the current vocabulary."""

    @abc.abstractmethod
    def _vocabulary(self, log: EventLog) -> list[Any]:
        """The items the network will know after fitting on ``log``."""

    @abc.abstractmethod
    def _reset_learners(self) -> None:
        """Forget every learner."""

    @abc.abstractmethod
    def _advance(self, seqs: Sequences) -> None:
        """Move each learner's state past their sequence of known events."""

    @abc.abstractmethod
    def _score(self, seqs: Sequences) -> np.ndarray:
        """P(success) of every event of ``seqs`` from the learner's state and
        earlier events, in the order of ``seqs.items``; no state change."""

    @abc.abstractmethod
    def _predict_next(self, learner: Any, items: np.ndarray) -> np.ndarray:
        """P(success) of the learner's next attempt at each item index."""

    @abc.abstractmethod
    def _get_learner_state(self) -> tuple[list[Any], dict[str, np.ndarray]]:
        """Learner ids and their states as arrays, for saving."""

    @abc.abstractmethod
    def _set_learner_state(self, learners: list[Any], tensors: Mapping[str, np.ndarray]) -> None:
        """Restore what :meth:`_get_learner_state` returned."""

    def _get_extra_state(self) -> dict[str, Any]:
        return {}

    def _set_extra_state(self, state: Mapping[str, Any]) -> None:
        return None

    # ------------------------------------------------------------- helpers
    def get_params(self) -> dict[str, Any]:
        return {**{k: getattr(self, k) for k in COMMON_PARAMS}, **self._model_params()}

    @property
    def torch_device(self) -> torch.device:
        """The device the network lives on (resolved from ``device`` on first use;
        a model restored on a machine without the device it names runs on the CPU)."""
        if self._device is None:
            self._device = resolve_device(self.device)
        return self._device

    def _set_vocabulary(self, items: list[Any]) -> None:
        self.items_ = list(items)
        self._item_index = {item: i for i, item in enumerate(self.items_)}
        if len(self._item_index) != len(self.items_):
            raise ValueError("duplicate item in the vocabulary")

    def _codes(self, items: np.ndarray) -> np.ndarray:
        """Item index of each id, -1 where unknown (one dict look-up per distinct id)."""
        if items.size == 0:
            return np.zeros(0, dtype=np.int64)
        distinct, inverse = np.unique(items, return_inverse=True)
        lookup = np.array([self._item_index.get(i, -1) for i in distinct.tolist()], np.int64)
        return lookup[inverse]

    def _sequences(self, log: EventLog, by_time: bool) -> tuple[Sequences | None, np.ndarray]:
        codes = self._codes(log.item)
        known = np.flatnonzero(codes >= 0)
        if self.network_ is None or known.size == 0:
            return None, codes
        seqs = group_by_learner(
            log.learner[known],
            codes[known],
            log.outcome[known],
            known,
            log.time[known] if by_time else None,
        )
        return seqs, codes

    def _held_out(self, n_seq: int, rng: np.random.Generator) -> np.ndarray:
        """Mask of the sequences held out for early stopping (the first draw of ``rng``)."""
        n_valid = int(round(self.validation * n_seq)) if n_seq >= 2 else 0
        n_valid = min(n_valid, n_seq - 1)
        held_out = np.zeros(n_seq, dtype=bool)
        held_out[rng.permutation(n_seq)[:n_valid]] = True
        return held_out

    def validation_learners(self, log: EventLog) -> list[Any]:
        """The learners of ``log`` that :meth:`fit` would hold out for early
        stopping (with this ``seed`` and ``validation``), sorted; for running a
        reference implementation on the same split."""
        learners = np.unique(log.learner)
        held_out = self._held_out(learners.size, np.random.default_rng(self.seed))
        return learners[held_out].tolist()

    # ------------------------------------------------------------- contract
    def fit(self, log: EventLog, on_epoch: EpochCallback | None = None) -> Self:
        """Train the network on ``log``, then set every learner of the log to
        the state their last event left them.

        ``on_epoch`` is called with each epoch's record (for progress displays).
        """
        if len(log) == 0:
            raise DataError(f"cannot fit {self.name} on an empty log")
        device = self._device = resolve_device(self.device)
        self._set_vocabulary(self._vocabulary(log))
        self.base_rate_ = float(np.mean(log.outcome))
        codes = self._codes(log.item)
        seqs = group_by_learner(log.learner, codes, log.outcome, np.arange(len(log)), log.time)
        rng = np.random.default_rng(self.seed)
        held_out = self._held_out(len(seqs.learners), rng)
        n_valid = int(held_out.sum())
        plan = plan_windows(seqs.lengths, self.max_len, self.max_len)
        in_valid = held_out[plan.seq]

        def data(rows: np.ndarray) -> WindowData:
            sub = type(plan)(plan.seq[rows], plan.start[rows], plan.stop[rows], plan.first[rows])
            return WindowData.build(seqs.items, seqs.outcomes, seqs.offsets, sub, device)

        with seeded(self.seed, device):
            network = self._build_network().to(device)
            self.history_ = train_network(
                network,
                data(np.flatnonzero(~in_valid)),
                data(np.flatnonzero(in_valid)) if n_valid else None,
                epochs=self.epochs,
                batch_size=self.batch_size,
                lr=self.lr,
                weight_decay=self.weight_decay,
                clip_norm=self.clip_norm,
                patience=self.patience,
                lr_decay=self.lr_decay,
                rng=rng,
                on_epoch=on_epoch,
            )
        self.network_ = network.eval()
        self._reset_learners()
        self._advance(seqs)
        return self

    def update(self, events: EventLog) -> None:
        """Move each learner's state past their events, in the order given."""
        seqs, _ = self._sequences(events, by_time=False)
        if seqs is not None:
            self._advance(seqs)

    def predict(self, learner: Any, items: Iterable[Any], t: float | None = None) -> np.ndarray:
        """P(success) of the learner's next attempt at each item (``t`` is ignored)."""
        items = list(items)
        out = np.full(len(items), self.base_rate_)
        if not items or self.network_ is None:
            return out
        codes = np.array([self._item_index.get(i, -1) for i in items], dtype=np.int64)
        known = codes >= 0
        if known.any():
            out[known] = self._predict_next(learner, codes[known])
        return out

    def predict_log(self, log: EventLog) -> np.ndarray:
        """Every event of ``log`` predicted from the learner's state in the model
        and the learner's earlier events in the log, in one vectorised pass,
        without changing the model. Events are taken in time order (ties in log
        order); the result is in the log's order."""
        out = np.full(len(log), self.base_rate_)
        seqs, _ = self._sequences(log, by_time=True)
        if seqs is not None:
            out[seqs.events] = self._score(seqs)
        return out

    def state(self, learner: Any) -> dict[str, Any]:
        """Mastery per skill: the predicted success of the learner's next attempt
        at the skill's item (the mean over the skill's known items when a
        domain gives several; the base rate when none is known)."""
        p = self.predict(learner, self.items_) if self.items_ else np.zeros(0)
        totals: dict[Any, list[float]] = {}
        if self.domain is not None:
            totals = {s: [] for s in self.domain.skills}
        for item, prob in zip(self.items_, p.tolist(), strict=True):
            for skill in self.skills_of(item):
                totals.setdefault(skill, []).append(prob)
        mastery = {s: float(np.mean(v)) if v else self.base_rate_ for s, v in totals.items()}
        return {"mastery": mastery}

    # ------------------------------------------------------------- state
    def _get_state(self) -> dict[str, Any]:
        tensors: dict[str, np.ndarray] = {}
        learners: list[Any] = []
        if self.network_ is not None:
            from mentor.students.deep._training import network_tensors

            tensors.update(network_tensors(self.network_))
            learners, learner_tensors = self._get_learner_state()
            tensors.update({f"learners.{k}": v for k, v in learner_tensors.items()})
        return {
            "items": list(self.items_),
            "base_rate": self.base_rate_,
            "history": [
                {
                    k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                    for k, v in record.items()
                }
                for record in self.history_
            ],
            "learners": learners,
            "weights": encode_tensors(tensors) if self.network_ is not None else None,
            **self._get_extra_state(),
        }

    def _set_state(self, state: Mapping[str, Any]) -> None:
        from mentor.students.deep._training import load_network

        for item in state["items"]:
            if isinstance(item, (list, dict)):
                raise ValueError(f"an item id must be a string or an integer, got {item!r}")
        self._set_vocabulary(state["items"])
        self.base_rate_ = float(state["base_rate"])
        if not 0.0 <= self.base_rate_ <= 1.0:
            raise ValueError("base_rate must be a probability")
        self.history_ = [dict(r) for r in state.get("history", [])]
        self._set_extra_state(state)
        self._reset_learners()
        if state["weights"] is None:
            self.network_ = None
            return
        tensors = decode_tensors(state["weights"])
        network = self._build_network()
        load_network(network, tensors)
        try:
            device = resolve_device(self.device)
        except DataError:  # trained on a GPU, restored where there is none
            device = torch.device("cpu")
        self._device = device
        self.network_ = network.to(device).eval()
        learners = list(state["learners"])
        for learner in learners:
            if isinstance(learner, (list, dict)):
                raise ValueError(f"a learner id must be a string or an integer, got {learner!r}")
        prefix = "learners."
        self._set_learner_state(
            learners, {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
        )
