"""A recurrent memory model: a GRU per card whose state sets a forgetting curve.

Each (learner, card) row keeps a hidden vector h (``hidden_size`` numbers). A
review is one step of a GRU cell (K. Cho et al., EMNLP 2014; the equations of
``torch.nn.GRUCell``)::

    h_k = GRU(x_k, h_{k-1}),   h_{-1} = 0

whose input x_k (:data:`INPUTS`, 9 numbers) holds what is known at the review:
log(1 + Δ) (Δ: days since the card's previous review, 0 at the first), a
same-day flag (0 < Δ < 1), a first-review flag, the rating one-hot (Again,
Hard, Good, Easy), log(1 + earlier reviews of the card) and the recall the
model predicted for this review just before it (0 at a first review). Recall
at any later time, t days after the latest review, is a forgetting curve whose
parameters the state sets::

    a = W h + b,   c = sigmoid(a_0),   w = softmax(a_1..a_K),   S_j = exp(a_{K+j})
    R(t) = c · sum_j w_j (1 + t / S_j) ** -d_j,     d_j = softplus(δ_j)

a mixture of K power curves (``components``, default 3) under a ceiling c,
with one global decay d_j per component. R falls with t (every term does and
the weights are >= 0) and c < 1 lets a card be failed even right after a
review (same-day reviews often follow a lapse). The network never outputs a
probability for a time directly: as srs-benchmark's GRU (whose README says it
"uses the same power forgetting curve as FSRS-4.5") it outputs the parameters
of a curve, so :meth:`MemoryModel.predict` is exact at any time
and a review is O(1) (one cell step), while srs-benchmark's README notes that
its GRU-P, which predicts recall directly, gives curves that rise with time.

Why this shape. srs-benchmark (open-spaced-repetition/srs-benchmark, README,
"Neural networks") reports an LSTM that beats FSRS-6 on log loss (0.3115
against 0.3214); it reads short-term reviews and fractional intervals, and is
pretrained on 100 users and then fitted to each user with Reptile. Here there
is no pool of users to pretrain on: the model is fitted on one log alone
(2,097 to 10,484 training reviews per fold in ``benchmarks/memory_models.py``),
so it is small (16 hidden units, 1,418 weights), reads each card on its
own (as FSRS does) and feeds back its own prediction, the analogue of FSRS's
retrievability R entering its stability update (J. Ye et al., KDD 2022). The
mixture of power curves follows the observations that forgetting is closer to
a power law than to one exponential (J. T. Wixted, E. B. Ebbesen,
Psychological Science 1991) and that averages of curves with different time
scales look like a power law (R. B. Anderson, R. D. Tweney, Memory &
Cognition 1997).

Fitting (:meth:`MemoryRNN.fit`, PyTorch needed, the ``mentor[torch]`` extra;
predicting and updating are NumPy and need no PyTorch). The loss is the mean
binary cross-entropy of every review that has a previous review of the same
card (the reviews the benchmark scores, same-day ones included), minimised by
Adam (``lr``, L2 ``weight_decay``) over minibatches of ``batch_size`` cards
(cards grouped by length, batches in a seeded random order). The number of
epochs is chosen on the training log only: the model is trained on the reviews
before the latest ``holdout`` (a quarter by default, in time, as ``fsrs-lr``
chooses its penalty) and scored on those after (whose hidden states are run
over the whole history, their own labels never in the loss), stopping
``patience`` epochs after the best; then it is trained afresh on every review
for the best number of epochs. Everything is seeded (``seed``): initial
weights and batch order come from NumPy's generator, so two fits of the same
log give the same model. The defaults were fixed before the model was first
scored on the benchmark: inputs, curve and sizes by design; learning rate,
patience and epoch cap by the log loss of the latest quarter of the first
fold's training part (the first sixth of the log, never scored) when fitted
on the rest (``benchmarks/RESULTS.md``, "A recurrent memory model").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self

import numpy as np

from mentor._checks import check_count, check_number
from mentor.domain import Domain
from mentor.errors import MentorError
from mentor.events import EventLog
from mentor.students.base import EpochCallback
from mentor.students.memory._base import MemoryModel
from mentor.students.memory._history import AGAIN, DAY, EASY, Reviews, ratings_of

INPUTS = (
    "log_elapsed",
    "same_day",
    "first",
    "again",
    "hard",
    "good",
    "easy",
    "log_reviews",
    "recall_before",
)
"""The GRU's inputs at a review, in order."""

EDGE = 1e-6
"""Recall is clipped to [EDGE, 1 - EDGE] (training and prediction alike)."""

