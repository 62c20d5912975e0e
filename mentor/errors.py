"""Errors a user can cause, each with a message that names what is wrong.

Every error that bad input can trigger (a malformed file, an unknown id, a
cycle in a prerequisite graph, a corrupt state file) is a :class:`MentorError`.
The command line prints the message on one line and exits non-zero; library
users can catch the base class.
"""

from __future__ import annotations

from typing import Any


class MentorError(Exception):
    """Base class of every error that a user of mentor can cause."""


class DataError(MentorError, ValueError):
    """A problem in an input file or array.

    The message names the file, the line (1-based, as an editor shows it), the
    field and the offending value, whichever of these are known.
    """

    def __init__(
        self,
        problem: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
        value: object = None,
    ) -> None:
        self.problem = problem
        self.file = file
        self.line = line
        self.field = field
        self.value = value
        where = []
        if file is not None:
            where.append(str(file) if line is None else f"{file}:{line}")
        elif line is not None:
            where.append(f"line {line}")
        if field is not None:
            where.append(f"field '{field}'")
        if value is not None:
            where.append(f"value {value!r}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {problem}" if prefix else problem)


class ParameterError(DataError):
    """A hyper-parameter of a model or teacher that it does not have or cannot take;
    ``field`` names the parameter and ``value`` the value given."""


class DomainError(MentorError, ValueError):
    """An inconsistent domain model: unknown skill, duplicate item, bad task space."""


class CycleError(DomainError):
    """A prerequisite graph that is not acyclic; the message names one cycle."""

    def __init__(self, cycle: list[Any], source: str | None = None) -> None:
        self.cycle = cycle
        path = " -> ".join(map(str, [*cycle, cycle[0]]))
        where = f"{source}: " if source else ""
        super().__init__(f"{where}prerequisite graph has a cycle: {path}")


class UnknownIdError(MentorError, KeyError):
    """An item, skill, learner or model name that mentor does not know."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class StateError(MentorError, ValueError):
    """A saved state that cannot be restored (wrong kind, version or shape)."""
