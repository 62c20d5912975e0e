"""The E-step of BKT's EM in PyTorch, for GPUs: ``BKT(device="cuda")``.

It computes exactly what :class:`mentor.students.bkt.TreeEM` computes (the
forward filter and the backward smoother of the BKT hidden Markov model over
the prefix tree of all sequences), in a different order. The NumPy engine
walks the tree one depth at a time, which on a GPU would cost a few kernel
launches per depth: thousands per iteration on logs with long sequences.
Here both passes run in ``ceil(log2(depth))`` whole-tree steps by pointer
jumping (Wyllie, "The complexity of parallel computations", Cornell 1979;
the prefix sums of Hillis and Steele, "Data parallel algorithms", CACM 29(12),
1986, on a tree instead of a list):

forward
    Each node's observation takes the pair (P(known), P(unknown)) before it to
    the pair after it by a nonnegative 2 x 2 matrix, ``M = T diag(ek, eu)``
    (emission, then the learn/forget transition ``T``), up to a common factor.
    After step ``k`` every node holds the product of the matrices of itself
    and its ``2^k - 1`` nearest ancestors; step ``k + 1`` multiplies in the
    product held by its ancestor ``2^k`` levels up. The final products map
    each root's prior to every node's pair. Products are normalised by the sum
    of their entries. As every entry is a sum of positive terms, nothing
    cancels, and P(known) and P(unknown) are both accurate to a few ulps, also
    near 0 or 1. (The NumPy engine scans its long chains the same way.)
backward
    The smoother's sums ``G_v = base_v + K1_v * sum of the children's G``
    solve ``G = (I - A)^-1 base`` with ``A[v, c] = K1_v`` for each child ``c``.
    As ``A`` is nilpotent of index at most the depth,
    ``(I - A)^-1 = (I + A)(I + A^2)(I + A^4)...``, and ``A^(2^k)`` sends each
    node's value to its ancestor ``2^k`` levels up, weighted by the product
    of ``K1`` along the way: one ``index_add_`` per step.

Nodes are stored depth-major, so the nodes with an ancestor ``2^k`` levels
up are a suffix of the node array, and every step works on slices.
Arithmetic is float64 throughout; fitted parameters agree with the NumPy
engine's to 1e-12 (tests/test_bkt_torch.py).
"""

from __future__ import annotations

import numpy as np
import torch

from mentor.students._sequences import PrefixTree
from mentor.students.bkt_em import EStepCounts


