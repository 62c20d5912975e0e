"""mentor.torch.continual: data loaders, scenarios, replay buffers, strategies, trainer."""

import copy
import io
import itertools
import tarfile

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import torch.nn.functional as F  # noqa: E402
from scipy import stats  # noqa: E402
from torch import nn  # noqa: E402

from mentor.errors import DataError, ParameterError  # noqa: E402
from mentor.teachers.base import Teacher  # noqa: E402
from mentor.teachers.review import PowerLawReplay  # noqa: E402
from mentor.torch.continual import (  # noqa: E402
    MLP,
    ClassBalancedBuffer,
    ReplayBuffer,
    Scenario,
    Task,
    blurry,
    class_incremental,
    domain_incremental,
    online,
    permutations,
    rotations,
    run,
    task_incremental,
)
from mentor.torch.continual.strategies import (  # noqa: E402
    AGEM,
    ER,
    DERpp,
    FineTune,
    GDumb,
    ICaRL,
    Joint,
    LwF,
    OnlineEWC,
    ScheduledER,
    agem_project,
    diagonal_fisher,
    distillation,
    herding,
)
from mentor.torch.data import (  # noqa: E402
    ImageData,
    load_cifar10,
    load_digits,
    load_fashion_mnist,
    to_tensors,
)

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def digits():
    return to_tensors(load_digits())


@pytest.fixture(scope="module")
def split_digits(digits):
    return class_incremental(digits.x_train, digits.y_train, digits.x_test, digits.y_test, 5)


def mlp(seed=0, inputs=64, classes=10):
    torch.manual_seed(seed)
    return MLP(inputs, classes)


# ---------------------------------------------------------------- data


def test_digits_split_is_stratified_uint8():
    data = load_digits(test_size=0.3, seed=0)
    assert data.x_train.dtype == np.uint8 and data.x_train.shape[1:] == (8, 8)
    assert len(data.x_train) + len(data.x_test) == 1797
    assert data.x_train.max() == 255  # 16 * 255 / 16
    # stratified: every class has 30 % of its images (rounded) in test
    counts = np.bincount(data.y_test, minlength=10)
    totals = counts + np.bincount(data.y_train, minlength=10)
    assert np.all(np.abs(counts - 0.3 * totals) <= 1)
    assert load_digits(seed=0).y_test.tolist() == data.y_test.tolist()


def test_to_tensors_normalises_with_train_statistics(digits):
    assert digits.x_train.shape[1:] == (1, 8, 8)
    assert digits.x_train.mean().item() == pytest.approx(0.0, abs=1e-5)
    assert digits.x_train.std(unbiased=False).item() == pytest.approx(1.0, abs=1e-4)
    rgb = ImageData(
        np.stack([np.full((2, 2, 3), v, dtype=np.uint8) for v in (0, 255)]),
        np.array([0, 1]),
        np.full((1, 2, 2, 3), 255, dtype=np.uint8),
        np.array([1]),
        ("a", "b"),
    )
    t = to_tensors(rgb)
    # per channel: mean 0.5, std 0.5 of {0, 1}; a test pixel of 1.0 becomes (1 - 0.5) / 0.5
    np.testing.assert_allclose(t.mean.numpy(), [0.5] * 3)
    assert t.x_test.shape == (1, 3, 2, 2)
    assert torch.allclose(t.x_test, torch.ones(1, 3, 2, 2))


def test_missing_and_malformed_files_name_the_file(tmp_path):
    with pytest.raises(DataError, match="nope.npz"):
        load_fashion_mnist(tmp_path / "nope.npz")
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"not a tarball at all")
    with pytest.raises(DataError, match="bad.tar.gz"):
        load_cifar10(bad, cache_dir=tmp_path / "cache")
    npz = tmp_path / "fm.npz"
    np.savez(npz, x=np.zeros((2, 28, 28), np.uint8), y=np.array([0, 1]))
    with pytest.raises(DataError, match="missing arrays"):
        load_fashion_mnist(npz)


def test_fashion_mnist_npz_split(tmp_path):
    path = tmp_path / "fm.npz"
    x = np.arange(3 * 28 * 28, dtype=np.uint8).reshape(3, 28, 28)
    np.savez(path, x=x, y=np.array([3, 1, 9]), split=np.array(["train", "test", "train"]))
    data = load_fashion_mnist(path)
    assert data.y_train.tolist() == [3, 9] and data.y_test.tolist() == [1]
    assert np.array_equal(data.x_test[0], x[1])
    assert data.classes[9] == "Ankle boot"


