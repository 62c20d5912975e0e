"""The recurrent memory model (``memory-rnn``): one review is one GRU step, so recording a
log at once, in pieces or one review at a time gives the same states as the GRU run by
hand; the forgetting curve never rises with time; the NumPy model that predicts computes
what the torch network was trained on; a saved model predicts identically; fitted on
reviews drawn from a known exponential forgetting law it comes close to that law's own
log loss, far below a constant predictor's; fitting without PyTorch says what to install.

Tests that fit (PyTorch) carry the ``torch`` marker; the rest run in the core venv.
"""

from __future__ import annotations

import json
import math
import sys

import numpy as np
import pytest

from mentor.errors import MentorError, StateError
from mentor.events import EventLog
from mentor.metrics import log_loss
from mentor.students import MODELS, model_from_state
from mentor.students.memory import MemoryRNN
from mentor.students.memory._history import DAY, Reviews
from mentor.students.memory.rnn import (
    INPUTS,
    card_sequences,
    curve,
    gru_step,
    initial_weights,
    review_inputs,
)

T0 = 1_704_067_200.0  # 2024-01-01T00:00:00Z


def random_log(seed: int = 0, n_cards: int = 6, n_events: int = 60) -> EventLog:
    """Two learners reviewing a few cards at random gaps (minutes to weeks), random ratings."""
    rng = np.random.default_rng(seed)
    learners = rng.choice(["ann", "bob"], n_events)
    cards = rng.choice([f"c{i}" for i in range(n_cards)], n_events)
    gaps = np.exp(rng.uniform(math.log(60.0), math.log(20 * DAY), n_events))
    times = T0 + np.cumsum(gaps)
    ratings = rng.integers(1, 5, n_events)
    return EventLog(
        list(learners), list(cards), list(times), (ratings > 1).astype(float), {"rating": ratings}
    )


def scaled_model(scale: float = 3.0, seed: int = 1) -> MemoryRNN:
    """An unfitted model with its weights scaled up, so that states differ clearly."""
    model = MemoryRNN(seed=seed)
    model.weights_ = {k: v * scale for k, v in model.weights_.items()}
    return model


def hand_states(model: MemoryRNN, log: EventLog) -> dict[tuple, np.ndarray]:
    """The GRU run by hand over each card's reviews, in time order."""
    states: dict[tuple, np.ndarray] = {}
    last: dict[tuple, float] = {}
    count: dict[tuple, int] = {}
    order = np.argsort(log.time, kind="stable")
    for i in order.tolist():
        key = (log.learner[i], log.item[i])
        h = states.get(key, np.zeros(model.hidden_size))
        n = count.get(key, 0)
        days = (log.time[i] - last[key]) / DAY if n else 0.0
        before = float(curve(model.weights_, h, np.asarray(days))) if n else 0.0
        x = review_inputs(
            np.array([days]), np.array([float(n)]), [log.extra["rating"][i]], [before]
        )
        states[key] = gru_step(model.weights_, x[0], h)
        last[key], count[key] = log.time[i], n + 1
    return states


def test_registered_and_built_without_torch():
    assert MODELS["memory-rnn"] is MemoryRNN
    model = MemoryRNN()
    assert model.weights_["w_x"].shape == (3 * 16, len(INPUTS))
    assert model.predict("ann", ["c1"]).tolist() == [0.5]  # never reviewed: the new-card rate


def test_fit_without_torch_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mentor.students.deep.memory_training", None)
    with pytest.raises(MentorError, match=r"needs PyTorch to fit: pip install 'mentor\[torch\]'"):
        MemoryRNN().fit(random_log())


def test_updates_at_once_in_pieces_and_one_by_one_agree_with_the_gru_by_hand():
    log = random_log()
    whole, pieces, single = scaled_model(), scaled_model(), scaled_model()
    whole.update(log)
    pieces.update(log[np.arange(0, 25)])
    pieces.update(log[np.arange(25, len(log))])
    for i in range(len(log)):
        single.update(log[np.array([i])])
    expected = hand_states(whole, log)
    for model in (whole, pieces, single):
        reviews = model.reviews_
        assert len(reviews) == len(expected)
        for key, h in expected.items():
            assert model.hidden_[reviews.row_of[key]].tolist() == h.tolist()
    t = float(log.time.max()) + 2.5 * DAY
    cards = sorted(set(log.item.tolist()))
    for learner in ("ann", "bob"):
        a = whole.predict(learner, cards, t)
        assert a.tolist() == single.predict(learner, cards, t).tolist()
        assert a.tolist() == pieces.predict(learner, cards, t).tolist()


