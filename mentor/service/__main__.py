"""``python -m mentor.service``: the same as ``mentor serve``."""

import typer

from mentor.cli.serve import serve

if __name__ == "__main__":
    typer.run(serve)
