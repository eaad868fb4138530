"""bench/ stands on the package alone: it imports nothing from tests/ (the endpoint registry, the sandbox
and the Redis helper are in the package)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_bench_imports_nothing_from_tests():
    modules = sorted((ROOT / "bench").glob("*.py"))
    assert len(modules) > 5
    offenders = [p.name for p in modules if "tests" in _imported_roots(p)]
    assert offenders == []
