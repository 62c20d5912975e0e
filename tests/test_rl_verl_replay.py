"""mentor.rl.verl_replay: the teacher's choice among finished groups alone, and inside verl
0.9's own replay buffer on a real TransferQueue when verl 0.9 is importable.

verl is not part of the ``rl`` extra (its pins clash with the project's transformers), so the
verl tests are skipped unless it is installed. They were run with verl 0.9.1 in a separate
virtual environment that sees the project's packages (torch, numpy) through a ``.pth`` file:
``pip install --no-deps verl==0.9.1`` plus TransferQueue 0.1.11 (which brings Ray 2.60),
tensordict 0.10, codetiming, omegaconf, hydra-core, cachetools, torchdata and peft. The
TransferQueue test starts a local Ray with 4 logical CPUs (TransferQueue's controller and
two storage units ask for one each; with Ray's default of one per core, 2 here, they never
start)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mentor.errors import ParameterError
from mentor.rl.verl_replay import Group, GroupChoice
from mentor.teachers import SEC, RandomTeacher
from mentor.teachers.base import Teacher


class LastArm(Teacher):
    """Always picks the last candidate, and records what it is asked and told."""

    name = "last_arm"

    def __init__(self):
        super().__init__(0)
        self.calls = []

    def select(self, learner, candidates, k=1, t=None, model=None):
        self.calls.append(("select", list(candidates), k, t))
        return list(candidates)[-k:]

    def observe(self, events):
        self.calls.append(
            (
                "observe",
                events.item.tolist(),
                events.outcome.tolist(),
                events.extra["advantage"].tolist(),
                events.time.tolist(),
            )
        )


def groups(*items):
    return [Group(f"g{i}", item) for i, item in enumerate(items)]


# ------------------------------------------------------------------ the choice alone
def test_over_arms_each_slot_takes_the_oldest_group_of_its_arm_then_the_oldest_left():
    teacher = LastArm()
    choice = GroupChoice(teacher, over_arms=True)
    # arms 0, 0, 1, 1, 2 (oldest first); the teacher fills all 3 slots with arm 2, which has
    # one group: slot 1 takes g4, slots 2 and 3 are filled with the oldest, g0 and g1
    assert choice.choose(groups(0, 0, 1, 1, 2), 3, t=5.0) == ["g4", "g0", "g1"]
    assert choice.filled_ == 2
    assert teacher.calls == [("select", [0, 1, 2], 1, 5.0)] * 3  # select_slots' default


def test_over_prompts_the_teacher_names_distinct_prompts():
    teacher = LastArm()
    choice = GroupChoice(teacher)
    # prompts 10, 11, 10, -, 12, 13: candidates in order of first appearance (a group without
    # a trajectory, None, is no candidate); the teacher names the last three
    chosen = choice.choose(groups(10, 11, 10, None, 12, 13), 3)
    assert chosen == ["g1", "g4", "g5"]
    assert teacher.calls == [("select", [10, 11, 12, 13], 3, None)]
    assert choice.filled_ == 0


def test_no_choice_when_every_group_is_needed():
    teacher = LastArm()
    assert GroupChoice(teacher).choose(groups(1, 2), 2) == ["g0", "g1"]
    assert teacher.calls == []


def test_observe_hands_each_trajectory_with_its_group_advantage():
    teacher = LastArm()
    choice = GroupChoice(teacher, over_arms=True, reward_range=(-1.0, 1.0))
    batch = [
        Group("a", 0, np.array([1.0, -1.0])),  # outcomes 1, 0: mean 0.5
        Group("b", 1, np.array([0.0])),  # outcome 0.5, alone: advantage 0
        Group("c", None, np.zeros(0)),  # a failed group: nothing to tell
        Group("d", 0, np.array([3.0, 1.0])),  # clipped to 1, 1
    ]
    choice.observe(batch, t=4.0)
    assert teacher.calls == [
        (
            "observe",
            [0, 0, 1, 0, 0],
            [1.0, 0.0, 0.5, 1.0, 1.0],
            [0.5, -0.5, 0.0, 0.0, 0.0],
            [4.0] * 5,
        )
    ]
    assert choice.observed_ == 3
    with pytest.raises(ParameterError, match="reward_range"):
        GroupChoice(teacher, reward_range=(1, 1))
    with pytest.raises(ParameterError, match="Teacher"):
        GroupChoice(object())


# ------------------------------------------------------------------ verl 0.9 itself
def _verl():
    return pytest.importorskip(
        "verl.trainer.ppo.v1.replay_buffer", reason="verl 0.9 (the v1 replay buffer) is absent"
    )


def test_verl_builds_the_custom_sampler_from_its_config():
    replay_buffer = _verl()
    from omegaconf import OmegaConf
    from verl.trainer.ppo.v1.trainer_base import PPOTrainer

    from mentor.rl.verl_replay import MentorReplayBuffer

    class Trainer:  # what PPOTrainer._build_replay_buffer reads from its trainer
        trainer_mode = "sync"
        config = OmegaConf.create(
            {
                "trainer": {
                    "v1": {
                        "trainer_mode": "sync",
                        "sampler": {
                            "max_off_policy_threshold": 8,
                            "max_off_policy_strategy": "drop",
                            "custom_sampler": {
                                "path": "pkg://mentor.rl.verl_replay",
                                "name": "MentorReplayBuffer",
                            },
                            "sampler_kwargs": {
                                "teacher": {"name": "sec", "params": {"temperature": 0.5}},
                                "arm_key": "extra_info.level",
                                "seed": 3,
                            },
                        },
                    }
                },
            }
        )

        def _add_prompts_to_generate(self, n):
            return n

    buffer = PPOTrainer._build_replay_buffer(Trainer())
    assert isinstance(buffer, MentorReplayBuffer)
    assert isinstance(buffer, replay_buffer.ReplayBuffer)
    assert isinstance(buffer.choice.teacher, SEC)
    assert buffer.choice.teacher.temperature == 0.5
    assert buffer.choice.over_arms and buffer.arm_path == ("extra_info", ["level"])


class RecordingSEC(SEC):
    """SEC that records the items of every observe call (its sampling is SEC's own)."""

    name = "sec"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.observed = []

    def observe(self, events):
        self.observed.append(events.item.tolist())
        super().observe(events)


@pytest.fixture(scope="module")
def transfer_queue():
    _verl()
    ray = pytest.importorskip("ray")
    tq = pytest.importorskip("transfer_queue")
    ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False)
    tq.init()
    yield tq
    tq.close()
    ray.shutdown()


