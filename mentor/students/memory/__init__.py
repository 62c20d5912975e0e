"""Memory models for spaced repetition: the probability of recalling a card at any time.

Each model follows :class:`~mentor.students.StudentModel`, keeps a state per
(learner, card) that one review updates in O(1), and predicts recall at any
future time t (seconds, the log's clock):

- :class:`FSRS` (``"fsrs"``): FSRS-6 through the official ``fsrs`` package,
  weights fitted by its optimizer (needs the ``mentor[torch]`` extra).
- :class:`FSRSLogistic` (``"fsrs-lr"``): FSRS-6 with a logistic correction on its
  logit from the card's review history, fitted separately for same-day and
  cross-day reviews.
- :class:`HLR` (``"hlr"``): half-life regression, Settles and Meeder, ACL 2016.
- :class:`DASH` (``"dash"``): logistic regression on review counts in time
  windows, Lindsey et al. 2014, as srs-benchmark's DASH.
- :class:`SM2` (``"sm2"``): SuperMemo-2 intervals read as forgetting curves,
  p = 0.9 ** (elapsed / interval), as in srs-benchmark.
- :class:`MemoryRNN` (``"memory-rnn"``): a GRU per card whose state sets a
  mixture of power forgetting curves (fitting needs the ``mentor[torch]`` extra;
  predicting does not).
- :class:`MemoryRNNFSRS` (``"memory-rnn-fsrs"``): the same, with FSRS-6's
  stability, difficulty and recall of the card among the GRU's inputs.
"""

from mentor.students.memory._base import MemoryModel
from mentor.students.memory.dash import DASH
from mentor.students.memory.fsrs_lr import FSRSLogistic
from mentor.students.memory.fsrs_model import FSRS
from mentor.students.memory.hlr import HLR
from mentor.students.memory.rnn import MemoryRNN
from mentor.students.memory.rnn_fsrs import MemoryRNNFSRS
from mentor.students.memory.sm2 import SM2

MEMORY_MODELS = (FSRS, FSRSLogistic, HLR, DASH, SM2, MemoryRNN, MemoryRNNFSRS)

__all__ = [
    "DASH",
    "FSRS",
    "FSRSLogistic",
    "HLR",
    "MEMORY_MODELS",
    "SM2",
    "MemoryModel",
    "MemoryRNN",
    "MemoryRNNFSRS",
]
