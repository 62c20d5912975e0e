"""Where PyTorch work runs: the ``device`` parameter of models and strategies.

:func:`check_device` validates the value without importing PyTorch, so a
constructor can reject a bad value on a machine without ``mentor[torch]``;
:func:`resolve_device` turns it into a ``torch.device`` when the work starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mentor.errors import DataError, ParameterError

if TYPE_CHECKING:
    import torch

_ALLOWED = "must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'"


def check_device(value: Any) -> str:
    """Accept ``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps`` (availability is
    checked when the device is first needed)."""
    if isinstance(value, str) and (
        value in ("auto", "cpu", "cuda", "mps")
        or (value.startswith("cuda:") and value[5:].isdigit())
    ):
        return value
    raise ParameterError(_ALLOWED, field="device", value=value)


def resolve_device(device: str) -> torch.device:
    """The torch device for a ``device`` parameter: ``auto`` is CUDA when available."""
    import torch

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise DataError("CUDA is not available on this machine", field="device", value=device)
    if device == "mps" and not torch.backends.mps.is_available():
        raise DataError("MPS is not available on this machine", field="device", value=device)
    return torch.device(device)
