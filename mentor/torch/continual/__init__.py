"""Continual learning: scenarios, a replay buffer on the device, strategies, a trainer.

- :mod:`~mentor.torch.continual.scenarios`: class-, task- and domain-incremental
  streams, online and blurry variants, over any ``(x, y)`` tensors.
- :mod:`~mentor.torch.continual.buffer`: reservoir and class-balanced memories.
- :mod:`~mentor.torch.continual.strategies`: fine-tune, joint, ER, DER++, A-GEM,
  online EWC, LwF, iCaRL, GDumb and teacher-scheduled replay.
- :mod:`~mentor.torch.continual.trainer`: :func:`run` gives the accuracy
  matrices, metrics and timings.
- :mod:`~mentor.torch.continual.models`: the MLP and ResNet-18 of the benchmarks.
- :mod:`~mentor.torch.continual.augment`: random crop and flip on the device.
"""

from mentor.torch.continual.augment import RandomCropFlip
from mentor.torch.continual.buffer import Batch, ClassBalancedBuffer, ReplayBuffer
from mentor.torch.continual.models import MLP, ResNet18
from mentor.torch.continual.scenarios import (
    Scenario,
    Task,
    blurry,
    class_incremental,
    domain_incremental,
    online,
    permutations,
    rotations,
    task_incremental,
)
from mentor.torch.continual.trainer import ContinualResult, evaluate, run

__all__ = [
    "MLP",
    "Batch",
    "ClassBalancedBuffer",
    "ContinualResult",
    "RandomCropFlip",
    "ReplayBuffer",
    "ResNet18",
    "Scenario",
    "Task",
    "blurry",
    "class_incremental",
    "domain_incremental",
    "evaluate",
    "online",
    "permutations",
    "rotations",
    "run",
    "task_incremental",
]
