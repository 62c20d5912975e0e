"""Start-up cost: ``import mentor`` and the command line's help and model list
must not load the heavy libraries (they took 4-7 s of CPU when they did)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("sklearn", "scipy", "pandas", "torch", "matplotlib")

PROBE = """
import json, sys
{code}
print(json.dumps(sorted(m for m in {heavy} if m in sys.modules)))
"""

CLI = """
sys.argv = ["mentor", *{args}]
from mentor.cli import app
try:
    app()
except SystemExit:
    pass
"""


def loaded(code: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(code=code, heavy=HEAVY)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "code",
    [
        "import mentor",
        "import mentor.students, mentor.cli",
        CLI.format(args=["--help"]),
        CLI.format(args=["evaluate", "--list"]),
        CLI.format(args=["evaluate", "--help"]),
        CLI.format(args=["fit", "--help"]),
    ],
    ids=["import", "import-cli", "help", "evaluate-list", "evaluate-help", "fit-help"],
)
def test_start_up_loads_no_heavy_library(code):
    assert loaded(code) == []


def test_the_probe_would_see_a_heavy_import():
    assert "scipy" in loaded("import mentor; mentor.Domain")


def test_lazy_exports_are_the_real_objects():
    import mentor
    from mentor.domain import Domain
    from mentor.students import BKT, MODELS
    from mentor.students.bkt import BKT as DefinedBKT

    assert mentor.Domain is Domain
    assert BKT is DefinedBKT and MODELS["bkt"] is DefinedBKT
    with pytest.raises(AttributeError):
        mentor.NoSuchThing  # noqa: B018


def test_model_list_reads_each_class_docstring():
    from mentor.students import MODELS

    for name in (
        "bkt",
        "level-bkt",
        "elo",
        "irt",
        "pfa",
        "fsrs",
        "fsrs-lr",
        "hlr",
        "dash",
        "sm2",
        "memory-rnn",
        "memory-rnn-fsrs",
        "psikt",
        "skill-ability",
    ):
        paragraph = (MODELS[name].__doc__ or "").strip().split("\n\n")[0]
        assert MODELS.summary(name) == " ".join(paragraph.split())


def test_simulate_help_names_the_simulator_teachers():
    from mentor.cli.simulate import PLANNING_NAMES, TEACHER_NAMES
    from mentor.sim import DEFAULT_TEACHERS, PLANNING_TEACHERS

    assert TEACHER_NAMES == tuple(DEFAULT_TEACHERS)
    assert PLANNING_NAMES == tuple(PLANNING_TEACHERS)
