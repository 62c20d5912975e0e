"""Training of :class:`mentor.students.memory.MemoryRNN` in PyTorch.

The network is the one of :mod:`mentor.students.memory.rnn` (a GRU cell per
card, a mixture of power forgetting curves read from its state), written here
again in torch, in float64, with the same equations, so that the weights it
returns give, in the NumPy code that predicts, the recall it was trained on
(``tests/test_memory_rnn.py`` checks the two agree). Only :func:`train_memory_rnn`
is meant to be called; the model imports this module inside ``fit``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch

from mentor.students.memory.rnn import EDGE, LOG_STABILITY_BOUND, WEIGHTS, review_inputs

DTYPE = torch.float64


def _gru_step(w: Mapping[str, torch.Tensor], x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    n = h.shape[-1]
    gx = x @ w["w_x"].T + w["b_x"]
    gh = h @ w["w_h"].T + w["b_h"]
    r = torch.sigmoid(gx[:, :n] + gh[:, :n])
    z = torch.sigmoid(gx[:, n : 2 * n] + gh[:, n : 2 * n])
    candidate = torch.tanh(gx[:, 2 * n :] + r * gh[:, 2 * n :])
    return (1.0 - z) * candidate + z * h


def _curve(w: Mapping[str, torch.Tensor], h: torch.Tensor, days: torch.Tensor) -> torch.Tensor:
    k = w["decay"].shape[0]
    a = h @ w["w_out"].T + w["b_out"]
    ceiling = torch.sigmoid(a[:, 0])
    mix = torch.softmax(a[:, 1 : 1 + k], dim=-1)
    stability = torch.exp(a[:, 1 + k :].clamp(-LOG_STABILITY_BOUND, LOG_STABILITY_BOUND))
    decay = torch.nn.functional.softplus(w["decay"])
    t = days.clamp(min=0.0).unsqueeze(-1)
    recall = ceiling * (mix * (1.0 + t / stability) ** -decay).sum(-1)
    return recall.clamp(EDGE, 1.0 - EDGE)


def forward(
    w: Mapping[str, torch.Tensor], inputs: torch.Tensor, days: torch.Tensor, first: torch.Tensor
) -> torch.Tensor:
    """Recall predicted before every review of a batch of cards (cards, reviews): the
    curve of the state after the previous review, at the review's elapsed time."""
    cards, steps, _ = inputs.shape
    h = torch.zeros(cards, w["w_h"].shape[1], dtype=DTYPE)
    predictions = []
    for k in range(steps):
        p = _curve(w, h, days[:, k])
        predictions.append(p)
        before = torch.where(first[:, k], torch.zeros_like(p), p)
        h = _gru_step(w, torch.cat([inputs[:, k, :-1], before.unsqueeze(1)], dim=1), h)
    return torch.stack(predictions, dim=1)


def predict_sequences(
    weights: Mapping[str, np.ndarray], sequences: Mapping[str, np.ndarray]
) -> np.ndarray:
    """Recall before every review of :func:`~mentor.students.memory.rnn.card_sequences`
    output, by the torch network (for tests: the NumPy model must give the same)."""
    w = {name: torch.as_tensor(np.asarray(weights[name]), dtype=DTYPE) for name in WEIGHTS}
    inputs, days, first = _tensors(sequences)
    with torch.no_grad():
        return forward(w, inputs, days, first).numpy()


