"""mentor.rl.sft: easy-to-hard orderings inside the installed TRL's SFTTrainer."""

from __future__ import annotations

import pytest

pytest.importorskip("trl")

from datasets import Dataset  # noqa: E402
from trl import SFTConfig  # noqa: E402

from mentor.errors import DataError, ParameterError  # noqa: E402
from mentor.rl._toy import char_tokenizer, tiny_causal_lm  # noqa: E402
from mentor.rl.sft import CurriculumSFTTrainer, StagedSampler, paced_sampler  # noqa: E402
from mentor.teachers.pacing import Linear  # noqa: E402


def test_staged_sampler_yields_each_stage_in_full_easiest_first():
    sampler = StagedSampler([2, 1, 2, 1, 3], seed=0)
    order = list(sampler)
    assert len(order) == len(sampler) == 5
    assert sorted(order[:2]) == [1, 3] and sorted(order[2:4]) == [0, 2] and order[4] == 4
    with pytest.raises(DataError, match="row 1"):
        StagedSampler([1, float("nan")])


def test_paced_sampler_opens_the_easiest_quarter_first():
    difficulty = list(range(16))[::-1]  # row 15 easiest, row 0 hardest
    sampler = paced_sampler(difficulty, batch_size=4, pacing=Linear(start=0.25, ramp=100), seed=0)
    first = list(sampler)[:4]
    # pacing(0) = 0.25: the open part is the 4 easiest rows, all drawn in the first batch
    assert sorted(first) == [12, 13, 14, 15]


@pytest.fixture(scope="module")
def tokenizer():
    return char_tokenizer("0123456789+=")


def _data(n=12):
    rows = [{"text": f"{a}+{a}={2 * a}", "difficulty": 2 - a % 3} for a in range(n)]
    return Dataset.from_list(rows)


def test_sft_trainer_reads_stages_in_order(tmp_path, tokenizer):
    data = _data()
    config = SFTConfig(
        output_dir=str(tmp_path),
        per_device_train_batch_size=3,
        max_steps=1,
        report_to=[],
        use_cpu=True,
        seed=0,
        save_strategy="no",
        disable_tqdm=True,
    )
    trainer = CurriculumSFTTrainer(
        model=tiny_causal_lm(tokenizer, layers=1, width=16, heads=2, context=16),
        args=config,
        train_dataset=data,
        processing_class=tokenizer,
    )
    level = {row["text"]: row["difficulty"] for row in data}
    seen = []
    for batch in trainer.get_train_dataloader():
        for ids, mask in zip(batch["input_ids"], batch["attention_mask"], strict=True):
            text = tokenizer.decode(ids[mask.bool()], skip_special_tokens=True)
            seen.append(level[text])
    assert len(seen) == 12
    assert seen == sorted(seen)  # 4 of difficulty 0, then 4 of 1, then 4 of 2
    trainer.train()  # one real optimisation step through the curriculum


def test_sft_trainer_checks_its_column_and_packing(tmp_path, tokenizer):
    model = tiny_causal_lm(tokenizer, layers=1, width=16, heads=2, context=16)
    config = SFTConfig(output_dir=str(tmp_path), report_to=[], use_cpu=True)
    with pytest.raises(ParameterError, match="not a column"):
        CurriculumSFTTrainer(
            model=model,
            args=config,
            train_dataset=_data(),
            processing_class=tokenizer,
            difficulty_column="level",
        )
    packed = SFTConfig(output_dir=str(tmp_path), report_to=[], use_cpu=True, packing=True)
    with pytest.raises(ParameterError, match="packing"):
        CurriculumSFTTrainer(
            model=model, args=packed, train_dataset=_data(), processing_class=tokenizer
        )
