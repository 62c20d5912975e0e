"""Networks as learners: mentor's teachers deciding what a PyTorch model trains on.

A thin adapter over the core (extra ``mentor[torch]``): a network's
per-example results are events, its tasks or data sources are arms.

- :mod:`mentor.torch.data`: image datasets read from local files, no downloads.
- :mod:`mentor.torch.sampler`: curriculum sampling for any training loop.
- :mod:`mentor.torch.continual`: continual-learning scenarios and strategies.
- :mod:`mentor.torch.distributed`: data-parallel training with the teacher on rank 0.
"""

try:
    import torch  # noqa: F401
except ImportError as error:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "mentor.torch needs PyTorch; install the extra: pip install 'mentor[torch]'"
    ) from error
