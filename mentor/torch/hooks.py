"""A curriculum in an existing training loop: two lines, or a Lightning callback.

With a plain loop, :class:`CurriculumHook` wraps each step::

    loader = DataLoader(dataset, batch_sampler=sampler)
    hook = CurriculumHook(sampler)
    for x, y in loader:
        with hook.step() as fb:
            logits = net(x)
            loss = fb.report(F.cross_entropy(logits, y, reduction="none"), logits, y)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()

``fb.report`` keeps the per-example losses and correctness, and returns the
loss to minimise (their mean, or the self-paced weighted mean when the hook
has :class:`~mentor.torch.weighting.SelfPacedWeights`); when the block ends
without an error, the step's feedback goes to the sampler in one call. The
batch is the oldest one the sampler drew and has not had feedback for (the
DataLoader hands batches over in the order it drew them); a step whose block
raises discards its batch, and each new pass over the sampler forgets batches
fetched ahead in a pass that ended early. Where the loop knows the indices
(wrap the dataset in :class:`~mentor.torch.data.WithIndices`), pass them to
``hook.step(indices)``: that holds whatever the loop does.

Feeding back copies the per-example losses to the host, so on a GPU the end
of each step waits for its kernels (as reading ``loss.item()`` would).

With Lightning, :func:`lightning_callback` returns a ``Callback`` (Lightning is
imported only then) that reads per-example results from what
``training_step`` returns; :class:`CurriculumCallback` is the same object
without the Lightning base class.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator, Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch

from mentor.errors import DataError, MentorError
from mentor.torch.weighting import SelfPacedWeights


class FeedbackTarget(Protocol):
    """What a hook reports to: a :class:`~mentor.torch.sampler.CurriculumSampler` or a
    :class:`~mentor.torch.distributed.DistributedCurriculum`."""

    def pending(self) -> np.ndarray | None: ...

    def discard(self, indices: Any) -> None: ...

    def feedback(self, indices: Any, losses: Any = None, correct: Any = None) -> Any: ...


@runtime_checkable
class SavedTarget(FeedbackTarget, Protocol):
    """A feedback target whose state can be saved and restored (a
    :class:`~mentor.torch.sampler.CurriculumSampler` or a
    :class:`~mentor.torch.distributed.DistributedCurriculum`)."""

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...


def correctness(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Per-example 0/1: whether the arg-max of ``logits`` is the target class."""
    if logits.ndim != 2 or targets.ndim != 1 or len(logits) != len(targets):
        raise DataError(
            "needs logits [B, classes] and targets [B]",
            field="logits",
            value=f"{list(logits.shape)} and {list(targets.shape)}",
        )
    return logits.detach().argmax(dim=1) == targets.detach()