def test_predict_log_is_each_review_from_the_states_before_it():
    log = random_log(seed=2)
    model = scaled_model()
    predictions = model.predict_log(log)
    assert len(model.reviews_) == 0  # predicting changed nothing
    online = scaled_model()
    for i in np.argsort(log.time, kind="stable").tolist():
        expected = online.predict(log.learner[i], [log.item[i]], log.time[i])[0]
        assert predictions[i] == expected
        online.update(log[np.array([i])])


def test_the_curve_never_rises_with_time():
    rng = np.random.default_rng(0)
    days = np.concatenate([[0.0], np.geomspace(1e-4, 1e4, 400)])
    for seed in range(5):
        weights = {k: v * 4.0 for k, v in initial_weights(16, 3, seed).items()}
        h = rng.uniform(-1, 1, (50, 16))
        recall = curve(weights, h[:, None, :], days[None, :])
        assert np.all((recall > 0) & (recall < 1))
        assert np.all(np.diff(recall, axis=1) <= 0.0)
    model = scaled_model()
    model.update(random_log())
    cards = sorted(set(model.reviews_.card))
    now = model.reviews_.now["ann"]
    series = np.array([model.predict("ann", cards, now + d * DAY) for d in days]).T
    assert np.all(np.diff(series, axis=1) <= 0.0)


def test_a_saved_model_predicts_and_moves_alike():
    log = random_log(seed=3)
    model = scaled_model()
    model.update(log[np.arange(40)])
    state = json.loads(json.dumps(model.state_dict()))
    restored = model_from_state(state)
    assert isinstance(restored, MemoryRNN) and restored.get_params() == model.get_params()
    later = log[np.arange(40, len(log))]
    cards = sorted(set(log.item.tolist()))
    t = float(log.time.max()) + DAY
    for step in range(2):
        for learner in ("ann", "bob"):
            assert restored.predict(learner, cards, t).tolist() == (
                model.predict(learner, cards, t).tolist()
            )
        if step == 0:
            model.update(later)
            restored.update(later)


def test_a_corrupt_state_is_refused():
    model = scaled_model()
    model.update(random_log())
    state = json.loads(json.dumps(model.state_dict()))
    state["state"]["hidden"] = state["state"]["hidden"][:-1]
    with pytest.raises(StateError, match="states of 16 numbers"):
        model_from_state(state)
    state = json.loads(json.dumps(model.state_dict()))
    state["state"]["weights"]["w_h"][0][0] = None
    with pytest.raises(StateError):
        model_from_state(state)


# ---------------------------------------------------------------- fitting (PyTorch)


