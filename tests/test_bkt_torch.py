"""BKT's PyTorch EM engine (``BKT(device=...)``) against exact arithmetic and
against the NumPy engine.

The NumPy engine is checked against hand computation and path enumeration in
test_students.py (as is the torch engine, on two small logs). Here the torch
forward pass must equal a 40-digit decimal one, and the two engines must agree
on trees whose shape exercises every branch of the pointer-jumping passes: a
wide head, long single-child chains, several root classes, depths that are and
are not powers of two.

Tolerances: both engines scan long chains with nonnegative forward
probabilities (P(known), P(unknown)), in which nothing cancels, and agree to
about 1e-15 on these trees; checks allow 1e-12. The exact check allows 1e-14.
(The NumPy engine's depth-by-depth steps, used where many sequences are still
running, update P(known) alone and can lose about 1e-10 near 1; the decimal
computation below measured 8e-11 on test_torch_fit_equals_numpy_fit's log.)
"""

from __future__ import annotations

import json
from decimal import Decimal, localcontext

import numpy as np
import pytest

from mentor.errors import DataError, ParameterError
from mentor.events import EventLog
from mentor.students import BKT, model_from_state
from mentor.students._sequences import pack, prefix_tree
from mentor.students.bkt_em import TreeEM

torch = pytest.importorskip("torch")

from test_students import ITEM_TRUTH, ITEMS, simulate_items  # noqa: E402

from mentor.students.bkt_torch import TorchTreeEM  # noqa: E402


def random_tree(rng, lengths, n_codes, n_roots):
    """A prefix tree of sequences with the given lengths, over few codes so that
    their beginnings merge."""
    keys = np.repeat(np.arange(lengths.size), lengths)
    order = np.concatenate([np.arange(n) for n in lengths])
    packed = pack(keys, order)
    slot_code = rng.integers(0, n_codes, packed.n_slots)
    root = rng.integers(0, n_roots, int(packed.active[0]))
    return prefix_tree(packed, slot_code, root)


def random_tables(rng, n_codes, n_roots, forgets):
    ek, eu = rng.uniform(0.05, 0.95, n_codes), rng.uniform(0.05, 0.95, n_codes)
    learn = rng.uniform(0.01, 0.4, n_codes)
    forget = rng.uniform(0.0, 0.2, n_codes) if forgets else np.zeros(n_codes)
    return ek, eu, learn, forget, rng.uniform(0.1, 0.9, n_roots)


def decimal_forward(tree, tables):
    """P(known) and P(unknown) after every node, and the log-likelihood, in
    40-digit decimals."""
    with localcontext() as context:
        context.prec = 40
        ek, eu, learn, forget, prior = ([Decimal(float(v)) for v in t] for t in tables)
        off, pn, log_likelihood = tree.offsets, [], Decimal(0)
        for t in range(tree.depth):
            for v in range(int(off[t]), int(off[t + 1])):
                c, parent = int(tree.code[v]), int(tree.parent[v])
                p = prior[parent] if t == 0 else pn[int(off[t - 1]) + parent]
                den = p * ek[c] + (1 - p) * eu[c]
                f = p * ek[c] / den
                pn.append(f * (1 - forget[c]) + (1 - f) * learn[c])
                log_likelihood += Decimal(float(tree.count[v])) * den.ln()
        known = np.array([float(x) for x in pn])
        return known, np.array([float(1 - x) for x in pn]), float(log_likelihood)


@pytest.mark.parametrize("forgets", [True, False])
def test_torch_forward_pass_equals_exact_arithmetic(forgets):
    rng = np.random.default_rng(300)
    tree = random_tree(rng, np.r_[rng.integers(1, 9, 200), [300] * 3], n_codes=6, n_roots=3)
    tables = random_tables(rng, 6, 3, forgets)
    engine = TorchTreeEM(tree, 6, 3, forgets, torch.device("cpu"))
    log_likelihood = engine.forward(*tables)
    exact_pn, exact_qn, exact_log_likelihood = decimal_forward(tree, tables)
    np.testing.assert_allclose(engine.pn.numpy(), exact_pn, rtol=0, atol=1e-14)
    np.testing.assert_allclose(engine.qn.numpy(), exact_qn, rtol=1e-12)
    assert log_likelihood == pytest.approx(exact_log_likelihood, rel=1e-14)


