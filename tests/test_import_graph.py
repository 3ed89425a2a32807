"""The project's modules import each other without a cycle, and a widget never imports a screen or the app.

The graph is read from the source (ast), imports inside functions included: a cycle hidden in a
function still ties the two modules together. An import under `if TYPE_CHECKING:` is for the
type checker only and does not count.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("etl_core", "tui", "sql")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported_names(tree: ast.AST, module: str, is_package: bool, type_checking: bool = False) -> set[str]:
    """Every module name `module` imports at any depth (functions too); under `if TYPE_CHECKING:` only if asked."""
    names: set[str] = set()
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and _type_checking_only(node) and not type_checking:
            pending.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the module's package
                package = module.split(".") if is_package else module.split(".")[:-1]
                base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)  # `from pkg import module`
        pending.extend(ast.iter_child_nodes(node))
    return names


def import_graph(type_checking: bool = False) -> dict[str, set[str]]:
    """Each module of the packages -> the modules of the packages it imports (for the type checker too if asked)."""
    sources = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            sources[module_name(path)] = path
    graph = {}
    for module, path in sources.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        names = imported_names(tree, module, path.name == "__init__.py", type_checking)
        graph[module] = {name for name in names if name in sources and name != module}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (a path that comes back to its start), or None."""
    done: set[str] = set()
    for start in sorted(graph):
        path: list[str] = []
        on_path: set[str] = set()
        stack = [(start, iter(sorted(graph[start])))]
        if start in done:
            continue
        path.append(start)
        on_path.add(start)
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                on_path.discard(node)
                done.add(node)
            elif child in on_path:
                return [*path[path.index(child) :], child]
            elif child not in done:
                stack.append((child, iter(sorted(graph[child]))))
                path.append(child)
                on_path.add(child)
    return None


def test_the_graph_holds_the_imports_it_should():
    graph = import_graph()
    assert "tui.screens.main" in graph["tui.app"]  # a top-level import
    assert "tui.app" in graph["tui.launcher"]  # an import inside a function counts
    assert "tui.screens.main" not in graph["tui.screens.main_runs"]  # one under TYPE_CHECKING does not
    assert "tui.screens.main" in import_graph(type_checking=True)["tui.screens.main_runs"]


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_a_widget_never_imports_a_screen_or_the_app():
    wrong = {  # not even for the type checker: a widget knows nothing of the screens that hold it
        module: sorted(name for name in imports if name.startswith(("tui.screens", "tui.app")))
        for module, imports in import_graph(type_checking=True).items()
        if module.startswith("tui.widgets")
    }
    assert not {module: names for module, names in wrong.items() if names}, "a widget posts a message instead"


def test_the_headless_core_never_imports_the_console():
    wrong = {
        module: sorted(name for name in imports if name.startswith("tui"))
        for module, imports in import_graph(type_checking=True).items()
        if module.startswith("etl_core")
    }
    assert not {module: names for module, names in wrong.items() if names}
