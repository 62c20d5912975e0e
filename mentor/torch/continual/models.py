"""Networks for the continual-learning benchmarks, each with a ``features`` method
(the penultimate representation, needed by iCaRL's nearest-mean classifier).

- :class:`MLP`: the fully connected network of the MNIST benchmarks in GEM
  (Lopez-Paz and Ranzato 2017) and the DER paper (two hidden layers of 100
  ReLU units).
- :class:`ResNet18`: the ResNet-18 of He et al. (2016) for 32x32 inputs as used
  by the DER paper (Buzzega et al. 2020) on Seq-CIFAR-10: a 3x3 stride-1 stem
  without max-pooling, four stages of two basic blocks with ``nf, 2nf, 4nf, 8nf``
  channels (``nf = 64``), global average pooling, one linear layer.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn


class MLP(nn.Module):
    """``input -> [Linear, ReLU] * len(hidden) -> Linear(num_classes)``.

    Parameters
    ----------
    input_size
        Number of input features (inputs are flattened).
    num_classes
        Number of outputs.
    hidden
        Widths of the hidden layers. Default ``(100, 100)`` (GEM, DER).
    """

    def __init__(self, input_size: int, num_classes: int, hidden: Sequence[int] = (100, 100)):
        super().__init__()
        layers: list[nn.Module] = []
        width = input_size
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.body(x.flatten(1))
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.head(self.features(x))
        return out


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with batch norm and a residual connection (He et al. 2016)."""

    def __init__(self, inputs: int, outputs: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inputs, outputs, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(outputs)
        self.conv2 = nn.Conv2d(outputs, outputs, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(outputs)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or inputs != outputs:
            self.shortcut = nn.Sequential(
                nn.Conv2d(inputs, outputs, 1, stride, bias=False), nn.BatchNorm2d(outputs)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet18(nn.Module):
    """ResNet-18 for 32x32 images (the DER paper's backbone).

    Parameters
    ----------
    num_classes
        Number of outputs.
    nf
        Channels of the first stage. Default 64 (DER paper).
    in_channels
        Input channels. Default 3.
    """

    def __init__(self, num_classes: int, nf: int = 64, in_channels: int = 3) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, nf, 3, 1, 1, bias=False), nn.BatchNorm2d(nf), nn.ReLU()
        )
        stages: list[nn.Module] = []
        width = nf
        for i, stride in enumerate((1, 2, 2, 2)):
            out = nf * 2**i
            stages += [BasicBlock(width, out, stride), BasicBlock(out, out, 1)]
            width = out
        self.stages = nn.Sequential(*stages)
        self.head = nn.Linear(width, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(F.adaptive_avg_pool2d(self.stages(self.stem(x)), 1), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.head(self.features(x))
        return out