def _tensors(
    sequences: Mapping[str, np.ndarray],
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    days, count = sequences["days"], sequences["count"]
    shape = days.shape
    extra = sequences.get("extra")
    flat = review_inputs(
        days.ravel(),
        count.ravel(),
        sequences["rating"].ravel(),
        np.zeros(days.size),
        None if extra is None else extra.reshape(days.size, -1),
    )
    inputs = torch.as_tensor(flat.reshape(*shape, flat.shape[1]), dtype=DTYPE)
    return inputs, torch.as_tensor(days, dtype=DTYPE), torch.as_tensor(count == 0)


def train_memory_rnn(
    sequences: Mapping[str, np.ndarray],
    start: Mapping[str, np.ndarray],
    *,
    lr: float,
    weight_decay: float,
    batch_size: int,
    max_epochs: int,
    patience: int,
    holdout: float,
    seed: int,
    on_epoch: Callable[[dict[str, Any]], None] | None = None,
) -> tuple[dict[str, np.ndarray], int, list[float]]:
    """Fit the weights (see :mod:`mentor.students.memory.rnn`): choose the number of
    epochs on the latest ``holdout`` of the reviews, then train afresh on all of them.

    Returns the weights, the epochs of the final training and the validation losses of
    the choosing run.
    """
    valid = sequences["valid"]
    scored = valid & (sequences["count"] > 0)
    time = sequences["time"]
    inputs, days, first = _tensors(sequences)
    outcome = torch.as_tensor(sequences["outcome"], dtype=DTYPE)
    length = sequences["length"]
    epoch_counter = [0]

    def report(record: dict[str, Any]) -> None:
        epoch_counter[0] += 1
        if on_epoch is not None:
            on_epoch({"epoch": epoch_counter[0], **record})

    # batches: cards by length (ties in a seeded random order), each cut to its longest
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.permutation(len(length)), length))
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]

    def run(
        mask: np.ndarray, epochs: int, val: np.ndarray | None, phase: str
    ) -> tuple[dict[str, np.ndarray], list[float], int]:
        w = {
            name: torch.tensor(np.asarray(start[name]), dtype=DTYPE, requires_grad=True)
            for name in WEIGHTS
        }
        optimizer = torch.optim.Adam(list(w.values()), lr=lr, weight_decay=weight_decay)
        target = torch.as_tensor(mask)
        batch_rng = np.random.default_rng(seed + 1)
        losses: list[float] = []
        best, best_epoch, best_weights = np.inf, epochs, None
        for epoch in range(1, epochs + 1):
            total, count = 0.0, 0
            for b in batch_rng.permutation(len(batches)).tolist():
                cards = torch.as_tensor(batches[b])
                steps = int(length[batches[b]].max())
                m = target[cards, :steps]
                if not bool(m.any()):
                    continue
                p = forward(w, inputs[cards, :steps], days[cards, :steps], first[cards, :steps])
                y = outcome[cards, :steps]
                loss_all = -(y * torch.log(p) + (1.0 - y) * torch.log1p(-p))
                loss = loss_all[m].mean()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += float(loss.detach()) * int(m.sum())
                count += int(m.sum())
            record: dict[str, Any] = {"phase": phase, "loss": total / max(count, 1)}
            if val is not None:
                val_loss = _mean_loss(w, inputs, days, first, outcome, val, batches, length)
                losses.append(val_loss)
                record["val_loss"] = val_loss
                if val_loss < best - 1e-9:
                    best, best_epoch = val_loss, epoch
                    best_weights = {n: t.detach().numpy().copy() for n, t in w.items()}
            report(record)
            if val is not None and epoch - best_epoch >= patience:
                break
        final = {n: t.detach().numpy().copy() for n, t in w.items()}
        return (best_weights if best_weights is not None else final), losses, best_epoch

    if not scored.any():
        report({"phase": "final", "loss": float("nan")})
        return {n: np.asarray(start[n], dtype=np.float64).copy() for n in WEIGHTS}, 0, []
    epochs, validation = max_epochs, []
    if holdout > 0:
        times = np.sort(time[scored])
        cut = times[min(len(times) - 1, int(round(len(times) * (1.0 - holdout))))]
        train, val = scored & (time < cut), scored & (time >= cut)
        if train.any() and val.any():
            _, validation, epochs = run(train, max_epochs, val, "choose")
    weights, _, _ = run(scored, epochs, None, "final")
    return weights, epochs, validation


def _mean_loss(
    w: Mapping[str, torch.Tensor],
    inputs: torch.Tensor,
    days: torch.Tensor,
    first: torch.Tensor,
    outcome: torch.Tensor,
    mask: np.ndarray,
    batches: list[np.ndarray],
    length: np.ndarray,
) -> float:
    total, count = 0.0, 0
    target = torch.as_tensor(mask)
    with torch.no_grad():
        for batch in batches:
            cards = torch.as_tensor(batch)
            steps = int(length[batch].max())
            m = target[cards, :steps]
            if not bool(m.any()):
                continue
            p = forward(w, inputs[cards, :steps], days[cards, :steps], first[cards, :steps])
            y = outcome[cards, :steps]
            loss = -(y * torch.log(p) + (1.0 - y) * torch.log1p(-p))
            total += float(loss[m].sum())
            count += int(m.sum())
    return total / max(count, 1)
