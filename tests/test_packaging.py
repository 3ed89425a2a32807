"""Packaging: `python -m etl_core` and `python -m etl_core.cli` run the CLI, one version source, shell completion."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

import etl_core
from etl_core.cli import build_parser
from etl_core.pipeline import STAGES
from support import run_without_pandas

REPO = Path(__file__).resolve().parents[1]
COMPLETION = REPO / "scripts" / "d2b-console-completion.bash"


def run_module(module: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_python_m_etl_core_prints_the_one_version(tmp_path):
    result = run_module("etl_core", "--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"d2b-console {etl_core.__version__}"
    assert metadata.version("d2b-console") == etl_core.__version__  # pyproject reads it from etl_core


def test_python_m_etl_core_cli_runs_the_pipeline(env, tmp_path):
    result = run_module("etl_core.cli", "--run-all", "--json", "--config", str(env.config_path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "succeeded"


def test_python_m_etl_core_without_an_action_is_a_usage_error(tmp_path):
    result = run_module("etl_core", cwd=tmp_path)
    assert result.returncode == 2
    assert "choose --run-all, --stage, --resume, --dry-run, --backfill or --status" in result.stderr
    assert "Traceback" not in result.stderr


def test_package_metadata_names_the_license():
    assert metadata.metadata("d2b-console")["License-Expression"] == "MIT"
    assert (REPO / "LICENSE").read_text().startswith("MIT License")


def complete(*words: str) -> list[str]:
    """What the bash completion offers after `d2b-console WORDS...` (the last word is being typed)."""
    line = " ".join(["d2b-console", *words])
    script = (
        f"source {str(COMPLETION)!r}; COMP_WORDS=(d2b-console {' '.join(repr(w) for w in words)}); "
        f"COMP_CWORD={len(words)}; COMP_LINE={line!r}; _d2b_console; printf '%s\\n' \"${{COMPREPLY[@]}}\""
    )
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return [word for word in result.stdout.splitlines() if word]


def test_completion_offers_every_option_of_the_cli():
    options = {
        option for action in build_parser()._actions for option in action.option_strings if option.startswith("--")
    }
    assert set(complete("--")) == options


def test_completion_offers_the_stages_after_stage():
    assert complete("--stage", "") == list(STAGES)
    assert complete("--stage", "an") == ["analytics"]


class _Imports(ast.NodeVisitor):
    """Top-level module names a source imports: `eager` at import time, `lazy` inside functions (or for types only)."""

    def __init__(self) -> None:
        self.eager: set[str] = set()
        self.lazy: set[str] = set()
        self._depth = 0

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._depth += 1
        self.generic_visit(node)
        self._depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_If(self, node: ast.If) -> None:
        if isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":  # never run: like a lazy import
            self._depth += 1
            self.generic_visit(node)
            self._depth -= 1
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self._add(alias.name for alias in node.names)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module:
            self._add([node.module])

    def _add(self, names: Iterable[str]) -> None:
        (self.lazy if self._depth else self.eager).update(name.split(".")[0] for name in names)


def _requirements(*, extras: bool) -> set[str]:
    """Distribution names of d2b-console's dependencies (with extras: those of every extra too)."""
    names = set()
    for requirement in metadata.requires("d2b-console") or []:
        if extras or "extra ==" not in requirement:
            name = re.match(r"[A-Za-z0-9._-]+", requirement)
            assert name is not None, requirement
            names.add(_canonical(name.group()))
    return names


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _undeclared(modules: dict[str, str], declared: set[str]) -> dict[str, str]:
    distributions = metadata.packages_distributions()
    return {
        module: where
        for module, where in modules.items()
        if module not in sys.stdlib_module_names
        and module not in ("etl_core", "tui", "sql", "__future__")
        and not {_canonical(d) for d in distributions.get(module, [module])} & declared
    }


# Modules that exist for an extra: they import it at their top, and the rest of the code imports them only
# inside a function (checked below), so an install without the extra never loads them.
EXTRA_MODULES = {"tui/widgets/history/trend_plot.py"}


def test_every_library_the_shipped_code_imports_is_declared():
    """Imported at import time: a dependency itself, not only through another; inside a function: or an extra."""
    eager: dict[str, str] = {}
    lazy: dict[str, str] = {}
    for package in ("etl_core", "tui"):
        for path in sorted((REPO / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            imports = _Imports()
            imports.visit(tree)
            where = str(path.relative_to(REPO))
            for module in imports.eager:
                (lazy if where in EXTRA_MODULES else eager).setdefault(module, where)
            for module in imports.lazy:
                lazy.setdefault(module, where)
            for extra in EXTRA_MODULES:
                dotted = extra.removesuffix(".py").replace("/", ".")
                at_top = [n for n in tree.body if isinstance(n, ast.ImportFrom) and n.module == dotted]
                assert not at_top, f"{where} imports {dotted} at its top: the extra's module must be imported lazily"
    assert _undeclared(eager, _requirements(extras=False)) == {}, "imported, not in [project] dependencies"
    assert _undeclared(lazy, _requirements(extras=True)) == {}, "imported, in no dependency or extra"


def test_an_s3_sample_profile_without_pandas_names_the_extra(tmp_path):
    code = (
        "from etl_core.errors import D2BError\n"
        "from etl_core.inspect.object_sample import ObjectSample\n"
        "try:\n"
        "    ObjectSample('bucket', 'orders.csv', 6, b'a\\n1\\n', False).frame\n"
        "except D2BError as exc:\n"
        "    print(exc)\n"
    )
    result = run_without_pandas(code, tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "profiling an S3 sample needs pandas: pip install 'd2b-console[profile]'"
