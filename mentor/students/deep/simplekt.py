"""simpleKT: a causal transformer with Rasch-style question embeddings.

Liu, Liu, Chen, Huang, Tang, Luo, Weng, "simpleKT: A Simple But Tough-to-Beat
Baseline for Knowledge Tracing", ICLR 2023 (reference code: pyKT). For the
question ``q`` of an interaction, with concept ``c`` and outcome ``o``::

    x_t = C[c] + mu[q] * D[c]                 question: concept embedding plus a
                                              scalar difficulty times a variation
    y_t = x_t + (1 - o) R[0] + o R[1]          interaction
    h_t = Transformer(queries x_{<=t}, keys x_{<t}, values y_{<t})
    P(o_t = 1 | history) = sigmoid(MLP([h_t, x_t]))

Each transformer block is ordinary scaled dot-product attention (queries and
keys share one projection, as in the paper's code), residual and layer norm,
then a position-wise feed-forward net, residual and layer norm; the values
stay the interaction embeddings in every block. The attention of position t
sees positions < t only (a strictly causal mask; position 0 sees nothing and
its attention output is zero), so the prediction of an interaction never
depends on its own outcome. Sinusoidal position embeddings (position within
the window) are added to queries, keys and values.

Items and skills: an item's concept embedding ``C[c]`` and variation ``D[c]``
are the averages over the item's skills (from the domain; without one every
item is its own skill), and ``mu`` is one scalar per item, initialised to 0.
When items are the skills, as in the kt benchmark files, ``mu[q] * D[q]`` adds
nothing that ``C[q]`` cannot learn; it matters when several items share a skill.
Items of the domain that never appear in fitting still get an embedding (their
skills', with difficulty 0).

Context: a learner's context holds at most ``max_len - 1`` interactions. When
it reaches ``max_len``, the oldest ``stride`` are dropped (default ``max_len //
2``), so every prediction sees between ``max_len - stride`` and ``max_len - 1``
earlier interactions, or all of them for the first ``max_len``.
``stride=1`` is a sliding window over the last ``max_len - 1`` (pyKT's "window"
evaluation) at about ``max_len / 2`` times the cost of :meth:`predict_log` on
very long sequences. :meth:`SimpleKT.update` appends to the context (O(1));
:meth:`SimpleKT.predict` runs the context once and attends to it from every
candidate item.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from mentor._checks import check_count
from mentor.domain import Domain
from mentor.errors import ParameterError
from mentor.events import EventLog
from mentor.students.deep._base import DeepKTModel
from mentor.students.deep._training import (
    Sequences,
    concat_histories,
    context_start,
    plan_windows,
    token_batches,
    window_matrix,
)

#: Window positions per scoring batch in predict_log.
SCORE_BUDGET = 1 << 14


def sinusoid(length: int, dim: int) -> torch.Tensor:
    """Sinusoidal position embeddings (Vaswani et al. 2017), ``(length, dim)``."""
    position = torch.arange(length, dtype=torch.float32)[:, None]
    rate = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    table = torch.zeros(length, dim)
    table[:, 0::2] = torch.sin(position * rate)
    table[:, 1::2] = torch.cos(position * rate)[:, : dim // 2]
    return table


class Block(nn.Module):
    """Masked dot-product attention (shared query/key projection), then a
    feed-forward net, each with a residual connection and layer norm."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.dropout = dropout
        self.key = nn.Linear(d_model, d_model)
        self.value = nn.Linear(d_model, d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.drop1 = nn.Dropout(dropout)
        self.norm1 = nn.LayerNorm(d_model)
        self.ffn = nn.Sequential(
            nn.Linear(d_model, d_ff), nn.ReLU(), nn.Dropout(dropout), nn.Linear(d_ff, d_model)
        )
        self.drop2 = nn.Dropout(dropout)
        self.norm2 = nn.LayerNorm(d_model)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        """(..., T, d) -> (..., heads, T, d / heads)."""
        *lead, length, dim = x.shape
        return x.reshape(*lead, length, self.n_heads, dim // self.n_heads).transpose(-3, -2)

    def _finish(self, x: torch.Tensor, heads: torch.Tensor) -> torch.Tensor:
        *lead, n_heads, length, dk = heads.shape
        attended = heads.transpose(-3, -2).reshape(*lead, length, n_heads * dk)
        x = self.norm1(x + self.drop1(self.proj(attended)))
        return self.norm2(x + self.drop2(self.ffn(x)))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Every position of ``x`` (B, T, d) attends to the earlier positions:
        keys from ``x``, values from ``y``."""
        length = x.shape[1]
        q = self._heads(self.key(x))
        v = self._heads(self.value(y))
        # Position t attends to positions < t. Position 0 has none: it is let
        # attend to itself (so that no softmax row is empty) and its output is
        # then zeroed, which also stops any gradient through it.
        allowed = torch.ones(length, length, dtype=torch.bool, device=x.device).tril(-1)
        allowed[0, 0] = True
        attended = nn.functional.scaled_dot_product_attention(
            q, q, v, attn_mask=allowed, dropout_p=self.dropout if self.training else 0.0
        )
        first = torch.arange(length, device=x.device)[:, None] > 0
        return self._finish(x, attended * first)

    def attend(self, x: torch.Tensor, keys: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        """Queries ``x`` (m, d) attend to every one of ``keys``/``values`` (k, d)."""
        q = self._heads(self.key(x)[:, None, :])  # (m, heads, 1, dk)
        if keys.shape[0] == 0:
            return self._finish(x[:, None, :], torch.zeros_like(q))[:, 0]
        k = self._heads(self.key(keys))  # (heads, k, dk)
        v = self._heads(self.value(values))
        scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])  # (m, heads, 1, k)
        return self._finish(x[:, None, :], torch.softmax(scores, dim=-1) @ v)[:, 0]


class SimpleKTNetwork(nn.Module):
    """Rasch embeddings -> causal transformer -> MLP on [state, question]."""

    def __init__(
        self,
        item_skills: np.ndarray,
        item_weights: np.ndarray,
        n_skills: int,
        d_model: int,
        n_heads: int,
        n_blocks: int,
        d_ff: int,
        head_size: int,
        dropout: float,
        max_len: int,
    ) -> None:
        super().__init__()
        n_items = item_skills.shape[0]
        self.register_buffer("item_skills", torch.as_tensor(item_skills), persistent=False)
        self.register_buffer(
            "item_weights", torch.as_tensor(item_weights)[..., None], persistent=False
        )
        self.register_buffer("position", sinusoid(max_len, d_model), persistent=False)
        self.concept = nn.Embedding(n_skills, d_model)
        self.variation = nn.Embedding(n_skills, d_model)
        self.difficulty = nn.Embedding(n_items, 1)
        nn.init.zeros_(self.difficulty.weight)
        self.response = nn.Embedding(2, d_model)
        self.blocks = nn.ModuleList(Block(d_model, n_heads, d_ff, dropout) for _ in range(n_blocks))
        self.head = nn.Sequential(
            nn.Linear(2 * d_model, head_size),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(head_size, head_size),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(head_size, 1),
        )

    def question(self, items: torch.Tensor) -> torch.Tensor:
        """x = mean of the skills' C + mu[item] * mean of the skills' D."""
        skills = self.item_skills[items]
        weights = self.item_weights[items]
        concept = (self.concept(skills) * weights).sum(-2)
        variation = (self.variation(skills) * weights).sum(-2)
        return concept + self.difficulty(items) * variation

    def interaction(self, x: torch.Tensor, outcomes: torch.Tensor) -> torch.Tensor:
        o = outcomes.unsqueeze(-1)
        return x + (1.0 - o) * self.response.weight[0] + o * self.response.weight[1]

    def forward(self, items: torch.Tensor, outcomes: torch.Tensor) -> torch.Tensor:
        """Logits of every position of windows (B, T) from their earlier positions."""
        x = self.question(items)
        position = self.position[: items.shape[1]]
        h = x + position
        y = self.interaction(x, outcomes) + position
        for block in self.blocks:
            h = block(h, y)
        return self.head(torch.cat([h, x], dim=-1)).squeeze(-1)

    def query(
        self, items: torch.Tensor, outcomes: torch.Tensor, candidates: torch.Tensor
    ) -> torch.Tensor:
        """Logits of each candidate item as the next interaction after the
        context ``items``/``outcomes`` (k,): the context is run once, then every
        candidate attends to it."""
        k = items.shape[0]
        x = self.question(items)
        h = x + self.position[:k]
        y = self.interaction(x, outcomes) + self.position[:k]
        xq = self.question(candidates)
        hq = xq + self.position[k]
        for i, block in enumerate(self.blocks):
            hq = block.attend(hq, h, y)
            if k and i + 1 < len(self.blocks):
                h = block(h[None], y[None])[0]
        return self.head(torch.cat([hq, xq], dim=-1)).squeeze(-1)


class SimpleKT(DeepKTModel):
    """simpleKT (Liu et al., ICLR 2023).

    Parameters
    ----------
    domain
        Gives each item's skills; an item with several skills gets the average
        of their embeddings. Without it every item is its own skill.
    d_model
        Embedding and attention size. Default 64 (the paper's search space: 64, 256;
        on assist2009_updated 256 scored no better at four times the cost).
    n_heads
        Attention heads; must divide ``d_model``. Default 4.
    n_blocks
        Transformer blocks. Default 2.
    d_ff
        Hidden size of each block's feed-forward net. Default 64.
    head_size
        Width of the two hidden layers of the output MLP. Default 64.
    stride
        Interactions dropped from a full context (see the module docstring);
        default ``max_len // 2``.
    **common
        ``max_len`` (default 200), ``batch_size`` (32), ``epochs`` (100), ``lr``
        (3e-3), ``weight_decay`` (1e-5), ``dropout`` (0.1), ``clip_norm`` (1.0),
        ``validation`` (0.2), ``patience`` (6), ``lr_decay`` (0.5), ``device``
        ("auto"), ``seed`` (0):
        see :class:`~mentor.students.deep._base.DeepKTModel`.
    """

    name = "simplekt"

    @classmethod
    def _unit_test_params(cls) -> dict[str, Any]:
        sizes = {"d_model": 16, "n_heads": 2, "d_ff": 32, "head_size": 32}
        return {**super()._unit_test_params(), **sizes}

    def __init__(
        self,
        domain: Domain | None = None,
        d_model: int = 64,
        n_heads: int = 4,
        n_blocks: int = 2,
        d_ff: int = 64,
        head_size: int = 64,
        stride: int | None = None,
        **common: Any,
    ) -> None:
        super().__init__(domain, **{"batch_size": 32, "lr": 3e-3, **common})
        self.d_model = check_count("d_model", d_model, 1)
        self.n_heads = check_count("n_heads", n_heads, 1)
        if self.d_model % self.n_heads:
            raise ParameterError(
                f"must divide d_model ({self.d_model})", field="n_heads", value=self.n_heads
            )
        self.n_blocks = check_count("n_blocks", n_blocks, 1)
        self.d_ff = check_count("d_ff", d_ff, 1)
        self.head_size = check_count("head_size", head_size, 1)
        self.stride = None if stride is None else check_count("stride", stride, 1)
        if self.stride is not None and self.stride > self.max_len:
            raise ParameterError(
                f"must be at most max_len ({self.max_len})", field="stride", value=self.stride
            )
        self.skills_: list[Any] = []
        self._item_skills: list[list[int]] = []
        self._contexts: dict[Any, tuple[np.ndarray, np.ndarray]] = {}

    @property
    def _stride(self) -> int:
        return self.stride or max(self.max_len // 2, 1)

    def _model_params(self) -> dict[str, Any]:
        return {
            "d_model": self.d_model,
            "n_heads": self.n_heads,
            "n_blocks": self.n_blocks,
            "d_ff": self.d_ff,
            "head_size": self.head_size,
            "stride": self.stride,
        }

    # ------------------------------------------------------------- vocabulary
    def _vocabulary(self, log: EventLog) -> list[Any]:
        items = np.unique(log.item).tolist()
        if self.domain is not None:
            seen = set(items)
            items += [i for i in self.domain.items if i not in seen]
        skill_index: dict[Any, int] = {}
        self._item_skills = []
        for item in items:
            self._item_skills.append(
                [skill_index.setdefault(s, len(skill_index)) for s in self.skills_of(item)]
            )
        self.skills_ = list(skill_index)
        return items

    def _skill_table(self) -> tuple[np.ndarray, np.ndarray]:
        """Each item's skills, padded to the widest item, and their weights (1 / the
        item's number of skills; 0 on padding): the rows the embeddings average over."""
        n_items = max(len(self._item_skills), 1)
        width = max((len(s) for s in self._item_skills), default=1)
        skills = np.zeros((n_items, width), dtype=np.int64)
        weights = np.zeros((n_items, width), dtype=np.float32)
        for i, row in enumerate(self._item_skills):
            skills[i, : len(row)] = row
            weights[i, : len(row)] = 1.0 / len(row)
        return skills, weights

    def _build_network(self) -> SimpleKTNetwork:
        skills, weights = self._skill_table()
        return SimpleKTNetwork(
            skills,
            weights,
            n_skills=max(len(self.skills_), 1),
            d_model=self.d_model,
            n_heads=self.n_heads,
            n_blocks=self.n_blocks,
            d_ff=self.d_ff,
            head_size=self.head_size,
            dropout=self.dropout,
            max_len=self.max_len,
        )

    # ------------------------------------------------------------- learner contexts
    def _reset_learners(self) -> None:
        self._contexts = {}

    def _advance(self, seqs: Sequences) -> None:
        for s, learner in enumerate(seqs.learners):
            a, b = int(seqs.offsets[s]), int(seqs.offsets[s + 1])
            items, outcomes = seqs.items[a:b], seqs.outcomes[a:b]
            old = self._contexts.get(learner)
            if old is not None:
                items = np.concatenate([old[0], items])
                outcomes = np.concatenate([old[1], outcomes])
            start = context_start(items.size, self.max_len, self._stride)
            self._contexts[learner] = (items[start:].copy(), outcomes[start:].copy())

    def _score(self, seqs: Sequences) -> np.ndarray:
        histories = [self._contexts.get(learner) for learner in seqs.learners]
        items, outcomes, offsets, head = concat_histories(seqs, histories)
        plan = plan_windows(np.diff(offsets), self.max_len, self._stride)
        predictions = np.empty(items.size, dtype=np.float64)
        device = self.torch_device
        with torch.no_grad():
            for rows in token_batches(plan.lengths, SCORE_BUDGET):
                index, valid = window_matrix(offsets, plan, rows)
                cols = np.arange(index.shape[1])
                wanted = valid & (cols[None, :] >= (plan.first - plan.start)[rows][:, None])
                logits = self.network_(
                    torch.as_tensor(np.where(valid, items[index], 0), device=device),
                    torch.as_tensor(np.where(valid, outcomes[index], 0.0), device=device),
                )
                mask = torch.as_tensor(wanted, device=device)
                predictions[index[wanted]] = torch.sigmoid(logits[mask]).double().cpu().numpy()
        lengths = seqs.lengths
        within = np.arange(seqs.items.size) - np.repeat(seqs.offsets[:-1], lengths)
        return predictions[np.repeat(offsets[:-1] + head, lengths) + within]

    def _predict_next(self, learner: Any, items: np.ndarray) -> np.ndarray:
        device = self.torch_device
        context = self._contexts.get(learner)
        if context is None:
            context = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
        with torch.no_grad():
            logits = self.network_.query(
                torch.as_tensor(context[0], device=device),
                torch.as_tensor(context[1], device=device),
                torch.as_tensor(items, device=device),
            )
            return torch.sigmoid(logits).double().cpu().numpy()

    def context(self, learner: Any) -> tuple[list[Any], list[float]]:
        """The interactions the next prediction for ``learner`` attends to."""
        items, outcomes = self._contexts.get(learner, (np.zeros(0, np.int64), np.zeros(0)))
        return [self.items_[i] for i in items.tolist()], outcomes.astype(float).tolist()

    # ------------------------------------------------------------- state
    def _get_extra_state(self) -> dict[str, Any]:
        return {"skills": list(self.skills_), "item_skills": [list(s) for s in self._item_skills]}

    def _set_extra_state(self, state: Mapping[str, Any]) -> None:
        self.skills_ = list(state["skills"])
        rows = [[int(s) for s in row] for row in state["item_skills"]]
        if len(rows) != len(state["items"]):
            raise ValueError("item_skills must have one row per item")
        if any(not row or min(row) < 0 or max(row) >= len(self.skills_) for row in rows):
            raise ValueError("item_skills names a skill index out of range")
        self._item_skills = rows

    def _get_learner_state(self) -> tuple[list[Any], dict[str, np.ndarray]]:
        learners = list(self._contexts)
        contexts = [self._contexts[k] for k in learners]
        lengths = np.array([c[0].size for c in contexts], dtype=np.int64)
        return learners, {
            "offsets": np.r_[0, np.cumsum(lengths)].astype(np.int64),
            "items": np.concatenate([c[0] for c in contexts] or [np.zeros(0, np.int64)]),
            "outcomes": np.concatenate(
                [c[1] for c in contexts] or [np.zeros(0, np.float32)]
            ).astype(np.float32),
        }

    def _set_learner_state(self, learners: list[Any], tensors: Mapping[str, np.ndarray]) -> None:
        offsets = tensors["offsets"].astype(np.int64)
        items = tensors["items"].astype(np.int64)
        outcomes = tensors["outcomes"].astype(np.float32)
        if offsets.shape != (len(learners) + 1,) or offsets[0] != 0 or offsets[-1] != items.size:
            raise ValueError("learner context offsets do not match")
        if np.any(np.diff(offsets) < 0) or np.any(np.diff(offsets) >= self.max_len):
            raise ValueError("learner contexts must be shorter than max_len")
        if items.size and (items.min() < 0 or items.max() >= len(self.items_)):
            raise ValueError("learner context names an unknown item")
        self._contexts = {
            k: (items[offsets[i] : offsets[i + 1]], outcomes[offsets[i] : offsets[i + 1]])
            for i, k in enumerate(learners)
        }