class Feedback:
    """One step's per-example results, collected inside :meth:`CurriculumHook.step`."""

    def __init__(self, indices: Any, step: int, weights: SelfPacedWeights | None) -> None:
        self.indices = indices
        self.step = step
        self.weights = weights
        self.losses: torch.Tensor | None = None
        self.correct: torch.Tensor | None = None

    def report(
        self,
        losses: torch.Tensor,
        logits: torch.Tensor | None = None,
        targets: torch.Tensor | None = None,
        *,
        correct: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Record the batch's per-example ``losses`` (and correctness, from ``logits``
        and ``targets`` or given as ``correct``); return the loss to minimise.

        The loss is ``losses.mean()``, or with self-paced weights ``mean(v * losses)``
        (Kumar et al. 2010), the weights computed at the hook's step.
        """
        if not isinstance(losses, torch.Tensor) or losses.ndim != 1:
            raise DataError(
                "must be a 1-D tensor of per-example losses (use reduction='none')",
                field="losses",
                value=getattr(losses, "shape", type(losses).__name__),
            )
        if correct is None and logits is not None:
            if targets is None:
                raise DataError("logits given without targets", field="targets")
            correct = correctness(logits, targets)
        self.losses = losses.detach()
        self.correct = None if correct is None else correct.detach()
        if self.weights is None:
            return losses.mean()
        return self.weights.weighted_mean(losses, self.step)


class CurriculumHook:
    """Per-step feedback from a training loop to a curriculum sampler.

    Parameters
    ----------
    target
        A :class:`~mentor.torch.sampler.CurriculumSampler`, or on every rank of a
        data-parallel job a :class:`~mentor.torch.distributed.DistributedCurriculum`.
    weights
        Self-paced weights for the loss :meth:`Feedback.report` returns (None:
        the plain mean).
    """

    def __init__(self, target: FeedbackTarget, weights: SelfPacedWeights | None = None) -> None:
        self.target = target
        self.weights = weights
        #: Steps reported so far (the step of the self-paced schedule).
        self.step_ = 0

    @contextlib.contextmanager
    def step(self, indices: Any = None) -> Iterator[Feedback]:
        """Collect one step's results; on a clean exit, feed them back. If the block
        raises, the batch is discarded (no feedback), so that the next step is
        matched with the next batch.

        Parameters
        ----------
        indices
            The batch's example indices; default the oldest batch awaiting feedback.

        Raises
        ------
        MentorError
            If no batch awaits feedback, or the block never called :meth:`Feedback.report`.
        """
        if indices is None:
            indices = self.target.pending()
            if indices is None:
                raise MentorError("curriculum step: no batch awaits feedback; draw one first")
        fb = Feedback(indices, self.step_, self.weights)
        try:
            yield fb
        except BaseException:
            self.target.discard(indices)
            raise
        if fb.losses is None:
            raise MentorError("curriculum step ended without fb.report(per_example_losses, ...)")
        self.target.feedback(fb.indices, losses=fb.losses, correct=fb.correct)
        self.step_ += 1


class CurriculumCallback:
    """The curriculum's feedback at the end of every training batch, Lightning style.

    ``training_step`` returns a mapping with ``"loss"`` (what Lightning
    minimises) and the per-example results: ``"losses"`` (required, a 1-D
    tensor), ``"correct"`` or ``"logits"`` and ``"targets"`` (optional), and
    ``"indices"`` (optional: default the oldest batch awaiting feedback). A
    ``training_step`` that returns None (Lightning's way to skip a batch) gives
    no feedback, and its batch is discarded. The
    sampler's state is saved in Lightning checkpoints through
    :meth:`state_dict`. Use :func:`lightning_callback` to get an instance that
    is also a Lightning ``Callback``.

    Parameters
    ----------
    target
        The sampler (or distributed wrapper) of the training DataLoader.
    """

    def __init__(self, target: FeedbackTarget) -> None:
        self.target = target

    def on_train_batch_end(
        self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        """Feed the batch's per-example results back to the target."""
        if outputs is None or (isinstance(outputs, Mapping) and not outputs):
            # Lightning passes {} (older versions None) for a skipped step
            skipped = self.target.pending()
            if skipped is not None:
                self.target.discard(skipped)
            return
        if not isinstance(outputs, Mapping) or "losses" not in outputs:
            raise MentorError(
                "curriculum callback: training_step must return a mapping with "
                "per-example 'losses' (and optionally 'correct', 'logits'/'targets', 'indices')"
            )
        correct = outputs.get("correct")
        if correct is None and outputs.get("logits") is not None:
            correct = correctness(outputs["logits"], outputs["targets"])
        indices = outputs.get("indices")
        if indices is None:
            indices = self.target.pending()
            if indices is None:
                raise MentorError("curriculum callback: no batch awaits feedback")
        self.target.feedback(indices, losses=outputs["losses"], correct=correct)

    def state_dict(self) -> dict[str, Any]:
        """The target's state (what a Lightning checkpoint stores for this callback)."""
        return self._saved().state_dict()

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore the target's state from a checkpoint."""
        self._saved().load_state_dict(state_dict)

    def _saved(self) -> SavedTarget:
        if not isinstance(self.target, SavedTarget):
            raise MentorError(
                f"curriculum callback: its target ({type(self.target).__name__}) has no "
                "state_dict to save or restore"
            )
        return self.target


def lightning_callback(target: FeedbackTarget) -> CurriculumCallback:
    """A :class:`CurriculumCallback` that is also a Lightning ``Callback``.

    Imports ``lightning.pytorch`` (or else ``pytorch_lightning``) only when called.

    Raises
    ------
    MentorError
        If neither package is installed.
    """
    for module in ("lightning.pytorch", "pytorch_lightning"):
        try:
            base = importlib.import_module(module).Callback
        except ImportError:
            continue
        cls = type("LightningCurriculumCallback", (CurriculumCallback, base), {})
        callback: CurriculumCallback = cls(target)
        return callback
    raise MentorError(
        "lightning_callback needs Lightning: pip install lightning (or pytorch-lightning)"
    )