def test_cifar_tarball_is_decoded_and_cached(tmp_path):
    from PIL import Image

    path = tmp_path / "tiny.tar.gz"
    colours = {"zebra": (250, 0, 0), "ant": (0, 0, 250)}
    with tarfile.open(path, "w:gz") as archive:
        for split in ("train", "test"):
            for name, colour in colours.items():
                for k in range(2):
                    buffer = io.BytesIO()
                    Image.new("RGB", (32, 32), colour).save(buffer, "JPEG", quality=95)
                    info = tarfile.TarInfo(f"{split}/{name}/{k:04d}.jpg")
                    info.size = buffer.tell()
                    buffer.seek(0)
                    archive.addfile(info, buffer)
    cache = tmp_path / "cache"
    data = load_cifar10(path, cache_dir=cache)
    assert data.classes == ("ant", "zebra")  # sorted folder names
    assert data.x_train.shape == (4, 32, 32, 3) and data.x_train.dtype == np.uint8
    assert data.y_train.tolist() == [0, 0, 1, 1]
    assert abs(int(data.x_train[0, 5, 5, 2]) - 250) < 8  # ant is blue (JPEG is lossy)
    assert len(list(cache.glob("*.npz"))) == 1
    again = load_cifar10(path, cache_dir=cache)
    assert np.array_equal(again.x_test, data.x_test) and again.classes == data.classes


# ---------------------------------------------------------------- scenarios


def test_class_incremental_split(split_digits):
    assert split_digits.num_tasks == 5 and split_digits.num_classes == 10
    for t, task in enumerate(split_digits.tasks):
        assert task.classes == (2 * t, 2 * t + 1)
        assert set(task.y_train.tolist()) == {2 * t, 2 * t + 1}
        assert set(task.y_test.tolist()) == {2 * t, 2 * t + 1}
    assert sum(len(task.y_train) for task in split_digits.tasks) == 1257


def test_overlapping_empty_and_stray_tasks_are_errors(digits):
    args = (digits.x_train, digits.y_train, digits.x_test, digits.y_test)
    with pytest.raises(DataError, match=r"tasks 0 and 1 overlap: both declare class 1"):
        class_incremental(*args, tasks=[[0, 1], [1, 2], [3, 4, 5, 6, 7, 8, 9]])
    with pytest.raises(DataError, match="task 1 declares no classes"):
        class_incremental(*args, tasks=[list(range(10)), []])
    with pytest.raises(DataError, match="label 9 belongs to no task"):
        class_incremental(*args, tasks=[[0, 1, 2, 3], [4, 5, 6, 7, 8]])
    with pytest.raises(DataError, match="task 2 has no train examples"):
        class_incremental(*args, tasks=[list(range(5)), list(range(5, 10)), [10]], num_classes=11)
    with pytest.raises(ParameterError, match="cannot be split into 3 equal tasks"):
        class_incremental(*args, tasks=3)
    x = torch.zeros(4, 2)
    good = Task(x, torch.tensor([0, 1, 0, 1]), x, torch.tensor([0, 1, 0, 1]), (0, 1))
    stray = Task(x, torch.tensor([2, 3, 7, 2]), x, torch.tensor([2, 3, 2, 3]), (2, 3))
    with pytest.raises(DataError, match="task 1 has train label 7"):
        Scenario((good, stray), num_classes=8)
    with pytest.raises(DataError, match="class 9 outside 0..7"):
        Scenario((good, Task(x, torch.tensor([9] * 4), x, torch.tensor([9] * 4), (9,))), 8)
    # the domain setting checks labels against the declared classes too
    wide = Task(x, torch.tensor([0, 1, 9, 1]), x, torch.tensor([0, 1, 0, 1]), (0, 1))
    with pytest.raises(DataError, match="task 1 has train label 9"):
        Scenario((good, wide), num_classes=10, setting="domain")


def test_task_incremental_masks_the_loss_to_the_task(digits):
    scenario = task_incremental(digits.x_train, digits.y_train, digits.x_test, digits.y_test, 5)
    mask = scenario.class_mask()
    assert mask.shape == (5, 10) and mask[2].nonzero().flatten().tolist() == [4, 5]
    strategy = FineTune(mlp(), lr=0.1, device="cpu")
    strategy.class_mask = mask
    task = scenario.tasks[2]
    x, y = task.x_train[:8], task.y_train[:8]
    with torch.no_grad():
        logits = strategy.net(x)
    # only the logits of classes 4 and 5 enter the softmax: labels become 0 / 1
    expected = F.cross_entropy(logits[:, [4, 5]], y - 4)
    assert float(strategy.observe(x, y, 2)) == pytest.approx(float(expected), rel=1e-6)


