"""Data augmentation on batches already on the device (no host round trip).

:class:`RandomCropFlip` is the CIFAR augmentation of the DER paper and most
continual-learning benchmarks (random 32x32 crop of the image padded by 4,
random horizontal flip), applied to a whole ``[N, C, H, W]`` batch at once with
one gather.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from mentor._checks import check_count
from mentor.errors import ParameterError


class RandomCropFlip:
    """Random crop after padding, then a random horizontal flip, per example.

    Parameters
    ----------
    padding
        Pixels added on each side before cropping back to the input size. Default 4.
    flip
        Flip each image left-right with probability 1/2. Default True.
    fill
        Value of the padded pixels, one per channel or one for all. For
        normalised images pass ``-mean / std`` (the normalised black). Default 0.
    seed
        Seed of the augmentation's own generator (created on the batch's device).
    """

    def __init__(
        self,
        padding: int = 4,
        flip: bool = True,
        fill: float | Sequence[float] = 0.0,
        seed: int = 0,
    ) -> None:
        padding = check_count("padding", padding, 0)
        self.padding = padding
        self.flip = bool(flip)
        self.fill = torch.as_tensor(fill, dtype=torch.float32).flatten()
        self.seed = seed
        self._generators: dict[torch.device, torch.Generator] = {}

    def _generator(self, device: torch.device) -> torch.Generator:
        if device not in self._generators:
            generator = torch.Generator(device=device)
            generator.manual_seed(self.seed)
            self._generators[device] = generator
        return self._generators[device]

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4:
            raise ParameterError("expects images [N, C, H, W]", field="x", value=list(x.shape))
        n, c, h, w = x.shape
        g = self._generator(x.device)
        p = self.padding
        out = x
        if p:
            fill = self.fill.to(device=x.device, dtype=x.dtype).expand(c).view(1, c, 1, 1)
            padded = F.pad(x - fill, (p, p, p, p)) + fill
            top = torch.randint(0, 2 * p + 1, (n, 1), generator=g, device=x.device)
            left = torch.randint(0, 2 * p + 1, (n, 1), generator=g, device=x.device)
            span = torch.arange(h, device=x.device)
            rows = (top + span).view(n, 1, h, 1).expand(n, c, h, w + 2 * p)
            by_row = padded.gather(2, rows)
            cols = (left + torch.arange(w, device=x.device)).view(n, 1, 1, w)
            out = by_row.gather(3, cols.expand(n, c, h, w))
        if self.flip:
            flips = torch.rand((n, 1, 1, 1), generator=g, device=x.device) < 0.5
            out = torch.where(flips, out.flip(3), out)
        return out