@pytest.mark.parametrize("forgets", [True, False])
def test_numpy_chain_scan_equals_exact_arithmetic(forgets):
    """The same tree through the NumPy engine: 8 depths step by step, then its
    three 300-long chains scanned."""
    rng = np.random.default_rng(300)
    tree = random_tree(rng, np.r_[rng.integers(1, 9, 200), [300] * 3], n_codes=6, n_roots=3)
    tables = random_tables(rng, 6, 3, forgets)
    engine = TreeEM(tree, 6, 3, forgets)
    assert engine.chains is not None
    log_likelihood = engine.forward(*tables)
    exact_pn, _, exact_log_likelihood = decimal_forward(tree, tables)
    np.testing.assert_allclose(engine.next_knowledge(np.arange(tree.n_nodes)), exact_pn, atol=1e-14)
    assert log_likelihood == pytest.approx(exact_log_likelihood, rel=1e-14)


@pytest.mark.parametrize("forgets", [True, False])
@pytest.mark.parametrize("longest", [1, 2, 16, 17, 300])
def test_torch_e_step_equals_numpy_e_step(forgets, longest):
    rng = np.random.default_rng(longest)
    lengths = np.r_[rng.integers(1, min(longest, 8) + 1, 200), [longest] * 3]
    tree = random_tree(rng, lengths, n_codes=6, n_roots=3)
    assert tree.depth == longest
    tables = random_tables(rng, 6, 3, forgets)
    numpy_engine = TreeEM(tree, 6, 3, forgets)
    torch_engine = TorchTreeEM(tree, 6, 3, forgets, torch.device("cpu"))
    expected, got = numpy_engine.e_step(*tables), torch_engine.e_step(*tables)
    assert got.log_likelihood == pytest.approx(expected.log_likelihood, rel=1e-12)
    for name in ("known", "ratio", "known_ratio", "ended_known", "root_known"):
        np.testing.assert_allclose(getattr(got, name), getattr(expected, name), rtol=1e-12)
    np.testing.assert_allclose(
        torch_engine.next_knowledge(tree.last), numpy_engine.next_knowledge(tree.last), rtol=1e-12
    )
    for name in ("code_count", "code_cont", "root_count"):
        np.testing.assert_array_equal(getattr(torch_engine, name), getattr(numpy_engine, name))


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"forgets": False},
        {"multigs": True, "multilearn": True},
        {"multigs": True, "multilearn": True, "multiprior": True},
    ],
    ids=["standard", "no-forgets", "multigs-multilearn", "all"],
)
def test_torch_fit_equals_numpy_fit(options):
    rng = np.random.default_rng(11)
    log = EventLog.concat(
        [simulate_items(ITEM_TRUTH, 80, 10, rng), simulate_items(ITEM_TRUTH, 4, 150, rng, "long")]
    )
    numpy_fit = BKT(ITEMS, max_iter=15, tol=-1, **options).fit(log)
    torch_fit = BKT(ITEMS, max_iter=15, tol=-1, device="cpu", **options).fit(log)
    assert torch_fit.log_likelihood_ == pytest.approx(numpy_fit.log_likelihood_, rel=1e-12)
    for item in "abc":
        assert torch_fit.params("k", item) == pytest.approx(numpy_fit.params("k", item), abs=1e-12)
    for prior_class in (0, 1):
        assert torch_fit.class_prior("k", prior_class) == pytest.approx(
            numpy_fit.class_prior("k", prior_class), abs=1e-12
        )
    for learner in ("s0", "s79", "long3"):
        assert torch_fit.state(learner)["mastery"]["k"] == pytest.approx(
            numpy_fit.state(learner)["mastery"]["k"], abs=1e-12
        )


def test_device_is_a_saved_parameter():
    log = simulate_items(ITEM_TRUTH, 20, 5, np.random.default_rng(0))
    model = BKT(ITEMS, max_iter=3, device="cpu").fit(log)
    restored = model_from_state(json.loads(json.dumps(model.state_dict())))
    assert restored.device == "cpu"
    assert restored.predict("s0", ["a", "b"]) == pytest.approx(model.predict("s0", ["a", "b"]))


def test_bad_devices_are_refused_with_the_value():
    with pytest.raises(DataError, match="device.*gpu"):
        BKT(device="gpu")
    with pytest.raises(ParameterError, match="mps.*float64"):
        BKT(device="mps")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_without_cuda_auto_fits_with_numpy_and_cuda_is_refused(monkeypatch):
    import mentor.students.bkt_torch as bkt_torch

    log = simulate_items(ITEM_TRUTH, 20, 5, np.random.default_rng(0))

    def refuse(*args, **kwargs):
        raise AssertionError("auto must not use PyTorch without CUDA")

    monkeypatch.setattr(bkt_torch.TorchTreeEM, "__init__", refuse)
    auto = BKT(ITEMS, max_iter=5, device="auto").fit(log)
    assert auto.params("k") == BKT(ITEMS, max_iter=5).fit(log).params("k")
    with pytest.raises(DataError, match="CUDA is not available"):
        BKT(ITEMS, device="cuda").fit(log)
