"""Small rooms: no class of the core or the console holds more than 35 methods (read from the source, not run)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("etl_core", "tui")
MAX_METHODS = 35


def method_counts() -> dict[str, int]:
    """Every class of the packages, as `module.Class`, with the methods its body defines (properties included)."""
    counts = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
                if isinstance(node, ast.ClassDef):
                    methods = [n for n in node.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
                    counts[f"{module}.{node.name}"] = len(methods)
    return counts


def test_the_count_sees_the_classes_it_should():
    counts = method_counts()
    assert counts["tui.screens.main.MainScreen"] > 10  # the reading works: a known class with known methods
    assert counts["tui.app.ConsoleApp"] > 10
    assert len(counts) > 50


def test_no_class_has_more_than_35_methods():
    large = {name: n for name, n in method_counts().items() if n > MAX_METHODS}
    assert not large, f"split these by concern (at most {MAX_METHODS} methods a class): {large}"