def exponential_law_log(
    n_cards: int, seed: int, learner: str = "ann"
) -> tuple[EventLog, np.ndarray]:
    """Reviews whose recall follows a known exponential law, and that law's recall of each.

    Each card's stability starts at 1 day and is multiplied by 3 after a success and by
    0.5 after a lapse; recall after Δ days is exp(-Δ / S). Gaps are log-uniform from 0.3
    to 30 days; 8 reviews per card; a success is rated Good, a lapse Again.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n_cards):
        t = T0 + rng.uniform(0, 30) * DAY
        rows.append((f"{learner}{c}", t, 1.0, 3, math.nan))
        stability = 1.0
        for _ in range(7):
            gap = math.exp(rng.uniform(math.log(0.3), math.log(30.0)))
            t += gap * DAY
            p = math.exp(-gap / stability)
            success = bool(rng.random() < p)
            rows.append((f"{learner}{c}", t, float(success), 3 if success else 1, p))
            stability *= 3.0 if success else 0.5
    rows.sort(key=lambda row: row[1])
    cards, times, outcomes, ratings, truth = zip(*rows, strict=True)
    log = EventLog([learner] * len(rows), list(cards), list(times), list(outcomes))
    log.extra["rating"] = np.array(ratings)
    return log, np.array(truth)


@pytest.mark.torch
def test_the_numpy_model_computes_what_torch_trained():
    pytest.importorskip("torch")
    from mentor.students.deep.memory_training import predict_sequences

    log = random_log(seed=4).sorted()
    model = scaled_model()
    sequences = card_sequences(log)
    torch_p = predict_sequences(model.weights_, sequences)
    numpy_p = model.predict_log(log)
    look = Reviews().lookback(log)
    seen = look.count > 0
    table = torch_p[look.row[seen], look.count[seen].astype(int)]
    np.testing.assert_allclose(table, numpy_p[seen], rtol=1e-12, atol=1e-14)


@pytest.mark.torch
def test_fit_on_an_exponential_law_comes_close_to_the_law():
    pytest.importorskip("torch")
    train, _ = exponential_law_log(300, seed=0)
    test, truth = exponential_law_log(150, seed=1, learner="new")
    model = MemoryRNN(hidden_size=8, holdout=0.0, max_epochs=40)
    records: list[dict] = []
    model.fit(train, on_epoch=records.append)
    assert [r["epoch"] for r in records] == list(range(1, 41))
    seen = ~np.isnan(truth)
    y = test.outcome[seen]
    fitted = log_loss(y, model.predict_log(test)[seen])
    law = log_loss(y, truth[seen])
    constant = log_loss(y, np.full(len(y), train.outcome.mean()))
    # The law is the best any model can do; a constant knows nothing of the history.
    # The fitted GRU must close most of the gap between them: within a quarter of it
    # (0.07 nats here; measured 0.180 against the law's 0.156 and the constant's 0.444),
    # from 2,100 scored training reviews for 522 weights.
    assert law < constant - 0.15
    assert fitted - law < 0.25 * (constant - law)
    again = MemoryRNN(hidden_size=8, holdout=0.0, max_epochs=40).fit(train)
    assert again.predict_log(test).tolist() == model.predict_log(test).tolist()  # seeded


@pytest.mark.torch
def test_fit_chooses_its_epochs_on_the_latest_reviews():
    pytest.importorskip("torch")
    train, _ = exponential_law_log(60, seed=2)
    model = MemoryRNN(hidden_size=4, max_epochs=12, patience=3)
    records: list[dict] = []
    model.fit(train, on_epoch=records.append)
    choose = [r for r in records if r["phase"] == "choose"]
    final = [r for r in records if r["phase"] == "final"]
    assert [r["epoch"] for r in records] == list(range(1, len(records) + 1))
    assert [r["val_loss"] for r in choose] == model.validation_
    assert model.epochs_ == int(np.argmin(model.validation_)) + 1 == len(final)
    assert len(choose) == 12 or len(choose) == model.epochs_ + 3


# ---------------------------------------------------------------- the FSRS hybrid


def test_the_hybrid_reads_fsrs_state_before_each_review():
    from mentor.students.memory import FSRS, MemoryRNNFSRS

    log = random_log(seed=5).sorted()
    hybrid = MemoryRNNFSRS(fsrs_optimize=False)
    assert hybrid.weights_["w_x"].shape == (3 * 16, len(INPUTS) + 3)
    fsrs = FSRS(optimize=False)
    seen: dict[tuple, bool] = {}
    for i in range(len(log)):
        event = log[np.array([i])]
        key = (log.learner[i], log.item[i])
        row, new = hybrid.reviews_.open(*key)
        x = hybrid._extra(row, new, log.time[i], log.outcome[i], int(log.extra["rating"][i]))
        hybrid.reviews_.record(row, log.time[i], log.outcome[i])
        if key in seen:
            card = fsrs.cards_[fsrs.reviews_.row_of[key]]
            r = fsrs.predict(key[0], [key[1]], log.time[i])[0]
            r = min(max(r, 1e-6), 1 - 1e-6)
            expected = [math.log(card.stability), (card.difficulty - 5) / 5, math.log(r / (1 - r))]
            assert x == pytest.approx(expected, rel=1e-12, abs=1e-12)
        else:
            assert x == [0.0, 0.0, 0.0]
        seen[key] = True
        fsrs.update(event)


def test_a_saved_hybrid_predicts_alike():
    from mentor.students.memory import MemoryRNNFSRS

    log = random_log(seed=6)
    model = MemoryRNNFSRS(fsrs_optimize=False)
    model.update(log)
    restored = model_from_state(json.loads(json.dumps(model.state_dict())))
    t = float(log.time.max()) + 3 * DAY
    cards = sorted(set(log.item.tolist()))
    for learner in ("ann", "bob"):
        assert (
            restored.predict(learner, cards, t).tolist()
            == model.predict(learner, cards, t).tolist()
        )
        assert restored.state(learner) == model.state(learner)
