"""Shared machinery of the deep knowledge-tracing models.

Devices and seeds, the grouping of a log into one sequence per learner, the
cutting of long sequences into windows, bucketed batches, the training loop
(AdamW, gradient clipping, padding masks, early stopping on held-out learners)
and the safetensors encoding of weights. Everything here works on whole
arrays: there is a Python loop per batch, per window plan or per learner, never
per event.

Windows
-------
A sequence of ``n`` interactions is cut into windows of at most ``max_len``
interactions that start every ``stride`` interactions. Window 0 covers
``[0, min(n, max_len))`` and predicts all of it; window ``k >= 1`` starts at
``k * stride`` and predicts only its last ``stride`` positions, so every
interaction is predicted exactly once, from between ``max_len - stride`` and
``max_len - 1`` earlier interactions (all of them in window 0). Training uses
``stride = max_len`` (disjoint chunks, as pyKT does); scoring a transformer uses
the model's own stride.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import math
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

# ---------------------------------------------------------------- parameters


@contextlib.contextmanager
def seeded(seed: int, device: torch.device) -> Iterator[None]:
    """Seed torch inside the block without touching the caller's random state."""
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


# ---------------------------------------------------------------- sequences


@dataclass(frozen=True)
class Sequences:
    """Events grouped into one sequence per learner, concatenated.

    Attributes
    ----------
    learners
        Learner id of each sequence.
    offsets
        Sequence ``s`` is ``items[offsets[s]:offsets[s + 1]]``.
    items, outcomes
        Item index (int64) and outcome (float32) of each event, in sequence order.
    events
        Position of each event in the log it came from.
    """

    learners: list
    offsets: np.ndarray
    items: np.ndarray
    outcomes: np.ndarray
    events: np.ndarray

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)


def group_by_learner(
    learner: np.ndarray,
    items: np.ndarray,
    outcomes: np.ndarray,
    events: np.ndarray,
    time_: np.ndarray | None = None,
) -> Sequences:
    """Group events by learner; within a learner by ``time_`` (ties and
    ``time_=None`` keep the given order)."""
    ids, code = np.unique(learner, return_inverse=True)
    n = code.size
    if time_ is None:
        order = np.argsort(code, kind="stable")
    else:
        order = np.lexsort((np.arange(n), time_, code))
    counts = np.bincount(code, minlength=ids.size)
    return Sequences(
        learners=ids.tolist(),
        offsets=np.r_[0, np.cumsum(counts)].astype(np.int64),
        items=items[order].astype(np.int64),
        outcomes=outcomes[order].astype(np.float32),
        events=events[order].astype(np.int64),
    )


