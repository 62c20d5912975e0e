"""The ``mentor`` command line."""

from __future__ import annotations

import sys

import typer

from mentor.cli.agent import agent_app
from mentor.cli.evaluate import evaluate
from mentor.cli.fit import fit
from mentor.cli.serve import serve
from mentor.cli.simulate import simulate
from mentor.errors import MentorError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="mentor decides what a learner should practise next.",
    pretty_exceptions_enable=False,
)
app.command()(fit)
app.command()(evaluate)
app.command()(simulate)
app.command()(serve)
app.add_typer(agent_app, name="agent")


def main() -> None:
    """Entry point: user errors print one line on stderr and exit with status 1."""
    try:
        app()
    except MentorError as error:
        print(f"mentor: error: {error}", file=sys.stderr)
        sys.exit(1)
    except OSError as error:
        print(f"mentor: error: {error.filename or ''}: {error.strerror}", file=sys.stderr)
        sys.exit(1)
