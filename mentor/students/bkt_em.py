"""The expectation-maximisation engine of :class:`mentor.students.bkt.BKT`.

Baum, Petrie, Soules and Weiss, "A maximization technique occurring in the
statistical analysis of probabilistic functions of Markov chains" (1970), run
over every (learner, skill) sequence at once. Sequences that begin with the same
answers share one node of a prefix tree (:mod:`mentor.students._sequences`), so
one EM iteration is one vectorised forward and one backward pass over the tree's
depths (:class:`TreeEM`); the deep, narrow tail of the tree, where every node
has one child, is scanned as chains in a logarithmic number of steps
(:class:`Chains`). The forward pass filters P(known) before each attempt
(:func:`forward_filter` does the same over packed sequences, for prediction);
the backward pass carries the smoothed P(known) of each node, from which the
expected counts of one E-step follow (:class:`EStepCounts`). The formulas are in
:mod:`mentor.students.bkt`'s docstring.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from mentor.students._sequences import PackedSequences, PrefixTree

EPS = 1e-6
#: A prefix tree's deep tail is scanned as chains where it has at most this many
#: nodes per depth over at least this many depths (see :class:`Chains`).
CHAIN_WIDTH, CHAIN_DEPTH = 64, 16


class EStepEngine(Protocol):
    """What BKT's EM loop needs from an E-step engine: :class:`TreeEM` here, or
    ``TorchTreeEM`` (``mentor.students.bkt_torch``) on a PyTorch device."""

    code_count: np.ndarray
    code_cont: np.ndarray
    root_count: np.ndarray

    def forward(
        self,
        ek: np.ndarray,
        eu: np.ndarray,
        learn: np.ndarray,
        forget: np.ndarray,
        prior: np.ndarray,
    ) -> float: ...

    def e_step(
        self,
        ek: np.ndarray,
        eu: np.ndarray,
        learn: np.ndarray,
        forget: np.ndarray,
        prior: np.ndarray,
    ) -> EStepCounts: ...

    def next_knowledge(self, nodes: np.ndarray) -> np.ndarray: ...


@dataclass
class EStepCounts:
    """Expected counts of one E-step, summed per observation code."""

    log_likelihood: float
    known: np.ndarray  # sum of P(known) over nodes
    ratio: np.ndarray  # sum of S / p_next (S = P(known) summed over children)
    known_ratio: np.ndarray  # sum of f S / p_next
    ended_known: np.ndarray  # sum of P(known) where sequences end
    root_known: np.ndarray  # sum of P(known) at the roots, per root class


class Chains:
    """The deep, narrow end of a prefix tree, where every node has at most one
    child: disjoint chains, processed with log-depth scans instead of one NumPy
    step per depth (long sequences of a few learners otherwise cost one Python
    iteration per answer).

    Elements are stored chain by chain, in order; ``node`` maps them to tree nodes.
    """

    def __init__(self, tree: PrefixTree, start: int) -> None:
        off = tree.offsets
        chain = [np.arange(off[start + 1] - off[start])]
        for t in range(start + 1, tree.depth):
            chain.append(chain[-1][tree.parent[off[t] : off[t + 1]]])
        chains = np.concatenate(chain)
        depth = np.repeat(np.arange(tree.depth - start), np.diff(off[start:]))
        order = np.lexsort((depth, chains))
        self.node = off[start] + order
        self.code = tree.code[self.node]
        pos, chains = depth[order], chains[order]
        length = np.bincount(chains)[chains]
        first = np.flatnonzero(pos == 0)
        self.root = self.node[first][chains]  # each element's chain root (a tree node)
        self.later = np.flatnonzero(pos > 0)
        self.has_next = np.flatnonzero(pos + 1 < length)
        steps = []
        k = 1
        while k < length.max():
            steps.append(k)
            k *= 2
        self.forward_steps = [(i, i - k) for k in steps for i in [np.flatnonzero(pos >= k)]]
        self.backward_steps = [
            (i, i + k) for k in steps for i in [np.flatnonzero(pos + k < length)]
        ]

    def forward(
        self,
        p: np.ndarray,
        ek: np.ndarray,
        eu: np.ndarray,
        learn: np.ndarray,
        forget: np.ndarray,
    ) -> None:
        """P(known) of every chain node from its chain root's, in place in ``p``
        (the arguments after ``p`` are per observation code).

        Each step takes (P(known), P(unknown)) to the next pair, up to a common
        factor, by the nonnegative matrix [[(1 - F) ek, L eu], [F ek, (1 - L) eu]]
        (emission, then transition); prefix products of these matrices
        (Hillis-Steele scan) give every node's pair from its root's. Each product
        is scaled by the sum of its entries. Entries are sums of positive terms,
        so nothing cancels and P(known) stays accurate to a few ulps near 0 or 1.
        """
        node, code = self.node, self.code
        ek, eu, learn, forget = ek[code], eu[code], learn[code], forget[code]
        m00, m01 = (1.0 - forget) * ek, learn * eu
        m10, m11 = forget * ek, (1.0 - learn) * eu
        for i, j in self.forward_steps:  # m[i] = m[i] @ m[j], from the old values
            a00, a01, a10, a11 = m00[i], m01[i], m10[i], m11[i]
            b00, b01, b10, b11 = m00[j], m01[j], m10[j], m11[j]
            n11 = a10 * b01
            n11 += a11 * b11
            n10 = a10 * b00
            n10 += a11 * b10
            n00 = a00 * b00
            n00 += a01 * b10
            n01 = a00 * b01
            n01 += a01 * b11
            scale = n00 + n01
            scale += n10
            scale += n11
            m00[i] = n00 / scale
            m01[i] = n01 / scale
            m10[i] = n10 / scale
            m11[i] = n11 / scale
        later = self.later
        before = later - 1  # the maps from the root up to the previous node
        root = p[self.root[later]]
        known = m00[before] * root + m01[before] * (1.0 - root)
        unknown = m10[before] * root + m11[before] * (1.0 - root)
        p[node[later]] = known / (known + unknown)

    def backward(self, G: np.ndarray, K1: np.ndarray, S: np.ndarray) -> None:
        """G = G + K1 S along every chain (S = the child's G), in place; sets S."""
        node = self.node
        a, b = G[node], K1[node]
        for i, j in self.backward_steps:  # suffix scan of g -> a + b g
            a_next, b_next = a[j], b[j]
            a[i] += b[i] * a_next
            b[i] *= b_next
        G[node] = a
        S[node[self.has_next]] = a[self.has_next + 1]


class TreeEM:
    """Forward and backward passes of the BKT hidden Markov model over a prefix tree.

    Observation codes carry the parameters: the caller gives, per code, the
    emission probabilities of the observed outcome when known (``ek``) and
    unknown (``eu``), and the learn and forget probabilities of the transition
    that follows. All buffers are allocated once, so an iteration allocates
    almost nothing. Depths are processed one NumPy step each, except for a deep
    tail of at most ``chain_width`` single-child nodes per depth and at least
    ``chain_depth`` depths, which :class:`Chains` scans.
    """

    def __init__(
        self,
        tree: PrefixTree,
        n_codes: int,
        n_roots: int,
        forgets: bool,
        chain_width: int | None = None,
        chain_depth: int | None = None,
    ) -> None:
        self.tree = tree
        self.n_codes = n_codes
        self.forgets = forgets
        n = tree.n_nodes
        off = tree.offsets.tolist()
        self.code = tree.code
        self.count = tree.count
        self.cont = tree.count - tree.ends
        self.n_root_nodes = off[1]
        self.root_class = tree.parent[: off[1]]
        self.end_nodes = np.flatnonzero(tree.ends)
        self.end_count = tree.ends[self.end_nodes]
        self.end_code = tree.code[self.end_nodes]
        self.n_roots = n_roots
        self.code_count = np.bincount(self.code, weights=self.count, minlength=n_codes)
        self.code_cont = np.bincount(self.code, weights=self.cont, minlength=n_codes)
        self.root_count = np.bincount(
            self.root_class, weights=self.count[: off[1]], minlength=n_roots
        )
        width = CHAIN_WIDTH if chain_width is None else chain_width
        self.head = chain_start(tree, width, CHAIN_DEPTH if chain_depth is None else chain_depth)
        self.chains = Chains(tree, self.head) if self.head < tree.depth else None
        bounds = list(zip(off[:-1], off[1:], strict=True))
        names = ("A", "B", "C", "D", "p", "pn", "den", "f", "K1", "G", "S", "tmp")
        self.buf = {name: np.zeros(n) for name in names}
        self.views = {name: [array[a:b] for a, b in bounds] for name, array in self.buf.items()}
        self.children = [tree.parent[a:b] for a, b in bounds]

    def forward(
        self,
        ek: np.ndarray,
        eu: np.ndarray,
        learn: np.ndarray,
        forget: np.ndarray,
        prior: np.ndarray,
    ) -> float:
        """Filter every node; returns the log-likelihood. ``prior`` is per root class."""
        b = self.buf
        # p_next = (A + p B) / (C + p D), and C + p D = P(outcome | past)
        diff = ek - eu
        np.take(learn * eu, self.code, out=b["A"], mode="clip")
        np.take(learn * diff + ek * (1.0 - forget - learn), self.code, out=b["B"], mode="clip")
        np.take(eu, self.code, out=b["C"], mode="clip")
        np.take(diff, self.code, out=b["D"], mode="clip")
        b["p"][: self.n_root_nodes] = np.asarray(prior, dtype=float)[self.root_class]
        p, pn, den = self.views["p"], self.views["pn"], self.views["den"]
        A, B, C, D = (self.views[k] for k in "ABCD")
        children = self.children
        multiply, add, divide = np.multiply, np.add, np.divide
        depth = len(children)
        for t in range(self.head):
            multiply(p[t], D[t], out=den[t])
            add(den[t], C[t], out=den[t])
            multiply(p[t], B[t], out=pn[t])
            add(pn[t], A[t], out=pn[t])
            divide(pn[t], den[t], out=pn[t])
            if t + 1 < depth:
                p[t + 1][:] = pn[t][children[t + 1]]
        if self.chains is not None:
            self.chains.forward(b["p"], ek, eu, learn, forget)
            tail = slice(int(self.tree.offsets[self.head]), None)
            np.multiply(b["p"][tail], b["D"][tail], out=b["den"][tail])
            b["den"][tail] += b["C"][tail]
            np.multiply(b["p"][tail], b["B"][tail], out=b["pn"][tail])
            b["pn"][tail] += b["A"][tail]
            b["pn"][tail] /= b["den"][tail]
        tmp = b["tmp"]
        np.log(b["den"], out=tmp)
        tmp *= self.count
        return float(tmp.sum())

    def e_step(
        self,
        ek: np.ndarray,
        eu: np.ndarray,
        learn: np.ndarray,
        forget: np.ndarray,
        prior: np.ndarray,
    ) -> EStepCounts:
        """Expected counts under the given parameters (one Baum-Welch E-step)."""
        log_likelihood = self.forward(ek, eu, learn, forget, prior)
        b = self.buf
        f, K1, G, S, tmp, pn = b["f"], b["K1"], b["G"], b["S"], b["tmp"], b["pn"]
        # filtered posterior f = p ek / den, with ek = C + D
        np.add(b["C"], b["D"], out=f)
        f *= b["p"]
        f /= b["den"]
        # g_t = K0 + K1 g_{t+1} per sequence; summed over a node's continuing
        # sequences: G = ends f + K0 (count - ends) + K1 S, S = sum of children's G.
        np.divide(f, pn, out=K1)
        if self.forgets:
            np.subtract(1.0, pn, out=tmp)
            np.divide(np.take(forget, self.code, mode="clip"), tmp, out=tmp)  # F / (1 - p_next)
            np.multiply(f, tmp, out=G)  # K0
            G *= self.cont
            np.subtract(1.0, tmp, out=tmp)
            K1 *= tmp
        else:
            G.fill(0.0)
        ended = self.end_count * f[self.end_nodes]
        G[self.end_nodes] += ended
        if self.chains is not None:
            self.chains.backward(G, K1, S)
        Gv, Sv, K1v, tv = self.views["G"], self.views["S"], self.views["K1"], self.views["tmp"]
        children = self.children
        for t in range(min(self.head, len(children) - 1) - 1, -1, -1):
            Sv[t][:] = np.bincount(children[t + 1], weights=Gv[t + 1], minlength=Sv[t].size)
            np.multiply(K1v[t], Sv[t], out=tv[t])
            Gv[t] += tv[t]
        np.divide(S, pn, out=tmp)  # S / p_next
        np.multiply(f, tmp, out=K1)  # f S / p_next
        k = self.n_codes
        return EStepCounts(
            log_likelihood=log_likelihood,
            known=np.bincount(self.code, weights=G, minlength=k),
            ratio=np.bincount(self.code, weights=tmp, minlength=k),
            known_ratio=np.bincount(self.code, weights=K1, minlength=k),
            ended_known=np.bincount(self.end_code, weights=ended, minlength=k),
            root_known=np.bincount(
                self.root_class, weights=G[: self.n_root_nodes], minlength=self.n_roots
            ),
        )

    def next_knowledge(self, nodes: np.ndarray) -> np.ndarray:
        """P(known) after each given node's observation, from the last :meth:`forward`."""
        result: np.ndarray = self.buf["pn"][nodes]
        return result


def chain_start(tree: PrefixTree, width: int, depth: int) -> int:
    """The first depth from which every depth has at most ``width`` nodes, each
    with at most one child; the tree's depth if that tail is shorter than ``depth``."""
    off, start = tree.offsets, tree.depth
    for t in range(tree.depth - 1, -1, -1):
        if off[t + 1] - off[t] > width:
            break
        if t + 1 < tree.depth:
            parents = tree.parent[off[t + 1] : off[t + 2]]
            if np.unique(parents).size != parents.size:
                break
        start = t
    return start if tree.depth - start >= depth else tree.depth


def clipped_ratio(target: np.ndarray, num: np.ndarray, den: np.ndarray) -> None:
    """``target = num / den`` clipped to [EPS, 1 - EPS], where ``den`` has evidence."""
    ok = den > 1e-12
    target[ok] = np.clip(num[ok] / den[ok], EPS, 1.0 - EPS)


def forward_filter(
    packed: PackedSequences, start: np.ndarray, outcome: np.ndarray, slot: dict[str, np.ndarray]
) -> np.ndarray:
    """P(known) before every slot's attempt, from each sequence's ``start``
    (forward filtering over the packed sequences, one NumPy step per time step)."""
    guess, slip, learn, forget = slot["guess"], slot["slip"], slot["learn"], slot["forget"]
    ek = (1.0 - slip) ** outcome * slip ** (1.0 - outcome)
    eu = guess**outcome * (1.0 - guess) ** (1.0 - outcome)
    prior = np.empty(packed.n_slots)
    p = start.copy()
    for _, begin, n in packed.steps():
        end = begin + n
        prior[begin:end] = p[:n]
        known = p[:n] * ek[begin:end]
        f = known / (known + (1.0 - p[:n]) * eu[begin:end])
        p = f * (1.0 - forget[begin:end]) + (1.0 - f) * learn[begin:end]
    return prior
