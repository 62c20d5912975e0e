"""AKT (Ghosh et al., KDD 2020): shapes, causality, the monotonic decay, the Rasch
embeddings, and the contract through the registry. The contract tests shared with
DKT and simpleKT (online = batch, round trips, learning) are in test_deep.py."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from mentor.domain import Domain, Item  # noqa: E402
from mentor.events import EventLog  # noqa: E402
from mentor.students import MODELS, create_model  # noqa: E402
from mentor.students.deep.akt import AKT, AKTNetwork, distance_decay  # noqa: E402


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def network(rasch: bool, n_items: int = 6, n_blocks: int = 2, seed: int = 0) -> AKTNetwork:
    torch.manual_seed(seed)
    skills = (np.arange(n_items) % 3)[:, None] if rasch else np.arange(n_items)[:, None]
    weights = np.ones((n_items, 1), np.float32)
    net = AKTNetwork(
        skills.astype(np.int64), weights, n_skills=3 if rasch else n_items,
        d_model=8, n_heads=2, n_blocks=n_blocks, d_ff=8, head_size=8, dropout=0.0, rasch=rasch,
    )  # fmt: skip
    with torch.no_grad():  # difficulties start at 0; give them values so they matter
        if rasch:
            net.difficulty.weight.normal_()
        for p in net.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return net.eval()


@pytest.mark.parametrize("rasch", [False, True])
def test_prediction_never_depends_on_current_or_future_answers(rasch):
    net = network(rasch)
    rng = np.random.default_rng(0)
    items = torch.as_tensor(rng.integers(0, 6, (3, 12)))
    outcomes = torch.as_tensor((rng.random((3, 12)) < 0.5).astype(np.float32))
    base = net(items, outcomes)
    assert base.shape == (3, 12)
    for t in (0, 5, 11):
        later_items = items.clone()
        later_items[:, t + 1 :] = torch.as_tensor(rng.integers(0, 6, (3, 11 - t)))
        flipped = outcomes.clone()
        flipped[:, t:] = 1.0 - flipped[:, t:]  # the current answer and all later ones
        changed = net(later_items, flipped)
        torch.testing.assert_close(changed[:, : t + 1], base[:, : t + 1], rtol=0, atol=1e-6)
    # ... while an earlier answer does change the prediction
    flipped = outcomes.clone()
    flipped[:, 4] = 1.0 - flipped[:, 4]
    assert (net(items, flipped)[:, 5] - base[:, 5]).abs().min() > 1e-6


def test_first_prediction_depends_on_the_question_only():
    net = network(rasch=True)
    items = torch.tensor([[2, 0, 1], [2, 5, 4]])
    outcomes = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    with torch.no_grad():
        logits = net(items, outcomes)
    assert float(logits[0, 0]) == pytest.approx(float(logits[1, 0]), abs=1e-6)


def test_decay_falls_monotonically_with_distance_into_the_past():
    # Equal scores: gamma(t, .) is uniform over the t + 1 visible positions, so
    # d(t, tau)^2 = |t - tau| * (t - tau) / (t + 1) and the factor is exp(-theta d).
    length, theta = 6, torch.tensor([0.7])
    allowed = torch.ones(length, length, dtype=torch.bool).tril()
    decay = distance_decay(torch.zeros(1, length, length), allowed, theta)[0]
    t = 5
    expected = [np.exp(-0.7 * np.sqrt((t - tau) ** 2 / (t + 1))) for tau in range(t + 1)]
    np.testing.assert_allclose(decay[t, : t + 1].numpy(), expected, rtol=1e-6)
    assert torch.all(decay[t, 1 : t + 1] >= decay[t, :t])  # nearer keys decay less
    assert decay[t, t] == 1.0  # the key at the query's own position is not decayed
    # A larger rate decays faster.
    faster = distance_decay(torch.zeros(1, length, length), allowed, torch.tensor([1.4]))[0]
    assert torch.all(faster[t, :t] < decay[t, :t])


def test_rasch_terms_only_when_items_share_skills():
    log = EventLog(["a"] * 4 + ["b"] * 4, [1, 2, 3, 1, 2, 3, 1, 2], np.tile(np.arange(4.0), 2),
                   [1, 0, 1, 1, 0, 0, 1, 0])  # fmt: skip
    tiny = {"d_model": 8, "n_heads": 2, "d_ff": 8, "head_size": 8, "device": "cpu",
            "validation": 0.0, "epochs": 1}  # fmt: skip
    assert not AKT(**tiny).fit(log).network_.rasch
    domain = Domain([Item(1, ("s",)), Item(2, ("s",)), Item(3, ("t",))])
    model = AKT(domain=domain, **tiny).fit(log)
    assert model.network_.rasch and model.skills_ == ["s", "t"]
    assert model.network_.difficulty.weight.shape == (3, 1)


def test_registered_with_its_docstring_and_parameters():
    assert MODELS["akt"] is AKT
    assert MODELS.summary("akt").startswith("AKT, context-aware attentive knowledge tracing")
    model = create_model("akt", d_model=16, n_heads=4)
    assert model.get_params()["d_model"] == 16 and model.lr == 1e-3 and model.dropout == 0.05
    with pytest.raises(Exception, match="n_heads"):
        create_model("akt", d_model=10, n_heads=4)
