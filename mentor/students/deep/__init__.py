"""Deep knowledge-tracing models behind the :class:`~mentor.students.StudentModel` contract.

- :class:`DKT`: Deep Knowledge Tracing (Piech et al., NeurIPS 2015), an LSTM or GRU.
- :class:`SimpleKT`: simpleKT (Liu et al., ICLR 2023), a causal transformer with
  Rasch-style question embeddings.
- :class:`AKT`: context-aware attentive knowledge tracing (Ghosh et al., KDD
  2020), monotonic attention with exponential decay over context-aware distance.

They need PyTorch and safetensors, the optional extra ``mentor[torch]``; torch
is imported only inside this package. All train on CUDA when available
(``device="auto"``) and save their weights as base64 text of safetensors bytes
inside the JSON state, never as a pickle.
"""

try:
    import torch  # noqa: F401
except ImportError as error:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "mentor.students.deep needs PyTorch; install the extra: pip install 'mentor[torch]'"
    ) from error

from mentor.students.deep.akt import AKT
from mentor.students.deep.dkt import DKT
from mentor.students.deep.simplekt import SimpleKT

#: The deep models by their short name.
DEEP_MODELS = {cls.name: cls for cls in (DKT, SimpleKT, AKT)}

__all__ = ["AKT", "DEEP_MODELS", "DKT", "SimpleKT"]
