"""mentor.rl against the installed TRL: the sampler's layout, the reward wrapper, the trainer's
order of select/observe calls, DAPO dynamic sampling and checkpoints."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("trl")

from datasets import Dataset  # noqa: E402
from trl import GRPOConfig  # noqa: E402
from trl.trainer.utils import RepeatSampler  # noqa: E402

from mentor.errors import DataError, ParameterError  # noqa: E402
from mentor.rl._draws import TeacherDraws  # noqa: E402
from mentor.rl._toy import char_tokenizer, tiny_causal_lm  # noqa: E402
from mentor.rl.trl_reward import MentorReward  # noqa: E402
from mentor.rl.trl_sampler import TeacherRepeatSampler  # noqa: E402
from mentor.rl.trl_trainer import DynamicSampling, MentorGRPOTrainer  # noqa: E402
from mentor.teachers import RandomTeacher  # noqa: E402


class Recording(RandomTeacher):
    """A random teacher that records its calls."""

    name = "random"

    def __init__(self, seed=0):
        super().__init__(seed)
        self.calls = []

    def select(self, learner, candidates, k=1, t=None, model=None):
        picks = super().select(learner, candidates, k, t, model)
        self.calls.append(("select", list(picks)))
        return picks

    def observe(self, events):
        self.calls.append(("observe", events.item.tolist()))


# ------------------------------------------------------------------ sampler layout
@pytest.mark.parametrize("mini,batch,repeat", [(2, 3, 4), (3, 4, 2), (1, 2, 1)])
def test_sampler_has_repeat_samplers_layout(mini, batch, repeat):
    draws = TeacherDraws(RandomTeacher(seed=1), n=11)
    sampler = TeacherRepeatSampler(
        draws, mini_repeat_count=mini, batch_size=batch, repeat_count=repeat
    )
    got = list(sampler)
    # TRL's own RepeatSampler, unshuffled, over the chunks the teacher drew laid end to end
    flat = [row for chunk in sampler.chunks_ for row in chunk]
    reference = RepeatSampler(
        list(range(len(flat))),
        mini_repeat_count=mini,
        batch_size=batch,
        repeat_count=repeat,
        shuffle=False,
    )
    assert got == [flat[i] for i in reference]
    assert len(got) == len(sampler) == len(RepeatSampler(list(range(11)), mini, batch, repeat))
    assert len(sampler.chunks_) == 11 // batch
    assert all(len(set(chunk)) == batch for chunk in sampler.chunks_)


def test_sampler_rejects_bad_sizes():
    draws = TeacherDraws(RandomTeacher(seed=1), n=3)
    with pytest.raises(ParameterError, match="fewer than one chunk"):
        TeacherRepeatSampler(draws, mini_repeat_count=2, batch_size=4)
    with pytest.raises(ParameterError, match="mini_repeat_count"):
        TeacherRepeatSampler(draws, mini_repeat_count=0)


# ------------------------------------------------------------------ draws and events
def test_draws_over_arms_cycle_through_each_arm():
    arms = ["easy"] * 3 + ["hard"] * 2
    draws = TeacherDraws(RandomTeacher(seed=3), ids=[10, 11, 12, 13, 14], arms=arms, seed=0)
    rows = draws.draw(60)
    by_arm = {"easy": [r for r in rows if r < 3], "hard": [r for r in rows if r >= 3]}
    for arm, members in (("easy", [0, 1, 2]), ("hard", [3, 4])):
        got = by_arm[arm]
        # every prompt of the arm once before any twice: each full cycle is a permutation
        for start in range(0, len(got) - len(members) + 1, len(members)):
            assert sorted(got[start : start + len(members)]) == members
    assert draws.timing_["select_calls"] == 1  # one select_slots call per chunk


def test_events_center_outcomes_per_prompt_and_map_the_reward_range():
    draws = TeacherDraws(RandomTeacher(0), ids=["a", "b"], arms=[1, 2], reward_range=(-1, 1))
    log = draws.events(["a", "a", "b", "b", "b"], [1.0, -1.0, 0.0, 1.0, 3.0], t=7)
    assert log.item.tolist() == [1, 1, 2, 2, 2]  # arms, not prompt ids
    assert log.outcome.tolist() == [1.0, 0.0, 0.5, 1.0, 1.0]  # (r + 1) / 2, clipped
    # a: mean 0.5 -> +-0.5; b: mean 2.5 / 3
    np.testing.assert_allclose(log.extra["advantage"], [0.5, -0.5, 0.5 - 2.5 / 3, 1 / 6, 1 / 6])
    assert log.time.tolist() == [7.0] * 5
    with pytest.raises(DataError, match="unknown prompt id"):
        draws.events(["c"], [1.0], t=0)
    with pytest.raises(DataError, match="duplicate prompt id"):
        TeacherDraws(RandomTeacher(0), ids=[1, 1])


def test_draws_fill_a_chunk_the_teacher_leaves_short():
    class Nothing(RandomTeacher):
        def select(self, learner, candidates, k=1, t=None, model=None):
            return []

    draws = TeacherDraws(Nothing(0), n=5, seed=0)
    assert len(draws.draw(3)) == 3 and draws.filled_ == 3


# ------------------------------------------------------------------ reward wrapper
def test_reward_wrapper_forwards_ids_and_rewards():
    teacher = Recording()
    draws = TeacherDraws(teacher, ids=[5, 6])

    def correct(prompts, completions, answer, **kwargs):
        return [float(c == a) for c, a in zip(completions, answer, strict=True)]

    reward = MentorReward(correct, draws)
    assert reward.__name__ == "correct"
    out = reward(
        prompts=["p", "p", "q"],
        completions=["1", "2", "3"],
        answer=["1", "1", "3"],
        prompt_id=[5, 5, 6],
        trainer_state=None,
    )
    assert out == [1.0, 0.0, 1.0]
    assert teacher.calls == [("observe", [5, 5, 6])]
    with pytest.raises(DataError, match="prompt id column"):
        reward(prompts=["p"], completions=["1"], answer=["1"])


# ------------------------------------------------------------------ the real trainer
DIGITS = "0123456789+="


def _dataset(n=12):
    rows = [
        {
            "prompt": f"{a}+{a}=",
            "answer": str(2 * a),
            "prompt_id": 100 + a,
            "level": 1 if a < 5 else 2,
        }
        for a in range(n % 10 or 10)
    ]
    return Dataset.from_list(rows[:n])


def _config(tmp_path, **kwargs):
    options = dict(
        output_dir=str(tmp_path),
        per_device_train_batch_size=4,
        num_generations=2,
        max_completion_length=2,
        max_steps=3,
        report_to=[],
        use_cpu=True,
        seed=0,
        save_strategy="no",
        logging_steps=1,
        disable_tqdm=True,
        beta=0.0,
    )
    options.update(kwargs)
    return GRPOConfig(**options)


def _correct(prompts, completions, answer, **kwargs):
    return [float(c.strip() == a) for c, a in zip(completions, answer, strict=True)]


@pytest.fixture(scope="module")
def tokenizer():
    return char_tokenizer(DIGITS)


def test_trainer_feedback_arrives_one_generation_batch_late(tmp_path, tokenizer):
    teacher = Recording(seed=0)
    trainer = MentorGRPOTrainer(
        model=tiny_causal_lm(tokenizer, layers=1, width=16, heads=2, context=16),
        reward_funcs=_correct,
        args=_config(tmp_path),
        train_dataset=_dataset(10),
        processing_class=tokenizer,
        teacher=teacher,
    )
    trainer.train()
    kinds = [kind for kind, _ in teacher.calls]
    # accelerate's DataLoaderShard fetches batch c + 1 before it yields batch c, so chunk c + 1
    # is chosen before chunk c's rewards arrive: s0 s1 o0 s2 o1 s3 o2
    assert kinds == ["select", "select", "observe", "select", "observe", "select", "observe"]
    chosen = [picks for kind, picks in teacher.calls if kind == "select"]
    observed = [items for kind, items in teacher.calls if kind == "observe"]
    for c in range(3):  # each chunk's 2 prompts, 2 rollouts each, in the sampler's order
        assert observed[c] == [p for p in chosen[c] for _ in range(2)]
    assert trainer.rollouts_ == 12 and trainer.generation_batches_ == 3


def test_reward_wrapper_inside_a_plain_grpo_trainer(tmp_path, tokenizer):
    """``MentorReward`` in TRL's own ``GRPOTrainer`` (no mentor subclass): every rollout's
    prompt id reaches the teacher, in the order TRL scored them; with the sampler set on
    the instance, the prompts scored are the teacher's chunks."""
    from trl import GRPOTrainer

    teacher = Recording(seed=0)
    dataset = _dataset(10)
    draws = TeacherDraws(teacher, ids=dataset["prompt_id"])
    scored: list[list[int]] = []

    def correct(prompts, completions, answer, prompt_id, **kwargs):
        scored.append(list(prompt_id))
        return _correct(prompts, completions, answer)

    trainer = GRPOTrainer(
        model=tiny_causal_lm(tokenizer, layers=1, width=16, heads=2, context=16),
        reward_funcs=MentorReward(correct, draws),
        args=_config(tmp_path),
        train_dataset=dataset,
        processing_class=tokenizer,
    )
    sampler = TeacherRepeatSampler(draws, mini_repeat_count=2, batch_size=2)
    trainer._get_train_sampler = lambda dataset=None: sampler
    trainer.train()
    observed = [items for kind, items in teacher.calls if kind == "observe"]
    # 3 steps of 4 rollouts (2 prompts x 2 generations), each scored once and observed once
    assert observed == scored and len(scored) == 3 and all(len(ids) == 4 for ids in scored)
    assert draws.timing_["observe_calls"] == 3
    rows = [[dataset["prompt_id"][r] for r in chunk for _ in range(2)] for chunk in sampler.chunks_]
    assert scored == rows[:3]  # the teacher chose them (a 4th chunk was prefetched)


