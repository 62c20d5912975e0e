"""Deep Knowledge Tracing.

Piech, Bassen, Huang, Ganguli, Sahami, Guibas and Sohl-Dickstein, "Deep
Knowledge Tracing", NeurIPS 2015. A recurrent network reads a learner's
interactions one at a time and, after each, predicts the success on every item::

    x_t = (1 - o_t) E[2 i_t] + o_t E[2 i_t + 1]        interaction embedding
    h_t = LSTM(x_t, h_{t-1})    (or a GRU)
    P(o_t = 1 | history) = sigmoid(w_{i_t} . dropout(h_{t-1}) + b_{i_t})

with ``h_{-1} = 0``: the first attempt is predicted from the per-item bias. The
embedding of the (item, outcome) pair stands in for the paper's one-hot input,
as pyKT does; a fractional outcome interpolates between the two embeddings.
Items are what the log calls items (with the kt benchmark files, the skills);
the domain, when given, is used only to report mastery per skill.

Training cuts sequences into windows of ``max_len`` (each starting from a zero
state, as in pyKT); prediction never cuts: each learner's recurrent state is
carried over their whole history, so every event is predicted from all the
learner's earlier events, and :meth:`DKT.update` is one recurrent step per event.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from mentor._checks import check_choice, check_count
from mentor.domain import Domain
from mentor.events import EventLog
from mentor.students.deep._base import DeepKTModel
from mentor.students.deep._training import (
    Sequences,
    plan_windows,
    token_batches,
    window_matrix,
)

#: Padded interactions per scoring batch (bounds memory in predict_log and fit).
SCORE_BUDGET = 1 << 16


class DKTNetwork(nn.Module):
    """Interaction embedding -> LSTM or GRU -> one logistic output per item."""

    def __init__(
        self,
        n_items: int,
        embed_dim: int,
        hidden_size: int,
        n_layers: int,
        cell: str,
        dropout: float,
    ) -> None:
        super().__init__()
        self.embed = nn.Embedding(2 * n_items, embed_dim)
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        self.rnn = rnn(
            embed_dim,
            hidden_size,
            num_layers=n_layers,
            batch_first=True,
            dropout=dropout if n_layers > 1 else 0.0,
        )
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden_size, n_items)
        self.lstm = cell == "lstm"

    def inputs(self, items: torch.Tensor, outcomes: torch.Tensor) -> torch.Tensor:
        o = outcomes.unsqueeze(-1)
        return self.embed(2 * items) * (1.0 - o) + self.embed(2 * items + 1) * o

    def readout(self, hidden: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Logit of success at ``items`` given the top-layer state before the attempt."""
        weight = nn.functional.embedding(items, self.out.weight)
        return (self.drop(hidden) * weight).sum(-1) + self.out.bias[items]

    def forward(self, items: torch.Tensor, outcomes: torch.Tensor) -> torch.Tensor:
        """Logits of every position from the earlier positions (zero initial state)."""
        output, _ = self.rnn(self.inputs(items, outcomes))
        before = torch.cat([output.new_zeros(output[:, :1].shape), output[:, :-1]], dim=1)
        return self.readout(before, items)


