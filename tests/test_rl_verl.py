"""mentor.rl.verl_sampler: the sampler alone, and against verl's own hook when verl (0.5.0 to
0.7.1, the releases with ``AbstractCurriculumSampler``) is importable.

verl pins numpy < 2, so it is not part of the ``rl`` extra; the verl tests here are skipped
unless it is installed (they were run with verl 0.7.1 installed without its dependencies plus
tensordict, codetiming, omegaconf, hydra-core, torchdata, peft and orjson)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mentor.errors import DataError, ParameterError
from mentor.rl.verl_sampler import MentorCurriculumSampler
from mentor.teachers import SEC, RandomTeacher


class Recording(RandomTeacher):
    name = "random"

    def __init__(self, seed=0):
        super().__init__(seed)
        self.observed = []

    def observe(self, events):
        self.observed.append((events.item.tolist(), events.outcome.tolist(), events.time.tolist()))


def _rows(n=10):
    return [{"prompt": f"p{i}", "extra_info": {"index": 100 + i, "level": i % 2}} for i in range(n)]


class _Batch:
    """The two fields of verl's DataProto that the hook reads."""

    def __init__(self, index, scores):
        self.non_tensor_batch = {"index": np.asarray(index, dtype=object)}
        self.batch = {"token_level_scores": torch.as_tensor(scores, dtype=torch.float32)}


def test_sampler_draws_train_batch_size_chunks_from_the_teacher():
    config = {"train_batch_size": 4, "seed": 0, "sampler": {"teacher": {"name": "random"}}}
    sampler = MentorCurriculumSampler(_rows(10), config)
    order = list(sampler)
    assert len(order) == len(sampler) == 10
    assert [len(c) for c in sampler.chunks_] == [4, 4, 2]
    assert all(len(set(c)) == len(c) for c in sampler.chunks_)
    assert isinstance(sampler.draws.teacher, RandomTeacher)


def test_update_reads_index_and_summed_token_scores():
    teacher = Recording()
    sampler = MentorCurriculumSampler(_rows(4), {"sampler": {"arm_key": "level"}}, teacher=teacher)
    # two rollouts of prompt 101 (level 1), one of 102 (level 0); scores summed over tokens
    sampler.update(_Batch([101, 101, 102], [[0.0, 1.0], [0.0, 0.0], [0.5, 0.0]]))
    sampler.update(_Batch([103], [[1.0, 0.0]]))
    assert teacher.observed == [([1, 1, 0], [1.0, 0.0, 0.5], [0.0, 0.0, 0.0]), ([1], [1.0], [1.0])]


def test_update_reads_a_named_score_and_rejects_missing_fields():
    teacher = Recording()
    sampler = MentorCurriculumSampler(_rows(3), {"sampler": {"score_key": "acc"}}, teacher=teacher)
    batch = _Batch([100, 102], [[0.0], [0.0]])
    batch.non_tensor_batch["acc"] = np.array([1.0, 0.0])
    sampler.update(batch)
    assert teacher.observed == [([100, 102], [1.0, 0.0], [0.0, 0.0])]
    del batch.non_tensor_batch["acc"]
    with pytest.raises(DataError, match="score_key"):
        sampler.update(batch)
    with pytest.raises(ParameterError, match="sampler.teacher"):
        MentorCurriculumSampler(_rows(3), {})
    with pytest.raises(DataError, match="no 'index'"):
        MentorCurriculumSampler([{"prompt": "x"}], {}, teacher=teacher)


# ------------------------------------------------------------------ the real verl hook
def test_verl_builds_and_updates_the_sampler():
    pytest.importorskip("verl.experimental.dataset.sampler")
    from omegaconf import OmegaConf
    from verl import DataProto
    from verl.experimental.dataset.sampler import AbstractCurriculumSampler
    from verl.trainer.main_ppo import create_rl_sampler

    config = OmegaConf.create(
        {
            "train_batch_size": 2,
            "shuffle": True,
            "seed": 1,
            "dataloader_num_workers": 0,
            "sampler": {
                "class_path": "pkg://mentor.rl.verl_sampler",
                "class_name": "MentorCurriculumSampler",
                "arm_key": "level",
                "teacher": {"name": "sec", "params": {"temperature": 0.01}},
            },
        }
    )

    class Frame:  # RLHFDataset keeps its rows in ``dataframe``
        dataframe = _rows(6)

        def __len__(self):
            return 6

    sampler = create_rl_sampler(config, Frame())
    assert isinstance(sampler, MentorCurriculumSampler)
    assert isinstance(sampler, AbstractCurriculumSampler)
    assert isinstance(sampler.draws.teacher, SEC)
    # level 1 (odd prompts) gets mixed rewards, level 0 all zeros: SEC's Q(level 1) rises
    batch = DataProto.from_dict(
        tensors={"token_level_scores": torch.tensor([[1.0], [0.0], [0.0], [0.0]])},
        non_tensors={"index": np.array([101, 101, 100, 100], dtype=object)},
    )
    sampler.update(batch=batch)
    q = sampler.draws.teacher.values(0, [0, 1])
    # TD(0) with alpha 0.5 from 0: level 1 mean |A| = 0.5 -> Q 0.25; level 0 -> 0
    np.testing.assert_allclose(q, [0.0, 0.25])
    rows = list(iter(sampler))[:4]  # P(level 0) = 1 / (1 + e^25) per draw
    assert all(Frame.dataframe[r]["extra_info"]["level"] == 1 for r in rows)
