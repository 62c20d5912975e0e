"""The curriculum sampler for training loops (mentor.torch): feedback reaching the
teacher, difficulty scorers, pacing, anti-/random/cyclical curricula, arms,
self-paced weights, saving and restoring, error messages, the hook and the
Lightning-style callback, and a short training run on scikit-learn's digits.

Every expected value is worked out by hand from the rule the code documents.
"""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import torch.nn.functional as F  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from mentor.domain import Domain, Item  # noqa: E402
from mentor.errors import DataError, MentorError, ParameterError, StateError  # noqa: E402
from mentor.teachers import (  # noqa: E402
    TSCL,
    AntiCurriculum,
    Curriculum,
    CyclicalCurriculum,
    ExpectedGain,
    FixedSequence,
    MasteryGate,
    RandomCurriculum,
    RandomTeacher,
    SelfPaced,
    TargetSuccess,
)
from mentor.teachers.curriculum import random_keys  # noqa: E402
from mentor.teachers.pacing import Constant, Linear  # noqa: E402
from mentor.torch.hooks import (  # noqa: E402
    CurriculumCallback,
    CurriculumHook,
    lightning_callback,
)
from mentor.torch.sampler import CurriculumSampler  # noqa: E402
from mentor.torch.scoring import (  # noqa: E402
    MovingLoss,
    ScoreModel,
    StaticScores,
    feature_scores,
    transfer_scores,
)
from mentor.torch.weighting import SelfPacedWeights  # noqa: E402


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny networks run fastest on one thread; the caller's setting is restored."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


class Recorder(Curriculum):
    """A curriculum that keeps every log it observes."""

    def __init__(self, **params) -> None:
        super().__init__(**params)
        self.logs = []

    def observe(self, events) -> None:
        self.logs.append(events)
        super().observe(events)


def shuffled_scores(n: int, seed: int = 3) -> np.ndarray:
    """Distinct scores 0..n-1 in a random order, so that easiest = smallest score."""
    return np.random.default_rng(seed).permutation(n).astype(float)


def lowest(scores: np.ndarray, size: int) -> set[int]:
    return set(np.argsort(scores)[:size].tolist())


# ---------------------------------------------------------------- feedback


def test_feedback_reaches_the_teacher_as_events():
    scores = shuffled_scores(30)
    teacher = Recorder(difficulty="model", pacing=Linear(1.0, 1.0), clock="time", seed=0)
    sampler = CurriculumSampler(teacher, 30, 4, scorer=StaticScores(scores), learner=7, seed=1)
    first, second = sampler.next_batch(), sampler.next_batch()
    losses = [0.1, 0.2, 0.3, 0.4]
    sampler.feedback(torch.as_tensor(first), losses=torch.tensor(losses), correct=[1, 0, 1, 1])
    log = teacher.logs[-1]
    assert log.learner.tolist() == [7] * 4
    assert log.item.tolist() == first.tolist()
    assert log.time.tolist() == [0.0] * 4  # the step the batch was drawn at
    assert log.outcome.tolist() == [1.0, 0.0, 1.0, 1.0]  # correct wins over the loss
    np.testing.assert_allclose(log.extra["loss"], losses)
    # without correctness, outcome = exp(-loss): the probability given to the label
    sampler.feedback(second, losses=[math.log(2), math.log(4), 0.0, math.log(8)])
    np.testing.assert_allclose(teacher.logs[-1].outcome, [0.5, 0.25, 1.0, 0.125])
    assert teacher.logs[-1].time.tolist() == [1.0] * 4
    third = sampler.next_batch()
    sampler.feedback(third, correct=[1, 1, 1, 1], outcome=[0.2, 0.4, 0.6, 0.8])
    np.testing.assert_allclose(teacher.logs[-1].outcome, [0.2, 0.4, 0.6, 0.8])
    assert "loss" not in teacher.logs[-1].extra
    assert teacher.steps_.count == {7: 12}