def test_domain_incremental_permutations_and_rotations(digits):
    perms = permutations(3, 64, seed=1)
    scenario = domain_incremental(
        digits.x_train, digits.y_train, digits.x_test, digits.y_test, perms, fraction=0.3, seed=0
    )
    assert scenario.setting == "domain" and scenario.task_labels is False
    sizes = [len(task.y_train) for task in scenario.tasks]
    assert sizes == [round(0.3 * 1257)] * 3
    assert torch.equal(scenario.tasks[0].x_test, digits.x_test)  # task 0: identity
    index = torch.as_tensor(np.random.default_rng(1).permutation(64))  # first perm drawn
    flat = digits.x_test.reshape(len(digits.x_test), -1)
    assert torch.equal(scenario.tasks[1].x_test.reshape(len(flat), -1), flat[:, index])
    image = torch.arange(9.0).reshape(1, 1, 3, 3)
    # +90 degrees: pixel centres map onto pixel centres, counter-clockwise
    assert torch.allclose(rotations([90])[0](image), torch.rot90(image, 1, (2, 3)), atol=1e-5)
    with pytest.raises(DataError, match="label 12 outside"):
        domain_incremental(
            digits.x_train,
            digits.y_train,
            digits.x_test,
            digits.y_test + 3,
            perms,
            num_classes=10,
        )
    with pytest.raises(ParameterError, match="fraction"):
        domain_incremental(
            digits.x_train, digits.y_train, digits.x_test, digits.y_test, perms, fraction=0.5
        )


def test_blurry_moves_a_fraction_to_neighbours(split_digits):
    blurred = blurry(split_digits, fraction=0.2, seed=0)
    assert blurred.blur == 0.2
    total = sum(len(task.y_train) for task in split_digits.tasks)
    assert sum(len(task.y_train) for task in blurred.tasks) == total
    for t, (old, new) in enumerate(zip(split_digits.tasks, blurred.tasks, strict=True)):
        own = torch.isin(new.y_train, torch.tensor(old.classes)).sum().item()
        assert own == len(old.y_train) - round(0.2 * len(old.y_train))
        assert torch.equal(new.y_test, old.y_test)
        foreign = set(new.y_train.tolist()) - set(old.classes)
        neighbours = {
            c for n in (t - 1, t + 1) if 0 <= n < 5 for c in split_digits.tasks[n].classes
        }
        assert foreign and foreign <= neighbours
    # the first task only receives from task 1, so its foreign labels are 2 and 3
    assert set(blurred.tasks[0].y_train.tolist()) - {0, 1} == {2, 3}


def test_blurry_refuses_the_task_setting(digits):
    """A moved example's label is outside its new task's logit mask, so its loss
    would be infinite: blurry is for the class setting only."""
    scenario = task_incremental(digits.x_train, digits.y_train, digits.x_test, digits.y_test, 5)
    with pytest.raises(ParameterError, match="class-incremental"):
        blurry(scenario, fraction=0.2)
    with pytest.raises(ParameterError, match="blurry task boundaries need the class setting"):
        Scenario(scenario.tasks, 10, setting="task", blur=0.2)


def test_online_protocol_is_one_pass(split_digits):
    scenario = online(split_digits, batch_size=10)
    result = run(FineTune(mlp(), device="cpu"), scenario, epochs=5, progress=False)
    assert [len(e) for e in result.epoch_seconds] == [1] * 5
    with pytest.raises(ParameterError, match="batch_size"):
        online(split_digits, batch_size=0)


# ---------------------------------------------------------------- buffers


class ScriptedBuffer(ReplayBuffer):
    """A reservoir whose draws j ~ U{0..n} come from a script (position -> draw)."""

    def __init__(self, capacity, script):
        super().__init__(capacity)
        self.script = script

    def _draws(self, positions):
        return torch.tensor([self.script.get(int(p), 0) for p in positions])


def test_reservoir_is_exact_on_every_draw_sequence():
    # capacity 2, stream of 4: items 2 and 3 draw j2 in {0, 1, 2} and j3 in {0..3};
    # the 12 equally likely scripts must keep each item in exactly 12 * 2/4 = 6 of them.
    kept = np.zeros(4, dtype=int)
    for j2, j3 in itertools.product(range(3), range(4)):
        script = {2: j2, 3: j3}
        # Algorithm R by hand, one item at a time
        slots = [0, 1]
        for item, j in ((2, j2), (3, j3)):
            if j < 2:
                slots[j] = item
        one_by_one, batched = ScriptedBuffer(2, script), ScriptedBuffer(2, script)
        for item in range(4):
            one_by_one.add(torch.tensor([[float(item)]]), torch.tensor([item]))
        batched.add(torch.arange(4.0)[:, None], torch.arange(4))  # all four at once
        assert one_by_one.y.tolist() == slots
        assert batched.y.tolist() == slots  # a contested slot goes to the later item
        kept[slots] += 1
    assert kept.tolist() == [6, 6, 6, 6]


