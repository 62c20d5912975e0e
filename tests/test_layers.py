"""What may import what (ARCHITECTURE.md): the core stands alone.

Every ``import`` at module level in the core packages is read from the source
(``ast``; imports inside functions are the lazy imports the rule allows) and
checked against the layering: the core imports neither the optional stacks
(PyTorch, the web stack, RL and LLM libraries) nor mentor's interfaces built on
them. ``tests/test_startup.py`` checks the other half at run time: ``import
mentor`` and the command line load none of the heavy libraries.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "mentor"

#: The core: what a model or teacher may build on.
CORE = ["_checks.py", "_csv.py", "_io.py", "errors.py", "engine.py", "domain", "events",
        "students", "teachers", "sim", "metrics"]  # fmt: skip
#: Modules inside the core that are adapters to an optional stack, and may import it.
CORE_ADAPTERS = {"students/deep", "students/bkt_torch.py"}
#: Third-party packages the core must not import at module level.
FORBIDDEN = {"torch", "fastapi", "starlette", "sqlalchemy", "alembic", "uvicorn", "trl",
             "transformers", "verl", "gymnasium", "stable_baselines3", "syllabus", "httpx",
             "sentence_transformers", "lightning"}  # fmt: skip
#: mentor's own interfaces, built on the core; the core never imports them (the demo
#: course's content, mentor.demo.course and .questions, is plain data the simulators use).
INTERFACES = {"mentor.service", "mentor.torch", "mentor.rl", "mentor.tutor", "mentor.agents",
              "mentor.llm", "mentor.cli", "mentor.demo.seed", "mentor.evaluation"}  # fmt: skip


def core_files() -> list[Path]:
    files = []
    for entry in CORE:
        path = ROOT / entry
        for file in [path] if path.is_file() else sorted(path.rglob("*.py")):
            relative = file.relative_to(ROOT).as_posix()
            if not any(relative.startswith(adapter) for adapter in CORE_ADAPTERS):
                files.append(file)
    return files


def module_level_imports(file: Path) -> list[tuple[int, str]]:
    """``(line, module)`` of each import outside functions (and outside
    ``if TYPE_CHECKING:`` blocks, which never run)."""
    tree = ast.parse(file.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.Import):
                found.extend((node.lineno, alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.append((node.lineno, node.module))
            elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            elif isinstance(node, ast.If | ast.Try | ast.With | ast.ClassDef):
                for field in ("body", "orelse", "finalbody", "handlers"):
                    for child in getattr(node, field, []):
                        visit(child.body if isinstance(child, ast.ExceptHandler) else [child])

    visit(tree.body)
    return found


def test_the_core_is_found():
    files = {f.relative_to(ROOT).as_posix() for f in core_files()}
    assert {"engine.py", "students/bkt.py", "teachers/zpdes.py", "domain/model.py"} <= files
    assert "students/deep/dkt.py" not in files


@pytest.mark.parametrize("file", core_files(), ids=lambda f: f.relative_to(ROOT).as_posix())
def test_the_core_imports_no_optional_stack_and_no_interface(file):
    for line, module in module_level_imports(file):
        top = module.split(".")[0]
        assert top not in FORBIDDEN, f"{file}:{line} imports {module}"
        assert not any(module == i or module.startswith(i + ".") for i in INTERFACES), (
            f"{file}:{line} imports {module}, an interface built on the core"
        )


def test_the_checker_sees_module_level_imports_and_skips_lazy_ones(tmp_path):
    source = tmp_path / "sample.py"
    source.write_text(
        "import numpy\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import torch\n"
        "try:\n    import fastapi\nexcept ImportError:\n    pass\n"
        "def lazy():\n    import sqlalchemy\n"
        "class Model:\n    from mentor.service import app\n",
        encoding="utf-8",
    )
    assert module_level_imports(source) == [
        (1, "numpy"),
        (2, "typing"),
        (6, "fastapi"),
        (12, "mentor.service"),
    ]