def test_feedback_of_a_later_batch_retires_the_earlier_ones():
    sampler = CurriculumSampler(RandomTeacher(seed=0), 100, 5, seed=0)
    first, second = sampler.next_batch(), sampler.next_batch()
    np.testing.assert_array_equal(sampler.pending(), first)
    sampler.feedback(second, correct=np.ones(5))
    assert sampler.pending() is None
    fresh = set(first.tolist()) - set(second.tolist())
    with pytest.raises(DataError, match="field 'indices'.*never drawn, or already fed back"):
        sampler.feedback(sorted(fresh)[:1], correct=[1])


def test_moving_loss_by_hand():
    scorer = MovingLoss(4, alpha=0.5)
    assert np.isnan(scorer.scores()).all()
    scorer.update(np.array([0, 1]), np.array([2.0, 4.0]), None)
    np.testing.assert_allclose(scorer.scores(), [2.0, 4.0, np.nan, np.nan])
    scorer.update(np.array([0, 2]), np.array([1.0, 3.0]), None)
    np.testing.assert_allclose(scorer.scores(), [1.5, 4.0, 3.0, np.nan])  # 0.5*2 + 0.5*1
    scorer.update(np.array([1, 1]), np.array([0.0, 2.0]), None)  # once, with the mean 1.0
    np.testing.assert_allclose(scorer.scores(), [1.5, 2.5, 3.0, np.nan])
    assert scorer.version == 3
    scorer.update(np.array([3]), None, np.array([1.0]))  # no loss: nothing changes
    assert scorer.version == 3
    seeded = MovingLoss(3, alpha=0.25, initial=[5.0, 6.0, 7.0])
    seeded.update(np.array([1]), np.array([2.0]), None)  # first loss replaces the initial score
    np.testing.assert_allclose(seeded.scores(), [5.0, 2.0, 7.0])


def test_feedback_updates_the_moving_loss_scorer():
    scorer = MovingLoss(10, alpha=0.5)
    teacher = Curriculum(difficulty="model", pacing=Linear(1.0, 1.0), clock="time", seed=0)
    sampler = CurriculumSampler(teacher, 10, 10, scorer=scorer, seed=0)
    batch = sampler.next_batch()
    sampler.feedback(batch, losses=batch / 10.0)
    batch = sampler.next_batch()
    sampler.feedback(batch, losses=np.ones(10))
    np.testing.assert_allclose(scorer.scores(), 0.5 * np.arange(10) / 10.0 + 0.5)


def test_changed_scores_rerank_after_rescore_every_steps():
    teacher = Curriculum(difficulty="model", pacing=Constant(0.1), clock="time", seed=0)
    scorer = MovingLoss(20, alpha=1.0, initial=np.arange(20.0))
    sampler = CurriculumSampler(teacher, 20, 2, scorer=scorer, rescore_every=2, seed=0)
    drawn = []
    for _ in range(4):
        batch = sampler.next_batch()  # the open part is the 2 easiest: 0.1 * 20
        drawn.append(sorted(batch.tolist()))
        sampler.feedback(batch, losses=[100.0, 100.0])  # now the hardest
    # ranked at step 0; scores change at once, but the next ranking waits for step 2
    assert drawn == [[0, 1], [0, 1], [2, 3], [2, 3]]


# ---------------------------------------------------------------- pacing and orders


def test_linear_pacing_opens_only_the_easiest_examples():
    n, k = 47, 5
    scores = shuffled_scores(n)
    scorer = StaticScores(scores)
    teacher = Curriculum(difficulty="model", pacing=Linear(0.2, 10), clock="time", seed=4)
    twin = copy.deepcopy(teacher)
    sampler = CurriculumSampler(teacher, n, k, scorer=scorer, seed=2)
    for step in range(13):
        fraction = min(1.0, 0.2 + 0.8 * step / 10)
        batch = sampler.next_batch()
        assert len(set(batch.tolist())) == k
        # open part: floor(fraction * n) examples, at least k (0.2 * 47 = 9.4 -> 9)
        assert set(batch.tolist()) <= lowest(scores, max(k, math.floor(fraction * n + 1e-9)))
        # the vectorised path draws exactly what the teacher's own select draws
        expected = twin.select(0, sampler.candidates, k, float(step), ScoreModel(scorer))
        assert batch.tolist() == [int(i) for i in expected]
        sampler.feedback(batch, correct=np.ones(k))