def test_reservoir_keeps_each_item_with_probability_capacity_over_n():
    capacity, n, trials = 10, 100, 1000
    counts = np.zeros(n)
    for seed in range(trials):
        buffer = ReplayBuffer(capacity, seed=seed)
        for start in range(0, n, 7):  # uneven batches
            items = torch.arange(start, min(start + 7, n))
            buffer.add(items[:, None].float(), items)
        assert len(buffer) == capacity and buffer.seen == n
        counts[buffer.y.numpy()] += 1
    # each count ~ Binomial(1000, 0.1): mean 100, std 9.5
    assert np.all(np.abs(counts - 100) < 5 * np.sqrt(trials * 0.1 * 0.9))
    chi2 = ((counts - 100) ** 2 / 100).sum()
    assert stats.chi2.sf(chi2, df=n - 1) > 1e-3


def test_buffer_sampling_stays_on_device_and_respects_tasks():
    buffer = ReplayBuffer(6, seed=0)
    buffer.add(torch.zeros(3, 2), torch.tensor([0, 1, 2]), torch.ones(3, 4), task=0)
    buffer.add(torch.ones(3, 2), torch.tensor([3, 4, 5]), torch.ones(3, 4), task=1)
    batch = buffer.sample(4)
    assert batch.x.device == buffer.x.device and batch.logits.shape == (4, 4)
    assert len(set(batch.y.tolist())) == 4  # without replacement
    assert len(buffer.sample(50).y) == 6
    only = buffer.sample(20, task=1)
    assert set(only.task.tolist()) == {1} and set(only.y.tolist()) <= {3, 4, 5}
    with pytest.raises(ParameterError, match="keeps logits"):
        buffer.add(torch.ones(1, 2), torch.tensor([0]))
    with pytest.raises(ParameterError, match="empty buffer"):
        ReplayBuffer(3).sample(1)
    with pytest.raises(ParameterError, match="capacity"):
        ReplayBuffer(0)


def test_class_balanced_buffer_follows_gdumb():
    buffer = ClassBalancedBuffer(4, seed=0)
    buffer.add(torch.zeros(4, 1), torch.tensor([0, 0, 0, 0]))
    # a 1 arrives: class 1 holds 0 < 4/2, so a random 0 makes room; again for the next 1;
    # a 2 arrives: 0 < 4/3, the largest classes tie at 2 and the lower label (0) gives way
    buffer.add(torch.ones(3, 1), torch.tensor([1, 1, 2]))
    assert buffer.class_counts() == {0: 1, 1: 2, 2: 1}
    assert sorted(buffer.y.tolist()) == [0, 1, 1, 2]
    buffer.add(torch.ones(1, 1), torch.tensor([1]))  # class 1 already holds 2 >= 4/3
    assert buffer.class_counts() == {0: 1, 1: 2, 2: 1}


# ---------------------------------------------------------------- strategy losses


def fixed_batch(n=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 64, generator=g), torch.randint(0, 10, (n,), generator=g)


def test_er_loss_is_cross_entropy_on_stream_and_buffer():
    strategy = ER(mlp(), buffer_size=4, minibatch_size=4, lr=0.1, device="cpu")
    bx, by = fixed_batch(4, seed=1)
    strategy.buffer.add(bx, by)
    x, y = fixed_batch()
    with torch.no_grad():
        # the draw is all 4 stored examples in some order; the mean CE does not depend on it
        expected = F.cross_entropy(strategy.net(torch.cat([x, bx])), torch.cat([y, by]))
    assert float(strategy.observe(x, y, 0)) == pytest.approx(float(expected), rel=1e-5)
    assert strategy.buffer.seen == 10