LOG_STABILITY_BOUND = 12.0
"""|log S_j| <= this (S from 6e-6 to 1.6e5 days)."""

WEIGHTS = ("w_x", "w_h", "b_x", "b_h", "w_out", "b_out", "decay")
"""Names of the weight arrays, in :meth:`MemoryRNN.weights_` order."""


def sigmoid(x: np.ndarray) -> np.ndarray:
    result: np.ndarray = 0.5 * (1.0 + np.tanh(0.5 * x))
    return result


def softplus(x: np.ndarray) -> np.ndarray:
    result: np.ndarray = np.logaddexp(0.0, x)
    return result


def initial_weights(
    hidden_size: int, components: int, seed: int, n_inputs: int = len(INPUTS)
) -> dict[str, np.ndarray]:
    """Seeded starting weights: uniform in ±1/sqrt(hidden) (as torch's GRUCell), with the
    head's biases set so that the curve starts as a ceiling of sigmoid(3) = 0.95 and equal
    weights on time scales spread from 1 hour to 30 days, each with decay 0.5."""
    rng = np.random.default_rng(seed)
    h, f, k = hidden_size, n_inputs, components
    bound = 1.0 / np.sqrt(h)
    weights = {
        "w_x": rng.uniform(-bound, bound, (3 * h, f)),
        "w_h": rng.uniform(-bound, bound, (3 * h, h)),
        "b_x": rng.uniform(-bound, bound, 3 * h),
        "b_h": rng.uniform(-bound, bound, 3 * h),
        "w_out": rng.uniform(-bound, bound, (1 + 2 * k, h)),
        "b_out": np.zeros(1 + 2 * k),
        "decay": np.full(k, np.log(np.expm1(0.5))),  # softplus^-1(0.5)
    }
    weights["b_out"][0] = 3.0
    weights["b_out"][1 + k :] = np.linspace(np.log(1.0 / 24.0), np.log(30.0), k)
    return weights


def gru_step(weights: Mapping[str, np.ndarray], x: np.ndarray, h: np.ndarray) -> np.ndarray:
    """One GRU cell step for rows of inputs x and states h (torch.nn.GRUCell's equations)."""
    n = h.shape[-1]
    gx = x @ weights["w_x"].T + weights["b_x"]
    gh = h @ weights["w_h"].T + weights["b_h"]
    r = sigmoid(gx[..., :n] + gh[..., :n])
    z = sigmoid(gx[..., n : 2 * n] + gh[..., n : 2 * n])
    candidate = np.tanh(gx[..., 2 * n :] + r * gh[..., 2 * n :])
    result: np.ndarray = (1.0 - z) * candidate + z * h
    return result


