"""Data-parallel training with the curriculum's teacher on rank 0: two CPU
processes (gloo) train a small network on scikit-learn's digits under
DistributedDataParallel. Both ranks must see the same global batch at every
step, the teacher on rank 0 must observe the results of both ranks' shards
(count and values), and the parameters must stay equal across ranks."""

from __future__ import annotations

import importlib
import json
import socket
import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import torch.distributed as dist  # noqa: E402
import torch.multiprocessing as mp  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.nn.parallel import DistributedDataParallel  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from mentor.teachers import Curriculum  # noqa: E402
from mentor.teachers.pacing import Linear  # noqa: E402
from mentor.torch.distributed import DistributedCurriculum  # noqa: E402
from mentor.torch.hooks import CurriculumHook  # noqa: E402
from mentor.torch.sampler import CurriculumSampler  # noqa: E402
from mentor.torch.scoring import MovingLoss  # noqa: E402

WORLD = 2
BATCH = 12  # global: 6 examples per rank
EPOCHS = 2
STEPS_PER_EPOCH = 8


class Recorder(Curriculum):
    """A curriculum that keeps every log it observes."""

    def __init__(self, **params) -> None:
        super().__init__(**params)
        self.logs = []

    def observe(self, events) -> None:
        self.logs.append(events)
        super().observe(events)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker(rank: int, port: int, out: str) -> None:
    from mentor.torch.data import load_digits, to_tensors

    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=WORLD
    )
    try:
        data = to_tensors(load_digits(seed=0))
        x, y = data.x_train.flatten(1), data.y_train
        n = len(x)
        torch.manual_seed(0)  # the same initial weights on both ranks (DDP also broadcasts them)
        net = DistributedDataParallel(torch.nn.Linear(64, 10))
        optimiser = torch.optim.SGD(net.parameters(), lr=0.1)
        sampler = teacher = None
        if rank == 0:
            teacher = Recorder(difficulty="model", pacing=Linear(0.3, 10), clock="time", seed=0)
            scorer = MovingLoss(n, initial=0.0)
            sampler = CurriculumSampler(
                teacher, n, BATCH, scorer=scorer, steps_per_epoch=STEPS_PER_EPOCH, seed=0
            )
        curriculum = DistributedCurriculum(sampler, BATCH)
        hook = CurriculumHook(curriculum)
        loader = DataLoader(TensorDataset(x, y), batch_sampler=curriculum)
        record = {"global": [], "local": [], "losses": []}
        for _ in range(EPOCHS):
            for xb, yb in loader:
                record["global"].append(curriculum.global_batch_.tolist())
                record["local"].append(curriculum.pending().tolist())
                with hook.step() as fb:
                    logits = net(xb)
                    losses = F.cross_entropy(logits, yb, reduction="none")
                    loss = fb.report(losses, logits, yb)
                    optimiser.zero_grad()
                    loss.backward()
                    optimiser.step()
                record["losses"].append(losses.detach().double().tolist())
        record["params"] = torch.cat([p.detach().flatten() for p in net.parameters()]).tolist()
        if teacher is not None:
            record["observed"] = [
                {"items": log.item.tolist(), "losses": log.extra["loss"].tolist()}
                for log in teacher.logs
            ]
        with open(f"{out}/rank{rank}.json", "w") as handle:
            json.dump(record, handle)
    finally:
        dist.destroy_process_group()


def test_two_ranks_share_batches_and_rank_0_sees_all_feedback(tmp_path):
    # DistributedDataParallel imports torch._dynamo on first use (seconds of CPU):
    # import it here once, and fork the workers so that they inherit it.
    importlib.import_module("torch._dynamo")
    context = mp.start_processes(
        worker,
        args=(free_port(), str(tmp_path)),
        nprocs=WORLD,
        join=False,
        start_method="fork",
    )
    deadline = time.monotonic() + 120
    while not context.join(timeout=1):
        if time.monotonic() > deadline:
            for process in context.processes:
                process.kill()
            pytest.fail("data-parallel workers did not finish in 120 s")
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(WORLD)]
    steps = EPOCHS * STEPS_PER_EPOCH
    assert len(ranks[0]["global"]) == len(ranks[1]["global"]) == steps
    assert ranks[0]["global"] == ranks[1]["global"]
    for step in range(steps):
        batch = ranks[0]["global"][step]
        assert len(batch) == BATCH
        assert ranks[0]["local"][step] + ranks[1]["local"][step] == batch
        assert len(ranks[0]["local"][step]) == len(ranks[1]["local"][step]) == BATCH // WORLD
    observed = ranks[0]["observed"]
    assert len(observed) == steps
    for step, log in enumerate(observed):
        assert log["items"] == ranks[0]["global"][step]
        np.testing.assert_array_equal(
            log["losses"], ranks[0]["losses"][step] + ranks[1]["losses"][step]
        )
    assert ranks[0]["params"] == ranks[1]["params"]


def test_a_checkpoint_of_the_distributed_curriculum_resumes_its_batches(tmp_path):
    """A one-rank gloo group in this process: save after some steps (one batch drawn and not
    fed back), restore into a new curriculum, and the batches go on as they would have; the
    Lightning-style callback saves and restores through it."""
    from mentor.errors import StateError
    from mentor.torch.hooks import CurriculumCallback

    def curriculum():
        teacher = Curriculum(difficulty="model", pacing=Linear(0.3, 10), clock="time", seed=0)
        scorer = MovingLoss(40, initial=0.0)
        sampler = CurriculumSampler(teacher, 40, 4, scorer=scorer, steps_per_epoch=5, seed=0)
        return DistributedCurriculum(sampler, 4)

    def step(dc, rng):
        batch = dc.next_batch()
        dc.feedback(batch, losses=rng.random(batch.size))
        return batch.tolist()

    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{free_port()}", rank=0, world_size=1
    )
    try:
        first, rng = curriculum(), np.random.default_rng(0)
        for _ in range(3):
            step(first, rng)
        unfed = first.next_batch().tolist()  # drawn, not fed back when saved
        saved = json.loads(json.dumps(CurriculumCallback(first).state_dict()))
        losses = rng.random(4)
        first.feedback(np.array(unfed), losses=losses)
        later = [step(first, np.random.default_rng(1)) for _ in range(3)]

        second = curriculum()
        CurriculumCallback(second).load_state_dict(saved)
        assert second.pending() is None
        assert second.next_batch().tolist() == unfed  # the unfed batch comes again first
        second.feedback(np.array(unfed), losses=losses)
        assert [step(second, np.random.default_rng(1)) for _ in range(3)] == later
        with pytest.raises(StateError, match="not a saved distributed curriculum"):
            second.load_state_dict({"kind": "tscl"})
        with pytest.raises(StateError, match="holds no sampler state"):
            second.load_state_dict({"kind": saved["kind"], "sampler": None})
    finally:
        dist.destroy_process_group()
