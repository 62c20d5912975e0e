"""mentor: decides what a learner should practise next.

The four parts of a tutoring system: :mod:`mentor.domain` (what there is to
learn), :mod:`mentor.students` (what the learner knows), :mod:`mentor.teachers`
(what to practise next) and the interfaces; around them :mod:`mentor.events`,
:mod:`mentor.sim`, :mod:`mentor.metrics` and :mod:`mentor.cli`.
"""

from mentor.domain import Box, Domain, Item
from mentor.engine import Engine
from mentor.errors import MentorError
from mentor.events import Event, EventLog

__version__ = "0.1.0"

__all__ = ["Box", "Domain", "Engine", "Event", "EventLog", "Item", "MentorError", "__version__"]