def curve(weights: Mapping[str, np.ndarray], h: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Recall of states h (rows) ``days`` after their latest review (clipped to >= 0)."""
    k = len(weights["decay"])
    a = h @ weights["w_out"].T + weights["b_out"]
    ceiling = sigmoid(a[..., 0])
    logits = a[..., 1 : 1 + k]
    mix = np.exp(logits - logits.max(axis=-1, keepdims=True))
    mix /= mix.sum(axis=-1, keepdims=True)
    stability = np.exp(np.clip(a[..., 1 + k :], -LOG_STABILITY_BOUND, LOG_STABILITY_BOUND))
    decay = softplus(weights["decay"])
    t = np.maximum(days, 0.0)[..., None]
    recall = ceiling * np.sum(mix * (1.0 + t / stability) ** -decay, axis=-1)
    result: np.ndarray = np.clip(recall, EDGE, 1.0 - EDGE)
    return result


def review_inputs(
    days: np.ndarray,
    count: np.ndarray,
    rating: np.ndarray,
    recall_before: np.ndarray,
    extra: np.ndarray | None = None,
) -> np.ndarray:
    """Input rows (:data:`INPUTS` order) for reviews ``days`` after the card's previous one
    (any value at a first review, count 0), with ``count`` earlier reviews; ``extra``
    columns (a subclass's own inputs), when given, go before ``recall_before``, which is
    always last."""
    first = count == 0
    elapsed = np.where(first, 0.0, np.maximum(days, 0.0))
    rating = np.asarray(rating)
    columns = [
        np.log1p(elapsed),
        (~first) & (elapsed < 1.0),
        first,
        *(rating == r for r in range(AGAIN, EASY + 1)),
        np.log1p(count),
        *([] if extra is None else list(np.asarray(extra, dtype=np.float64).T)),
        np.where(first, 0.0, recall_before),
    ]
    return np.column_stack(columns).astype(np.float64)


def card_sequences(log: EventLog, extra: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The reviews of a time-sorted log as one padded sequence per (learner, card).

    Returns arrays of shape (cards, longest): ``days`` (since the previous review of
    the card; 0 at a first review), ``count`` (earlier reviews), ``rating``,
    ``outcome``, ``time`` and ``valid`` (a real review, not padding), and ``length``
    (cards,); with ``extra`` (one row of extra inputs per event), also ``extra`` (cards,
    longest, columns). Row c holds the c-th pair in order of first appearance.
    """
    look = Reviews().lookback(log)
    rows = look.row
    n_cards = int(rows.max()) + 1 if len(rows) else 0
    length = np.bincount(rows, minlength=n_cards)
    longest = int(length.max()) if n_cards else 0
    position = look.count.astype(np.int64)  # the k-th review of its card (log is sorted)
    out: dict[str, np.ndarray] = {}
    days = np.where(look.count > 0, look.elapsed_days, 0.0)
    for name, values, fill in (
        ("days", days, 0.0),
        ("count", look.count, 0.0),
        ("rating", ratings_of(log).astype(np.float64), 3.0),
        ("outcome", log.outcome, 0.0),
        ("time", log.time, np.inf),
    ):
        table = np.full((n_cards, longest), fill, dtype=np.float64)
        table[rows, position] = values
        out[name] = table
    valid = np.zeros((n_cards, longest), dtype=bool)
    valid[rows, position] = True
    out["valid"] = valid
    out["length"] = length
    if extra is not None:
        table = np.zeros((n_cards, longest, extra.shape[1]), dtype=np.float64)
        table[rows, position] = extra
        out["extra"] = table
    return out


class MemoryRNN(MemoryModel):
    """Recurrent memory model: a GRU per card whose state sets a mixture of power forgetting curves.

    Parameters
    ----------
    domain
        Not used (each card is its own skill); kept for the common contract.
    hidden_size
        Units of the GRU state kept per (learner, card). Default 16.
    components
        Power curves in the mixture. Default 3.
    lr
        Adam's learning rate. Default 0.01.
    weight_decay
        L2 penalty on every weight (Adam's ``weight_decay``). Default 1e-4.
    batch_size
        Cards per minibatch. Default 64.
    max_epochs
        Most passes over the training log. Default 150.
    patience
        Epochs without a better validation loss before stopping. Default 30.
    holdout
        Share of the training reviews (the latest, in time) that chooses the number of
        epochs; 0 trains for ``max_epochs`` on everything. Default 0.25.
    seed
        Seeds the initial weights and the batch order. Default 0.

    Attributes
    ----------
    weights_ : dict of str to numpy.ndarray
        The network's weights (:data:`WEIGHTS`).
    epochs_ : int
        Epochs of the final training (0 before any fit).
    validation_ : list of float
        Validation loss after each epoch of the choosing run (empty without one).
    hidden_ : list of numpy.ndarray
        GRU state per (learner, card) row.
    """

    name = "memory-rnn"
    #: Names of a subclass's own inputs (after the rating and count, before the recall).
    extra_inputs: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        domain: Domain | None = None,
        hidden_size: int = 16,
        components: int = 3,
        lr: float = 0.01,
        weight_decay: float = 1e-4,
        batch_size: int = 64,
        max_epochs: int = 150,
        patience: int = 30,
        holdout: float = 0.25,
        seed: int = 0,
    ) -> None:
        self.hidden_size = check_count("hidden_size", hidden_size, 1)
        self.components = check_count("components", components, 1)
        self.lr = check_number("lr", lr, 0.0, True)
        self.weight_decay = check_number("weight_decay", weight_decay, 0.0)
        self.batch_size = check_count("batch_size", batch_size, 1)
        self.max_epochs = check_count("max_epochs", max_epochs, 1)
        self.patience = check_count("patience", patience, 1)
        self.holdout = check_number("holdout", holdout, 0.0, maximum=1.0, strict_maximum=True)
        self.seed = check_count("seed", seed, None)
        self.weights_ = initial_weights(
            self.hidden_size, self.components, self.seed, self._n_inputs()
        )
        self.epochs_ = 0
        self.validation_: list[float] = []
        super().__init__(domain)

    def get_params(self) -> dict[str, Any]:
        return {
            "hidden_size": self.hidden_size,
            "components": self.components,
            "lr": self.lr,
            "weight_decay": self.weight_decay,
            "batch_size": self.batch_size,
            "max_epochs": self.max_epochs,
            "patience": self.patience,
            "holdout": self.holdout,
            "seed": self.seed,
        }

    @classmethod
    def _unit_test_params(cls) -> dict[str, Any]:
        return {"hidden_size": 4, "max_epochs": 3}

    def _n_inputs(self) -> int:
        return len(INPUTS) + len(self.extra_inputs)

    def _clear_memory(self) -> None:
        self.hidden_: list[np.ndarray] = []

    # ------------------------------------------------------------ subclass hooks
    def _fit_extra(self, log: EventLog) -> np.ndarray | None:
        """Fit what the extra inputs need on the (time-sorted) log and return them, one row
        per event (the state before it); None without extra inputs."""
        return None

    def _extra(self, row: int, new: bool, time: float, outcome: float, rating: int) -> Any:
        """The extra inputs of one review (the state before it), then record the review in
        whatever keeps them; None without extra inputs."""
        return None

    # ------------------------------------------------------------ contract
    def fit(self, log: EventLog, on_epoch: EpochCallback | None = None) -> Self:
        """Train the network (PyTorch), then replay the log to set every card's state."""
        try:
            from mentor.students.deep.memory_training import train_memory_rnn
        except ImportError as error:
            raise MentorError(
                f"student model {self.name!r} needs PyTorch to fit: pip install "
                f"'mentor[torch]' ({error})"
            ) from None
        log = log.sorted()
        self._reset()
        start = initial_weights(self.hidden_size, self.components, self.seed, self._n_inputs())
        extra = self._fit_extra(log)
        self._reset()
        sequences = card_sequences(log, extra)
        self.weights_, self.epochs_, self.validation_ = train_memory_rnn(
            sequences,
            start,
            lr=self.lr,
            weight_decay=self.weight_decay,
            batch_size=self.batch_size,
            max_epochs=self.max_epochs,
            patience=self.patience,
            holdout=self.holdout,
            seed=self.seed,
            on_epoch=on_epoch,
        )
        self.update(log)
        return self

    def _review(self, row: int, new: bool, time: float, outcome: float, rating: int) -> None:
        if new:
            self.hidden_.append(np.zeros(self.hidden_size))
            days = 0.0
            before = 0.0
        else:
            days = (time - self.reviews_.last_time[row]) / DAY
            before = float(curve(self.weights_, self.hidden_[row], np.asarray(days)))
        count = np.array([float(self.reviews_.count[row])])
        extra = self._extra(row, new, time, outcome, rating)
        x = review_inputs(
            np.array([days]),
            count,
            np.array([rating]),
            np.array([before]),
            None if extra is None else np.asarray(extra, dtype=np.float64)[None, :],
        )
        self.hidden_[row] = gru_step(self.weights_, x[0], self.hidden_[row])

    def _recall(self, rows: np.ndarray, time: float) -> np.ndarray:
        if not len(rows):
            return np.zeros(0)
        index = rows.tolist()
        hidden = np.array([self.hidden_[r] for r in index]).reshape(len(index), self.hidden_size)
        last = np.array([self.reviews_.last_time[r] for r in index], dtype=np.float64)
        return curve(self.weights_, hidden, (time - last) / DAY)

    def predict_log(self, log: EventLog) -> np.ndarray:
        """Each event from the state before it (one pass in time order, as FSRS)."""
        return self._replay(log)

    def _get_memory_state(self) -> dict[str, Any]:
        return {
            "weights": {name: self.weights_[name].tolist() for name in WEIGHTS},
            "epochs": self.epochs_,
            "validation": list(self.validation_),
            "hidden": [h.tolist() for h in self.hidden_],
        }

    def _set_memory_state(self, state: Mapping[str, Any]) -> None:
        shapes = {
            name: array.shape
            for name, array in initial_weights(
                self.hidden_size, self.components, 0, self._n_inputs()
            ).items()
        }
        weights = {}
        for name in WEIGHTS:
            array = np.asarray(state["weights"][name], dtype=np.float64)
            if array.shape != shapes[name] or not np.all(np.isfinite(array)):
                raise ValueError(f"memory-rnn weight {name} must be {shapes[name]} finite numbers")
            weights[name] = array
        hidden = [np.asarray(h, dtype=np.float64) for h in state["hidden"]]
        if len(hidden) != len(self.reviews_) or any(
            h.shape != (self.hidden_size,) or not np.all(np.isfinite(h)) for h in hidden
        ):
            raise ValueError(
                f"memory-rnn state needs {len(self.reviews_)} states of {self.hidden_size} numbers"
            )
        self.weights_ = weights
        self.epochs_ = int(state["epochs"])
        self.validation_ = [float(v) for v in state["validation"]]
        self.hidden_ = hidden
