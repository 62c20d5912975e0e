"""Difficulty scores of training examples, for curricula over a dataset.

A scorer gives every example of a dataset of ``n`` a difficulty: larger is
harder, NaN is unknown (curricula rank unknown examples last). Three sources:

- another network (transfer scoring): :func:`transfer_scores` computes, in
  batches, the loss or one minus the confidence in the label of a pretrained
  or separately trained network, as Hacohen and Weinshall ("On the power of
  curriculum learning in training deep networks", ICML 2019) score examples
  with a network trained on other data; wrap the result in :class:`StaticScores`;
- the model being trained: :class:`MovingLoss`, an exponential moving average
  of each example's own loss, updated by the sampler's feedback (the
  "dynamic instance hardness" of Zhou, Wang and Bilmes, "Curriculum learning
  by dynamic instance hardness", NeurIPS 2020);
- data features: :func:`feature_scores` applies a user function to batches of
  inputs; a column already at hand goes straight into :class:`StaticScores`.

Teachers read scores through :class:`ScoreModel`, a stand-in student model
whose predicted success is ``1 - score``: a curriculum's ``difficulty="model"``
and self-paced learning's ``signal="model"`` both read ``1 - predict``, that is
the score itself.
"""

from __future__ import annotations

import abc
import base64
import binascii
import hashlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, Self

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, TensorDataset

from mentor._checks import check_choice, check_count, check_unit
from mentor.errors import DataError, MentorError, StateError
from mentor.events import EventLog
from mentor.students.base import EpochCallback, StudentModel

#: What :func:`transfer_scores` can return per example.
TRANSFER_KINDS = ("loss", "confidence")


def encode_array(array: np.ndarray, dtype: str) -> str:
    """An array as base64 text of its little-endian bytes (exact, NaN included)."""
    return base64.b64encode(np.ascontiguousarray(array, dtype=dtype).tobytes()).decode("ascii")


def decode_array(text: Any, dtype: str, size: int | None = None) -> np.ndarray:
    """The array :func:`encode_array` wrote; ``ValueError`` if corrupt or of another size."""
    if not isinstance(text, str):
        raise ValueError(f"expected base64 text, got {type(text).__name__}")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as error:
        raise ValueError(f"not base64: {error}") from None
    if len(raw) % np.dtype(dtype).itemsize:
        raise ValueError(f"{len(raw)} bytes is not a whole number of {dtype} values")
    array = np.frombuffer(raw, dtype=dtype).copy()
    if size is not None and array.size != size:
        raise ValueError(f"{array.size} values where {size} were expected")
    return array