def test_anti_curriculum_opens_the_hardest_and_random_curriculum_a_fixed_order():
    n, k = 40, 4
    scores = shuffled_scores(n)
    anti = AntiCurriculum(difficulty="model", pacing=Linear(0.25, 100), clock="time", seed=0)
    sampler = CurriculumSampler(anti, n, k, scorer=StaticScores(scores), seed=0)
    hardest = set(np.argsort(-scores)[:10].tolist())
    for _ in range(5):
        assert set(sampler.next_batch().tolist()) <= hardest

    rand = RandomCurriculum(pacing=Linear(0.25, 100), clock="time", order_seed=7, seed=0)
    sampler = CurriculumSampler(rand, n, k, seed=0)
    keys = random_keys(7, list(range(n)))  # the teacher's hash of each example id
    first = set(np.argsort(keys)[:10].tolist())
    drawn = set()
    for _ in range(5):
        drawn |= set(sampler.next_batch().tolist())
    assert drawn <= first
    assert first != lowest(scores, 10)


def test_cyclical_curriculum_grows_and_shrinks_the_open_part():
    n, k = 40, 4
    scores = shuffled_scores(n)
    teacher = CyclicalCurriculum(
        difficulty="model",
        start=0.25,
        end=1.0,
        multiplier=0.5,
        phase_length=2,
        clock="time",
        seed=1,
    )
    sampler = CurriculumSampler(teacher, n, k, scorer=StaticScores(scores), seed=0)
    sizes = [10, 20, 40, 20]  # 0.25, 0.5, 1.0, 0.5 of 40, then again
    union_full = set()
    for step in range(16):
        batch = set(sampler.next_batch().tolist())
        size = sizes[(step // 2) % 4]
        assert batch <= lowest(scores, size)
        if size == 40:
            union_full |= batch
    assert union_full - lowest(scores, 20)  # the whole pool is open again in phase 2


def test_self_paced_teacher_draws_below_the_threshold():
    n = 20
    scores = np.arange(n) / n  # 0, 0.05, ..., 0.95
    teacher = SelfPaced(threshold=0.3, signal="model", seed=0)
    sampler = CurriculumSampler(teacher, n, 4, scorer=StaticScores(scores), seed=0)
    for _ in range(5):
        batch = sampler.next_batch()
        assert set(batch.tolist()) <= set(range(6))  # scores 0 .. 0.25 < 0.3
        sampler.feedback(batch, losses=np.zeros(4))


def test_target_success_teacher_reads_one_minus_the_score():
    # predicted success = 1 - score = 0.1, 0.5, 0.72, 0.65, 1.0, 0.3; distances to the
    # target 0.7: 0.6, 0.2, 0.02, 0.05, 0.3, 0.4, so the two closest are examples 2, 3
    scores = StaticScores([0.9, 0.5, 0.28, 0.35, 0.0, 0.7])
    sampler = CurriculumSampler(TargetSuccess(target=0.7, seed=0), 6, 2, scorer=scores, seed=0)
    assert sampler.next_batch().tolist() == [2, 3]


def test_teachers_that_need_more_than_predictions_say_a_scorer_cannot_serve_them():
    # examples 0-2 exercise skill "easy", 3-5 skill "hard", which needs "easy" first
    n = 6
    domain = Domain(
        [Item(i, ("easy" if i < 3 else "hard",)) for i in range(n)],
        prerequisites=[("easy", "hard")],
    )
    scores = StaticScores(np.linspace(0.0, 1.0, n))
    # the mastery gate reads model.state(learner)["mastery"] per skill; a scorer has
    # one score per example and no skills (this was an AttributeError on 'state')
    gate = CurriculumSampler(MasteryGate(domain, seed=0), n, 2, scorer=scores, seed=0)
    with pytest.raises(MentorError, match="scores examples and knows no mastery"):
        gate.next_batch()
    # expected gain simulates a practice step (an AttributeError on 'supports_lookahead')
    with pytest.raises(ParameterError, match="field 'teacher'.*'expected_gain' plans with"):
        CurriculumSampler(ExpectedGain(domain, seed=0), n, 2, scorer=scores, seed=0)


def test_arm_teacher_chooses_arms_and_observes_them():
    arms = np.arange(12) % 3
    teacher = FixedSequence(order=[2, 0, 1])
    sampler = CurriculumSampler(teacher, 12, 4, arms=arms, seed=0)
    batch = sampler.next_batch()
    assert sorted(batch.tolist()) == [2, 5, 8, 11]  # all of arm 2, without repeats
    events = sampler.feedback(batch, correct=[1, 0, 1, 1])
    assert events.item.tolist() == [2, 2, 2, 2]
    # 4 events advance the sequence by 4: order[4 % 3] = arm 0
    assert sorted(sampler.next_batch().tolist()) == [0, 3, 6, 9]

    two = CurriculumSampler(RandomTeacher(seed=0), 12, 4, arms=arms, arms_per_batch=2, seed=0)
    batch = two.next_batch()
    assert len(set(arms[batch[:2]].tolist())) == 1
    assert len(set(arms[batch[2:]].tolist())) == 1
    assert arms[batch[0]] != arms[batch[2]]


# ---------------------------------------------------------------- self-paced weights


def test_self_paced_weights_by_hand():
    losses = np.array([0.0, 0.25, 0.5, 0.75, 1.0, 2.0])
    hard = SelfPacedWeights("hard", lam=1.0)
    np.testing.assert_array_equal(hard(losses, 0), [1, 1, 1, 1, 0, 0])
    linear = SelfPacedWeights("linear", lam=1.0)
    np.testing.assert_allclose(linear(losses, 0), [1, 0.75, 0.5, 0.25, 0, 0])
    # lambda' = 0.5, zeta = 1 * 0.5 / 0.5 = 1: weight 1/l - 1 between 0.5 and 1
    mixture = SelfPacedWeights("mixture", lam=1.0, inner=0.5)
    np.testing.assert_allclose(mixture(losses, 0), [1, 1, 1, 1 / 0.75 - 1, 0, 0])
    np.testing.assert_allclose(
        mixture(torch.tensor(losses), 0).numpy(), [1, 1, 1, 1 / 0.75 - 1, 0, 0], rtol=1e-6
    )
    grows = SelfPacedWeights("hard", lam=1.0, growth=2.0, interval=10)
    assert [grows.lam_at(s) for s in (0, 9, 10, 25)] == [1.0, 1.0, 2.0, 4.0]
    np.testing.assert_array_equal(grows(losses, 25), [1, 1, 1, 1, 1, 1])
    x = torch.tensor([0.5, 1.5], requires_grad=True)
    loss = hard.weighted_mean(x, 0)  # (1 * 0.5 + 0 * 1.5) / 2
    assert loss.item() == pytest.approx(0.25)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.5, 0.0])