def test_derpp_loss_matches_its_three_terms():
    strategy = DERpp(mlp(), buffer_size=4, minibatch_size=4, alpha=0.3, beta=0.7, device="cpu")
    bx, by = fixed_batch(4, seed=1)
    bz = torch.randn(4, 10, generator=torch.Generator().manual_seed(2))
    strategy.buffer.add(bx, by, logits=bz)
    x, y = fixed_batch()
    with torch.no_grad():
        ce = F.cross_entropy(strategy.net(x), y)
        mse = F.mse_loss(strategy.net(bx), bz)
        replay_ce = F.cross_entropy(strategy.net(bx), by)
    expected = ce + 0.3 * mse + 0.7 * replay_ce
    assert float(strategy.observe(x, y, 0)) == pytest.approx(float(expected), rel=1e-5)
    # the stream batch is stored with the logits it had before the step
    assert strategy.buffer.logits.shape == (4, 10)
    assert strategy.alpha == 0.3 and DERpp(mlp(), device="cpu").alpha == 0.1


def test_agem_projection_on_two_dimensional_vectors():
    g = torch.tensor([1.0, 1.0])
    # conflicting: g.g_ref = -1 < 0, g - (-1 / 1) * (-1, 0) = (0, 1), orthogonal to g_ref
    projected = agem_project(g, torch.tensor([-1.0, 0.0]))
    assert projected.tolist() == [0.0, 1.0]
    # g.g_ref = 2 * 1 + 1 * (-3) = -1, |g_ref|^2 = 13: g + (1/13) * (2, -3)
    projected = agem_project(g, torch.tensor([2.0, -3.0]))
    np.testing.assert_allclose(projected.numpy(), [1 + 2 / 13, 1 - 3 / 13], rtol=1e-6)
    assert float(torch.dot(projected, torch.tensor([2.0, -3.0]))) == pytest.approx(0, abs=1e-6)
    # agreeing gradients are left alone
    assert agem_project(g, torch.tensor([1.0, 0.0])).tolist() == [1.0, 1.0]


def test_agem_step_applies_the_projected_gradient():
    strategy = AGEM(mlp(), buffer_size=4, minibatch_size=4, lr=0.5, device="cpu")
    bx, by = fixed_batch(4, seed=1)
    strategy.buffer.add(bx, by)
    x, y = fixed_batch()
    reference = copy.deepcopy(strategy.net)
    params = list(reference.parameters())
    g = torch.cat(
        [p.flatten() for p in torch.autograd.grad(F.cross_entropy(reference(x), y), params)]
    )
    g_ref = torch.cat(
        [p.flatten() for p in torch.autograd.grad(F.cross_entropy(reference(bx), by), params)]
    )
    before = torch.cat([p.detach().flatten() for p in params])
    strategy.observe(x, y, 0)
    after = torch.cat([p.detach().flatten() for p in strategy.net.parameters()])
    torch.testing.assert_close(after, before - 0.5 * agem_project(g, g_ref))


def test_ewc_penalty_by_hand():
    net = nn.Sequential(nn.Linear(2, 2))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
        net[0].bias.copy_(torch.tensor([1.0, -1.0]))
    strategy = OnlineEWC(net, ewc_lambda=2.0, device="cpu")
    assert float(strategy.penalty()) == 0.0
    strategy.fisher_ = {
        "0.weight": torch.tensor([[1.0, 2.0], [3.0, 4.0]]),
        "0.bias": torch.tensor([0.5, 0.5]),
    }
    strategy.anchor_ = {"0.weight": torch.zeros(2, 2), "0.bias": torch.zeros(2)}
    # (2 / 2) * (1*1 + 4*1 + 0.5*1 + 0.5*1) = 6
    assert float(strategy.penalty().detach()) == pytest.approx(6.0)


def test_fisher_matches_the_softmax_gradient_formula():
    # for logits W x + b, d CE / dW = (p - e_y) x^T and d CE / db = p - e_y
    torch.manual_seed(3)
    net = nn.Linear(3, 4)
    x, y = torch.randn(10, 3), torch.randint(0, 4, (10,))
    with torch.no_grad():
        residual = torch.softmax(net(x), 1) - F.one_hot(y, 4).float()
    expected_w = (residual[:, :, None] * x[:, None, :]).pow(2).mean(0)
    expected_b = residual.pow(2).mean(0)
    fisher = diagonal_fisher(net, x, y, batch_size=3)
    torch.testing.assert_close(fisher["weight"], expected_w)
    torch.testing.assert_close(fisher["bias"], expected_b)


def test_online_ewc_accumulates_fisher_and_adds_penalty(split_digits):
    strategy = OnlineEWC(mlp(), ewc_lambda=5.0, gamma=0.5, device="cpu")
    task = split_digits.tasks[0]
    strategy.end_task(0, task.x_train, task.y_train)
    first = {k: v.clone() for k, v in strategy.fisher_.items()}
    strategy.end_task(1, task.x_train, task.y_train)  # same weights: F* = 0.5 F + F
    for k in first:
        torch.testing.assert_close(strategy.fisher_[k], 1.5 * first[k])
    with torch.no_grad():
        for p in strategy.net.parameters():
            p.add_(0.01)
        expected = F.cross_entropy(strategy.net(task.x_train[:8]), task.y_train[:8])
        expected = expected + strategy.penalty()
    loss = strategy.observe(task.x_train[:8], task.y_train[:8], 1)
    assert float(loss) == pytest.approx(float(expected), rel=1e-5)
    assert float(strategy.penalty().detach()) > 0