def test_trainer_with_repeat_count_two_observes_before_the_next_choice(tmp_path, tokenizer):
    teacher = Recording(seed=0)
    trainer = MentorGRPOTrainer(
        model=tiny_causal_lm(tokenizer, layers=1, width=16, heads=2, context=16),
        reward_funcs=_correct,
        args=_config(tmp_path, num_iterations=2, max_steps=4),
        train_dataset=_dataset(10),
        processing_class=tokenizer,
        teacher=teacher,
    )
    trainer.train()
    kinds = [kind for kind, _ in teacher.calls]
    # each chunk fills two dataloader batches: the prefetch of the second is the same chunk
    assert kinds == ["select", "observe", "select", "observe", "select"]


def test_trainer_checks_its_columns(tmp_path, tokenizer):
    with pytest.raises(ParameterError, match="not a column"):
        MentorGRPOTrainer(
            model=tiny_causal_lm(tokenizer, layers=1, width=16, heads=2),
            reward_funcs=_correct,
            args=_config(tmp_path),
            train_dataset=_dataset(10),
            processing_class=tokenizer,
            teacher=RandomTeacher(0),
            arm_column="difficulty",
        )


# ------------------------------------------------------------------ dynamic sampling
def test_dynamic_sampling_keeps_groups_whose_rewards_differ():
    rule = DynamicSampling()
    rewards = np.array([1, 1, 0, 1, 0, 0, np.nan, np.nan, np.nan, 1, 0.5, 0.5, 0, 0.25])
    # a single scored rollout (nan, 1) agrees with itself: dropped
    assert rule.keep(rewards, 2).tolist() == [False, True, False, False, False, False, True]
    band = DynamicSampling(low=0.2, high=0.6)  # balanced filtering on the group mean
    assert band.keep(np.array([0, 1, 0, 0.1, 1, 0.9]), 2).tolist() == [True, False, False]
    with pytest.raises(ParameterError, match="max_extra_batches"):
        DynamicSampling(max_extra_batches=-1)