def test_self_paced_weights_reject_bad_parameters():
    with pytest.raises(ParameterError, match="field 'kind', value 'soft'"):
        SelfPacedWeights("soft")
    with pytest.raises(ParameterError, match="field 'growth', value 0.5"):
        SelfPacedWeights(growth=0.5)
    with pytest.raises(ParameterError, match="field 'inner', value 1.0"):
        SelfPacedWeights("mixture", inner=1.0)


# ---------------------------------------------------------------- scorers


def test_transfer_scores_by_hand():
    net = torch.nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        net.weight.copy_(torch.eye(2))  # logits = inputs
    x = torch.tensor([[math.log(3), 0.0], [0.0, 0.0], [0.0, math.log(3)]])
    y = torch.tensor([0, 1, 0])
    # p(label) = 3/4, 1/2, 1/4
    loss = transfer_scores(net, (x, y), batch_size=2)
    np.testing.assert_allclose(loss, -np.log([0.75, 0.5, 0.25]), rtol=1e-6)
    confidence = transfer_scores(net, TensorDataset(x, y), kind="confidence", batch_size=2)
    np.testing.assert_allclose(confidence, [0.25, 0.5, 0.75], rtol=1e-6)
    assert net.training  # mode restored
    with pytest.raises(ParameterError, match="field 'kind'"):
        transfer_scores(net, (x, y), kind="margin")


