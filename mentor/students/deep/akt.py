"""AKT: context-aware attentive knowledge tracing.

Ghosh, Heffernan and Lan, "Context-Aware Attentive Knowledge Tracing", KDD 2020.
For the question ``q`` of an interaction, with concept ``c`` and outcome ``o``:

    x_t = C[c] + mu[q] D[c]                          Rasch question embedding
    y_t = x_t + R[o] + mu[q] F[o]                    Rasch interaction embedding
    xh  = question encoder(x)        self-attention, position t sees x_{<=t}
    yh  = knowledge encoder(y)       self-attention, position t sees y_{<=t}
    h_t = knowledge retriever        queries xh_t, keys xh_{<t}, values yh_{<t}
    P(o_t = 1 | history) = sigmoid(MLP([h_t, x_t]))

Every attention is the paper's monotonic attention: the scaled dot product
``s(t, tau)`` of query ``t`` and key ``tau`` is multiplied by
``exp(-theta d(t, tau))`` before the softmax, with one ``theta > 0`` per head
(a softplus of a free parameter), and the context-aware distance

    d(t, tau) = |t - tau| * sum_{tau < t' <= t} gamma(t, t')

where ``gamma(t, .)`` is the softmax of the undecayed scores over the
positions that ``t`` may see, computed without gradient. The decay shrinks as
``tau`` moves into the past, so older interactions weigh less unless their
scores are much higher. The retriever's position 0 sees nothing and outputs
zeros, so a prediction never depends on its own outcome or on any later one.
There is no position embedding: the decay is AKT's only notion of order.

Where this follows pyKT (Liu et al., NeurIPS 2022) and the authors' code rather
than the paper's text: the distance is the square root of the product above
(both codes take it); queries and keys share one projection; the
interaction embeddings factorise as pyKT's do, ``e(c, o) = C[c] + R[o]`` and
``f(c, o) = D[c] + F[o]`` (the paper has a free vector per concept and
outcome); the question encoder has no feed-forward net and the knowledge
retriever has one, each block with residual connections and layer norm; the
output MLP has two hidden layers. The Rasch terms are used only when items
are not their own skills (pyKT likewise drops them for concept-only data),
and the paper's L2 penalty on ``mu`` is left to the optimiser's weight decay.
Defaults differ from pyKT's (d_model 256, d_ff 256, 8 heads, dropout 0.05,
learning rate 1e-5 for up to 200 epochs): a smaller model (d_model 64) and a
learning rate of 1e-3 with early stopping train to a comparable validation
AUC in a few dozen epochs on a CPU.

Items and skills, contexts, windows and :meth:`AKT.predict`: as
:class:`~mentor.students.deep.SimpleKT` (a context of at most ``max_len - 1``
interactions, dropped ``stride`` at a time).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn

from mentor.domain import Domain
from mentor.students.deep.simplekt import SimpleKT

#: Candidate items per batch in AKTNetwork.query.
QUERY_CHUNK = 256


def allowed_mask(length: int, strict: bool, device: torch.device) -> torch.Tensor:
    """(length, length) mask: position t may see tau <= t, or tau < t if ``strict``."""
    return torch.ones(length, length, dtype=torch.bool, device=device).tril(-1 if strict else 0)


def distance_decay(
    scores: torch.Tensor, allowed: torch.Tensor, theta: torch.Tensor
) -> torch.Tensor:
    """``exp(-theta * d(t, tau))`` for every query ``t`` and key ``tau``.

    ``scores`` (..., heads, T, T) are the scaled dot products, ``allowed`` the
    (T, T) mask, ``theta`` (heads,) the positive decay rates. ``d`` is the
    square root of ``|t - tau|`` times the softmax weight of the positions
    after ``tau`` that ``t`` sees (no gradient flows through ``d``). Clamped
    to [1e-5, 1e5] as the authors' code does.
    """
    length = scores.shape[-1]
    with torch.no_grad():
        weights = torch.softmax(scores.masked_fill(~allowed, -1e32), dim=-1) * allowed
        after = weights.sum(-1, keepdim=True) - weights.cumsum(-1)
        index = torch.arange(length, device=scores.device)
        gap = (index[:, None] - index[None, :]).abs().to(scores.dtype)
        distance = (after * gap).clamp(min=0.0).sqrt()
    return torch.exp(-theta[:, None, None] * distance).clamp(1e-5, 1e5)


class MonotonicAttention(nn.Module):
    """Multi-head attention with AKT's exponential decay over context-aware distance."""

    def __init__(self, d_model: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.key = nn.Linear(d_model, d_model)  # queries share it
        self.value = nn.Linear(d_model, d_model)
        self.out = nn.Linear(d_model, d_model)
        self.theta = nn.Parameter(torch.empty(n_heads))
        nn.init.normal_(self.theta, 0.0, 0.5)
        self.drop = nn.Dropout(dropout)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, dim = x.shape
        return x.reshape(batch, length, self.n_heads, dim // self.n_heads).transpose(1, 2)

    def forward(
        self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, strict: bool
    ) -> torch.Tensor:
        """(B, T, d) -> (B, T, d); ``strict``: position t sees tau < t only, and
        position 0, which then sees nothing, outputs zeros."""
        length = query.shape[1]
        allowed = allowed_mask(length, strict, query.device)
        q, k = self._heads(self.key(query)), self._heads(self.key(key))
        v = self._heads(self.value(value))
        scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
        theta = nn.functional.softplus(self.theta)
        scores = scores * distance_decay(scores, allowed, theta)
        weights = torch.softmax(scores.masked_fill(~allowed, -1e32), dim=-1)
        if strict:
            weights = weights * (torch.arange(length, device=query.device) > 0)[:, None]
        attended = self.drop(weights) @ v
        batch = query.shape[0]
        return self.out(attended.transpose(1, 2).reshape(batch, length, -1))


class AKTLayer(nn.Module):
    """Monotonic attention, residual and layer norm; optionally a feed-forward
    net with its own residual and layer norm."""

    def __init__(
        self, d_model: int, n_heads: int, d_ff: int, dropout: float, feed_forward: bool
    ) -> None:
        super().__init__()
        self.attention = MonotonicAttention(d_model, n_heads, dropout)
        self.drop1 = nn.Dropout(dropout)
        self.norm1 = nn.LayerNorm(d_model)
        self.ffn = (
            nn.Sequential(
                nn.Linear(d_model, d_ff), nn.ReLU(), nn.Dropout(dropout), nn.Linear(d_ff, d_model)
            )
            if feed_forward
            else None
        )
        if feed_forward:
            self.drop2 = nn.Dropout(dropout)
            self.norm2 = nn.LayerNorm(d_model)

    def forward(
        self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, strict: bool
    ) -> torch.Tensor:
        x = self.norm1(query + self.drop1(self.attention(query, key, value, strict)))
        if self.ffn is not None:
            x = self.norm2(x + self.drop2(self.ffn(x)))
        return x


class AKTNetwork(nn.Module):
    """Rasch embeddings -> question and knowledge encoders -> knowledge retriever -> MLP."""

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
        rasch: bool,
    ) -> None:
        super().__init__()
        n_items = item_skills.shape[0]
        self.register_buffer("item_skills", torch.as_tensor(item_skills), persistent=False)
        self.register_buffer(
            "item_weights", torch.as_tensor(item_weights)[..., None], persistent=False
        )
        self.rasch = rasch
        self.concept = nn.Embedding(n_skills, d_model)
        self.response = nn.Embedding(2, d_model)
        if rasch:
            self.variation = nn.Embedding(n_skills, d_model)
            self.response_variation = nn.Embedding(2, d_model)
            self.difficulty = nn.Embedding(n_items, 1)
            nn.init.zeros_(self.difficulty.weight)
        self.knowledge_encoder = nn.ModuleList(
            AKTLayer(d_model, n_heads, d_ff, dropout, feed_forward=True) for _ in range(n_blocks)
        )
        self.question_encoder = nn.ModuleList(
            AKTLayer(d_model, n_heads, d_ff, dropout, feed_forward=False) for _ in range(n_blocks)
        )
        self.retriever = nn.ModuleList(
            AKTLayer(d_model, n_heads, d_ff, dropout, feed_forward=True) for _ in range(n_blocks)
        )
        self.head = nn.Sequential(
            nn.Linear(2 * d_model, head_size),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(head_size, head_size // 2),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(head_size // 2, 1),
        )

    def _mean(self, table: nn.Embedding, items: torch.Tensor) -> torch.Tensor:
        return (table(self.item_skills[items]) * self.item_weights[items]).sum(-2)

    def embed(self, items: torch.Tensor, outcomes: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Question embeddings x and interaction embeddings y, (B, T, d) each."""
        o = outcomes.unsqueeze(-1)
        x = self._mean(self.concept, items)
        y = x + (1.0 - o) * self.response.weight[0] + o * self.response.weight[1]
        if self.rasch:
            mu = self.difficulty(items)
            x = x + mu * self._mean(self.variation, items)
            table = self.response_variation.weight
            y = y + mu * (self._mean(self.variation, items) + (1.0 - o) * table[0] + o * table[1])
        return x, y

    def forward(self, items: torch.Tensor, outcomes: torch.Tensor) -> torch.Tensor:
        """Logits of every position of windows (B, T) from their earlier positions."""
        x, y = self.embed(items, outcomes)
        for layer in self.knowledge_encoder:
            y = layer(y, y, y, strict=False)
        h = x
        for question, retrieve in zip(self.question_encoder, self.retriever, strict=True):
            h = question(h, h, h, strict=False)
            h = retrieve(h, h, y, strict=True)
        return self.head(torch.cat([h, x], dim=-1)).squeeze(-1)

    def query(
        self, items: torch.Tensor, outcomes: torch.Tensor, candidates: torch.Tensor
    ) -> torch.Tensor:
        """Logits of each candidate item as the next interaction after the
        context ``items``/``outcomes`` (k,): the context with each candidate
        appended, run in chunks (the candidate's outcome is never seen)."""
        out = []
        for begin in range(0, candidates.shape[0], QUERY_CHUNK):
            chunk = candidates[begin : begin + QUERY_CHUNK]
            m = chunk.shape[0]
            seq_items = torch.cat([items.expand(m, -1), chunk[:, None]], dim=1)
            seq_outcomes = torch.cat(
                [outcomes.expand(m, -1), torch.zeros(m, 1, device=outcomes.device)], dim=1
            )
            out.append(self(seq_items, seq_outcomes)[:, -1])
        return torch.cat(out) if out else torch.zeros(0, device=candidates.device)


class AKT(SimpleKT):
    """AKT, context-aware attentive knowledge tracing (Ghosh et al., KDD 2020).

    Parameters
    ----------
    domain
        Gives each item's skills; items sharing a skill get Rasch embeddings
        (skill embedding plus a learned scalar difficulty per item times a
        variation vector). Without it every item is its own skill and the
        Rasch terms are left out.
    d_model
        Embedding and attention size. Default 64 (pyKT: 256).
    n_heads
        Attention heads; must divide ``d_model``. Default 4 (pyKT: 8).
    n_blocks
        Blocks of each encoder and of the retriever. Default 1 (pyKT: 1).
    d_ff
        Hidden size of the feed-forward nets. Default 128 (pyKT: 256).
    head_size
        Width of the output MLP's first hidden layer (the second has half).
        Default 256 (pyKT: 512).
    stride
        Interactions dropped from a full context; default ``max_len // 2``
        (see :class:`~mentor.students.deep.SimpleKT`).
    **common
        ``max_len`` (default 200), ``batch_size`` (64), ``epochs`` (100), ``lr``
        (1e-3), ``weight_decay`` (1e-5), ``dropout`` (0.05), ``clip_norm``
        (1.0), ``validation`` (0.2), ``patience`` (6), ``lr_decay`` (0.5),
        ``device`` ("auto"), ``seed`` (0): see
        :class:`~mentor.students.deep._base.DeepKTModel`.
    """

    name = "akt"

    def __init__(
        self,
        domain: Domain | None = None,
        d_model: int = 64,
        n_heads: int = 4,
        n_blocks: int = 1,
        d_ff: int = 128,
        head_size: int = 256,
        stride: int | None = None,
        **common: Any,
    ) -> None:
        common = {"batch_size": 64, "lr": 1e-3, "dropout": 0.05, **common}
        super().__init__(domain, d_model, n_heads, n_blocks, d_ff, head_size, stride, **common)

    def _build_network(self) -> AKTNetwork:
        skills, weights = self._skill_table()
        own_skill = len(self.skills_) == len(self._item_skills) and all(
            len(row) == 1 for row in self._item_skills
        )
        return AKTNetwork(
            skills,
            weights,
            n_skills=max(len(self.skills_), 1),
            d_model=self.d_model,
            n_heads=self.n_heads,
            n_blocks=self.n_blocks,
            d_ff=self.d_ff,
            head_size=max(self.head_size, 2),
            dropout=self.dropout,
            rasch=not own_skill,
        )
