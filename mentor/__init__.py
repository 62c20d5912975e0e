"""mentor: decides what a learner should practise next.

The four parts of a tutoring system: :mod:`mentor.domain` (what there is to
learn), :mod:`mentor.students` (what the learner knows), :mod:`mentor.teachers`
(what to practise next) and the interfaces; around them :mod:`mentor.events`,
:mod:`mentor.sim`, :mod:`mentor.metrics` and :mod:`mentor.cli`.

The names below are imported on first use (PEP 562), so that ``import mentor``
and the command line start without loading SciPy, scikit-learn or PyTorch.
"""

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name -> module that defines it.
_EXPORTS = {
    "Box": "mentor.domain",
    "Domain": "mentor.domain",
    "Item": "mentor.domain",
    "Engine": "mentor.engine",
    "MentorError": "mentor.errors",
    "Event": "mentor.events",
    "EventLog": "mentor.events",
}

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from mentor.domain import Box, Domain, Item
    from mentor.engine import Engine
    from mentor.errors import MentorError
    from mentor.events import Event, EventLog


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'mentor' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = ["Box", "Domain", "Engine", "Event", "EventLog", "Item", "MentorError", "__version__"]