def test_feature_scores_and_static_scores():
    x = torch.arange(12, dtype=torch.float32).reshape(4, 3)
    scores = feature_scores(lambda b: b.sum(dim=1), x, batch_size=3)
    np.testing.assert_allclose(scores, [3, 12, 21, 30])
    with pytest.raises(DataError, match="field 'fn'"):
        feature_scores(lambda b: b.sum(), x)
    with pytest.raises(DataError, match="field 'scores'.*example 1 is infinite"):
        StaticScores([0.0, np.inf])


# ---------------------------------------------------------------- state


def paced_sampler(n=60, k=6):
    teacher = Curriculum(difficulty="model", pacing=Linear(0.2, 20), clock="time", seed=5)
    scorer = MovingLoss(n, alpha=0.5, initial=shuffled_scores(n))
    return CurriculumSampler(teacher, n, k, scorer=scorer, rescore_every=3, seed=9)


def run(sampler, steps, start):
    """Draw and feed back ``steps`` batches with losses that depend on the example and step."""
    drawn = []
    for step in range(start, start + steps):
        batch = sampler.next_batch()
        drawn.append(batch.tolist())
        sampler.feedback(batch, losses=(batch % 7) / 7 + 0.01 * step, correct=batch % 2)
    return drawn


def test_state_round_trip_draws_the_same_batches():
    sampler = paced_sampler()
    run(sampler, 7, 0)
    saved = json.loads(json.dumps(sampler.state_dict()))
    expected = run(sampler, 8, 7)
    restored = paced_sampler()
    restored.load_state_dict(saved)
    assert run(restored, 8, 7) == expected


def test_state_round_trip_with_arms_and_a_pending_batch():
    def make():
        return CurriculumSampler(TSCL(seed=3), 30, 5, arms=np.arange(30) % 4, seed=2)

    sampler = make()
    for _ in range(4):
        batch = sampler.next_batch()
        sampler.feedback(batch, correct=batch % 2)
    pending = sampler.next_batch()
    saved = json.loads(json.dumps(sampler.state_dict()))
    sampler.feedback(pending, correct=pending % 2)
    expected = run(sampler, 5, 0)
    restored = make()
    restored.load_state_dict(saved)
    again = restored.next_batch()  # drawn before the save, never fed back: drawn again
    assert again.tolist() == pending.tolist()
    restored.feedback(again, correct=again % 2)
    assert run(restored, 5, 0) == expected


def test_restore_rejects_other_arguments():
    saved = paced_sampler().state_dict()
    with pytest.raises(StateError, match="batch_size=6, this one 5"):
        paced_sampler(k=5).load_state_dict(saved)
    with pytest.raises(StateError, match="not a saved curriculum sampler"):
        paced_sampler().load_state_dict({"kind": "tscl"})
    static = CurriculumSampler(
        Curriculum(difficulty="model"), 3, 1, scorer=StaticScores([1, 2, 3]), seed=0
    )
    state = static.state_dict()
    other = CurriculumSampler(
        Curriculum(difficulty="model"), 3, 1, scorer=StaticScores([3, 2, 1]), seed=0
    )
    with pytest.raises(StateError, match="static scores differ"):
        other.load_state_dict(state)


# ---------------------------------------------------------------- errors