class DKT(DeepKTModel):
    """Deep Knowledge Tracing (Piech et al. 2015) with an LSTM or a GRU.

    Parameters
    ----------
    domain
        Optional; used only to report mastery per skill.
    cell
        ``"lstm"`` (default, as in the paper) or ``"gru"``.
    hidden_size
        Recurrent state size. Default 200 (pyKT's default).
    embed_dim
        Size of the (item, outcome) embedding; default: ``hidden_size``.
    n_layers
        Stacked recurrent layers. Default 1.
    **common
        ``max_len`` (default 200), ``batch_size`` (64), ``epochs`` (100), ``lr``
        (1e-3), ``weight_decay`` (1e-5), ``dropout`` (0.1), ``clip_norm`` (1.0),
        ``validation`` (0.2), ``patience`` (6), ``lr_decay`` (0.5), ``device``
        ("auto"), ``seed`` (0):
        see :class:`~mentor.students.deep._base.DeepKTModel`.

    Examples
    --------
    >>> model = DKT(hidden_size=100, epochs=20).fit(train_log)  # doctest: +SKIP
    >>> model.predict_log(test_log)  # doctest: +SKIP
    """

    name = "dkt"

    @classmethod
    def _unit_test_params(cls) -> dict[str, Any]:
        return {**super()._unit_test_params(), "hidden_size": 16}

    def __init__(
        self,
        domain: Domain | None = None,
        cell: str = "lstm",
        hidden_size: int = 200,
        embed_dim: int | None = None,
        n_layers: int = 1,
        **common: Any,
    ) -> None:
        super().__init__(domain, **common)
        self.cell = check_choice("cell", cell, ("lstm", "gru"))
        self.hidden_size = check_count("hidden_size", hidden_size, 1)
        self.embed_dim = None if embed_dim is None else check_count("embed_dim", embed_dim, 1)
        self.n_layers = check_count("n_layers", n_layers, 1)
        self._states: dict[Any, np.ndarray] = {}

    def _model_params(self) -> dict[str, Any]:
        return {
            "cell": self.cell,
            "hidden_size": self.hidden_size,
            "embed_dim": self.embed_dim,
            "n_layers": self.n_layers,
        }

    @property
    def _state_shape(self) -> tuple[int, int, int]:
        """(h and c, or h alone; layers; hidden size) of one learner's state."""
        return (2 if self.cell == "lstm" else 1, self.n_layers, self.hidden_size)

    def _build_network(self) -> DKTNetwork:
        return DKTNetwork(
            n_items=max(len(self.items_), 1),
            embed_dim=self.embed_dim or self.hidden_size,
            hidden_size=self.hidden_size,
            n_layers=self.n_layers,
            cell=self.cell,
            dropout=self.dropout,
        )

    def _vocabulary(self, log: EventLog) -> list[Any]:
        return np.unique(log.item).tolist()

    # ------------------------------------------------------------- learner states
    def _reset_learners(self) -> None:
        self._states = {}

    def _run(self, seqs: Sequences) -> tuple[np.ndarray, np.ndarray]:
        """Run every sequence from its learner's state: the prediction of each
        event and the final state of each sequence."""
        net = self.network_
        device = self.torch_device
        lengths = seqs.lengths
        init = np.zeros((len(seqs.learners), *self._state_shape), dtype=np.float32)
        for s, learner in enumerate(seqs.learners):
            state = self._states.get(learner)
            if state is not None:
                init[s] = state
        final = np.empty_like(init)
        predictions = np.empty(seqs.items.size, dtype=np.float64)
        plan = plan_windows(lengths, int(lengths.max()), 1)  # one window per sequence
        with torch.no_grad():
            for rows in token_batches(lengths, SCORE_BUDGET):  # longest first
                index, valid = window_matrix(seqs.offsets, plan, rows)
                items = torch.as_tensor(np.where(valid, seqs.items[index], 0), device=device)
                outcomes = torch.as_tensor(
                    np.where(valid, seqs.outcomes[index], 0.0).astype(np.float32), device=device
                )
                start = torch.as_tensor(init[rows], device=device).permute(1, 2, 0, 3)
                hx = (start[0].contiguous(), start[1].contiguous()) if net.lstm else start[0]
                packed = pack_padded_sequence(
                    net.inputs(items, outcomes),
                    torch.as_tensor(lengths[rows]),
                    batch_first=True,
                    enforce_sorted=True,
                )
                output, last = net.rnn(packed, hx)
                output, _ = pad_packed_sequence(
                    output, batch_first=True, total_length=items.shape[1]
                )
                before = torch.cat([start[0, -1].unsqueeze(1), output[:, :-1]], dim=1)
                probs = torch.sigmoid(net.readout(before, items))
                predictions[index[valid]] = (
                    probs[torch.as_tensor(valid, device=device)].double().cpu().numpy()
                )
                last = torch.stack(last) if net.lstm else last.unsqueeze(0)
                final[rows] = last.permute(2, 0, 1, 3).cpu().numpy()
        return predictions, final

    def _advance(self, seqs: Sequences) -> None:
        _, final = self._run(seqs)
        for learner, state in zip(seqs.learners, final, strict=True):
            self._states[learner] = state

    def _score(self, seqs: Sequences) -> np.ndarray:
        return self._run(seqs)[0]

    def _predict_next(self, learner: Any, items: np.ndarray) -> np.ndarray:
        state = self._states.get(learner)
        device = self.torch_device
        with torch.no_grad():
            if state is None:
                hidden = torch.zeros(self.hidden_size, device=device)
            else:
                hidden = torch.as_tensor(state[0, -1], device=device)
            index = torch.as_tensor(items, device=device)
            logits = self.network_.readout(hidden.expand(index.numel(), -1), index)
            return torch.sigmoid(logits).cpu().numpy().astype(np.float64)

    def _get_learner_state(self) -> tuple[list[Any], dict[str, np.ndarray]]:
        learners = list(self._states)
        if not learners:
            return [], {"state": np.zeros((0, *self._state_shape), dtype=np.float32)}
        return learners, {"state": np.stack([self._states[k] for k in learners])}

    def _set_learner_state(self, learners: list[Any], tensors: Mapping[str, np.ndarray]) -> None:
        states = tensors["state"]
        if states.shape != (len(learners), *self._state_shape):
            raise ValueError(
                f"learner states have shape {states.shape}, "
                f"expected {(len(learners), *self._state_shape)}"
            )
        self._states = {k: states[i].astype(np.float32) for i, k in enumerate(learners)}