def test_lwf_distillation_by_hand():
    # old logits (0, 0): target (1/2, 1/2); new (2, 0) at T = 2: log_softmax(1, 0)
    # loss = -(1/2 (1 - log(1 + e)) + 1/2 (-log(1 + e))) = log(1 + e) - 1/2
    loss = distillation(torch.tensor([[2.0, 0.0]]), torch.tensor([[0.0, 0.0]]), 2.0)
    assert float(loss) == pytest.approx(np.log1p(np.e) - 0.5)


def test_lwf_loss_is_seen_class_ce_plus_distillation(split_digits):
    strategy = LwF(mlp(), alpha=0.7, temperature=2.0, device="cpu")
    t0, t1 = split_digits.tasks[0], split_digits.tasks[1]
    strategy.begin_task(0, t0.x_train, t0.y_train)
    strategy.end_task(0, t0.x_train, t0.y_train)
    with torch.no_grad():
        for p in strategy.net.parameters():
            p.mul_(0.9)
    strategy.begin_task(1, t1.x_train, t1.y_train)
    x, y = t1.x_train[:8], t1.y_train[:8]
    with torch.no_grad():
        logits = strategy.net(x)
        ce = F.cross_entropy(logits[:, :4], y)  # classes 0..3 seen so far
        old = strategy.old_net_(x)
        kd = distillation(logits[:, :2], old[:, :2], 2.0)  # old classes 0, 1
    assert float(strategy.observe(x, y, 1)) == pytest.approx(float(ce + 0.7 * kd), rel=1e-5)


def test_herding_by_hand():
    # mean 3.25; pick 2 (|3.25-2|), then 1 ((2+1)/2 = 1.5 beats 1 and 6),
    # then 10 ((3+10)/3 = 4.33 beats 1), then 0
    features = torch.tensor([[0.0], [1.0], [2.0], [10.0]])
    assert herding(features, 4).tolist() == [2, 1, 3, 0]
    assert herding(features, 2).tolist() == [2, 1]


def test_icarl_keeps_balanced_exemplars_and_predicts_nearest_mean(split_digits):
    strategy = ICaRL(mlp(), buffer_size=20, device="cpu")
    for t in range(2):
        task = split_digits.tasks[t]
        strategy.begin_task(t, task.x_train, task.y_train)
        x, y, ids = strategy.train_set(t, task.x_train, task.y_train)
        assert len(y) == len(task.y_train) + (20 if t == 1 else 0)  # 10 per class after task 0
        strategy.observe(x[:16], y[:16], ids[:16])
        strategy.end_task(t, task.x_train, task.y_train)
    # 20 exemplars over 4 classes: 5 each, the old classes cut to their first 5
    assert np.bincount(strategy.buffer.y.numpy()).tolist() == [5, 5, 5, 5]
    x = split_digits.tasks[1].x_test[:5]
    features = F.normalize(strategy.net.features(x), dim=1)
    distance = torch.cdist(features, strategy.class_means_[:4])
    scores = strategy.predict(x)
    torch.testing.assert_close(scores[:, :4], -distance)
    assert torch.isinf(scores[:, 4:]).all()
    with pytest.raises(ParameterError, match="features"):
        ICaRL(nn.Linear(4, 2), device="cpu")


def test_icarl_loss_is_bce_with_the_old_network_as_target_for_old_classes(split_digits):
    """Rebuffi et al. 2017: sigmoid BCE over the classes seen so far, the targets of
    the old classes (0, 1) being the old network's sigmoid outputs, of the new
    classes (2, 3) the one-hot labels."""
    strategy = ICaRL(mlp(), buffer_size=20, device="cpu")
    t0, t1 = split_digits.tasks[0], split_digits.tasks[1]
    strategy.begin_task(0, t0.x_train, t0.y_train)
    strategy.end_task(0, t0.x_train, t0.y_train)
    with torch.no_grad():
        for p in strategy.net.parameters():
            p.mul_(0.9)  # the old network and the current one now differ
    strategy.begin_task(1, t1.x_train, t1.y_train)
    x, y = t1.x_train[:8], t1.y_train[:8]
    with torch.no_grad():
        logits = strategy.net(x)[:, :4]
        target = F.one_hot(y, 10).float()[:, :4]
        target[:, :2] = torch.sigmoid(strategy.old_net_(x)[:, :2])
        probability = torch.sigmoid(logits)
        expected = -(target * probability.log() + (1 - target) * (1 - probability).log()).mean()
    assert float(strategy.observe(x, y, 1)) == pytest.approx(float(expected), rel=1e-5)