def concat_histories(
    seqs: Sequences, histories: list[tuple[np.ndarray, np.ndarray] | None]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Prepend to each sequence a stored history ``(items, outcomes)``.

    Returns items, outcomes, offsets of the joined sequences, and the length of
    the prepended history of each.
    """
    parts_i, parts_o, heads = [], [], []
    for s, history in enumerate(histories):
        a, b = int(seqs.offsets[s]), int(seqs.offsets[s + 1])
        if history is not None and history[0].size:
            parts_i += [history[0], seqs.items[a:b]]
            parts_o += [history[1], seqs.outcomes[a:b]]
            heads.append(history[0].size)
        else:
            parts_i.append(seqs.items[a:b])
            parts_o.append(seqs.outcomes[a:b])
            heads.append(0)
    head = np.asarray(heads, dtype=np.int64)
    lengths = seqs.lengths + head
    return (
        np.concatenate(parts_i).astype(np.int64),
        np.concatenate(parts_o).astype(np.float32),
        np.r_[0, np.cumsum(lengths)].astype(np.int64),
        head,
    )


# ---------------------------------------------------------------- windows


@dataclass(frozen=True)
class WindowPlan:
    """Windows over concatenated sequences (see the module docstring).

    ``seq[w]`` is the sequence of window ``w``, ``start[w]``/``stop[w]`` its
    bounds within that sequence, ``first[w]`` the first position it predicts.
    """

    seq: np.ndarray
    start: np.ndarray
    stop: np.ndarray
    first: np.ndarray

    @property
    def lengths(self) -> np.ndarray:
        return self.stop - self.start


def plan_windows(lengths: np.ndarray, max_len: int, stride: int) -> WindowPlan:
    """Cut sequences of the given lengths into windows of ``max_len`` every ``stride``."""
    lengths = np.asarray(lengths, dtype=np.int64)
    over = np.maximum(lengths - max_len, 0)
    count = 1 + (over + stride - 1) // stride
    seq = np.repeat(np.arange(lengths.size), count)
    k = np.arange(seq.size) - np.repeat(np.cumsum(count) - count, count)
    start = k * stride
    stop = np.minimum(start + max_len, lengths[seq])
    first = np.where(k == 0, 0, start + max_len - stride)
    return WindowPlan(seq=seq, start=start, stop=stop, first=first)


def context_start(length: int, max_len: int, stride: int) -> int:
    """Where the context of an interaction at position ``length`` starts."""
    if length < max_len:
        return 0
    return ((length - max_len) // stride + 1) * stride


def window_matrix(
    offsets: np.ndarray, plan: WindowPlan, rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Index into the flat arrays of every position of the chosen windows,
    right-padded to the longest, with its validity mask."""
    rows = np.arange(plan.seq.size) if rows is None else rows
    lengths = plan.lengths[rows]
    cols = np.arange(int(lengths.max()) if lengths.size else 0)
    valid = cols[None, :] < lengths[:, None]
    index = (offsets[plan.seq[rows]] + plan.start[rows])[:, None] + cols[None, :]
    return np.where(valid, index, 0), valid


def token_batches(lengths: np.ndarray, budget: int) -> list[np.ndarray]:
    """Rows grouped, longest first, so that rows x longest row <= ``budget``."""
    order = np.argsort(-np.asarray(lengths), kind="stable")
    batches, begin = [], 0
    while begin < order.size:
        width = max(int(lengths[order[begin]]), 1)
        size = max(budget // width, 1)
        batches.append(order[begin : begin + size])
        begin += size
    return batches


def bucketed_batches(
    lengths: np.ndarray, batch_size: int, rng: np.random.Generator, bucket: int = 32
) -> list[np.ndarray]:
    """Shuffled batches of rows with similar lengths: rows are shuffled, cut into
    pools of ``bucket`` batches, sorted by length within a pool (less padding),
    cut into batches, and the batches shuffled."""
    order = rng.permutation(lengths.size)
    pool = batch_size * bucket
    batches = []
    for begin in range(0, order.size, pool):
        chunk = order[begin : begin + pool]
        chunk = chunk[np.argsort(-lengths[chunk], kind="stable")]
        batches += [chunk[i : i + batch_size] for i in range(0, chunk.size, batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


# ---------------------------------------------------------------- training


@dataclass
class WindowData:
    """Training windows as padded tensors on the training device."""

    items: torch.Tensor  # (windows, width) int64
    outcomes: torch.Tensor  # (windows, width) float32
    lengths: np.ndarray  # (windows,) on the host, for batching

    @classmethod
    def build(
        cls,
        seqs_items: np.ndarray,
        seqs_outcomes: np.ndarray,
        offsets: np.ndarray,
        plan: WindowPlan,
        device: torch.device,
    ) -> WindowData:
        index, valid = window_matrix(offsets, plan)
        items = np.where(valid, seqs_items[index], 0)
        outcomes = np.where(valid, seqs_outcomes[index], 0.0).astype(np.float32)
        return cls(
            items=torch.as_tensor(items, dtype=torch.long, device=device),
            outcomes=torch.as_tensor(outcomes, device=device),
            lengths=plan.lengths.astype(np.int64),
        )

    @property
    def interactions(self) -> int:
        return int(self.lengths.sum())

    def batch(self, rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        # Widths rounded up to a multiple of 16: fewer distinct shapes for the
        # CPU kernels to prepare; the extra positions are masked out.
        width = min(-(-int(self.lengths[rows].max()) // 16) * 16, self.items.shape[1])
        index = torch.as_tensor(rows, device=self.items.device)
        items = self.items[index, :width]
        outcomes = self.outcomes[index, :width]
        lengths = torch.as_tensor(self.lengths[rows], device=self.items.device)
        mask = torch.arange(width, device=self.items.device)[None, :] < lengths[:, None]
        return items, outcomes, mask


def evaluate(net: torch.nn.Module, data: WindowData, budget: int) -> tuple[float, float]:
    """AUC and mean log loss of ``net`` on windows (each position from the
    earlier positions of its window)."""
    from mentor.metrics import auc

    net.eval()
    logits, targets = [], []
    with torch.no_grad():
        for rows in token_batches(data.lengths, budget):
            items, outcomes, mask = data.batch(rows)
            logits.append(net(items, outcomes)[mask].float())
            targets.append(outcomes[mask])
    z = torch.cat(logits)
    y = torch.cat(targets)
    loss = float(F.binary_cross_entropy_with_logits(z, y))
    return auc(y.cpu().numpy(), torch.sigmoid(z).cpu().numpy()), loss


def train_network(
    net: torch.nn.Module,
    train: WindowData,
    valid: WindowData | None,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    weight_decay: float,
    clip_norm: float,
    patience: int,
    lr_decay: float = 1.0,
    rng: np.random.Generator,
    on_epoch: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Minimise the masked binary cross-entropy of ``net(items, outcomes)``.

    AdamW, gradients clipped to norm ``clip_norm``. With ``valid``, training
    stops after ``patience`` epochs without a better validation AUC and the
    weights of the best epoch are restored; after every two epochs without
    improvement the learning rate is multiplied by ``lr_decay``. Returns one
    record per epoch.
    """
    optimiser = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
    device = train.items.device
    history: list[dict[str, Any]] = []
    best_score, best_state, stale = -math.inf, None, 0
    for epoch in range(1, epochs + 1):
        net.train()
        started = time.perf_counter()
        total = torch.zeros((), device=device)
        for rows in bucketed_batches(train.lengths, batch_size, rng):
            items, outcomes, mask = train.batch(rows)
            logits = net(items, outcomes)
            loss = F.binary_cross_entropy_with_logits(logits[mask], outcomes[mask])
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), clip_norm)
            optimiser.step()
            total += loss.detach() * mask.sum()
        record: dict[str, Any] = {
            "epoch": epoch,
            "train_loss": float(total) / max(train.interactions, 1),
            "train_interactions": train.interactions,
            "seconds": time.perf_counter() - started,
        }
        if valid is not None:
            val_auc, val_loss = evaluate(net, valid, batch_size * 200)
            record["val_auc"] = None if math.isnan(val_auc) else val_auc
            record["val_loss"] = val_loss
            score = -val_loss if math.isnan(val_auc) else val_auc
            if score > best_score:
                best_score, stale = score, 0
                best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
            else:
                stale += 1
                if stale % 2 == 0:
                    for group in optimiser.param_groups:
                        group["lr"] *= lr_decay
            record["best"] = stale == 0
            record["lr"] = optimiser.param_groups[0]["lr"]
        history.append(record)
        if on_epoch is not None:
            on_epoch(record)
        if valid is not None and stale >= patience:
            break
    if best_state is not None:
        net.load_state_dict(best_state)
    net.eval()
    return history


# ---------------------------------------------------------------- serialisation


def encode_tensors(tensors: Mapping[str, np.ndarray]) -> str:
    """Arrays as base64 text of the safetensors bytes (JSON-able, never a pickle)."""
    from safetensors.numpy import save

    data = save({name: np.ascontiguousarray(array) for name, array in tensors.items()})
    return base64.b64encode(data).decode("ascii")


def decode_tensors(text: Any) -> dict[str, np.ndarray]:
    """The arrays saved by :func:`encode_tensors`; ``ValueError`` if corrupt."""
    from safetensors.numpy import load

    if not isinstance(text, str):
        raise ValueError("weights must be base64 text of safetensors bytes")
    try:
        return load(base64.b64decode(text.encode("ascii"), validate=True))
    except (binascii.Error, UnicodeEncodeError) as error:
        raise ValueError(f"weights are not base64: {error}") from None
    except Exception as error:  # safetensors raises its own SafetensorError
        raise ValueError(f"weights are not safetensors data: {error}") from None


def network_tensors(net: torch.nn.Module, prefix: str = "net.") -> dict[str, np.ndarray]:
    return {prefix + k: v.detach().cpu().numpy() for k, v in net.state_dict().items()}


def load_network(
    net: torch.nn.Module, tensors: Mapping[str, np.ndarray], prefix: str = "net."
) -> None:
    own = {
        k[len(prefix) :]: torch.from_numpy(v.copy())
        for k, v in tensors.items()
        if k.startswith(prefix)
    }
    expected = net.state_dict()
    if set(own) != set(expected):
        missing = sorted(set(expected) ^ set(own))
        raise ValueError(f"network weights do not match the parameters: {missing[:3]}")
    for name, value in own.items():
        if tuple(value.shape) != tuple(expected[name].shape):
            raise ValueError(
                f"weight {name} has shape {tuple(value.shape)}, "
                f"expected {tuple(expected[name].shape)}"
            )
    net.load_state_dict(own)
