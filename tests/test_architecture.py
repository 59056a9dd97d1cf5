"""The layers of the README's Development section, checked on the import graph.

Every ``import`` statement counts, wherever it is (inside a function, under
``TYPE_CHECKING``): a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import celesto_api
import celesto_tui

TUI_ROOT = Path(celesto_tui.__file__).parent
API_ROOT = Path(celesto_api.__file__).parent

# Which top-level package of celesto_tui may import which (besides itself).
MAY_IMPORT = {
    "model": set(),
    "terminal": {"model", "app.bindings", "app.widgets.key_hints"},
    "app": {"model", "terminal"},
    "commands": {"model", "terminal.attach", "app.celesto_app"},
    "__main__": {"commands"},
    "__init__": set(),
}
# Only the `celesto-tui` command opens the dashboard.
DASHBOARD_OPENERS = {"celesto_tui.commands.cli"}
# The app's own modules that widgets and screens must not reach for: they post intents.
APP_MODULES = {"celesto_tui.app.celesto_app", "celesto_tui.app.controller"}
GUI_LIBRARIES = ("textual", "rich")


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(part for part in parts if part != "__init__")


def _imports(path: Path, module: str, modules: Iterable[str] = ()) -> set[str]:
    """Absolute names of what ``path`` imports: ``from p import m`` is module ``p.m`` when
    there is one (``modules``), else it is ``p`` (a name in it) and ``p.m``."""
    known = set(modules)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            for alias in node.names:
                name = f"{target}.{alias.name}"
                found.update((name,) if name in known else (target, name))
    return found


def _graph(root: Path) -> dict[str, set[str]]:
    modules = {_module_name(path, root): path for path in root.rglob("*.py")}
    return {
        module: {
            name for name in _imports(path, module, modules) if name in modules and name != module
        }
        for module, path in modules.items()
    }


def _all_imports(root: Path) -> dict[str, set[str]]:
    return {
        _module_name(path, root): _imports(path, _module_name(path, root))
        for path in root.rglob("*.py")
    }


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _layer(module: str) -> str:
    return module.split(".")[1] if "." in module else "__init__"


def test_the_checker_sees_a_cycle_and_a_lazy_import(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from . import b\n")
    (package / "b.py").write_text("def f():\n    from .a import thing\n")
    (package / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import textual.app\n"
    )
    assert _cycles(_graph(package)) == [["pkg.a", "pkg.b"]]
    assert "textual.app" in _all_imports(package)["pkg.c"]


def test_no_import_cycles_between_celesto_tui_modules() -> None:
    assert _cycles(_graph(TUI_ROOT)) == []


def test_no_import_cycles_in_celesto_api() -> None:
    assert _cycles(_graph(API_ROOT)) == []


def test_each_layer_imports_only_the_layers_below_it() -> None:
    wrong = []
    for module, imported in _graph(TUI_ROOT).items():
        layer = _layer(module)
        allowed = MAY_IMPORT[layer]
        for name in imported:
            other = name.removeprefix("celesto_tui.")
            if _layer(name) == layer:
                continue
            if not any(other == rule or other.startswith(f"{rule}.") for rule in allowed):
                wrong.append(f"{module} imports {name}")
            elif name == "celesto_tui.app.celesto_app" and module not in DASHBOARD_OPENERS:
                wrong.append(f"{module} opens the dashboard")
    assert wrong == []


def test_widgets_and_screens_never_import_the_app_or_the_controller() -> None:
    wrong = [
        f"{module} imports {name}"
        for module, imported in _graph(TUI_ROOT).items()
        if module.startswith(("celesto_tui.app.widgets", "celesto_tui.app.screens"))
        or module.startswith("celesto_tui.terminal")
        for name in imported
        if name in APP_MODULES
    ]
    assert wrong == []


def test_no_textual_or_rich_under_the_model_or_the_sdk() -> None:
    forbidden = {TUI_ROOT / "model": GUI_LIBRARIES, API_ROOT: (*GUI_LIBRARIES, "celesto_tui")}
    wrong = [
        f"{module} imports {name}"
        for root, libraries in forbidden.items()
        for module, imported in _all_imports(root).items()
        for name in imported
        if name.split(".")[0] in libraries
    ]
    assert wrong == []


def test_importing_the_model_loads_no_textual() -> None:
    modules = sorted(
        f"celesto_tui.model.{path.stem}"
        for path in (TUI_ROOT / "model").glob("*.py")
        if path.stem != "__init__"
    )
    assert "celesto_tui.model.dashboard" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'textual', 'rich'}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