def _by_prompt(prompts, completions, prompt_id, **kwargs):
    """Rollouts of odd ids alternate 0/1 (groups that teach); even ids always score 1."""
    return [float(i % 2 == 0 or k % 2) for k, i in enumerate(prompt_id)]


class OddFirst(RandomTeacher):
    """Picks the odd prompt ids first, in order (a teacher whose refills are known)."""

    def select(self, learner, candidates, k=1, t=None, model=None):
        return sorted(candidates, key=lambda i: (i % 2 == 0, i))[:k]


def test_dynamic_sampling_refills_with_groups_that_teach(tmp_path, tokenizer):
    dataset = _dataset(10)
    trainer = MentorGRPOTrainer(
        model=tiny_causal_lm(tokenizer, layers=1, width=16, heads=2, context=16),
        reward_funcs=_by_prompt,
        args=_config(tmp_path, per_device_train_batch_size=8),
        train_dataset=dataset,
        processing_class=tokenizer,
        teacher=OddFirst(seed=2),
        dynamic_sampling=DynamicSampling(max_extra_batches=5),
    )
    trainer.model.train()
    chunk = [0, 2, 4, 1]  # ids 100, 102, 104 teach nothing; 101 does
    inputs = [dataset[r] for r in chunk for _ in range(2)]
    out = trainer._generate_and_score_completions(inputs)
    prompts = tokenizer.batch_decode(out["prompt_ids"], skip_special_tokens=True)
    ids = [100 + int(p[0]) for p in prompts]
    # batch 1 keeps 101; the refill (101, 103, 105, 107, all teaching) gives the 3 missing
    # groups in order; then the batch is full and no third batch is drawn
    assert ids == [101, 101, 101, 101, 103, 103, 105, 105]
    assert trainer.generation_batches_ == 2 and trainer.rollouts_ == 16
    assert trainer.draws.timing_["select_calls"] == 1
    assert trainer._metrics["train"]["mentor/filled_with_dropped_groups"][-1] == 0.0
    assert out["advantages"].shape == (8,)
    np.testing.assert_array_equal(out["num_items_in_batch"], out["completion_mask"].sum())


