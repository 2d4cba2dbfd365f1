"""The engine is a plain Python package: no web framework is imported anywhere in it."""

from __future__ import annotations

import ast
from pathlib import Path

from core.settings import PROJECT_ROOT

FRAMEWORKS = {"fastapi", "starlette", "flask", "werkzeug", "a2wsgi"}


def third_party_roots(path: Path) -> set[str]:
    """The top-level names of every absolute import in the file (module level and inside functions)."""
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_engine_imports_no_web_framework():
    files = sorted((PROJECT_ROOT / "engine").rglob("*.py"))
    assert len(files) >= 5
    found = {f"{path.relative_to(PROJECT_ROOT)} imports {root}"
             for path in files for root in third_party_roots(path) & FRAMEWORKS}
    assert found == set()


def test_the_import_reader_sees_framework_imports(tmp_path: Path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from fastapi.concurrency import run_in_threadpool\n"
                      "import starlette.types\n")
    assert third_party_roots(sample) == {"fastapi", "starlette"}