def test_joint_loss_is_cross_entropy_on_the_batch():
    strategy = Joint(mlp(), device="cpu")
    x, y = fixed_batch()
    with torch.no_grad():
        expected = F.cross_entropy(strategy.net(x), y)
    assert float(strategy.observe(x, y, 0)) == pytest.approx(float(expected), rel=1e-5)


def test_gdumb_only_stores_then_retrains_from_scratch(split_digits):
    strategy = GDumb(mlp(), buffer_size=10, epochs=2, device="cpu")
    initial = copy.deepcopy(strategy.net.state_dict())
    task = split_digits.tasks[0]
    assert float(strategy.observe(task.x_train[:32], task.y_train[:32], 0)) == 0.0
    assert all(torch.equal(v, initial[k]) for k, v in strategy.net.state_dict().items())
    assert strategy.buffer.class_counts() == {0: 5, 1: 5}
    strategy.end_task(0, task.x_train, task.y_train)
    assert not torch.equal(strategy.net.state_dict()["head.weight"], initial["head.weight"])


class Silent(Teacher):
    name = "silent"

    def select(self, learner, candidates, k=1, t=None, model=None):
        return []


def test_scheduled_er_replays_what_the_teacher_picks(split_digits):
    teacher = PowerLawReplay(decay=0.0, seed=0)  # uniform over finished tasks
    strategy = ScheduledER(mlp(), teacher=teacher, buffer_size=60, device="cpu")
    result = run(strategy, split_digits, epochs=1, batch_size=32, progress=False)
    steps = [-(-len(task.y_train) // 32) for task in split_digits.tasks]
    # the teacher learned when each task ended, in steps
    assert teacher.last_seen_[0] == {t: float(sum(steps[: t + 1])) for t in range(5)}
    # every step after the first task replays one finished task
    assert sum(strategy.replays_.values()) == sum(steps[1:])
    assert set(strategy.replays_) == {0, 1, 2, 3}
    assert result.class_il.shape == (5, 5)
    silent = ScheduledER(mlp(), teacher=Silent(), device="cpu")
    plain = FineTune(mlp(), lr=0.1, device="cpu")
    silent.end_task(0, split_digits.tasks[0].x_train, split_digits.tasks[0].y_train)
    x, y = fixed_batch()
    assert float(silent.observe(x, y, 1)) == pytest.approx(float(plain.observe(x, y, 1)))
    assert silent.replays_ == {}


# ---------------------------------------------------------------- end to end


def test_er_beats_finetune_on_split_digits(split_digits):
    finetune = run(
        FineTune(mlp(), lr=0.1, device="cpu"), split_digits, epochs=2, batch_size=10, progress=False
    )
    er = run(
        ER(mlp(), buffer_size=100, minibatch_size=10, lr=0.1, device="cpu", seed=0),
        split_digits,
        epochs=2,
        batch_size=10,
        progress=False,
    )
    # fine-tuning forgets every earlier task in class-IL: only the last task survives
    assert finetune.metrics["class_il"]["accuracy"] < 0.3
    assert er.metrics["class_il"]["accuracy"] > finetune.metrics["class_il"]["accuracy"] + 0.3
    assert er.metrics["class_il"]["forgetting"] < finetune.metrics["class_il"]["forgetting"]
    assert finetune.class_il.shape == (5, 5) and finetune.task_il.shape == (5, 5)
    # class-IL: the untrained classes of later tasks are never predicted after task 0
    assert np.all(np.triu(finetune.class_il, 1) == 0)


@pytest.mark.parametrize(
    "make",
    [
        lambda net: Joint(net, lr=0.1, device="cpu"),
        lambda net: DERpp(net, buffer_size=50, device="cpu"),
        lambda net: AGEM(net, buffer_size=50, device="cpu"),
        lambda net: OnlineEWC(net, device="cpu"),
        lambda net: LwF(net, device="cpu"),
        lambda net: ICaRL(net, buffer_size=50, device="cpu"),
        lambda net: GDumb(net, buffer_size=50, epochs=3, device="cpu"),
    ],
)
def test_every_strategy_runs_a_split(split_digits, make):
    result = run(make(mlp()), split_digits, epochs=1, batch_size=32, progress=False)
    assert result.class_il.shape == (5, 5)
    assert np.all((result.class_il >= 0) & (result.class_il <= 1))
    assert set(result.metrics) == {"class_il", "task_il"}
    assert len(result.task_seconds) == 5 and all(s > 0 for s in result.task_seconds)
    # task-IL picks among 2 classes, class-IL among 10: never worse
    assert np.all(result.task_il[-1] >= result.class_il[-1])


def test_random_crop_flip_takes_windows_of_the_padded_image():
    from mentor.torch.continual.augment import RandomCropFlip

    x = torch.arange(2 * 2 * 4 * 4, dtype=torch.float32).reshape(2, 2, 4, 4)
    padded = F.pad(x - 7.0, (1, 1, 1, 1)) + 7.0  # padded with the fill value 7
    out = RandomCropFlip(padding=1, flip=False, fill=7.0, seed=0)(x)
    for n in range(2):
        windows = [padded[n, :, i : i + 4, j : j + 4] for i in range(3) for j in range(3)]
        assert any(torch.equal(out[n], w) for w in windows)
    flipped = RandomCropFlip(padding=0, flip=True, seed=1)(x.repeat(8, 1, 1, 1))
    same = [torch.equal(f, o) for f, o in zip(flipped, x.repeat(8, 1, 1, 1), strict=True)]
    mirrored = [
        torch.equal(f, o.flip(2)) for f, o in zip(flipped, x.repeat(8, 1, 1, 1), strict=True)
    ]
    assert all(s or m for s, m in zip(same, mirrored, strict=True)) and any(mirrored) and any(same)


def test_scheduled_er_with_due_review_replays_only_what_is_due(split_digits):
    from mentor.students.memory import SM2
    from mentor.teachers.review import DueReview

    def replays(time_scale):
        strategy = ScheduledER(
            mlp(),
            teacher=DueReview(0.9, seed=0),
            model=SM2(),
            buffer_size=100,
            device="cpu",
            time_scale=time_scale,
        )
        run(strategy, split_digits, epochs=1, batch_size=10, progress=False)
        return strategy.replays_

    # SM2's recall is 0.9 ** (elapsed / interval) with a first interval of one day:
    # 129 steps of one second keep every task above the 0.9 target (nothing due) ...
    assert replays(1.0) == {}
    # ... while at 8,640 s a step a task falls due 10 steps (one day) after it ends
    due = replays(8640.0)
    assert 0 in due and set(due) <= {0, 1, 2, 3}


def test_joint_trains_on_the_union_of_tasks_so_far(split_digits):
    strategy = Joint(mlp(), device="cpu")
    sizes = []
    for t, task in enumerate(split_digits.tasks[:3]):
        x, y, ids = strategy.train_set(t, task.x_train, task.y_train)
        sizes.append(len(y))
        assert ids.tolist() == sorted(ids.tolist()) and set(ids.tolist()) == set(range(t + 1))
    lengths = [len(task.y_train) for task in split_digits.tasks[:3]]
    assert sizes == [sum(lengths[: t + 1]) for t in range(3)]


def test_class_il_and_task_il_accuracy_by_hand():
    """An identity network, so an example's scores are its inputs. Class-IL takes
    the arg-max over all 4 classes, task-IL over the task's 2 classes."""
    from mentor.torch.continual.trainer import evaluate

    net = nn.Linear(4, 4)
    with torch.no_grad():
        net.weight.copy_(torch.eye(4))
        net.bias.zero_()
    x0 = torch.tensor([[1.0, 0, 0, 0], [0, 1, 5, 0], [3, 0, 0, 0]])
    y0 = torch.tensor(
        [0, 1, 1]
    )  # class-IL: right, wrong (2), wrong (0); task-IL: right, right, wrong
    x1 = torch.tensor([[0.0, 0, 0, 2], [9, 0, 1, 0]])
    y1 = torch.tensor([3, 2])  # class-IL: right, wrong (0); task-IL: right, right
    tasks = (Task(x0, y0, x0, y0, (0, 1)), Task(x1, y1, x1, y1, (2, 3)))
    class_il, task_il = evaluate(FineTune(net, device="cpu"), Scenario(tasks, 4), batch_size=2)
    np.testing.assert_allclose(class_il, [1 / 3, 1 / 2])
    np.testing.assert_allclose(task_il, [2 / 3, 1.0])
    _, none = evaluate(FineTune(net, device="cpu"), Scenario(tasks, 4, setting="domain"))
    assert none is None
