"""Packing of many variable-length sequences into time-major slices, so that a
hidden Markov model runs over all of them at once with one NumPy operation per
time step (the layout of PyTorch's ``pack_padded_sequence``).

Sequences are ranked by length, longest first; at step t the sequences still
running are ranks ``0 .. active[t]-1``, stored contiguously at
``offsets[t] .. offsets[t] + active[t]``. Total storage equals the number of
observations, with no padding. :func:`prefix_tree` goes further and merges
sequences on the observations they begin with, so that a model runs once per
distinct prefix.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from mentor.events import EventLog


@dataclass(frozen=True)
class PackedSequences:
    """Observations of many sequences packed time-major.

    Attributes
    ----------
    active
        ``active[t]`` is the number of sequences longer than ``t`` (non-increasing).
    offsets
        Start of step ``t`` in the packed arrays.
    slot_of
        For each input observation, its slot in the packed arrays.
    rank_key
        For each sequence rank, its key (as passed to :func:`pack`).
    lengths
        Length of each sequence, by rank.
    """

    active: np.ndarray
    offsets: np.ndarray
    slot_of: np.ndarray
    rank_key: np.ndarray
    lengths: np.ndarray

    @property
    def n_slots(self) -> int:
        return int(self.slot_of.size)

    def steps(self) -> Iterator[tuple[int, int, int]]:
        """``(t, start, count)`` for each time step."""
        for t in range(self.active.size):
            yield t, int(self.offsets[t]), int(self.active[t])


def factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)``, faster on logs grouped by
    learner: runs of equal values are collapsed before sorting."""
    values = np.asarray(values)
    if values.size == 0:
        return np.unique(values, return_inverse=True)
    heads = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    unique, inverse = np.unique(values[heads], return_inverse=True)
    return unique, np.repeat(inverse, np.diff(np.r_[heads, values.size]))


def pack(keys: np.ndarray, order_in_sequence: np.ndarray) -> PackedSequences:
    """Group observations into sequences by ``keys`` and pack them time-major.

    Parameters
    ----------
    keys
        Integer sequence key of each observation (for example learner * n_skills + skill).
    order_in_sequence
        A number that orders observations within a sequence (for example the
        rank of each observation in time); ties are not allowed to matter.
    """
    n = keys.size
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return PackedSequences(empty, empty, empty, empty, empty)
    order = np.lexsort((order_in_sequence, keys))
    sorted_keys = keys[order]
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    lengths = np.diff(np.r_[starts, n])
    seq_of_sorted = np.repeat(np.arange(starts.size), lengths)
    position = np.arange(n) - starts[seq_of_sorted]
    by_length = np.argsort(-lengths, kind="stable")
    rank = np.empty_like(by_length)
    rank[by_length] = np.arange(by_length.size)
    longest = int(lengths.max())
    ended_by = np.cumsum(np.bincount(lengths, minlength=longest + 1))
    active = (starts.size - ended_by[:longest]).astype(np.int64)
    offsets = np.r_[0, np.cumsum(active)[:-1]].astype(np.int64)
    slot_of = np.empty(n, dtype=np.int64)
    slot_of[order] = offsets[position] + rank[seq_of_sorted]
    return PackedSequences(
        active=active,
        offsets=offsets,
        slot_of=slot_of,
        rank_key=sorted_keys[starts][by_length],
        lengths=lengths[by_length],
    )


@dataclass(frozen=True)
class PrefixTree:
    """Packed sequences merged on their common prefixes (a trie), depth-major.

    A node is a distinct prefix ``(root, code_0, ..., code_t)`` of one or more
    sequences; ``count`` sequences pass through it and ``ends`` of them stop
    there. A hidden Markov model's forward pass gives the same message to every
    sequence through a node, so it runs once per node instead of once per
    observation, and its backward pass sums over the node's children. On
    knowledge-tracing logs, where many learners answer a skill's first items
    the same way, this halves the work or better.

    Attributes
    ----------
    offsets
        Nodes of depth ``t`` are ``offsets[t] .. offsets[t+1]``; within a
        depth they are sorted by parent, then by code.
    code
        Code of each node's last observation.
    parent
        For a node of depth ``t > 0``, its parent's position within depth ``t-1``;
        for a root (depth 0), its root class.
    count, ends
        Sequences through each node, and sequences ending at it (floats).
    last
        For each sequence rank of the packing, its last node.
    """

    offsets: np.ndarray
    code: np.ndarray
    parent: np.ndarray
    count: np.ndarray
    ends: np.ndarray
    last: np.ndarray

    @property
    def n_nodes(self) -> int:
        return int(self.code.size)

    @property
    def depth(self) -> int:
        return int(self.offsets.size - 1)


def prefix_tree(packed: PackedSequences, slot_code: np.ndarray, root: np.ndarray) -> PrefixTree:
    """Merge the sequences of ``packed`` on common prefixes.

    Parameters
    ----------
    packed
        The packing, from :func:`pack`.
    slot_code
        A non-negative integer code per packed slot; two observations with the
        same code are interchangeable (for BKT: same parameters, same outcome).
    root
        A non-negative integer per sequence rank; sequences with different
        roots never share a node (for BKT: the prior's class).
    """
    active = packed.active
    n_codes = int(slot_code.max()) + 1 if slot_code.size else 1
    codes, parents, counts, ends = [], [], [], []
    last = np.empty(int(active[0]) if active.size else 0, dtype=np.int64)
    offsets = [0]
    current = np.asarray(root, dtype=np.int64)
    for t in range(active.size):
        n, start = int(active[t]), int(packed.offsets[t])
        following = int(active[t + 1]) if t + 1 < active.size else 0
        key = current[:n] * n_codes + slot_code[start : start + n]
        unique, inverse, count = np.unique(key, return_inverse=True, return_counts=True)
        codes.append(unique % n_codes)
        parents.append(unique // n_codes)
        counts.append(count)
        ends.append(np.bincount(inverse[following:], minlength=unique.size))
        last[following:n] = offsets[-1] + inverse[following:]
        offsets.append(offsets[-1] + unique.size)
        current = inverse
    if not codes:
        empty = np.zeros(0, dtype=np.int64)
        return PrefixTree(np.zeros(1, dtype=np.int64), empty, empty, empty * 1.0, empty * 1.0, last)
    return PrefixTree(
        offsets=np.asarray(offsets, dtype=np.int64),
        code=np.concatenate(codes).astype(np.int64),
        parent=np.concatenate(parents).astype(np.int64),
        count=np.concatenate(counts).astype(np.float64),
        ends=np.concatenate(ends).astype(np.float64),
        last=last,
    )


def time_rank(log: EventLog) -> np.ndarray:
    """Rank of each event in time order, ties in log order."""
    rank = np.empty(len(log), dtype=np.int64)
    rank[np.argsort(log.time, kind="stable")] = np.arange(len(log))
    return rank