def test_bad_feedback_names_the_field_and_value():
    sampler = CurriculumSampler(RandomTeacher(seed=0), 50, 4, seed=0)
    batch = sampler.next_batch()
    never = next(i for i in range(50) if i not in batch)
    with pytest.raises(DataError, match=f"field 'indices', value {never}: was not drawn"):
        sampler.feedback([never], losses=[1.0])
    with pytest.raises(DataError, match="field 'indices', value 50: is not an example index"):
        sampler.feedback([50], losses=[1.0])
    with pytest.raises(DataError, match="field 'indices', value 'float64'"):
        sampler.feedback(batch.astype(float), losses=np.ones(4))
    with pytest.raises(DataError, match="field 'losses', value 3: has 3 values for 4 indices"):
        sampler.feedback(batch, losses=[1.0, 2.0, 3.0])
    with pytest.raises(DataError, match=f"field 'losses', value 'nan': .*example {batch[2]}"):
        sampler.feedback(batch, losses=[1.0, 2.0, float("nan"), 3.0])
    with pytest.raises(DataError, match="field 'correct', value 2.0: must be 0 or 1"):
        sampler.feedback(batch, correct=[1, 0, 2, 1])
    with pytest.raises(DataError, match="field 'outcome', value 1.5"):
        sampler.feedback(batch, outcome=[0.5, 1.5, 0.0, 1.0])
    with pytest.raises(DataError, match="field 'losses', value -1.0: must be >= 0"):
        sampler.feedback(batch, losses=[0.5, -1.0, 0.0, 1.0])
    with pytest.raises(DataError, match="give losses, correct or outcome"):
        sampler.feedback(batch)
    sampler.feedback(batch, losses=np.ones(4))  # the failed calls left the batch pending
    with pytest.raises(DataError, match="already fed back"):
        sampler.feedback(batch, losses=np.ones(4))


def test_bad_sampler_arguments():
    with pytest.raises(ParameterError, match="field 'scorer'.*'curriculum' reads difficulties"):
        CurriculumSampler(Curriculum(difficulty="model"), 10, 2)
    with pytest.raises(ParameterError, match="field 'batch_size', value 0"):
        CurriculumSampler(RandomTeacher(), 10, 0)
    with pytest.raises(ParameterError, match="field 'scorer': scores 3 examples, not 10"):
        CurriculumSampler(RandomTeacher(), 10, 2, scorer=StaticScores([1, 2, 3]))
    with pytest.raises(DataError, match="field 'arms': has 3 arm ids for 10 examples"):
        CurriculumSampler(RandomTeacher(), 10, 2, arms=[0, 1, 2])
    with pytest.raises(ParameterError, match="field 'teacher'"):
        CurriculumSampler("curriculum", 10, 2)


# ---------------------------------------------------------------- hooks


def test_hook_reports_and_requires_a_report():
    teacher = Recorder(difficulty="model", pacing=Linear(1.0, 1.0), clock="time", seed=0)
    sampler = CurriculumSampler(teacher, 20, 3, scorer=MovingLoss(20), seed=0)
    hook = CurriculumHook(sampler, weights=SelfPacedWeights("hard", lam=1.0))
    batch = sampler.next_batch()
    logits = torch.tensor([[2.0, 0.0], [0.0, 2.0], [2.0, 0.0]])
    targets = torch.tensor([0, 0, 0])
    with hook.step() as fb:
        losses = torch.tensor([0.5, 1.5, 0.25], requires_grad=True)
        loss = fb.report(losses, logits, targets)
    assert loss.item() == pytest.approx((0.5 + 0.25) / 3)  # the 1.5 loss has weight 0
    log = teacher.logs[-1]
    assert log.item.tolist() == batch.tolist()
    assert log.outcome.tolist() == [1.0, 0.0, 1.0]
    np.testing.assert_allclose(sampler.scorer.scores()[batch], [0.5, 1.5, 0.25])
    with pytest.raises(MentorError, match="no batch awaits feedback"):
        with hook.step():
            pass
    sampler.next_batch()
    with pytest.raises(MentorError, match="without fb.report"):
        with hook.step():
            pass
    with pytest.raises(RuntimeError, match="boom"):  # an error in the step: no feedback
        with hook.step():
            raise RuntimeError("boom")
    assert len(teacher.logs) == 1