def test_dynamic_sampling_without_a_teacher_refills_uniformly(tmp_path, tokenizer):
    dataset = _dataset(10)
    trainer = MentorGRPOTrainer(
        model=tiny_causal_lm(tokenizer, layers=1, width=16, heads=2, context=16),
        reward_funcs=_by_prompt,
        args=_config(tmp_path, per_device_train_batch_size=8),
        train_dataset=dataset,
        processing_class=tokenizer,
        dynamic_sampling=DynamicSampling(max_extra_batches=0),
    )
    trainer.model.train()
    inputs = [dataset[r] for r in [0, 2, 4, 6] for _ in range(2)]
    out = trainer._generate_and_score_completions(inputs)
    # no group teaches and no refill is allowed: the batch is the dropped groups, all zero
    assert trainer.generation_batches_ == 1
    assert out["advantages"].abs().sum().item() == 0.0
    assert trainer._metrics["train"]["mentor/filled_with_dropped_groups"][-1] == 1.0


def test_checkpoints_carry_the_teachers_state(tmp_path, tokenizer):
    import json

    from mentor.teachers import SEC

    def trainer_with(teacher, **kwargs):
        return MentorGRPOTrainer(
            model=tiny_causal_lm(tokenizer, layers=1, width=16, heads=2, context=16),
            reward_funcs=_by_prompt,
            args=_config(tmp_path, **kwargs),
            train_dataset=_dataset(10),
            processing_class=tokenizer,
            teacher=teacher,
            arm_column="level",
        )

    first = trainer_with(SEC(seed=0), max_steps=2, save_strategy="steps", save_steps=2)
    first.train()
    folder = tmp_path / "checkpoint-2"
    saved = json.loads((folder / "mentor_teacher.json").read_text())
    assert saved == json.loads(json.dumps(first.mentor_teacher.state_dict()))
    assert saved["state"]["learners"]  # SEC learned values for the levels it saw
    second = trainer_with(SEC(seed=5))
    second._load_from_checkpoint(str(folder))
    assert second.mentor_teacher.state_dict() == first.mentor_teacher.state_dict()


def test_trainer_refuses_a_stream_with_a_teacher(tmp_path, tokenizer):
    stream = _dataset(10).to_iterable_dataset()
    with pytest.raises(ParameterError, match="map-style"):
        MentorGRPOTrainer(
            model=tiny_causal_lm(tokenizer, layers=1, width=16, heads=2),
            reward_funcs=_correct,
            args=_config(tmp_path),
            train_dataset=stream,
            processing_class=tokenizer,
            teacher=RandomTeacher(0),
        )
