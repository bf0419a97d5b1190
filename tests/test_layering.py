"""The package's three parts stay apart: the engine never imports the ways in (serve) or the measuring
(evaluation, bench); they import the engine."""

from __future__ import annotations

import ast
from pathlib import Path

from assistant.config import REPO_ROOT

PACKAGE = REPO_ROOT / "assistant"
OUTER = ("serve", "evaluation", "bench")


def imported_modules(path: Path, source: str | None = None) -> set[str]:
    """Every module a file imports, at top level or inside a function, as a dotted name under `assistant`."""
    package = path.relative_to(REPO_ROOT).parts[:-1]
    found = set()
    for node in ast.walk(ast.parse(source if source is not None else path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = list(package[: len(package) - node.level + 1]) if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            found.add(module)
            found |= {f"{module}.{alias.name}" for alias in node.names}
    return {name for name in found if name == "assistant" or name.startswith("assistant.")}


def engine_files() -> list[Path]:
    return [p for p in PACKAGE.glob("*.py") if p.name != "cli.py"]


def test_the_engine_imports_none_of_the_outer_parts():
    assert len(engine_files()) > 10
    crossings = {f"{path.name} imports {name}" for path in engine_files() for name in imported_modules(path)
                 if any(name.startswith(f"assistant.{part}") for part in OUTER)}
    assert not crossings


def test_the_outer_parts_do_not_import_each_other():
    crossings = set()
    for part in OUTER:
        for path in (PACKAGE / part).glob("*.py"):
            for name in imported_modules(path):
                other = name.split(".")[1] if name.count(".") else ""
                if other in OUTER and other != part:
                    crossings.add(f"{part}/{path.name} imports {name}")
    assert not crossings


def test_the_checker_sees_every_kind_of_import():
    """The check itself can fail: lazy, relative and absolute imports of the outer parts are all found."""
    engine, outer = PACKAGE / "probe.py", PACKAGE / "serve" / "probe.py"
    assert "assistant.serve.app" in imported_modules(engine, "def f():\n    from .serve.app import build_app\n")
    assert "assistant.evaluation" in imported_modules(engine, "import assistant.evaluation\n")
    assert "assistant.bench.runner" in imported_modules(outer, "from ..bench import runner\n")
    assert "assistant.pipeline" in imported_modules(outer, "from ..pipeline import Assistant\n")