def test_callback_with_a_duck_typed_trainer():
    teacher = Recorder(difficulty="model", pacing=Linear(1.0, 1.0), clock="time", seed=0)
    sampler = CurriculumSampler(teacher, 20, 2, scorer=MovingLoss(20), seed=0)
    callback = CurriculumCallback(sampler)
    batch = sampler.next_batch()
    outputs = {
        "loss": torch.tensor(0.3),
        "losses": torch.tensor([0.2, 0.4]),
        "logits": torch.tensor([[1.0, 0.0], [1.0, 0.0]]),
        "targets": torch.tensor([0, 1]),
    }
    callback.on_train_batch_end(object(), object(), outputs, None, 0)
    assert teacher.logs[-1].item.tolist() == batch.tolist()
    assert teacher.logs[-1].outcome.tolist() == [1.0, 0.0]
    assert callback.state_dict() == sampler.state_dict()
    with pytest.raises(MentorError, match="per-example 'losses'"):
        callback.on_train_batch_end(object(), object(), torch.tensor(0.3), None, 1)


def test_callback_over_a_target_without_state_says_so():
    # a target that takes feedback but keeps no state of its own
    class Relay:
        def __init__(self, sampler):
            self.sampler = sampler

        def pending(self):
            return self.sampler.pending()

        def discard(self, indices):
            self.sampler.discard(indices)

        def feedback(self, indices, losses=None, correct=None):
            return self.sampler.feedback(indices, losses, correct)

    callback = CurriculumCallback(Relay(CurriculumSampler(RandomTeacher(seed=0), 10, 2, seed=0)))
    with pytest.raises(MentorError, match=r"its target \(Relay\) has no state_dict"):
        callback.state_dict()
    with pytest.raises(MentorError, match=r"its target \(Relay\) has no state_dict"):
        callback.load_state_dict({})


def test_lightning_callback_without_lightning_says_what_to_install(monkeypatch):
    import mentor.torch.hooks as hooks

    def missing(name):
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(hooks.importlib, "import_module", missing)
    sampler = CurriculumSampler(RandomTeacher(), 10, 2, seed=0)
    with pytest.raises(MentorError, match="pip install lightning"):
        lightning_callback(sampler)


def test_callback_discards_a_batch_that_training_step_skipped():
    teacher = Recorder(difficulty="model", pacing=Linear(1.0, 1.0), clock="time", seed=0)
    sampler = CurriculumSampler(teacher, 20, 2, scorer=MovingLoss(20), seed=0)
    callback = CurriculumCallback(sampler)
    sampler.next_batch()
    second = sampler.next_batch()
    callback.on_train_batch_end(object(), object(), None, None, 0)  # step 0 returned None
    callback.on_train_batch_end(object(), object(), {"losses": torch.tensor([0.1, 0.2])}, None, 1)
    assert len(teacher.logs) == 1 and teacher.logs[0].item.tolist() == second.tolist()
    assert sampler.pending() is None


def indexed_curriculum(n: int = 96, batch_size: int = 8):
    """The first ``n`` digits as a dataset whose items are ``(index, x, y)``, a
    recording curriculum with every example open, and its sampler."""
    from mentor.torch.data import WithIndices, load_digits, to_tensors

    data = to_tensors(load_digits(seed=0))
    dataset = WithIndices(TensorDataset(data.x_train.flatten(1)[:n], data.y_train[:n]))
    teacher = Recorder(difficulty="model", pacing=Linear(1.0, 1.0), clock="time", seed=0)
    scorer = StaticScores(shuffled_scores(n))
    return dataset, teacher, CurriculumSampler(teacher, n, batch_size, scorer=scorer, seed=0)


def test_a_failed_step_discards_its_batch_and_later_steps_stay_matched():
    dataset, teacher, sampler = indexed_curriculum()
    hook = CurriculumHook(sampler)
    seen = []
    for step, (index, x, _) in enumerate(DataLoader(dataset, batch_sampler=sampler)):
        try:
            with hook.step() as fb:  # no indices given: the hook matches batches itself
                if step == 3:
                    raise ValueError("a bad batch")
                fb.report(x.sum(dim=1).abs())
                seen.append(index.tolist())
        except ValueError:
            pass
    assert len(teacher.logs) == len(seen) == 11
    assert [log.item.tolist() for log in teacher.logs] == seen
    assert sampler.pending() is None