def _put_group(tq, uid, level, rewards, step):
    """One finished group as verl's agent loop writes it: a trajectory per reward, then the
    prompt's tag."""
    from verl.utils.tensordict_utils import list_of_dict_to_tensordict

    keys = [f"{uid}_{session}_0" for session in range(len(rewards))]
    fields = [
        {
            "index": 100 + level,
            "extra_info": {"level": level},
            # the reward sits on the last response token, as verl's agent loop puts it
            "rm_scores": torch.tensor([0.0, float(r)]),
        }
        for r in rewards
    ]
    tags = [{"status": "success", "global_steps": step}] * len(keys)
    tq.kv_batch_put(
        keys=keys, partition_id="train", fields=list_of_dict_to_tensordict(fields), tags=tags
    )
    tq.kv_batch_put(
        keys=[uid],
        partition_id="train",
        tags=[{"is_prompt": True, "status": "finished", "global_steps": step}],
    )
    return keys


def test_verl_replay_buffer_samples_the_groups_the_teacher_weighs(transfer_queue):
    from mentor.rl.verl_replay import MentorReplayBuffer

    tq = transfer_queue
    teacher = RecordingSEC(temperature=0.01, seed=0)
    buffer = MentorReplayBuffer(
        trainer_mode="sync",
        trainer_config={},
        max_off_policy_threshold=8,
        max_off_policy_strategy="drop",
        sampler_kwargs={"arm_key": "extra_info.level"},
        refill_fn=lambda n: n,
        teacher=teacher,
    )
    # step 1: two level-0 groups that all fail (older) and two level-1 groups with mixed
    # rewards; SEC's Q after observing them: level 0 -> 0, level 1 -> 0.5 * mean |A| = 0.25,
    # so with temperature 0.01 a slot is level 0 with probability 1 / (1 + e^25)
    keys = {}
    for uid, level, rewards in (
        ("a", 0, [0, 0]),
        ("b", 0, [0, 0]),
        ("c", 1, [1, 0]),
        ("d", 1, [0, 1]),
    ):
        keys[uid] = _put_group(tq, uid, level, rewards, step=1)
    batch, _ = buffer.sample(global_steps=1, partition_id="train", batch_size=2)
    assert sorted(batch.keys) == sorted(keys["c"] + keys["d"])
    assert teacher.observed == [[0, 0, 0, 0, 1, 1, 1, 1]]  # all four groups, once
    np.testing.assert_allclose(teacher.values(0, [0, 1]), [0.0, 0.25])
    # verl's own materialisation cleared the chosen prompts; the level-0 groups wait
    listed = tq.kv_list("train")["train"]
    assert "c" not in listed and "d" not in listed and "a" in listed and "b" in listed
    tq.kv_clear(keys=batch.keys, partition_id="train")  # as the trainer does after a step

    # step 2: one new level-1 group; the waiting groups are not observed again
    keys["e"] = _put_group(tq, "e", 1, [1, 1], step=2)
    batch, _ = buffer.sample(global_steps=2, partition_id="train", batch_size=2)
    assert teacher.observed[1] == [1, 1]
    # Q(level 1) = 0.25 + 0.5 * (0 - 0.25) = 0.125 > Q(level 0) = 0: both slots want level 1,
    # which has one group (e); the other slot is filled with the oldest, a
    assert sorted(batch.keys) == sorted(keys["a"] + keys["e"])
    assert buffer.choice.filled_ == 1
    tq.kv_clear(keys=[*batch.keys, "b", *keys["b"]], partition_id="train")


def test_a_random_teacher_buffer_needs_verl_09_or_says_so():
    from mentor.rl import verl_replay

    if verl_replay._verl_buffer is not None:
        pytest.skip("verl 0.9 is importable here")
    with pytest.raises(ImportError, match="verl 0.9"):
        verl_replay.MentorReplayBuffer(teacher=RandomTeacher(0))