def score_array(values: Any, n: int | None = None, field: str = "scores") -> np.ndarray:
    """Scores as a 1-D float64 array: finite or NaN (unknown), ``n`` of them if given."""
    try:
        array = np.array(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise DataError("must be numbers, one per example", field=field) from None
    if np.ndim(values) != 1:
        raise DataError("must be one number per example", field=field, value=np.shape(values))
    if n is not None and array.size != n:
        raise DataError(f"has {array.size} values for {n} examples", field=field)
    bad = np.flatnonzero(np.isinf(array))
    if bad.size:
        raise DataError(
            f"score of example {int(bad[0])} is infinite", field=field, value=float(array[bad[0]])
        )
    return array


class Scorer(abc.ABC):
    """Base class of difficulty scorers over a dataset of ``n`` examples.

    :attr:`version` increases whenever the scores change, so that a sampler
    knows when to rank the examples again.
    """

    name: ClassVar[str]

    def __init__(self, n: int) -> None:
        self.n = check_count("n", n, 1)
        self.version = 0

    @abc.abstractmethod
    def scores(self) -> np.ndarray:
        """Difficulty of each example (larger is harder, NaN unknown); do not modify."""

    def update(  # noqa: B027 - fixed scores learn nothing
        self,
        indices: np.ndarray,
        losses: np.ndarray | None,
        correct: np.ndarray | None,
    ) -> None:
        """Take one step's per-example feedback into account (default: nothing)."""

    def _get_state(self) -> dict[str, Any]:
        return {}

    def _set_state(self, state: Mapping[str, Any]) -> None:  # noqa: B027 - stateless default
        pass

    def state_dict(self) -> dict[str, Any]:
        """The scorer's state as JSON-able data."""
        return {"kind": self.name, "n": self.n, "version": self.version, **self._get_state()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` saved (on a scorer built with the same arguments)."""
        if not isinstance(state, Mapping) or state.get("kind") != self.name:
            kind = state.get("kind") if isinstance(state, Mapping) else type(state).__name__
            raise StateError(f"not a saved {self.name} scorer (kind {kind!r})")
        if state.get("n") != self.n:
            raise StateError(
                f"saved {self.name} scorer has n={state.get('n')!r}, this one {self.n}"
            )
        try:
            self._set_state(state)
            self.version = int(state["version"])
        except (KeyError, TypeError, ValueError) as error:
            raise StateError(f"corrupt {self.name} scorer state: {error}") from None


class StaticScores(Scorer):
    """Fixed scores: a data feature, or the output of :func:`transfer_scores`.

    Parameters
    ----------
    values
        One score per example (larger is harder); NaN marks an example without one.

    The saved state holds a digest of the values, so restoring it on other
    scores is an error rather than a silently different run.
    """

    name = "static"

    def __init__(self, values: Any) -> None:
        array = score_array(values)
        super().__init__(array.size)
        array.setflags(write=False)
        self.values = array

    def scores(self) -> np.ndarray:
        return self.values

    def digest(self) -> str:
        """A short hash of the scores."""
        return hashlib.blake2b(self.values.astype("<f8").tobytes(), digest_size=8).hexdigest()

    def _get_state(self) -> dict[str, Any]:
        return {"digest": self.digest()}

    def _set_state(self, state: Mapping[str, Any]) -> None:
        if state["digest"] != self.digest():
            raise StateError("saved static scores differ from this scorer's values")


class MovingLoss(Scorer):
    """Each example's own training loss, averaged exponentially over the times it was seen.

    After feedback with loss ``l`` on example ``i``: ``m_i <- l`` the first time,
    then ``m_i <- (1 - alpha) m_i + alpha l`` (the dynamic instance hardness of
    Zhou, Wang and Bilmes 2020; only the examples in the feedback change). An
    example that appears several times in one feedback is updated once with the
    mean of its losses.

    Parameters
    ----------
    n
        Number of examples.
    alpha
        Weight of the newest loss, in (0, 1]. Default 0.3 (ours).
    initial
        Score of examples not seen yet: a number, NaN (default: unknown, ranked
        last by curricula) or one value per example (say, transfer scores, so
        that the curriculum starts from another network's view).
    """

    name = "moving_loss"

    def __init__(self, n: int, alpha: float = 0.3, initial: Any = float("nan")) -> None:
        super().__init__(n)
        self.alpha = check_unit("alpha", alpha, strict=True)
        if np.ndim(initial) == 0:
            self.values_ = np.full(self.n, score_array([initial], field="initial")[0])
        else:
            self.values_ = score_array(initial, self.n, field="initial")
        self.seen_ = np.zeros(self.n, dtype=bool)

    def scores(self) -> np.ndarray:
        return self.values_

    def update(
        self,
        indices: np.ndarray,
        losses: np.ndarray | None,
        correct: np.ndarray | None,
    ) -> None:
        if losses is None or not len(indices):
            return
        unique, inverse = np.unique(indices, return_inverse=True)
        loss = np.bincount(inverse, weights=losses) / np.bincount(inverse)
        seen = self.seen_[unique]
        old = self.values_[unique]
        self.values_[unique] = np.where(seen, (1.0 - self.alpha) * old + self.alpha * loss, loss)
        self.seen_[unique] = True
        self.version += 1

    def _get_state(self) -> dict[str, Any]:
        return {
            "values": encode_array(self.values_, "<f8"),
            "seen": encode_array(self.seen_, "u1"),
        }

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self.values_ = decode_array(state["values"], "<f8", self.n).astype(np.float64)
        self.seen_ = decode_array(state["seen"], "u1", self.n).astype(bool)


class ScoreModel(StudentModel):
    """Scores seen by a teacher as a student model: ``predict = 1 - score``.

    :meth:`predict` is all that curricula (``difficulty="model"``), self-paced
    learning (``signal="model"``), target success and due review ask of a model;
    the first two read the difficulty back as ``1 - predict``, the score. The
    scores are per example, with no skills, so :meth:`state` (per-skill mastery,
    which the mastery gate and the ``open_skills`` constraint read) raises a
    :class:`~mentor.errors.MentorError`, as do :meth:`fit` and :meth:`update`:
    the scorer learns from :meth:`CurriculumSampler.feedback
    <mentor.torch.sampler.CurriculumSampler.feedback>`, not from an event log.
    It cannot look ahead (:attr:`supports_lookahead` is False). Its saved state
    is the scorer's.
    """

    name = "scores"

    def __init__(self, scorer: Scorer) -> None:
        super().__init__(None)
        self.scorer = scorer

    def fit(self, log: EventLog, on_epoch: EpochCallback | None = None) -> Self:
        raise MentorError(
            "student model 'scores' reads its scorer, which the sampler's feedback "
            "updates; it is not fitted on an event log"
        )

    def update(self, events: EventLog) -> None:
        raise MentorError(
            "student model 'scores' reads its scorer, which the sampler's feedback "
            "updates; it takes no events"
        )

    def predict(self, learner: Any, items: Iterable[Any], t: float | None = None) -> np.ndarray:
        """``1 - score`` of each example index in ``items``."""
        scores: np.ndarray = self.scorer.scores()
        return 1.0 - scores[np.asarray(items, dtype=np.int64)]

    def state(self, learner: Any) -> dict[str, Any]:
        raise MentorError(
            "student model 'scores' scores examples and knows no mastery of skills; "
            "use a teacher that reads predictions (curriculum, self_paced, target, due_review)"
        )

    def _get_state(self) -> dict[str, Any]:
        return self.scorer.state_dict()

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self.scorer.load_state_dict(state)


def _loader(data: Any, batch_size: int) -> DataLoader[Any]:
    """Batches of ``data``: a Dataset, or a tensor / tuple of tensors with one row per example."""
    if isinstance(data, torch.Tensor):
        data = TensorDataset(data)
    elif isinstance(data, tuple) and all(isinstance(part, torch.Tensor) for part in data):
        data = TensorDataset(*data)
    elif not isinstance(data, Dataset):
        raise DataError(
            "must be a torch Dataset, a tensor or a tuple of tensors",
            field="data",
            value=type(data).__name__,
        )
    return DataLoader(data, batch_size=check_count("batch_size", batch_size, 1), shuffle=False)


def transfer_scores(
    model: torch.nn.Module,
    data: Any,
    *,
    kind: str = "loss",
    batch_size: int = 512,
    device: str | torch.device | None = None,
) -> np.ndarray:
    """Difficulty of each example according to another network (transfer scoring).

    Hacohen and Weinshall 2019 rank examples by the confidence of a network
    trained on other data (an ImageNet network with a classifier on top);
    here the network is any classifier returning logits.

    Parameters
    ----------
    model
        A network mapping a batch of inputs to logits ``[B, classes]``.
    data
        ``(inputs, labels)`` tensors, or a Dataset yielding ``(input, label)``.
    kind
        ``"loss"`` (default): the cross-entropy ``-log p(label)``;
        ``"confidence"``: ``1 - p(label)``. Both rank examples the same way.
    batch_size
        Examples per forward pass. Default 512.
    device
        Where to run ``model``; default the device of its first parameter (CPU
        for a model without parameters).

    Returns
    -------
    numpy.ndarray
        One float64 score per example, in the order of ``data``.
    """
    if kind not in TRANSFER_KINDS:
        check_choice("kind", kind, TRANSFER_KINDS)
    if device is None:
        first = next(model.parameters(), None)
        device = first.device if first is not None else torch.device("cpu")
    training = model.training
    model.eval()
    out: list[np.ndarray] = []
    try:
        with torch.no_grad():
            for batch in _loader(data, batch_size):
                if len(batch) < 2:
                    raise DataError("needs (inputs, labels) pairs", field="data")
                inputs, labels = batch[0].to(device), batch[1].to(device)
                logits = model(inputs).float()
                if kind == "loss":
                    score = F.cross_entropy(logits, labels, reduction="none")
                else:
                    p = torch.softmax(logits, dim=1).gather(1, labels[:, None])[:, 0]
                    score = 1.0 - p
                out.append(score.cpu().numpy().astype(np.float64))
    finally:
        model.train(training)
    return np.concatenate(out) if out else np.zeros(0)


def feature_scores(
    fn: Callable[[torch.Tensor], Any], data: Any, *, batch_size: int = 1024
) -> np.ndarray:
    """Difficulty from the data itself: ``fn`` applied to batches of inputs.

    Parameters
    ----------
    fn
        Maps a batch of inputs (the first field of each example) to one score
        per example (a tensor or array of length ``B``), e.g. the pixel
        standard deviation of an image or the length of a sentence.
    data
        A tensor of inputs, a tuple of tensors, or a Dataset (first field used).
    batch_size
        Examples per call of ``fn``. Default 1024.
    """
    out: list[np.ndarray] = []
    for batch in _loader(data, batch_size):
        inputs = batch[0]
        value = fn(inputs)
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().numpy()
        value = np.asarray(value, dtype=np.float64).reshape(-1)
        if value.size != len(inputs):
            raise DataError(
                f"returned {value.size} scores for a batch of {len(inputs)} examples", field="fn"
            )
        out.append(value)
    return score_array(np.concatenate(out) if out else np.zeros(0))