class TorchTreeEM:
    """Forward and backward passes over a prefix tree on a torch device.

    The interface of :class:`mentor.students.bkt.TreeEM`: the caller passes
    NumPy arrays per observation code and gets NumPy statistics back; the tree
    and the per-node buffers stay on ``device``.
    """

    def __init__(
        self, tree: PrefixTree, n_codes: int, n_roots: int, forgets: bool, device: torch.device
    ) -> None:
        self.device = device
        self.n_codes, self.n_roots, self.forgets = n_codes, n_roots, forgets
        off = tree.offsets
        n = tree.n_nodes
        self.n_root_nodes = int(off[1]) if tree.depth else 0
        count = tree.count
        cont = tree.count - tree.ends
        root_class = tree.parent[: self.n_root_nodes]
        end_nodes = np.flatnonzero(tree.ends)
        self.code_count = np.bincount(tree.code, weights=count, minlength=n_codes)
        self.code_cont = np.bincount(tree.code, weights=cont, minlength=n_codes)
        self.root_count = np.bincount(
            root_class, weights=count[: self.n_root_nodes], minlength=n_roots
        )
        depth_of = np.repeat(np.arange(tree.depth), np.diff(off))
        parent = tree.parent[self.n_root_nodes :] + off[depth_of[self.n_root_nodes :] - 1]

        def put(array: np.ndarray) -> torch.Tensor:
            return torch.as_tensor(array, device=device)

        self.code = put(tree.code)
        self.count, self.cont = put(count), put(cont)
        self.root_class = put(root_class)
        self.parent = put(parent)  # of the nodes below depth 0
        self.end_nodes, self.end_code = put(end_nodes), put(tree.code[end_nodes])
        self.end_count = put(tree.ends[end_nodes])
        # jumps[k] = (s, ancestor 2^k levels up of each node from s on)
        self.jumps: list[tuple[int, torch.Tensor]] = []
        level, ancestor = 1, parent
        while level < tree.depth:
            start = int(off[level])
            self.jumps.append((start, put(ancestor)))
            if 2 * level >= tree.depth:
                break
            further = int(off[2 * level])
            ancestor = ancestor[ancestor[further - start :] - start]
            level *= 2
        # each node's root class, by jumping from its depth to 0 in binary steps
        root = torch.arange(n, device=device)
        for start, ancestor in reversed(self.jumps):
            deep = root >= start
            root[deep] = ancestor[root[deep] - start]
        self.node_root_class = self.root_class[root]
        zeros = torch.zeros(n, dtype=torch.float64, device=device)
        self.p = self.q = self.pn = self.qn = self.den = zeros
        self._node_params: tuple[torch.Tensor, ...] = ()

    def _per_node(self, per_code: np.ndarray) -> torch.Tensor:
        table = torch.as_tensor(np.asarray(per_code, dtype=np.float64), device=self.device)
        return table[self.code]

    def forward(
        self, ek: np.ndarray, eu: np.ndarray, learn: np.ndarray, forget: np.ndarray, prior
    ) -> float:
        """Filter every node; returns the log-likelihood. ``prior`` is per root class."""
        ek_, eu_ = self._per_node(ek), self._per_node(eu)
        learn_, forget_ = self._per_node(learn), self._per_node(forget)
        self._node_params = (ek_, eu_, learn_, forget_)
        # (known, unknown) after a node = M (known, unknown) before it, M = T diag(ek, eu)
        m00, m01 = (1.0 - forget_) * ek_, learn_ * eu_
        m10, m11 = forget_ * ek_, (1.0 - learn_) * eu_
        for start, ancestor in self.jumps:  # m[v] = m[v] @ m[ancestor], from the old values
            b00, b01, b10, b11 = m00[ancestor], m01[ancestor], m10[ancestor], m11[ancestor]
            a00, a01, a10, a11 = m00[start:], m01[start:], m10[start:], m11[start:]
            n00, n01 = a00 * b00 + a01 * b10, a00 * b01 + a01 * b11
            n10, n11 = a10 * b00 + a11 * b10, a10 * b01 + a11 * b11
            scale = n00 + n01 + n10 + n11
            m00[start:], m01[start:] = n00 / scale, n01 / scale
            m10[start:], m11[start:] = n10 / scale, n11 / scale
        root_prior = torch.as_tensor(np.asarray(prior, dtype=np.float64), device=self.device)
        p = root_prior[self.node_root_class]  # P(known) at each node's root
        q = 1.0 - p
        known, unknown = m00 * p + m01 * q, m10 * p + m11 * q
        total = known + unknown
        self.pn, self.qn = known / total, unknown / total
        p[self.n_root_nodes :] = self.pn[self.parent]
        q[self.n_root_nodes :] = self.qn[self.parent]
        self.p, self.q = p, q
        self.den = ek_ * p + eu_ * q
        return float((torch.log(self.den) * self.count).sum())

    def e_step(
        self, ek: np.ndarray, eu: np.ndarray, learn: np.ndarray, forget: np.ndarray, prior
    ) -> EStepCounts:
        """Expected counts under the given parameters (one Baum-Welch E-step)."""
        log_likelihood = self.forward(ek, eu, learn, forget, prior)
        ek_, eu_, learn_, forget_ = self._node_params
        f = self.p * ek_ / self.den  # filtered posterior, and 1 - f
        g = self.q * eu_ / self.den
        # K1 = f / p_next * (1 - F / (1 - p_next)), with 1 - p_next - F = g (1 - L - F)
        K1 = f * g * (1.0 - learn_ - forget_) / (self.pn * self.qn)
        if self.forgets:
            G = f * forget_ / self.qn * self.cont  # K0 = f F / (1 - p_next)
        else:
            G = torch.zeros_like(f)
        ended = self.end_count * f[self.end_nodes]
        G.index_add_(0, self.end_nodes, ended)
        base = self.n_root_nodes
        weight = K1[self.parent]  # product of K1 over the ancestors 1 .. 2^k levels up
        for k, (start, ancestor) in enumerate(self.jumps):
            G.index_add_(0, ancestor, weight[start - base :] * G[start:])
            if k + 1 < len(self.jumps):
                further = self.jumps[k + 1][0]
                weight[further - base :] *= weight[ancestor[further - start :] - base]
        S = torch.zeros_like(G)
        S.index_add_(0, self.parent, G[base:])
        ratio = S / self.pn  # S / p_next
        known_ratio = f * ratio

        def per_code(index: torch.Tensor, values: torch.Tensor, size: int) -> np.ndarray:
            out = torch.zeros(size, dtype=torch.float64, device=self.device)
            return out.index_add_(0, index, values).cpu().numpy()

        k = self.n_codes
        return EStepCounts(
            log_likelihood=log_likelihood,
            known=per_code(self.code, G, k),
            ratio=per_code(self.code, ratio, k),
            known_ratio=per_code(self.code, known_ratio, k),
            ended_known=per_code(self.end_code, ended, k),
            root_known=per_code(self.root_class, G[:base], self.n_roots),
        )

    def next_knowledge(self, nodes: np.ndarray) -> np.ndarray:
        """P(known) after each given node's observation, from the last :meth:`forward`."""
        return self.pn[torch.as_tensor(nodes, device=self.device)].cpu().numpy()