def test_a_pass_that_ended_early_does_not_shift_the_next_one():
    """Two workers fetch batches ahead; after a ``break`` they never reach the loop."""
    dataset, teacher, sampler = indexed_curriculum()
    hook = CurriculumHook(sampler)
    loader = DataLoader(dataset, batch_sampler=sampler, num_workers=2)
    seen = []
    for epoch in range(2):
        for step, (index, x, _) in enumerate(loader):
            with hook.step() as fb:
                fb.report(x.sum(dim=1).abs())
                seen.append(index.tolist())
            if epoch == 0 and step == 1:
                break
    assert len(seen) == 2 + 12
    assert [log.item.tolist() for log in teacher.logs] == seen
    assert sampler.pending() is None


def test_lightning_trainer_feeds_every_batch_back(tmp_path):
    """A real Lightning Trainer with the callback: two epochs on digits, a skipped
    batch (training_step returns None) included."""
    lightning = pytest.importorskip("lightning.pytorch")
    dataset, teacher, sampler = indexed_curriculum()
    trained = []

    class Module(lightning.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = torch.nn.Linear(64, 10)

        def training_step(self, batch, batch_idx):
            index, x, y = batch
            if self.current_epoch == 1 and batch_idx == 5:
                return None
            trained.append(index.tolist())
            losses = F.cross_entropy(self.net(x), y, reduction="none")
            return {"loss": losses.mean(), "losses": losses}

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    trainer = lightning.Trainer(
        max_epochs=2,
        callbacks=[lightning_callback(sampler)],
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    )
    trainer.fit(Module(), DataLoader(dataset, batch_sampler=sampler))
    assert len(trained) == 2 * 12 - 1
    assert [log.item.tolist() for log in teacher.logs] == trained
    assert sampler.pending() is None


def test_example_sampler_yields_the_batches_one_by_one():
    def make():
        teacher = Curriculum(difficulty="model", pacing=Linear(0.5, 4), clock="time", seed=1)
        scorer = StaticScores(shuffled_scores(30))
        return CurriculumSampler(teacher, 30, 4, scorer=scorer, steps_per_epoch=5, seed=0)

    flat = list(make().examples())
    batches = list(make())
    assert len(batches) == 5 and len(flat) == len(make().examples()) == 20
    assert flat == [i for batch in batches for i in batch]


def test_short_training_on_digits_with_the_hook():
    from mentor.torch.data import load_digits, to_tensors

    data = to_tensors(load_digits(seed=0))
    x_train, y_train = data.x_train.flatten(1), data.y_train
    x_test, y_test = data.x_test.flatten(1), data.y_test
    n = len(x_train)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
    optimiser = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    teacher = Curriculum(difficulty="model", pacing=Linear(0.3, 60), clock="time", seed=0)
    intensity = feature_scores(lambda b: b.abs().mean(dim=1), x_train)
    sampler = CurriculumSampler(
        teacher, n, 32, scorer=MovingLoss(n, initial=intensity), rescore_every=10, seed=0
    )
    loader = DataLoader(TensorDataset(x_train, y_train), batch_sampler=sampler)
    hook = CurriculumHook(sampler)
    steps = 0
    for _ in range(3):
        for x, y in loader:
            with hook.step() as fb:
                logits = net(x)
                loss = fb.report(F.cross_entropy(logits, y, reduction="none"), logits, y)
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
            steps += 1
    assert steps == 3 * math.ceil(n / 32)
    assert teacher.steps_.count == {0: steps * 32}
    assert sampler.pending() is None
    with torch.no_grad():
        accuracy = (net(x_test).argmax(1) == y_test).float().mean().item()
    assert accuracy > 0.85  # a small MLP on digits reaches ~0.95 after three passes
