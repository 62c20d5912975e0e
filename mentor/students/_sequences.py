"""Packing of many variable-length sequences into time-major slices, so that a
hidden Markov model runs over all of them at once with one NumPy operation per
time step (the layout of PyTorch's ``pack_padded_sequence``).

Sequences are ranked by length, longest first; at step t the sequences still
running are ranks ``0 .. active[t]-1``, stored contiguously at
``offsets[t] .. offsets[t] + active[t]``. Total storage equals the number of
observations, with no padding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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

    def steps(self):
        """``(t, start, count)`` for each time step."""
        for t in range(self.active.size):
            yield t, int(self.offsets[t]), int(self.active[t])


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
