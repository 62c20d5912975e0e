"""A character tokenizer and a small random causal transformer, built locally (no downloads).

For tests and CPU benchmarks of the RL adapters: a ``transformers`` fast tokenizer whose
tokens are single characters (``tokenizers``' WordLevel model over a character split, with
``<pad>``, ``<unk>``, ``<s>`` and ``</s>``), and a GPT-2 model built from a config with random
weights (Radford et al. 2019's architecture; no pretrained weights are loaded).
"""

from __future__ import annotations

from typing import Any

from mentor.errors import ParameterError

SPECIAL = ("<pad>", "<unk>", "<s>", "</s>")


def char_tokenizer(alphabet: str) -> Any:
    """A ``PreTrainedTokenizerFast`` with one token per character of ``alphabet``."""
    from tokenizers import Regex, Tokenizer, decoders, pre_tokenizers
    from tokenizers.models import WordLevel
    from transformers import PreTrainedTokenizerFast

    chars = list(dict.fromkeys(alphabet))
    if not chars or any(c in SPECIAL for c in chars):
        raise ParameterError("needs at least one plain character", field="alphabet", value=alphabet)
    vocab = {token: i for i, token in enumerate([*SPECIAL, *chars])}
    model = Tokenizer(WordLevel(vocab, unk_token="<unk>"))
    model.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    model.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(
        tokenizer_object=model,
        pad_token="<pad>",
        unk_token="<unk>",
        bos_token="<s>",
        eos_token="</s>",
    )


def tiny_causal_lm(
    tokenizer: Any,
    layers: int = 2,
    width: int = 64,
    heads: int = 4,
    context: int = 64,
    seed: int = 0,
) -> Any:
    """A GPT-2 ``GPT2LMHeadModel`` with random weights (seeded), sized for a CPU."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=context,
        n_embd=width,
        n_layer=layers,
        n_head=heads,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model = GPT2LMHeadModel(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model
